"""冲抵: payments to the payer's oldest unsettled dues, principal with its fee.

Before each round, the dues of a break too old to make up on the payment's date are waived
(:func:`dues_close_breaks`, ziyang 第十三条 断保一年以上不再补缴): they take no money.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

from enrollment.calculations.enrolment_checks import makeup_closed_before
from policy.models import Jurisdiction
from policy.resolver import Policy

from ..models import (
    MonthlyDue,
    Payment,
    PaymentAllocation,
)
from ..rules import RATE_SCALE
from .dialect import (
    cents,
    day_number,
    dparam,
    execute,
    fetchall,
    from_cents,
    is_postgres,
    least,
    t,
    tparam,
)
from .fees import deferral_employers, fee_cents_sql, fee_days_sql

# --- payments ---------------------------------------------------------------------------------


def payments_allocate(
    payment_ids: Iterable[int] | None = None,
    *,
    person_range: tuple[int, int] | None = None,
    rates: dict[int, int],
    now: datetime,
) -> Counter:
    """Apply payments with money left to the payer's oldest unsettled dues (principal with its fee).

    Rounds: each round takes, per person, the earliest payment (paid_on, id) with money left
    and spreads it over that person's unsettled dues, oldest month first. A due needs its
    unpaid principal plus the fee on it at the payment date; a payment that runs out part-way
    pays principal x and fee f = x × rate × days in proportion (x = take ÷ (1 + rate × days)).
    What is left of a payment stays in ``unapplied_amount`` (held, applied to later dues).
    ``rates``: jurisdiction id → daily late-fee rate in millionths.
    Counts: allocations, dues_settled, payments_applied, amount_applied_cents.
    """
    PA, DU, PM = t(Payment), t(MonthlyDue), t(PaymentAllocation)
    counts: Counter = Counter()
    if payment_ids is not None:
        ids = sorted(set(payment_ids))
        if not ids:
            return counts
        scope_sql, scope = f"p.id IN ({', '.join(['%s'] * len(ids))})", list(ids)
    else:
        lo, hi = person_range
        scope_sql, scope = "p.person_id >= %s AND p.person_id < %s", [lo, hi]
    # monthly dues take employee-scheme money only (险种 310); a resident's payment (390) pays the yearly bill
    scope_sql += " AND p.insutype = '310'"
    rate_case = "CASE u.jurisdiction_id " + " ".join(f"WHEN {j} THEN {r}" for j, r in rates.items()) + " ELSE 0 END"
    if not rates:
        rate_case = "0"
    now_p = tparam(now)
    deferring = deferral_employers()
    limits = MakeupLimits()
    while True:
        # One payment per person this round: the earliest with money left, for persons with unsettled dues.
        round_rows = fetchall(
            f"""SELECT p.id, p.person_id, p.paid_on FROM {PA} p
            WHERE {scope_sql} AND p.unapplied_amount > 0
              AND EXISTS (SELECT 1 FROM {DU} u WHERE u.person_id = p.person_id AND u.settled_on IS NULL
                  AND u.makeup_closed_on IS NULL)
              AND NOT EXISTS (SELECT 1 FROM {PA} p2 WHERE p2.person_id = p.person_id AND p2.unapplied_amount > 0
                  AND {scope_sql.replace("p.", "p2.")}
                  AND (p2.paid_on < p.paid_on OR (p2.paid_on = p.paid_on AND p2.id < p.id)))""",
            scope + scope,
        )
        round_ids = [r[0] for r in round_rows]
        if not round_ids:
            break
        if is_postgres():
            execute(f"SELECT id FROM {PA} WHERE id = ANY(%s) FOR UPDATE", [round_ids])
        counts["dues_makeup_closed"] += dues_close_breaks([(r[1], r[2]) for r in round_rows], limits)
        marks = ", ".join(["%s"] * len(round_ids))
        paid_dn = day_number("p.paid_on")
        unpaid = f"({cents('u.total')} - {cents('u.paid_principal')})"
        days = fee_days_sql("u", paid_dn, deferring)
        need = f"({unpaid} + {fee_cents_sql(unpaid, rate_case, days)})"
        ordered = f"""SELECT u.id AS due_id, p.id AS payment_id, {cents("p.unapplied_amount")} AS avail,
                {unpaid} AS unpaid, {need} AS need, {rate_case} AS rate, {days} AS days,
                -- PostgreSQL sums bigints as numeric: cast back so the fen arithmetic stays integral.
                CAST(SUM({need}) OVER (PARTITION BY u.person_id ORDER BY u.month, u.id
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS cum
            FROM {DU} u JOIN {PA} p ON p.person_id = u.person_id
            WHERE p.id IN ({marks}) AND u.settled_on IS NULL AND u.makeup_closed_on IS NULL"""
        take = least("o.need", "o.avail - (o.cum - o.need)")
        principal = f"CASE WHEN {take} >= o.need THEN o.unpaid ELSE {_partial_principal(take)} END"
        before = fetchall(f"SELECT COALESCE(MAX(id), 0) FROM {PM}")[0][0]
        n = execute(
            f"""INSERT INTO {PM} (payment_id, due_id, principal, late_fee, created_at)
            SELECT a.payment_id, a.due_id, {from_cents("a.principal")}, {from_cents("a.take - a.principal")}, %s
            FROM (
                SELECT o.payment_id, o.due_id, {take} AS take, {principal} AS principal
                FROM ({ordered}) o
                WHERE o.cum - o.need < o.avail
            ) a
            WHERE a.take > 0""",
            [now_p, *round_ids],
        )
        counts["allocations"] += n
        if not n:
            break
        # Bring the dues and payments in line with this round's allocations.
        alloc = f"""SELECT pm.due_id AS due_id, {cents("pm.principal")} AS pr, {cents("pm.late_fee")} AS fe,
                p.paid_on AS paid_on, {paid_dn} AS paid_dn
            FROM {PM} pm JOIN {PA} p ON p.id = pm.payment_id WHERE pm.id > %s"""
        remaining = f"{cents('u.total')} - {cents('u.paid_principal')} - a.pr"
        fee_left = fee_cents_sql(remaining, rate_case, fee_days_sql("u", "a.paid_dn", deferring))
        touched = execute(
            f"""UPDATE {DU} AS u SET
                paid_principal = {from_cents(f"{cents('u.paid_principal')} + a.pr")},
                late_fee_paid = {from_cents(f"{cents('u.late_fee_paid')} + a.fe")},
                settled_on = CASE WHEN {cents("u.paid_principal")} + a.pr >= {cents("u.total")}
                                  THEN a.paid_on ELSE NULL END,
                late_fee = {from_cents(f"{cents('u.late_fee_paid')} + a.fe + {fee_left}")}
            FROM ({alloc}) a
            WHERE u.id = a.due_id""",
            [before],
        )
        counts["dues_touched"] += touched
        applied = fetchall(
            f"SELECT COALESCE(SUM({cents('principal')} + {cents('late_fee')}), 0) FROM {PM} WHERE id > %s",
            [before],
        )[0][0]
        left = f"{cents('p.amount')} - {cents('p.refunded_amount')}"  # a refunded part is held no more
        all_allocated = f"""COALESCE((SELECT SUM({cents("pm.principal")} + {cents("pm.late_fee")})
            FROM {PM} pm WHERE pm.payment_id = p.id), 0)"""
        execute(
            f"""UPDATE {PA} AS p SET unapplied_amount = {from_cents(f"{left} - {all_allocated}")}
            WHERE p.id IN ({marks})""",
            round_ids,
        )
        counts["payments_applied"] += len(round_ids)
        counts["amount_applied_cents"] += int(applied)
    return counts


def _partial_principal(take: str) -> str:
    """Principal part x of a partial payment ``take`` = x + x × rate × days, half-up to the fen."""
    den = f"({RATE_SCALE} + o.rate * o.days)"
    return f"((({take}) * {RATE_SCALE} * 2 + {den}) / (2 * {den}))"


# --- 断保一年以上不再补缴 (ziyang 第十三条) ------------------------------------------------------------------


class MakeupLimits:
    """断保起始月 cut-off per jurisdiction and payment date (:func:`makeup_closed_before`), memoised for a run."""

    def __init__(self) -> None:
        self.codes = dict(Jurisdiction.objects.values_list("id", "code"))
        self.memo: dict[tuple[int, date], date | None] = {}

    def cutoffs(self, paid_on: date) -> list[tuple[int, date]]:
        """(jurisdiction id, latest break start closed on ``paid_on``) where a document sets a limit."""
        out = []
        for jid, code in self.codes.items():
            if (jid, paid_on) not in self.memo:
                self.memo[jid, paid_on] = makeup_closed_before(Policy(code, paid_on), paid_on)
            if (cut := self.memo[jid, paid_on]) is not None:
                out.append((jid, cut))
        return out


def dues_close_breaks(payers: Iterable[tuple[int, date]], limits: MakeupLimits) -> int:
    """Waive (``makeup_closed_on`` = the payment date) the unpaid dues of ``payers`` (person id, paid on)
    before the payment's month that lie in a break begun on or before the jurisdiction's cut-off:
    断保一年以上不再补缴断保期间基本医疗保险费 (ziyang 第十三条). The set-wise form of
    :func:`enrollment.calculations.enrolment_checks.makeup_closed_months`: a due is in a closed break when
    some unpaid due of the person, on or before the cut-off and not after it, has no paid month between.
    Their fee stops where it stood paid (``late_fee`` = ``late_fee_paid``). One UPDATE; returns the rows.
    """
    rows = []
    for person_id, paid_on in payers:
        paid_on = paid_on if isinstance(paid_on, date) else date.fromisoformat(str(paid_on)[:10])
        for jid, cut in limits.cutoffs(paid_on):
            rows.append((person_id, jid, paid_on, paid_on.replace(day=1), cut))
    if not rows:
        return 0
    DU = t(MonthlyDue)
    d = "CAST(%s AS date)" if is_postgres() else "%s"
    values = ", ".join(f"(%s, %s, {d}, {d}, {d})" for _ in rows)
    params = [
        v
        for person_id, jid, paid_on, current, cut in rows
        for v in (person_id, jid, *map(dparam, (paid_on, current, cut)))
    ]
    closed = f"""SELECT x.id, c.column3 AS closed_on
        FROM {DU} x JOIN (VALUES {values}) c ON c.column1 = x.person_id AND c.column2 = x.jurisdiction_id
        WHERE x.settled_on IS NULL AND x.makeup_closed_on IS NULL AND x.month < c.column4
          AND EXISTS (SELECT 1 FROM {DU} b WHERE b.person_id = x.person_id AND b.settled_on IS NULL
              AND b.makeup_closed_on IS NULL AND b.month <= c.column5 AND b.month <= x.month
              AND NOT EXISTS (SELECT 1 FROM {DU} s WHERE s.person_id = x.person_id AND s.settled_on IS NOT NULL
                  AND s.month > b.month AND s.month < x.month))"""
    return execute(
        f"""UPDATE {DU} AS u SET makeup_closed_on = w.closed_on, late_fee = u.late_fee_paid
        FROM ({closed}) w WHERE u.id = w.id""",
        params,
    )
