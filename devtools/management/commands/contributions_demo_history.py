"""``python manage.py contributions_demo_history --jurisdiction ziyang --first-month 2024-01 --months 12``.

Adds declarations, bases, months of dues and payments (about 5% of persons left in arrears) to a
population made by ``demo_population``. Demo data: a missing reference wage is stored as a demo
statistic (is_demo).
"""

from datetime import date

from django.core.management.base import BaseCommand

from contributions.history import history_generate


def _month(value: str) -> date:
    """YYYY-MM (a full date is accepted and taken as its month)."""
    return date.fromisoformat(f"{str(value)[:7]}-01")


class Command(BaseCommand):
    help = "为演示人群生成缴费历史：工资申报、缴费基数、若干月应缴、实缴（约5%人员欠费）。"

    def add_arguments(self, parser):
        parser.add_argument("--jurisdiction", required=True)
        parser.add_argument("--first-month", type=_month, default=date(2024, 1, 1), help="YYYY-MM")
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument("--arrears-per-mille", type=int, default=50)

    def handle(self, *args, jurisdiction, first_month, months, arrears_per_mille, **options):
        report = history_generate(
            jurisdiction=jurisdiction, first_month=first_month, months=months, arrears_per_mille=arrears_per_mille
        )
        self.stdout.write(
            f"{jurisdiction}: {report.declarations} declarations, {report.dues} dues, {report.settled} settled"
        )
        for label, seconds in report.timings.items():
            self.stdout.write(f"  {label}: {seconds:.1f} s")
