"""Month arithmetic and the leap-day convention, in one place (日期约定).

Periods are half-open ``[start, end)``; a month is named by its first day. No function here reads the
clock: dates are always passed in.

Leap day (2月29日): no seed decides it, so the project keeps one convention — a person born on 29 February
reaches an age in a common year on 1 March. :func:`anniversary` and its inverse :func:`latest_birth_for_age`
follow it, so the single-person retirement rule and the set-wise scan agree (a test checks every day of a
four-year cycle).
"""

from __future__ import annotations

import calendar
from datetime import date


def month_start(day: date) -> date:
    """The 1st of ``day``'s month."""
    return day.replace(day=1)


def add_months(day: date, n: int) -> date:
    """The 1st of the month ``n`` months after ``day``'s month (``n`` may be negative)."""
    year, month = divmod(day.year * 12 + day.month - 1 + n, 12)
    return date(year, month + 1, 1)


def first_of_next_month(day: date) -> date:
    """The 1st of the month after ``day`` (待遇 "次月起")."""
    return add_months(day, 1)


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_between(start: date, end: date) -> int:
    """Whole months in ``[start, end)`` (both the 1st of a month)."""
    return (end.year - start.year) * 12 + end.month - start.month


def months_later(day: date, n: int) -> date:
    """The same day ``n`` months later, or that month's last day where it is shorter: the end of a window."""
    year, month = divmod(day.year * 12 + day.month - 1 + n, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def anniversary(birth: date, years: int) -> date:
    """The day a person born on ``birth`` turns ``years`` old (29 February → 1 March in a common year)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return date(birth.year + years, 3, 1)


def latest_birth_for_age(day: date, years: int) -> date:
    """The latest birth date of a person who is ``years`` old on ``day``: ``anniversary(b, years) <= day``
    exactly when ``b <= latest_birth_for_age(day, years)`` (the inverse of :func:`anniversary`)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # day is 29 February and the birth year is common: born by 28 February
        return date(day.year - years, 2, 28)


def age_on(birth: date, day: date) -> int:
    """Whole years (周岁) on ``day``, by the same convention."""
    years = day.year - birth.year
    return years if anniversary(birth, years) <= day else years - 1
