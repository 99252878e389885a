"""``python manage.py funds_retiree_credits --month 2024-03 [--jurisdiction X] [--preview]``."""

from datetime import date

from django.core.management.base import BaseCommand

from funds.credits import month_start

from ._runjob import run_job


class Command(BaseCommand):
    help = "退休人员个人账户按月划入（批处理，幂等） (monthly retiree credits)."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--jurisdiction")
        parser.add_argument("--preview", action="store_true", help="计算但不提交")
        parser.add_argument("--chunk-size", type=int)
        parser.add_argument("--as-of", type=date.fromisoformat)

    def handle(self, *args, month, jurisdiction, preview, chunk_size, as_of, **options):
        first = month_start(month)
        run_job(
            self,
            "funds.retiree_credits",
            as_of=as_of or first,
            jurisdiction=jurisdiction,
            params={"month": f"{first:%Y-%m}"},
            preview=preview,
            chunk_size=chunk_size,
        )
