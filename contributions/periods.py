"""Dates of the contribution cycle: contribution years, payment periods, due dates.

All from policy data: ``contribution.reset_month_day`` (the day bases change; langfang
第二十一条 and sanmenxia 第六条: 1 July), ``contribution.contribution_year_start``
(langfang's July–June 缴费年度), ``contribution.due_day`` (langfang 第十八条, ziyang
第九条(四): the 25th), ``contribution.payment_frequencies`` (langfang 第十八条).

Where a jurisdiction gives no reset day the base year is the calendar year: issue 3
("January by default"); hunan 第十条 ties the floor and ceiling to the previous
calendar year's 缴费基准值, ziyang 第九条(一)1 to the previous year's wage bill.
Where no due day is given there is no due date (``None``): no number is invented.
"""

from __future__ import annotations

import calendar
from datetime import date

from batch.dates import add_months, month_end, month_start, months_between
from policy.resolver import Policy

__all__ = ["add_months", "month_end", "month_start", "months_between"]  # month arithmetic lives in batch.dates

CALENDAR_YEAR = "01-01"  # issue 3: "January by default" (no reset day in the document)
MONTHLY = "monthly"
PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}


def _month_day(value: str) -> tuple[int, int]:
    mm, dd = str(value).split("-")
    return int(mm), int(dd)


def _year_start(anchor: str, on: date) -> date:
    mm, dd = _month_day(anchor)
    start = date(on.year, mm, dd)
    return start if start <= on else date(on.year - 1, mm, dd)


def reset_month_day(policy: Policy) -> str:
    """MM-DD on which bases change (the annual reset date)."""
    return str(policy.value("contribution.reset_month_day", CALENDAR_YEAR))


def base_year_start(policy: Policy, on: date) -> date:
    """First day of the base year containing ``on`` (langfang/sanmenxia: 1 July; else 1 January)."""
    return _year_start(reset_month_day(policy), on)


def base_year_label(year_start: date) -> int:
    """A :class:`WageDeclaration`'s ``year``: the calendar year in which the contribution year starts."""
    return year_start.year


def base_year_bounds(policy: Policy, on: date) -> tuple[date, date]:
    start = base_year_start(policy, on)
    return start, date(start.year + 1, start.month, start.day)


def period_anchor(policy: Policy, on: date) -> date:
    """Start of the contribution year (缴费年度) containing ``on``: payment periods are aligned to it."""
    return _year_start(str(policy.value("contribution.contribution_year_start", CALENDAR_YEAR)), on)


def allowed_frequencies(policy: Policy) -> tuple[str, ...]:
    """Payment frequencies an employer may choose here (monthly always)."""
    value = policy.value("contribution.payment_frequencies", None) or [MONTHLY]
    return tuple(dict.fromkeys([MONTHLY, *[str(v) for v in value]]))


def period_months(policy: Policy, month: date, frequency: str) -> list[date]:
    """The months of the payment period (of ``frequency``) that contains ``month``.

    Periods are aligned to the contribution year (langfang: quarters and half-years
    from 1 July; a year is the July–June contribution year, 第十八条, 第二十一条).
    """
    size = PERIOD_MONTHS[frequency]
    anchor = period_anchor(policy, month)
    k = months_between(month_start(anchor), month_start(month)) // size
    first = add_months(month_start(anchor), k * size)
    return [add_months(first, i) for i in range(size)]


def due_date(policy: Policy, period_first_month: date) -> date | None:
    """Deadline of a payment period: ``due_day`` of its first month (langfang 第十八条 首月申报缴费).

    ``None`` where the document sets no monthly deadline (hunan, xianning, sanmenxia; D-X16).
    """
    if not policy.has("contribution.due_day"):
        return None
    day = int(policy.decimal("contribution.due_day"))
    last = calendar.monthrange(period_first_month.year, period_first_month.month)[1]
    return period_first_month.replace(day=min(day, last))


def birth_threshold(month: date, age: int) -> date:
    """Latest birth date of a person who is ``age`` or older on the month's last day (D-X7, D-S5)."""
    end = month_end(month)
    year = end.year - age
    return date(year, end.month, min(end.day, calendar.monthrange(year, end.month)[1]))
