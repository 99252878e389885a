"""``python manage.py demo_population --jurisdiction hunan --employers 20 --persons 1000``."""

import time
from datetime import date

from django.core.management.base import BaseCommand

from operations.demo.population import generate_population


class Command(BaseCommand):
    help = "生成演示人群：用人单位、参保人员（有效身份证号）、参保关系 (generate a population)."

    def add_arguments(self, parser):
        parser.add_argument("--jurisdiction", required=True)
        parser.add_argument("--employers", type=int, default=20)
        parser.add_argument("--persons", type=int, default=1000)
        parser.add_argument("--as-of", type=date.fromisoformat, default=date(2024, 1, 1))
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, jurisdiction, employers, persons, as_of, seed, **options):
        t0 = time.perf_counter()
        counts = generate_population(
            jurisdiction=jurisdiction, employers=employers, persons=persons, as_of=as_of, seed=seed
        )
        dt = time.perf_counter() - t0
        self.stdout.write(
            f"{jurisdiction}: {counts.employers} employers, {counts.persons} persons, {counts.spans} spans "
            f"in {dt:.1f} s ({counts.persons / dt if dt else 0:.0f} persons/s)"
        )
