"""Object-level leaks (issue #12): history pages, exports, downloads and the API, for another employer's
person and for a former employee; formula cells and PII in every exported file; admin actions."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse
from import_export.formats import base_formats

from contributions.models import Payment, PaymentAllocation
from enrollment.models import EnrolmentSpan, InsuredPerson
from tests.access_world import CMD, FORMULA, build_world

pytestmark = pytest.mark.django_db

OUR_PACKAGES = {
    "enrollment", "contributions", "benefits", "funds", "config", "policy", "batch", "operations", "apiaudit",
}  # fmt: skip


@pytest.fixture
def w(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)  # the world's uploaded files: no file left behind
    return build_world()


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def history_urls(model: str, obj) -> tuple[str, str]:
    hid = obj.history.latest("history_id").history_id
    return (
        reverse(f"admin:enrollment_{model}_history", args=[obj.pk]),
        reverse(f"admin:enrollment_{model}_simple_history", args=[obj.pk, hid]),
    )


# --- a former employer (甲公司) and the person who moved to 乙公司 ------------------------------------


def test_former_employer_sees_only_its_own_months_of_a_moved_person(w):
    emp1, emp2 = client_for(w.emp1), client_for(w.emp2)
    page = emp1.get(reverse("admin:enrollment_insuredperson_change", args=[w.mover.pk])).content.decode()
    assert "调动人" in page and "甲公司" in page and "乙公司" not in page

    record = emp1.get(reverse("contributions:person_history", args=[w.mover.pk])).content.decode()
    assert "PAY-MOVER-E1" in record and "5100" in record
    for leak in ("乙公司", "PAY-MOVER-E2", "8888", "777"):
        assert leak not in record, leak
    own = emp2.get(reverse("contributions:person_history", args=[w.mover.pk])).content.decode()
    assert "PAY-MOVER-E2" in own and "8888" in own and "甲公司" not in own and "PAY-MOVER-E1" not in own
    staff = client_for(w.worker).get(reverse("contributions:person_history", args=[w.mover.pk])).content.decode()
    assert "PAY-MOVER-E1" in staff and "PAY-MOVER-E2" in staff

    api = emp1.get(f"/api/persons/{w.mover.pk}/").json()
    assert [s["employer"] for s in api["spans"]] == [w.e1.pk]
    assert [s["employer"] for s in emp2.get(f"/api/persons/{w.mover.pk}/").json()["spans"]] == [w.e2.pk]
    assert emp1.get(f"/api/persons/{w.p2.pk}/").status_code == 404


def admin_queryset(model, user):
    request = RequestFactory().get("/")
    request.user = user
    return admin.site._registry[model].get_queryset(request)


def test_payment_and_allocation_lists_keep_to_the_employers_own_dues(w):
    assert set(admin_queryset(Payment, w.emp1).values_list("reference", flat=True)) == {"PAY-MOVER-E1"}
    assert set(admin_queryset(Payment, w.emp2).values_list("reference", flat=True)) == {"PAY-P2", "PAY-MOVER-E2"}
    assert {a.due.employer_id for a in admin_queryset(PaymentAllocation, w.emp1)} == {w.e1.pk}
    listing = client_for(w.emp1).get(reverse("admin:contributions_payment_changelist")).content.decode()
    assert "PAY-MOVER-E1" in listing and "PAY-MOVER-E2" not in listing
    rows = export_rows(Payment, w.emp1, base_formats.CSV)
    assert [r["电子税票号"] for r in rows] == ["PAY-MOVER-E1"]


# --- history ----------------------------------------------------------------------------------------


def test_history_of_another_employers_records_is_not_found(w):
    emp1 = client_for(w.emp1)
    for model, obj in (("insuredperson", w.p2), ("enrolmentspan", w.span2), ("enrolmentspan", w.mover_span2)):
        listing, detail = history_urls(model, obj)
        assert emp1.get(listing).status_code == 404
        assert emp1.get(detail).status_code == 404
    _, detail = history_urls("enrolmentspan", w.span2)
    response = emp1.post(detail, {"end": "2024-02-01", "person": w.p2.pk, "start": "2023-01-01"})
    assert response.status_code == 404
    w.span2.refresh_from_db()
    assert w.span2.end is None


def person_form(person, **changes) -> dict:
    data = {"id_number": person.id_number, "name": person.name, "female_role": "", "phone": person.phone}
    data.update({"address": "", "spans-TOTAL_FORMS": 0, "spans-INITIAL_FORMS": 0})
    data.update({"events-TOTAL_FORMS": 0, "events-INITIAL_FORMS": 0, **changes})
    return data


def test_auditor_reads_history_masked_and_cannot_revert(w):
    w.p2.phone = "13911112222"
    w.p2.save()  # a phone change in the history list
    auditor = client_for(w.auditor)
    listing, detail = history_urls("insuredperson", w.p2)
    html = auditor.get(listing).content.decode()
    assert "13911112222" not in html and "13900000002" not in html and "139****2222" in html
    page = auditor.get(detail)
    assert page.status_code == 200
    text = page.content.decode()
    assert w.p2.id_number not in text and "13911112222" not in text and 'name="name"' not in text
    response = auditor.post(detail, person_form(w.p2, name="审计改名"))
    assert response.status_code == 403
    assert InsuredPerson.objects.get(pk=w.p2.pk).name == "乙一"
    # A case worker may revert (the same page, with the change permission).
    worker = client_for(w.worker)
    assert worker.post(detail, person_form(w.p2, name="经办改名")).status_code == 302
    assert InsuredPerson.objects.get(pk=w.p2.pk).name == "经办改名"


def test_auditor_cannot_end_a_span_through_its_history(w):
    _, detail = history_urls("enrolmentspan", w.span2)
    data = {"person": w.p2.pk, "jurisdiction": w.span2.jurisdiction_id, "category": "employee"}
    data.update({"employer": w.e2.pk, "scheme": "combined", "start": "2023-01-01", "end": "2024-02-01", "status": "1"})
    assert client_for(w.auditor).post(detail, data).status_code == 403
    assert EnrolmentSpan.objects.get(pk=w.span2.pk).end is None


# --- exports ----------------------------------------------------------------------------------------


def export_bytes(model, user, file_format) -> bytes:
    request = RequestFactory().get("/")
    request.user = user
    model_admin = admin.site._registry[model]
    return model_admin.get_export_data(file_format(), request, model_admin.get_export_queryset(request))


def export_rows(model, user, file_format) -> list[dict]:
    data = export_bytes(model, user, file_format)
    if file_format is base_formats.CSV:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        return list(csv.DictReader(io.StringIO(text)))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return [dict(zip(header, r, strict=True)) for r in rows]


def _exporting_models():
    from import_export.admin import ExportMixin

    return [m for m, a in admin.site._registry.items() if isinstance(a, ExportMixin)]


def test_every_export_neutralises_formulas_and_masks_pii_for_the_auditor(w):
    for person in (w.p2, w.mover):
        person.name = FORMULA
        person.save()
    models = _exporting_models()
    assert len(models) >= 8  # persons, employers, wages, bases, dues, payments, deferrals, bills
    checked = 0
    for model in models:
        for file_format in (base_formats.XLSX, base_formats.CSV):
            for user in (w.worker, w.auditor):
                rows = export_rows(model, user, file_format)
                cells = [str(v) for r in rows for v in r.values() if v is not None]
                live = [c for c in cells if c.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r"))]
                assert not live, (model, file_format, live)
                checked += len(rows)
                for r in rows:
                    ids = [v for k, v in r.items() if k == "身份证号" and v]
                    if user is w.auditor:
                        assert all("********" in v for v in ids), (model, ids)
                        assert not any(str(v).startswith("139000") for v in r.values()), (model, r)
    assert checked > 20
    names = [r["姓名"] for r in export_rows(InsuredPerson, w.worker, base_formats.XLSX)]
    assert "'" + FORMULA in names  # the text is kept, as text
    book = openpyxl.load_workbook(io.BytesIO(export_bytes(InsuredPerson, w.worker, base_formats.XLSX)))
    assert not [c for row in book.active.iter_rows() for c in row if c.data_type == "f"]


@pytest.mark.parametrize(
    "model, query",
    [
        ("insuredperson", "employer__id__exact=2"),  # the probe of the issue
        ("employer", "employer__id__exact=2"),
        ("payment", "employer__id__exact=2"),
        ("monthlydue", "no_such_field__exact=2"),
        ("deferral", "no_such_field=x"),
    ],
)
def test_export_with_an_unknown_filter_is_a_bad_request_not_a_500(w, model, query):
    app = "enrollment" if model in ("insuredperson", "employer") else "contributions"
    url = reverse(f"admin:{app}_{model}_export") + "?" + query
    client = client_for(w.worker)
    assert client.post(url, {"format": "0"}).status_code == 400
    assert client.get(url).status_code == 400
    assert client.get(reverse(f"admin:{app}_{model}_export")).status_code == 200


def test_rejected_rows_file_is_neutralised_and_masked_for_the_auditor(w):
    url = reverse("contributions:import_job_rejected", args=[w.job.pk])
    for user, masked in ((w.auditor, True), (w.worker, False), (w.emp2, False)):
        response = client_for(user).get(url)
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        _, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert rows and all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
        assert rows[0][1] == "'" + CMD and rows[0][2] == "'=1+1"
        assert (rows[0][0] != w.p2.id_number) is masked and rows[0][0].startswith(w.p2.id_number[:6])
    assert client_for(w.emp1).get(url).status_code == 404


# --- admin actions ----------------------------------------------------------------------------------


def test_every_action_declares_its_permission_and_view_only_roles_see_none(w):
    undeclared = []
    for model, model_admin in admin.site._registry.items():
        if type(model_admin).__module__.split(".")[0] not in OUR_PACKAGES:
            continue  # django.contrib.auth, django_celery_beat: 经办管理员 only
        for action in model_admin.actions or ():
            func = action if callable(action) else getattr(model_admin, action)
            if not getattr(func, "allowed_permissions", None):
                undeclared.append(f"{model._meta.label}.{getattr(func, '__name__', action)}")
    assert not undeclared, undeclared
    for user in (w.auditor, w.emp1, w.emp2):
        request = RequestFactory().get("/")
        request.user = user
        offered = {
            m._meta.label: list(a.get_actions(request))
            for m, a in admin.site._registry.items()
            if type(a).__module__.split(".")[0] in OUR_PACKAGES
        }
        assert not {k: v for k, v in offered.items() if v}, (user, offered)
    request = RequestFactory().get("/")
    request.user = w.worker
    claim_actions = admin.site._registry[type(w.claim)].get_actions(request)
    assert "action_adjudicate" in claim_actions


def test_auditor_posting_actions_and_operation_views_changes_nothing(w):
    auditor = client_for(w.auditor)
    case_url = reverse("admin:retirement_retirementclearancecase_changelist")
    response = auditor.post(case_url, {"action": "close", "_selected_action": [w.case.pk]})
    assert response.status_code in (200, 302)
    w.case.refresh_from_db()
    assert w.case.status == type(w.case)._meta.get_field("status").default
    claim_url = reverse("admin:claims_claim_changelist")
    auditor.post(claim_url, {"action": "action_adjudicate", "_selected_action": [w.claim.pk]})
    w.claim.refresh_from_db()
    assert w.claim.status == "draft" and w.claim.adjudicated_by is None
    for action in ("action_review_clear", "action_review_refuse", "action_mark_paid"):  # 待复核 (issue #17)
        auditor.post(claim_url, {"action": action, "_selected_action": [w.claim.pk]})
        w.claim.refresh_from_db()
        assert w.claim.status == "draft" and w.claim.review_cleared_by_id is None
    assert auditor.post(reverse("admin:claims_claim_adjudicate", args=[w.claim.pk])).status_code == 403
    assert auditor.post(reverse("admin:funds_reconcile")).status_code == 403
    why = reverse("admin:benefits_eligibility_person", args=[w.p2.pk])
    assert auditor.post(why, {"recompute": "1"}).status_code == 403
    run_url = reverse("admin:batch_batchrun_changelist")
    auditor.post(run_url, {"action": "resume", "_selected_action": [w.run.pk]})
    w.run.refresh_from_db()
    assert w.run.status == "pending"


def test_scope_rule_keeps_person_rows_to_the_months_worked_there(w):
    from benefits.claims.models import Claim
    from enrollment.access import scope_queryset

    base = {"jurisdiction": w.claim.jurisdiction, "med_type": "21", "hospital_level": "level1"}
    base.update({"medfee_sumamt": 1, "inscp_scp_amt": 1})
    old = Claim.objects.create(business_key="M-2023", person=w.mover, start_date=w.due_m1.month, **base)
    new = Claim.objects.create(business_key="M-2024", person=w.mover, start_date=w.due_m2.month, **base)
    mine = Claim.objects.filter(person=w.mover)

    def scoped(user):
        return set(scope_queryset(user, mine, person_path="person_id", months_path="start_date"))

    assert scoped(w.emp1) == {old} and scoped(w.emp2) == {new} and scoped(w.auditor) == {old, new}
    assert not scope_queryset(w.emp1, mine)  # no path: an employer user sees nothing


def test_a_claims_history_is_never_reverted(w):
    w.claim.status = "adjudicated"
    w.claim.save()
    draft = w.claim.history.order_by("history_id").first()
    url = reverse("admin:claims_claim_simple_history", args=[w.claim.pk, draft.history_id])
    worker = client_for(w.worker)
    assert worker.get(url).status_code == 200
    assert worker.post(url, {"business_key": w.claim.business_key}).status_code == 403
    w.claim.refresh_from_db()
    assert w.claim.status == "adjudicated"


# --- autocomplete (issue #19 item 4): names in every picker, through the target admin's scope rule ----------


def autocomplete(client, model: str, field: str, term: str, app: str = "enrollment"):
    query = {"app_label": app, "model_name": model, "field_name": field, "term": term}
    return client.get(reverse("admin:autocomplete"), query)


def test_employer_users_autocomplete_lists_only_their_own_people(w):
    emp1 = client_for(w.emp1)
    found = autocomplete(emp1, "enrolmentspan", "person", "一").json()["results"]
    assert [r["text"].split("（")[0] for r in found] == ["甲一"]
    assert all(str(w.p2.pk) != r["id"] for r in found)
    assert autocomplete(emp1, "enrolmentspan", "person", w.p2.id_number).json()["results"] == []
    assert autocomplete(emp1, "enrolmentspan", "person", "乙").json()["results"] == []
    # another employer is not offered either
    employers = autocomplete(emp1, "enrolmentspan", "employer", "公司").json()["results"]
    assert [r["text"].split("（")[0] for r in employers] == ["甲公司"]
    # from every form that picks a person: the payment, claim and account forms go through the same target
    for app, model in (("contributions", "payment"), ("claims", "claim"), ("funds", "shortfallsettlement")):
        response = autocomplete(emp1, model, "person", "乙", app=app)
        assert response.status_code == 403 or response.json()["results"] == [], (app, model)


def test_autocomplete_shows_names_with_the_id_number_masked_by_role(w):
    worker = autocomplete(client_for(w.worker), "enrolmentspan", "person", "乙").json()["results"]
    assert worker == [{"id": str(w.p2.pk), "text": f"乙一（{w.p2.id_number}）"}]
    audited = autocomplete(client_for(w.auditor), "enrolmentspan", "person", "乙").json()["results"]
    assert audited[0]["text"] == f"乙一（{w.p2.id_number[:6]}********{w.p2.id_number[-4:]}）"
    assert autocomplete(client_for(w.auditor), "enrolmentspan", "person", w.p2.id_number[-6:]).json()["results"] == []
    by_initials = autocomplete(client_for(w.worker), "claim", "person", "ddr", app="claims").json()["results"]
    assert [r["text"].split("（")[0] for r in by_initials] == ["调动人"]
    employers = autocomplete(client_for(w.worker), "enrolmentspan", "employer", w.e2.credit_code[-6:]).json()
    assert employers["results"] == [{"id": str(w.e2.pk), "text": f"乙公司（{w.e2.credit_code}）"}]
