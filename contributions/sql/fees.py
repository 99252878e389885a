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
    is_postgres,
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


def fee_days_sql(due_alias: str, as_of_dn: str, deferring: Sequence[int] | None) -> str:
    """Days of 滞纳金 for a due at day number ``as_of_dn``: days past the due date (D-X14),
    less the days inside the employer's approved deferrals (缓缴, hunan 第二十二条, langfang 第二十六条).

    Late days are ``due_date < d <= as_of``; a deferral covers ``start <= d < end``. A due
    without a due date (no deadline in the policy) has no late days. ``deferring``: the
    employers that have deferrals (only their dues look the deferrals up); None: every due looks them up (a
    statement over the unsettled dues only, where the look-up by employer costs less than listing them).
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
    elif deferring is None:
        df_end, df_start = day_number(f"df.{q('end')}"), day_number(f"df.{q('start')}")
        one = greatest("0", f"{least(f'{as_of_dn} + 1', df_end)} - {greatest(f'{due_dn} + 1', df_start)}")
        overlap = f"""COALESCE((SELECT CAST(SUM({one}) AS BIGINT) FROM {DF} df
            WHERE df.employer_id = {due_alias}.employer_id), 0)"""
        late = greatest("0", f"{as_of_dn} - {due_dn} - {overlap}")
    return f"(CASE WHEN {due_alias}.due_date IS NULL THEN 0 ELSE {late} END)"


def fee_cents_sql(unpaid_cents: str, rate: int | str, days: str) -> str:
    """money(unpaid × daily rate × days) in fen (late_fee_amount, D-X12)."""
    return div_half_up(f"({unpaid_cents}) * {rate} * ({days})", RATE_SCALE)


def deferred_sql(due_alias: str, deferring: Sequence[int] | None) -> str:
    """Whether a due fell due inside one of its employer's deferrals (``deferring`` as :func:`fee_days_sql`)."""
    if deferring is not None and not deferring:
        return "FALSE"
    DF = t(Deferral)
    gate = "TRUE" if deferring is None else _in_list(f"{due_alias}.employer_id", deferring)
    return f"""({gate} AND EXISTS (SELECT 1 FROM {DF} df
        WHERE df.employer_id = {due_alias}.employer_id
        AND df.{q("start")} <= {due_alias}.due_date AND df.{q("end")} > {due_alias}.due_date))"""


def fees_accrue(
    jurisdiction: str, *, lo: int, hi: int, as_of: date, rate: int | None, only: Sequence[int] | None = None
) -> Counter:
    """Recompute the accrued fee of every unsettled due of the chunk (idempotent: a second run changes nothing).

    ``only``: of the chunk, just these persons (a screen's or a payment's persons, one statement for all).
    One jurisdiction; :func:`fees_accrue_all` does every jurisdiction of a chunk in one statement.
    """
    return fees_accrue_all({jurisdiction_id(jurisdiction): rate}, lo=lo, hi=hi, as_of=as_of, only=only)


def _rate_sql(rates: dict[int, int]) -> str:
    """The daily rate of a due ``u`` by its jurisdiction (a literal where every jurisdiction has the same)."""
    if len(set(rates.values())) == 1:
        return str(int(next(iter(rates.values()))))
    whens = " ".join(f"WHEN {int(j)} THEN {int(r)}" for j, r in sorted(rates.items()))
    return f"(CASE u.jurisdiction_id {whens} END)"


def fees_accrue_all(
    rates: dict[int, int | None], *, lo: int, hi: int, as_of: date, only: Sequence[int] | None = None
) -> Counter:
    """滞纳金 of the unsettled dues of ``[lo, hi)`` in the jurisdictions of ``rates`` (id → daily rate in
    millionths, None where the policy gives none), as of ``as_of``: one count and one UPDATE for all of them.

    late_fee = late_fee_paid + money(unpaid principal × rate × days past due outside deferrals) (D-X12, D-X14);
    ``deferred`` marks dues that fell due inside a deferral. Only unsettled dues are read (the partial index
    ``due_fee_candidates``: unsettled, not closed, with a due date): the work of a night is the dues still owed,
    not the population — a settled due's fee never changes again. Counts: accrued (rows changed), in_arrears
    (unsettled dues past their due date), missing:contribution.late_fee_daily_pct (those of them where no rate is
    in force).
    """
    DU = t(MonthlyDue)
    counts: Counter = Counter()
    if not rates:
        return counts
    as_of_p = dparam(as_of)
    persons = "" if only is None else f" AND {_in_list('person_id', list(only) or [0])}"
    jids = ", ".join(str(int(j)) for j in sorted(rates))
    count_sql = f"""SELECT jurisdiction_id, COUNT(*) FROM {DU} WHERE person_id >= %s AND person_id < %s
        AND settled_on IS NULL AND makeup_closed_on IS NULL AND jurisdiction_id IN ({jids})
        AND due_date IS NOT NULL AND due_date < %s{persons}
        GROUP BY jurisdiction_id"""
    count_params = [lo, hi, as_of_p]
    known = {j: r for j, r in rates.items() if r is not None}
    update_sql, update_params = "", []
    if known:
        dn = str(as_of.toordinal())
        # every unsettled due looks its employer's deferrals up (few rows, by index) rather than a listing first
        deferring = None
        unpaid = f"({cents('u.total')} - {cents('u.paid_principal')})"
        fee = fee_cents_sql(unpaid, _rate_sql(known), fee_days_sql("u", dn, deferring))
        new_fee = f"({cents('u.late_fee_paid')} + {fee})"
        deferred = deferred_sql("u", deferring)
        known_ids = ", ".join(str(int(j)) for j in sorted(known))
        update_sql = f"""UPDATE {DU} AS u SET late_fee = {from_cents(new_fee)}, deferred = {deferred}
            WHERE u.person_id >= %s AND u.person_id < %s AND u.settled_on IS NULL AND u.makeup_closed_on IS NULL
              AND u.jurisdiction_id IN ({known_ids}){persons} AND u.due_date IS NOT NULL
              AND (u.due_date < %s OR u.late_fee <> u.late_fee_paid OR u.deferred)
              AND ({cents("u.late_fee")} <> {new_fee} OR (u.deferred <> {deferred}))"""
        update_params = [lo, hi, as_of_p]
    if update_sql and is_postgres():  # one round trip: the count sees the dues as they were (its snapshot)
        rows = fetchall(
            f"""WITH counted AS ({count_sql}), changed AS ({update_sql} RETURNING 1)
            SELECT jurisdiction_id, count FROM counted UNION ALL SELECT NULL, COUNT(*) FROM changed""",
            [*count_params, *update_params],
        )
    else:
        rows = fetchall(count_sql, count_params)
        if update_sql:
            rows.append((None, execute(update_sql, update_params)))
    missing = 0
    for jid, n in rows:
        if jid is None:
            counts["accrued"] += n
            continue
        counts["in_arrears"] += n
        if rates.get(jid) is None:
            missing += n
    if missing:
        counts["missing:contribution.late_fee_daily_pct"] += missing
    if update_sql and "accrued" not in counts:
        counts["accrued"] += 0
    return counts
