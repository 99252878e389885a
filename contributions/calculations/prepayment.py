"""Prepayment and refunds (预缴与退费), POLICY-DIGEST §2d, §2p: plain rules over facts and dates.

* hunan 第十三条: 灵活就业人员原则上按月缴费，也可在每年 12 月底前一次性预缴次年应缴职工医保费; on
  employment with an employer (随单位参保), death or a similar objective reason, the prepaid fees of the
  year's remaining months (当年剩余月份) are refunded on application
  (``contribution.flexible_payment_frequencies``, ``contribution.flexible_prepayment_deadline``,
  ``contribution.flexible_prepayment_refundable``). The 缴费基准值 of the prepaid year is not yet known:
  the prepayment uses the figure in force on the day of payment (H25, D-H25 reading A).
* ziyang 第九条(三): contributions paid before the benefit period (待遇享受期) began are refunded on
  employment, death etc.; none once it has begun (``contribution.refund_before_benefit_period_only``).
* hunan 第五十四条: the 大病保险费 is paid monthly, or by flexible workers and retirees yearly for the next
  year by the end of December, or once (一次性缴纳) when the employer is deregistered, bankrupt or
  restructured or a retiree so chooses: 当年度筹资标准 × (全国人均预期寿命 − 实际年龄, 不足一年的按一年计算);
  yearly and one-off premiums are not refunded on transfer or death.

Each function takes the facts it needs (dates are always passed in, nothing reads the clock) and returns
a result or a refusal text naming the article; the services in :mod:`funds.prepayment` read the policy
values and call these. Money is Decimal, rounded half-up to 0.01 where it becomes a bill line (D-X12).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from batch.dates import add_months, anniversary, month_start, months_between
from policy.calculations import money

ZERO = Decimal("0")

#: 灵活就业人员缴费周期 (``contribution.flexible_payment_frequencies``): the yearly prepayment option.
ANNUAL_PREPAYMENT = "annual_prepayment"

#: 退费情形 (hunan 第十三条 "因在用人单位就业随单位参加职工医保、死亡等客观原因";
#: ziyang 第九条(三) "因就业、死亡等原因").
REFUND_GROUNDS = {
    "employment": "在用人单位就业，随单位参保",
    "death": "死亡",
    "other": "其他客观原因",
}

#: 大病保险费一次性缴纳的情形 (hunan 第五十四条 "因用人单位注销、破产、改制、退休人员自愿选择等特殊情形").
LUMP_SUM_GROUNDS = {
    "employer_deregistered": "用人单位注销",
    "employer_bankrupt": "用人单位破产",
    "employer_restructured": "用人单位改制",
    "retiree_choice": "退休人员自愿选择",
}


# --- 灵活就业人员年度预缴 (hunan 第十三条) -------------------------------------------------------------


def annual_prepayment_refusal(frequencies: list[str] | None, citation: str) -> str | None:
    """预缴方式: None when the jurisdiction lets flexible workers prepay the next year, else why not.

    ziyang 第九条 (按月缴纳) lists ``monthly`` only; hunan 第十三条 adds ``annual_prepayment``.
    """
    if frequencies and ANNUAL_PREPAYMENT in frequencies:
        return None
    return f"本统筹区灵活就业人员按月缴费，不办理次年一次性预缴（{citation}）。"


def prepayment_deadline(year: int, deadline_md: str) -> date:
    """The last day to prepay ``year``: the deadline's month-day (``MM-DD``) of the year before (12-31)."""
    month, day = (int(part) for part in deadline_md.split("-"))
    return date(year - 1, month, day)


def prepayment_year_refusal(*, year: int, paid_on: date, deadline_md: str, citation: str) -> str | None:
    """次年预缴的期限: only the next year can be prepaid, and only by the deadline of the year before.

    hunan 第十三条 "在每年 12 月底前一次性预缴次年": paid 2024-12-31 prepays 2025; paid 2025-01-01 it is too
    late for 2025 (that year is then paid monthly) and too early for 2026.
    """
    if year != paid_on.year + 1:
        return f"只能预缴次年（{paid_on.year + 1} 年）的费用，不能预缴 {year} 年（{citation}）。"
    deadline = prepayment_deadline(year, deadline_md)
    if paid_on > deadline:
        return f"{year} 年的费用应于 {deadline.isoformat()} 前预缴（{citation}）。"
    return None


@dataclass(frozen=True)
class PrepaymentBill:
    """The bill of a yearly prepayment: ``months`` months from ``start_month`` at ``monthly`` each.

    ``monthly_refundable`` is the part of a month that a later refund returns (the basic contribution; the
    大病保险费 is not refunded, hunan 第五十四条).
    """

    start_month: date
    months: int
    monthly_basic: Decimal
    monthly_critical_illness: Decimal
    monthly: Decimal
    monthly_refundable: Decimal
    total: Decimal


def prepayment_bill(
    *,
    year: int,
    monthly_basic: Decimal,
    monthly_critical_illness: Decimal | None,
    critical_illness_refundable: bool,
    months_in_year: int,
) -> PrepaymentBill:
    """次年应缴职工医保费: the month's basic contribution plus the monthly 大病保险费, for each month of ``year``.

    hunan 第十三条: the flexible worker pays the employer rate on 60% of the 缴费基准值 (``monthly_basic`` is the
    month's bill lines, computed by the caller from the policy on the day of payment, D-H25); 第五十三条 adds
    15 a month. What a later refund returns per month leaves the 大病保险费 out unless it is refundable.
    """
    critical = monthly_critical_illness or ZERO
    monthly = monthly_basic + critical
    refundable = monthly if critical_illness_refundable else monthly_basic
    return PrepaymentBill(
        start_month=date(year, 1, 1),
        months=months_in_year,
        monthly_basic=monthly_basic,
        monthly_critical_illness=critical,
        monthly=monthly,
        monthly_refundable=refundable,
        total=monthly * months_in_year,
    )


def remaining_months(*, start_month: date, months: int, event_on: date) -> int:
    """当年剩余月份: the prepaid months after the month of the event (employment, death …).

    The event's own month stays paid (cover for that month was bought); the months from the 1st of the next
    month to the end of the prepaid period are returned. An event before the period returns all of it, one
    in its last month or later returns none.
    """
    end = add_months(start_month, months)
    first = max(add_months(month_start(event_on), 1), start_month)
    return max(0, months_between(first, end))


def prepayment_refund_amount(*, remaining: int, monthly_refundable: Decimal, held: Decimal) -> Decimal:
    """退还金额: the remaining months × the refundable monthly amount, never more than is still held.

    Money already applied to months that were billed (for instance to the new employer's first due) stays
    applied; only what the prepayment still holds can go back.
    """
    return max(ZERO, min(monthly_refundable * remaining, held))


def prepayment_refund_refusal(
    *, refundable: bool, citation: str, ground: str, remaining: int, amount: Decimal
) -> str | None:
    """Why a prepayment refund cannot be made, or None (hunan 第十三条)."""
    if not refundable:
        return f"本统筹区没有预缴费用退还的规定（{citation}）。"
    if ground not in REFUND_GROUNDS:
        return f"退费情形应为：{'、'.join(REFUND_GROUNDS.values())}。"
    if remaining <= 0:
        return f"事由发生在预缴期最后一个月或之后，当年没有剩余月份可退（{citation}）。"
    if amount <= 0:
        return "预缴款已全部冲抵应缴，没有可退还的金额。"
    return None


# --- 待遇享受期前退费 (ziyang 第九条(三)) ----------------------------------------------------------------


def benefit_period_refund_refusal(
    *, before_benefit_period_only: bool, benefit_start: date | None, event_on: date, ground: str, citation: str
) -> str | None:
    """ziyang 第九条(三): contributions are refunded only when the event came before the benefit period began.

    ``benefit_start`` is the first day the person was covered (None: never yet). An event on that day or
    later is refused: "待遇享受期开始后，不再办理退费".
    """
    if not before_benefit_period_only:
        return f"本统筹区没有“进入待遇享受期前退费”的规定（{citation}）。"
    if ground not in REFUND_GROUNDS:
        return f"退费情形应为：{'、'.join(REFUND_GROUNDS.values())}。"
    if benefit_start is not None and event_on >= benefit_start:
        return f"待遇享受期已于 {benefit_start.isoformat()} 开始，不再办理退费（{citation}）。"
    return None


# --- 大病保险费按年、一次性缴纳 (hunan 第五十四条) ------------------------------------------------------


def annual_premium_refusal(*, category: str, categories: list[str] | None, citation: str) -> str | None:
    """按年缴纳次年大病保险费: only the categories the article names (flexible workers, retirees)."""
    if categories and category in categories:
        return None
    return f"该人员类别按月缴纳大病保险费，不能按年预缴（{citation}）。"


def exact_age(birth: date, on: date) -> Decimal:
    """实际年龄 in years with the part year: whole years (周岁) + the share of the current year of age.

    The share is days since the last birthday ÷ days from that birthday to the next (365 or 366), so a person
    born on 29 February follows the project's leap-day convention (:func:`batch.dates.anniversary`).
    """
    years = on.year - birth.year
    if anniversary(birth, years) > on:
        years -= 1
    last = anniversary(birth, years)
    following = anniversary(birth, years + 1)
    return Decimal(years) + Decimal((on - last).days) / Decimal((following - last).days)


def lump_sum_years(*, life_expectancy: Decimal, age: Decimal) -> int:
    """缴纳年限 = 全国人均预期寿命 − 实际年龄, a part year counted as a whole one (不足一年的按一年计算).

    Zero when the person has reached the life expectancy (the article gives no minimum; the service refuses).
    """
    gap = life_expectancy - age
    if gap <= 0:
        return 0
    return math.ceil(gap)


@dataclass(frozen=True)
class LumpSum:
    """一次性缴纳的大病保险费: years × the year's premium, covering ``years`` × 12 months from ``start_month``."""

    age: Decimal
    years: int
    annual_premium: Decimal
    total: Decimal
    start_month: date
    months: int


def critical_illness_lump_sum(
    *,
    annual_premium: Decimal,
    life_expectancy: Decimal,
    birth: date,
    paid_on: date,
    ground: str,
    grounds: list[str] | None,
    months_in_year: int,
    citation: str,
) -> LumpSum | str:
    """hunan 第五十四条 一次性缴纳: 当年度筹资标准 × ceil(全国人均预期寿命 − 实际年龄), or a refusal text.

    The months covered start with the month after payment (the current month is billed monthly).
    """
    if not grounds or ground not in grounds:
        return f"一次性缴纳大病保险费只适用于：{'、'.join(LUMP_SUM_GROUNDS[g] for g in grounds or [])}（{citation}）。"
    age = exact_age(birth, paid_on)
    years = lump_sum_years(life_expectancy=life_expectancy, age=age)
    if years <= 0:
        return (
            f"实际年龄 {age:.2f} 岁已达到全国人均预期寿命 {life_expectancy} 岁，"
            f"文件未规定此时的缴纳年限，不能一次性缴纳（{citation}）。"
        )
    return LumpSum(
        age=age,
        years=years,
        annual_premium=annual_premium,
        total=money(annual_premium * years),
        start_month=add_months(month_start(paid_on), 1),
        months=years * months_in_year,
    )


def premium_refund_refusal(*, refundable: bool, citation: str) -> str | None:
    """hunan 第五十四条: 按年缴纳、一次性缴纳的大病保险费，因转移接续、死亡等不再予以退费."""
    if refundable:
        return None
    return f"按年或一次性缴纳的大病保险费不予退还（{citation}）。"
