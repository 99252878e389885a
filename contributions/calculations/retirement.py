"""Retirement clearance (退休清缴 / 退休人员待遇确认): minimum years, shortfall, lump sum, retiree start.

:func:`clearance` is the rule the daily clearance task and the case worker's
screen call with one person's facts; the scenario calculation
``retirement_clearance`` is a thin wrapper.

* Required months: the minimum cumulative months for the person's sex in force
  on the retirement date (ziyang's men's minimum steps up each year, D-Z4) and
  the minimum local months.
* Shortfall: the months to buy so that both minimums hold (bought months count
  as local actual months), rounded up to whole months.
* Lump sum (一次性补缴): base × base % × the sum of the listed contribution
  rates × shortfall months, rounded half-up to the fen once (D-X12). The base is
  the reference wage of the year in force (hunan 当年度缴费基准值, langfang
  市社平工资, D-H9) or the person's own last monthly base (sanmenxia D-S1,
  ziyang D-Z2); rates are read from ``contribution.*_rate_pct``.
* Retiree benefits start on the 1st of the month after the retirement date when
  nothing is owed (D-X17); after a lump sum, the month after the later of the
  retirement date and the payment (sanmenxia 第八条 "次月起").
* Keep paying (按在职职工继续缴费) instead of the lump sum where
  ``retirement.keep_paying_allowed`` is true (langfang 第三十四条, ziyang 第九条(五)2);
  false where the lump sum is the only route (hunan 第二十八条 "方可"); None where silent.
  The scenario calculation reports it as ``keep_paying_allowed`` (an output added to
  SCENARIOS.md's list).
* Deemed months count only where the document dates them (``retirement.deemed_cutoff``,
  D-L14): otherwise ``PolicyMissing``.
* Legal retirement age (hunan only gives one) fixes the retirement date when it
  is not given, and flags early retirement (提前退休, which in hunan owes only the
  shortfall against the minimums, D-H9).
* Retirees never enrolled here (未在统筹区参加职工医保: no actual month, no local month and no
  own contribution base on file — whoever has a base was enrolled somewhere and is cleared as usual) follow
  ``retirement.never_enrolled_rule``: ``shortfall`` — the ordinary shortfall rule (hunan 第十六条,
  第二十八条; langfang 第三十四条 "退休人员首次参加…一次性补缴不足缴费年限"); ``fixed_or_since`` —
  sanmenxia 第八条: retired before ``never_enrolled_cutoff`` (2012-01-01) a fixed number of months
  (10 years), on or after it the months from ``never_enrolled_period_start`` (2000-10-01) to the
  retirement date (a started month counts whole), on the reference wage in force at enrolment ×
  the listed rates (employer 7% + maternity 1%, 第二十二条, D-S3), all to the pool; the cumulative
  minimum must also hold afterwards — how a remaining shortfall is bought the document does not say
  (``never_enrolled_shortfall_rule`` missing, D-X16). Where silent (ziyang, xianning) the rule is
  missing.
* ``lump_sum_paid_on`` (an input added to SCENARIOS.md's list) is the day the lump sum was paid:
  retiree benefits from the 1st of the month after it (sanmenxia 第八条 "次月起").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from batch.dates import anniversary, first_of_next_month
from policy.calculations import Field, InputError, calculation, money, parse_value
from policy.resolver import Policy, PolicyError

from .payment_years import ZERO, deemed_cutoff

SEXES = ("male", "female")
KEEP_PAYING_KEY = "retirement.keep_paying_allowed"
FEMALE_ROLES = ("cadre", "worker")
CATEGORIES = ("employee", "flexible")


@dataclass(frozen=True)
class ClearanceResult:
    """Outcome of one retirement clearance (退休清缴核定)."""

    retire_on: date
    legal_age_date: date | None  # the day the legal retirement age is reached, where the document gives ages
    early: bool | None  # retiring before that day (提前退休、病退、特殊工种)
    required_months: int
    required_local_months: int
    cumulative_months: Decimal
    local_months: Decimal
    shortfall_months: int
    lump_sum: Decimal
    lump_sum_base: Decimal | None  # monthly base charged (after *_lump_sum_base_pct); None when nothing is owed
    keep_paying_allowed: bool | None  # 按在职职工继续缴费 instead of the lump sum; None: the document is silent
    eligible: bool
    retiree_from: date | None  # when nothing is owed, or once the lump sum has been paid
    basis: str  # how the lump sum was computed, in Chinese
    citations: dict[str, str] = field(default_factory=dict)


def legal_age_date(
    policy: Policy, *, sex: str, birth_date: date, category: str = "employee", female_role: str | None = None
) -> date:
    """The day the legal retirement age is reached (hunan 第二十八条, 第二十九条); PolicyMissing where silent."""
    if category == "flexible":
        key = "retirement.flexible_age_male" if sex == "male" else "retirement.flexible_age_female"
    elif sex == "male":
        key = "retirement.age_male"
    else:
        if female_role not in FEMALE_ROLES:
            raise InputError("female_role: 女职工须注明 cadre（干部）或 worker（工人）以确定法定退休年龄")
        key = f"retirement.age_female_{female_role}"
    return anniversary(birth_date, int(policy.decimal(key)))


def lump_sum_base(
    policy: Policy, *, category: str = "employee", last_monthly_base: Decimal | None = None
) -> tuple[Decimal, str]:
    """The monthly base of the 退休清缴 lump sum before ``*_lump_sum_base_pct`` is applied, and how it was found.

    hunan 第二十八条 当年度缴费基准值, 第二十九条 (flexible, × 60%); langfang 第三十四条 市社平工资;
    sanmenxia 第八条 本人退休前缴费基数 (D-S1), 第十七条 (flexible); ziyang 第九条(五)1 上月缴费基数, or the
    clearance year's minimum base when there is none (D-Z2).
    """
    prefix = "flexible_" if category == "flexible" else ""
    kind = policy.value(f"retirement.{prefix}lump_sum_base")
    if kind == "reference_wage":
        return policy.stat("reference_monthly_wage"), "缴费基准值/社平工资（月）"
    if kind == "last_base":
        if last_monthly_base is not None:
            return last_monthly_base, "本人退休前（上月）缴费基数"
        fallback = policy.value("retirement.lump_sum_base_fallback")
        if fallback == "minimum_base":  # ziyang 第九条(五)1 上月无缴费基数的，按清算当年最低缴费基数
            floor = policy.percent("contribution.base_floor_pct") * policy.stat("reference_monthly_wage")
            return floor, "清算当年最低缴费基数（上月无缴费基数）"
        raise PolicyError(f"retirement.lump_sum_base_fallback: 未知取值 {fallback!r}")
    raise PolicyError(f"retirement.{prefix}lump_sum_base: 未知取值 {kind!r}")


def clearance(
    policy: Policy,
    *,
    sex: str,
    deemed_months: Any = 0,
    actual_months: Any = 0,
    local_months: Any = 0,
    category: str = "employee",
    birth_date: date | None = None,
    female_role: str | None = None,
    retire_on: date | None = None,
    last_monthly_base: Any = None,
    lump_sum_paid_on: date | None = None,
) -> ClearanceResult:
    """Clear one person's contribution years at retirement. ``policy`` is bound to the clearance date."""
    if sex not in SEXES:
        raise InputError(f"sex: {sex!r} 不在可选值 {', '.join(SEXES)} 中")
    if category not in CATEGORIES:
        raise InputError(f"category: {category!r} 不在可选值 {', '.join(CATEGORIES)} 中")
    deemed, actual, local = (parse_value("decimal", v or 0) for v in (deemed_months, actual_months, local_months))
    if min(deemed, actual, local) < 0:
        raise InputError("缴费月数不能为负 (months cannot be negative)")

    legal = None
    if birth_date is not None and (retire_on is None or _ages_known(policy, sex, category, female_role)):
        legal = legal_age_date(policy, sex=sex, birth_date=birth_date, category=category, female_role=female_role)
    if retire_on is None:
        if legal is None:
            raise InputError("retire_on: 未给退休日期时须给出 birth_date，以法定退休年龄确定")
        retire_on = legal
    early = None if legal is None else retire_on < legal

    # never enrolled here (未在统筹区参加职工医保): no actual month, no local month and no own base on file
    never = not actual and not local and last_monthly_base is None
    never_rule = policy.value(NEVER_ENROLLED_KEY) if never else None
    if never_rule not in (None, "shortfall", "fixed_or_since"):
        raise PolicyError(f"{NEVER_ENROLLED_KEY}: 未知取值 {never_rule!r}")
    at_retirement = policy.at(retire_on)  # D-Z4: the minimum in force in the year of the retirement date
    if never_rule == "fixed_or_since":
        at_retirement = policy  # sanmenxia 第八条: enrolling now, under the rules in force at enrolment
    sex_key = f"retirement.min_cumulative_months_{sex}"
    required = int(at_retirement.decimal(sex_key))
    required_local = int(at_retirement.decimal("retirement.min_local_months"))
    with_deemed = at_retirement.value("retirement.cumulative_includes_deemed")
    if deemed and with_deemed:
        deemed_cutoff(at_retirement)  # deemed months need the document's cut-off date (D-L14, D-X16)
    cumulative = (deemed if with_deemed else ZERO) + actual
    shortfall = max(0, math.ceil(required - cumulative), math.ceil(required_local - local))

    lump_sum, basis, base = ZERO, "缴费年限已满，无需补缴", None
    keep_paying = None
    if never_rule == "fixed_or_since":  # sanmenxia 第八条: 未在统筹区参加职工医保的退休人员
        shortfall, lump_sum, base, basis = _never_enrolled(policy, retire_on, deemed, required, required_local)
    elif shortfall:
        # langfang 第三十四条; ziyang 第九条(五)2: or keep paying as in-service until the years are met;
        # a retiree enrolling for the first time "应一次性补缴" (langfang 第三十四条, hunan 第十六条): no choice
        keep_paying = False if never_rule == "shortfall" else policy.value(KEEP_PAYING_KEY, None)
        prefix = "flexible_" if category == "flexible" else ""
        base_value = parse_value("decimal", last_monthly_base) if last_monthly_base is not None else None
        raw_base, base_zh = lump_sum_base(policy, category=category, last_monthly_base=base_value)
        base_pct = policy.decimal(f"retirement.{prefix}lump_sum_base_pct")
        total_rate, rate_zh = _rates(policy, f"retirement.{prefix}lump_sum_rates")
        base = raw_base * base_pct / 100  # the monthly base actually charged (hunan 第二十九条 60% of 缴费基准值)
        lump_sum = money(base * total_rate / 100 * shortfall)
        basis = f"{base_zh} {raw_base} × {base_pct.normalize():f}% × ({rate_zh}) × 不足{shortfall}个月 = {lump_sum}"

    rule = policy.value("retirement.retiree_from_rule")
    if rule != "month_after_retirement":
        raise PolicyError(f"retirement.retiree_from_rule: 未知取值 {rule!r}")
    if not shortfall:
        retiree_from = first_of_next_month(retire_on)  # D-X17
    elif lump_sum_paid_on is not None:
        retiree_from = first_of_next_month(max(retire_on, lump_sum_paid_on))  # sanmenxia 第八条 次月起
    else:
        retiree_from = None

    return ClearanceResult(
        retire_on=retire_on,
        legal_age_date=legal,
        early=early,
        required_months=required,
        required_local_months=required_local,
        cumulative_months=cumulative,
        local_months=local,
        shortfall_months=shortfall,
        lump_sum=lump_sum,
        lump_sum_base=base,
        keep_paying_allowed=None if keep_paying is None else bool(keep_paying),
        eligible=shortfall == 0,
        retiree_from=retiree_from,
        basis=basis,
        citations={**at_retirement.used, **policy.used},
    )


NEVER_ENROLLED_KEY = "retirement.never_enrolled_rule"


def _rates(policy: Policy, key: str) -> tuple[Decimal, str]:
    """The sum of the rates the list parameter ``key`` names, and how it reads (``7%+1%``)."""
    rate_keys = policy.value(key)
    if not isinstance(rate_keys, list) or not rate_keys:
        raise PolicyError(f"{key} 应为缴费费率参数名的列表: {rate_keys!r}")
    rates = [policy.decimal(str(k)) for k in rate_keys]
    return sum(rates, ZERO), "+".join(f"{r.normalize():f}%" for r in rates)


def _months_since(start: date, end: date) -> int:
    """Calendar months of ``[start, end)``, a started month counting whole (缴费按月)."""
    months = (end.year - start.year) * 12 + end.month - start.month + (1 if end.day > start.day else 0)
    return max(0, months)


def _never_enrolled(
    policy: Policy, retire_on: date, deemed: Decimal, required: int, required_local: int
) -> tuple[int, Decimal, Decimal, str]:
    """sanmenxia 第八条: a retiree never enrolled in the pooling area buys (months, lump sum, base, basis)."""
    cutoff = parse_value("date", policy.value("retirement.never_enrolled_cutoff"))
    if retire_on < cutoff:  # 2012年1月1日前办理退休手续的：一次性缴纳10年
        months = int(policy.decimal("retirement.never_enrolled_fixed_months"))
        period = f"{cutoff} 前退休，一次性缴纳{months}个月"
    else:  # 2012年1月1日后：2000年10月1日起至办理退休时，并须符合累计缴费年限
        start = parse_value("date", policy.value("retirement.never_enrolled_period_start"))
        months = _months_since(start, retire_on)
        period = f"{start} 起至退休 {retire_on} 共{months}个月"
        still_short = max(0, math.ceil(required - (deemed + months)), math.ceil(required_local - months))
        if still_short:
            # the cumulative minimum must also hold; how the rest is bought is not written (D-X16)
            how = policy.value("retirement.never_enrolled_shortfall_rule")
            if how != "same_terms":
                raise PolicyError(f"retirement.never_enrolled_shortfall_rule: 未知取值 {how!r}")
            months += still_short
            period += f"，另补足累计缴费年限不足的{still_short}个月"
    kind = policy.value("retirement.never_enrolled_base")
    if kind != "reference_wage":
        raise PolicyError(f"retirement.never_enrolled_base: 未知取值 {kind!r}")
    base = policy.stat("reference_monthly_wage")  # 参保缴费时上年度全省全口径城镇单位就业人员月平均工资
    total_rate, rate_zh = _rates(policy, "retirement.never_enrolled_rates")
    lump_sum = money(base * total_rate / 100 * months)
    basis = (
        f"未在统筹区参保的退休人员：{period}；上年度全省月平均工资 {base} × ({rate_zh}) × {months} = {lump_sum}，"
        "全部计入统筹基金"
    )
    return months, lump_sum, base, basis


def _ages_known(policy: Policy, sex: str, category: str, female_role: str | None) -> bool:
    """Whether the document gives the legal age for this person (only then is early retirement flagged)."""
    if category == "flexible":
        return policy.has(f"retirement.flexible_age_{sex}")
    if sex == "male":
        return policy.has("retirement.age_male")
    return female_role in FEMALE_ROLES and policy.has(f"retirement.age_female_{female_role}")


@calculation(
    "retirement_clearance",
    inputs={
        "sex": Field("str", choices=SEXES),
        "birth_date": Field("date", default=None),
        "female_role": Field("str", default=None, choices=FEMALE_ROLES),
        "category": Field("str", default="employee", choices=CATEGORIES),
        "retire_on": Field("date", default=None),
        "deemed_months": Field("decimal", default=0),
        "actual_months": Field("decimal", default=0),
        "local_months": Field("decimal", default=0),
        "last_monthly_base": Field("decimal", default=None),
        # extension to SCENARIOS.md: the day the lump sum was paid (retiree benefits from the next month)
        "lump_sum_paid_on": Field("date", default=None),
    },
    outputs={
        "required_months": "int",
        "required_local_months": "int",
        "cumulative_months": "decimal",
        "shortfall_months": "int",
        "lump_sum": "money",
        "eligible": "bool",
        "retiree_from": "date",
        "keep_paying_allowed": "bool",
    },
)
def retirement_clearance(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """退休清缴：最低缴费年限、不足月数、一次性补缴金额、退休人员待遇开始日期。"""
    result = clearance(policy, **inputs)
    return {
        "required_months": result.required_months,
        "required_local_months": result.required_local_months,
        "cumulative_months": result.cumulative_months,
        "shortfall_months": result.shortfall_months,
        "lump_sum": result.lump_sum,
        "eligible": result.eligible,
        "retiree_from": result.retiree_from,
        # extension to SCENARIOS.md: whether 按在职职工继续缴费 may replace the lump sum (null: silent or nothing owed)
        "keep_paying_allowed": result.keep_paying_allowed,
    }
