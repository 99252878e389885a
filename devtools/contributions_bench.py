"""Benchmarks of the contribution engine (issue 3 item 9): set-based batch jobs against a naive per-row loop.

On a generated population with months of dues (:mod:`contributions.history`): the annual base
reset and the nightly late-fee accrual, each run twice (the second run must change nothing),
and the naive loop — for each person: read with the ORM, compute with the scalar rule, ``save()`` —
over the first ``naive_persons`` persons, which must agree with what the set-based run stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection, transaction

from batch.dialect import is_postgres
from batch.models import BatchRun, RunStatus
from contributions import services, sql
from contributions.calculations.late_fee import late_fee_amount
from contributions.history import declarations_generate, history_generate
from contributions.models import ContributionBase, EmployerBase, MonthlyDue, WageDeclaration
from contributions.periods import add_months, base_year_start
from enrollment.models import Employer, EnrolmentSpan, InsuredPerson
from operations.demo.population import generate_population
from policy.resolver import Policy, PolicyError


@dataclass
class Timing:
    label: str
    persons: int
    seconds: float
    counts: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.persons / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return f"{self.label:<44} {self.persons:>9} persons {self.seconds:>9.2f} s {self.rate:>11,.0f} persons/s"


def _timed(label: str, persons: int, fn: Callable[[], object]) -> tuple[Timing, object]:
    t0 = time.perf_counter()
    result = fn()
    return Timing(label, persons, time.perf_counter() - t0, getattr(result, "counts", {})), result


def _wait(run: BatchRun, timeout: float = 3600) -> BatchRun:
    """Wait for a run dispatched to Celery workers to finish (or fail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status == RunStatus.FAILED or (
            run.status in (RunStatus.DONE, RunStatus.DONE_WITH_ERRORS) and run.finished_at
        ):
            return run
        time.sleep(0.2)
    raise TimeoutError(f"run {run.pk} not finished after {timeout} s")


def forget_results(jurisdiction: str, year_start: date) -> None:
    """Undo a previous benchmark's reset and accrual, so the next one recomputes everything."""
    # Plain SQL: the ORM's delete() would write a history row per base (simple_history).
    jid = sql.jurisdiction_id(jurisdiction)
    ys = sql.dparam(year_start)
    with transaction.atomic():
        sql.execute(f"DELETE FROM {sql.t(ContributionBase)} WHERE jurisdiction_id = %s AND year_start = %s", [jid, ys])
        sql.execute(
            f"""DELETE FROM {sql.t(EmployerBase)} WHERE year_start = %s
            AND employer_id IN (SELECT id FROM {sql.t(Employer)} WHERE jurisdiction_id = %s)""",
            [ys, jid],
        )
        sql.execute(
            f"""UPDATE {sql.t(MonthlyDue)} SET late_fee = late_fee_paid
            WHERE jurisdiction_id = %s AND settled_on IS NULL AND late_fee <> late_fee_paid""",
            [jid],
        )
    if is_postgres():
        with connection.cursor() as cur:
            for model in (ContributionBase, EmployerBase, MonthlyDue):
                cur.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def naive_base_loop(person_ids: list[int], on: date) -> int:
    """Per person: read span, declaration, last year's base with the ORM; scalar rule; ``save()``.

    Returns how many results differ from the base already stored (0 when the set-based run agrees).
    """
    differ = 0
    for pid in person_ids:
        with transaction.atomic():
            try:
                selection = services.base_for(pid, on)
            except PolicyError:  # the set-based run counts these as missing:<parameter>
                continue
            if selection is None:
                continue
            row = ContributionBase.objects.filter(person_id=pid, year_start=selection.year_start).first()
            if row is None:
                differ += 1
                services.base_assign(pid, on)
                continue
            if (row.base, row.basis) != (selection.base, selection.basis):
                differ += 1
            row.base, row.basis, row.wage = selection.base, selection.basis, selection.wage
            row.save()
    return differ


def naive_accrual_loop(person_ids: list[int], as_of: date) -> int:
    """Per unsettled overdue due: scalar ``late_fee_amount`` and ``save()``. Returns rows that differ."""
    differ = 0
    policies: dict[int, Policy] = {}
    for pid in person_ids:
        with transaction.atomic():
            for due in MonthlyDue.objects.filter(
                person_id=pid, settled_on__isnull=True, due_date__lt=as_of
            ).select_related("jurisdiction"):
                policy = policies.setdefault(due.jurisdiction_id, Policy(due.jurisdiction.code, as_of))
                _, fee = late_fee_amount(
                    policy, amount=due.total - due.paid_principal, due_date=due.due_date, paid_on=as_of
                )
                new = due.late_fee_paid + fee
                if new != due.late_fee:
                    differ += 1
                due.late_fee = new
                due.save(update_fields=["late_fee"])
    return differ


def run_bench(
    *,
    jurisdiction: str,
    persons: int,
    employers: int,
    months: int,
    first_month: date,
    naive_persons: int,
    generate: bool,
    write: Callable[[str], None],
    celery: bool = False,
    fresh: bool = False,
) -> list[Timing]:
    timings: list[Timing] = []
    write(f"database: {connection.vendor} {connection.settings_dict.get('NAME')}")
    if generate:
        t, _ = _timed(
            "generate population (operations.demo.population)",
            persons,
            lambda: generate_population(
                jurisdiction=jurisdiction, employers=employers, persons=persons, as_of=first_month
            ),
        )
        write(t.line())
        t, report = _timed(
            f"generate history ({months} months of dues)",
            persons,
            lambda: history_generate(jurisdiction=jurisdiction, first_month=first_month, months=months),
        )
        write(t.line())
        write(f"  declarations {report.declarations}, dues {report.dues}, settled {report.settled}")
        for label, seconds in report.timings.items():
            write(f"  {label}: {seconds:.1f} s")
    population = sql.fetchall(
        f"SELECT COUNT(DISTINCT person_id) FROM {sql.t(EnrolmentSpan)} WHERE jurisdiction_id = %s",
        [sql.jurisdiction_id(jurisdiction)],
    )[0][0]
    after = add_months(first_month, months)
    next_year = base_year_start(Policy(jurisdiction, after), after)
    write(f"population: {population} persons in {jurisdiction}; dues: {MonthlyDue.objects.count()} rows")
    added = declarations_generate(jurisdiction, next_year.year, raise_pct=5)
    write(f"declarations for the base year from {next_year}: {added} added")
    sql.analyze(WageDeclaration, ContributionBase, MonthlyDue, EnrolmentSpan, InsuredPerson)
    if fresh:
        forget_results(jurisdiction, next_year)
        write(f"forgot earlier results for {next_year} (bases, employer bases, accrued fees)")
    mode = "Celery workers" if celery else "in-process"
    if celery:
        write("dispatching chunks to Celery workers (CELERY_BROKER_URL); timing = run start to finish")

    def go(runner: Callable[..., BatchRun], **kwargs) -> BatchRun:
        run = runner(jurisdiction=jurisdiction, in_process=not celery, **kwargs)
        return _wait(run) if celery else run

    for label in (f"base reset ({mode}, chunked)", "base reset again (must change nothing)"):
        t, run = _timed(label, population, lambda: go(services.base_reset, on=next_year))
        timings.append(t)
        write(t.line())
        write(f"  counts: {run.counts}")
    as_of = after + timedelta(days=20)
    for label in (f"nightly accrual ({mode}, chunked)", "nightly accrual again (must change nothing)"):
        t, run = _timed(label, population, lambda: go(services.arrears_accrue, on=as_of))
        timings.append(t)
        write(t.line())
        write(f"  counts: {run.counts}")

    if not naive_persons:
        return timings
    ids = [
        row[0]
        for row in sql.fetchall(
            f"SELECT DISTINCT person_id FROM {sql.t(EnrolmentSpan)} WHERE jurisdiction_id = %s "
            "ORDER BY person_id LIMIT %s",
            [sql.jurisdiction_id(jurisdiction), naive_persons],
        )
    ]
    t, differ = _timed("naive ORM loop: base reset", len(ids), lambda: naive_base_loop(ids, next_year))
    timings.append(t)
    write(t.line())
    write(f"  results differing from the set-based run: {differ}")
    t, differ = _timed("naive ORM loop: accrual", len(ids), lambda: naive_accrual_loop(ids, as_of))
    timings.append(t)
    write(t.line())
    write(f"  results differing from the set-based run: {differ}")
    return timings
