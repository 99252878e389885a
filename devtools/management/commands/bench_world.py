"""``python manage.py bench_world`` (PostgreSQL): the benchmark database of issue #13 at a province's scale.

Builds, on an empty (migrated) database, what ``bench_lists`` and ``bench_nightly`` are measured on —
by default 1,000,000 persons, ≈ 12.7 M dues, ≈ 50 M postings and 1,000,000 claims:

1. persons, employers, spans and 12–24 months of dues per in-service person over the five jurisdictions
   (``bench_nightly``'s generator: ``generate_population`` + :func:`generate_dues`);
2. the nightly run as of ``--as-of`` (eligibility periods and states, late fees, clearance cases);
3. personal accounts and ``--posting-months`` months of ledger history per jurisdiction
   (:func:`devtools.funds_bench.load_history`: ≈ 4.3 postings per person-month);
4. claims: ``--template-claims`` claims read and adjudicated by the real path (``bench_claims``, hunan), then
   copied set-wise onto hunan's persons — one ``INSERT … SELECT`` giving each copy its own person, business
   key and dates shifted within the year — until there are ``--claims`` claims.

Every step skips what is already there, so an interrupted build is continued by running it again.
Bench data, not policy: amounts are placeholders.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from batch.dialect import is_postgres
from batch.partitioning import ensure_current_partitions
from batch.runs import run_in_process
from benefits.claims.models import Claim
from contributions.models import MonthlyDue
from devtools import funds_bench
from devtools.management.commands.bench_nightly import JURISDICTIONS, generate_dues
from enrollment.models import EnrolmentSpan, InsuredPerson
from funds.models import Posting
from operations.demo.population import generate_population
from operations.jobs import NIGHTLY
from policy.models import Jurisdiction

CLAIMS_JURISDICTION = "hunan"
# columns a copied claim gets anew; every other column is the template's
_CLAIM_OVERRIDES = {
    "id": None,
    "business_key": "'BW' || g.pid || '-' || g.k",
    "person_id": "g.pid",
    "start_date": "t.start_date + g.shift",
    "end_date": "t.end_date + g.shift",
    "submitted_on": "t.submitted_on + g.shift",
    "transfer_from_id": "NULL",
    "settlement_file_id": "NULL",
    "row_number": "NULL",
    "run_id": "NULL",
    "journal_entry_id": "NULL",
    "reversal_entry_id": "NULL",
    "created_at": "now()",
}


@contextmanager
def secondary_indexes_dropped(*tables: str) -> Iterator[list[str]]:
    """Drop the tables' indexes that back no constraint (the search's trigram GIN indexes above all: kept up
    row by row they make the generator ten times slower) and build them again, each in one pass, at the end."""
    with connection.cursor() as cur:
        cur.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = to_regclass(i.indexname))""",
            [list(tables)],
        )
        dropped = cur.fetchall()
        for name, _ in dropped:
            cur.execute(f'DROP INDEX IF EXISTS "{name}"')
    try:
        yield [name for name, _ in dropped]
    finally:
        with connection.cursor() as cur:
            for _, definition in dropped:
                # a partitioned table's index is defined ``ON ONLY`` the parent (pg_indexes): built so it would
                # stay invalid, on no partition; without ONLY it is built on every partition and attached
                definition = definition.replace(" ON ONLY ", " ON ", 1)
                cur.execute(definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))


def copy_claims(jurisdiction_id: int, templates_file_id: int, wanted: int) -> int:
    """Copy the claims of one settlement file onto the jurisdiction's persons until ``wanted`` claims exist."""
    table = Claim._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {table}")
        need = wanted - cur.fetchone()[0]
        cur.execute(f"SELECT COUNT(*) FROM {table} WHERE settlement_file_id = %s", [templates_file_id])
        n_templates = cur.fetchone()[0]
        cur.execute(
            f"SELECT COUNT(DISTINCT person_id) FROM {EnrolmentSpan._meta.db_table} WHERE jurisdiction_id = %s",
            [jurisdiction_id],
        )
        persons = cur.fetchone()[0]
        if need <= 0 or not n_templates or not persons:
            return 0
        copies = -(-need // persons)
        columns = [f.column for f in Claim._meta.concrete_fields if f.column != "id"]
        select = ", ".join(_CLAIM_OVERRIDES.get(c) or f't."{c}"' for c in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        cur.execute(
            f"""
            INSERT INTO {table} ({names})
            SELECT {select}
            FROM (
                SELECT p.pid, k, (p.pn * 7 + k) %% %s AS tn, ((p.pid * 31 + k * 97) %% 240 - 120)::int AS shift
                FROM (SELECT person_id AS pid, row_number() OVER (ORDER BY person_id) AS pn
                      FROM (SELECT DISTINCT person_id FROM {EnrolmentSpan._meta.db_table}
                            WHERE jurisdiction_id = %s) s) p
                CROSS JOIN generate_series(0, %s - 1) AS k
                LIMIT %s
            ) g
            JOIN (SELECT *, row_number() OVER (ORDER BY id) - 1 AS tn FROM {table}
                  WHERE settlement_file_id = %s) t ON t.tn = g.tn""",
            [n_templates, jurisdiction_id, copies, need, templates_file_id],
        )
        made = cur.rowcount
        cur.execute(f"VACUUM (ANALYZE) {table}")
    return made


class Command(BaseCommand):
    help = "基准数据库（PostgreSQL）：百万参保人、缴费月、记账分录与结算单据，供 bench_lists / bench_nightly 使用。"

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=1_000_000)
        parser.add_argument("--as-of", type=date.fromisoformat, default=date(2025, 6, 20))
        parser.add_argument("--posting-months", type=int, default=12, help="months of ledger history (≈4.3/person)")
        parser.add_argument("--claims", type=int, default=1_000_000)
        parser.add_argument("--template-claims", type=int, default=5_000, help="claims adjudicated by the real path")
        parser.add_argument("--processes", type=int, default=2, help="processes for the nightly run")
        parser.add_argument("--skip-nightly", action="store_true", help="no nightly run (bench_nightly does its own)")

    def out(self, msg: str) -> None:
        self.stdout.write(msg)
        self.stdout.flush()

    def handle(self, *args, persons, as_of, posting_months, claims, template_claims, processes, **options):
        if not is_postgres():
            raise CommandError("bench_world needs PostgreSQL (DATABASE_URL=postgres://...)")
        t_all = time.perf_counter()
        # where the big tables are partitioned by year, the years the generated rows fall in get theirs first
        ensure_current_partitions(as_of, years=range(as_of.year - 2, as_of.year + 1))
        self._population(persons, as_of)
        if not options["skip_nightly"]:
            self._nightly(as_of, processes)
        if posting_months:
            self._postings(as_of, posting_months)
        self._claims(claims, template_claims)
        # what autovacuum does after a bulk load (it is off on the sandbox's server): the visibility map that
        # lets counts and lists read indexes only, and fresh statistics
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("VACUUM (ANALYZE)")
        self.out(f"VACUUM (ANALYZE): {time.perf_counter() - t0:.0f} s")
        self.out(
            f"world: {InsuredPerson.objects.count():,} persons, {MonthlyDue.objects.count():,} dues, "
            f"{self._estimate(Posting._meta.db_table):,} postings (estimate), {Claim.objects.count():,} claims "
            f"in {time.perf_counter() - t_all:.0f} s"
        )

    def _estimate(self, table: str) -> int:
        with connection.cursor() as cur:
            cur.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            row = cur.fetchone()
        return row[0] if row else 0

    def _population(self, persons: int, as_of: date) -> None:
        have = InsuredPerson.objects.count()
        if have >= persons:
            self.out(f"population: {have:,} persons already there")
            return
        t0 = time.perf_counter()
        per = (persons - have) // len(JURISDICTIONS)
        tables = [m._meta.db_table for m in (InsuredPerson, EnrolmentSpan, MonthlyDue)]
        with secondary_indexes_dropped(*tables):
            for i, code in enumerate(JURISDICTIONS):
                n = per if i < len(JURISDICTIONS) - 1 else persons - have - per * (len(JURISDICTIONS) - 1)
                generate_population(
                    jurisdiction=code, employers=max(1, n // 200), persons=n, as_of=date(2024, 1, 1), seed=i + 1
                )
                self.out(f"  {code}: {n:,} persons")
            dues = generate_dues(as_of) if not MonthlyDue.objects.exists() else 0
        with connection.cursor() as cur:
            cur.execute("VACUUM (ANALYZE)")
        self.out(f"population: {persons - have:,} persons, {dues:,} dues in {time.perf_counter() - t0:.0f} s")

    def _nightly(self, as_of: date, processes: int) -> None:
        from benefits.models import EligibilityState

        if EligibilityState.objects.exists():
            self.out("nightly: timelines already there")
            return
        t0 = time.perf_counter()
        run_in_process(NIGHTLY, as_of=as_of, processes=processes)
        self.out(f"nightly as of {as_of}: {time.perf_counter() - t0:.0f} s")

    def _postings(self, as_of: date, months: int) -> None:
        if Posting.objects.exists():
            self.out(f"postings: already there (≈{self._estimate(Posting._meta.db_table):,})")
            return
        start = as_of.year * 12 + as_of.month - months  # the history ends with the month of as_of
        first = date(start // 12, start % 12 + 1, 1)
        for n, code in enumerate(JURISDICTIONS, 1):
            jur = Jurisdiction.objects.get(code=code)
            t0 = time.perf_counter()
            funds_bench.open_all_accounts(jur.pk, first)
            h = funds_bench.load_history(
                jurisdiction_id=jur.pk,
                first_month=first,
                months=months,
                log=lambda m: None,
                finish=n == len(JURISDICTIONS),
            )
            self.out(
                f"postings {code}: {h['entries']:,} entries, {h['postings']:,} postings from {first:%Y-%m} "
                f"in {time.perf_counter() - t0:.0f} s"
            )

    def _claims(self, wanted: int, templates: int) -> None:
        if Claim.objects.count() >= wanted:
            self.out(f"claims: {Claim.objects.count():,} already there")
            return
        jur = Jurisdiction.objects.get(code=CLAIMS_JURISDICTION)
        from benefits.claims.models import SettlementFile

        t0 = time.perf_counter()
        if not SettlementFile.objects.filter(jurisdiction=jur, original_name="bench.csv").exists():
            call_command("bench_claims", claims=templates, persons=0, jurisdiction=CLAIMS_JURISDICTION, naive=0)
        sfile = SettlementFile.objects.filter(jurisdiction=jur, original_name="bench.csv").latest("pk")
        made = copy_claims(jur.pk, sfile.pk, wanted)
        self.out(f"claims: {made:,} copied from {templates:,} adjudicated in {time.perf_counter() - t0:.0f} s")
