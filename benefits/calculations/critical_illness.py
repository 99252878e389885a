"""The layer above the basic pool: hunan 职工大病保险, ziyang 职工大额医疗费用补助 (POLICY-DIGEST §2m).

The layer works on the year's cumulative individual burden ``self_pay_this_year``
(policy-range inpatient cost the person bore after the basic pool, this claim
included). The whole year's entitlement is computed on that burden and the
payments already made are subtracted, so settling claim by claim gives the same
total as settling once at year end:

- 起付线 (deductible): a reference statistic named by ``critical_illness.deductible_statistic``
  — hunan ``critical_illness_deductible`` (set by each city, 第五十六条, D-H11),
  ziyang ``large_amount_deductible`` (≤ 50% of the city average wage, 第二十七条(一),
  D-Z18); hunan 特困/低保 −50%.
- 分段比例 (``critical_illness.bands``): the burden above the deductible is sliced at
  the band limits, measured on the whole burden including the part below the
  deductible (ziyang 第二十七条(二), D-Z19: 70/80/90% local, 50/60/70% out of area);
  hunan one band of 85%, 特困/低保 +5 points (第五十七条).
- 年度限额: hunan 400 000, none for 特困/低保 (第五十八条); ziyang none unless staff
  enter one (D-Z18).

langfang (大额补充: separate city policy), xianning (figures external) and sanmenxia
(no layer) have no values: the calculation fails with ``PolicyMissing`` (D-X16).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from config.calculations import Field, calculation, money
from config.policy import Policy, PolicyError

from ._common import HUNDRED, LOCATION_ZH, LOCATIONS, ZERO, Step, check_choice, cite, fmt, location_rule
from ._common import amount as to_amount


@dataclass
class CriticalIllnessResult:
    """大病保险 / 大额医疗费用补助 for one claim."""

    pay: Decimal
    deductible: Decimal
    entitlement: Decimal
    steps: list[Step] = field(default_factory=list)

    def outputs(self) -> dict[str, Any]:
        return {"pay": self.pay, "steps": self.steps}


def settle_critical_illness(
    policy: Policy,
    *,
    self_pay_this_year: Any,
    paid_this_year: Any = ZERO,
    poverty: bool = False,
    location: str = "local",
) -> CriticalIllnessResult:
    """The layer's payment for this claim: the year's entitlement on the cumulative burden minus what was paid."""
    check_choice(location, LOCATIONS, "location")
    burden = to_amount(self_pay_this_year, "self_pay_this_year")
    paid = to_amount(paid_this_year, "paid_this_year")
    steps: list[Step] = []

    bands = policy.value("critical_illness.bands")
    statistic = policy.value("critical_illness.deductible_statistic")
    if not isinstance(bands, list) or not bands:
        raise PolicyError(f"参数 critical_illness.bands（{policy.jurisdiction}）应为分段列表: {bands!r}")
    deductible = policy.stat(str(statistic))
    steps.append(
        Step(
            f"年度起付线（统计指标 {statistic}）",
            cite(policy, "critical_illness.deductible_statistic", f"stats.{statistic}"),
            deductible,
        )
    )
    increment = ZERO
    if poverty:
        reduction = policy.value("critical_illness.poverty_deductible_reduction_pct")
        if reduction:
            deductible = deductible * (HUNDRED - reduction) / HUNDRED
            steps.append(
                Step(
                    f"特困人员、低保对象起付线降低 {fmt(reduction)}%",
                    cite(policy, "critical_illness.poverty_deductible_reduction_pct"),
                    deductible,
                )
            )
        increment = policy.value("critical_illness.poverty_ratio_increment_pct") or ZERO

    rule = location_rule(policy, "critical_illness.location_rules", location)
    column = rule.get("standard", "local")
    steps.append(
        Step(
            f"就医地点：{LOCATION_ZH[location]}，按{'异地' if column == 'out_of_area' else '本地'}比例",
            cite(policy, "critical_illness.location_rules"),
        )
    )
    steps.append(Step("本年度政策范围内个人负担累计（含本次）", "", burden))

    entitlement = ZERO
    lower = deductible
    for band in bands:
        up_to = band.get("up_to")
        top = burden if up_to is None else min(burden, Decimal(up_to))
        pct = Decimal(band[f"{column}_pct"]) + increment
        if top > lower:
            part = (top - lower) * pct / HUNDRED
            entitlement += part
            steps.append(
                Step(
                    f"{fmt(lower)} 元至 {fmt(top)} 元部分 × {fmt(pct)}%",
                    cite(policy, "critical_illness.bands", "critical_illness.poverty_ratio_increment_pct"),
                    part,
                )
            )
        if up_to is not None:
            lower = max(lower, Decimal(up_to))
    if entitlement == ZERO:
        steps.append(Step("个人负担未超过起付线，不予支付", cite(policy, "critical_illness.bands"), ZERO))

    cap = policy.value("critical_illness.annual_cap")
    if poverty and cap is not None and policy.value("critical_illness.poverty_cap_removed"):
        steps.append(Step("特困人员、低保对象取消封顶线", cite(policy, "critical_illness.poverty_cap_removed")))
        cap = None
    if cap is not None and entitlement > cap:
        entitlement = cap
        steps.append(Step(f"年度补偿限额 {fmt(cap)} 元", cite(policy, "critical_illness.annual_cap"), cap))
    pay = money(max(entitlement - paid, ZERO))
    steps.append(Step(f"本年应付累计 {fmt(entitlement)} 元 − 已支付 {fmt(paid)} 元", "", pay))
    return CriticalIllnessResult(pay=pay, deductible=deductible, entitlement=entitlement, steps=steps)


@calculation(
    "critical_illness",
    inputs={
        "self_pay_this_year": Field("decimal"),
        "paid_this_year": Field("decimal", default=ZERO),
        "poverty": Field("bool", default=False),
        "location": Field("str", default="local", choices=LOCATIONS),
    },
    outputs={"pay": "money"},
)
def critical_illness(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """大病保险（湖南）/ 大额医疗费用补助（资阳）: this claim's payment (SCENARIOS.md `critical_illness`)."""
    return settle_critical_illness(policy, **inputs).outputs()
