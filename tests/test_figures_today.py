"""Figures true on the date shown (issue #12, item 7): the contribution record computes late fees as of the
day it shows, with the nightly job's statement; paying exactly the total it shows leaves nothing owed, and
the eligibility the rules give after the payment is on the why page at once (no nightly run in between)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from benefits.models import EligibilityPeriod
from benefits.services import eligibility_refresh
from contributions import services
from contributions.models import MonthlyDue, Payment
from tests.test_eligibility_timeline import add_dues, langfang_employee

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]


def _figure(html: str, element_id: str) -> Decimal:
    return Decimal(re.search(rf'id="{element_id}">([-\d.,]+)<', html).group(1).replace(",", ""))


def _arrears_person():
    person, employer = langfang_employee(7)
    paid = {f"2024-{m:02d}": date(2024, m, 20) for m in range(3, 7)}
    paid.update({"2024-07": None, "2024-08": None})
    add_dues(person, employer, paid)
    eligibility_refresh([person.pk], date(2024, 9, 10))  # the last nightly run: suspended
    return person


def test_the_record_shows_the_fee_as_of_today_and_labels_the_batch_figure(admin_client):
    person = _arrears_person()
    today = timezone.localdate()
    fees = services.late_fees_as_of(person.pk, today)
    # 万分之五 a day on 560.00 from the day after 2024-07-25 (D-X14): the same rule as the nightly job
    july = MonthlyDue.objects.get(person=person, month=date(2024, 7, 1))
    days = (today - date(2024, 7, 25)).days
    assert fees[july.pk] == (Decimal("560.00") * Decimal("0.0005") * days).quantize(Decimal("0.01"))
    assert MonthlyDue.objects.get(pk=july.pk).late_fee == 0  # nothing written by showing it
    page = admin_client.get(reverse("contributions:person_history", args=[person.pk])).content.decode()
    assert _figure(page, "late-fee-unpaid") == sum(fees.values())
    assert "上次批处理" in page


def test_paying_the_total_shown_leaves_nothing_owed_and_the_why_page_knows_at_once(admin_client):
    person = _arrears_person()
    today = timezone.localdate()
    assert EligibilityPeriod.objects.filter(person=person, status="suspended").exists()
    page = admin_client.get(reverse("contributions:person_history", args=[person.pk])).content.decode()
    principal = sum(d.total - d.paid_principal for d in MonthlyDue.objects.filter(person=person, settled_on=None))
    total = principal + _figure(page, "late-fee-unpaid")
    assert principal == Decimal("1120.00") and total > principal

    response = admin_client.post(
        reverse("admin:contributions_payment_add"),
        {"person": person.pk, "amount": str(total), "paid_on": today.isoformat(), "reference": "T-FIG-1"},
    )
    assert response.status_code == 302
    payment = Payment.objects.get(reference="T-FIG-1")
    assert payment.unapplied_amount == 0
    assert not MonthlyDue.objects.filter(person=person, settled_on=None).exists()
    after = admin_client.get(reverse("contributions:person_history", args=[person.pk])).content.decode()
    assert _figure(after, "late-fee-unpaid") == 0 and "无欠费" in after

    # the timeline was refreshed in the same request: today the person is no longer suspended for 2024-07/08
    current = EligibilityPeriod.objects.filter(person=person, start__lte=today).order_by("-start").first()
    assert current is not None and current.status != "suspended"
    why = admin_client.get(f"/admin/benefits/eligibilityperiod/person/{person.pk}/", {"day": today.isoformat()})
    assert why.status_code == 200
    assert current.get_status_display() in why.content.decode()


def test_the_employer_bill_and_arrears_list_show_the_fee_as_of_today(admin_client):
    person = _arrears_person()
    employer_id = MonthlyDue.objects.filter(person=person).values_list("employer_id", flat=True).first()
    today = timezone.localdate()
    fee_today = sum(services.late_fees_as_of(person.pk, today).values())
    assert fee_today > 0 and not MonthlyDue.objects.filter(person=person, late_fee__gt=0).exists()

    arrears = admin_client.get(reverse("contributions:employer_arrears", args=[employer_id])).content.decode()
    assert f"未缴滞纳金 <strong>{fee_today}</strong>" in arrears
    bill = admin_client.get(reverse("contributions:employer_bill", args=[employer_id]))
    late = sum(row["late_fee_unpaid"] for row in bill.context["rows"])
    assert late == fee_today and f"截至 {today:%Y-%m-%d}" in bill.content.decode()
    # showing them wrote nothing: the stored fee is still the last batch run's
    assert not MonthlyDue.objects.filter(person=person, late_fee__gt=0).exists()


def test_a_separation_recorded_on_the_screen_reaches_the_why_page_at_once(admin_client):
    person, employer = langfang_employee(7)
    add_dues(person, employer, {f"2024-{m:02d}": date(2024, m, 20) for m in range(3, 10)})
    eligibility_refresh([person.pk], date(2024, 9, 10))
    assert EligibilityPeriod.objects.filter(person=person, status="covered", end__isnull=True).exists()
    response = admin_client.post(
        reverse("admin:enrollment_lifeevent_add"),
        {
            "person": person.pk,
            "kind": "separation",
            "occurred_on": "2024-10-15",
            "jurisdiction": person_jurisdiction(person),
            "employer": "",
            "months": "",
            "other_region": "",
            "note": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # the timeline no longer runs open-ended: it was recomputed in the same request
    assert not EligibilityPeriod.objects.filter(person=person, status="covered", end__isnull=True).exists()


def person_jurisdiction(person) -> int:
    return person.spans.order_by("-start").first().jurisdiction_id
