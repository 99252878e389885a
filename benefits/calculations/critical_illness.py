"""The layers above the basic pool (POLICY-DIGEST §2m).

First layer (``critical_illness.*``; paid in the 2303 field ``claims.layer_payment_field``):

- hunan 职工大病保险 (第五十二条–第五十八条) and ziyang 职工大额医疗费用补助 (第二十六条、
  第二十七条) work on the year's cumulative individual burden ``self_pay_this_year``
  (policy-range inpatient cost the person bore after the basic pool, this claim
  included): ``critical_illness.basis`` = ``burden``.
- langfang 职工大额补充医疗保险 (第五十二条) pays the inpatient, 门诊慢特病 and outpatient
  costs **above the basic pool's annual maximum** (``above_cap_this_year``):
  basis ``above_pool_cap``; basic + 大额 together stay under one annual total
  (第四十九条(四): ``critical_illness.cap_includes_pool``). Its ratios and total are in
  a separate city policy (D-L16): required parameters, so a claim above the basic cap
  fails with ``PolicyMissing`` naming ``critical_illness.bands`` until staff enter it;
  below the cap the layer has nothing to pay and needs no figure.
- xianning 职工大额医疗费用补助 exists (办法 三、四(二)) but every figure and even its
  basis are in the "现行全市统一待遇政策" (D-XN1): ``PolicyMissing`` naming
  ``critical_illness.basis`` until staff enter the values.
- sanmenxia: no layer (the 办法 has none; ``claims.layer_payment_field`` null).

Whole-year arithmetic: the year's entitlement is computed on the cumulative measure
and the payments already made are subtracted, so settling claim by claim gives the
same total as settling once at year end.

- 起付线: a reference statistic named by ``critical_illness.deductible_statistic``
  (hunan ``critical_illness_deductible`` set by the city, 第五十六条, D-H11; ziyang
  ``large_amount_deductible`` ≤ 50% of the city average wage, 第二十七条(一), D-Z18);
  hunan 特困/低保 −50%. No deductible for ``above_pool_cap`` (the basic cap is the threshold).
- 分段比例 (``critical_illness.bands``): the measure above the deductible is sliced at the
  band limits measured on the whole measure (ziyang D-Z19: 70/80/90% local, 50/60/70%
  out of area); hunan one band of 85%, 特困/低保 +5 points (第五十七条).
- 年度限额: hunan 400 000, none for 特困/低保 (第五十八条); ziyang none unless staff enter one (D-Z18).

Second layer, ziyang 商业健康补充医疗保险 (第二十八条–第三十一条; voluntary, run by insurers;
2303 ``oth_pay`` 其他支出 — not a medical-insurance fund, so not in ``fund_pay_sumamt``):

- 住院 (第三十一条(二)): (the year's policy-range inpatient cost − basic deductibles −
  basic pool and 大额 payments) × 60% local / 40% out of area, i.e. (burden −
  deductibles borne − 大额 paid) × pct, cumulative over the year (:func:`settle_supplementary`).
- 特殊疾病门诊 (第三十一条(一)): class-1 costs are paid as inpatient; class-2/3 costs above
  the basic pool's outpatient limit × 60%, at most 1000 a year
  (:func:`settle_supplementary_special_disease`).
- Renewal after a break or after the 1 January–30 June window: benefits 3 months after the
  payment month (第三十一条; the payment month counts as month 1, as D-X4 reads "6个月后").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from batch.dates import add_months
from policy.calculations import Field, InputError, calculation, money
from policy.resolver import Policy, PolicyError

from ._common import HUNDRED, LOCATION_ZH, LOCATIONS, ZERO, Step, check_choice, cite, fmt, location_rule
from ._common import amount as to_amount

BASES = ("burden", "above_pool_cap")


@dataclass
class CriticalIllnessResult:
    """大病保险 / 大额医疗费用补助 / 大额补充 for one claim."""

    pay: Decimal
    deductible: Decimal
    entitlement: Decimal
    measure: Decimal = ZERO
    steps: list[Step] = field(default_factory=list)

    def outputs(self) -> dict[str, Any]:
        return {"pay": self.pay, "steps": self.steps}


@dataclass
class SupplementaryResult:
    """商业健康补充医疗保险 (ziyang) for one claim."""

    pay: Decimal
    base: Decimal = ZERO
    entitlement: Decimal = ZERO
    steps: list[Step] = field(default_factory=list)


def _column(policy: Policy, location: str) -> str:
    rule = location_rule(policy, "critical_illness.location_rules", location)
    return str(rule.get("standard", "local"))


def settle_critical_illness(
    policy: Policy,
    *,
    self_pay_this_year: Any = ZERO,
    paid_this_year: Any = ZERO,
    poverty: bool = False,
    location: str = "local",
    above_cap_this_year: Any = ZERO,
    pool_paid_this_year: Any = ZERO,
) -> CriticalIllnessResult:
    """The first layer's payment for this claim: the year's entitlement on the cumulative measure minus what was paid.

    ``above_cap_this_year``: policy-range cost above the basic pool's annual maximum this year
    (basis ``above_pool_cap``); ``pool_paid_this_year``: what the basic pool paid this year
    (counted in the total where ``critical_illness.cap_includes_pool``).
    """
    check_choice(location, LOCATIONS, "location")
    burden = to_amount(self_pay_this_year, "self_pay_this_year")
    paid = to_amount(paid_this_year, "paid_this_year")
    above = to_amount(above_cap_this_year, "above_cap_this_year")
    pool_paid = to_amount(pool_paid_this_year, "pool_paid_this_year")
    steps: list[Step] = []

    basis = policy.value("critical_illness.basis")
    if basis == "burden":
        measure = burden
        statistic = policy.value("critical_illness.deductible_statistic")
        deductible = policy.stat(str(statistic))
        steps.append(
            Step(
                f"年度起付线（统计指标 {statistic}）",
                cite(policy, "critical_illness.deductible_statistic", f"stats.{statistic}"),
                deductible,
            )
        )
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
        steps.append(Step("本年度政策范围内个人负担累计（含本次）", cite(policy, "critical_illness.basis"), burden))
    elif basis == "above_pool_cap":
        measure, deductible = above, ZERO
        steps.append(
            Step(
                "本年度超过基本医疗保险统筹基金年度最高支付限额的政策范围内费用累计（含本次）",
                cite(policy, "critical_illness.basis"),
                above,
            )
        )
    else:
        raise PolicyError(f"参数 critical_illness.basis（{policy.jurisdiction}）应为 {' / '.join(BASES)}: {basis!r}")

    if measure <= deductible:
        text = (
            "未超过基本医疗保险统筹基金年度最高支付限额，本层不支付"
            if basis == "above_pool_cap"
            else "个人负担未超过起付线，不予支付"
        )
        steps.append(Step(text, cite(policy, "critical_illness.basis"), ZERO))
        return CriticalIllnessResult(
            pay=money(ZERO), deductible=deductible, entitlement=ZERO, measure=measure, steps=steps
        )

    bands = policy.value("critical_illness.bands")
    if not isinstance(bands, list) or not bands:
        raise PolicyError(f"参数 critical_illness.bands（{policy.jurisdiction}）应为分段列表: {bands!r}")
    column = _column(policy, location)
    steps.append(
        Step(
            f"就医地点：{LOCATION_ZH[location]}，按{'异地' if column == 'out_of_area' else '本地'}比例",
            cite(policy, "critical_illness.location_rules"),
        )
    )
    increment = ZERO
    if poverty:
        increment = policy.value("critical_illness.poverty_ratio_increment_pct") or ZERO

    entitlement = ZERO
    lower = deductible
    for band in bands:
        up_to = band.get("up_to")
        top = measure if up_to is None else min(measure, Decimal(up_to))
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

    cap = policy.value("critical_illness.annual_cap")
    if poverty and cap is not None and policy.value("critical_illness.poverty_cap_removed"):
        steps.append(Step("特困人员、低保对象取消封顶线", cite(policy, "critical_illness.poverty_cap_removed")))
        cap = None
    if cap is not None:
        limit = cap
        if policy.value("critical_illness.cap_includes_pool"):
            limit = max(cap - pool_paid, ZERO)
            steps.append(
                Step(
                    f"基本医疗保险与本层年度总支付限额 {fmt(cap)} 元，本年统筹基金已支付 {fmt(pool_paid)} 元，"
                    f"本层至多 {fmt(limit)} 元",
                    cite(policy, "critical_illness.annual_cap", "critical_illness.cap_includes_pool"),
                    limit,
                )
            )
        if entitlement > limit:
            entitlement = limit
            steps.append(Step(f"年度补偿限额 {fmt(cap)} 元", cite(policy, "critical_illness.annual_cap"), limit))
    pay = money(max(entitlement - paid, ZERO))
    steps.append(Step(f"本年应付累计 {fmt(entitlement)} 元 − 已支付 {fmt(paid)} 元", "", pay))
    return CriticalIllnessResult(pay=pay, deductible=deductible, entitlement=entitlement, measure=measure, steps=steps)


def supplementary_entitled(policy: Policy, *, insured: bool, renewed_on: date | None, day: date) -> tuple[bool, Step]:
    """Is the person covered by ziyang's 商业健康补充医疗保险 on ``day``? (第二十九条、第三十一条)

    ``renewed_on``: the payment date of a renewal after a break or after the 1 January–30 June
    window (None: renewed in time, or newly insured — no wait). Covered from the 1st of the
    payment month + ``critical_illness.supplementary_wait_months`` (payment month = month 1).
    """
    if not policy.has("critical_illness.supplementary_inpatient_pct"):
        raise InputError(f"{policy.name}办法未设商业健康补充医疗保险（该层见资阳第二十八条至第三十一条）")
    if not insured:
        return False, Step("未参加商业健康补充医疗保险", "ziyang 第二十九条")
    if renewed_on is None:
        policy.value("critical_illness.supplementary_inpatient_pct")
        return True, Step("已参加商业健康补充医疗保险", cite(policy, "critical_illness.supplementary_inpatient_pct"))
    months = int(policy.decimal("critical_illness.supplementary_wait_months"))
    start = add_months(renewed_on, months)
    citation = cite(policy, "critical_illness.supplementary_wait_months")
    if day < start:
        return False, Step(f"断保后 {renewed_on} 续保缴费：自 {start} 起享受补充医疗保险待遇，本次不赔付", citation)
    return True, Step(f"断保后 {renewed_on} 续保缴费：自 {start} 起享受补充医疗保险待遇", citation)


def settle_supplementary(
    policy: Policy,
    *,
    self_pay_this_year: Any,
    deductibles_this_year: Any,
    layer_paid_this_year: Any,
    paid_this_year: Any = ZERO,
    location: str = "local",
) -> SupplementaryResult:
    """ziyang 商业健康补充医疗保险 住院 (第三十一条(二)), whole-year: entitlement on the year's base − paid."""
    check_choice(location, LOCATIONS, "location")
    burden = to_amount(self_pay_this_year, "self_pay_this_year")
    deductibles = to_amount(deductibles_this_year, "deductibles_this_year")
    layer = to_amount(layer_paid_this_year, "layer_paid_this_year")
    paid = to_amount(paid_this_year, "paid_this_year")
    pcts = policy.value("critical_illness.supplementary_inpatient_pct")
    column = _column(policy, location)
    pct = Decimal(pcts[f"{column}_pct"])
    base = max(burden - deductibles - layer, ZERO)
    key = "critical_illness.supplementary_inpatient_pct"
    steps = [
        Step(
            f"本年政策范围内住院个人负担 {fmt(burden)} 元 − 基本医疗保险起付线 {fmt(deductibles)} 元 − "
            f"大额医疗费用补助赔付 {fmt(layer)} 元",
            cite(policy, key),
            base,
        ),
        Step(
            f"就医地点：{LOCATION_ZH[location]}，按{'异地' if column == 'out_of_area' else '本地'} {fmt(pct)}% 赔付",
            cite(policy, key, "critical_illness.location_rules"),
        ),
    ]
    entitlement = base * pct / HUNDRED
    cap = policy.value("critical_illness.supplementary_annual_cap")
    if cap is not None and entitlement > cap:
        entitlement = cap
        steps.append(
            Step(f"年度赔付限额 {fmt(cap)} 元", cite(policy, "critical_illness.supplementary_annual_cap"), cap)
        )
    pay = money(max(entitlement - paid, ZERO))
    steps.append(Step(f"本年应赔累计 {fmt(entitlement)} 元 − 已赔付 {fmt(paid)} 元", "", pay))
    return SupplementaryResult(pay=pay, base=base, entitlement=entitlement, steps=steps)


def settle_supplementary_special_disease(
    policy: Policy, *, above_cap_amount: Any, paid_this_year: Any = ZERO
) -> SupplementaryResult:
    """ziyang 第三十一条(一): class-2/3 special-disease outpatient costs above the pool's limit × 60%, ≤ 1000 a year."""
    above = to_amount(above_cap_amount, "above_cap_amount")
    paid = to_amount(paid_this_year, "paid_this_year")
    pct = policy.decimal("critical_illness.supplementary_special_disease_pct")
    cap = policy.value("critical_illness.supplementary_special_disease_cap")
    amount = above * pct / HUNDRED
    steps = [
        Step(
            f"超过统筹基金门诊支付限额的合格费用 {fmt(above)} 元 × {fmt(pct)}%",
            cite(policy, "critical_illness.supplementary_special_disease_pct"),
            amount,
        )
    ]
    if cap is not None:
        remaining = max(cap - paid, ZERO)
        if amount > remaining:
            amount = remaining
        steps.append(
            Step(
                f"年度最高赔付 {fmt(cap)} 元，本年已赔付 {fmt(paid)} 元",
                cite(policy, "critical_illness.supplementary_special_disease_cap"),
                amount,
            )
        )
    pay = money(amount)
    return SupplementaryResult(pay=pay, base=above, entitlement=paid + pay, steps=steps)


@calculation(
    "critical_illness",
    inputs={
        "self_pay_this_year": Field("decimal", default=ZERO),
        "paid_this_year": Field("decimal", default=ZERO),
        "poverty": Field("bool", default=False),
        "location": Field("str", default="local", choices=LOCATIONS),
        "above_cap_this_year": Field("decimal", default=ZERO),
        "pool_paid_this_year": Field("decimal", default=ZERO),
        "deductibles_this_year": Field("decimal", default=ZERO),
        "supplementary_insured": Field("bool", default=False),
        "supplementary_renewed_on": Field("date", default=None),
        "supplementary_paid_this_year": Field("decimal", default=ZERO),
    },
    outputs={"pay": "money", "supplementary_pay": "money"},
)
def critical_illness(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """大病保险（湖南）/ 大额医疗费用补助（资阳、咸宁）/ 大额补充（廊坊）, and ziyang's 商业健康补充医疗保险.

    SCENARIOS.md ``critical_illness`` plus: ``above_cap_this_year`` and ``pool_paid_this_year``
    (langfang's layer above the basic cap), ``deductibles_this_year`` (basic inpatient
    deductibles borne this year), ``supplementary_insured`` / ``supplementary_renewed_on`` /
    ``supplementary_paid_this_year`` (ziyang 第二十九条–第三十一条); output ``supplementary_pay``.
    """
    result = settle_critical_illness(
        policy,
        self_pay_this_year=inputs["self_pay_this_year"],
        paid_this_year=inputs["paid_this_year"],
        poverty=inputs["poverty"],
        location=inputs["location"],
        above_cap_this_year=inputs["above_cap_this_year"],
        pool_paid_this_year=inputs["pool_paid_this_year"],
    )
    steps = list(result.steps)
    supplementary = money(ZERO)
    if inputs["supplementary_insured"]:
        ok, step = supplementary_entitled(
            policy, insured=True, renewed_on=inputs["supplementary_renewed_on"], day=policy.on
        )
        steps.append(step)
        if ok:
            sup = settle_supplementary(
                policy,
                self_pay_this_year=inputs["self_pay_this_year"],
                deductibles_this_year=inputs["deductibles_this_year"],
                layer_paid_this_year=inputs["paid_this_year"] + result.pay,
                paid_this_year=inputs["supplementary_paid_this_year"],
                location=inputs["location"],
            )
            supplementary = sup.pay
            steps.extend(sup.steps)
    return {"pay": result.pay, "supplementary_pay": supplementary, "steps": steps}
