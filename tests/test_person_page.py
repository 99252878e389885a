"""个人全景 (issue #19 item 3): one person on one page, each section linking to its detail, figures true on
the day shown; the scope and PII rules as everywhere; reachable from search, the person list and form."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contributions.models import MonthlyDue
from operations.person_page import person_page
from tests.access_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return build_world()


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def url(person, **query) -> str:
    base = reverse("operations:person", args=[person.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_case_worker_sees_every_section_with_links_to_the_details(w):
    page = client_for(w.worker).get(url(w.p2)).content.decode()
    for section in ("identity", "status", "spans", "arrears", "bases", "years", "account", "claims", "clearance"):
        assert f'id="{section}"' in page, section
    assert 'id="events"' in page
    assert w.p2.id_number in page and "13900000002" in page  # the case worker sees PII
    assert "乙公司" in page and "在职职工" in page  # the span
    assert "享受待遇" in page  # the status in words
    links = (
        reverse("admin:enrollment_insuredperson_change", args=[w.p2.pk]),
        reverse("admin:enrollment_enrolmentspan_change", args=[w.span2.pk]),
        reverse("admin:benefits_eligibility_person", args=[w.p2.pk]),
        reverse("admin:contributions_monthlydue_change", args=[w.due_p2.pk]),
        reverse("contributions:person_history", args=[w.p2.pk]),
        reverse("admin:claims_claim_change", args=[w.claim.pk]),
        reverse("admin:retirement_retirementclearancecase_change", args=[w.case.pk]),
        reverse("admin:funds_fundaccount_change", args=[w.p2.fund_accounts.get().pk]),
    )
    for link in links:
        assert link in page, link
    assert "ACCESS-1" in page


def test_arrears_and_status_are_those_of_the_day_shown(w):
    before = person_page(w.worker, w.p2, date(2024, 3, 10))  # the March due is not yet due
    assert before.arrears == [] and before.arrears_principal == Decimal("0.00")
    after = person_page(w.worker, w.p2, date(2024, 4, 1))
    assert [d.pk for d in after.arrears] == [w.due_p2.pk]
    assert after.arrears_principal == Decimal("600.00")
    assert after.status.status == "covered" and after.status.reason == "测试"
    none = person_page(w.worker, w.p2, date(2022, 6, 1))  # before the first span: no period in force
    assert none.status.status == "none"
    # nothing was written: the stored late fee is what the last batch run accrued
    assert MonthlyDue.objects.get(pk=w.due_p2.pk).late_fee == Decimal("0.00")


def test_auditor_reads_with_pii_masked(w):
    page = client_for(w.auditor).get(url(w.p2)).content.decode()
    assert w.p2.id_number not in page and "13900000002" not in page
    assert w.p2.id_number[-4:] in page and "139****0002" in page
    assert 'id="claims"' in page  # the auditor reads everything


def test_employer_user_sees_only_their_own_rows_and_no_cross_employer_section(w):
    emp1, emp2 = client_for(w.emp1), client_for(w.emp2)
    assert emp1.get(url(w.p2)).status_code == 404  # another employer's person
    moved = emp1.get(url(w.mover)).content.decode()  # its former employee: its own months only
    assert "甲公司" in moved and "乙公司" not in moved and "777" not in moved and "8888" not in moved
    own = emp2.get(url(w.p2)).content.decode()
    assert "乙一" in own and 'id="spans"' in own and 'id="arrears"' in own
    for section in ("status", "years", "account", "claims", "clearance", "events"):
        assert f'id="{section}"' not in own, section
    assert "ACCESS-1" not in own


def test_anonymous_and_post_are_refused(w):
    anonymous = Client().get(url(w.p2))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert client_for(w.worker).post(url(w.p2)).status_code == 405


def test_reachable_from_the_person_list_and_form(w):
    worker = client_for(w.worker)
    listing = worker.get(reverse("admin:enrollment_insuredperson_changelist")).content.decode()
    assert url(w.p2) in listing
    form = worker.get(reverse("admin:enrollment_insuredperson_change", args=[w.p2.pk])).content.decode()
    assert url(w.p2) in form and "个人全景" in form


def test_a_day_in_the_future_is_refused_for_today(w):
    today = timezone.localdate()
    page = client_for(w.worker).get(url(w.p2, on="2999-01-01"))
    assert page.status_code == 200 and "已显示今日" in page.content.decode()
    assert page.context["page"].on == today


def test_a_missing_policy_value_for_the_fee_shows_the_stored_figures_and_why(w, monkeypatch):
    from policy.resolver import PolicyError

    def missing(*args, **kwargs):
        raise PolicyError("hunan 缺少 contribution.late_fee_rate（测试）")

    monkeypatch.setattr("operations.person_page.read_as_of", missing)
    page = client_for(w.worker).get(url(w.p2, on="2024-04-01"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "滞纳金无法按当日计算" in text and "600.00" in text
