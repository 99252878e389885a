"""``python manage.py dues_generate --month 2025-07 [--jurisdiction X] [--preview]``: 生成月度应缴."""

from datetime import date

from django.core.management.base import BaseCommand

from contributions import services

from ._runs import run_report


def _month(value: str) -> date:
    """YYYY-MM (a full date is accepted and taken as its month)."""
    return date.fromisoformat(f"{str(value)[:7]}-01")


class Command(BaseCommand):
    help = "生成月度应缴（按季/半年/年缴费的单位生成整个缴费周期），并把暂存的溢缴款冲抵新应缴。"

    def add_arguments(self, parser):
        parser.add_argument("--month", type=_month, required=True, help="YYYY-MM")
        parser.add_argument("--jurisdiction", default=None)
        parser.add_argument("--preview", action="store_true")
        parser.add_argument("--chunk-size", type=int, default=None)

    def handle(self, *args, month, jurisdiction, preview, chunk_size, **options):
        run = services.dues_generate(
            month=month, jurisdiction=jurisdiction, preview=preview, in_process=True, chunk_size=chunk_size
        )
        self.stdout.write(run_report(run))
