"""个人缴费基数 for a base year, as named steps over a staging table."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from enrollment.bounds import MAX_MONTHLY_WAGE
from enrollment.models import Employer, EnrolmentSpan

from ..models import (
    ContributionBase,
    WageDeclaration,
)
from ..rules import BASE_SCALE, CENTS, RATE_SCALE, BaseConstants
from .dialect import (
    _named,
    base_units,
    cents,
    div_half_up,
    dparam,
    execute,
    fetchall,
    from_base_units,
    is_postgres,
    lit,
    t,
    text_lit,
    tparam,
)
from .spans import _latest_span_sql, jurisdiction_id

# --- bases ------------------------------------------------------------------------------------

STAGE = "contrib_base_stage"
#: A monthly wage above the product bound (enrollment.bounds) cannot be computed: the person is skipped.
MAX_WAGE_U = int(MAX_MONTHLY_WAGE * BASE_SCALE)
WAGE_OUT_OF_BOUNDS = "wage_out_of_bounds"


def _stage_create() -> None:
    execute(f"DROP TABLE IF EXISTS {STAGE}")
    execute(
        f"""CREATE TEMPORARY TABLE {STAGE} (
            person_id BIGINT PRIMARY KEY, category VARCHAR(16), employer_id BIGINT,
            wage_u BIGINT, base_u BIGINT, basis VARCHAR(16),
            cf INTEGER, cc INTEGER, raised INTEGER, err VARCHAR(80))"""
    )


@dataclass(frozen=True)
class BaseChunk:
    """What one base computation works on: the year's constants, the chunk ``lo <= id < hi``, the window
    the person's latest span must overlap, and the run that writes."""

    c: BaseConstants
    lo: int
    hi: int
    window: tuple[date, date]
    run_id: int | None
    now: datetime
    only_stale: bool = False

    @property
    def jid(self) -> int:
        return jurisdiction_id(self.c.jurisdiction)

    def params(self, jid: int) -> dict[str, Any]:
        c = self.c
        prev_start = date(c.year_start.year - 1, c.year_start.month, c.year_start.day)
        return {
            "lo": self.lo,
            "hi": self.hi,
            "jid": jid,
            "year": c.year,
            "ys": dparam(c.year_start),
            "prev": dparam(prev_start),
            "w_from": dparam(self.window[0]),
            "w_to": dparam(self.window[1]),
        }


def bases_upsert(
    c: BaseConstants,
    *,
    lo: int,
    hi: int,
    window: tuple[date, date],
    run_id: int | None,
    now: datetime,
    only_stale: bool = False,
    refused: list[tuple[int, str]] | None = None,
) -> Counter:
    """Compute the year's base of every paying person of the chunk whose latest span overlaps ``window``.

    The rule (contributions.calculations.contribution.individual_base), per category:
    employee — the declared monthly wage (or last year's total ÷ 12), the first-pay-month
    wage of a new employee, the unknown-wage default, or (langfang 第二十一条, D-L19) the
    previous year's base + 10% when the employer did not declare for the year; then
    clamped to floor (the difficult-enterprise floor when certified) and ceiling.
    flexible / unemployed — a fixed base. ``only_stale``: only persons whose stored base
    does not match their span (joined or moved during the year). A wage above the product
    bound (a poisoned row) is not computed: counted as ``wage_out_of_bounds`` and, when
    ``refused`` is given, appended there as ``(person_id, reason)`` (the run lists it).

    Counts: recomputed, unchanged, raised_by_penalty, clamped_floor, clamped_ceiling,
    missing_wage, missing:<parameter>.
    """
    chunk = BaseChunk(c, lo, hi, window, run_id, now, only_stale)
    jid = chunk.jid
    p = chunk.params(jid)
    _stage_create()
    _stage_fill(chunk, _raw_bases_sql(chunk), p)
    counts = _stage_counts(chunk, jid, p["ys"])
    if refused is not None and counts.get(WAGE_OUT_OF_BOUNDS):
        refused.extend(_refused_wages())
    _bases_write(jid, p["ys"], run_id, now)
    execute(f"DROP TABLE {STAGE}")
    return counts


def _refused_wages() -> list[tuple[int, str]]:
    """(person_id, reason) of the staged persons whose wage is out of bounds."""
    out = []
    for person_id, wage_u in fetchall(
        f"SELECT person_id, wage_u FROM {STAGE} WHERE err = %s ORDER BY person_id", [WAGE_OUT_OF_BOUNDS]
    ):
        wage = Decimal(wage_u) / BASE_SCALE
        reason = f"{WAGE_OUT_OF_BOUNDS}: 月工资 {wage:,.2f} 超出合理范围（不超过 {MAX_MONTHLY_WAGE:,}），未核定基数"
        out.append((person_id, reason))
    return out


def _wage_sql(c: BaseConstants) -> tuple[str, str]:
    """An employee's wage source and wage (in 0.0001 yuan), in priority order: the langfang penalty
    uplift (第二十一条, D-L19) when the employer did not declare, the first-pay-month or declared wage
    (monthly, or last year's total ÷ 12), then the unknown-wage default."""
    D = t(WageDeclaration)
    audited = f"EXISTS (SELECT 1 FROM {D} d2 WHERE d2.employer_id = s.employer_id AND d2.year = %(year)s)"
    declared_u = (
        f"CASE WHEN d.monthly_wage IS NOT NULL THEN {base_units('d.monthly_wage')} "
        f"ELSE {div_half_up(cents('d.annual_wage_total') + f' * {BASE_SCALE // CENTS}', 12)} END"
    )
    src_cases, wage_cases = [], []
    if c.uplift is not None:
        penalty = f"(NOT {audited} AND pb.id IS NOT NULL)"
        src_cases.append(f"WHEN {penalty} THEN 'penalty_uplift'")
        wage_cases.append(f"WHEN {penalty} THEN {div_half_up(base_units('pb.base') + f' * {c.uplift}', RATE_SCALE)}")
    src_cases += [
        "WHEN d.id IS NOT NULL AND d.first_pay_month IS NOT NULL THEN 'first_month'",
        "WHEN d.id IS NOT NULL THEN 'declared'",
    ]
    wage_cases.append(f"WHEN d.id IS NOT NULL THEN {declared_u}")
    if c.unknown is not None:
        src_cases.append("WHEN 1 = 1 THEN 'default_unknown'")
        wage_cases.append(f"WHEN 1 = 1 THEN {c.unknown}")
    return f"CASE {' '.join(src_cases)} ELSE NULL END", f"CASE {' '.join(wage_cases)} ELSE NULL END"


_DIFFICULT = (
    "(e.is_difficult AND (e.difficult_from IS NULL OR e.difficult_from <= %(ys)s) "
    "AND (e.difficult_until IS NULL OR e.difficult_until > %(ys)s))"
)


def _raw_bases_sql(chunk: BaseChunk) -> str:
    """Each paying person's category, employer, wage source, wage and floor (the difficult-enterprise
    floor when certified for the year start) from the latest span overlapping the window."""
    c = chunk.c
    S, E, D, B = t(EnrolmentSpan), t(Employer), t(WageDeclaration), t(ContributionBase)
    src, wage = _wage_sql(c)
    floor = f"CASE WHEN {_DIFFICULT} THEN {lit(c.difficult_floor)} ELSE {lit(c.floor)} END"
    difficult_err = text_lit(c.missing.get("difficult_floor"))
    stale = ""
    if chunk.only_stale:
        stale = f"""AND NOT EXISTS (SELECT 1 FROM {B} b WHERE b.person_id = s.person_id AND b.year_start = %(ys)s
            AND b.person_id >= %(lo)s AND b.person_id < %(hi)s
            AND b.category = s.category AND b.jurisdiction_id = s.jurisdiction_id
            AND COALESCE(b.employer_id, 0) = COALESCE(s.employer_id, 0))"""
    return f"""
        SELECT s.person_id AS person_id, s.category AS category, s.employer_id AS employer_id,
               CASE WHEN s.category = 'employee' THEN {src}
                    WHEN s.category = 'flexible' THEN 'flexible' ELSE 'unemployed' END AS src,
               CASE WHEN s.category = 'employee' THEN {wage} ELSE NULL END AS wage_u,
               CASE WHEN s.category = 'employee' THEN {floor} ELSE NULL END AS floor_u,
               CASE WHEN s.category = 'employee' AND {_DIFFICULT} THEN {difficult_err} ELSE NULL END AS floor_err
        FROM {S} s
        LEFT JOIN {E} e ON e.id = s.employer_id
        LEFT JOIN {D} d ON d.person_id = s.person_id AND d.employer_id = s.employer_id AND d.year = %(year)s
             AND d.person_id >= %(lo)s AND d.person_id < %(hi)s
        LEFT JOIN {B} pb ON pb.person_id = s.person_id AND pb.year_start = %(prev)s
             AND pb.person_id >= %(lo)s AND pb.person_id < %(hi)s
             AND pb.category = 'employee' AND pb.employer_id = s.employer_id
        WHERE s.jurisdiction_id = %(jid)s AND s.category IN ('employee', 'flexible', 'unemployed')
          AND {_latest_span_sql("%(w_from)s", "%(w_to)s")} {stale}
    """


def _stage_fill(chunk: BaseChunk, raw: str, p: dict[str, Any]) -> None:
    """Stage each person's base: clamp(wage, floor, ceiling) for employees, the fixed base otherwise;
    the basis (floor / ceiling / source), the clamp flags and the missing-parameter error."""
    c = chunk.c
    ceiling = lit(c.ceiling)
    employee_err = text_lit(c.employee_error or None)
    flexible_err = text_lit(c.missing.get("flexible"))
    unemployed_err = text_lit(c.missing.get("unemployed"))
    err = f"""CASE
        WHEN r.category = 'employee' THEN COALESCE({employee_err}, r.floor_err,
             CASE WHEN r.wage_u IS NULL THEN 'missing_wage'
                  WHEN r.wage_u > {MAX_WAGE_U} THEN '{WAGE_OUT_OF_BOUNDS}' END)
        WHEN r.category = 'flexible' THEN {flexible_err}
        ELSE {unemployed_err} END"""
    has_ceiling = c.ceiling is not None
    cc = f"(r.wage_u > {ceiling})" if has_ceiling else "(1 = 0)"
    emp_base = f"""CASE WHEN r.wage_u < r.floor_u THEN r.floor_u
        {f"WHEN r.wage_u > {ceiling} THEN {ceiling}" if has_ceiling else ""} ELSE r.wage_u END"""
    base = f"""CASE WHEN r.category = 'employee' THEN {emp_base}
        WHEN r.category = 'flexible' THEN {lit(c.flexible)} ELSE {lit(c.unemployed)} END"""
    basis = f"""CASE WHEN r.category <> 'employee' OR r.src = 'penalty_uplift' THEN r.src
        WHEN r.wage_u < r.floor_u THEN 'floor' WHEN {cc} THEN 'ceiling' ELSE r.src END"""
    emp = "r.category = 'employee'"
    sql, params = _named(
        f"""INSERT INTO {STAGE} (person_id, category, employer_id, wage_u, base_u, basis, cf, cc, raised, err)
        SELECT person_id, category, employer_id, wage_u, base_u, basis, cf, cc, raised, err FROM (
            SELECT r.person_id, r.category, r.employer_id, r.wage_u, {base} AS base_u, {basis} AS basis,
                CASE WHEN {emp} AND r.wage_u < r.floor_u THEN 1 ELSE 0 END AS cf,
                CASE WHEN {emp} AND {cc} THEN 1 ELSE 0 END AS cc,
                CASE WHEN r.src = 'penalty_uplift' THEN 1 ELSE 0 END AS raised,
                {err} AS err
            FROM ({raw}) r
        ) x""",
        p,
    )
    execute(sql, params)
    if is_postgres():
        execute(f"ANALYZE {STAGE}")


def _stage_counts(chunk: BaseChunk, jid: int, ys: Any) -> Counter:
    """Count the staged rows: errors by kind, and how many differ from the stored bases."""
    B = t(ContributionBase)
    counts: Counter = Counter()
    for key, n in fetchall(f"SELECT err, COUNT(*) FROM {STAGE} WHERE err IS NOT NULL GROUP BY err"):
        counts[key] += n
    changed = f"""(b.id IS NULL OR b.jurisdiction_id <> %s OR b.category <> st.category
        OR {base_units("b.base")} <> st.base_u OR b.basis <> st.basis
        OR (b.employer_id IS NULL) <> (st.employer_id IS NULL) OR b.employer_id <> st.employer_id
        OR (b.wage IS NULL) <> (st.wage_u IS NULL) OR {base_units("b.wage")} <> st.wage_u)"""
    row = fetchall(
        f"""SELECT
            SUM(CASE WHEN {changed} THEN 1 ELSE 0 END),
            SUM(CASE WHEN {changed} THEN 0 ELSE 1 END),
            SUM(CASE WHEN {changed} THEN st.raised ELSE 0 END),
            SUM(CASE WHEN {changed} THEN st.cf ELSE 0 END),
            SUM(CASE WHEN {changed} THEN st.cc ELSE 0 END)
        FROM {STAGE} st LEFT JOIN {B} b ON b.person_id = st.person_id AND b.year_start = %s
            AND b.person_id >= %s AND b.person_id < %s
        WHERE st.err IS NULL""",
        [jid, jid, jid, jid, jid, ys, chunk.lo, chunk.hi],
    )[0]
    for key, value in zip(
        ("recomputed", "unchanged", "raised_by_penalty", "clamped_floor", "clamped_ceiling"), row, strict=True
    ):
        counts[key] += int(value or 0)
    return counts


def _bases_write(jid: int, ys: Any, run_id: int | None, now: datetime) -> None:
    """Upsert the staged bases without error; a stored base that is already the same is not touched."""
    B = t(ContributionBase)
    updates = ", ".join(
        f"{col} = excluded.{col}"
        for col in ("jurisdiction_id", "category", "employer_id", "wage", "base", "basis", "run_id", "updated_at")
    )
    execute(
        f"""INSERT INTO {B} (person_id, jurisdiction_id, year_start, category, employer_id, wage, base, basis,
                run_id, updated_at)
        SELECT person_id, %s, %s, category, employer_id, {from_base_units("wage_u")}, {from_base_units("base_u")},
               basis, %s, %s
        FROM {STAGE} WHERE err IS NULL
        ON CONFLICT (person_id, year_start) DO UPDATE SET {updates}
        WHERE {B}.jurisdiction_id <> excluded.jurisdiction_id OR {B}.category <> excluded.category
           OR {B}.base <> excluded.base OR {B}.basis <> excluded.basis
           OR ({B}.employer_id IS NULL) <> (excluded.employer_id IS NULL)
           OR {B}.employer_id <> excluded.employer_id
           OR ({B}.wage IS NULL) <> (excluded.wage IS NULL) OR {B}.wage <> excluded.wage""",
        [jid, ys, run_id, tparam(now)],
    )
