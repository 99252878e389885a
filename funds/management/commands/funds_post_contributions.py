"""``python manage.py funds_post_contributions [--jurisdiction X]``: post allocations not yet in the ledger."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from ._runjob import run_job


class Command(BaseCommand):
    help = "缴费到账记账：把尚未记账的缴费冲抵明细记入基金账簿（幂等）."

    def add_arguments(self, parser):
        parser.add_argument("--jurisdiction")
        parser.add_argument("--preview", action="store_true")
        parser.add_argument("--chunk-size", type=int)

    def handle(self, *args, jurisdiction, preview, chunk_size, **options):
        run_job(
            self,
            "funds.contributions_post",
            as_of=timezone.localdate(),
            jurisdiction=jurisdiction,
            params={},
            preview=preview,
            chunk_size=chunk_size,
        )
