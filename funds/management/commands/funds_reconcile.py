"""``python manage.py funds_reconcile``: check every ledger invariant; exit status 1 on any break."""

import sys

from django.core.management.base import BaseCommand

from funds.reconcile import reconcile


class Command(BaseCommand):
    help = "基金账簿对账：借贷平衡、余额与分录一致、个人账户不为负、缴费与记账一致。有不平衡项时退出码为 1。"

    def add_arguments(self, parser):
        parser.add_argument("--no-record", action="store_true", help="不保存对账记录")

    def handle(self, *args, no_record, **options):
        result = reconcile(record=not no_record)
        for name, count in result.checks.items():
            self.stdout.write(f"{'OK   ' if count == 0 else 'BREAK'} {name}: {count}")
        for b in result.breaks:
            where = f" account={b.account}" if b.account else ""
            self.stdout.write(f"  [{b.check}] {b.detail}{where} entries={b.entries}")
        self.stdout.write(f"{'balanced' if result.ok else 'BREAKS FOUND'} in {result.seconds:.2f} s")
        if not result.ok:
            sys.exit(1)
