"""住院医疗费用 — one hospital stay settled by the basic medical pool (统筹基金).

POLICY-DIGEST §2j, §2j-2. Every figure comes from ``policy/policies/<j>/inpatient.yaml``:

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

Optional inputs beyond SCENARIOS.md (calcE2; all default to the ordinary stay): a non-designated
hospital (hunan 第四十条), care under an excluded cause and the pool's advance of a third party's
share (hunan 第三十四条–第三十五条, langfang 第五十四条, ziyang 第十二条(三)), care outside a stay
counted as inpatient (langfang 第四十七条(一)1 and (一)3, ziyang 第十八条(三), xianning 细则 第二十三条),
external tests and purchases during a stay (langfang 第四十七条(一)2, 第六十五条), high-value
catalogue drugs outside a stay (ziyang 第二十条(二)) and disabled soldiers (langfang 第八十条, rule
entered by staff). :func:`parameter_limit_breaches` checks entered figures against sanmenxia 第十一条.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from policy.calculations import Field, InputError, calculation, money
from policy.resolver import Policy, PolicyError, PolicyMissing

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
    non_designated_pays,
    overall_annual_cap,
    resolve_level,
)

# Why a settled part continues an earlier one (one deductible for the whole stay).
CONTINUED_STAYS = ("transfer_upward", "transfer_downward", "cross_year")
CONTINUED_STAY_ZH = {
    "transfer_upward": "转往上级（更高等级）医疗机构的连续住院",
    "transfer_downward": "转往下级医疗机构的连续住院",
    "cross_year": "跨年度住院的次年部分",
}


# 外检外购 (langfang 第四十七条(一)2): where the external test or purchase was made during a stay.
EXTERNAL_SERVICES = ("in_area", "jingjinji", "out_of_area")
EXTERNAL_SERVICE_ZH = {
    "in_area": "统筹区内定点医疗机构外检外购",
    "jingjinji": "京津冀地区外检外购",
    "out_of_area": "统筹区外（京津冀以外）外检外购",
}
# Causes the documents put outside the pool (hunan 第三十四条, langfang 第五十四条, ziyang 第十二条(三)).
EXCLUDED_CAUSES = (
    "work_injury",
    "third_party",
    "public_health",
    "abroad",
    "wellness",
    "cosmetic",
    "crime",
    "self_harm",
    "medical_accident",
    "infertility",
    "special_needs",
    "research",
    "class_c_main",
)
EXCLUDED_CAUSE_ZH = {
    "work_injury": "应当从工伤保险基金中支付的",
    "third_party": "应当由第三人负担（第三方赔偿）的",
    "public_health": "应当由公共卫生负担的（计划免疫、预防保健、健康教育等）",
    "abroad": "在境外（含港澳台地区）就医的",
    "wellness": "体育健身、养生保健消费、健康体检",
    "cosmetic": "美容、健美、非功能性整形、矫形、镶牙等非疾病治疗",
    "crime": "在监狱服刑期间或因犯罪行为（含打架斗殴）发生的",
    "self_harm": "服毒、自杀、自伤自残（精神病及无行为能力人除外）、酗酒、吸毒",
    "medical_accident": "因医疗事故发生的",
    "infertility": "不孕不育治疗",
    "special_needs": "特需医疗（特需病房、国际医疗部等）",
    "research": "科研性、临床实验性诊疗项目",
    "class_c_main": "住院主要手术、治疗属于丙类及目录外项目",
}
# Care outside a stay that a document counts as (part of) an inpatient stay.
COUNTED_AS_INPATIENT = (
    "pre_admission_emergency",
    "pre_surgery_tests",
    "emergency_observation",
    "day_surgery",
    "rescue_death_outpatient",
)
COUNTED_ZH = {
    "pre_admission_emergency": "院前急诊费用（急救车或急诊期间）",
    "pre_surgery_tests": "院前检查费用（因手术住院前在同一定点医疗机构的诊断性检查）",
    "emergency_observation": "急诊留观费用",
    "day_surgery": "日间手术（门诊手术治疗）",
    "rescue_death_outpatient": "急诊抢救死亡的门诊医疗费用",
}
# 国家药品目录内高值药品 used outside a stay (ziyang 第二十条(二)).
HIGH_VALUE_DRUG_USES = ("outpatient", "supplier")
HIGH_VALUE_DRUG_ZH = {"outpatient": "门诊使用高值药品", "supplier": "在供药机构购买高值药品"}


@dataclass
class InpatientResult:
    """住院结算结果: the scenario outputs plus the steps that explain them."""

    deductible: Decimal
    ratio: Decimal
    pool_pay: Decimal
    self_pay: Decimal
    third_party_advance: bool = False  # 基金先行支付，有权向第三人追偿
    steps: list[Step] = field(default_factory=list)
    # Care outside a stay that ``inpatient.counted_as_inpatient`` does not count as inpatient: why (the
    # step's text, with its article); empty otherwise. Not a scenario output: claims refuse with it.
    not_counted: str = ""

    def outputs(self) -> dict[str, Any]:
        return {
            "deductible": self.deductible,
            "ratio": self.ratio,
            "pool_pay": self.pool_pay,
            "self_pay": self.self_pay,
            "third_party_advance": self.third_party_advance,
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
    continued_stay: str | None = None,
    honoured_group: bool = False,
    out_of_province: bool = False,
    aids: bool = False,
    designated: bool = True,
    emergency_rescue: bool = False,
    external_service: str | None = None,
    external_service_filed: bool = True,
    high_value_drug: str | None = None,
    disabled_soldier_grade: int | None = None,
    excluded_cause: str | None = None,
    third_party_unpaid: bool = False,
    counted_as_inpatient: str | None = None,
    dates_continuous: bool = True,
    died_in_rescue: bool = False,
    days_before_admission: int | None = None,
    same_hospital: bool = True,
    observation_days: int | None = None,
) -> InpatientResult:
    """Settle one stay (一次住院) under ``policy``.

    ``admission_number`` counts this year's stays (hunan: at hospitals of the same
    level, 第三十六条, D-H5). ``deductibles_this_year`` is every deductible already
    borne this year. ``deductible_paid_this_stay`` is the deductible already borne
    for the same continuous stay. ``continued_stay`` says why this part continues
    an earlier one (``CONTINUED_STAYS``); the jurisdiction's
    ``inpatient.continued_stay_rules`` then decides the deductible: ``difference``
    (upward referral / transfer: only the difference, hunan D-H6, ziyang
    第十八条(一)6, langfang 第四十七条(一)1; the second-year part of a stay spanning
    two years: one deductible in all, langfang 第四十七条(五), D-X15) or ``waived``
    (downward referral). A kind the document leaves to another rule (sanmenxia
    "视同连续住院的起付标准，另行规定", 第十三条(一)) is a missing parameter (D-X16).
    Without ``continued_stay`` the paid amount is simply deducted (claims screen).
    ``honoured_group``: 两院院士、省管优秀专家、省级以上劳模、亚洲及世界冠军 (langfang 第七十九条, +10 points).
    ``aids``: 艾滋病患者 (ziyang 第十八条(一)5: only the year's first deductible).
    ``out_of_province``: care outside the area was also outside the province, where the deductible
    depends on it (sanmenxia 第十三条(一): 省外非基层医疗机构 2000, ``inpatient.out_of_province_deductible_by_level``).
    ``designated`` false: care at a non-designated hospital (非医保定点), paid only as
    ``inpatient.non_designated_rule`` allows (hunan 第四十条: only 危急重症抢救, ``emergency_rescue``).
    ``external_service``: the amount is an external test or purchase (外检外购) made during a local stay
    (langfang 第四十七条(一)2, 第六十五条): no deductible of its own (one per stay), the ratio of
    ``hospital_level`` (the external institution's level), a share paid first outside the area, nothing
    unless filed (``external_service_filed``); ``inpatient.external_service_rules``.
    ``high_value_drug``: a high-value catalogue drug used outside a stay (ziyang 第二十条(二)): no
    deductible, inpatient ratio; bought from a supplier, the 三级 standard (``inpatient.high_value_drug_rules``).
    ``disabled_soldier_grade``: 一至六级残疾军人 (langfang 第八十条 "按相关规定执行": the rule is staff data,
    ``inpatient.disabled_soldier_rules``; null where the document has no separate rule).
    ``excluded_cause``: the care falls under a cause the document excludes (``EXCLUDED_CAUSES``,
    ``inpatient.excluded_causes``): nothing is paid; a third party who does not pay or cannot be
    found (``third_party_unpaid``) lets the pool advance the payment and recover it
    (hunan 第三十五条, ziyang 第十二条(三); ``inpatient.third_party_advance``).
    ``counted_as_inpatient``: care outside a stay that ``inpatient.counted_as_inpatient`` counts as
    inpatient (langfang 第四十七条(一)1 院前急诊 with ``dates_continuous`` or ``died_in_rescue``, 院前检查
    within ``days_before_admission`` at the ``same_hospital``, 急诊留观 over ``observation_days``;
    第四十七条(一)3 日间手术; ziyang 第十八条(三) 急诊抢救死亡的门诊费用). When counted, ``policy_amount``
    is settled as an inpatient stay (院前 costs: the stay's amount with them included); when not, the
    pool pays nothing here (outpatient rules apply).
    """
    check_choice(person_type, PERSON_TYPES, "person_type")
    check_choice(hospital_level, HOSPITAL_LEVELS, "hospital_level")
    check_choice(location, LOCATIONS, "location")
    if continued_stay is not None:
        check_choice(continued_stay, CONTINUED_STAYS, "continued_stay")
    if admission_number < 1:
        raise InputError(f"输入 admission_number: 应从 1 起计，得到 {admission_number}")
    if special_disease_class not in (None, 1, 2, 3):
        raise InputError(f"输入 special_disease_class: 应为 1、2 或 3，得到 {special_disease_class!r}")
    if excluded_cause is not None:
        check_choice(excluded_cause, EXCLUDED_CAUSES, "excluded_cause")
    if third_party_unpaid and excluded_cause != "third_party":
        raise InputError("输入 third_party_unpaid: 只适用于 excluded_cause=third_party（应当由第三人负担的医疗费用）")
    if counted_as_inpatient is not None:
        check_choice(counted_as_inpatient, COUNTED_AS_INPATIENT, "counted_as_inpatient")
    if external_service is not None:
        check_choice(external_service, EXTERNAL_SERVICES, "external_service")
    if high_value_drug is not None:
        check_choice(high_value_drug, HIGH_VALUE_DRUG_USES, "high_value_drug")
    if external_service is not None and high_value_drug is not None:
        raise InputError("输入 external_service 与 high_value_drug 不能同时给出")
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
    advance = False
    if excluded_cause is not None:
        advance = _excluded(policy, excluded_cause, third_party_unpaid, steps)
        if advance is None:
            return InpatientResult(deductible=ZERO, ratio=ZERO, pool_pay=ZERO, self_pay=total, steps=steps)
    refused = counted_as_inpatient is not None and _not_counted(
        policy,
        counted_as_inpatient,
        steps,
        dates_continuous=dates_continuous,
        died_in_rescue=died_in_rescue,
        days_before_admission=days_before_admission,
        same_hospital=same_hospital,
        observation_days=observation_days,
    )
    if refused:
        return InpatientResult(
            deductible=ZERO, ratio=ZERO, pool_pay=ZERO, self_pay=total, steps=steps, not_counted=refused
        )
    if not designated and not non_designated_pays(policy, emergency_rescue, steps):
        return InpatientResult(deductible=ZERO, ratio=ZERO, pool_pay=ZERO, self_pay=total, steps=steps)
    no_deductible = ""
    if external_service is not None:
        if location != "local":
            raise InputError("输入 external_service: 外检外购指统筹区内住院期间的院外检查、购药，location 应为 local")
        ext = _external_service(policy, external_service, external_service_filed, steps)
        if ext is None:
            return InpatientResult(deductible=ZERO, ratio=ZERO, pool_pay=ZERO, self_pay=total, steps=steps)
        rule = {"standard": "local", "ratio_adjustment_pct": 0, "self_pay_first_pct": ext}
        no_deductible = "外检外购费用随本次住院结算，一次住院只计算一次起付标准，不另计起付标准"
    if high_value_drug is not None:
        hv = _high_value_drug(policy, high_value_drug, steps)
        if hv.get("level"):
            hospital_level = hv["level"]
            level = resolve_level(
                policy, "inpatient.level_aliases", hospital_level, local_table, "inpatient.deductible_by_level"
            )
        if hv.get("no_deductible"):
            no_deductible = f"{HIGH_VALUE_DRUG_ZH[high_value_drug]}：扣除个人先行自付后不计起付线，按住院待遇结算"
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
    if no_deductible:
        borne = ZERO
        steps.append(
            Step(
                no_deductible,
                cite(policy, "inpatient.external_service_rules", "inpatient.high_value_drug_rules"),
                borne,
            )
        )
    else:
        deductible = _level_figure(policy, ded_key, ded_table, level)
        if out_of_province:
            if location in ("local", "in_province"):
                raise InputError(f"输入 out_of_province: 就医地点 {location} 不在省外")
            deductible, ded_key, where = _out_of_province(policy, hospital_level, level, deductible, ded_key, where)
        steps.append(Step(f"{where}起付标准{suffix}", cite(policy, ded_key), deductible))

        if tcm:
            tcm_map = policy.value("inpatient.tcm_deductible_level")
            if tcm_map is None:
                steps.append(
                    Step(
                        "中医医院：本地无起付标准下浮规定，按同级医院执行",
                        cite(policy, "inpatient.tcm_deductible_level"),
                    )
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
            if first_only and _first_admission_only(first_only, age, special_disease_class, aids):
                waived = True
                deductible = ZERO
                steps.append(
                    Step(
                        f"年度第 {admission_number} 次住院：第一类特殊疾病、艾滋病或年满 "
                        f"{fmt(first_only['min_age'])} 周岁患者，只计算年度第一次住院起付线",
                        cite(policy, "inpatient.first_admission_only_deductible"),
                        deductible,
                    )
                )
            else:
                deductible = _repeat(policy, deductible, admission_number, steps)

        floor = policy.value("inpatient.deductible_floor")
        if floor is not None and not waived and deductible < floor:
            deductible = floor
            steps.append(
                Step(f"起付标准不低于 {fmt(floor)} 元", cite(policy, "inpatient.deductible_floor"), deductible)
            )
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

        if continued_stay is not None:
            deductible = _continued(policy, continued_stay, deductible, paid_this_stay, steps)
        elif paid_this_stay:
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
    if honoured_group:
        ratio = _honoured(policy, ratio, steps)
    if disabled_soldier_grade is not None:
        ratio, borne = _disabled_soldier(policy, disabled_soldier_grade, ratio, borne, steps)
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

    cap = overall_annual_cap(policy)
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
    return InpatientResult(
        deductible=borne, ratio=ratio, pool_pay=pool_pay, self_pay=self_pay, third_party_advance=advance, steps=steps
    )


def _continued(policy: Policy, kind: str, deductible: Decimal, paid: Decimal, steps: list[Step]) -> Decimal:
    """The deductible of a part that continues an earlier one (转院、跨年度住院): difference or none."""
    rule = policy.value("inpatient.continued_stay_rules")
    if not isinstance(rule, Mapping) or kind not in rule:
        raise PolicyMissing(
            policy.jurisdiction,
            f"inpatient.continued_stay_rules.{kind}",
            policy.on,
            label=f"{CONTINUED_STAY_ZH[kind]}的起付标准",
        )
    how = rule[kind]
    source = cite(policy, "inpatient.continued_stay_rules")
    if how == "waived":
        steps.append(Step(f"{CONTINUED_STAY_ZH[kind]}：不再计算起付标准", source, ZERO))
        return ZERO
    if how == "difference":
        result = max(deductible - paid, ZERO)
        steps.append(
            Step(
                f"{CONTINUED_STAY_ZH[kind]}：同一次住院已负担起付标准 {fmt(paid)} 元，"
                f"按本次标准 {fmt(deductible)} 元只负担差额",
                source,
                result,
            )
        )
        return result
    raise PolicyError(f"参数 inpatient.continued_stay_rules.{kind}（{policy.jurisdiction}）取值无效: {how!r}")


def _level_figure(policy: Policy, key: str, table: Mapping[str, Any], level: str) -> Decimal:
    if level not in table:
        raise InputError(f"{policy.jurisdiction} 的 {key} 没有医院等级 {level!r}")
    return Decimal(table[level])


def _first_admission_only(
    rule: Mapping[str, Any], age: int | None, special_disease_class: int | None, aids: bool
) -> bool:
    """ziyang 第十八条(一)5: class-1 special disease, AIDS and patients aged 80+ pay only the first deductible."""
    classes = [str(c) for c in rule.get("special_disease_classes") or []]
    if special_disease_class is not None and str(special_disease_class) in classes:
        return True
    if aids and rule.get("aids"):
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


def _out_of_province(
    policy: Policy, hospital_level: str, level: str, deductible: Decimal, ded_key: str, where: str
) -> tuple[Decimal, str, str]:
    """省外就医的起付标准 where the seed sets one apart (sanmenxia 第十三条(一)); else the out-of-area figure."""
    key = "inpatient.out_of_province_deductible_by_level"
    table = policy.value(key)
    if table is None:
        return deductible, ded_key, where
    entry = table.get(hospital_level, table.get(level))
    if entry is None:
        raise InputError(f"{policy.jurisdiction} 的 {key} 没有医院等级 {hospital_level!r}")
    return Decimal(entry), key, f"省外{LEVEL_ZH[hospital_level]}"


def _honoured(policy: Policy, ratio: Decimal, steps: list[Step]) -> Decimal:
    """langfang 第七十九条: honoured groups' inpatient ratio +10 points (at most 100%, D-L18)."""
    key = "inpatient.honoured_group_ratio_increment_pct"
    increment = policy.value(key)
    if increment is None:
        steps.append(Step("本统筹区未规定特定人群提高住院支付比例", cite(policy, key)))
        return ratio
    ratio += increment
    steps.append(
        Step(
            f"两院院士、省管优秀专家、省级以上劳模、亚洲及世界冠军：支付比例提高 {fmt(increment)} 个百分点，"
            f"为 {fmt(ratio)}%",
            cite(policy, key),
        )
    )
    return ratio


def _not_counted(
    policy: Policy,
    kind: str,
    steps: list[Step],
    *,
    dates_continuous: bool,
    died_in_rescue: bool,
    days_before_admission: int | None,
    same_hospital: bool,
    observation_days: int | None,
) -> str:
    """Why care outside a stay is not counted as inpatient (``inpatient.counted_as_inpatient``); "" when it is."""
    key = "inpatient.counted_as_inpatient"
    rules = policy.value(key)
    if not isinstance(rules, Mapping):
        rules = {}  # the whole table is missing: name the kind asked for
    rule = _entry(policy, key, rules, kind, f"{COUNTED_ZH[kind]}按住院结算的规则") or {}
    source = cite(policy, key)
    what = COUNTED_ZH[kind]
    counted, why = True, ""
    if kind == "pre_admission_emergency" and rule.get("same_hospital") and not same_hospital:
        counted, why = False, "转入其他医疗机构住院"
    elif kind == "pre_admission_emergency" and rule.get("requires_continuous_dates") and not dates_continuous:
        counted = bool(rule.get("death_counts")) and died_in_rescue
        why = "急救车或急诊抢救期间死亡" if counted else "日期与入院日期不连续（或未住院）"
    elif kind == "pre_surgery_tests":
        limit = rule.get("max_days_before")
        if days_before_admission is None:
            raise InputError("缺少输入项 days_before_admission：院前检查须给出检查日距入院的天数")
        if rule.get("same_hospital") and not same_hospital:
            counted, why = False, "不在同一家定点医疗机构"
        elif limit is not None and days_before_admission > limit:
            counted, why = False, f"检查在住院前 {days_before_admission} 天，超过 {fmt(limit)} 天"
        else:
            why = f"住院前 {days_before_admission} 天内"
    elif kind == "emergency_observation":
        minimum = rule.get("min_days_exclusive")
        if observation_days is None:
            raise InputError("缺少输入项 observation_days：急诊留观须给出留观天数")
        if minimum is not None and observation_days <= minimum:
            counted, why = False, f"留观 {observation_days} 天，未超过 {fmt(minimum)} 天"
        else:
            why = f"留观 {observation_days} 天，超过 {fmt(minimum)} 天" if minimum is not None else ""
    if counted:
        steps.append(Step(f"{what}{'（' + why + '）' if why else ''}：纳入住院费用，按住院待遇结算", source))
        return ""
    reason = f"{what}（{why}）：不纳入住院费用报销范围"
    steps.append(Step(reason, source, ZERO))
    return f"{reason}（{source}）"


def _excluded(policy: Policy, cause: str, third_party_unpaid: bool, steps: list[Step]) -> bool | None:
    """An excluded cause: None (nothing paid), True (the pool advances a third party's share), False (not excluded)."""
    key = "inpatient.excluded_causes"
    causes = policy.value(key)
    if cause not in (causes or []):
        steps.append(Step(f"文件未将“{EXCLUDED_CAUSE_ZH[cause]}”列为不予支付的情形，按一般规定结算", cite(policy, key)))
        return False
    if cause == "third_party" and third_party_unpaid:
        advance_key = "inpatient.third_party_advance"
        if policy.value(advance_key):
            steps.append(
                Step(
                    "应当由第三人负担的医疗费用，第三人不支付或者无法确定第三人：经申请调查属实，"
                    "由基本医疗保险基金先行支付，基金有权向第三人追偿",
                    cite(policy, key, advance_key),
                )
            )
            return True
        steps.append(Step("文件未规定由基金先行支付第三人应负担的医疗费用", cite(policy, advance_key)))
    steps.append(Step(f"{EXCLUDED_CAUSE_ZH[cause]}医疗费用：不纳入医保基金支付范围", cite(policy, key), ZERO))
    return None


def _external_service(policy: Policy, where: str, filed: bool, steps: list[Step]) -> Decimal | None:
    """外检外购 (langfang 第四十七条(一)2, 第六十五条): the share paid first, or None when nothing is paid."""
    key = "inpatient.external_service_rules"
    rules = _rules(policy, key, "未规定住院期间外检外购的报销办法")
    if rules.get("requires_filing") and not filed:
        steps.append(Step("未办理外检外购备案手续：医保基金不予支付", cite(policy, key), ZERO))
        return None
    share = Decimal(_entry(policy, key, rules, where, EXTERNAL_SERVICE_ZH[where]).get("self_pay_first_pct", 0))
    then = f"，个人先行自付 {fmt(share)}% 后按统筹区内支付比例" if share else "，按统筹区内待遇标准"
    steps.append(Step(f"{EXTERNAL_SERVICE_ZH[where]}：按外检外购定点医疗机构级别的待遇执行{then}", cite(policy, key)))
    return share


def _high_value_drug(policy: Policy, use: str, steps: list[Step]) -> Mapping[str, Any]:
    """国家药品目录内高值药品 outside a stay (ziyang 第二十条(二))."""
    key = "inpatient.high_value_drug_rules"
    rule = _entry(policy, key, _rules(policy, key, "未规定高值药品按住院待遇结算"), use, HIGH_VALUE_DRUG_ZH[use])
    level = rule.get("level")
    standard = f"，按{LEVEL_ZH[level]}支付标准" if level else ""
    steps.append(
        Step(
            f"{HIGH_VALUE_DRUG_ZH[use]}：按乙类药品规定扣除个人先行自付后，按住院待遇结算{standard}", cite(policy, key)
        )
    )
    return rule


def _rules(policy: Policy, key: str, unset: str) -> Mapping[str, Any]:
    """A jurisdiction's table of special cases under ``key``; null (the document has no such case): an input error."""
    rules = policy.value(key)
    if rules is None:
        raise InputError(f"{policy.jurisdiction} {unset}（{cite(policy, key)}）")
    return rules


def _entry(policy: Policy, key: str, rules: Mapping[str, Any], kind: str, label: str) -> Any:
    """The row ``kind`` of a table of special cases; a kind the table does not give is a missing value (D-X16)."""
    if kind not in rules:
        raise PolicyMissing(policy.jurisdiction, f"{key}.{kind}", policy.on, label=label)
    return rules[kind]


def _disabled_soldier(
    policy: Policy, grade: int, ratio: Decimal, borne: Decimal, steps: list[Step]
) -> tuple[Decimal, Decimal]:
    """一至六级残疾军人 (langfang 第八十条 "具体办法按相关规定执行"): the rule is staff data (D-X16)."""
    key = "inpatient.disabled_soldier_rules"
    rule = policy.value(key)
    if rule is None:
        steps.append(Step("本统筹区文件未对残疾军人另设住院待遇，按一般参保职工结算", cite(policy, key)))
        return ratio, borne
    grades = [int(g) for g in rule.get("grades") or []]
    if grade not in grades:
        steps.append(Step(f"{grade}级残疾军人不在另行规定的范围内，按一般参保职工结算", cite(policy, key)))
        return ratio, borne
    if rule.get("deductible_waived"):
        borne = ZERO
        steps.append(Step(f"{grade}级残疾军人：不计起付标准", cite(policy, key), borne))
    if rule.get("ratio_pct") is not None:
        ratio = Decimal(rule["ratio_pct"])
    elif rule.get("ratio_increment_pct") is not None:
        ratio += Decimal(rule["ratio_increment_pct"])
    steps.append(Step(f"{grade}级残疾军人：支付比例 {fmt(ratio)}%", cite(policy, key)))
    return ratio, borne


def parameter_limit_breaches(policy: Policy) -> list[Step]:
    """The inpatient figures in force that break the jurisdiction's own ceilings on them (sanmenxia 第十一条).

    ``inpatient.deductible_limit_average_wage_pct`` (起付标准原则上不超过上年度平均工资的 10%) and
    ``inpatient.cap_limit_average_wage_multiple`` (年度支付限额不超过 4 倍), against the statistic
    ``annual_average_wage``. Used to check values staff enter; an empty list means none is broken.
    Where a jurisdiction sets no such ceiling (absent or null) nothing is checked.
    """
    breaches: list[Step] = []
    pct = policy.value("inpatient.deductible_limit_average_wage_pct", None)
    multiple = policy.value("inpatient.cap_limit_average_wage_multiple", None)
    if pct is None and multiple is None:
        return breaches
    wage = policy.stat("annual_average_wage")
    if pct is not None:
        limit = wage * pct / HUNDRED
        figures = [
            Decimal(v)
            for key in ("inpatient.deductible_by_level", "inpatient.out_of_province_deductible_by_level")
            for v in (policy.value(key, None) or {}).values()
        ]
        highest = max(figures, default=ZERO)
        if highest > limit:
            breaches.append(
                Step(
                    f"住院起付标准最高 {fmt(highest)} 元，"
                    f"超过上年度平均工资 {fmt(wage)} 元的 {fmt(pct)}%（{fmt(limit)} 元）",
                    cite(policy, "inpatient.deductible_limit_average_wage_pct", "inpatient.deductible_by_level"),
                    highest,
                )
            )
    cap = overall_annual_cap(policy)
    if multiple is not None and cap is not None and cap > wage * multiple:
        breaches.append(
            Step(
                f"统筹基金年度支付限额 {fmt(cap)} 元，超过上年度平均工资 {fmt(wage)} 元的 {fmt(multiple)} 倍",
                cite(policy, "inpatient.cap_limit_average_wage_multiple", "inpatient.annual_cap"),
                cap,
            )
        )
    return breaches


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
        "continued_stay": Field("str", default=None, choices=CONTINUED_STAYS),
        "deductible_paid_this_stay": Field("decimal", default=ZERO),
        "honoured_group": Field("bool", default=False),
        "out_of_province": Field("bool", default=False),
        "aids": Field("bool", default=False),
        "designated": Field("bool", default=True),
        "emergency_rescue": Field("bool", default=False),
        "external_service": Field("str", default=None, choices=EXTERNAL_SERVICES),
        "external_service_filed": Field("bool", default=True),
        "high_value_drug": Field("str", default=None, choices=HIGH_VALUE_DRUG_USES),
        "disabled_soldier_grade": Field("int", default=None),
        "excluded_cause": Field("str", default=None, choices=EXCLUDED_CAUSES),
        "third_party_unpaid": Field("bool", default=False),
        "counted_as_inpatient": Field("str", default=None, choices=COUNTED_AS_INPATIENT),
        "dates_continuous": Field("bool", default=True),
        "died_in_rescue": Field("bool", default=False),
        "days_before_admission": Field("int", default=None),
        "same_hospital": Field("bool", default=True),
        "observation_days": Field("int", default=None),
    },
    outputs={
        "deductible": "money",
        "ratio": "decimal",
        "pool_pay": "money",
        "self_pay": "money",
        "third_party_advance": "bool",
    },
)
def inpatient(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """住院: 起付标准、支付比例、统筹基金支付与个人负担（SCENARIOS.md `inpatient`）."""
    return settle_inpatient(policy, **inputs).outputs()
