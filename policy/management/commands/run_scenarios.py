"""``python manage.py run_scenarios PATH [PATH ...]`` (SCENARIOS.md, "Runner")."""

import sys

from django.core.management.base import BaseCommand

from policy.scenarios import run_paths


class Command(BaseCommand):
    help = "运行情形用例文件 (run scenario files); prints failures then 'N passed, M failed'."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+")
        parser.add_argument("--jurisdiction")
        parser.add_argument("--calculation")

    def handle(self, *args, paths, jurisdiction=None, calculation=None, **options):
        results = run_paths(paths, jurisdiction=jurisdiction, calculation=calculation)
        failed = [r for r in results if not r.passed]
        for r in failed:
            self.stdout.write(r.line())
        self.stdout.write(f"{len(results) - len(failed)} passed, {len(failed)} failed")
        self.stdout.flush()
        if failed:
            sys.exit(1)
