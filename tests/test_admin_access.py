"""Screens: login everywhere, Chinese UI, employer scoping, PII masking (issue 2, items 4 and 7)."""

from datetime import date

import pytest
from django.urls import reverse

from enrollment.models import InsuredPerson

pytestmark = pytest.mark.django_db


def test_every_screen_requires_login(client):
    for url in ["/admin/", "/admin/enrollment/insuredperson/", "/admin/policy/policyparameter/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_speaks_chinese(client, admin_user):
    client.force_login(admin_user)
    html = client.get("/admin/").content.decode()
    assert "职工医保经办管理系统" in html and "参保人员" in html


def test_employer_user_sees_only_own_people(client, employer_user_a, employer_a, employer_b, person_factory):
    mine = person_factory(employer=employer_a, name="本单位职工")
    other = person_factory(employer=employer_b, name="外单位职工")
    client.force_login(employer_user_a)
    html = client.get(reverse("admin:enrollment_insuredperson_changelist")).content.decode()
    assert "本单位职工" in html and "外单位职工" not in html
    assert client.get(reverse("admin:enrollment_insuredperson_change", args=[other.pk])).status_code == 302
    assert client.get(reverse("admin:enrollment_insuredperson_change", args=[mine.pk])).status_code == 200
    spans = client.get(reverse("admin:enrollment_enrolmentspan_changelist")).content.decode()
    assert "本单位职工" in spans and "外单位职工" not in spans
    assert set(InsuredPerson.objects.visible_to(employer_user_a)) == {mine}


def test_auditor_sees_masked_pii_and_cannot_change(client, auditor, employer_a, person_factory):
    person = person_factory(employer=employer_a, phone="13912345678")
    client.force_login(auditor)
    html = client.get(reverse("admin:enrollment_insuredperson_changelist")).content.decode()
    assert person.id_number not in html and f"{person.id_number[:6]}********" in html
    detail = client.get(reverse("admin:enrollment_insuredperson_change", args=[person.pk])).content.decode()
    assert person.id_number not in detail and "13912345678" not in detail and "139****5678" in detail
    response = client.post(reverse("admin:enrollment_insuredperson_change", args=[person.pk]), {"name": "改名"})
    assert response.status_code == 403


def test_case_worker_sees_full_id(client, case_worker, employer_a, person_factory):
    person = person_factory(employer=employer_a)
    client.force_login(case_worker)
    html = client.get(reverse("admin:enrollment_insuredperson_changelist")).content.decode()
    assert person.id_number in html


def test_admin_form_rejects_bad_id_with_field_message(client, case_worker):
    client.force_login(case_worker)
    response = client.post(
        reverse("admin:enrollment_insuredperson_add"),
        {
            "id_number": "110105194912310029",
            "name": "张三",
            "female_role": "",
            "phone": "",
            "address": "",
            "spans-TOTAL_FORMS": 0,
            "spans-INITIAL_FORMS": 0,
            "events-TOTAL_FORMS": 0,
            "events-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "身份证号校验码错误" in response.content.decode()
    assert not InsuredPerson.objects.exists()
    response = client.post(
        reverse("admin:enrollment_insuredperson_add"),
        {
            "id_number": "11010519491231002X",
            "name": "张三",
            "female_role": "cadre",
            "phone": "",
            "address": "",
            "spans-TOTAL_FORMS": 0,
            "spans-INITIAL_FORMS": 0,
            "events-TOTAL_FORMS": 0,
            "events-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    assert InsuredPerson.objects.get().birth_date == date(1949, 12, 31)


def test_span_form_rejects_overlap(client, case_worker, employer_a, person_factory):
    person = person_factory(employer=employer_a, start=date(2023, 1, 1))
    client.force_login(case_worker)
    response = client.post(
        reverse("admin:enrollment_enrolmentspan_add"),
        {
            "person": person.pk,
            "jurisdiction": employer_a.jurisdiction_id,
            "category": "flexible",
            "scheme": "combined",
            "start": "2023-03-01",
            "status": "1",
        },
    )
    assert response.status_code == 200 and "重叠" in response.content.decode()


def test_life_event_added_in_admin_applies_and_cannot_be_edited(client, case_worker, employer_a, person_factory):
    person = person_factory(employer=employer_a, start=date(2023, 1, 1))
    client.force_login(case_worker)
    url = reverse("admin:enrollment_lifeevent_add")
    bad = client.post(
        url,
        {
            "person": person.pk,
            "kind": "separation",
            "occurred_on": "2022-01-01",
            "jurisdiction": employer_a.jurisdiction_id,
        },
    )
    assert bad.status_code == 200 and "没有有效的参保关系" in bad.content.decode()
    ok = client.post(
        url,
        {
            "person": person.pk,
            "kind": "separation",
            "occurred_on": "2023-05-01",
            "jurisdiction": employer_a.jurisdiction_id,
        },
    )
    assert ok.status_code == 302
    assert person.spans.get().end == date(2023, 5, 1)
    event = person.events.get()
    assert event.recorded_by == case_worker
    assert client.post(reverse("admin:enrollment_lifeevent_change", args=[event.pk]), {}).status_code == 403


def test_api_requires_login_scopes_and_masks(client, employer_user_a, auditor, employer_a, employer_b, person_factory):
    mine = person_factory(employer=employer_a, name="本单位职工", phone="13912345678")
    person_factory(employer=employer_b, name="外单位职工")
    assert client.get("/api/persons/").status_code in (401, 403)
    assert client.get("/api/schema/").status_code in (401, 403)
    client.force_login(employer_user_a)
    rows = client.get("/api/persons/").json()["results"]
    assert [r["name"] for r in rows] == ["本单位职工"] and rows[0]["id_number"] == mine.id_number
    assert [e["name"] for e in client.get("/api/employers/").json()["results"]] == ["甲公司"]
    client.force_login(auditor)
    rows = client.get("/api/persons/").json()["results"]
    assert len(rows) == 2 and all("********" in r["id_number"] for r in rows)
    assert {r["phone"] for r in rows} >= {"139****5678"}


def test_chinese_even_for_an_english_browser_and_english_on_request(client, admin_user):
    client.force_login(admin_user)
    html = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "站点管理" in html or "最近动作" in html or "首页" in html
    client.cookies["django_language"] = "en"
    assert "Recent actions" in client.get("/admin/").content.decode()


def test_person_export_is_scoped_and_masked(
    client, auditor, case_worker, employer_user_a, employer_a, employer_b, person_factory
):
    import csv
    import io

    from enrollment.admin import InsuredPersonAdmin
    from enrollment.models import InsuredPerson as Person

    mine = person_factory(employer=employer_a, phone="13912345678")
    other = person_factory(employer=employer_b)

    def export(user) -> list[dict]:
        from django.contrib.admin.sites import site
        from django.test import RequestFactory

        request = RequestFactory().get("/admin/enrollment/insuredperson/export/")
        request.user = user
        model_admin = InsuredPersonAdmin(Person, site)
        resource = model_admin.get_export_resource_classes(request)[0](
            **model_admin.get_export_resource_kwargs(request)
        )
        data = resource.export(queryset=model_admin.get_export_queryset(request))
        return list(csv.DictReader(io.StringIO(data.csv)))

    rows = export(auditor)
    assert {r["身份证号"] for r in rows} == {f"{p.id_number[:6]}********{p.id_number[-4:]}" for p in (mine, other)}
    assert "13912345678" not in {r["联系电话"] for r in rows}
    assert {r["身份证号"] for r in export(case_worker)} == {mine.id_number, other.id_number}
    assert [r["身份证号"] for r in export(employer_user_a)] == [mine.id_number]
    client.force_login(auditor)
    assert client.get(reverse("admin:enrollment_insuredperson_export")).status_code == 200


def test_person_page_links_to_the_other_apps(client, case_worker, employer_a, person_factory):
    person = person_factory(employer=employer_a)
    client.force_login(case_worker)
    html = client.get(reverse("admin:enrollment_insuredperson_change", args=[person.pk])).content.decode()
    assert "相关业务" in html and "待遇享受状态及判定依据" in html
