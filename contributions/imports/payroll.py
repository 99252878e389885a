"""Payroll import (工资申报): validate a file for one employer and upsert its wage declarations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from enrollment.bounds import MAX_MONTHLY_WAGE, MIN_BUSINESS_DATE
from enrollment.models import Category, Employer, EnrolmentSpan
from policy.resolver import Policy

from .. import periods
from ..inputs import MAX_ANNUAL_WAGE
from ..models import ImportJob, PayrollStagedRow, WageDeclaration
from .cells import parse_id_cell, parse_money, parse_month_cell, parse_name_cell, parse_period
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
    _cells,
    _check_name,
    _duplicates,
    _keys,
    _normalise,
    persons_by_id_number,
)
from .writing import COMMIT_BATCH, _write_all, _Writer


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
    default_year: int | None = None,
    progress: Progress | None = None,
    precise_ids: bool = True,
) -> Validation:
    """Check a payroll file for ``employer`` (dry run). Writes nothing.

    Rows must name a person enrolled as 在职职工 at this employer during the declared
    contribution year, which must be the current or the next one on ``as_of``.
    ``precise_ids`` False (an employer user uploads): "not registered" and "not at this employer"
    read the same, so the file cannot be used to learn whether a 身份证号 is registered elsewhere.
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

    def first_pay_month(value: Any) -> date | None:
        month = parse_month_cell(value, label="起薪月份")
        if month is not None and month < MIN_BUSINESS_DATE:
            raise ValueError(f"起薪月份不能早于 {MIN_BUSINESS_DATE:%Y-%m}。")
        return month

    parsers = {
        "id_number": parse_id_cell,
        "name": parse_name_cell,
        # A wage of 0 is refused, and none above the product bound (enrollment.bounds): a typing error
        # there would overflow the yearly base reset (issue #12 item 5).
        "monthly_wage": lambda v: parse_money(v, label="月工资", positive=True, maximum=MAX_MONTHLY_WAGE),
        "annual_wage_total": lambda v: parse_money(v, label="上年工资总额", positive=True, maximum=MAX_ANNUAL_WAGE),
        "year": year_of,
        "first_pay_month": first_pay_month,
    }
    parsed: dict[int, dict[str, Any]] = {}
    for i, (number, cells) in enumerate(table.rows, start=1):
        row = parsed[number] = _normalise(result, number, _cells(cells, index), parsers)
        if not row.get("name") and "name" in row:
            result.add(number, "name", "姓名未填写。")
        if "monthly_wage" in row and "annual_wage_total" in row and row["monthly_wage"] is None:
            if row["annual_wage_total"] is None:
                result.add(number, "monthly_wage", "月工资和上年工资总额至少填写一项。")
        if progress and i % PROGRESS_EVERY == 0:
            progress(i // 2)  # parsing is the first half of the work
    # Duplicates among all rows that name a person and a year, whatever else is wrong with them.
    _duplicates(result, parsed, _keys("id_number", "year"), "id_number", "同一人员同一年度")

    # Set-wise checks: the persons, then the employer's employees for each year.
    persons = persons_by_id_number(r["id_number"] for r in result.valid.values())
    if progress:
        progress(len(table) * 3 // 4)
    spans = {
        year: employees_at(employer.pk, *contribution_year_bounds(jurisdiction, year, on=as_of)) for year in allowed
    }
    for number, row in list(result.valid.items()):
        person = persons.get(row["id_number"])
        if person is None:
            message = "未找到该身份证号的参保登记，请先办理参保登记。" if precise_ids else NOT_OUR_EMPLOYEE
            result.add(number, "id_number", message, ID_NOT_FOUND)
            continue
        person_id, registered_name = person
        if person_id not in spans[row["year"]]:
            message = f"该人员在 {row['year']} 缴费年度未在本单位以在职职工身份参保。"
            result.add(number, "id_number", message if precise_ids else NOT_OUR_EMPLOYEE, ID_NOT_HERE)
            continue
        _check_name(result, number, row["name"], registered_name)
        row["person_id"] = person_id

    existing = {
        (p, y): (m, a, f)
        for p, y, m, a, f in WageDeclaration.objects.filter(employer=employer, year__in=allowed).values_list(
            "person_id", "year", "monthly_wage", "annual_wage_total", "first_pay_month"
        )
    }
    new = changed = unchanged = 0
    for row in result.valid.values():
        old = existing.get((row["person_id"], row["year"]))
        values = (row["monthly_wage"], row["annual_wage_total"], row["first_pay_month"])
        row["change"] = "new" if old is None else ("same" if old == values else "update")
        new += old is None
        changed += old is not None and old != values
        unchanged += old == values
    result.errors.sort(key=lambda e: e.row)
    result.summary = {
        "valid_rows": len(result.valid),
        "error_rows": result.error_rows,
        "to_create": new,
        "to_update": changed,
        "unchanged": unchanged,
        "years": sorted({r["year"] for r in result.valid.values()}),
        "allowed_years": list(allowed),
    }
    if progress:
        progress(len(table))
    return result


class _WageWriter(_Writer):
    """Upsert of WageDeclaration on (person, employer, year): INSERT … ON CONFLICT DO UPDATE."""

    STAGE = "contributions_import_wage"
    FIELDS = ("monthly_wage", "annual_wage_total", "first_pay_month", "import_job_id", "declared_by_id", "declared_at")

    def __init__(self, job: ImportJob, now: datetime, employer: Employer):
        super().__init__(job, now)
        self.employer = employer
        if self.pg:
            with connection.cursor() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {self.STAGE}")
                cur.execute(
                    f"CREATE TEMPORARY TABLE {self.STAGE} (person_id bigint, year smallint, "
                    "monthly_wage numeric(14, 2), annual_wage_total numeric(14, 2), first_pay_month date) "
                    "ON COMMIT DROP"
                )

    def write(self, rows: list[tuple]) -> None:
        if self.pg:
            self._copy(self.STAGE, ("person_id", "year", "monthly_wage", "annual_wage_total", "first_pay_month"), rows)
            return
        WageDeclaration.objects.bulk_create(
            [
                WageDeclaration(
                    person_id=p,
                    employer_id=self.employer.pk,
                    year=y,
                    monthly_wage=m,
                    annual_wage_total=a,
                    first_pay_month=f,
                    import_job_id=self.job.pk,
                    declared_by_id=self.job.uploaded_by_id,
                    declared_at=self.now,
                )
                for p, y, m, a, f in rows
            ],
            batch_size=COMMIT_BATCH,
            update_conflicts=True,
            unique_fields=["person", "employer", "year"],
            update_fields=[
                "monthly_wage",
                "annual_wage_total",
                "first_pay_month",
                "import_job",
                "declared_by",
                "declared_at",
            ],
        )

    def finish(self) -> None:
        if not self.pg:
            return
        table = WageDeclaration._meta.db_table
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in self.FIELDS)
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (person_id, employer_id, year, monthly_wage, annual_wage_total, "
                f"first_pay_month, import_job_id, declared_by_id, declared_at) "
                f"SELECT person_id, %s, year, monthly_wage, annual_wage_total, first_pay_month, %s, %s, %s "
                f"FROM {self.STAGE} ON CONFLICT (person_id, employer_id, year) DO UPDATE SET {updates}",
                [self.employer.pk, self.job.pk, self.job.uploaded_by_id, self.now],
            )
            cur.execute(f"DROP TABLE {self.STAGE}")


def payroll_write(
    validation: Validation, *, employer: Employer, job: ImportJob, progress: Progress | None = None
) -> dict[str, int]:
    """Upsert the valid rows into WageDeclaration (person, employer, year), batch by batch.

    Rows whose declaration is already exactly as in the file are not written again,
    so importing the same file twice changes nothing the second time.
    """
    rows = [
        (r["person_id"], r["year"], r["monthly_wage"], r["annual_wage_total"], r["first_pay_month"])
        for r in validation.valid.values()
        if r["change"] != "same"
    ]
    _write_all(_WageWriter(job, timezone.now(), employer), rows, progress)
    s = validation.summary
    return {"created": s["to_create"], "updated": s["to_update"], "unchanged": s["unchanged"]}


# --- staging: the dry run's valid rows, written once, confirmed from the database -------------------------

STAGED_COLUMNS = ("job_id", "row", "person_id", "year", "monthly_wage", "annual_wage_total", "first_pay_month")


def payroll_stage(job: ImportJob, validation: Validation) -> int:
    """Keep the dry run's valid rows for the confirm (replacing an earlier dry run's). COPY on PostgreSQL."""
    table = PayrollStagedRow._meta.db_table
    rows = [
        (job.pk, number, r["person_id"], r["year"], r["monthly_wage"], r["annual_wage_total"], r["first_pay_month"])
        for number, r in validation.valid.items()
    ]
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {table} WHERE job_id = %s", [job.pk])
        if connection.vendor == "postgresql":
            cols = ", ".join(connection.ops.quote_name(c) for c in STAGED_COLUMNS)
            with cur.connection.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(f"ANALYZE {table}")  # the confirm's queries plan with the staged rows counted
        else:
            PayrollStagedRow.objects.bulk_create(
                [PayrollStagedRow(**dict(zip(STAGED_COLUMNS, row, strict=True))) for row in rows],
                batch_size=COMMIT_BATCH,
            )
    return len(rows)


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


def payroll_unstage(job: ImportJob, rows: list[int] | None = None) -> None:
    """Forget the staged rows of ``job`` (those numbered ``rows``; all if None)."""
    qs = PayrollStagedRow.objects.filter(job=job)
    if rows is not None:
        qs = qs.filter(row__in=rows)
    qs._raw_delete(qs.db)


def payroll_write_staged(job: ImportJob, *, employer: Employer, progress: Progress | None = None) -> dict[str, int]:
    """Upsert the staged rows into WageDeclaration with one INSERT … SELECT … ON CONFLICT, set-wise.

    A declaration already exactly as staged is not written again (the conflict update has a WHERE), so
    importing the same file twice changes nothing the second time. Counts: created, updated, unchanged.
    """
    staged, table = PayrollStagedRow._meta.db_table, WageDeclaration._meta.db_table
    values = ("monthly_wage", "annual_wage_total", "first_pay_month")
    pg = connection.vendor == "postgresql"
    differs = " OR ".join(
        f"{table}.{c} IS DISTINCT FROM EXCLUDED.{c}" if pg else f"{table}.{c} IS NOT excluded.{c}" for c in values
    )
    same = " AND ".join(f"w.{c} IS NOT DISTINCT FROM st.{c}" if pg else f"w.{c} IS st.{c}" for c in values)
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
        cur.execute(f'SELECT "row" FROM {staged} WHERE job_id = %s ORDER BY "row"', [job.pk])
        numbers = [r[0] for r in cur.fetchall()]
    writer = _StagedWageWriter(job, timezone.now(), employer, differs=differs)
    _write_all(writer, [(n, n) for n in numbers], progress)  # batches of row numbers
    payroll_unstage(job)
    return {"created": created, "updated": updated, "unchanged": unchanged}


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
