"""单位缴费基数 of every employer of a jurisdiction for a base year."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from enrollment.models import Employer

from ..models import (
    ContributionBase,
    EmployerBase,
    WageDeclaration,
)
from ..rules import BASE_SCALE, CENTS, RATE_SCALE, BaseConstants
from .bases import MAX_WAGE_U
from .dialect import (
    _named,
    base_units,
    cents,
    div_half_up,
    dparam,
    execute,
    fetchall,
    from_base_units,
    greatest,
    t,
    tparam,
)
from .fees import _in_list
from .spans import jurisdiction_id

# --- employer bases ---------------------------------------------------------------------------


def employer_wages_out_of_bounds(c: BaseConstants) -> list[tuple[int, int, Decimal]]:
    """(employer_id, person_id, monthly wage) of the year's declarations above the product bound."""
    E, D = t(Employer), t(WageDeclaration)
    monthly_u = (
        f"CASE WHEN d.monthly_wage IS NOT NULL THEN {base_units('d.monthly_wage')} "
        f"ELSE {div_half_up(cents('d.annual_wage_total') + f' * {BASE_SCALE // CENTS}', 12)} END"
    )
    rows = fetchall(
        f"""SELECT d.employer_id, d.person_id, {monthly_u} FROM {D} d JOIN {E} e ON e.id = d.employer_id
        WHERE d.year = %s AND e.jurisdiction_id = %s AND {monthly_u} > {MAX_WAGE_U}
        ORDER BY d.employer_id, d.person_id""",
        [c.year, jurisdiction_id(c.jurisdiction)],
    )
    return [(e, p, Decimal(u) / BASE_SCALE) for e, p, u in rows]


def employer_bases_upsert(
    c: BaseConstants, *, rule: str | None, run_id: int | None, now: datetime, exclude: Sequence[int] = ()
) -> Counter:
    """单位缴费基数 of every employer of the jurisdiction for the base year, in monthly terms (D-X6).

    ``rule`` (``contribution.employer_base_rule``): max_wage_bill_or_individual_sum (hunan 第九条),
    previous_year_wage_bill (langfang 第十二条; +uplift on the old base when not audited,
    第二十一条, D-L19), sum_of_individual_bases (sanmenxia 第六条), previous_year_wage_bill_clamped
    (ziyang 第九条(一)1–2: between headcount × floor and headcount × ceiling). ``None``: the base
    is left empty (the document is silent) and only the sums are recorded. ``exclude``: employers not
    computed (a declared wage out of bounds would overflow their wage bill); the caller reports them.
    """
    E, D, B, EB = t(Employer), t(WageDeclaration), t(ContributionBase), t(EmployerBase)
    jid = jurisdiction_id(c.jurisdiction)
    prev_start = date(c.year_start.year - 1, c.year_start.month, c.year_start.day)
    monthly_u = (
        f"CASE WHEN d.monthly_wage IS NOT NULL THEN {base_units('d.monthly_wage')} "
        f"ELSE {div_half_up(cents('d.annual_wage_total') + f' * {BASE_SCALE // CENTS}', 12)} END"
    )
    agg = f"""SELECT e.id AS employer_id, COALESCE(bb.headcount, 0) AS headcount, COALESCE(bb.sum_u, 0) AS sum_u,
            dd.bill_u AS bill_u, {base_units("peb.base")} AS prev_u
        FROM {E} e
        LEFT JOIN (SELECT b.employer_id, COUNT(*) AS headcount, SUM({base_units("b.base")}) AS sum_u
                   FROM {B} b WHERE b.year_start = %(ys)s AND b.jurisdiction_id = %(jid)s AND b.category = 'employee'
                   GROUP BY b.employer_id) bb ON bb.employer_id = e.id
        LEFT JOIN (SELECT d.employer_id, SUM({monthly_u}) AS bill_u FROM {D} d
                   WHERE d.year = %(year)s AND d.employer_id IN (SELECT id FROM {E} WHERE jurisdiction_id = %(jid)s)
                   GROUP BY d.employer_id) dd ON dd.employer_id = e.id
        LEFT JOIN {EB} peb ON peb.employer_id = e.id AND peb.year_start = %(prev)s
        WHERE e.jurisdiction_id = %(jid)s"""
    base, basis = "CAST(NULL AS BIGINT)", "''"
    if rule == "max_wage_bill_or_individual_sum":
        base = greatest("COALESCE(a.bill_u, 0)", "a.sum_u")
        basis = "CASE WHEN COALESCE(a.bill_u, 0) > a.sum_u THEN 'wage_bill' ELSE 'sum_of_bases' END"
    elif rule == "sum_of_individual_bases":
        base, basis = "a.sum_u", "'sum_of_bases'"
    elif rule == "previous_year_wage_bill":
        if c.uplift is not None:
            raised = div_half_up(f"a.prev_u * {c.uplift}", RATE_SCALE)
            base = f"CASE WHEN a.bill_u IS NULL AND a.prev_u IS NOT NULL THEN {raised} ELSE a.bill_u END"
            basis = "CASE WHEN a.bill_u IS NULL AND a.prev_u IS NOT NULL THEN 'penalty_uplift' ELSE 'wage_bill' END"
        else:
            base, basis = "a.bill_u", "'wage_bill'"
    elif rule == "previous_year_wage_bill_clamped" and c.floor is not None:
        lo_u = f"(a.headcount * {c.floor})"
        hi_u = f"(a.headcount * {c.ceiling})" if c.ceiling is not None else None
        base = f"CASE WHEN a.bill_u < {lo_u} THEN {lo_u}"
        basis = f"CASE WHEN a.bill_u < {lo_u} THEN 'floor'"
        if hi_u:
            base += f" WHEN a.bill_u > {hi_u} THEN {hi_u}"
            basis += f" WHEN a.bill_u > {hi_u} THEN 'ceiling'"
        base += " ELSE a.bill_u END"
        basis += " ELSE 'wage_bill' END"
    sql, params = _named(
        f"""INSERT INTO {EB} (employer_id, year_start, headcount, wage_bill, sum_of_individual_bases, base, audited,
                basis, run_id, updated_at)
        SELECT a.employer_id, %(ys)s, a.headcount, {from_base_units("a.bill_u")}, {from_base_units("a.sum_u")},
               {from_base_units(base)}, CASE WHEN a.bill_u IS NULL THEN FALSE ELSE TRUE END, {basis}, %(run)s, %(now)s
        FROM ({agg}) a
        WHERE (a.headcount > 0 OR a.bill_u IS NOT NULL OR a.prev_u IS NOT NULL)
          AND NOT {_in_list("a.employer_id", list(exclude) or [0])}
        ON CONFLICT (employer_id, year_start) DO UPDATE SET headcount = excluded.headcount,
            wage_bill = excluded.wage_bill, sum_of_individual_bases = excluded.sum_of_individual_bases,
            base = excluded.base, audited = excluded.audited, basis = excluded.basis, run_id = excluded.run_id,
            updated_at = excluded.updated_at
        WHERE {EB}.headcount <> excluded.headcount OR {EB}.sum_of_individual_bases <> excluded.sum_of_individual_bases
           OR ({EB}.wage_bill IS NULL) <> (excluded.wage_bill IS NULL) OR {EB}.wage_bill <> excluded.wage_bill
           OR ({EB}.base IS NULL) <> (excluded.base IS NULL) OR {EB}.base <> excluded.base
           OR {EB}.audited <> excluded.audited OR {EB}.basis <> excluded.basis""",
        {
            "ys": dparam(c.year_start),
            "year": c.year,
            "prev": dparam(prev_start),
            "jid": jid,
            "run": run_id,
            "now": tparam(now),
        },
    )
    return Counter({"employer_bases": execute(sql, params)})
