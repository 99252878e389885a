"""``python manage.py bench_nightly --persons 1000000`` (PostgreSQL): generated population, nightly run, naive loop.

1. Population: ``operations.demo.population.generate_population`` spread over the jurisdictions,
   unless the database already holds that many persons.
2. Dues history (no generator of contribF's exists yet): 12–24 months per in-service
   span, written by one ``INSERT … SELECT generate_series`` per jurisdiction. Generated
   bench data, not policy: amounts are placeholders (eligibility reads months and
   payment dates only); due dates come from ``contribution.due_day`` where the policy
   gives it, else none. History: 12–24 months, the same for an employer's
   employees (the employer's go-live month), per person for the others.
   Payment pattern: employees paid by their employer on the
   employer's day, flexible workers on one of three debit days; every 50th person owes
   the last 2 months, every 97th the last 4, every 40th paid one month about 70 days late.
3. ``run_nightly`` over everybody (twice: the second run must change nothing), timed, and after
   each run the floor: a hand-written set-based SQL pass over the same tables doing the arrears,
   late-fee and status work (:func:`floor_pass`, rolled back), so that the ratio of our time to the
   floor's, printed for each run, holds on a noisy machine (issue #13); and the peak resident memory of the
   process running the chunks (and of the largest worker process with ``--processes N``).
   After the reset and between two nights, what autovacuum would do in the day that follows a night
   (:func:`vacuum_between_nights`: ``VACUUM (ANALYZE)`` of the tables the night reads and writes), timed and
   printed on its own line, counted in no night's time: this sandbox's server runs with autovacuum off, a
   production server has it on, and without it the nights' "index only" scans fetch every heap page.
4. A naive per-row ORM loop over ``--naive`` persons: for each person, spans and dues by
   the ORM, the same rule, then delete and ``save()`` each period; timed.
"""

from __future__ import annotations

import os
import resource
import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from batch.dialect import is_postgres
from batch.models import BatchChunk
from batch.partitioning import ensure_current_partitions
from batch.runs import run_in_process
from benefits.calculations.eligibility import ContributionMonth, eligibility_timeline
from benefits.models import EligibilityInputChange, EligibilityPeriod, EligibilityState
from contributions.models import MonthlyDue
from contributions.retirement.models import ClearanceInputChange, ClearanceScanMark, RetirementClearanceCase
from enrollment.models import EnrolmentSpan, InsuredPerson, LifeEvent
from operations.demo.population import generate_population
from operations.jobs import NIGHTLY
from operations.management.commands.run_nightly import describe
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyError

JURISDICTIONS = ("hunan", "langfang", "sanmenxia", "ziyang", "xianning")


def generate_dues(as_of: date) -> int:
    """12–24 months of dues per in-service span up to the month of ``as_of`` (PostgreSQL only)."""
    total = 0
    month0 = as_of.replace(day=1)
    now = timezone.now()
    for jid, code in Jurisdiction.objects.values_list("pk", "code"):
        policy = Policy(code, as_of)
        due_day = int(policy.decimal("contribution.due_day")) if policy.has("contribution.due_day") else None
        due_sql = (
            f"LEAST(m + INTERVAL '{due_day - 1} days', m + INTERVAL '1 month' - INTERVAL '1 day')::date"
            if due_day
            else "NULL::date"
        )
        # the day of the month the money arrives: the employer's day, or a flexible worker's debit day
        pay_day = (
            "(CASE WHEN s.employer_id IS NOT NULL THEN 3 + s.employer_id %% 20 ELSE 5 + (s.person_id %% 3) * 5 END)"
        )
        # months of history on file, 12..24: an employer's employees share its go-live month
        k = "(12 + COALESCE(s.employer_id, s.person_id) %% 13)"
        sql = f"""
        INSERT INTO {MonthlyDue._meta.db_table} (person_id, employer_id, jurisdiction_id, month, category, scheme, base,
            employer_amount, individual_amount, maternity_amount, critical_illness_amount, personal_account_amount,
            pool_amount, total, due_date, paid_principal, settled_on, late_fee, late_fee_paid, deferred, created_at)
        SELECT person_id, employer_id, jurisdiction_id, m, category, scheme, 5000, 300, 100, NULL, NULL, 100, 300, 400,
               due, CASE WHEN paid IS NULL THEN 0 ELSE 400 END, paid, 0, 0, false, %s
        FROM (
            SELECT s.person_id, s.employer_id, s.jurisdiction_id, s.category, s.scheme, g.m::date AS m,
                   {due_sql.replace("m +", "g.m +")} AS due,
                   CASE
                     WHEN s.person_id %% 97 = 0 AND g.m >= %s::date - INTERVAL '3 months' THEN NULL
                     WHEN s.person_id %% 50 = 0 AND g.m >= %s::date - INTERVAL '1 month' THEN NULL
                     WHEN s.person_id %% 40 = 1 AND g.m = %s::date - INTERVAL '5 months'
                       THEN (g.m + INTERVAL '70 days')::date
                     WHEN (g.m + ({pay_day} - 1) * INTERVAL '1 day')::date > %s THEN NULL
                     ELSE (g.m + ({pay_day} - 1) * INTERVAL '1 day')::date
                   END AS paid
            FROM {EnrolmentSpan._meta.db_table} s
            CROSS JOIN LATERAL generate_series(
                GREATEST(date_trunc('month', s.start), %s::date - {k} * INTERVAL '1 month' + INTERVAL '1 month'),
                %s::date, INTERVAL '1 month') AS g(m)
            WHERE s.jurisdiction_id = %s AND s.category IN ('employee', 'flexible', 'unemployed') AND s."end" IS NULL
        ) d"""
        with connection.cursor() as cur:
            cur.execute(sql, [now, month0, month0, month0, as_of, month0, month0, jid])
            total += cur.rowcount
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {MonthlyDue._meta.db_table}")
    return total


def forget_nightly() -> str:
    """Undo earlier nightly runs on a reused population, so that the first run is a real first night."""

    case_t = RetirementClearanceCase._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE {EligibilityPeriod._meta.db_table}, {EligibilityState._meta.db_table}")
        cur.execute(
            f"""UPDATE {MonthlyDue._meta.db_table} SET late_fee = late_fee_paid, deferred = false
                WHERE settled_on IS NULL AND (late_fee <> late_fee_paid OR deferred)"""
        )
        fees = cur.rowcount
        cur.execute(f"DELETE FROM {RetirementClearanceCase.history.model._meta.db_table}")
        cur.execute(f"DELETE FROM {case_t}")
        # no scan happened: the first night reads everybody again
        cur.execute(f"TRUNCATE {ClearanceScanMark._meta.db_table}, {ClearanceInputChange._meta.db_table}")
    return f"{fees} dues' fees reset"


# the tables a night reads and writes: change notes, states, periods, dues, clearance, persons, spans, chunks
NIGHT_TABLES = (
    EligibilityInputChange,
    EligibilityState,
    EligibilityPeriod,
    MonthlyDue,
    ClearanceInputChange,
    ClearanceScanMark,
    RetirementClearanceCase,
    RetirementClearanceCase.history.model,
    InsuredPerson,
    EnrolmentSpan,
    LifeEvent,
    BatchChunk,
)


def vacuum_between_nights() -> float:
    """What autovacuum does in the day between two nights: ``VACUUM (ANALYZE)`` of :data:`NIGHT_TABLES` (a
    partitioned table: all its partitions). Dead rows go, the visibility map is set (index-only scans need
    no heap fetch), statistics are fresh. This server runs with autovacuum off (a sandbox quirk), so the bench
    does it itself, between nights, timed apart from them. Returns seconds."""
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in NIGHT_TABLES)
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(f"VACUUM (ANALYZE) {tables}")
    return time.perf_counter() - t0


def naive_loop(as_of: date, person_ids: list[int]) -> tuple[int, int]:
    """The same rule, one person at a time through the ORM, one ``save()`` per period."""
    policies: dict[str, Policy] = {}
    written = errors = 0
    now = timezone.now()
    for pid in person_ids:
        with transaction.atomic():
            spans = list(EnrolmentSpan.objects.filter(person_id=pid).select_related("jurisdiction").order_by("start"))
            if not spans:
                continue
            span = spans[-1]
            code = span.jurisdiction.code
            policy = policies.setdefault(code, Policy(code, as_of))
            months = [
                ContributionMonth(d.month, d.settled_on, d.deferred)
                for d in MonthlyDue.objects.filter(person_id=pid).order_by("month")
            ] or [ContributionMonth(span.start.replace(day=1), span.start if span.category == "retiree" else None)]
            try:
                periods = eligibility_timeline(policy, category=span.category, months=months, as_of=as_of)
            except (PolicyError, ValueError):
                errors += 1
                continue
            EligibilityPeriod.objects.filter(person_id=pid).delete()
            for p in periods:
                EligibilityPeriod(
                    person_id=pid,
                    jurisdiction_id=span.jurisdiction_id,
                    start=max(p.start, span.start),
                    end=p.end,
                    status=p.status,
                    reason=p.reason,
                    citation=p.citation,
                    facts={"人员类别": span.category},
                    computed_at=now,
                ).save()
                written += 1
    return written, errors


def floor_pass(as_of: date) -> float:
    """The floor: what the nightly run must at least do, as hand-written set-based SQL, timed and rolled back.

    Late fees of every overdue unpaid due (one UPDATE, 0.05 % a day as D-X14), then every person's months,
    arrears and last payment from ALL their dues (one GROUP BY over the whole dues table, as the nightly
    reads every person's months) and a status per person written to a table (one INSERT … SELECT over the
    register): no rule engine, no per-person Python. Returns seconds.
    """
    due, person = MonthlyDue._meta.db_table, InsuredPerson._meta.db_table
    t0 = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"""UPDATE {due} SET late_fee = ROUND((total - paid_principal) * 0.0005 * (%s::date - due_date), 2)
                WHERE settled_on IS NULL AND due_date IS NOT NULL AND due_date < %s""",
                [as_of, as_of],
            )
            cur.execute("CREATE TEMPORARY TABLE floor_status (person_id bigint, status varchar(16), since date)")
            cur.execute(
                f"""INSERT INTO floor_status
                SELECT p.id,
                       CASE WHEN a.months IS NULL THEN 'none'
                            WHEN a.unpaid > 0 THEN 'suspended'
                            ELSE 'covered' END,
                       COALESCE(a.first_unpaid, a.first_month)
                FROM {person} p LEFT JOIN (
                    SELECT person_id, COUNT(*) AS months, MIN(month) AS first_month, MAX(settled_on) AS last_paid,
                           COUNT(*) FILTER (WHERE settled_on IS NULL AND due_date < %s) AS unpaid,
                           MIN(month) FILTER (WHERE settled_on IS NULL AND due_date < %s) AS first_unpaid
                    FROM {due} GROUP BY person_id
                ) a ON a.person_id = p.id""",
                [as_of, as_of],
            )
            raise _FloorDone
    except _FloorDone:
        pass
    return time.perf_counter() - t0


def pay_one_percent(as_of: date) -> int:
    """Every 100th person's due of the month of ``as_of`` paid a day earlier than on file (or the day before
    ``as_of`` if unpaid): a change of facts for 1 % of persons. Returns the number of persons changed."""
    due = MonthlyDue._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"""UPDATE {due} SET settled_on = COALESCE(settled_on, %s) - 1, paid_principal = total
                WHERE person_id %% 100 = 7 AND month = %s""",
            [as_of, as_of.replace(day=1)],
        )
        return cur.rowcount


def peak_memory() -> str:
    """Peak resident memory (getrusage ``ru_maxrss``, KiB on Linux) of this process, which runs the chunks with
    ``--processes 1``, and of the largest chunk worker process so far (``--processes N``, forked workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return f"peak RSS: this process {me:.0f} MB" + (f", largest chunk worker {kids:.0f} MB" if kids else "")


def cpu_stolen(path: str = "/proc/stat") -> float | None:
    """Seconds of CPU the host took from this virtual machine since it booted, all cores together (``steal``, the
    eighth figure of the ``cpu`` line of ``/proc/stat``, in clock ticks); None where the file or the figure is
    missing. On a shared host the same command varies by tens of percent with it (issue #13: 24.7 to 43.1 s for the
    same claims run within the hour), so each timing is printed with what the host took meanwhile."""
    try:
        with open(path) as f:
            fields = f.readline().split()
    except OSError:
        return None
    if len(fields) < 9 or fields[0] != "cpu":
        return None
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")


def stolen_since(before: float | None) -> str:
    """``; the host took N s of CPU meanwhile`` since the reading ``before`` (empty where there is none)."""
    after = cpu_stolen()
    return "" if before is None or after is None else f"; the host took {after - before:.1f} s of CPU meanwhile"


class _FloorDone(Exception):
    """Rolls the floor pass back."""


class Command(BaseCommand):
    help = "夜间批处理基准测试（PostgreSQL）：生成人群与缴费历史，计时 run_nightly 与逐行 ORM 循环。"

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=1_000_000)
        parser.add_argument("--as-of", type=date.fromisoformat, default=date(2025, 6, 20))
        parser.add_argument("--naive", type=int, default=10_000, help="persons in the naive ORM loop")
        parser.add_argument("--skip-generate", action="store_true")
        parser.add_argument("--chunk-size", type=int, default=None)
        parser.add_argument(
            "--generate-only", action="store_true", help="only build the population (kept for later runs)"
        )
        parser.add_argument(
            "--runs", type=int, default=2, help="nightly runs on the same night (the 2nd+ must change nothing)"
        )
        parser.add_argument("--processes", type=int, default=1, help="run_nightly --processes N")
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="then the incremental nights: the next day, and the same day after 1%% of persons paid a month",
        )
        parser.add_argument(
            "--keep", dest="fresh", action="store_false", help="keep the last runs' results (default: start fresh)"
        )

    def handle(self, *args, persons, as_of, naive, skip_generate, chunk_size, generate_only, runs, fresh, **options):
        processes = options["processes"]
        first_night: float | None = None
        if not is_postgres():
            raise CommandError("bench_nightly needs PostgreSQL (DATABASE_URL=postgres://...)")
        have = InsuredPerson.objects.count()
        if not skip_generate and have < persons:
            t0 = time.perf_counter()
            per = (persons - have) // len(JURISDICTIONS)
            for i, code in enumerate(JURISDICTIONS):
                n = per if i < len(JURISDICTIONS) - 1 else persons - have - per * (len(JURISDICTIONS) - 1)
                generate_population(
                    jurisdiction=code, employers=max(1, n // 200), persons=n, as_of=date(2024, 1, 1), seed=i + 1
                )
            # the dues' years (12–24 months back) get their own partitions before the rows arrive
            ensure_current_partitions(years=range(as_of.year - 2, as_of.year + 1))
            dues = generate_dues(as_of)
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
            self.stdout.write(f"generated {persons - have} persons, {dues} dues in {time.perf_counter() - t0:.1f} s")
        total = InsuredPerson.objects.count()
        self.stdout.write(f"population: {total} persons, {MonthlyDue.objects.count()} dues")
        if generate_only:
            return
        if fresh:
            self.stdout.write(f"fresh start (no timelines, no fees accrued, no clearance cases): {forget_nightly()}")

        def day() -> None:
            self.stdout.write(
                f"between nights (autovacuum's work, off on this server; in no night's time): "
                f"VACUUM (ANALYZE) of the night's tables {vacuum_between_nights():.2f} s"
            )

        day()

        def night(label: str, on: date) -> float:
            t0, stolen = time.perf_counter(), cpu_stolen()
            run = run_in_process(NIGHTLY, as_of=on, chunk_size=chunk_size, processes=processes)
            dt = time.perf_counter() - t0
            self.stdout.write(f"run_nightly {label}: {dt:.2f} s, {total / dt:,.0f} persons/s{stolen_since(stolen)}")
            stolen = cpu_stolen()
            floor = floor_pass(on)
            share = f"; {dt / first_night:.1%} of the first night" if first_night else ""
            self.stdout.write(
                f"  floor (hand-written SQL, same tables): {floor:.2f} s; ratio {dt / floor:.2f}×{share}"
                f"{stolen_since(stolen)}"
            )
            for line in describe(run, dt):
                self.stdout.write("  " + line)
            self.stdout.write("  " + peak_memory())
            return dt

        for n in range(runs):
            if n:
                day()
            dt = night("first run" if n == 0 else f"run {n + 1} (same night)", as_of)
            if n == 0:
                first_night = dt
        if options["incremental"]:
            day()
            night("next night (as_of + 1 day)", as_of + timedelta(days=1))
            # the day: autovacuum visits what the night wrote, then 1 % of persons pay (too few dead rows to wake
            # autovacuum on the dues before the next night)
            day()
            changed = pay_one_percent(as_of)
            night(f"same night after {changed} persons (1%) paid a month", as_of + timedelta(days=1))

        if not naive:
            return
        ids = list(InsuredPerson.objects.order_by("id").values_list("id", flat=True)[:naive])
        t0 = time.perf_counter()
        written, errors = naive_loop(as_of, ids)
        dt = time.perf_counter() - t0
        self.stdout.write(
            f"naive per-row ORM loop: {len(ids)} persons in {dt:.1f} s, {len(ids) / dt:,.0f} persons/s "
            f"({written} periods saved, {errors} persons not computable)"
        )
