"""``python manage.py bench_import --rows 100000``: payroll import speed, ours vs django-import-export's default.

Builds a payroll file (身份证号, 姓名, 月工资, 年度) of ROWS employees of one employer of
the demo population (one is generated with ``operations.demo.population.generate_population`` when
no employer has enough employees), then imports it twice into an empty table:

1. our pipeline (:mod:`contributions.imports`): dry run (read, column-wise parsing, references checked
   by joins, valid rows staged) and confirm (staged rows checked again, upserted in one transaction),
   timed separately, with this process's CPU time, the load average and the peak RSS;
2. django-import-export's default per-row import of the same file:
   ``WageDeclarationResource().import_data(dataset, dry_run=False)`` (one instance
   lookup, ``full_clean``-free save and savepoint per row), the dataset read by its XLSX/CSV format.

Prints rows per second of each. Run on PostgreSQL for the figures in the note
(``DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_import``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import random
import re
import resource
import time
from collections import defaultdict
from datetime import date
from decimal import Decimal

import openpyxl
import psycopg
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.db.models import Count, Q
from django.utils import timezone
from import_export.formats import base_formats

from contributions import imports
from contributions.models import ImportStatus, WageDeclaration
from contributions.resources import WageDeclarationResource
from enrollment.models import Category, Employer, EnrolmentSpan
from operations.demo.population import generate_population

# Share of generated persons who are employees (operations.demo.population: working age × 84 %); used
# only to size the generated population, which is then checked.
EMPLOYEE_SHARE = 0.5


class Command(BaseCommand):
    help = "工资申报导入性能：本系统批量导入 vs django-import-export 默认逐行导入 (rows per second)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--jurisdiction", default="hunan")
        parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
        parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="默认：今天")
        parser.add_argument(
            "--naive-rows", type=int, default=None, help="django-import-export 逐行导入的行数（默认与 --rows 相同）"
        )
        parser.add_argument("--skip-naive", action="store_true")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--trace",
            action="store_true",
            help="每条 SQL 语句（含 COPY 与 COMMIT）的耗时：数据库端时间与本进程 CPU 分开列出",
        )

    def handle(self, *args, rows, jurisdiction, format, as_of, naive_rows, skip_naive, seed, trace, **options):
        as_of = as_of or timezone.localdate()
        year = imports.payroll_years(jurisdiction, as_of)[0]
        start, end = imports.contribution_year_bounds(jurisdiction, year, on=as_of)
        employer = self._employer(jurisdiction, rows, start, end, seed)
        people = list(
            EnrolmentSpan.objects.filter(employer=employer, category=Category.EMPLOYEE, start__lt=end)
            .filter(Q(end__isnull=True) | Q(end__gt=start))
            .order_by("person_id")
            .values_list("person__id_number", "person__name")[:rows]
        )
        rnd = random.Random(seed)
        table = [(number, name, Decimal(rnd.randrange(3000_00, 30000_00)) / 100, year) for number, name in people]
        data = _file(format, ["身份证号", "姓名", "月工资", "年度"], table)
        self.stdout.write(
            f"{connection.vendor}: {len(table):,} rows for {employer.name} (#{employer.pk}), year {year}; "
            f"file {format} {len(data) / 1024 / 1024:.1f} MB"
        )
        user = _bench_user()
        rss0 = _rss_mb()

        # 1. Our pipeline.
        _clear(employer, year)
        job = imports.import_job_create(
            kind="payroll",
            uploaded_file=SimpleUploadedFile(f"bench.{format}", data),
            user=user,
            as_of=as_of,
            employer=employer,
            year=year,
        )
        load0 = _loadavg()
        tracer = _Trace() if trace else None
        with tracer or contextlib.nullcontext():
            t0, c0 = time.perf_counter(), time.process_time()
            job = imports.import_job_validate(job.pk)
            t1, c1 = time.perf_counter(), time.process_time()
            if tracer:
                tracer.report(self.stdout, "dry run", t1 - t0, c1 - c0)
            if job.status != ImportStatus.VALIDATED or job.error_rows:
                raise CommandError(f"dry run failed: {job.status} {job.dry_run_summary} {job.errors[:5]}")
            job = imports.import_job_commit(job.pk)
            t2, c2 = time.perf_counter(), time.process_time()
            if tracer:
                tracer.report(self.stdout, "confirm", t2 - t1, c2 - c1)
        written = WageDeclaration.objects.filter(employer=employer, year=year).count()
        if job.status != ImportStatus.DONE or written != len(table):
            raise CommandError(f"commit failed: {job.status} {job.dry_run_summary}; {written} rows written")
        n = len(table)
        self.stdout.write(
            f"ours: dry run {t1 - t0:.1f} s ({n / (t1 - t0):,.0f} rows/s), confirm {t2 - t1:.1f} s "
            f"({n / (t2 - t1):,.0f} rows/s); end to end {t2 - t0:.1f} s = {n / (t2 - t0):,.0f} rows/s"
        )
        self.stdout.write(
            f"  this process's CPU: dry run {c1 - c0:.2f} s, confirm {c2 - c1:.2f} s (the rest is the database "
            f"and waiting); load average {load0} before, {_loadavg()} after; peak RSS of the process so far "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (RSS before the import "
            f"{rss0:.0f} MB)"
        )

        # 2. django-import-export, default per-row import of the same file.
        if skip_naive:
            return
        _clear(employer, year)
        m = min(naive_rows or n, n)
        source = data if m == n else _file(format, ["身份证号", "姓名", "月工资", "年度"], table[:m])
        t3 = time.perf_counter()
        dataset = _dataset(format, source)
        dataset.append_col([employer.credit_code] * len(dataset), header="统一社会信用代码")
        result = WageDeclarationResource().import_data(dataset, dry_run=False)
        t4 = time.perf_counter()
        if result.has_errors() or result.has_validation_errors():
            first = result.base_errors or [e for row in result.row_errors() for e in row[1]]
            raise CommandError(f"django-import-export import failed: {first[:1]}")
        written = WageDeclaration.objects.filter(employer=employer, year=year).count()
        self.stdout.write(
            f"django-import-export import_data (per row, default settings): {m:,} rows in {t4 - t3:.1f} s "
            f"= {m / (t4 - t3):,.0f} rows/s ({written:,} written)"
        )
        self.stdout.write(f"speed-up: {(n / (t2 - t0)) / (m / (t4 - t3)):.1f}× (end to end, dry run + confirm)")

    def _employer(self, jurisdiction: str, rows: int, start: date, end: date, seed: int) -> Employer:
        """An employer with at least ``rows`` employees in the year, generated if none has."""

        def best() -> tuple[Employer | None, int]:
            top = (
                EnrolmentSpan.objects.filter(
                    employer__jurisdiction__code=jurisdiction, category=Category.EMPLOYEE, start__lt=end
                )
                .filter(Q(end__isnull=True) | Q(end__gt=start))
                .values("employer_id")
                .annotate(n=Count("id"))
                .order_by("-n")
                .first()
            )
            return (Employer.objects.get(pk=top["employer_id"]), top["n"]) if top else (None, 0)

        employer, n = best()
        if employer is not None and n >= rows:
            return employer
        persons = int(rows / EMPLOYEE_SHARE)
        self.stdout.write(f"generating one employer with {persons:,} persons (demo population) …")
        t0 = time.perf_counter()
        generate_population(jurisdiction=jurisdiction, employers=1, persons=persons, as_of=start, seed=seed)
        self.stdout.write(f"  done in {time.perf_counter() - t0:.1f} s")
        employer, n = best()
        if employer is None or n < rows:
            raise CommandError(f"the largest employer has {n} employees, need {rows}")
        return employer


class _Trace:
    """Wall time of every statement the import sends: Django's cursors (``execute_wrapper``), psycopg's COPY
    and the COMMIT. A statement's wall time is the database's work plus one round trip; the process CPU
    spent between statements is the rest."""

    def __init__(self) -> None:
        self.times: dict[str, list] = defaultdict(lambda: [0, 0.0])
        self.backend_cpu = 0.0

    @staticmethod
    def _backend_cpu() -> float:
        """CPU seconds (user + system) of this connection's PostgreSQL backend so far (Linux, same host)."""
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _add(self, sql: str, seconds: float) -> None:
        key = re.sub(r"\s+", " ", sql).strip()
        key = re.sub(r"\b\d+\b", "N", key)[:110]
        entry = self.times[key]
        entry[0] += 1
        entry[1] += seconds

    def __call__(self, execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self._add(sql, time.perf_counter() - t)

    def __enter__(self) -> _Trace:
        db = connections["default"]
        self._wrapper = db.execute_wrapper(self)
        self._wrapper.__enter__()
        self._commit = db.commit
        trace = self

        def commit() -> None:
            t = time.perf_counter()
            try:
                trace._commit()
            finally:
                trace._add("COMMIT", time.perf_counter() - t)

        db.commit = commit
        self._copy = psycopg.Cursor.copy

        @contextlib.contextmanager
        def copy(cursor, statement, *args, **kwargs):
            t = time.perf_counter()
            try:
                with trace._copy(cursor, statement, *args, **kwargs) as c:
                    yield c
            finally:
                trace._add(str(statement), time.perf_counter() - t)

        psycopg.Cursor.copy = copy
        self.backend_cpu = self._backend_cpu()
        return self

    def __exit__(self, *exc) -> None:
        self._wrapper.__exit__(*exc)
        db = connections["default"]
        del db.commit
        psycopg.Cursor.copy = self._copy

    def report(self, out, stage: str, wall: float, cpu: float) -> None:
        total = sum(t for _, t in self.times.values())
        backend, self.backend_cpu = self.backend_cpu, self._backend_cpu()
        out.write(
            f"  {stage}: wall {wall:.2f} s = statements {total:.2f} s (the database's work, round trips; the COPY "
            f"includes the rows' encoding here) + {wall - total:.2f} s in this process (CPU {cpu:.2f} s in all); "
            f"the PostgreSQL backend's CPU {self.backend_cpu - backend:.2f} s"
        )
        for key, (n, t) in sorted(self.times.items(), key=lambda kv: -kv[1][1])[:12]:
            out.write(f"    {t:7.3f} s  {n:5d}×  {key}")
        self.times.clear()


def _loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def _rss_mb() -> float:
    """The resident set size now (Linux), in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1024 / 1024


def _clear(employer: Employer, year: int) -> None:
    """Empty the employer's declarations for the year (plain SQL: no per-row delete signals/history).

    PostgreSQL: then VACUUM the table, as a year's first payroll meets it. Without it every run leaves
    100 000 dead versions of the same keys, autovacuum lags behind back-to-back runs, and each later run's
    upsert visits all of them for every row (1.6 M dead rows after 16 runs)."""
    table = WageDeclaration._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {table} WHERE employer_id = %s AND year = %s", [employer.pk, year])
        if connection.vendor == "postgresql":
            cur.execute(f"VACUUM (ANALYZE) {table}")


def _bench_user():
    user, _ = get_user_model().objects.get_or_create(username="bench_import", defaults={"is_staff": True})
    return user


def _file(format: str, header: list[str], rows: list[tuple]) -> bytes:
    if format == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        return out.getvalue().encode("utf-8")

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _dataset(format: str, data: bytes):

    if format == "csv":
        return base_formats.CSV(encoding="utf-8").create_dataset(data.decode("utf-8"))
    return base_formats.XLSX().create_dataset(data)
