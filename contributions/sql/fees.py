"""滞纳金: days past due outside deferrals, and the nightly fee accrual."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from ..models import (
    Deferral,
    MonthlyDue,
)
from ..rules import RATE_SCALE
from .dialect import (
    cents,
    day_number,
    div_half_up,
    dparam,
    execute,
    fetchall,
    from_cents,
    greatest,
    least,
    q,
    t,
)
from .spans import jurisdiction_id

# --- late fees --------------------------------------------------------------------------------


def deferral_employers(jurisdiction: str | None = None) -> list[int]:
    """Employers with any approved deferral (the fee SQL looks up deferrals only for them)."""
    qs = Deferral.objects.all()
    if jurisdiction is not None:
        qs = qs.filter(employer__jurisdiction__code=jurisdiction)
    return sorted(set(qs.values_list("employer_id", flat=True)))


def _in_list(column: str, ids: Sequence[int]) -> str:
    return f"{column} IN ({', '.join(str(int(i)) for i in ids)})"


def fee_days_sql(due_alias: str, as_of_dn: str, deferring: Sequence[int]) -> str:
    """Days of 滞纳金 for a due at day number ``as_of_dn``: days past the due date (D-X14),
    less the days inside the employer's approved deferrals (缓缴, hunan 第二十二条, langfang 第二十六条).

    Late days are ``due_date < d <= as_of``; a deferral covers ``start <= d < end``. A due
    without a due date (no deadline in the policy) has no late days. ``deferring``: the
    employers that have deferrals (only their dues look the deferrals up).
    """
    DF = t(Deferral)
    due_dn = day_number(f"{due_alias}.due_date")
    late = greatest("0", f"{as_of_dn} - {due_dn}")
    if deferring:
        df_end, df_start = day_number(f"df.{q('end')}"), day_number(f"df.{q('start')}")
        one = greatest("0", f"{least(f'{as_of_dn} + 1', df_end)} - {greatest(f'{due_dn} + 1', df_start)}")
        # CAST: PostgreSQL sums bigints as numeric, and the fen arithmetic must stay integral.
        overlap = f"""COALESCE((SELECT CAST(SUM({one}) AS BIGINT) FROM {DF} df
            WHERE df.employer_id = {due_alias}.employer_id), 0)"""
        late = f"""CASE WHEN {_in_list(f"{due_alias}.employer_id", deferring)}
            THEN {greatest("0", f"{as_of_dn} - {due_dn} - {overlap}")} ELSE {late} END"""
    return f"(CASE WHEN {due_alias}.due_date IS NULL THEN 0 ELSE {late} END)"


def fee_cents_sql(unpaid_cents: str, rate: int | str, days: str) -> str:
    """money(unpaid × daily rate × days) in fen (late_fee_amount, D-X12)."""
    return div_half_up(f"({unpaid_cents}) * {rate} * ({days})", RATE_SCALE)


def deferred_sql(due_alias: str, deferring: Sequence[int]) -> str:
    """Whether a due fell due inside one of its employer's deferrals."""
    if not deferring:
        return "FALSE"
    DF = t(Deferral)
    return f"""({_in_list(f"{due_alias}.employer_id", deferring)} AND EXISTS (SELECT 1 FROM {DF} df
        WHERE df.employer_id = {due_alias}.employer_id
        AND df.{q("start")} <= {due_alias}.due_date AND df.{q("end")} > {due_alias}.due_date))"""


def fees_accrue(
    jurisdiction: str, *, lo: int, hi: int, as_of: date, rate: int | None, only: Sequence[int] | None = None
) -> Counter:
    """Recompute the accrued fee of every unsettled due of the chunk (idempotent: a second run changes nothing).

    ``only``: of the chunk, just these persons (a screen's or a payment's persons, one statement for all).

    late_fee = late_fee_paid + money(unpaid principal × rate × days past due outside deferrals);
    ``deferred`` marks dues that fell due inside a deferral. Counts: accrued (rows changed),
    in_arrears (unsettled dues past their due date), missing:contribution.late_fee_daily_pct.
    """
    DU = t(MonthlyDue)
    jid = jurisdiction_id(jurisdiction)
    counts: Counter = Counter()
    as_of_p = dparam(as_of)
    persons = "" if only is None else f" AND {_in_list('person_id', list(only) or [0])}"
    overdue = fetchall(
        f"""SELECT COUNT(*) FROM {DU} WHERE person_id >= %s AND person_id < %s AND jurisdiction_id = %s
            AND settled_on IS NULL AND due_date IS NOT NULL AND due_date < %s{persons}""",
        [lo, hi, jid, as_of_p],
    )[0][0]
    counts["in_arrears"] += overdue
    if rate is None:
        if overdue:
            counts["missing:contribution.late_fee_daily_pct"] += overdue
        return counts
    dn = str(as_of.toordinal())
    deferring = deferral_employers(jurisdiction)
    unpaid = f"({cents('u.total')} - {cents('u.paid_principal')})"
    new_fee = f"({cents('u.late_fee_paid')} + {fee_cents_sql(unpaid, rate, fee_days_sql('u', dn, deferring))})"
    deferred = deferred_sql("u", deferring)
    flag_differs = f"(u.deferred <> {deferred})"
    n = execute(
        f"""UPDATE {DU} AS u SET late_fee = {from_cents(new_fee)}, deferred = {deferred}
        WHERE u.person_id >= %s AND u.person_id < %s AND u.jurisdiction_id = %s{persons}
          AND u.settled_on IS NULL AND u.due_date IS NOT NULL
          AND (u.due_date < %s OR u.late_fee <> u.late_fee_paid OR u.deferred)
          AND ({cents("u.late_fee")} <> {new_fee} OR {flag_differs})""",
        [lo, hi, jid, as_of_p],
    )
    counts["accrued"] += n
    return counts
