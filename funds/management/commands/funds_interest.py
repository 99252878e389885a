"""``python manage.py funds_interest --year 2024 [--jurisdiction X] [--preview]``."""

from datetime import date

from django.core.management.base import BaseCommand

from ._runjob import run_job


class Command(BaseCommand):
    help = "个人账户年度计息（批处理，幂等；利率为 funds.personal_account_interest_pct） (yearly interest)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--jurisdiction")
        parser.add_argument("--preview", action="store_true")
        parser.add_argument("--chunk-size", type=int)

    def handle(self, *args, year, jurisdiction, preview, chunk_size, **options):
        run_job(
            self,
            "funds.interest_post",
            as_of=date(year, 12, 31),
            jurisdiction=jurisdiction,
            params={"year": year},
            preview=preview,
            chunk_size=chunk_size,
        )
