"""The ledger's periodic tasks in django-celery-beat (rows in the database; staff may edit them).

Same pattern as :mod:`contributions.schedules`: the rows are written by migration 0003 and
re-written by ``python manage.py funds_schedules`` (e.g. after staff deleted one by mistake).
- monthly retiree credits on the 1st (the month's credits, langfang 第三十七条, xianning 细则 第十二条);
- yearly interest on 2 January for the year just ended (sanmenxia 第九条, at the rate staff entered);
- contributions received posted every night, then the reconciliation of every invariant.
"""

from __future__ import annotations

import json

TZ = "Asia/Shanghai"
#: name, task, crontab (minute, hour, day_of_month, month_of_year) — the names migration 0003 used.
SCHEDULE = [
    ("基金：退休人员个人账户按月划入", "funds.retiree_credits_month", ("0", "2", "1", "*")),
    ("基金：个人账户年度计息", "funds.interest_year", ("0", "3", "2", "1")),
    ("基金：缴费到账记账（每晚）", "funds.contributions_post_nightly", ("30", "1", "*", "*")),
    ("基金：对账（每晚）", "funds.reconcile_nightly", ("0", "4", "*", "*")),
]


def schedules_sync(*, Crontab, Periodic) -> int:
    """Create or update the rows (the models are passed in, so a migration can call it too). Returns rows written."""
    for name, task, (minute, hour, dom, moy) in SCHEDULE:
        cron, _ = Crontab.objects.get_or_create(
            minute=minute, hour=hour, day_of_month=dom, month_of_year=moy, day_of_week="*", timezone=TZ
        )
        Periodic.objects.update_or_create(name=name, defaults={"task": task, "crontab": cron, "kwargs": json.dumps({})})
    return len(SCHEDULE)
