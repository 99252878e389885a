"""``python manage.py arrears_accrue --date 2025-08-10 [--jurisdiction X] [--preview]``: 欠费滞纳金计提."""

from datetime import date

from django.core.management.base import BaseCommand

from contributions import services

from ._runs import run_report


class Command(BaseCommand):
    help = "欠费滞纳金计提：按截止日重新计算所有未缴清应缴的滞纳金（缓缴期间不计）；同日再运行不产生变化。"

    def add_arguments(self, parser):
        parser.add_argument("--date", type=date.fromisoformat, required=True, help="as of (YYYY-MM-DD)")
        parser.add_argument("--jurisdiction", default=None)
        parser.add_argument("--preview", action="store_true")
        parser.add_argument("--chunk-size", type=int, default=None)

    def handle(self, *args, date, jurisdiction, preview, chunk_size, **options):
        run = services.arrears_accrue(
            on=date, jurisdiction=jurisdiction, preview=preview, in_process=True, chunk_size=chunk_size
        )
        self.stdout.write(run_report(run))
