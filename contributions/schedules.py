"""The contribution engine's periodic tasks in django-celery-beat (rows in the database; staff may edit them).

The annual base reset runs per jurisdiction on its reset date (``contribution.reset_month_day``:
langfang 第二十一条 and sanmenxia 第六条 1 July; 1 January where the document names none, issue 3),
the monthly dues on the 1st, the late-fee accrual every night.
"""

from __future__ import annotations

import json
from datetime import date

from policy.models import Jurisdiction
from policy.resolver import Policy

from .periods import CALENDAR_YEAR

TZ = "Asia/Shanghai"
DUES = ("缴费：生成月度应缴", "contributions.dues_generate", ("0", "2", "1", "*"))
ACCRUAL = ("缴费：欠费滞纳金计提（每晚）", "contributions.arrears_accrue", ("30", "0", "*", "*"))


def reset_name(code: str) -> str:
    return f"缴费：年度缴费基数核定 {code}"


def schedules_sync(reset_dates: dict[str, str], *, Crontab, Periodic) -> int:
    """Create or update the rows; ``reset_dates``: jurisdiction code → MM-DD. Returns rows written."""
    rows = [DUES, ACCRUAL]
    kwargs = {DUES[0]: {}, ACCRUAL[0]: {}}
    for code, month_day in sorted(reset_dates.items()):
        mm, dd = (int(x) for x in month_day.split("-"))
        rows.append((reset_name(code), "contributions.base_reset", ("0", "1", str(dd), str(mm))))
        kwargs[reset_name(code)] = {"jurisdiction": code}
    for name, task, (minute, hour, dom, moy) in rows:
        cron, _ = Crontab.objects.get_or_create(
            minute=minute, hour=hour, day_of_month=dom, month_of_year=moy, day_of_week="*", timezone=TZ
        )
        Periodic.objects.update_or_create(
            name=name, defaults={"task": task, "crontab": cron, "kwargs": json.dumps(kwargs[name])}
        )
    return len(rows)


def reset_dates_from_policy(on: date) -> dict[str, str]:
    """Reset day of every jurisdiction as the policy stands on ``on`` (staff-entered values included)."""

    return {
        code: str(Policy(code, on).value("contribution.reset_month_day", CALENDAR_YEAR))
        for code in Jurisdiction.objects.values_list("code", flat=True)
    }
