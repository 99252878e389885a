"""Set-based statements of the contribution engine, for SQLite and PostgreSQL alike.

Each function works on the persons ``lo <= id < hi`` of one jurisdiction, in the caller's
transaction, and returns counts by kind. The rules' numbers come from :mod:`contributions.rules`
(which asks the scalar rule functions for them); here they are applied to whole sets:

* :func:`bases_upsert` — 个人缴费基数 for a base year (annual reset, and bases for people who
  joined or moved during the year): ``clamp(wage, floor, ceiling)`` or a fixed base;
* :func:`dues_insert` — 应缴 for one month: ``money(base × rate)`` per bill line;
* :func:`fees_accrue` — 滞纳金: ``money(unpaid × daily rate × days past due outside deferrals)``;
* :func:`payments_allocate` — 冲抵: payments to the oldest unpaid dues, principal with its fee.

Arithmetic is done in integers so both databases compute exactly the same amounts:
bases in 0.0001 yuan, money in fen, rates in millionths; rounding is half-up (D-X12).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Model

from config.models import Jurisdiction
from config.policy import Policy
from enrollment.bounds import MAX_MONTHLY_WAGE
from enrollment.models import Employer, EnrolmentSpan, InsuredPerson

from .models import (
    ContributionBase,
    Deferral,
    EmployerBase,
    MonthlyDue,
    Payment,
    PaymentAllocation,
    WageDeclaration,
)
from .periods import add_months, base_year_start
from .rules import BASE_SCALE, CENTS, RATE_SCALE, BaseConstants, MonthConstants

# 1e-4 yuan × 1e-6 = 1e-10 yuan; one fen is 1e8 of those.
BASE_RATE_TO_CENTS = BASE_SCALE * RATE_SCALE // CENTS
#: A monthly wage above the product bound (enrollment.bounds) cannot be computed: the person is skipped.
MAX_WAGE_U = int(MAX_MONTHLY_WAGE * BASE_SCALE)
WAGE_OUT_OF_BOUNDS = "wage_out_of_bounds"
PAYING_CATEGORIES = ("employee", "flexible", "unemployed")


# --- portable SQL fragments -------------------------------------------------------------------


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def t(model: type[Model]) -> str:
    return q(model._meta.db_table)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def day_number(expr: str) -> str:
    """A date as an integer day number equal to Python's ``date.toordinal()``."""
    if is_postgres():
        return f"(({expr}) - DATE '0001-01-01' + 1)"
    return f"(CAST(julianday({expr}) AS INTEGER) - 1721424)"


def greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if is_postgres() else f"MAX({a}, {b})"


def least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if is_postgres() else f"MIN({a}, {b})"


def to_int(expr: str) -> str:
    return f"CAST(ROUND({expr}) AS BIGINT)"


def cents(expr: str) -> str:
    return to_int(f"({expr}) * {CENTS}")


def base_units(expr: str) -> str:
    return to_int(f"({expr}) * {BASE_SCALE}")


def div_half_up(num: str, den: int) -> str:
    """Integer division rounded half-up, for non-negative ``num``."""
    return f"((({num}) + {den // 2}) / {den})"


def from_cents(expr: str) -> str:
    return f"(({expr}) / {CENTS}.0)"


def from_base_units(expr: str) -> str:
    return f"(({expr}) / {BASE_SCALE}.0)"


def lit(value: int | None) -> str:
    return "CAST(NULL AS BIGINT)" if value is None else str(int(value))


def text_lit(value: str | None) -> str:
    if value is None:
        return "CAST(NULL AS VARCHAR(80))"
    return "'" + value.replace("'", "''") + "'"


def dparam(value: date | None) -> Any:
    return connection.ops.adapt_datefield_value(value)


def tparam(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def execute(sql: str, params: Sequence[Any] = ()) -> int:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def fetchall(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def tune() -> None:
    """Per-transaction settings for a batch chunk on PostgreSQL.

    ``jit = off``: each chunk statement is estimated expensive enough to be JIT-compiled, which
    costs ~80 ms per statement and buys nothing on 10 000-person chunks.
    ``synchronous_commit = off``: the chunk's commit does not wait for the WAL flush. A crash can
    lose the last chunks committed, but only whole: their data and their "done" mark are in the
    same transaction, so :func:`config.batch.resume_run` runs them again (chunks are idempotent).
    """
    if is_postgres():
        execute("SET LOCAL jit = off")
        execute("SET LOCAL synchronous_commit = off")


def analyze(*models: type[Model]) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load (autovacuum lags behind batch work)."""
    if is_postgres():
        for model in models:
            execute(f"ANALYZE {t(model)}")


def jurisdiction_id(code: str) -> int:
    return Jurisdiction.objects.values_list("pk", flat=True).get(code=code)


def jurisdictions_in_range(lo: int, hi: int) -> list[str]:
    """Codes of the jurisdictions that have enrolment spans of persons in ``[lo, hi)``."""
    ids = (
        EnrolmentSpan.objects.filter(person_id__gte=lo, person_id__lt=hi)
        .values_list("jurisdiction_id", flat=True)
        .distinct()
    )
    return list(Jurisdiction.objects.filter(pk__in=list(ids)).order_by("code").values_list("code", flat=True))


# --- the span a person is billed on ----------------------------------------------------------


def _latest_span_sql(w_from: str, w_to: str) -> str:
    """Spans of the chunk that overlap ``[w_from, w_to)`` and are the person's latest starting one there."""
    S = t(EnrolmentSpan)
    start, end = q("start"), q("end")
    return f"""
        s.person_id >= %(lo)s AND s.person_id < %(hi)s
        AND s.{start} < {w_to} AND (s.{end} IS NULL OR s.{end} > {w_from})
        AND NOT EXISTS (
            SELECT 1 FROM {S} s2
            WHERE s2.person_id = s.person_id AND s2.person_id >= %(lo)s AND s2.person_id < %(hi)s
              AND s2.{start} < {w_to} AND (s2.{end} IS NULL OR s2.{end} > {w_from})
              AND (s2.{start} > s.{start} OR (s2.{start} = s.{start} AND s2.id > s.id))
        )"""


def _named(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """Turn ``%(name)s`` placeholders into positional ``%s`` (Django's cursor takes both, SQLite only one)."""
    out: list[Any] = []
    parts = sql.split("%(")
    text = parts[0]
    for part in parts[1:]:
        name, rest = part.split(")s", 1)
        out.append(params[name])
        text += "%s" + rest
    return text, out


# --- bases ------------------------------------------------------------------------------------

STAGE = "contrib_base_stage"


def _stage_create() -> None:
    execute(f"DROP TABLE IF EXISTS {STAGE}")
    execute(
        f"""CREATE TEMPORARY TABLE {STAGE} (
            person_id BIGINT PRIMARY KEY, category VARCHAR(16), employer_id BIGINT,
            wage_u BIGINT, base_u BIGINT, basis VARCHAR(16),
            cf INTEGER, cc INTEGER, raised INTEGER, err VARCHAR(80))"""
    )


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
    S, E, D, B = t(EnrolmentSpan), t(Employer), t(WageDeclaration), t(ContributionBase)
    jid = jurisdiction_id(c.jurisdiction)
    prev_start = date(c.year_start.year - 1, c.year_start.month, c.year_start.day)
    p = {
        "lo": lo,
        "hi": hi,
        "jid": jid,
        "year": c.year,
        "ys": dparam(c.year_start),
        "prev": dparam(prev_start),
        "w_from": dparam(window[0]),
        "w_to": dparam(window[1]),
    }

    # Source of an employee's wage, in priority order.
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
    src = f"CASE {' '.join(src_cases)} ELSE NULL END"
    wage = f"CASE {' '.join(wage_cases)} ELSE NULL END"
    difficult = (
        "(e.is_difficult AND (e.difficult_from IS NULL OR e.difficult_from <= %(ys)s) "
        "AND (e.difficult_until IS NULL OR e.difficult_until > %(ys)s))"
    )
    floor = f"CASE WHEN {difficult} THEN {lit(c.difficult_floor)} ELSE {lit(c.floor)} END"
    difficult_err = text_lit(c.missing.get("difficult_floor"))
    stale = ""
    if only_stale:
        stale = f"""AND NOT EXISTS (SELECT 1 FROM {B} b WHERE b.person_id = s.person_id AND b.year_start = %(ys)s
            AND b.person_id >= %(lo)s AND b.person_id < %(hi)s
            AND b.category = s.category AND b.jurisdiction_id = s.jurisdiction_id
            AND COALESCE(b.employer_id, 0) = COALESCE(s.employer_id, 0))"""
    raw = f"""
        SELECT s.person_id AS person_id, s.category AS category, s.employer_id AS employer_id,
               CASE WHEN s.category = 'employee' THEN {src}
                    WHEN s.category = 'flexible' THEN 'flexible' ELSE 'unemployed' END AS src,
               CASE WHEN s.category = 'employee' THEN {wage} ELSE NULL END AS wage_u,
               CASE WHEN s.category = 'employee' THEN {floor} ELSE NULL END AS floor_u,
               CASE WHEN s.category = 'employee' AND {difficult} THEN {difficult_err} ELSE NULL END AS floor_err
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
    _stage_create()
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
    counts: Counter = Counter()
    for key, n in fetchall(f"SELECT err, COUNT(*) FROM {STAGE} WHERE err IS NOT NULL GROUP BY err"):
        counts[key] += n
    if refused is not None and counts.get(WAGE_OUT_OF_BOUNDS):
        for person_id, wage_u in fetchall(
            f"SELECT person_id, wage_u FROM {STAGE} WHERE err = %s ORDER BY person_id", [WAGE_OUT_OF_BOUNDS]
        ):
            wage = Decimal(wage_u) / BASE_SCALE
            reason = f"{WAGE_OUT_OF_BOUNDS}: 月工资 {wage:,.2f} 超出合理范围（不超过 {MAX_MONTHLY_WAGE:,}），未核定基数"
            refused.append((person_id, reason))
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
        [jid, jid, jid, jid, jid, p["ys"], lo, hi],
    )[0]
    for key, value in zip(
        ("recomputed", "unchanged", "raised_by_penalty", "clamped_floor", "clamped_ceiling"), row, strict=True
    ):
        counts[key] += int(value or 0)
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
        [jid, p["ys"], run_id, tparam(now)],
    )
    execute(f"DROP TABLE {STAGE}")
    return counts


# --- monthly dues -----------------------------------------------------------------------------


def _rates_table(mc: MonthConstants) -> str:
    """The month's rate rows as a derived table (column1…): category, fiscal, scheme, er, ir, mr, err, a0, a1…"""
    width = max((len(r.account) for r in mc.rows), default=1) or 1
    values = []
    for r in mc.rows:
        acct = list(r.account) + [None] * (width - len(r.account))
        cells = [
            text_lit(r.category),
            str(r.fiscal),
            text_lit(r.scheme),
            lit(r.employer),
            lit(r.individual),
            lit(r.maternity),
            text_lit(r.error or None),
            *[lit(a) for a in acct],
        ]
        values.append("(" + ", ".join(cells) + ")")
    names = ["category", "fiscal", "scheme", "er", "ir", "mr", "err"] + [f"a{i}" for i in range(width)]
    cols = ", ".join(f"v.column{i + 1} AS {n}" for i, n in enumerate(names))
    return f"(SELECT {cols} FROM (VALUES {', '.join(values)}) AS v)", width


def dues_insert(
    mc: MonthConstants,
    *,
    lo: int,
    hi: int,
    frequency_filter: str,
    due_date: date | None,
    run_id: int | None,
    now: datetime,
) -> Counter:
    """Bill the month for the chunk: insert missing dues; re-bill dues nothing of which is paid yet
    if their base or rates changed since (a declaration corrected after billing); leave the rest.

    ``frequency_filter`` is an SQL condition on ``e`` (the employer, may be NULL) choosing
    the persons billed under this payment period. Lines: employer, individual, maternity
    = money(base × rate); personal account = money(base × account rate of the age band in
    the month, D-S5); pool = employer + individual − account; critical illness = the
    monthly premium (hunan 第五十三条). Counts: generated, recalculated, existing, no_base,
    missing:<parameter> (the caller adds missing:contribution.due_day for dues without a deadline).
    """
    S, E, P, B, DU, DF = (
        t(EnrolmentSpan),
        t(Employer),
        t(InsuredPerson),
        t(ContributionBase),
        t(MonthlyDue),
        t(Deferral),
    )
    jid = jurisdiction_id(mc.jurisdiction)
    month = mc.month
    next_month = add_months(month, 1)
    ys = base_year_start(Policy(mc.jurisdiction, month), month)
    rates, width = _rates_table(mc)
    p = {
        "lo": lo,
        "hi": hi,
        "jid": jid,
        "m": dparam(month),
        "w_from": dparam(month),
        "w_to": dparam(next_month),
        "ys": dparam(ys),
        "dd": dparam(due_date),
    }
    account = "r.a0"
    for i, threshold in enumerate(mc.band_thresholds, start=1):
        if i < width:
            account = f"CASE WHEN pe.birth_date <= {text_lit(threshold.isoformat())} THEN r.a{i} ELSE {account} END"
    fiscal = "CASE WHEN e.kind = 'fiscal_institution' THEN 1 ELSE 0 END"
    crit = lit(mc.critical_illness_cents)
    base_match = """b.person_id = s.person_id AND b.year_start = %(ys)s AND b.category = s.category
        AND b.person_id >= %(lo)s AND b.person_id < %(hi)s
        AND b.jurisdiction_id = s.jurisdiction_id AND COALESCE(b.employer_id, 0) = COALESCE(s.employer_id, 0)"""
    where = f"""s.jurisdiction_id = %(jid)s AND s.category IN ('employee', 'flexible', 'unemployed')
        AND ({frequency_filter}) AND {_latest_span_sql("%(w_from)s", "%(w_to)s")}"""
    frm = f"""FROM {S} s
        LEFT JOIN {E} e ON e.id = s.employer_id
        JOIN {P} pe ON pe.id = s.person_id AND pe.id >= %(lo)s AND pe.id < %(hi)s
        LEFT JOIN {rates} r ON r.category = s.category AND r.scheme = s.scheme AND r.fiscal = {fiscal}
        LEFT JOIN {B} b ON {base_match}"""
    counts: Counter = Counter()
    sql, params = _named(
        f"""SELECT CASE WHEN r.err IS NOT NULL THEN r.err WHEN b.id IS NULL THEN 'no_base' ELSE 'ok' END, COUNT(*)
        {frm} WHERE {where} GROUP BY 1""",
        p,
    )
    billable = 0
    for key, n in fetchall(sql, params):
        if key == "ok":
            billable = n
        else:
            counts[key] += n
    if not billable:
        return counts
    deferred = "FALSE"
    if due_date is not None:
        deferred = f"""EXISTS (SELECT 1 FROM {DF} df WHERE df.employer_id = x.employer_id
            AND df.{q("start")} <= %(dd)s AND df.{q("end")} > %(dd)s)"""
    sql, params = _named(
        f"""INSERT INTO {DU} (person_id, employer_id, jurisdiction_id, month, category, scheme, base,
            employer_amount, individual_amount, maternity_amount, critical_illness_amount, personal_account_amount,
            pool_amount, total, due_date, paid_principal, settled_on, late_fee, late_fee_paid, deferred,
            back_payment_bill_id, run_id, created_at)
        SELECT x.person_id, x.employer_id, %(jid)s, %(m)s, x.category, x.scheme, x.base,
            {from_cents("x.er_c")}, {from_cents("x.ir_c")}, {from_cents("x.mr_c")}, {from_cents("x.crit_c")},
            {from_cents("x.acct_c")}, {from_cents("x.er_c + x.ir_c - x.acct_c")},
            {from_cents("x.er_c + x.ir_c + COALESCE(x.mr_c, 0) + COALESCE(x.crit_c, 0)")},
            %(dd)s, 0, NULL, 0, 0, {deferred}, NULL, %(run)s, %(now)s
        FROM (
            SELECT s.person_id, s.employer_id, s.category, s.scheme, b.base,
                {div_half_up(f"{base_units('b.base')} * r.er", BASE_RATE_TO_CENTS)} AS er_c,
                {div_half_up(f"{base_units('b.base')} * r.ir", BASE_RATE_TO_CENTS)} AS ir_c,
                {div_half_up(f"{base_units('b.base')} * r.mr", BASE_RATE_TO_CENTS)} AS mr_c,
                {div_half_up(f"{base_units('b.base')} * ({account})", BASE_RATE_TO_CENTS)} AS acct_c,
                {crit} AS crit_c
            {frm} WHERE {where} AND r.err IS NULL AND b.id IS NOT NULL
        ) x
        WHERE 1 = 1
        ON CONFLICT (person_id, month) DO UPDATE SET {", ".join(f"{c} = excluded.{c}" for c in _REBILL)}
        WHERE {DU}.paid_principal = 0 AND {DU}.late_fee_paid = 0 AND {DU}.settled_on IS NULL
          AND {DU}.back_payment_bill_id IS NULL AND {DU}.jurisdiction_id = excluded.jurisdiction_id
          AND ({" OR ".join(_differs(DU, c) for c in _REBILL if c not in ("run_id", "deferred"))})""",
        {**p, "run": run_id, "now": tparam(now)},
    )
    existing_sql = f"SELECT COUNT(*) FROM {DU} WHERE person_id >= %s AND person_id < %s AND month = %s"
    before = fetchall(existing_sql, [lo, hi, p["m"]])[0][0]
    written = execute(sql, params)
    inserted = fetchall(existing_sql, [lo, hi, p["m"]])[0][0] - before
    counts["generated"] += inserted
    counts["recalculated"] += written - inserted
    counts["existing"] += billable - written
    return counts


# Columns of a due that follow the person's base and rates while nothing of it is paid yet.
_REBILL = (
    "employer_id",
    "category",
    "scheme",
    "base",
    "employer_amount",
    "individual_amount",
    "maternity_amount",
    "critical_illness_amount",
    "personal_account_amount",
    "pool_amount",
    "total",
    "due_date",
    "deferred",
    "run_id",
)


def _differs(table: str, column: str) -> str:
    """Null-safe "the stored value differs from the new one" (portable: no IS DISTINCT FROM)."""
    old, new = f"{table}.{column}", f"excluded.{column}"
    return f"(({old} IS NULL) <> ({new} IS NULL) OR {old} <> {new})"


def retiree_premiums_insert(
    mc: MonthConstants, *, lo: int, hi: int, due_date: date | None, run_id: int | None, now: datetime
) -> Counter:
    """hunan 第五十三条: retirees pay the 大病保险 premium too (monthly, 第五十四条); no basic contribution."""
    counts: Counter = Counter()
    if not mc.critical_illness_cents:
        return counts
    S, DU = t(EnrolmentSpan), t(MonthlyDue)
    month = mc.month
    next_month = add_months(month, 1)
    crit = from_cents(lit(mc.critical_illness_cents))
    sql, params = _named(
        f"""INSERT INTO {DU} (person_id, employer_id, jurisdiction_id, month, category, scheme, base,
            employer_amount, individual_amount, maternity_amount, critical_illness_amount, personal_account_amount,
            pool_amount, total, due_date, paid_principal, settled_on, late_fee, late_fee_paid, deferred,
            back_payment_bill_id, run_id, created_at)
        SELECT s.person_id, NULL, %(jid)s, %(m)s, s.category, s.scheme, 0, 0, 0, NULL, {crit}, 0, 0, {crit},
            %(dd)s, 0, NULL, 0, 0, FALSE, NULL, %(run)s, %(now)s
        FROM {S} s
        WHERE s.jurisdiction_id = %(jid)s AND s.category = 'retiree' AND {_latest_span_sql("%(w_from)s", "%(w_to)s")}
        ON CONFLICT (person_id, month) DO NOTHING""",
        {
            "lo": lo,
            "hi": hi,
            "jid": jurisdiction_id(mc.jurisdiction),
            "m": dparam(month),
            "w_from": dparam(month),
            "w_to": dparam(next_month),
            "dd": dparam(due_date),
            "run": run_id,
            "now": tparam(now),
        },
    )
    n = execute(sql, params)
    counts["generated_retiree_premium"] += n
    return counts


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


def fees_accrue(jurisdiction: str, *, lo: int, hi: int, as_of: date, rate: int | None) -> Counter:
    """Recompute the accrued fee of every unsettled due of the chunk (idempotent: a second run changes nothing).

    late_fee = late_fee_paid + money(unpaid principal × rate × days past due outside deferrals);
    ``deferred`` marks dues that fell due inside a deferral. Counts: accrued (rows changed),
    in_arrears (unsettled dues past their due date), missing:contribution.late_fee_daily_pct.
    """
    DU = t(MonthlyDue)
    jid = jurisdiction_id(jurisdiction)
    counts: Counter = Counter()
    as_of_p = dparam(as_of)
    overdue = fetchall(
        f"""SELECT COUNT(*) FROM {DU} WHERE person_id >= %s AND person_id < %s AND jurisdiction_id = %s
            AND settled_on IS NULL AND due_date IS NOT NULL AND due_date < %s""",
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
        WHERE u.person_id >= %s AND u.person_id < %s AND u.jurisdiction_id = %s
          AND u.settled_on IS NULL AND u.due_date IS NOT NULL
          AND (u.due_date < %s OR u.late_fee <> u.late_fee_paid OR u.deferred)
          AND ({cents("u.late_fee")} <> {new_fee} OR {flag_differs})""",
        [lo, hi, jid, as_of_p],
    )
    counts["accrued"] += n
    return counts


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
