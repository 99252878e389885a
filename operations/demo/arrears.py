"""Demo history for ``setup_demo``: two persons suspended for arrears, made with the real services.

Two ziyang employees (the first two by id) get a declared wage, their 2024-01 … 2024-08 dues
from the monthly dues step, payments through :func:`contributions.services.payment_record`,
and then the nightly run of :data:`DEMO_NIGHT`:

* the first pays 2024-01 … 2024-06 in the month and owes 2024-07 and 2024-08: suspended
  from 2024-08-01 (ziyang 第十五条) and still suspended;
* the second pays 2024-01 … 2024-03 and makes up 2024-04 … 2024-08 on 2024-09-05: more than
  3 months of arrears, 断保 — no retroactive cover for the suspended months, and a new waiting
  period from the payment (ziyang 第十三条).

Case workers see both on 待遇享受状态及判定依据. Demo data, not policy: the wage is a placeholder.
Idempotent: persons who already have dues are left alone.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from batch.runs import run_in_process
from contributions.jobs import dues_for_month
from contributions.models import MonthlyDue, WageDeclaration
from contributions.services import payment_record
from enrollment.models import EnrolmentSpan
from operations.jobs import NIGHTLY

DEMO_NIGHT = date(2024, 9, 10)
DEMO_WAGE = Decimal("6000")  # 演示数据：月平均工资
MONTHS = [date(2024, m, 1) for m in range(1, 9)]
LATE_MARGIN = Decimal("0.1")  # a late payer brings enough for the 滞纳金 as well (the rest is held)


def _pay(person_id: int, months: list[date], paid_on: date) -> None:
    """Pay these months' dues on ``paid_on``, late fees included (any cents left over are held as 预缴)."""
    amount = MonthlyDue.objects.filter(person_id=person_id, month__in=months).aggregate(s=Sum("total"))["s"]
    if amount and paid_on > months[-1].replace(day=28):
        amount += (amount * LATE_MARGIN).quantize(Decimal("0.01"))
    if amount:
        payment_record(person=person_id, amount=amount, paid_on=paid_on, reference=f"DEMO-{person_id}-{paid_on:%Y%m%d}")


def demo_arrears_history() -> str:
    """Dues, payments and the nightly run for the two demo persons; a line for the setup log."""
    spans = list(
        EnrolmentSpan.objects.filter(
            jurisdiction__code="ziyang", category="employee", start__lt=MONTHS[0], end__isnull=True
        ).order_by("person_id")[:2]
    )
    if len(spans) < 2 or MonthlyDue.objects.filter(person_id__in=[s.person_id for s in spans]).exists():
        return "已有（或无可用人员），未改动"
    suspended, broken = spans
    with transaction.atomic():
        for span in spans:
            WageDeclaration.objects.get_or_create(
                person_id=span.person_id,
                employer_id=span.employer_id,
                year=2024,
                defaults={"monthly_wage": DEMO_WAGE},
            )
        for month in MONTHS:
            for span in spans:
                dues_for_month("ziyang", month, lo=span.person_id, hi=span.person_id + 1, run_id=None)
            if month <= date(2024, 6, 1):
                _pay(suspended.person_id, [month], month.replace(day=15))
            if month <= date(2024, 3, 1):
                _pay(broken.person_id, [month], month.replace(day=15))
        _pay(broken.person_id, MONTHS[3:], date(2024, 9, 5))
    run = run_in_process(NIGHTLY, as_of=DEMO_NIGHT)
    return (
        f"参保人员 {suspended.person_id} 欠缴 2024-07、2024-08（暂停享受待遇），"
        f"参保人员 {broken.person_id} 欠费5个月后于 2024-09-05 补缴（断保）；"
        f"夜间批处理 #{run.pk}（{DEMO_NIGHT}）"
    )
