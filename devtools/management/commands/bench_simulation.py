"""``python manage.py bench_simulation --persons 20000 --claims 60000``: a simulation (测算) of one year of dues
and of one year of claims under a draft, against the production batch doing the same work (issue #18 item 7).

Set-up (bench only): a generated population in one jurisdiction with a year of declarations, bases and dues
billed by the production batch (``contributions.dues_generate`` for each of the twelve months, timed), and a
settlement file of claims adjudicated by the production batch (``claims.settle_file``, timed). Then two
simulations of that year, each run in chunks in this process: a draft of the employer rate (bases and dues
billed again, both sides) and a draft of the inpatient deductible (the year's claims decided again, both sides).
Printed: each time, and simulation ÷ production (target ≤ 2).
"""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand
from django.db import connection

from batch.runs import chunk_execute
from devtools.simulation_world import build_world
from operations.simulation.services import simulation_create
from policy.drafts import draft_from_values
from policy.resolver import Policy


class Command(BaseCommand):
    help = "基金测算性能测试: a year of dues and a year of claims simulated vs. the production batch."

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=5000)
        parser.add_argument("--claims", type=int, default=15000)
        parser.add_argument("--jurisdiction", default="hunan")
        parser.add_argument("--year", type=int, default=2024)
        parser.add_argument("--chunk-size", type=int, default=None)
        parser.add_argument("--seed", type=int, default=11)

    def handle(self, *args, persons, claims, jurisdiction, year, chunk_size, seed, **options):
        start, end = date(year, 1, 1), date(year + 1, 1, 1)
        world = build_world(jurisdiction=jurisdiction, persons=persons, claims=claims, year=year, seed=seed)
        policy = Policy(jurisdiction, start)
        rate = policy.decimal("contribution.employer_rate_pct") + 1
        deductible = policy.value("inpatient.deductible_by_level")
        raised = {k: str(v + 300) for k, v in deductible.items()} if isinstance(deductible, dict) else deductible
        timings = {}
        for area, key, value in (
            ("dues", "contribution.employer_rate_pct", str(rate)),
            ("claims", "inpatient.deductible_by_level", raised),
        ):
            draft = draft_from_values(
                f"bench {area}",
                [
                    {
                        "jurisdiction": jurisdiction,
                        "key": key,
                        "effective_from": start,
                        "value": value,
                        "citation": "bench",
                    }
                ],
            )
            sim = simulation_create(draft, start=start, end=end, chunk_size=chunk_size)
            t0 = time.perf_counter()
            for chunk_id in sim.run.chunks.order_by("number").values_list("id", flat=True):
                chunk_execute(chunk_id)
            timings[area] = time.perf_counter() - t0
            sim.run.refresh_from_db()
            self.stdout.write(f"simulation {area}: run #{sim.run.pk} {sim.run.status} counts {sim.run.counts}")
        production = {
            "dues": world.seconds["dues"] + world.seconds["bases"],
            "claims": world.seconds.get("claims_settle", 0.0),
        }
        scale = f"{persons} persons, {world.dues} dues, {world.claims} claims, year {year}"
        self.stdout.write(f"{connection.vendor}, {jurisdiction}, {scale}")
        for area, label in (("dues", "one year of bases + dues"), ("claims", "one year of claims")):
            prod, simt = production[area], timings[area]
            ratio = simt / prod if prod else float("nan")
            self.stdout.write(
                f"{label:<28} production {prod:8.1f} s   simulation (both sides) {simt:8.1f} s   ratio {ratio:5.2f}"
                f"   {'OK (≤ 2)' if ratio <= 2 else 'ABOVE TARGET (> 2)'}"
            )
        total_prod, total_sim = sum(production.values()), sum(timings.values())
        self.stdout.write(
            f"{'total':<28} production {total_prod:8.1f} s   simulation {total_sim:8.1f} s   "
            f"ratio {total_sim / total_prod if total_prod else float('nan'):5.2f}"
        )
