"""Payroll import (工资申报): validate a file for one employer and upsert its wage declarations."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from batch.dialect import is_postgres
from enrollment.bounds import MAX_MONTHLY_WAGE, MIN_BUSINESS_DATE
from enrollment.models import Category, Employer, EnrolmentSpan, InsuredPerson
from policy.resolver import Policy

from .. import periods
from ..inputs import MAX_ANNUAL_WAGE
from ..models import ImportJob, PayrollStagedRow, WageDeclaration
from .cells import (
    BAD,
    SLOW,
    fast_id,
    fast_money,
    fast_name,
    fast_none,
    parse_column,
    parse_id_cell,
    parse_money,
    parse_month_cell,
    parse_name_cell,
    parse_period,
)
from .columns import _LABEL, PAYROLL_COLUMNS, map_headers
from .readers import Table
from .validation import (
    ID_NOT_FOUND,
    ID_NOT_HERE,
    NOT_OUR_EMPLOYEE,
    PROGRESS_EVERY,
    Progress,
    RowError,
    Validation,
    _chunks,
)
from .writing import _write_all, _Writer


def contribution_year_bounds(jurisdiction: str, year: int, *, on: date) -> tuple[date, date]:
    """``[start, end)`` of the base year labelled ``year`` (:func:`contributions.periods.base_year_label`).

    langfang and sanmenxia: from 1 July (第二十一条, 第六条); elsewhere the calendar year.
    """
    policy = Policy(jurisdiction, on)
    return periods.base_year_bounds(policy, periods.base_year_start(policy, date(year, 12, 31)))


def contribution_year_of(jurisdiction: str, on: date) -> int:
    """The label of the base year that contains ``on``."""
    return periods.base_year_label(periods.base_year_start(Policy(jurisdiction, on), on))


def payroll_years(jurisdiction: str, as_of: date) -> tuple[int, int]:
    """The years a payroll may be declared for on ``as_of``: the current and the next contribution year."""
    current = contribution_year_of(jurisdiction, as_of)
    return current, current + 1


def employees_at(employer_id: int, start: date, end: date) -> set[int]:
    """Ids of persons with an 在职职工 span at the employer overlapping ``[start, end)``: one query."""
    return set(
        EnrolmentSpan.objects.filter(employer_id=employer_id, category=Category.EMPLOYEE, start__lt=end)
        .filter(Q(end__isnull=True) | Q(end__gt=start))
        .values_list("person_id", flat=True)
    )


def payroll_validate(
    table: Table,
    *,
    employer: Employer,
    as_of: date,
    job: ImportJob,
    default_year: int | None = None,
    progress: Progress | None = None,
    precise_ids: bool = True,
) -> Validation:
    """Check a payroll file for ``employer`` (dry run) and stage its valid rows for ``job``'s confirm
    (:class:`~contributions.models.PayrollStagedRow`, replacing an earlier dry run's). Writes no declaration.

    Rows must name a person enrolled as 在职职工 at this employer during the declared
    contribution year, which must be the current or the next one on ``as_of``.
    ``precise_ids`` False (an employer user uploads): "not registered" and "not at this employer"
    read the same, so the file cannot be used to learn whether a 身份证号 is registered elsewhere.

    Set-wise: the cells are parsed a column at a time (:func:`~.cells.parse_column`, the cell parsers'
    messages), the rows that parse are copied into a temporary table and their references checked there
    with joins (:func:`_check_and_stage`); the rows that pass are staged from it by one INSERT … SELECT.
    """
    index = map_headers(table.headers, PAYROLL_COLUMNS)
    jurisdiction = employer.jurisdiction.code
    allowed = payroll_years(jurisdiction, as_of)
    first_month = contribution_year_bounds(jurisdiction, allowed[0], on=as_of)[0].month
    result = Validation(total=len(table))

    def year_of(value: Any) -> int | None:
        period = parse_period(value)
        if period is None:
            if default_year is None:
                raise ValueError(f"年度未填写（应为 {allowed[0]} 或 {allowed[1]}）。")
            return default_year
        year, month = period
        if month is not None:  # a month → the contribution year containing it
            year = year if month >= first_month else year - 1
        if year not in allowed:
            raise ValueError(f"年度 {year} 不可申报：只能申报当前缴费年度 {allowed[0]} 或下一缴费年度 {allowed[1]}。")
        return year

    allowed_text = {str(y): y for y in allowed}

    def fast_year(value: Any) -> Any:
        """An allowed year as an int or its plain text (or the form's year for an empty cell): itself."""
        if value is None:
            return SLOW if default_year is None else default_year
        kind = type(value)
        if kind is int:
            return value if value in allowed else SLOW
        if kind is str:
            return allowed_text.get(value, SLOW)
        return SLOW

    def first_pay_month(value: Any) -> date | None:
        month = parse_month_cell(value, label="起薪月份")
        if month is not None and month < MIN_BUSINESS_DATE:
            raise ValueError(f"起薪月份不能早于 {MIN_BUSINESS_DATE:%Y-%m}。")
        return month

    # field → (fast path, cell parser); in this order a row's cell errors are listed.
    parsers = {
        "id_number": (fast_id, parse_id_cell),
        "name": (fast_name, parse_name_cell),
        # A wage of 0 is refused, and none above the product bound (enrollment.bounds): a typing error
        # there would overflow the yearly base reset (issue #12 item 5).
        "monthly_wage": (
            fast_money(MAX_MONTHLY_WAGE),
            lambda v: parse_money(v, label="月工资", positive=True, maximum=MAX_MONTHLY_WAGE),
        ),
        "annual_wage_total": (
            fast_money(MAX_ANNUAL_WAGE),
            lambda v: parse_money(v, label="上年工资总额", positive=True, maximum=MAX_ANNUAL_WAGE),
        ),
        "year": (fast_year, year_of),
        "first_pay_month": (fast_none, first_pay_month),
    }
    numbers = [number for number, _ in table.rows]
    count = len(numbers)
    columns: dict[str, list[Any]] = {f: [] for f in parsers}
    cell_errors: dict[str, list[tuple[int, str]]] = {f: [] for f in parsers}
    every = PROGRESS_EVERY
    for start in range(0, count, every):
        chunk = table.rows[start : start + every]
        for field_name, (fast, slow) in parsers.items():
            i = index.get(field_name)
            raw = [None] * len(chunk) if i is None else [c[i] if i < len(c) else None for _, c in chunk]
            values, errors = parse_column(raw, fast, slow)
            columns[field_name] += values
            cell_errors[field_name] += [(start + p, m) for p, m in errors]
        if progress and start + every <= count:
            progress((start + every) // 2)  # parsing is the first half of the work

    # Every error of a row is appended in the order the row checks were made; the list is sorted by row
    # at the end (a stable sort), so a row's errors read in that order.
    errors: list[RowError] = []
    bad = bytearray(count)

    def add(position: int, field_name: str, message: str, code: str = "") -> None:
        errors.append(RowError(numbers[position], _LABEL[field_name], message, code))
        bad[position] = 1

    for field_name in parsers:
        for position, message in cell_errors[field_name]:
            add(position, field_name, message)
    ids, names, years = columns["id_number"], columns["name"], columns["year"]
    monthly, annual = columns["monthly_wage"], columns["annual_wage_total"]
    for position, name in enumerate(names):
        if name is not BAD and not name:
            add(position, "name", "姓名未填写。")
    for position, (m, a) in enumerate(zip(monthly, annual, strict=True)):
        if m is None and a is None:
            add(position, "monthly_wage", "月工资和上年工资总额至少填写一项。")
    # Duplicates among all rows that name a person and a year, whatever else is wrong with them.
    seen: dict[tuple[str, int], list[int]] = defaultdict(list)
    for position, (number, year) in enumerate(zip(ids, years, strict=True)):
        if number is not BAD and year is not BAD:
            seen[(number, year)].append(position)
    for positions in seen.values():
        if len(positions) > 1:
            for p in positions:
                others = "、".join(str(numbers[o]) for o in positions if o != p)
                add(p, "id_number", f"同一人员同一年度在文件中重复：与第 {others} 行重复，请只保留一行。")

    # References, set-wise in a temporary table: the persons, each an employee of the employer in the year.
    candidates = [
        (numbers[p], ids[p], names[p], years[p], monthly[p], annual[p], columns["first_pay_month"][p])
        for p in range(count)
        if not bad[p]
    ]
    bounds = {y: contribution_year_bounds(jurisdiction, y, on=as_of) for y in allowed}
    with transaction.atomic():
        problems, counts = _check_and_stage(job, employer, candidates, bounds)
    if progress:
        progress(count * 3 // 4)
    for number, year, missing, here in problems:
        if missing:
            message = "未找到该身份证号的参保登记，请先办理参保登记。" if precise_ids else NOT_OUR_EMPLOYEE
            errors.append(RowError(number, _LABEL["id_number"], message, ID_NOT_FOUND))
        elif not here:
            message = f"该人员在 {year} 缴费年度未在本单位以在职职工身份参保。"
            errors.append(
                RowError(number, _LABEL["id_number"], message if precise_ids else NOT_OUR_EMPLOYEE, ID_NOT_HERE)
            )
        else:  # Do not show the registered name: the row may be someone else's person.
            errors.append(RowError(number, _LABEL["name"], "姓名与参保登记信息不一致，请核对身份证号和姓名。"))
    errors.sort(key=lambda e: e.row)
    result.errors = errors
    wrong = {number for number, *_ in problems}
    valid_years = {row[3] for row in candidates if row[0] not in wrong}
    result.summary = {
        "valid_rows": len(candidates) - len(wrong),
        "error_rows": result.error_rows,
        **counts,
        "years": sorted(valid_years),
        "allowed_years": list(allowed),
    }
    if progress:
        progress(count)
    return result


# --- staging: the dry run's valid rows, written once, confirmed from the database -------------------------

STAGED_COLUMNS = ("job_id", "row", "person_id", "year", "monthly_wage", "annual_wage_total", "first_pay_month")
#: The temporary table of a dry run's rows that parsed, their references checked by joins.
CHECK_TABLE = "contributions_payroll_check"
#: Row numbers per DELETE … IN (…) on SQLite (its limit on a statement's parameters).
SQLITE_BATCH = 500
CHECK_COLUMNS = ("line", "id_number", "name", "yr", "monthly_wage", "annual_wage_total", "first_pay_month")


def _check_and_stage(
    job: ImportJob,
    employer: Employer,
    candidates: list[tuple],
    bounds: dict[int, tuple[date, date]],
) -> tuple[list[tuple[int, int, bool, bool]], dict[str, int]]:
    """Check the references of the rows that parsed and stage those that pass, in the caller's transaction.

    The rows go into a temporary table (COPY on PostgreSQL); one query per declared year joins them with
    the register (身份证号) and the employer's 在职职工 spans in that contribution year and returns the rows
    that fail: ``(row, year, person missing, employee here)`` (a row with both is misnamed). On PostgreSQL
    the same statement stages the rows that pass (an INSERT in a WITH: one join, one snapshot); elsewhere
    the failed rows are deleted and the rest staged by an INSERT … SELECT. Then the declarations the staged
    rows would create, update or leave unchanged are counted against the table.
    """
    pg = is_postgres()
    person_table = InsuredPerson._meta.db_table
    q = connection.ops.quote_name
    span = EnrolmentSpan._meta
    span_col = {f: q(span.get_field(f).column) for f in ("person", "employer", "category", "start", "end")}
    staged = PayrollStagedRow._meta.db_table
    day = (lambda d: d) if pg else (lambda d: d and d.isoformat())
    temp = "pg_temp" if pg else "temp"
    tune_transaction()
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {temp}.{CHECK_TABLE}")  # a dry run before, in this transaction
        if pg:
            cur.execute(
                f"CREATE TEMPORARY TABLE {CHECK_TABLE} (line integer, id_number varchar(18), name text, "
                "yr smallint, monthly_wage numeric(14, 2), annual_wage_total numeric(14, 2), first_pay_month date) "
                "ON COMMIT DROP"
            )
            with cur.connection.cursor().copy(f"COPY {CHECK_TABLE} ({', '.join(CHECK_COLUMNS)}) FROM STDIN") as copy:
                for row in candidates:
                    copy.write_row(row)
            cur.execute(f"ANALYZE {CHECK_TABLE}")
        else:
            cur.execute(
                f"CREATE TEMPORARY TABLE {CHECK_TABLE} (line integer, id_number varchar(18), name text, "
                "yr smallint, monthly_wage decimal, annual_wage_total decimal, first_pay_month date)"
            )
            cur.executemany(
                f"INSERT INTO {CHECK_TABLE} ({', '.join(CHECK_COLUMNS)}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(*row[:6], day(row[6])) for row in candidates],
            )
        cur.execute(f"DELETE FROM {staged} WHERE job_id = %s", [job.pk])
        columns = ", ".join(q(c) for c in STAGED_COLUMNS)
        problems: list[tuple[int, int, bool, bool]] = []
        for year in sorted({row[3] for row in candidates}):
            start, end = bounds[year]
            # Every row of the year with its person, whether an 在职职工 span at the employer overlaps the
            # year, and whether the names differ.
            checked = f"""SELECT t.line, t.yr, p.id AS pid, t.monthly_wage, t.annual_wage_total, t.first_pay_month,
                             EXISTS (SELECT 1 FROM {span.db_table} s
                                     WHERE s.{span_col["person"]} = p.id AND s.{span_col["employer"]} = %s
                                       AND s.{span_col["category"]} = %s AND s.{span_col["start"]} < %s
                                       AND (s.{span_col["end"]} IS NULL OR s.{span_col["end"]} > %s)) AS here,
                             t.name <> '' AND REPLACE(t.name, ' ', '') <> REPLACE(p.name, ' ', '') AS misnamed
                      FROM {CHECK_TABLE} t LEFT JOIN {person_table} p ON p.id_number = t.id_number
                      WHERE t.yr = %s"""
            params = [employer.pk, Category.EMPLOYEE, day(end), day(start), year]
            wrong = "pid IS NULL OR NOT here OR misnamed"
            if pg:  # one statement: the rows that pass staged, those that fail returned (one join, one snapshot)
                cur.execute(
                    f"""WITH c AS MATERIALIZED ({checked}),
                             s AS (INSERT INTO {staged} ({columns})
                                   SELECT %s, line, pid, yr, monthly_wage, annual_wage_total, first_pay_month
                                   FROM c WHERE NOT ({wrong}))
                        SELECT line, yr, pid IS NULL, here FROM c WHERE {wrong} ORDER BY line""",
                    [*params, job.pk],
                )
                problems += [(row, y, bool(missing), bool(here)) for row, y, missing, here in cur.fetchall()]
                continue
            cur.execute(f"SELECT line, yr, pid IS NULL, here FROM ({checked}) c WHERE {wrong} ORDER BY line", params)
            failed = [(row, y, bool(missing), bool(here)) for row, y, missing, here in cur.fetchall()]
            problems += failed
            for chunk in _chunks([row for row, *_ in failed], SQLITE_BATCH):
                cur.execute(f"DELETE FROM {CHECK_TABLE} WHERE line IN ({', '.join(['%s'] * len(chunk))})", list(chunk))
            cur.execute(
                f"""INSERT INTO {staged} ({columns})
                    SELECT %s, t.line, p.id, t.yr, t.monthly_wage, t.annual_wage_total, t.first_pay_month
                    FROM {CHECK_TABLE} t JOIN {person_table} p ON p.id_number = t.id_number WHERE t.yr = %s""",
                [job.pk, year],
            )
            if cur.rowcount != sum(1 for row in candidates if row[3] == year) - len(failed):
                raise RuntimeError("参保登记在校验过程中发生变化，请重新试导入。")  # a person removed meanwhile
        cur.execute(f"DROP TABLE {temp}.{CHECK_TABLE}")
        if pg:
            cur.execute(f"ANALYZE {staged}")  # the confirm's queries plan with the staged rows counted
    return problems, _staged_counts(job, employer)


def tune_transaction() -> None:
    """PostgreSQL, for the rest of the transaction (``set_config(…, true)`` is SET LOCAL): no JIT compiling,
    and ANALYZE samples 3 000 rows instead of 30 000.

    An import's statements over 100 000 rows are costed high enough to be compiled, which took half a second
    of the dry run's reference check and buys nothing on joins of this size; the staged rows' statistics
    (a year or two, unique row numbers and persons) need no larger sample, and the default one took
    0.17 s per ANALYZE of 100 000 rows against 0.01 s (docs/scale.md, "Payroll import at 100,000 rows")."""
    if is_postgres():
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('jit', 'off', true), set_config('default_statistics_target', '10', true)")


def _staged_counts(job: ImportJob, employer: Employer) -> dict[str, int]:
    """The declarations the staged rows would create, update, or leave as they are."""
    staged, table = PayrollStagedRow._meta.db_table, WageDeclaration._meta.db_table
    pg = connection.vendor == "postgresql"
    same = " AND ".join(
        f"w.{c} IS NOT DISTINCT FROM st.{c}" if pg else f"w.{c} IS st.{c}"
        for c in ("monthly_wage", "annual_wage_total", "first_pay_month")
    )
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT SUM(CASE WHEN w.id IS NULL THEN 1 ELSE 0 END),
                       SUM(CASE WHEN w.id IS NOT NULL AND NOT ({same}) THEN 1 ELSE 0 END),
                       SUM(CASE WHEN w.id IS NOT NULL AND ({same}) THEN 1 ELSE 0 END)
                FROM {staged} st LEFT JOIN {table} w
                  ON w.person_id = st.person_id AND w.employer_id = %s AND w.year = st.year
                WHERE st.job_id = %s""",
            [employer.pk, job.pk],
        )
        created, updated, unchanged = (int(n or 0) for n in cur.fetchone())
    return {"to_create": created, "to_update": updated, "unchanged": unchanged}


def payroll_staged_check(job: ImportJob, *, employer: Employer, as_of: date) -> list[RowError]:
    """The references of the staged rows checked again at the confirm: each row's person still has an 在职职工
    span at the employer in the declared year. Two reads per year (the staged rows, the employer's employees
    as :func:`employees_at` gives them), compared as sets, whatever the planner's statistics say. The rows
    that no longer pass."""
    out: list[RowError] = []
    years = PayrollStagedRow.objects.filter(job=job).values_list("year", flat=True).distinct()
    for year in sorted(set(years)):
        here = employees_at(employer.pk, *contribution_year_bounds(employer.jurisdiction.code, year, on=as_of))
        staged = PayrollStagedRow.objects.filter(job=job, year=year).values_list("row", "person_id")
        message = f"该人员在 {year} 缴费年度未在本单位以在职职工身份参保。"
        out += [
            RowError(row, _LABEL["id_number"], message, ID_NOT_HERE)
            for row, pid in staged.iterator(5000)
            if pid not in here
        ]
    out.sort(key=lambda e: e.row)
    return out


def payroll_staged_rows(job: ImportJob) -> list[int]:
    """The numbers of the rows ``job``'s dry run left staged, in order (an index-only scan of the key)."""
    with connection.cursor() as cur:
        cur.execute(f'SELECT "row" FROM {PayrollStagedRow._meta.db_table} WHERE job_id = %s ORDER BY "row"', [job.pk])
        return [r[0] for r in cur.fetchall()]


def payroll_unstage(job: ImportJob, rows: list[int] | None = None) -> None:
    """Forget the staged rows of ``job`` (those numbered ``rows``; all if None)."""
    qs = PayrollStagedRow.objects.filter(job=job)
    if rows is not None:
        qs = qs.filter(row__in=rows)
    qs._raw_delete(qs.db)


def payroll_write_staged(
    job: ImportJob, *, employer: Employer, progress: Progress | None = None, rows: list[int] | None = None
) -> dict[str, int]:
    """Upsert the staged rows into WageDeclaration with one INSERT … SELECT … ON CONFLICT, set-wise.

    A declaration already exactly as staged is not written again (the conflict update has a WHERE), so
    importing the same file twice changes nothing the second time. Counts: created, updated, unchanged.
    ``rows``: the staged row numbers when the caller has read them (:func:`payroll_staged_rows`).
    """
    table = WageDeclaration._meta.db_table
    values = ("monthly_wage", "annual_wage_total", "first_pay_month")
    pg = connection.vendor == "postgresql"
    differs = " OR ".join(
        f"{table}.{c} IS DISTINCT FROM EXCLUDED.{c}" if pg else f"{table}.{c} IS NOT excluded.{c}" for c in values
    )
    counts = _staged_counts(job, employer)
    numbers = payroll_staged_rows(job) if rows is None else rows
    writer = _StagedWageWriter(job, timezone.now(), employer, differs=differs)
    _write_all(writer, [(n, n) for n in numbers], progress)  # batches of row numbers
    payroll_unstage(job)
    return {"created": counts["to_create"], "updated": counts["to_update"], "unchanged": counts["unchanged"]}


class _StagedWageWriter(_Writer):
    """One INSERT … SELECT … ON CONFLICT per batch of staged row numbers (a batch is a range of rows)."""

    def __init__(self, job: ImportJob, now: datetime, employer: Employer, *, differs: str):
        super().__init__(job, now)
        self.employer, self.differs = employer, differs

    def write(self, rows: list[tuple]) -> None:
        staged, table = PayrollStagedRow._meta.db_table, WageDeclaration._meta.db_table
        updates = ", ".join(
            f"{c} = excluded.{c}"
            for c in (
                "monthly_wage",
                "annual_wage_total",
                "first_pay_month",
                "import_job_id",
                "declared_by_id",
                "declared_at",
            )
        )
        with connection.cursor() as cur:
            cur.execute(
                f"""INSERT INTO {table} (person_id, employer_id, year, monthly_wage, annual_wage_total,
                        first_pay_month, import_job_id, declared_by_id, declared_at)
                    SELECT person_id, %s, year, monthly_wage, annual_wage_total, first_pay_month, %s, %s, %s
                    FROM {staged} WHERE job_id = %s AND "row" >= %s AND "row" <= %s
                    ON CONFLICT (person_id, employer_id, year) DO UPDATE SET {updates} WHERE {self.differs}""",
                [
                    self.employer.pk,
                    self.job.pk,
                    self.job.uploaded_by_id,
                    self.now,
                    self.job.pk,
                    rows[0][0],
                    rows[-1][0],
                ],
            )
