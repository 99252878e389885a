"""城乡居民医保征缴 (险种 390): yearly bills and the payments applied to them, in transactions.

- :func:`bill_residents` — 生成居民年度应缴, one set-based INSERT … SELECT per jurisdiction over a chunk of persons
  (sanmenxia 第三十条 amounts, 第三十一条 collection period and benefit year); idempotent;
- :func:`resident_payments_apply` — a resident's payments (险种 390) applied to their oldest unpaid yearly bills,
  with a constant number of statements per call (never one save per row); no late fee (no document sets one);
- the ledger is plugged in by ``funds/apps.py`` (:func:`ledger_poster_register`): each new allocation is posted to the
  resident fund in the same transaction (xianning 办法 四(三), separate books).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from enrollment.models import EnrolmentSpan, Insutype, ResidentKind
from policy.resolver import Policy, PolicyMissing

from ..calculations.resident import benefit_year_of, collection_window, cover_period, yearly_amounts
from ..models import Payment
from ..sql.dialect import dparam, execute, fetchall, t, tparam
from .models import ResidentAllocation, ResidentDue

ZERO = Decimal("0.00")

#: 基金记账接口 (a port): the ledger (funds) registers ``fn(allocation_ids) -> counts`` at start-up.
_ledger_posters: list[Callable[[list[int]], Mapping[str, int]]] = []


def ledger_poster_register(fn: Callable[[list[int]], Mapping[str, int]]) -> None:
    if fn not in _ledger_posters:
        _ledger_posters.append(fn)


# --- billing ----------------------------------------------------------------------------------------------


def bill_residents(
    code: str,
    jurisdiction_id: int,
    *,
    collection_year: int,
    as_of: date,
    lo: int,
    hi: int,
    run_id: int | None,
    now: datetime,
) -> Counter:
    """Bill every resident of the jurisdiction with ids in ``[lo, hi)`` whose resident span (险种 390, not a newborn's
    birth-year cover) overlaps the benefit year bought in ``collection_year``. Counts: ``billed``, and
    ``missing:<key>`` (the residents not billed because a staff-entered value is missing, D-X16)."""
    counts: Counter = Counter()
    policy = Policy(code, as_of)
    try:
        benefit_year = benefit_year_of(policy, collection_year)
        start, end = collection_window(policy, collection_year)
        amounts = yearly_amounts(policy.at(start))
    except PolicyMissing as exc:
        counts[f"missing:{exc.key}"] += _residents_count(jurisdiction_id, lo, hi, *cover_period(collection_year + 1))
        return counts
    year_start, year_end = cover_period(benefit_year)
    S, D = t(EnrolmentSpan), t(ResidentDue)
    counts["billed"] += execute(
        f"""INSERT INTO {D} (person_id, jurisdiction_id, benefit_year, resident_kind, individual_amount,
                subsidy_amount, window_start, window_end, paid_amount, settled_on, run_id, created_at)
            SELECT s.person_id, s.jurisdiction_id, %s, MIN(s.resident_kind), %s, %s, %s, %s, %s, NULL, %s, %s
            FROM {S} s
            WHERE s.insutype = %s AND s.resident_kind <> %s AND s.jurisdiction_id = %s
              AND s.person_id >= %s AND s.person_id < %s
              AND s.start < %s AND (s."end" IS NULL OR s."end" > %s)
              AND NOT EXISTS (SELECT 1 FROM {D} d WHERE d.person_id = s.person_id AND d.benefit_year = %s)
            GROUP BY s.person_id, s.jurisdiction_id""",
        [
            benefit_year,
            amounts.individual,
            amounts.subsidy,
            dparam(start),
            dparam(end),
            ZERO,
            run_id,
            tparam(now),
            Insutype.RESIDENT,
            ResidentKind.NEWBORN,
            jurisdiction_id,
            lo,
            hi,
            dparam(year_end),
            dparam(year_start),
            benefit_year,
        ],
    )
    return counts


def _residents_count(jurisdiction_id: int, lo: int, hi: int, year_start: date, year_end: date) -> int:
    S = t(EnrolmentSpan)
    return fetchall(
        f"""SELECT COUNT(DISTINCT s.person_id) FROM {S} s
            WHERE s.insutype = %s AND s.resident_kind <> %s AND s.jurisdiction_id = %s
              AND s.person_id >= %s AND s.person_id < %s AND s.start < %s AND (s."end" IS NULL OR s."end" > %s)""",
        [Insutype.RESIDENT, ResidentKind.NEWBORN, jurisdiction_id, lo, hi, dparam(year_end), dparam(year_start)],
    )[0][0]


# --- payments -------------------------------------------------------------------------------------------------


def resident_payments_apply(
    payment_ids: Iterable[int] | None = None, *, person_range: tuple[int, int] | None = None
) -> Counter:
    """冲抵: resident payments (险种 390) with money left, applied to the payer's unpaid yearly bills, oldest benefit
    year first; what is left stays ``unapplied_amount`` (held for the next bill). Counts: ``resident_allocations``,
    ``resident_dues_settled``."""
    payments = Payment.objects.filter(insutype=Insutype.RESIDENT, unapplied_amount__gt=0)
    if payment_ids is not None:
        ids = sorted(set(payment_ids))
        if not ids:
            return Counter()
        payments = payments.filter(pk__in=ids)
    elif person_range is not None:
        payments = payments.filter(person_id__gte=person_range[0], person_id__lt=person_range[1])
    counts: Counter = Counter()
    with transaction.atomic():
        rows = list(payments.select_for_update().order_by("person_id", "paid_on", "id"))
        if not rows:
            return counts
        dues_by_person: dict[int, list[ResidentDue]] = defaultdict(list)
        for due in (
            ResidentDue.objects.select_for_update()
            .filter(person_id__in={p.person_id for p in rows}, settled_on__isnull=True)
            .order_by("person_id", "benefit_year", "id")
        ):
            dues_by_person[due.person_id].append(due)
        now = timezone.now()
        allocations, touched_dues, touched_payments = _allocate(rows, dues_by_person, now)
        if not allocations:
            return counts
        created = ResidentAllocation.objects.bulk_create(allocations)
        ResidentDue.objects.bulk_update(touched_dues, ["paid_amount", "settled_on"])
        Payment.objects.bulk_update(touched_payments, ["unapplied_amount"])
        counts["resident_allocations"] += len(created)
        counts["resident_dues_settled"] += sum(1 for d in touched_dues if d.settled_on is not None)
        allocation_ids = [a.pk for a in created]
        if allocation_ids[0] is None:  # a backend that does not return ids from a bulk insert
            allocation_ids = list(
                ResidentAllocation.objects.filter(payment__in=touched_payments, created_at=now).values_list(
                    "pk", flat=True
                )
            )
        for poster in _ledger_posters:
            for key, value in poster(allocation_ids).items():
                counts[f"ledger_{key}"] += value
    return counts


def _allocate(
    payments: list[Payment], dues_by_person: dict[int, list[ResidentDue]], now: datetime
) -> tuple[list[ResidentAllocation], list[ResidentDue], list[Payment]]:
    """The allocations of the payments (in order) to each payer's open bills (in order), in memory."""
    allocations: list[ResidentAllocation] = []
    touched_dues: dict[int, ResidentDue] = {}
    touched_payments: list[Payment] = []
    for payment in payments:
        available = payment.unapplied_amount
        for due in dues_by_person.get(payment.person_id, []):
            if available <= 0:
                break
            need = due.individual_amount - due.paid_amount
            if need <= 0:
                continue
            take = min(need, available)
            allocations.append(ResidentAllocation(payment=payment, due=due, amount=take, created_at=now))
            due.paid_amount += take
            available -= take
            if due.paid_amount >= due.individual_amount:
                due.settled_on = payment.paid_on
            touched_dues[due.pk] = due
        if available != payment.unapplied_amount:
            payment.unapplied_amount = available
            touched_payments.append(payment)
    return allocations, list(touched_dues.values()), touched_payments
