"""Payments (实缴), allocation to dues, overpayments, back-payment bills (补缴), arrears lists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from contributions import selectors, services
from contributions.models import BackPaymentBill, MonthlyDue, Payment, PaymentAllocation
from policy.resolver import PolicyMissing

from .test_contributions_engine import JULY, Register, accrue, bill, declare, reference_wages, reset  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def reg():
    return Register()


@pytest.fixture
def ziyang_payer(reg):
    # ziyang wage 10000: 700.00 + 200.00 + maternity 70.00 + 大额 0.00 = 970.00 a month, due the 25th (第九条(四)).
    e = reg.employer("ziyang")
    p = reg.person("ziyang", employer=e)
    declare(p, e, monthly="10000")
    reset("ziyang")
    return p


def test_payment_goes_to_the_oldest_dues_and_the_rest_is_held(ziyang_payer):
    p = ziyang_payer
    bill(JULY)
    bill(date(2025, 8, 1))
    payment = services.payment_record(person=p, amount=Decimal("2000"), paid_on=date(2025, 7, 20), reference="T1")
    # Jul 970 + Aug 970 settled, 2000 − 1940 = 60.00 held.
    assert payment.unapplied_amount == Decimal("60.00")
    jul, aug = MonthlyDue.objects.filter(person=p).order_by("month")
    assert (jul.paid_principal, jul.settled_on, aug.settled_on) == (
        Decimal("970.00"),
        date(2025, 7, 20),
        date(2025, 7, 20),
    )
    # The held 60.00 goes to September as soon as it is billed.
    run = bill(date(2025, 9, 1))
    assert run.counts["allocations"] == 1
    sep = MonthlyDue.objects.get(person=p, month=date(2025, 9, 1))
    payment.refresh_from_db()
    assert (sep.paid_principal, sep.settled_on, payment.unapplied_amount) == (Decimal("60.00"), None, 0)


def test_partial_payment_pays_principal_and_fee_in_proportion(reg):
    # langfang wage 10000 → 800.00 due 2025-07-25. Paid 500.00 on 2025-08-04 (10 days, 0.5%):
    # principal 500 ÷ 1.005 = 497.512… → 497.51, fee 2.49; fee left on 302.49 × 0.5% = 1.51245 → 1.51 → accrued 4.00.
    e = reg.employer("langfang")
    p = reg.person("langfang", employer=e)
    declare(p, e, monthly="10000")
    reset("langfang")
    bill(JULY)
    services.payment_record(person=p, amount=Decimal("500"), paid_on=date(2025, 8, 4), reference="P-1")
    due = MonthlyDue.objects.get(person=p)
    assert (due.paid_principal, due.late_fee_paid, due.late_fee, due.settled_on) == (
        Decimal("497.51"),
        Decimal("2.49"),
        Decimal("4.00"),
        None,
    )
    # Nightly 2025-08-14: 2.49 + 302.49 × 0.05% × 20 = 2.49 + 3.0249 → 5.51.
    accrue(date(2025, 8, 14))
    due.refresh_from_db()
    assert due.late_fee == Decimal("5.51")
    # 400.00 on 2025-08-14 settles it: 302.49 + 3.02 = 305.51; 94.49 held.
    second = services.payment_record(person=p, amount=Decimal("400"), paid_on=date(2025, 8, 14), reference="P-2")
    due.refresh_from_db()
    assert (due.paid_principal, due.late_fee_paid, due.late_fee, due.settled_on) == (
        Decimal("800.00"),
        Decimal("5.51"),
        Decimal("5.51"),
        date(2025, 8, 14),
    )
    assert second.unapplied_amount == Decimal("94.49")
    assert accrue(date(2025, 9, 1)).counts.get("accrued", 0) == 0  # settled dues accrue nothing


def test_a_payment_is_never_applied_twice(ziyang_payer):
    p = ziyang_payer
    bill(JULY)
    payment = services.payment_record(person=p, amount=Decimal("500"), paid_on=date(2025, 7, 10), reference="VOUCHER-9")
    with pytest.raises(ValidationError) as exc:
        services.payment_record(person=p, amount=Decimal("500"), paid_on=date(2025, 7, 10), reference="VOUCHER-9")
    assert "reference" in exc.value.message_dict
    assert services.payments_apply([payment.pk]).get("allocations", 0) == 0
    assert services.payments_apply([payment.pk, payment.pk]).get("allocations", 0) == 0
    due = MonthlyDue.objects.get(person=p)
    assert due.paid_principal == Decimal("500.00") and PaymentAllocation.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            person=p, amount=1, paid_on=date(2025, 7, 10), source="manual", reference="VOUCHER-9", unapplied_amount=1
        )


def test_several_payments_apply_in_date_order(ziyang_payer):
    p = ziyang_payer
    for m in (7, 8, 9):
        bill(date(2025, m, 1))
    later = services.payment_record(
        person=p, amount=Decimal("970"), paid_on=date(2025, 7, 22), reference="B", apply=False
    )
    earlier = services.payment_record(
        person=p, amount=Decimal("970"), paid_on=date(2025, 7, 21), reference="A", apply=False
    )
    counts = services.payments_apply([later.pk, earlier.pk])
    assert counts["allocations"] == 2
    jul, aug = MonthlyDue.objects.filter(person=p).order_by("month")[:2]
    assert jul.allocations.get().payment == earlier and aug.allocations.get().payment == later


def test_invalid_payments_are_refused_by_field(ziyang_payer):
    with pytest.raises(ValidationError) as exc:
        services.payment_record(person=ziyang_payer, amount=Decimal("-1"), paid_on=JULY, reference="")
    assert set(exc.value.message_dict) == {"amount", "reference"}


def test_hunan_back_payment_uses_the_current_reference_wage(reg):
    # hunan 第二十一条: base = 当年度缴费基准值 6789.41, rates 8% + 2%: 543.1528 → 543.15 and 135.7882 → 135.79
    # a month (account 2% = 135.79); 4 months: 2172.60 + 543.16 = 2715.76.
    e = reg.employer("hunan")
    p = reg.person("hunan", employer=e)
    b = services.back_payment_bill_issue(
        person=p,
        jurisdiction="hunan",
        employer=e,
        start_month=date(2025, 1, 1),
        end_month=date(2025, 5, 1),
        issued_on=date(2025, 9, 1),
        due_date=date(2025, 9, 30),
    )
    assert (b.months, b.base, b.employer_amount, b.individual_amount, b.personal_account_amount, b.total) == (
        4,
        Decimal("6789.41"),
        Decimal("2172.60"),
        Decimal("543.16"),
        Decimal("543.16"),
        Decimal("2715.76"),
    )
    assert b.citation == "hunan 第二十一条" and b.dues.count() == 4
    services.payment_record(person=p, amount=Decimal("2715.76"), paid_on=date(2025, 9, 20), reference="BK-1")
    b.refresh_from_db()
    assert b.status == "paid"


def test_langfang_back_payment_not_below_the_current_minimum_base(reg):
    # langfang 第二十三条: no own base → the current minimum base 7123.45; 6% = 427.407 → 427.41,
    # 2% = 142.469 → 142.47; two months: 854.82 + 284.94 = 1139.76.
    e = reg.employer("langfang")
    p = reg.person("langfang", employer=e)
    b = services.back_payment_bill_issue(
        person=p,
        jurisdiction="langfang",
        employer=e,
        start_month=JULY,
        end_month=date(2025, 9, 1),
        issued_on=date(2025, 9, 1),
        due_date=date(2025, 9, 25),
    )
    assert (b.employer_amount, b.individual_amount, b.total) == (
        Decimal("854.82"),
        Decimal("284.94"),
        Decimal("1139.76"),
    )
    # months already billed are not billed again
    with pytest.raises(ValidationError):
        services.back_payment_bill_issue(
            person=p,
            jurisdiction="langfang",
            employer=e,
            start_month=JULY,
            end_month=date(2025, 9, 1),
            issued_on=date(2025, 9, 1),
            due_date=date(2025, 9, 25),
        )


def test_back_payment_without_a_rule_is_refused(reg):
    p = reg.person("ziyang", category="flexible")
    with pytest.raises(PolicyMissing):
        services.back_payment_bill_issue(
            person=p,
            jurisdiction="ziyang",
            category="flexible",
            start_month=JULY,
            end_month=date(2025, 8, 1),
            issued_on=date(2025, 9, 1),
            due_date=date(2025, 9, 25),
        )
    assert not BackPaymentBill.objects.exists()


def test_employer_arrears_list(reg):
    e = reg.employer("ziyang")
    other = reg.employer("ziyang")
    a, b = reg.person("ziyang", employer=e), reg.person("ziyang", employer=e)
    c = reg.person("ziyang", employer=other)
    for p, emp in ((a, e), (b, e), (c, other)):
        declare(p, emp, monthly="10000")
    reset("ziyang")
    bill(JULY)
    bill(date(2025, 8, 1))
    services.payment_record(person=a, amount=Decimal("970"), paid_on=date(2025, 7, 20), reference="X1")
    accrue(date(2025, 9, 4))
    rows = selectors.employer_arrears_rows(e.pk, date(2025, 9, 4))
    # a: August only; b: July and August. July 41 days × 970 × 0.05% = 19.885 → 19.89; August 10 days = 4.85.
    assert [(r["name"], r["month"], r["principal_due"], r["late_fee_due"]) for r in rows] == [
        (a.name, "2025-08", Decimal("970.00"), Decimal("4.85")),
        (b.name, "2025-07", Decimal("970.00"), Decimal("19.89")),
        (b.name, "2025-08", Decimal("970.00"), Decimal("4.85")),
    ]
    assert not any(r["name"] == c.name for r in rows)
