"""城乡居民医保筹资 (险种 390): the yearly contribution, its collection period and the year it covers.

sanmenxia 第三十条: 居民基本医疗保险实行个人缴费和财政补助相结合 … 个人缴费标准和财政补助标准每年按全省统一标准
执行 — the document gives no figure, so ``resident.individual_contribution`` and ``resident.fiscal_subsidy`` are
staff-entered each year and a calculation without them raises ``PolicyMissing`` naming the key (D-X16).
sanmenxia 第三十一条: 每年缴纳一次，缴费时间原则上为每年的9月至12月，参保居民缴费次年享受待遇
(``resident.collection_start``/``collection_end``/``cover_next_year``). No document sets a late fee for
residents: there is none here. Steps:

1. :func:`yearly_amounts` — 个人缴费 and 财政补助 per person for the year (rounded to the fen, D-X12);
2. :func:`collection_window` — the half-open collection period ``[start, end)`` in a calendar year;
3. :func:`benefit_year_of` / :func:`collection_year_of` — which benefit year a payment buys, and back;
4. :func:`cover_period` — the benefit year as a half-open period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from policy.calculations import money
from policy.resolver import Policy, PolicyError

INDIVIDUAL = "resident.individual_contribution"
SUBSIDY = "resident.fiscal_subsidy"
COLLECTION_START = "resident.collection_start"
COLLECTION_END = "resident.collection_end"
COVER_NEXT_YEAR = "resident.cover_next_year"


@dataclass(frozen=True)
class ResidentYearly:
    """One resident's yearly financing: 个人缴费 (the bill) and 财政补助 (paid by the government per person)."""

    individual: Decimal
    subsidy: Decimal

    @property
    def total(self) -> Decimal:
        """人均筹资 = 个人缴费 + 财政补助."""
        return self.individual + self.subsidy


def yearly_amounts(policy: Policy) -> ResidentYearly:
    """个人缴费标准 and 财政补助标准 in force (sanmenxia 第三十条); a missing one raises ``PolicyMissing``."""
    return ResidentYearly(individual=money(policy.decimal(INDIVIDUAL)), subsidy=money(policy.decimal(SUBSIDY)))


def _month_day(policy: Policy, key: str, year: int) -> date:
    value = policy.value(key)
    if value is None:
        raise PolicyError(f"{policy.jurisdiction} 未设居民医保集中缴费期：{key} 为“不适用”（{policy.citation(key)}）")
    month, day = (int(x) for x in str(value).split("-"))
    return date(year, month, day)


def collection_window(policy: Policy, year: int) -> tuple[date, date]:
    """集中缴费期 of calendar year ``year`` as ``[start, end)``: sanmenxia 第三十一条 9月1日 to 12月31日 inclusive."""
    start = _month_day(policy, COLLECTION_START, year)
    last = _month_day(policy, COLLECTION_END, year)
    if last < start:
        raise PolicyError(f"{policy.jurisdiction} 居民医保缴费期截止 {last} 早于起始 {start}")
    return start, last + timedelta(days=1)


def in_collection_window(policy: Policy, paid_on: date) -> bool:
    """Whether a payment falls in its year's collection period (原则上: outside it the payment is still taken)."""
    start, end = collection_window(policy, paid_on.year)
    return start <= paid_on < end


def _lag(policy: Policy) -> int:
    return 1 if policy.value(COVER_NEXT_YEAR) else 0


def benefit_year_of(policy: Policy, collection_year: int) -> int:
    """The benefit year bought by contributions collected in ``collection_year`` (缴费次年享受, 第三十一条)."""
    return collection_year + _lag(policy)


def collection_year_of(policy: Policy, benefit_year: int) -> int:
    """The calendar year in which the contribution for ``benefit_year`` is collected."""
    return benefit_year - _lag(policy)


def cover_period(benefit_year: int) -> tuple[date, date]:
    """待遇年度 ``[1 January, next 1 January)``."""
    return date(benefit_year, 1, 1), date(benefit_year + 1, 1, 1)
