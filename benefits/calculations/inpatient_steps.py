"""住院结算的命名步骤 (the named steps of :func:`~benefits.calculations.inpatient.settle_inpatient`).

Each step is a plain function over the policy in force, the :class:`InpatientFacts` and what earlier
steps decided; each appends its explanation lines (说明, 条款出处, 金额) to ``steps`` exactly as the
settlement always has. In order (POLICY-DIGEST §2j, §2j-2):

- :func:`inputs_step` — 输入校验, the money facts as ``Decimal``;
- :func:`place_step` — 医院等级 and 就医地点规则;
- :func:`pool_scope_step` — 除外情形、视同住院、非定点医疗机构: whether the pool pays at all;
- :func:`special_care_step` — 外检外购、高值药品: another share, level or no deductible;
- :func:`location_step` — 本地/异地待遇标准;
- :func:`deductible_step` — 1. 起付标准 (:func:`level_deductible_step`, :func:`repeat_admission_step`,
  :func:`annual_deductible_step`);
- :func:`ratio_step`, :func:`ratio_adjustment_step` — 2. 支付比例;
- :func:`pool_pay_step` — 3. 统筹基金支付 within the annual cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from policy.calculations import InputError, money
from policy.resolver import Policy, PolicyError, PolicyMissing

from ._common import (
    HOSPITAL_LEVELS,
    HOSPITAL_TIER_ZH,
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
from .inpatient_facts import (
    CONTINUED_STAY_ZH,
    CONTINUED_STAYS,
    COUNTED_AS_INPATIENT,
    COUNTED_ZH,
    EXCLUDED_CAUSE_ZH,
    EXCLUDED_CAUSES,
    EXTERNAL_SERVICE_ZH,
    EXTERNAL_SERVICES,
    HIGH_VALUE_DRUG_USES,
    HIGH_VALUE_DRUG_ZH,
    InpatientFacts,
    InpatientResult,
)


class Sums(NamedTuple):
    """金额事实: 政策范围内费用、本年已负担起付标准、本年统筹已支付、本次连续住院已负担起付标准."""

    total: Decimal
    borne_before: Decimal
    paid_before: Decimal
    paid_this_stay: Decimal


@dataclass(frozen=True)
class Care:
    """按什么结算: the level paid at, the place-of-care rule and why no deductible is counted."""

    hospital_level: str  # 输入等级，或高值药品在供药机构购买时规定的等级
    level: str  # 本统筹区等级（经 inpatient.level_aliases）
    rule: Mapping[str, Any]  # 就医地点规则（外检外购：个人先行自付比例）
    no_deductible: str = ""  # 不计起付标准的说明（外检外购、高值药品）；空为照常计算
    advance: bool = False  # 基金先行支付，有权向第三人追偿

    @property
    def out_of_area(self) -> bool:
        return self.rule.get("standard", "local") == "out_of_area"

    @property
    def suffix(self) -> str:
        return "（异地标准）" if self.out_of_area else ""

    @property
    def deductible_key(self) -> str:
        return "inpatient.out_of_area_deductible_by_level" if self.out_of_area else "inpatient.deductible_by_level"

    @property
    def ratio_key(self) -> str:
        return "inpatient.out_of_area_ratio_by_level_pct" if self.out_of_area else "inpatient.ratio_by_level_pct"


def _refused(total: Decimal, steps: list[Step], not_counted: str = "") -> InpatientResult:
    """统筹基金不予支付: the whole amount is the person's."""
    return InpatientResult(
        deductible=ZERO, ratio=ZERO, pool_pay=ZERO, self_pay=total, steps=steps, not_counted=not_counted
    )


def inputs_step(facts: InpatientFacts) -> Sums:
    """输入校验: every choice and count checked, then the money facts read as ``Decimal``."""
    check_choice(facts.person_type, PERSON_TYPES, "person_type")
    check_choice(facts.hospital_level, HOSPITAL_LEVELS, "hospital_level")
    check_choice(facts.location, LOCATIONS, "location")
    if facts.continued_stay is not None:
        check_choice(facts.continued_stay, CONTINUED_STAYS, "continued_stay")
    if facts.admission_number < 1:
        raise InputError(f"输入 admission_number: 应从 1 起计，得到 {facts.admission_number}")
    if facts.special_disease_class not in (None, 1, 2, 3):
        raise InputError(f"输入 special_disease_class: 应为 1、2 或 3，得到 {facts.special_disease_class!r}")
    if facts.excluded_cause is not None:
        check_choice(facts.excluded_cause, EXCLUDED_CAUSES, "excluded_cause")
    if facts.third_party_unpaid and facts.excluded_cause != "third_party":
        raise InputError("输入 third_party_unpaid: 只适用于 excluded_cause=third_party（应当由第三人负担的医疗费用）")
    if facts.counted_as_inpatient is not None:
        check_choice(facts.counted_as_inpatient, COUNTED_AS_INPATIENT, "counted_as_inpatient")
    if facts.external_service is not None:
        check_choice(facts.external_service, EXTERNAL_SERVICES, "external_service")
    if facts.high_value_drug is not None:
        check_choice(facts.high_value_drug, HIGH_VALUE_DRUG_USES, "high_value_drug")
    if facts.external_service is not None and facts.high_value_drug is not None:
        raise InputError("输入 external_service 与 high_value_drug 不能同时给出")
    return Sums(
        total=amount(facts.policy_amount, "policy_amount"),
        borne_before=amount(facts.deductibles_this_year, "deductibles_this_year"),
        paid_before=amount(facts.pool_paid_this_year, "pool_paid_this_year"),
        paid_this_stay=amount(facts.deductible_paid_this_stay, "deductible_paid_this_stay"),
    )


def place_step(policy: Policy, facts: InpatientFacts) -> Care:
    """医院等级与就医地点规则 (``inpatient.level_aliases``, ``inpatient.location_rules``)."""
    # 起付标准表 first: where a jurisdiction has no inpatient figures (xianning, D-XN1) this names the gap.
    local_table = policy.value("inpatient.deductible_by_level")
    level = resolve_level(
        policy, "inpatient.level_aliases", facts.hospital_level, local_table, "inpatient.deductible_by_level"
    )
    rule = location_rule(policy, "inpatient.location_rules", facts.location)
    return Care(hospital_level=facts.hospital_level, level=level, rule=rule)


def pool_scope_step(
    policy: Policy, facts: InpatientFacts, care: Care, total: Decimal, steps: list[Step]
) -> Care | InpatientResult:
    """Does the pool pay at all: 除外情形 (基金先行支付), 视同住院, 非定点医疗机构; the refusal when not."""
    advance = False
    if facts.excluded_cause is not None:
        advance = _excluded(policy, facts.excluded_cause, facts.third_party_unpaid, steps)
        if advance is None:
            return _refused(total, steps)
    refused = facts.counted_as_inpatient is not None and _not_counted(policy, facts, steps)
    if refused:
        return _refused(total, steps, not_counted=refused)
    if not facts.designated and not non_designated_pays(policy, facts.emergency_rescue, steps):
        return _refused(total, steps)
    return Care(hospital_level=care.hospital_level, level=care.level, rule=care.rule, advance=advance)


def special_care_step(
    policy: Policy, facts: InpatientFacts, care: Care, total: Decimal, steps: list[Step]
) -> Care | InpatientResult:
    """外检外购 (langfang 第四十七条(一)2) and 高值药品 (ziyang 第二十条(二)): share, level, no deductible."""
    hospital_level, level, rule, no_deductible = care.hospital_level, care.level, care.rule, ""
    if facts.external_service is not None:
        if facts.location != "local":
            raise InputError("输入 external_service: 外检外购指统筹区内住院期间的院外检查、购药，location 应为 local")
        ext = _external_service(policy, facts.external_service, facts.external_service_filed, steps)
        if ext is None:
            return _refused(total, steps)
        rule = {"standard": "local", "ratio_adjustment_pct": 0, "self_pay_first_pct": ext}
        no_deductible = "外检外购费用随本次住院结算，一次住院只计算一次起付标准，不另计起付标准"
    if facts.high_value_drug is not None:
        hv = _high_value_drug(policy, facts.high_value_drug, steps)
        if hv.get("level"):
            hospital_level = hv["level"]
            local_table = policy.value("inpatient.deductible_by_level")
            level = resolve_level(
                policy, "inpatient.level_aliases", hospital_level, local_table, "inpatient.deductible_by_level"
            )
        if hv.get("no_deductible"):
            no_deductible = f"{HIGH_VALUE_DRUG_ZH[facts.high_value_drug]}：扣除个人先行自付后不计起付线，按住院待遇结算"
    return Care(
        hospital_level=hospital_level, level=level, rule=rule, no_deductible=no_deductible, advance=care.advance
    )


def location_step(policy: Policy, facts: InpatientFacts, care: Care, steps: list[Step]) -> Mapping[str, Any]:
    """本地/异地待遇标准: the column of figures the place of care calls for; returns its 起付标准表."""
    ded_table = policy.value(care.deductible_key)
    steps.append(
        Step(
            f"就医地点：{LOCATION_ZH[facts.location]}，适用{'异地' if care.out_of_area else '本地'}待遇标准",
            cite(policy, "inpatient.location_rules"),
        )
    )
    return ded_table


def deductible_step(
    policy: Policy, facts: InpatientFacts, care: Care, ded_table: Mapping[str, Any], sums: Sums, steps: list[Step]
) -> Decimal:
    """1. 起付标准: the deductible the person bears for this stay (个人负担起付标准)."""
    if care.no_deductible:
        steps.append(
            Step(
                care.no_deductible,
                cite(policy, "inpatient.external_service_rules", "inpatient.high_value_drug_rules"),
                ZERO,
            )
        )
        return ZERO
    deductible = level_deductible_step(policy, facts, care, ded_table, steps)
    deductible = repeat_admission_step(policy, facts, deductible, steps)
    return annual_deductible_step(policy, facts, deductible, sums, steps)


def level_deductible_step(
    policy: Policy, facts: InpatientFacts, care: Care, ded_table: Mapping[str, Any], steps: list[Step]
) -> Decimal:
    """The level's figure (or 省外 figure) → TCM hospital one level lower (D-L6) → retiree reduction."""
    ded_key = care.deductible_key
    where = f"{LEVEL_ZH[care.level]}，{LOCATION_ZH[facts.location]}"
    deductible = _level_figure(policy, ded_key, ded_table, care.level)
    if facts.out_of_province:
        if facts.location in ("local", "in_province"):
            raise InputError(f"输入 out_of_province: 就医地点 {facts.location} 不在省外")
        deductible, ded_key, where = _out_of_province(
            policy, care.hospital_level, care.level, deductible, ded_key, where
        )
    steps.append(Step(f"{where}起付标准{care.suffix}", cite(policy, ded_key), deductible))

    if facts.tcm:
        deductible = _tcm(policy, ded_key, ded_table, care.level, deductible, steps)

    if facts.person_type == "retired":
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
    return deductible


def repeat_admission_step(policy: Policy, facts: InpatientFacts, deductible: Decimal, steps: list[Step]) -> Decimal:
    """Repeat admission (再次住院: percentage, decrement, or first stay only) → floor (D-L2, D-Z12) → not below 0."""
    waived = False
    if facts.admission_number >= 2:
        first_only = policy.value("inpatient.first_admission_only_deductible")
        if first_only and _first_admission_only(first_only, facts.age, facts.special_disease_class, facts.aids):
            waived = True
            deductible = ZERO
            steps.append(
                Step(
                    f"年度第 {facts.admission_number} 次住院：第一类特殊疾病、艾滋病或年满 "
                    f"{fmt(first_only['min_age'])} 周岁患者，只计算年度第一次住院起付线",
                    cite(policy, "inpatient.first_admission_only_deductible"),
                    deductible,
                )
            )
        else:
            deductible = _repeat(policy, deductible, facts.admission_number, steps)

    floor = policy.value("inpatient.deductible_floor")
    if floor is not None and not waived and deductible < floor:
        deductible = floor
        steps.append(Step(f"起付标准不低于 {fmt(floor)} 元", cite(policy, "inpatient.deductible_floor"), deductible))
    return max(deductible, ZERO)


def annual_deductible_step(
    policy: Policy, facts: InpatientFacts, deductible: Decimal, sums: Sums, steps: list[Step]
) -> Decimal:
    """Annual total of deductibles (hunan D-H5) → continued stay (difference / waived) → at most the amount."""
    borne_before, paid_this_stay = sums.borne_before, sums.paid_this_stay
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

    if facts.continued_stay is not None:
        deductible = _continued(policy, facts.continued_stay, deductible, paid_this_stay, steps)
    elif paid_this_stay:
        deductible = max(deductible - paid_this_stay, ZERO)
        steps.append(Step(f"同一次连续住院已负担起付标准 {fmt(paid_this_stay)} 元，只付差额", "", deductible))

    borne = money(min(deductible, sums.total))
    if borne < deductible:
        steps.append(Step("政策范围内费用低于起付标准，起付标准按实际费用负担", "", borne))
    steps.append(Step("个人负担起付标准", "", borne))
    return borne


def ratio_step(
    policy: Policy, facts: InpatientFacts, care: Care, borne: Decimal, steps: list[Step]
) -> tuple[Decimal, Decimal]:
    """2. 支付比例 by level and person type, with the age, special-disease, honoured-group and soldier rules.

    Returns the ratio and the deductible borne (a disabled soldier's rule may waive it).
    """
    person_type = facts.person_type
    ratio = group_value(
        policy,
        care.ratio_key,
        person_type,
        level=care.level,
        retiree_increment_key="inpatient.retiree_ratio_increment_pct",
    )
    steps.append(
        Step(
            f"{PERSON_TYPE_ZH[person_type]}在{LEVEL_ZH[care.level]}住院支付比例 {fmt(ratio)}%{care.suffix}",
            cite(
                policy,
                care.ratio_key,
                *(["inpatient.retiree_ratio_increment_pct"] if person_type == "retired" else []),
            ),
        )
    )
    ratio = _ratio_increments(policy, ratio, person_type, facts.age, facts.special_disease_class, steps)
    if facts.honoured_group:
        ratio = _honoured(policy, ratio, steps)
    if facts.disabled_soldier_grade is not None:
        ratio, borne = _disabled_soldier(policy, facts.disabled_soldier_grade, ratio, borne, steps)
    return ratio, borne


def ratio_adjustment_step(
    policy: Policy, facts: InpatientFacts, care: Care, ratio: Decimal, steps: list[Step]
) -> Decimal:
    """The place-of-care adjustment (hunan D-H16, sanmenxia D-S8) → at most ``inpatient.ratio_max_pct``."""
    adjustment = Decimal(care.rule.get("ratio_adjustment_pct", ZERO))
    if adjustment and facts.tier is not None:
        # sanmenxia 第五十三条 "至统筹区外市级以上定点医疗机构", D-S8: the hospital's tier decides when known.
        tiers = policy.value("inpatient.ratio_adjustment_tiers")
        tier_zh = HOSPITAL_TIER_ZH[facts.tier]
        source = cite(policy, "inpatient.ratio_adjustment_tiers")
        if tiers is None or facts.tier in tiers:
            ratio += adjustment
            where = f"{LOCATION_ZH[facts.location]}（{tier_zh}）"
            source = cite(policy, "inpatient.location_rules", "inpatient.ratio_adjustment_tiers")
            steps.append(Step(f"{where}：支付比例调整 {fmt(adjustment)} 个百分点，为 {fmt(ratio)}%", source))
        else:
            steps.append(Step(f"{tier_zh}不在异地比例调整范围内，比例不变", source))
    elif adjustment:
        levels = policy.value("inpatient.ratio_adjustment_levels")
        if levels is None or care.level in levels:
            ratio += adjustment
            steps.append(
                Step(
                    f"{LOCATION_ZH[facts.location]}：支付比例调整 {fmt(adjustment)} 个百分点，为 {fmt(ratio)}%",
                    cite(policy, "inpatient.location_rules", "inpatient.ratio_adjustment_levels"),
                )
            )
        else:
            steps.append(
                Step(
                    f"{LEVEL_ZH[care.level]}不在异地比例调整范围内，比例不变",
                    cite(policy, "inpatient.ratio_adjustment_levels"),
                )
            )
    ratio_max = policy.value("inpatient.ratio_max_pct")
    if ratio_max is not None and ratio > ratio_max:
        ratio = ratio_max
        steps.append(Step(f"总支付比例不超过 {fmt(ratio_max)}%", cite(policy, "inpatient.ratio_max_pct")))
    return max(ratio, ZERO)


def pool_pay_step(
    policy: Policy, care: Care, sums: Sums, borne: Decimal, ratio: Decimal, steps: list[Step]
) -> InpatientResult:
    """3. 统筹基金支付 = (amount − deductible) × (1 − self-pay-first share, D-L10) × ratio, within the annual cap."""
    eligible = sums.total - borne
    self_first = Decimal(care.rule.get("self_pay_first_pct", ZERO))
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
        remaining = max(cap - sums.paid_before, ZERO)
        if payable > remaining:
            payable = remaining
            steps.append(
                Step(
                    f"统筹基金年度最高支付限额 {fmt(cap)} 元，本年已支付 {fmt(sums.paid_before)} 元，"
                    f"剩余 {fmt(remaining)} 元",
                    cite(policy, "inpatient.annual_cap", "inpatient.annual_cap_average_wage_multiple"),
                    remaining,
                )
            )
    pool_pay = money(payable)
    self_pay = sums.total - pool_pay
    steps.append(Step("统筹基金支付", "", pool_pay))
    steps.append(Step("个人负担（政策范围内费用 − 统筹基金支付）", "", self_pay))
    return InpatientResult(
        deductible=borne,
        ratio=ratio,
        pool_pay=pool_pay,
        self_pay=self_pay,
        third_party_advance=care.advance,
        steps=steps,
    )


def _tcm(
    policy: Policy, ded_key: str, ded_table: Mapping[str, Any], level: str, deductible: Decimal, steps: list[Step]
) -> Decimal:
    """中医医院起付标准下浮一级 (langfang D-L6); elsewhere the same level's figure."""
    tcm_map = policy.value("inpatient.tcm_deductible_level")
    if tcm_map is None:
        steps.append(
            Step("中医医院：本地无起付标准下浮规定，按同级医院执行", cite(policy, "inpatient.tcm_deductible_level"))
        )
        return deductible
    lower = tcm_map.get(level, level)
    deductible = _level_figure(policy, ded_key, ded_table, lower)
    steps.append(
        Step(
            f"中医医院起付标准较同级综合医院下浮一级，按{LEVEL_ZH[lower]}标准",
            cite(policy, "inpatient.tcm_deductible_level"),
            deductible,
        )
    )
    return deductible


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


def _not_counted(policy: Policy, facts: InpatientFacts, steps: list[Step]) -> str:
    """Why care outside a stay is not counted as inpatient (``inpatient.counted_as_inpatient``); "" when it is."""
    kind = facts.counted_as_inpatient or ""
    dates_continuous, died_in_rescue, same_hospital = facts.dates_continuous, facts.died_in_rescue, facts.same_hospital
    days_before_admission, observation_days = facts.days_before_admission, facts.observation_days
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
