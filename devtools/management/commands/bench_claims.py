"""``python manage.py bench_claims --claims 100000``: time a settlement file's bulk adjudication.

Set-up (bench only): a demo population (enrollment's ``generate_population``) when the
jurisdiction has fewer persons than ``--persons``; persons without a stored eligibility
timeline are given one "covered from the span start" (as if every contribution had been
paid: the demo population has no dues), and the jurisdiction gets demo statistics where
none are stored. Then a csv of claims (普通门诊 / 住院 / 门诊特殊疾病, several per person, in
date order; for ziyang about one stay in ten as item lines and three persons in ten with the
commercial supplementary insurance) is read and adjudicated by the chunked batch run —
in-process, or with ``--celery`` by Celery workers started beforehand with the same
DATABASE_URL and CELERY_BROKER_URL (``celery -A config worker -c 2``) — and a sample is
adjudicated one at a time through the screen's service for comparison.
"""

from __future__ import annotations

import csv
import io
import random
import time
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone

from batch.bulk import copy_rows
from batch.models import BatchRun, RunStatus
from batch.partitioning import ensure_current_partitions
from batch.runs import run_in_process
from batch.tasks import start_run
from benefits.claims.imports import COLUMNS, ITEM_COLUMNS, analyze_claims, settlement_file_import
from benefits.claims.jobs import JOB
from benefits.claims.models import Claim, SettlementFile
from benefits.claims.services import ClaimError, claim_adjudicate
from benefits.models import EligibilityPeriod, EligibilityState
from devtools.management.commands.bench_nightly import cpu_stolen, peak_memory, stolen_since
from enrollment.models import EnrolmentSpan, InsuredPerson
from operations.demo.population import generate_population
from policy.models import Jurisdiction, ReferenceStatistic

DEMO_STATS = {  # demo figures (is_demo=True), only where the bureau has entered none
    "annual_average_wage": Decimal(80000),
    "large_amount_deductible": Decimal(40000),
    "critical_illness_deductible": Decimal(15000),
}


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


class Command(BaseCommand):
    help = "结算文件批量审核结算性能测试 (bulk claims benchmark)."

    def add_arguments(self, parser):
        parser.add_argument("--claims", type=int, default=100_000)
        parser.add_argument("--persons", type=int, default=20_000)
        parser.add_argument("--jurisdiction", default="ziyang")
        parser.add_argument("--naive", type=int, default=1000, help="claims adjudicated one at a time for comparison")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=None,
            help="fixed ranges of this many person ids a chunk (default: ranges of about CLAIMS_CHUNK_CLAIMS claims)",
        )
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--celery",
            action="store_true",
            help="dispatch the chunks to running Celery workers (same DATABASE_URL and CELERY_BROKER_URL)",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="run the chunks in N forked processes of this machine (what N Celery workers do, without a broker)",
        )

    def handle(self, *args, claims, persons, jurisdiction, naive, chunk_size, seed, celery, processes, **options):
        jur = Jurisdiction.objects.get(code=jurisdiction)
        rnd = random.Random(seed)
        have = InsuredPerson.objects.filter(spans__jurisdiction=jur).distinct().count()
        if have < persons:
            t0 = time.perf_counter()
            generate_population(
                jurisdiction=jurisdiction,
                employers=max(persons // 200, 1),
                persons=persons - have,
                as_of=date(2024, 1, 1),
                seed=seed,
            )
            self.stdout.write(f"population: {persons - have} persons in {time.perf_counter() - t0:.1f} s")
        self._cover(jur)
        for key, value in DEMO_STATS.items():
            if not ReferenceStatistic.objects.filter(jurisdiction=jur, key=key).exists():
                ReferenceStatistic.objects.create(
                    jurisdiction=jur,
                    key=key,
                    effective_from=date(2023, 1, 1),
                    period_label="演示",
                    value=value,
                    is_demo=True,
                    source="bench_claims",
                )
        people = list(
            InsuredPerson.objects.filter(spans__jurisdiction=jur).values_list("id_number", flat=True).distinct()
        )
        tag = timezone.now().strftime("%H%M%S")
        ensure_current_partitions(years=(2024, 2025))  # the generated claims' start dates (see _csv)
        data = self._csv(people, claims, rnd, f"B{tag}", lines=jurisdiction == "ziyang")
        sfile = SettlementFile.objects.create(jurisdiction=jur, as_of=date(2024, 12, 31), original_name="bench.csv")
        sfile.file.save(f"bench-{tag}.csv", ContentFile(data), save=True)

        t0, stolen = time.perf_counter(), cpu_stolen()
        read = settlement_file_import(sfile, today=sfile.as_of)
        analyze_claims()
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        kwargs = {"chunk_size": chunk_size} if chunk_size else {}
        params = {"as_of": sfile.as_of, "jurisdiction": jurisdiction, "params": {"file_id": sfile.pk}, **kwargs}
        if celery:
            run, how = _wait(start_run(JOB, **params)), "by Celery workers"
        else:
            run = run_in_process(JOB, processes=processes, **params)
            how = f"in {processes} processes" if processes > 1 else "in-process"
        t_settle = time.perf_counter() - t0
        n = read["imported"]
        self.stdout.write(
            f"{connection.vendor}: read {n} claims in {t_read:.1f} s ({n / t_read:.0f}/s); "
            f"adjudicated {how} in {t_settle:.1f} s "
            f"({n / t_settle:.0f} claims/s) over {run.chunk_count} chunks; counts {run.counts}"
        )
        self.stdout.write(f"read + adjudicate: {t_read + t_settle:.1f} s; {peak_memory()}{stolen_since(stolen)}")
        if naive:
            data = self._csv(people, naive, random.Random(seed + 1), f"N{tag}", lines=jurisdiction == "ziyang")
            nfile = SettlementFile.objects.create(jurisdiction=jur, as_of=date(2024, 12, 31), original_name="naive.csv")
            nfile.file.save(f"naive-{tag}.csv", ContentFile(data), save=True)
            settlement_file_import(nfile, today=nfile.as_of)
            todo = list(Claim.objects.filter(settlement_file=nfile).order_by("person_id", "row_number"))
            t0 = time.perf_counter()
            for claim in todo:
                try:
                    claim_adjudicate(claim, as_of=nfile.as_of)
                except ClaimError:
                    pass
            dt = time.perf_counter() - t0
            self.stdout.write(
                f"one at a time (claim_adjudicate): {len(todo)} claims in {dt:.1f} s ({len(todo) / dt:.0f} claims/s)"
            )

    def _cover(self, jur: Jurisdiction) -> None:
        """Bench set-up: a covered timeline from the span start for persons without a stored one."""
        now = timezone.now()
        spans = (
            EnrolmentSpan.objects.filter(jurisdiction=jur)
            # NOT EXISTS, not NOT IN: a million stored states do not fit a hashed subplan (quadratic)
            .filter(~Exists(EligibilityState.objects.filter(person_id=OuterRef("person_id"))))
            .values_list("person_id", "start")
        )
        rows = list(spans)
        names = {x.name for x in EligibilityState._meta.fields}
        extra = [f for f in ("inputs", "error_key", "version") if f in names]
        copy_rows(
            EligibilityState,
            ["person_id", "digest", "error", "computed_at", "run_id", *extra],
            ((pid, "bench", "", now, None, *([""] * len(extra))) for pid, _ in rows),
        )
        copy_rows(
            EligibilityPeriod,
            [
                "person_id",
                "jurisdiction_id",
                "start",
                "end",
                "status",
                "reason",
                "citation",
                "facts",
                "computed_at",
                "run_id",
            ],
            (
                (pid, jur.pk, start, None, "covered", "演示：视同按时足额缴费", "bench_claims", "{}", now, None)
                for pid, start in rows
            ),
        )
        if rows:
            self.stdout.write(f"bench timelines: {len(rows)} persons marked covered from their span start")

    def _csv(self, people: list[str], n: int, rnd: random.Random, prefix: str, *, lines: bool = False) -> bytes:
        """Claims in date order per person; with ``lines`` (ziyang) about 1 stay in 10 comes as item lines
        (乙类药品, 部分支付项目, 医用材料, 床位费, 甲类) and about 3 persons in 10 hold the commercial
        supplementary insurance (第二十八条–第三十一条)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=[*COLUMNS, *ITEM_COLUMNS])
        writer.writeheader()
        per_person = max(n // max(len(people), 1), 1)
        i = 0
        while i < n:
            who = rnd.choice(people)
            day = date(2024, 1, 2)
            supplementary = lines and rnd.random() < 0.3
            for _ in range(min(per_person, n - i)):
                day += timedelta(days=rnd.randrange(1, max(300 // per_person, 2)))
                kind = rnd.random()
                row = {"business_key": f"{prefix}{i:07d}", "id_number": who, "start_date": day.isoformat()}
                day_start = end = day
                if kind < 0.5:
                    amount = Decimal(rnd.randrange(50, 3000))
                    row.update(med_type="11", hospital_level=rnd.choice(["level1", "level2a", "level3a"]))
                elif kind < 0.9:
                    amount = Decimal(rnd.randrange(3000, 150000))
                    end = day + timedelta(days=rnd.randrange(1, 15))
                    if end.year > day.year:
                        end = date(day.year, 12, 31)
                    row.update(
                        med_type="21",
                        end_date=end.isoformat(),
                        hospital_level=rnd.choice(["level1", "level2b", "level3a"]),
                    )
                    day = end
                else:
                    amount = Decimal(rnd.randrange(100, 5000))
                    row.update(med_type="14", disease_classes=rnd.choice(["2", "3", "2,3"]), hospital_level="level2a")
                own = (amount * Decimal(rnd.randrange(0, 15)) / 100).quantize(Decimal("0.01"))
                row.update(acct_pay_requested=str(rnd.choice([0, 0, 100, 500])))
                if supplementary:
                    row.update(supplementary_insured="1")
                if lines and row["med_type"] == "21" and rnd.random() < 0.1:
                    writer.writerow(row)  # amounts computed from the lines below
                    for kind, qty, price, bed in (
                        ("class_b_drug", 20, rnd.randrange(20, 400), ""),
                        ("part_paid_item", 1, rnd.choice([200, 800, 2500, 5000]), ""),
                        ("material", 1, rnd.choice([300, 2000, 8000, 25000, 70000]), ""),
                        ("bed_fee", (end - day_start).days or 1, rnd.choice([15, 25, 40]), "general"),
                        ("category_a", 1, int(amount), ""),
                    ):
                        writer.writerow(
                            {
                                "business_key": row["business_key"],
                                "item_kind": kind,
                                "quantity": str(qty),
                                "unit_price": str(price),
                                "bed_type": bed,
                            }
                        )
                else:
                    row.update(medfee_sumamt=str(amount + own), fulamt_ownpay=str(own), inscp_scp_amt=str(amount))
                    writer.writerow(row)
                i += 1
        return out.getvalue().encode("utf-8")
