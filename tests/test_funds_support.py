"""Helpers shared by the funds tests (no tests here): people, employers, statistics, dues."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from enrollment import services
from operations.demo.population import REGION, credit_code, id_number
from policy.models import Jurisdiction, ReferenceStatistic

D = Decimal
_seq = itertools.count(1)


def employer(jurisdiction: str, *, scheme: str = "combined"):
    n = next(_seq)
    return services.employer_register(
        credit_code=credit_code(REGION[jurisdiction], 900 + n),
        name=f"测试单位{n}",
        jurisdiction=jurisdiction,
        registered_on=date(2015, 1, 1),
        scheme=scheme,
    )


def person(
    jurisdiction: str,
    *,
    category: str = "employee",
    start: date = date(2023, 1, 1),
    end: date | None = None,
    employer_obj=None,
    birth: date = date(1958, 5, 17),
    male: bool = True,
    scheme: str | None = None,
):
    p = services.person_register(
        id_number=id_number(REGION[jurisdiction], birth, next(_seq) % 500, male), name="测试人"
    )
    if category == "employee" and employer_obj is None:
        employer_obj = employer(jurisdiction)
    services.span_open(
        person=p,
        jurisdiction=jurisdiction,
        category=category,
        start=start,
        end=end,
        employer=employer_obj,
        scheme=scheme,
    )
    return p


def stat(jurisdiction: str, key: str, value, effective_from: date = date(2020, 1, 1)) -> None:
    ReferenceStatistic.objects.create(
        jurisdiction=Jurisdiction.objects.get(code=jurisdiction),
        key=key,
        effective_from=effective_from,
        period_label="测试",
        value=D(str(value)),
    )


def due(p, *, jurisdiction: str, month: date, employer_obj=None, **amounts):
    """A MonthlyDue with the given lines; total = employer + individual + maternity + critical illness."""
    from contributions.models import MonthlyDue

    lines = {
        "base": D("5000"),
        "employer_amount": D("0"),
        "individual_amount": D("0"),
        "maternity_amount": None,
        "critical_illness_amount": None,
        "personal_account_amount": D("0"),
        "pool_amount": D("0"),
    }
    lines.update({k: (D(str(v)) if v is not None else None) for k, v in amounts.items()})
    total = sum(
        (lines[k] or D(0))
        for k in ("employer_amount", "individual_amount", "maternity_amount", "critical_illness_amount")
    )
    return MonthlyDue.objects.create(
        person=p,
        employer=employer_obj,
        jurisdiction=Jurisdiction.objects.get(code=jurisdiction),
        month=month,
        category="employee",
        total=total,
        created_at=timezone.now(),
        **lines,
    )


def pay(p, d, *, principal, late_fee=0, paid_on: date, reference: str | None = None):
    """A payment and its allocation to the due (as the contributions engine would write them)."""
    from contributions.models import MonthlyDue, Payment, PaymentAllocation

    principal, late_fee = D(str(principal)), D(str(late_fee))
    payment = Payment.objects.create(
        person=p,
        amount=principal + late_fee,
        paid_on=paid_on,
        source="manual",
        reference=reference or f"T{next(_seq):010d}",
        unapplied_amount=D("0"),
    )
    allocation = PaymentAllocation.objects.create(
        payment=payment, due=d, principal=principal, late_fee=late_fee, created_at=timezone.now()
    )
    d.paid_principal += principal
    d.late_fee += late_fee
    d.late_fee_paid += late_fee
    if d.paid_principal >= d.total:
        d.settled_on = paid_on
    MonthlyDue.objects.filter(pk=d.pk).update(
        paid_principal=d.paid_principal, late_fee=d.late_fee, late_fee_paid=d.late_fee_paid, settled_on=d.settled_on
    )
    return allocation


@pytest.fixture(autouse=True)
def fresh_policy():
    """The policy snapshot is process-wide; a test's statistics roll back with its transaction, so forget it."""
    from policy import resolver as policy

    policy.invalidate()
    yield
    policy.invalidate()
