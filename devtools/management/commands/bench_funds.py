"""``python manage.py bench_funds --persons 1000000``: the ledger at scale, on PostgreSQL.

1. a population (the register's ``generate_population``) unless enough persons exist;
2. a personal account for everyone and ``--history-months`` of history (see :mod:`devtools.funds_bench`);
3. one month's retiree credits as a batch run (target < 30 s), then the same run again
   (idempotent: zero changes), and a naive per-row ORM loop on a sample for comparison;
4. a person's balance and statement: the selector and the admin page, timed;
5. the reconciliation over the whole book.
"""

from __future__ import annotations

import multiprocessing
import random
import statistics
import time
from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction
from django.db import connection as conn
from django.test import Client
from django.urls import reverse

from batch.dialect import is_postgres
from batch.partitioning import ensure_current_partitions
from batch.runs import chunk_execute, create_run, run_in_process
from devtools import funds_bench as bench
from enrollment.models import EnrolmentSpan, InsuredPerson
from funds.credits import month_start, next_month, retiree_monthly_amount
from funds.models import AccountKind, EntryKind, FundAccount, JournalEntry, Posting
from funds.posting import Leg, fund_account, personal_account, post_entry
from funds.reconcile import reconcile
from funds.selectors import statement
from operations.demo.population import generate_population
from policy.models import Jurisdiction, PolicyParameter


def _chunk(chunk_id: int) -> None:

    chunk_execute(chunk_id)
    conn.close()


def _run(code: str, month: date, params: dict, o):
    """One run of the monthly credits: in this process, or its chunks spread over ``--parallel`` processes."""
    if o["parallel"] <= 1:
        return run_in_process(
            "funds.retiree_credits", as_of=month, jurisdiction=code, params=params, chunk_size=o["chunk_size"]
        )

    run = create_run("funds.retiree_credits", as_of=month, jurisdiction=code, params=params, chunk_size=o["chunk_size"])
    ids = list(run.chunks.order_by("number").values_list("id", flat=True))
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(o["parallel"]) as pool:
        pool.map(_chunk, ids, chunksize=1)
    run.refresh_from_db()
    return run


class Command(BaseCommand):
    help = "基金账簿性能测试（PostgreSQL）：生成人群与历史记账，计时退休人员按月划入、明细账查询与对账。"

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=1_000_000)
        parser.add_argument("--jurisdiction", default="hunan")
        parser.add_argument("--employers", type=int, default=0, help="默认 persons ÷ 100")
        parser.add_argument("--history-months", type=int, default=6)
        parser.add_argument("--first-month", default="2023-01", help="历史记账的第一个月")
        parser.add_argument("--chunk-size", type=int, default=None)
        parser.add_argument(
            "--parallel", type=int, default=1, help="并行进程数（每个进程执行一部分分块，相当于多个 Celery worker）"
        )
        parser.add_argument("--naive-sample", type=int, default=2000)
        parser.add_argument("--statement-samples", type=int, default=30)
        parser.add_argument("--skip-reconcile", action="store_true")
        parser.add_argument(
            "--prepare-only",
            action="store_true",
            help="只生成人群、账户与历史记账后退出（不计时的部分，可不持基准锁运行）",
        )
        parser.add_argument(
            "--interest-pct",
            help="同时计时年度计息：为历史年度录入该演示利率（%%，仅基准库）后运行 funds.interest_post",
        )

    def out(self, msg: str) -> None:
        self.stdout.write(msg)
        self.stdout.flush()

    def handle(self, *args, **o):
        if not is_postgres():
            raise CommandError("bench_funds 需在 PostgreSQL 上运行 (set DATABASE_URL=postgres://…)")
        jur = Jurisdiction.objects.get(code=o["jurisdiction"])
        self._population(jur, o)
        first = month_start(o["first_month"])
        if not Posting.objects.filter(kind="contribution", account__jurisdiction=jur).exists():
            t = time.perf_counter()
            n = bench.open_all_accounts(jur.pk, first)
            self.out(f"accounts: {n} personal accounts opened in {time.perf_counter() - t:.1f} s")
            self.out(f"history: {o['history_months']} months from {first:%Y-%m} …")
            last = first.year + (first.month - 1 + o["history_months"]) // 12
            ensure_current_partitions(years=range(first.year, last + 1))  # the history's years get partitions
            h = bench.load_history(jurisdiction_id=jur.pk, first_month=first, months=o["history_months"], log=self.out)
            self.out(
                f"history: {h['entries']:,} entries, {h['postings']:,} postings in {h['seconds']:.1f} s "
                f"({h['postings'] / h['seconds']:,.0f} postings/s)"
            )
        # the postings may be partitioned by year (batch/partitioning.py): count and size their partitions too
        parts = "SELECT inhrelid FROM pg_inherits WHERE inhparent = 'funds_posting'::regclass"
        total_postings = self._scalar(
            f"SELECT COALESCE((SELECT sum(reltuples) FROM pg_class WHERE oid IN ({parts})), "
            "(SELECT reltuples FROM pg_class WHERE relname = 'funds_posting'))::bigint"
        )
        total_entries = self._scalar("SELECT reltuples::bigint FROM pg_class WHERE relname = 'funds_journalentry'")
        size = self._scalar(
            f"SELECT pg_size_pretty(pg_total_relation_size('funds_posting') + "
            f"COALESCE((SELECT sum(pg_total_relation_size(inhrelid)) FROM ({parts}) p), 0))"
        )
        self.out(f"ledger: ~{total_postings:,} postings, ~{total_entries:,} entries (postings table {size})")
        if o["prepare_only"]:
            return

        # the month after the history (plus any months already credited by earlier bench runs)
        month = first
        for _ in range(o["history_months"]):
            month = next_month(month)
        while JournalEntry.objects.filter(business_key__startswith="retiree-credit:", effective_on=month).exists():
            month = next_month(month)
        self._credits(jur, month, o)
        self._statements(jur, o)
        if o["interest_pct"]:
            self._interest(jur, first.year, o)
        if not o["skip_reconcile"]:
            t = time.perf_counter()
            result = reconcile()
            self.out(
                f"reconcile: {'balanced' if result.ok else 'BREAKS ' + str(result.checks)} "
                f"in {time.perf_counter() - t:.1f} s ({result.checks})"
            )

    def _scalar(self, sql: str):
        with connection.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()[0]

    def _population(self, jur: Jurisdiction, o) -> None:
        have = InsuredPerson.objects.count()
        missing = o["persons"] - have
        if missing <= 0:
            self.out(f"population: {have:,} persons already there")
            return

        t = time.perf_counter()
        counts = generate_population(
            jurisdiction=jur.code,
            employers=o["employers"] or max(1, missing // 100),
            persons=missing,
            as_of=date(2024, 1, 1),
        )
        dt = time.perf_counter() - t
        self.out(f"population: {counts.persons:,} persons, {counts.employers:,} employers in {dt:.1f} s")
        with connection.cursor() as cur:
            cur.execute("ANALYZE enrollment_insuredperson; ANALYZE enrollment_enrolmentspan")

    def _credits(self, jur: Jurisdiction, month: date, o) -> None:
        retirees = (
            EnrolmentSpan.objects.filter(jurisdiction=jur, category="retiree", start__lt=month).filter(**{}).count()
        )
        params = {"month": f"{month:%Y-%m}"}
        t = time.perf_counter()
        run = _run(jur.code, month, params, o)
        dt = time.perf_counter() - t
        self.out(
            f"retiree credits {month:%Y-%m}: {run.counts} — {run.chunk_count} chunks, {o['parallel']} process(es), "
            f"in {dt:.1f} s ({run.counts.get('credited', 0) / dt:,.0f} retirees/s; ~{retirees:,} retirees; "
            "target < 30 s)"
        )
        t = time.perf_counter()
        again = _run(jur.code, month, params, o)
        self.out(f"retiree credits again (idempotent): {again.counts} in {time.perf_counter() - t:.1f} s")
        # naive per-row ORM loop on a sample, rolled back: what one save() per retiree would cost
        sample = list(
            EnrolmentSpan.objects.filter(jurisdiction=jur, category="retiree", start__lt=month).values_list(
                "person_id", flat=True
            )[: o["naive_sample"]]
        )
        if sample:
            later = next_month(month)
            amount = retiree_monthly_amount(jur.code, later)
            pool = fund_account(jur, AccountKind.POOLED)
            t = time.perf_counter()
            with transaction.atomic():
                for pid in sample:
                    acct = personal_account(pid, jur, on=later)
                    post_entry(
                        business_key=f"retiree-credit:{pid}:{later:%Y-%m}",
                        kind=EntryKind.RETIREE_CREDIT,
                        jurisdiction=jur,
                        effective_on=later,
                        legs=[Leg(acct, amount), Leg(pool, -amount)],
                        person=pid,
                    )
                transaction.set_rollback(True)
            dt = time.perf_counter() - t
            rate = len(sample) / dt
            self.out(
                f"naive per-row ORM loop: {len(sample)} retirees in {dt:.1f} s ({rate:,.0f}/s) — "
                f"all ~{retirees:,} would take ~{retirees / rate:,.0f} s"
            )

    def _interest(self, jur: Jurisdiction, year: int, o) -> None:

        PolicyParameter.objects.get_or_create(
            jurisdiction=jur,
            key="funds.personal_account_interest_pct",
            effective_from=date(year, 1, 1),
            defaults={"value": o["interest_pct"], "citation": "基准测试演示利率", "note": "bench_funds（非官方数）"},
        )
        t = time.perf_counter()
        run = run_in_process(
            "funds.interest_post",
            as_of=date(year, 12, 31),
            jurisdiction=jur.code,
            params={"year": year},
            chunk_size=o["chunk_size"],
        )
        self.out(f"interest {year} at {o['interest_pct']}%: {run.counts} in {time.perf_counter() - t:.1f} s")

    def _statements(self, jur: Jurisdiction, o) -> None:
        max_id = (
            FundAccount.objects.filter(jurisdiction=jur, kind="personal")
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        if not max_id:
            return
        rnd = random.Random(7)
        accounts = []
        while len(accounts) < o["statement_samples"]:
            acct = (
                FundAccount.objects.filter(jurisdiction=jur, kind="personal", id__gte=rnd.randrange(max_id))
                .order_by("id")
                .first()
            )
            if acct:
                accounts.append(acct)
        sel, pages, counts = [], [], []
        user = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_superuser(
            "bench_admin", password="bench-pw-123"
        )
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        for acct in accounts:
            t = time.perf_counter()
            st = statement(acct, page=1)
            sel.append((time.perf_counter() - t) * 1000)
            counts.append(st.count)
            t = time.perf_counter()
            resp = client.get(reverse("admin:funds_fundaccount_change", args=[acct.pk]))
            pages.append((time.perf_counter() - t) * 1000)
            if resp.status_code != 200:
                raise CommandError(f"statement page {acct.pk}: HTTP {resp.status_code}")

        def fmt(xs):
            xs = sorted(xs)
            return (
                f"median {statistics.median(xs):.1f} ms, p95 {xs[int(len(xs) * 0.95) - 1]:.1f} ms, max {xs[-1]:.1f} ms"
            )

        self.out(f"statement selector ({len(accounts)} persons, {min(counts)}–{max(counts)} postings each): {fmt(sel)}")
        self.out(f"statement admin page (balance + page 1, rendered): {fmt(pages)}")
