"""``python manage.py setup_demo``: the quick start's data — demo statistics, users, a small population
with a history current to today (:mod:`operations.demo.current`), and a few months of ledger history.

Today is the machine's date (``timezone.localdate()``), passed in; ``--today`` sets another. The output
is sentences for a trainee, naming the demo people to look at by name. Idempotent: run it again and
nothing is duplicated.
"""

from datetime import date
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from enrollment.models import Employer, EmployerUser, InsuredPerson
from enrollment.roles import AUDITOR, BUREAU_ADMIN, CASE_WORKER, EMPLOYER_USER
from funds.models import JournalEntry
from operations.demo.claims import demo_claims, demo_resident_claims
from operations.demo.current import add_months, demo_current, showcase
from operations.demo.institutions import demo_institutions
from operations.demo.ledger import demo_ledger
from operations.demo.population import generate_population
from operations.demo.residents import demo_residents
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
        parser.add_argument("--today", type=date.fromisoformat, default=None, help="演示数据截至的日期（默认今天）")

    @transaction.atomic
    def handle(self, *args, persons, employers, today=None, **options):
        today = today or timezone.localdate()
        say = self.stdout.write
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
        say(f"正在准备演示数据（截至 {today:%Y年%-m月%-d日}）……")
        demo_institutions(today, log=say)  # 两定机构: the codes claims name
        if not InsuredPerson.objects.exists():
            for seed, jur in enumerate(Jurisdiction.objects.order_by("code"), start=1):  # a seed each: other names
                counts = generate_population(
                    jurisdiction=jur.code, employers=employers, persons=persons, as_of=today, seed=seed
                )
                say(f"  {jur.name}：新建 {counts.employers} 家演示单位、{counts.persons} 名参保人员")
        else:
            say("  参保人员已存在，未重复生成。")
        summary = None
        if InsuredPerson.objects.exists():
            summary = demo_current(today, log=say)
            if summary.status_today:
                words = "，".join(f"{label} {n} 人" for label, n in sorted(summary.status_today.items()))
                say(f"  今天的待遇享受状态：{words}。")
        if InsuredPerson.objects.exists() and not JournalEntry.objects.exists():
            totals = demo_ledger(first_month=add_months(today.replace(day=1), -5), months=6, log=say)
            say(
                f"  基金账簿演示记账：缴费到账 {totals['contributions']} 笔，退休人员个人账户划入 "
                f"{totals['retiree_credits']} 笔，个人账户支付 {totals['payments']} 笔，"
                f"统筹基金待遇支付 {totals['benefit_payments']} 笔。"
            )
        if InsuredPerson.objects.exists():
            demo_claims(today, log=say)  # 住院、门诊、生育 through the ordinary adjudication
            demo_residents(today, log=say)  # 城乡居民医保: households, yearly bills and payments, the resident fund
            demo_resident_claims(today, log=say)  # a resident's stay and birth, paid by the resident fund
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
        say(self.style.SUCCESS("演示数据已就绪。"))
        people = showcase(today) if summary is not None else {}
        if people:
            say("值得一看的演示人员（在「参保人员」中搜索姓名即可打开）：")
            for place, lines in people.items():
                say(f"  {place}：" + "；".join(lines))
