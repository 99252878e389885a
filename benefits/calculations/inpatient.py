"""住院医疗费用 — one hospital stay settled by the basic medical pool (统筹基金).

POLICY-DIGEST §2j, §2j-2. Every figure comes from ``config/policies/<j>/inpatient.yaml``:

1. 起付标准 (deductible): the level's figure (``inpatient.deductible_by_level``, or the
   out-of-area column ``inpatient.out_of_area_deductible_by_level`` where the place of
   care calls for it) → TCM hospital one level lower (langfang, D-L6) → retiree
   reduction (langfang −100, ziyang −200) → repeat admission (hunan and sanmenxia 50%;
   langfang −100 and ziyang −50 per further stay, cumulative, D-L1, D-Z11) or, for
   ziyang's class-1 special disease and patients aged 80+, no deductible after the
   first stay (第十八条(一)5) → floor (langfang 0, ziyang 100; D-L2, D-Z12) → annual
   total of deductibles (hunan 2000, D-H5) → never more than the stay's amount.
2. 支付比例 (ratio): by level and person type; retiree, age (ziyang 70+ retirees,
   D-Z14) and class-1 special-disease increments; the place-of-care adjustment
   (hunan −5/−15, sanmenxia −5/−20 at 三级, D-H16, D-S8); at most
   ``inpatient.ratio_max_pct`` (ziyang 第十八条(二), langfang D-L18).
3. 统筹支付 = (policy_amount − deductible) × (1 − self-pay-first share, langfang
   cross-province 10%, D-L10) × ratio, at most what is left of the annual cap
   (``pool_paid_this_year`` counts every pool payment the cap covers: langfang D-L9,
   ziyang 第十二条(四)).

Places of care (``location``, SCENARIOS.md "Locations") map to a rule per
jurisdiction in ``inpatient.location_rules``: which column of figures applies
(``standard``: local | out_of_area), the ratio adjustment in points and any share
the patient pays first. A filed long-term resident treated at the filed place is
settled as ``local`` (hunan 第四十条, langfang 第四十七条(四), ziyang 第三十四条(一));
``registered_remote`` is a filed temporary stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from config.calculations import Field, InputError, calculation, money
from config.policy import Policy

from ._common import (
    HOSPITAL_LEVELS,
    HUNDRED,
    LEVEL_ZH,
    LOCATION_ZH,
    LOCATIONS,
    PERSON_TYPE_ZH,
    PERSON_TYPES,
    ZERO,
    Step,
    amount,
    check_choice,
    cite,
    fmt,
    group_value,
    location_rule,
    resolve_level,
)


@dataclass
class InpatientResult:
    """住院结算结果: the scenario outputs plus the steps that explain them."""

    deductible: Decimal
    ratio: Decimal
    pool_pay: Decimal
    self_pay: Decimal
    steps: list[Step] = field(default_factory=list)

    def outputs(self) -> dict[str, Any]:
        return {
            "deductible": self.deductible,
            "ratio": self.ratio,
            "pool_pay": self.pool_pay,
            "self_pay": self.self_pay,
            "steps": self.steps,
        }


def settle_inpatient(
    policy: Policy,
    *,
    hospital_level: str,
    policy_amount: Any,
    person_type: str = "in_service",
    age: int | None = None,
    tcm: bool = False,
    location: str = "local",
    admission_number: int = 1,
    deductibles_this_year: Any = ZERO,
    pool_paid_this_year: Any = ZERO,
    special_disease_class: int | None = None,
    deductible_paid_this_stay: Any = ZERO,
) -> InpatientResult:
    """Settle one stay (一次住院) under ``policy``.

    ``admission_number`` counts this year's stays (hunan: at hospitals of the same
    level, 第三十六条, D-H5). ``deductibles_this_year`` is every deductible already
    borne this year. ``deductible_paid_this_stay`` (not a scenario input) is the
    deductible already borne for the same continuous stay — upward referral pays
    only the difference (hunan D-H6, ziyang 第十八条(一)6, langfang 第四十七条(一)1),
    downward referral none, and the second-year part of a stay spanning two years
    none (D-X15).
    """
    check_choice(person_type, PERSON_TYPES, "person_type")
    check_choice(hospital_level, HOSPITAL_LEVELS, "hospital_level")
    check_choice(location, LOCATIONS, "location")
    if admission_number < 1:
        raise InputError(f"输入 admission_number: 应从 1 起计，得到 {admission_number}")
    if special_disease_class not in (None, 1, 2, 3):
        raise InputError(f"输入 special_disease_class: 应为 1、2 或 3，得到 {special_disease_class!r}")
    total = amount(policy_amount, "policy_amount")
    borne_before = amount(deductibles_this_year, "deductibles_this_year")
    paid_before = amount(pool_paid_this_year, "pool_paid_this_year")
    paid_this_stay = amount(deductible_paid_this_stay, "deductible_paid_this_stay")
    steps: list[Step] = []

    # 起付标准表 first: where a jurisdiction has no inpatient figures (xianning, D-XN1) this names the gap.
    local_table = policy.value("inpatient.deductible_by_level")
    level = resolve_level(
        policy, "inpatient.level_aliases", hospital_level, local_table, "inpatient.deductible_by_level"
    )
    rule = location_rule(policy, "inpatient.location_rules", location)
    out_of_area = rule.get("standard", "local") == "out_of_area"
    suffix = "（异地标准）" if out_of_area else ""
    ded_key = "inpatient.out_of_area_deductible_by_level" if out_of_area else "inpatient.deductible_by_level"
    ratio_key = "inpatient.out_of_area_ratio_by_level_pct" if out_of_area else "inpatient.ratio_by_level_pct"
    ded_table = policy.value(ded_key)
    where = f"{LEVEL_ZH[level]}，{LOCATION_ZH[location]}"
    steps.append(
        Step(
            f"就医地点：{LOCATION_ZH[location]}，适用{'异地' if out_of_area else '本地'}待遇标准",
            cite(policy, "inpatient.location_rules"),
        )
    )

    # 1. 起付标准
    deductible = _level_figure(policy, ded_key, ded_table, level)
    steps.append(Step(f"{where}起付标准{suffix}", cite(policy, ded_key), deductible))

    if tcm:
        tcm_map = policy.value("inpatient.tcm_deductible_level")
        if tcm_map is None:
            steps.append(
                Step("中医医院：本地无起付标准下浮规定，按同级医院执行", cite(policy, "inpatient.tcm_deductible_level"))
            )
        else:
            lower = tcm_map.get(level, level)
            deductible = _level_figure(policy, ded_key, ded_table, lower)
            steps.append(
                Step(
                    f"中医医院起付标准较同级综合医院下浮一级，按{LEVEL_ZH[lower]}标准",
                    cite(policy, "inpatient.tcm_deductible_level"),
                    deductible,
                )
            )

    if person_type == "retired":
        reduction = policy.value("inpatient.retiree_deductible_reduction")
        if reduction:
            deductible -= reduction
            steps.append(
                Step(
                    f"退休人员起付标准降低 {fmt(reduction)} 元",
                    cite(policy, "inpatient.retiree_deductible_reduction"),
                    deductible,
                )
            )

    waived = False
    if admission_number >= 2:
        first_only = policy.value("inpatient.first_admission_only_deductible")
        if first_only and _first_admission_only(first_only, age, special_disease_class):
            waived = True
            deductible = ZERO
            steps.append(
                Step(
                    f"年度第 {admission_number} 次住院：第一类特殊疾病或年满 {fmt(first_only['min_age'])} 周岁患者，"
                    "只计算年度第一次住院起付线",
                    cite(policy, "inpatient.first_admission_only_deductible"),
                    deductible,
                )
            )
        else:
            deductible = _repeat(policy, deductible, admission_number, steps)

    floor = policy.value("inpatient.deductible_floor")
    if floor is not None and not waived and deductible < floor:
        deductible = floor
        steps.append(Step(f"起付标准不低于 {fmt(floor)} 元", cite(policy, "inpatient.deductible_floor"), deductible))
    deductible = max(deductible, ZERO)

    annual_cap = policy.value("inpatient.annual_deductible_cap")
    if annual_cap is not None and deductible > annual_cap - borne_before:
        deductible = max(annual_cap - borne_before, ZERO)
        steps.append(
            Step(
                f"年度起付标准累计不超过 {fmt(annual_cap)} 元（本年已负担 {fmt(borne_before)} 元）",
                cite(policy, "inpatient.annual_deductible_cap"),
                deductible,
            )
        )

    if paid_this_stay:
        deductible = max(deductible - paid_this_stay, ZERO)
        steps.append(Step(f"同一次连续住院已负担起付标准 {fmt(paid_this_stay)} 元，只付差额", "", deductible))

    borne = money(min(deductible, total))
    if borne < deductible:
        steps.append(Step("政策范围内费用低于起付标准，起付标准按实际费用负担", "", borne))
    steps.append(Step("个人负担起付标准", "", borne))

    # 2. 支付比例
    ratio = group_value(
        policy, ratio_key, person_type, level=level, retiree_increment_key="inpatient.retiree_ratio_increment_pct"
    )
    steps.append(
        Step(
            f"{PERSON_TYPE_ZH[person_type]}在{LEVEL_ZH[level]}住院支付比例 {fmt(ratio)}%{suffix}",
            cite(policy, ratio_key, *(["inpatient.retiree_ratio_increment_pct"] if person_type == "retired" else [])),
        )
    )
    ratio = _ratio_increments(policy, ratio, person_type, age, special_disease_class, steps)
    adjustment = Decimal(rule.get("ratio_adjustment_pct", ZERO))
    if adjustment:
        levels = policy.value("inpatient.ratio_adjustment_levels")
        if levels is None or level in levels:
            ratio += adjustment
            steps.append(
                Step(
                    f"{LOCATION_ZH[location]}：支付比例调整 {fmt(adjustment)} 个百分点，为 {fmt(ratio)}%",
                    cite(policy, "inpatient.location_rules", "inpatient.ratio_adjustment_levels"),
                )
            )
        else:
            steps.append(
                Step(
                    f"{LEVEL_ZH[level]}不在异地比例调整范围内，比例不变",
                    cite(policy, "inpatient.ratio_adjustment_levels"),
                )
            )
    ratio_max = policy.value("inpatient.ratio_max_pct")
    if ratio_max is not None and ratio > ratio_max:
        ratio = ratio_max
        steps.append(Step(f"总支付比例不超过 {fmt(ratio_max)}%", cite(policy, "inpatient.ratio_max_pct")))
    ratio = max(ratio, ZERO)

    # 3. 统筹基金支付
    eligible = total - borne
    self_first = Decimal(rule.get("self_pay_first_pct", ZERO))
    if self_first:
        steps.append(
            Step(
                f"起付标准以上费用 {fmt(eligible)} 元，个人先行自付 {fmt(self_first)}%",
                cite(policy, "inpatient.location_rules"),
                eligible * self_first / HUNDRED,
            )
        )
        eligible = eligible * (HUNDRED - self_first) / HUNDRED
    payable = eligible * ratio / HUNDRED
    steps.append(Step(f"({fmt(eligible)}) × {fmt(ratio)}%", "", payable))

    cap = _annual_cap(policy)
    if cap is not None:
        remaining = max(cap - paid_before, ZERO)
        if payable > remaining:
            payable = remaining
            steps.append(
                Step(
                    f"统筹基金年度最高支付限额 {fmt(cap)} 元，本年已支付 {fmt(paid_before)} 元，"
                    f"剩余 {fmt(remaining)} 元",
                    cite(policy, "inpatient.annual_cap", "inpatient.annual_cap_average_wage_multiple"),
                    remaining,
                )
            )
    pool_pay = money(payable)
    self_pay = total - pool_pay
    steps.append(Step("统筹基金支付", "", pool_pay))
    steps.append(Step("个人负担（政策范围内费用 − 统筹基金支付）", "", self_pay))
    return InpatientResult(deductible=borne, ratio=ratio, pool_pay=pool_pay, self_pay=self_pay, steps=steps)


def _level_figure(policy: Policy, key: str, table: Mapping[str, Any], level: str) -> Decimal:
    if level not in table:
        raise InputError(f"{policy.jurisdiction} 的 {key} 没有医院等级 {level!r}")
    return Decimal(table[level])


def _first_admission_only(rule: Mapping[str, Any], age: int | None, special_disease_class: int | None) -> bool:
    """ziyang 第十八条(一)5: class-1 special disease (AIDS too) and patients aged 80+ pay only the first deductible."""
    classes = [str(c) for c in rule.get("special_disease_classes") or []]
    if special_disease_class is not None and str(special_disease_class) in classes:
        return True
    min_age = rule.get("min_age")
    if min_age is None:
        return False
    if age is None:
        raise InputError(f"输入 age: 需要年龄以判断“年满 {fmt(min_age)} 周岁只计算年度第一次住院起付线”")
    return age >= min_age


def _repeat(policy: Policy, deductible: Decimal, admission_number: int, steps: list[Step]) -> Decimal:
    """再次住院: a percentage of the deductible (hunan, sanmenxia) or a cumulative decrement (langfang, ziyang)."""
    same_level = policy.value("inpatient.repeat_counts_same_level_only")
    which = f"{'同级别医疗机构' if same_level else ''}年度第 {admission_number} 次住院"
    pct = policy.value("inpatient.repeat_deductible_pct")
    step = policy.value("inpatient.repeat_deductible_step")
    if pct is not None:
        deductible = deductible * pct / HUNDRED
        steps.append(
            Step(
                f"{which}，起付标准按 {fmt(pct)}% 计算",
                cite(policy, "inpatient.repeat_deductible_pct", "inpatient.repeat_counts_same_level_only"),
                deductible,
            )
        )
    if step is not None:
        cut = step * (admission_number - 1)
        deductible -= cut
        steps.append(
            Step(
                f"{which}，起付标准依次递减 {fmt(step)} 元 × {admission_number - 1} = {fmt(cut)} 元",
                cite(policy, "inpatient.repeat_deductible_step"),
                deductible,
            )
        )
    return deductible


def _ratio_increments(
    policy: Policy,
    ratio: Decimal,
    person_type: str,
    age: int | None,
    special_disease_class: int | None,
    steps: list[Step],
) -> Decimal:
    age_rule = policy.value("inpatient.age_ratio_increment")
    if age_rule and person_type in (age_rule.get("person_types") or PERSON_TYPES):
        if age is None:
            raise InputError(f"输入 age: 需要年龄以判断“年满 {fmt(age_rule['min_age'])} 周岁提高支付比例”")
        if age >= age_rule["min_age"]:
            ratio += age_rule["increment_pct"]
            steps.append(
                Step(
                    f"年满 {fmt(age_rule['min_age'])} 周岁{PERSON_TYPE_ZH[person_type]}提高 "
                    f"{fmt(age_rule['increment_pct'])} 个百分点，为 {fmt(ratio)}%",
                    cite(policy, "inpatient.age_ratio_increment"),
                )
            )
    if special_disease_class is not None:
        by_class = policy.value("inpatient.special_disease_ratio_increment_pct")
        increment = (by_class or {}).get(str(special_disease_class))
        if increment:
            ratio += increment
            steps.append(
                Step(
                    f"第{special_disease_class}类特殊疾病患者提高 {fmt(increment)} 个百分点，为 {fmt(ratio)}%",
                    cite(policy, "inpatient.special_disease_ratio_increment_pct"),
                )
            )
    return ratio


def _annual_cap(policy: Policy) -> Decimal | None:
    """统筹基金年度最高支付限额: a fixed amount, or a multiple of last year's average wage (ziyang 第十二条(四))."""
    multiple = policy.value("inpatient.annual_cap_average_wage_multiple")
    if multiple is not None:
        return multiple * policy.stat("annual_average_wage")
    return policy.value("inpatient.annual_cap")


@calculation(
    "inpatient",
    inputs={
        "person_type": Field("str", default="in_service", choices=PERSON_TYPES),
        "age": Field("int", default=None),
        "hospital_level": Field("str", choices=HOSPITAL_LEVELS),
        "tcm": Field("bool", default=False),
        "location": Field("str", default="local", choices=LOCATIONS),
        "admission_number": Field("int", default=1),
        "deductibles_this_year": Field("decimal", default=ZERO),
        "policy_amount": Field("decimal"),
        "pool_paid_this_year": Field("decimal", default=ZERO),
        "special_disease_class": Field("int", default=None),
    },
    outputs={"deductible": "money", "ratio": "decimal", "pool_pay": "money", "self_pay": "money"},
)
def inpatient(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """住院: 起付标准、支付比例、统筹基金支付与个人负担（SCENARIOS.md `inpatient`）."""
    return settle_inpatient(policy, **inputs).outputs()
