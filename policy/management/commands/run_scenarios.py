"""``python manage.py run_scenarios PATH [PATH ...]`` (SCENARIOS.md, "Runner").

``run_scenarios --describe [CALCULATION]`` lists every calculation (or one) with its inputs and outputs:
type, unit, choices, default, Chinese label, and whether SCENARIOS.md fixes the name (contract) or it is
the project's extension (issue #18 item 2).
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from policy.calculations import discover
from policy.scenario_describe import as_text
from policy.scenario_describe import describe as describe_calculations
from policy.scenarios import run_paths


class Command(BaseCommand):
    help = "运行情形用例文件 (run scenario files); prints failures then 'N passed, M failed'."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*")
        parser.add_argument("--jurisdiction")
        parser.add_argument("--calculation")
        parser.add_argument(
            "--describe",
            nargs="?",
            const="",
            default=None,
            metavar="CALCULATION",
            help="列出计算的输入输出项 (list calculations, or one, with their inputs and outputs)",
        )

    def handle(self, *args, paths, jurisdiction=None, calculation=None, describe=None, **options):
        if describe is not None:
            try:
                descriptions = describe_calculations(discover(), describe or None)
            except KeyError:
                raise CommandError(f"未知计算 (unknown calculation): {describe!r}") from None
            self.stdout.write(as_text(descriptions))
            return
        if not paths:
            raise CommandError("给出用例文件或目录 (give scenario files or folders), or --describe")
        results = run_paths(paths, jurisdiction=jurisdiction, calculation=calculation)
        failed = [r for r in results if not r.passed]
        for r in failed:
            self.stdout.write(r.line())
        self.stdout.write(f"{len(results) - len(failed)} passed, {len(failed)} failed")
        self.stdout.flush()
        if failed:
            sys.exit(1)
