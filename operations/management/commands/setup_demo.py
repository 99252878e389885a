"""``python manage.py setup_demo``: the quick start's data — demo statistics, users, a small population.

Idempotent: run it again and nothing is duplicated.
"""

from datetime import date
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from enrollment.models import Employer, EmployerUser, InsuredPerson
from enrollment.roles import AUDITOR, BUREAU_ADMIN, CASE_WORKER, EMPLOYER_USER
from funds.models import JournalEntry
from operations.demo.arrears import demo_arrears_history
from operations.demo.ledger import demo_ledger
from operations.demo.population import generate_population
from policy.catalog import read_yaml
from policy.models import Jurisdiction, ReferenceStatistic

DEMO_STATS = Path(__file__).resolve().parents[2] / "demo" / "statistics.yaml"  # operations/demo/
DEMO_USERS = [
    # username, password, group, superuser
    ("admin", "medins-admin", BUREAU_ADMIN, True),
    ("jingban", "medins-jingban", CASE_WORKER, False),
    ("shenji", "medins-shenji", AUDITOR, False),
    ("danwei", "medins-danwei", EMPLOYER_USER, False),
]


class Command(BaseCommand):
    help = "载入演示数据：演示统计指标、演示用户、五个统筹区的小规模人群。"

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=300, help="每个统筹区的人数")
        parser.add_argument("--employers", type=int, default=8, help="每个统筹区的单位数")

    @transaction.atomic
    def handle(self, *args, persons, employers, **options):
        for row in read_yaml(DEMO_STATS):
            ReferenceStatistic.objects.update_or_create(
                jurisdiction=Jurisdiction.objects.get(code=row["jurisdiction"]),
                key=row["key"],
                effective_from=row["effective_from"],
                defaults={
                    "value": row["value"],
                    "period_label": row["period"],
                    "is_demo": True,
                    "source": "演示数据，非官方公布数",
                },
            )
        if not InsuredPerson.objects.exists():
            for code in Jurisdiction.objects.values_list("code", flat=True):
                counts = generate_population(
                    jurisdiction=code, employers=employers, persons=persons, as_of=date(2024, 1, 1)
                )
                self.stdout.write(f"  {code}: {counts.employers} 家单位, {counts.persons} 名参保人员")

        if InsuredPerson.objects.exists() and not JournalEntry.objects.exists():
            self.stdout.write(f"  基金账簿演示记账：{demo_ledger(log=self.stdout.write)}")
        if InsuredPerson.objects.exists():
            self.stdout.write(f"  欠费暂停演示：{demo_arrears_history()}")
        User = get_user_model()
        for username, password, group, superuser in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
            if created:
                user.set_password(password)
                user.is_superuser = superuser
                user.save()
            user.groups.add(Group.objects.get(name=group))
        employer = Employer.objects.order_by("id").first()
        if employer is not None:
            EmployerUser.objects.get_or_create(
                user=User.objects.get(username="danwei"), defaults={"employer": employer}
            )
        self.stdout.write(self.style.SUCCESS("演示数据已就绪 (demo data ready)."))
