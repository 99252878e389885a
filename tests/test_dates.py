"""batch.dates: one leap-day convention for the single-person rule and the set-wise scan."""

from datetime import date, timedelta

import pytest

from batch.dates import (
    add_months,
    age_on,
    anniversary,
    first_of_next_month,
    latest_birth_for_age,
    month_end,
    months_between,
    months_later,
)


def test_anniversary_of_a_leap_day_birth_is_the_first_of_march_in_a_common_year():
    assert anniversary(date(2000, 2, 29), 25) == date(2025, 3, 1)
    assert anniversary(date(2000, 2, 29), 24) == date(2024, 2, 29)
    assert anniversary(date(2000, 3, 1), 25) == date(2025, 3, 1)


def test_the_scan_cut_off_is_the_inverse_of_the_anniversary_on_every_day_of_a_leap_cycle():
    births = [date(1964, 2, 28) + timedelta(days=i) for i in range(4)] + [date(1965, 2, 28), date(1965, 3, 1)]
    day = date(2023, 1, 1)
    while day < date(2027, 1, 1):
        for years in (55, 58, 60, 63):
            cut = latest_birth_for_age(day, years)
            for birth in births:
                assert (anniversary(birth, years) <= day) == (birth <= cut), (birth, years, day)
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(2000, 2, 29), date(2025, 2, 28), 24),
        (date(2000, 2, 29), date(2025, 3, 1), 25),
        (date(1990, 6, 15), date(2025, 6, 14), 34),
        (date(1990, 6, 15), date(2025, 6, 15), 35),
    ],
)
def test_age_on(birth, day, age):
    assert age_on(birth, day) == age


def test_month_arithmetic():
    assert add_months(date(2024, 11, 20), 2) == date(2025, 1, 1)
    assert add_months(date(2024, 1, 31), -1) == date(2023, 12, 1)
    assert first_of_next_month(date(2024, 12, 31)) == date(2025, 1, 1)
    assert month_end(date(2024, 2, 3)) == date(2024, 2, 29)
    assert month_end(date(2023, 2, 3)) == date(2023, 2, 28)
    assert months_between(date(2024, 11, 1), date(2025, 2, 1)) == 3
    assert months_later(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert months_later(date(2024, 8, 31), 3) == date(2024, 11, 30)
    assert months_later(date(2024, 5, 20), 3) == date(2024, 8, 20)
