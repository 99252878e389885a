"""A generated population for the simulation's tests and benchmark (bench only, never production):
persons with a year of wage declarations, bases and dues (:mod:`contributions.history`) and a settlement file
of claims adjudicated by the production batch (:mod:`devtools.management.commands.bench_claims`)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date

from django.core.files.base import ContentFile
from django.utils import timezone

from batch.runs import run_in_process
from benefits.claims.imports import analyze_claims, settlement_file_import
from benefits.claims.jobs import JOB as CLAIMS_JOB
from benefits.claims.models import SettlementFile
from contributions.history import history_generate
from devtools.management.commands.bench_claims import DEMO_STATS
from devtools.management.commands.bench_claims import Command as ClaimsBench
from enrollment.models import InsuredPerson
from operations.demo.population import generate_population
from policy.models import Jurisdiction, ReferenceStatistic


@dataclass
class WorldTimings:
    seconds: dict[str, float] = field(default_factory=dict)
    dues: int = 0
    claims: int = 0


def build_world(
    *, jurisdiction: str = "hunan", persons: int = 60, claims: int = 200, year: int = 2024, seed: int = 3
) -> WorldTimings:
    """Population, a year of dues, and ``claims`` claims settled by the production batch (timed)."""
    out = WorldTimings()
    jur = Jurisdiction.objects.get(code=jurisdiction)
    t0 = time.perf_counter()
    generate_population(
        jurisdiction=jurisdiction, employers=max(persons // 50, 1), persons=persons, as_of=date(year, 1, 1), seed=seed
    )
    out.seconds["population"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = history_generate(jurisdiction=jurisdiction, first_month=date(year, 1, 1), months=12, arrears_per_mille=50)
    out.seconds["dues_history"] = time.perf_counter() - t0
    # the production batch's own work: the year's base reset and twelve monthly dues runs (dues_generate)
    out.seconds["bases"] = sum(v for k, v in report.timings.items() if k.startswith("declarations+bases"))
    out.seconds["dues"] = sum(v for k, v in report.timings.items() if k.startswith("dues "))
    out.dues = report.dues
    for key, value in DEMO_STATS.items():
        if not ReferenceStatistic.objects.filter(jurisdiction=jur, key=key).exists():
            ReferenceStatistic.objects.create(
                jurisdiction=jur,
                key=key,
                effective_from=date(year - 1, 1, 1),
                period_label="演示",
                value=value,
                is_demo=True,
                source="simulation_world",
            )
    if claims:
        bench = ClaimsBench()
        bench.stdout = _Quiet()
        bench._cover(jur)
        people = list(
            InsuredPerson.objects.filter(spans__jurisdiction=jur).values_list("id_number", flat=True).distinct()
        )
        tag = timezone.now().strftime("%H%M%S%f")
        data = bench._csv(people, claims, random.Random(seed), f"S{tag}", lines=jurisdiction == "ziyang")
        sfile = SettlementFile.objects.create(jurisdiction=jur, as_of=date(year, 12, 31), original_name="sim.csv")
        sfile.file.save(f"sim-{tag}.csv", ContentFile(data), save=True)
        settlement_file_import(sfile, today=sfile.as_of)
        analyze_claims()
        t0 = time.perf_counter()
        run = run_in_process(CLAIMS_JOB, as_of=sfile.as_of, jurisdiction=jurisdiction, params={"file_id": sfile.pk})
        out.seconds["claims_settle"] = time.perf_counter() - t0
        out.claims = int(run.counts.get("adjudicated", 0)) + int(run.counts.get("refused", 0))
    return out


class _Quiet:
    def write(self, *args, **kwargs) -> None:
        pass
