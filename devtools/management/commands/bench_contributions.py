"""``python manage.py bench_contributions --jurisdiction ziyang --persons 1000000 --months 12``.

Generates the population and its contribution history (unless ``--no-generate``), then times the
annual base reset and the nightly accrual (set-based, chunked; each run twice) and the naive
per-row ORM loop over ``--naive-persons`` persons. Prints persons per second. Run it on PostgreSQL:
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_contrib``. With ``--celery`` the chunks go to
Celery workers started beforehand with the same DATABASE_URL and CELERY_BROKER_URL, e.g.
``celery -A config worker -c 2``.
"""

from datetime import date

from django.core.management.base import BaseCommand

from devtools.contributions_bench import run_bench


def _month(value: str) -> date:
    """YYYY-MM (a full date is accepted and taken as its month)."""
    return date.fromisoformat(f"{str(value)[:7]}-01")


class Command(BaseCommand):
    help = "缴费基准测试：年度基数核定、每晚滞纳金计提（集合运算）与逐行 ORM 循环的每秒人数。"

    def add_arguments(self, parser):
        parser.add_argument("--jurisdiction", default="ziyang")
        parser.add_argument("--persons", type=int, default=100_000)
        parser.add_argument("--employers", type=int, default=None, help="default: persons ÷ 50")
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument("--first-month", type=_month, default=date(2024, 1, 1), help="YYYY-MM")
        parser.add_argument("--naive-persons", type=int, default=10_000)
        parser.add_argument("--no-generate", action="store_true", help="use the population already in the database")
        parser.add_argument(
            "--fresh",
            action="store_true",
            help="first undo an earlier benchmark's reset and accrual (with --no-generate)",
        )
        parser.add_argument(
            "--celery",
            action="store_true",
            help="dispatch the chunks to running Celery workers (needs CELERY_BROKER_URL) instead of in-process",
        )

    def handle(
        self,
        *args,
        jurisdiction,
        persons,
        employers,
        months,
        first_month,
        naive_persons,
        no_generate,
        fresh,
        celery,
        **kw,
    ):
        run_bench(
            jurisdiction=jurisdiction,
            persons=persons,
            employers=employers or max(1, persons // 50),
            months=months,
            first_month=first_month,
            naive_persons=naive_persons,
            generate=not no_generate,
            write=self.stdout.write,
            celery=celery,
            fresh=fresh,
        )
