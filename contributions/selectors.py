"""Reads of the contribution engine: arrears, bills, a person's history.

Arrears (欠费) are not stored separately: a month is in arrears from the day after its due
date while it is unsettled (D-X5), so arrears are a view over :class:`MonthlyDue`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from enrollment.models import EnrolmentSpan, InsuredPerson, LifeEvent, LifeEventKind
from policy.resolver import Policy

from .calculations.payment_years import LOSS_EVENTS, PaymentMonths, count_payment_months
from .models import BackPaymentBill, ContributionBase, EmployerBase, MonthlyDue, Payment, PaymentAllocation

_MONEY = DecimalField(max_digits=14, decimal_places=2)


def _with_outstanding(qs: QuerySet[MonthlyDue]) -> QuerySet[MonthlyDue]:
    return qs.annotate(
        principal_due=ExpressionWrapper(F("total") - F("paid_principal"), output_field=_MONEY),
        late_fee_due=ExpressionWrapper(F("late_fee") - F("late_fee_paid"), output_field=_MONEY),
    )


def arrears(as_of: date) -> QuerySet[MonthlyDue]:
    """Unsettled dues whose due date has passed on ``as_of`` (欠费), with what is outstanding; dues of a break
    no longer made up (``makeup_closed_on``, ziyang 第十三条 断保一年以上不再补缴) are not arrears."""
    return _with_outstanding(
        MonthlyDue.objects.filter(
            settled_on__isnull=True, makeup_closed_on__isnull=True, due_date__isnull=False, due_date__lt=as_of
        )
    )


def employer_arrears(employer_id: int, as_of: date) -> QuerySet[MonthlyDue]:
    """An employer's arrears list, per person and month (exported to xlsx by the admin)."""
    return (
        arrears(as_of)
        .filter(employer_id=employer_id)
        .select_related("person")
        .order_by("person__name", "person_id", "month")
    )


def employer_arrears_rows(employer_id: int, as_of: date) -> list[dict]:
    """The arrears list as plain rows (身份证号, 姓名, 所属期, 本金, 滞纳金, …) for an export."""
    return [
        {
            "id_number": d.person.id_number,
            "name": d.person.name,
            "month": f"{d.month:%Y-%m}",
            "due_date": d.due_date,
            "total": d.total,
            "paid_principal": d.paid_principal,
            "principal_due": d.principal_due,
            "late_fee_due": d.late_fee_due,
            "deferred": d.deferred,
        }
        for d in employer_arrears(employer_id, as_of)
    ]


def person_arrears(person_id: int, as_of: date) -> QuerySet[MonthlyDue]:
    return arrears(as_of).filter(person_id=person_id).order_by("month")


def employer_month_bill(employer_id: int, month: date) -> dict:
    """An employer's bill for one month: the dues and their totals (单位月度缴费单)."""
    dues = MonthlyDue.objects.filter(employer_id=employer_id, month=month.replace(day=1))
    zero = Value(Decimal(0), output_field=_MONEY)
    totals = dues.aggregate(
        employer=Coalesce(Sum("employer_amount"), zero),
        individual=Coalesce(Sum("individual_amount"), zero),
        maternity=Coalesce(Sum("maternity_amount"), zero),
        critical_illness=Coalesce(Sum("critical_illness_amount"), zero),
        total=Coalesce(Sum("total"), zero),
        paid=Coalesce(Sum("paid_principal"), zero),
        late_fee=Coalesce(Sum("late_fee"), zero),
    )
    return {"dues": _with_outstanding(dues).select_related("person").order_by("person_id"), "totals": totals}


def person_history(person_id: int) -> dict:
    """A person's contribution history on one screen: bases by year, dues by month, payments, bills."""
    return {
        "bases": ContributionBase.objects.filter(person_id=person_id).order_by("-year_start"),
        "dues": _with_outstanding(MonthlyDue.objects.filter(person_id=person_id)).order_by("-month"),
        "payments": Payment.objects.filter(person_id=person_id).order_by("-paid_on", "-id"),
        "allocations": PaymentAllocation.objects.filter(payment__person_id=person_id)
        .select_related("due", "payment")
        .order_by("-payment__paid_on", "due__month"),
        "bills": BackPaymentBill.objects.filter(person_id=person_id).order_by("-issued_on"),
        "held": Payment.objects.filter(person_id=person_id, unapplied_amount__gt=0).aggregate(
            s=Coalesce(Sum("unapplied_amount"), Value(Decimal(0), output_field=_MONEY))
        )["s"],
    }


def employer_bases(employer_id: int) -> QuerySet[EmployerBase]:
    return EmployerBase.objects.filter(employer_id=employer_id).order_by("-year_start")


# --- payment years (缴费年限) -------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentYears:
    """Months by kind as stored, and as the jurisdiction counts them (calcB's ``count_payment_months``)."""

    jurisdiction: str
    kinds: dict[str, Decimal]
    counted: PaymentMonths

    @property
    def actual_months(self) -> Decimal:
        """Months actually paid (local and brought in by transfer)."""
        return self.kinds["local_months"] + self.kinds["other_region_months"]

    @property
    def deemed_lost_by(self) -> str:
        """The 人员变动 (被单位开除, 被法院判刑, 服刑) after which deemed months may no longer count (第三十条)."""
        return str(self.kinds.get("deemed_lost_by", ""))


def months_by_kind(person_ids: list[int], on: date) -> dict[int, dict[str, Decimal | str]]:
    """Set-based: each person's months by kind on ``on``.

    deemed (InsuredPerson.deemed_months), military (military_months), local actual (paid
    MonthlyDue months of in-service categories, in the jurisdiction of the person's latest span),
    other-region actual (months brought by transfer_in life events). A person with a 人员变动 that can cost
    the deemed years (被单位开除, 被法院判刑, 服刑: hunan 第三十条) on or before ``on`` also gets
    ``deemed_lost_by`` (the earliest such event's kind), which ``count_payment_months`` judges by the
    jurisdiction's rule (:func:`contributions.calculations.payment_years.deemed_lost`).
    """
    out: dict[int, dict[str, Decimal]] = {}
    for pid, deemed, military in InsuredPerson.objects.filter(pk__in=person_ids).values_list(
        "pk", "deemed_months", "military_months"
    ):
        out[pid] = {
            "deemed_months": Decimal(deemed),
            "military_months": Decimal(military),
            "local_months": Decimal(0),
            "other_region_months": Decimal(0),
        }
    latest = _latest_jurisdictions(person_ids, on)
    paid = (
        MonthlyDue.objects.filter(person_id__in=person_ids, settled_on__isnull=False, settled_on__lte=on)
        .exclude(category="retiree")
        .exclude(refunded_on__isnull=False, refunded_on__lte=on)  # refunded (ziyang 第九条(三)): not paid
        .values_list("person_id", "jurisdiction_id")
        .annotate(n=Count("id"))
    )
    for pid, jid, n in paid:
        if latest.get(pid, (None, None))[1] == jid:
            out[pid]["local_months"] += n
    transfers = (
        LifeEvent.objects.filter(person_id__in=person_ids, kind=LifeEventKind.TRANSFER_IN, occurred_on__lte=on)
        .values_list("person_id")
        .annotate(n=Sum("months"))
    )
    for pid, n in transfers:
        out[pid]["other_region_months"] += Decimal(n or 0)
    losses = (
        LifeEvent.objects.filter(person_id__in=person_ids, kind__in=list(LOSS_EVENTS), occurred_on__lte=on)
        .order_by("person_id", "-occurred_on", "-id")
        .values_list("person_id", "kind")
    )
    for pid, kind in losses:  # the earliest one is written last
        out[pid]["deemed_lost_by"] = kind
    return out


def _latest_jurisdictions(person_ids: list[int], on: date) -> dict[int, tuple[str, int]]:
    latest: dict[int, tuple[str, int]] = {}
    for pid, code, jid in (
        EnrolmentSpan.objects.filter(person_id__in=person_ids, start__lte=on)
        .order_by("person_id", "start", "id")
        .values_list("person_id", "jurisdiction__code", "jurisdiction_id")
    ):
        latest[pid] = (code, jid)
    return latest


def payment_years(person: InsuredPerson | int, on: date) -> PaymentYears:
    """缴费年限 of one person on ``on``, counted as the jurisdiction of their latest span counts it."""
    pid = person if isinstance(person, int) else person.pk
    kinds = months_by_kind([pid], on)[pid]
    code = _latest_jurisdictions([pid], on).get(pid, (None, None))[0]
    if code is None:
        raise ValueError(f"参保人员 {pid} 在 {on} 之前没有参保关系")
    counted = count_payment_months(Policy(code, on), **kinds)
    return PaymentYears(code, kinds, counted)
