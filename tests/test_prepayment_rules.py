"""Prepayment and refund rules at their edges (contributions.calculations.prepayment).

hunan 第十三条 (灵活就业人员 12 月底前一次性预缴次年; 就业、死亡等退还当年剩余月份), hunan 第五十四条 (大病保险费按年、
一次性缴纳 = 筹资标准 × (全国人均预期寿命 − 实际年龄，不足一年按一年), 不予退费), ziyang 第九条(三) (待遇享受期前退费).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from contributions.calculations import prepayment as r

D = Decimal


# --- hunan 第十三条: who may prepay, and by when ------------------------------------------------------------


def test_annual_prepayment_needs_the_option_in_the_list():
    assert r.annual_prepayment_refusal(["monthly", "annual_prepayment"], "hunan 第十三条") is None
    refusal = r.annual_prepayment_refusal(["monthly"], "ziyang 第九条")
    assert refusal == "本统筹区灵活就业人员按月缴费，不办理次年一次性预缴（ziyang 第九条）。"
    assert r.annual_prepayment_refusal([], "x") is not None
    assert r.annual_prepayment_refusal(None, "x") is not None


def test_deadline_is_the_month_day_of_the_year_before():
    assert r.prepayment_deadline(2025, "12-31") == date(2024, 12, 31)
    assert r.prepayment_deadline(2025, "11-30") == date(2024, 11, 30)


@pytest.mark.parametrize(
    ("paid_on", "year", "ok"),
    [
        (date(2024, 12, 31), 2025, True),  # the last day of December prepays the next year
        (date(2024, 1, 1), 2025, True),  # any day of the year before
        (date(2025, 1, 1), 2025, False),  # 1 January is too late for that year
        (date(2025, 1, 1), 2026, True),  # … and prepays the year after
        (date(2024, 12, 31), 2026, False),  # only the next year
        (date(2024, 12, 31), 2024, False),  # not the current year
    ],
)
def test_prepayment_year_is_next_year_paid_by_december_31(paid_on, year, ok):
    refusal = r.prepayment_year_refusal(year=year, paid_on=paid_on, deadline_md="12-31", citation="hunan 第十三条")
    assert (refusal is None) is ok


def test_prepayment_after_an_earlier_deadline_is_refused_with_the_date():
    # A deadline a bureau might set earlier (the key is dated data): 11-30 → paid 12-01 is late, 11-30 is on time.
    assert r.prepayment_year_refusal(year=2025, paid_on=date(2024, 11, 30), deadline_md="11-30", citation="c") is None
    late = r.prepayment_year_refusal(year=2025, paid_on=date(2024, 12, 1), deadline_md="11-30", citation="c")
    assert late == "2025 年的费用应于 2024-11-30 前预缴（c）。"
    wrong = r.prepayment_year_refusal(year=2026, paid_on=date(2024, 6, 1), deadline_md="12-31", citation="c")
    assert wrong == "只能预缴次年（2025 年）的费用，不能预缴 2026 年（c）。"


# --- the bill -------------------------------------------------------------------------------------------------


def test_bill_is_twelve_months_of_basic_plus_critical_illness_and_the_premium_is_not_refundable():
    # hunan: 6789.41 × 60% × 8% = 325.89168 → 325.89 a month + 大病 15 → 340.89; × 12 = 4090.68.
    bill = r.prepayment_bill(
        year=2025,
        monthly_basic=D("325.89"),
        monthly_critical_illness=D("15.00"),
        critical_illness_refundable=False,
        months_in_year=12,
    )
    assert bill.start_month == date(2025, 1, 1)
    assert (bill.months, bill.monthly, bill.total) == (12, D("340.89"), D("4090.68"))
    assert (bill.monthly_basic, bill.monthly_critical_illness) == (D("325.89"), D("15.00"))
    assert bill.monthly_refundable == D("325.89")  # 第五十四条: the 大病 premium stays


def test_bill_refunds_the_premium_too_where_it_is_refundable_and_none_is_zero():
    bill = r.prepayment_bill(
        year=2025,
        monthly_basic=D("100.00"),
        monthly_critical_illness=D("15.00"),
        critical_illness_refundable=True,
        months_in_year=12,
    )
    assert bill.monthly_refundable == D("115.00")
    none = r.prepayment_bill(
        year=2025, monthly_basic=D("100.00"), monthly_critical_illness=None, critical_illness_refundable=False,
        months_in_year=12,
    )  # fmt: skip
    assert (none.monthly, none.total, none.monthly_critical_illness) == (D("100.00"), D("1200.00"), D("0"))


# --- 当年剩余月份 ---------------------------------------------------------------------------------------------

JAN = date(2025, 1, 1)


@pytest.mark.parametrize(
    ("event_on", "months"),
    [
        (date(2024, 12, 31), 12),  # the day before the prepaid year: every month
        (date(2024, 6, 15), 12),
        (date(2025, 1, 1), 11),  # in January: January stays paid, February–December back
        (date(2025, 1, 31), 11),
        (date(2025, 2, 1), 10),
        (date(2025, 2, 28), 10),  # death on the last day of February
        (date(2025, 5, 10), 7),  # employment mid-May: June–December
        (date(2025, 11, 30), 1),
        (date(2025, 12, 1), 0),  # in the last month: nothing left
        (date(2025, 12, 31), 0),
        (date(2026, 1, 1), 0),  # after the year
    ],
)
def test_remaining_months_are_those_after_the_events_month(event_on, months):
    assert r.remaining_months(start_month=JAN, months=12, event_on=event_on) == months


def test_remaining_months_of_a_leap_february_and_of_a_longer_period():
    leap = date(2024, 1, 1)
    assert r.remaining_months(start_month=leap, months=12, event_on=date(2024, 2, 29)) == 10
    assert r.remaining_months(start_month=leap, months=12, event_on=date(2024, 3, 1)) == 9
    # a 大病 lump sum of 14 years from 2025-07: an event in 2025-07 leaves 14 × 12 − 1 months
    assert r.remaining_months(start_month=date(2025, 7, 1), months=168, event_on=date(2025, 7, 20)) == 167


@pytest.mark.parametrize(
    ("remaining", "held", "amount"),
    [
        (7, D("5000.00"), D("2281.23")),  # 7 × 325.89
        (7, D("2281.23"), D("2281.23")),  # exactly held
        (7, D("2281.22"), D("2281.22")),  # a cent less held: only what is held
        (0, D("5000.00"), D("0")),
        (7, D("0"), D("0")),
        (1, D("325.90"), D("325.89")),
    ],
)
def test_refund_is_remaining_months_times_the_refundable_part_at_most_what_is_held(remaining, held, amount):
    got = r.prepayment_refund_amount(remaining=remaining, monthly_refundable=D("325.89"), held=held)
    assert got == amount


def test_refund_refusals_name_the_article():
    ok = dict(refundable=True, citation="hunan 第十三条", ground="employment", remaining=7, amount=D("1"))
    assert r.prepayment_refund_refusal(**ok) is None
    assert r.prepayment_refund_refusal(**{**ok, "ground": "death"}) is None
    assert (
        r.prepayment_refund_refusal(**{**ok, "refundable": False})
        == "本统筹区没有预缴费用退还的规定（hunan 第十三条）。"
    )
    assert "退费情形应为" in r.prepayment_refund_refusal(**{**ok, "ground": "holiday"})
    assert "没有剩余月份" in r.prepayment_refund_refusal(**{**ok, "remaining": 0})
    assert r.prepayment_refund_refusal(**{**ok, "remaining": 1}) is None
    assert "已全部冲抵" in r.prepayment_refund_refusal(**{**ok, "amount": D("0")})
    assert r.prepayment_refund_refusal(**{**ok, "amount": D("0.01")}) is None


# --- ziyang 第九条(三) ----------------------------------------------------------------------------------------


def test_refund_only_before_the_benefit_period_began():
    start = date(2025, 9, 1)  # paid in March → covered from 1 September (D-X4)
    base = dict(before_benefit_period_only=True, benefit_start=start, ground="employment", citation="ziyang 第九条(三)")
    assert r.benefit_period_refund_refusal(**base, event_on=date(2025, 8, 31)) is None  # the day before
    assert r.benefit_period_refund_refusal(**base, event_on=date(2025, 9, 1)) == (
        "待遇享受期已于 2025-09-01 开始，不再办理退费（ziyang 第九条(三)）。"
    )
    assert r.benefit_period_refund_refusal(**base, event_on=date(2025, 9, 2)) is not None
    never = {**base, "benefit_start": None}
    assert r.benefit_period_refund_refusal(**never, event_on=date(2030, 1, 1)) is None
    assert "没有“进入待遇享受期前退费”的规定" in r.benefit_period_refund_refusal(
        **{**base, "before_benefit_period_only": False}, event_on=date(2025, 1, 1)
    )
    assert "退费情形应为" in r.benefit_period_refund_refusal(**{**base, "ground": "x"}, event_on=date(2025, 1, 1))


# --- hunan 第五十四条 ------------------------------------------------------------------------------------------


def test_annual_premium_only_for_the_listed_categories():
    cats = ["flexible", "retiree"]
    assert r.annual_premium_refusal(category="retiree", categories=cats, citation="hunan 第五十四条") is None
    assert r.annual_premium_refusal(category="flexible", categories=cats, citation="c") is None
    assert r.annual_premium_refusal(category="employee", categories=cats, citation="c") == (
        "该人员类别按月缴纳大病保险费，不能按年预缴（c）。"
    )
    assert r.annual_premium_refusal(category="retiree", categories=None, citation="c") is not None


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(1960, 3, 10), date(2025, 3, 10), D("65")),  # the birthday
        (date(1960, 3, 10), date(2025, 3, 9), D("64") + D(364) / D(365)),  # the day before
        (date(1960, 3, 10), date(2025, 3, 11), D("65") + D(1) / D(365)),
        (date(1959, 3, 10), date(2024, 3, 9), D("64") + D(365) / D(366)),  # a year of age holding 29 Feb 2024
        (date(1960, 2, 29), date(2025, 2, 28), D("64") + D(365) / D(366)),  # leap-day birth: 65 on 1 March
        (date(1960, 2, 29), date(2025, 3, 1), D("65")),
        (date(1960, 2, 29), date(2024, 2, 29), D("64")),
    ],
)
def test_exact_age_counts_the_part_year_by_days(birth, on, age):
    assert r.exact_age(birth, on) == age


@pytest.mark.parametrize(
    ("life", "age", "years"),
    [
        (D("78.6"), D("65"), 14),  # 13.6 → 14 (不足一年的按一年计算)
        (D("78.6"), D("65.6"), 13),  # exactly 13
        (D("78.6"), D("65.61"), 13),
        (D("78.6"), D("65.59"), 14),
        (D("78.6"), D("78.59"), 1),
        (D("78.6"), D("78.6"), 0),  # reached
        (D("78.6"), D("80"), 0),
    ],
)
def test_lump_sum_years_round_part_years_up(life, age, years):
    assert r.lump_sum_years(life_expectancy=life, age=age) == years


def _lump(**kw):
    args = dict(
        annual_premium=D("180"),
        life_expectancy=D("78.6"),
        birth=date(1960, 3, 10),
        paid_on=date(2025, 3, 10),
        ground="retiree_choice",
        grounds=["employer_deregistered", "employer_bankrupt", "employer_restructured", "retiree_choice"],
        months_in_year=12,
        citation="hunan 第五十四条",
    )
    args.update(kw)
    return r.critical_illness_lump_sum(**args)


def test_lump_sum_is_premium_times_years_from_next_month():
    lump = _lump()
    assert (lump.years, lump.total, lump.months, lump.start_month) == (14, D("2520.00"), 168, date(2025, 4, 1))
    assert lump.age == D("65") and lump.annual_premium == D("180")
    # the day before the birthday: 64.997… → 13.6027… → 14 years still
    assert _lump(paid_on=date(2025, 3, 9)).years == 14
    # born 1960-08-10, paid 2025-03-10: 64.58… → 14.01… → 15 years
    assert _lump(birth=date(1960, 8, 10)).total == D("2700.00")
    assert _lump(ground="employer_bankrupt").years == 14


def test_lump_sum_refusals():
    assert _lump(ground="holiday") == (
        "一次性缴纳大病保险费只适用于：用人单位注销、用人单位破产、用人单位改制、退休人员自愿选择（hunan 第五十四条）。"
    )
    assert "只适用于" in _lump(grounds=None)
    assert "只适用于" in _lump(grounds=["retiree_choice"], ground="employer_bankrupt")
    reached = _lump(birth=date(1946, 1, 1))
    assert isinstance(reached, str) and "已达到全国人均预期寿命 78.6 岁" in reached
    assert not isinstance(_lump(birth=date(1946, 10, 11)), str)  # 78.41 → 0.19 → 1 year
    assert _lump(birth=date(1946, 10, 11)).years == 1


def test_annual_and_lump_sum_premiums_are_not_refunded():
    assert r.premium_refund_refusal(refundable=False, citation="hunan 第五十四条") == (
        "按年或一次性缴纳的大病保险费不予退还（hunan 第五十四条）。"
    )
    assert r.premium_refund_refusal(refundable=True, citation="c") is None
