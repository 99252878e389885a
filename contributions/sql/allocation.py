"""冲抵: payments to the payer's oldest unsettled dues, principal with its fee."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from ..models import (
    MonthlyDue,
    Payment,
    PaymentAllocation,
)
from ..rules import RATE_SCALE
from .dialect import (
    cents,
    day_number,
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
    while True:
        # One payment per person this round: the earliest with money left, for persons with unsettled dues.
        round_rows = fetchall(
            f"""SELECT p.id FROM {PA} p
            WHERE {scope_sql} AND p.unapplied_amount > 0
              AND EXISTS (SELECT 1 FROM {DU} u WHERE u.person_id = p.person_id AND u.settled_on IS NULL)
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
            WHERE p.id IN ({marks}) AND u.settled_on IS NULL"""
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
        all_allocated = f"""COALESCE((SELECT SUM({cents("pm.principal")} + {cents("pm.late_fee")})
            FROM {PM} pm WHERE pm.payment_id = p.id), 0)"""
        execute(
            f"""UPDATE {PA} AS p SET unapplied_amount = {from_cents(f"{cents('p.amount')} - {all_allocated}")}
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
