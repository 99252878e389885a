"""``python manage.py base_reset --jurisdiction langfang --date 2025-07-01 [--preview]``: 年度缴费基数核定."""

from datetime import date

from django.core.management.base import BaseCommand

from contributions import services

from ._runs import run_report


class Command(BaseCommand):
    help = "年度缴费基数核定：重新核定缴费年度的个人和单位缴费基数（分块、幂等；--preview 只统计不保存）。"

    def add_arguments(self, parser):
        parser.add_argument("--jurisdiction", required=True)
        parser.add_argument(
            "--date", type=date.fromisoformat, required=True, help="a day of the base year (YYYY-MM-DD)"
        )
        parser.add_argument("--preview", action="store_true")
        parser.add_argument("--chunk-size", type=int, default=None)

    def handle(self, *args, jurisdiction, date, preview, chunk_size, **options):
        run = services.base_reset(
            jurisdiction=jurisdiction, on=date, preview=preview, in_process=True, chunk_size=chunk_size
        )
        self.stdout.write(run_report(run))
