"""Interest on personal accounts (个人账户计息): a pure rule over figures.

sanmenxia 第九条: "个人账户资金利息收入每年按照同期居民活期存款利率计算"; langfang
第三十八条 "按国家规定"; hunan 第四十四条 (principal and interest belong to the
holder). The rate is ``funds.personal_account_interest_pct``, entered by staff per
year (no seed prints a number: D-X16).

Decision F-C3: the year's interest is the average daily balance of the calendar
year (the 积数 — the sum of each day's closing balance — divided by the days in
the year) times the yearly rate, rounded half-up to the fen (D-X12), posted on
31 December and earning from the next year.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from policy.calculations import money


def yearly_interest(*, opening: Decimal, weighted_day_amount: Decimal, days_in_year: int, rate: Decimal) -> Decimal:
    """Interest = (opening × days + Σ amount × days it stood) ÷ days × rate, rounded to the fen.

    ``weighted_day_amount`` is Σ over the year's postings of amount × (31 Dec − date + 1).
    """
    product = opening * days_in_year + weighted_day_amount
    return money(product / days_in_year * rate)


def interest_for_year(
    *, opening: Decimal, movements: Iterable[tuple[date, Decimal]], year: int, rate: Decimal
) -> Decimal:
    """The same from a list of (effective date, signed amount) inside YEAR."""
    dec31 = date(year, 12, 31)
    weighted = sum(
        (Decimal(amount) * ((dec31 - day).days + 1) for day, amount in movements if day.year == year), Decimal(0)
    )
    return yearly_interest(
        opening=Decimal(opening),
        weighted_day_amount=weighted,
        days_in_year=366 if calendar.isleap(year) else 365,
        rate=Decimal(rate),
    )
