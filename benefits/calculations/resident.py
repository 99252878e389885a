"""城乡居民基本医疗保险待遇 (险种 390) — resident benefits settled by the resident pooled fund.

Only sanmenxia's document has a resident chapter (三政办〔2021〕2号 第四章); every figure is dated policy data
under ``resident_benefits.*`` (``policy/policies/sanmenxia/resident_benefits.yaml``). Elsewhere no seed gives
resident figures: the first key a settlement reads is missing and the error names it (D-X16).

Settlements, each cut into named steps that append their explanation lines (说明, 条款出处, 金额):

- :func:`settle_resident_inpatient` — 住院 (第三十三条): :func:`hospital_class_step` (医院层级与类别) →
  :func:`resident_deductible_step` (起付标准; halved for a second or later stay at a 县级以上 hospital and
  for children 14周岁以下, once) → :func:`band_step` (each cost band paid at its own ratio, +5 points from
  年满80周岁) → :func:`resident_cap_step` (年度支付限额 150 000, 第三十二条).
- :func:`settle_resident_chronic` — 门诊重症慢性病 (第三十四条): no deductible, 65%, the limit staff enter.
- :func:`settle_resident_major_disease` — 重特大疾病 (第三十五条): no deductible, 80/70/65% by tier for
  stays, 80% outpatient, 85% peritoneal dialysis.
- :func:`settle_resident_outpatient` — 门诊统筹 (第三十六条): accounted apart and outside the annual cap;
  the person's deductible, ratio and limit are not in the document (staff-entered).
- :func:`resident_childbirth` — 住院分娩 (第三十七条): the fixed amount, as incurred when lower.
- 新生儿 (第三十八条): the newborn's birth-year cover is enrolment's (a resident span of kind ``newborn``,
  ``enrollment.calculations.resident_checks.newborn_cover``); their stays are settled like any resident's
  (14周岁以下: the deductible halved).

The scenario calculations ``inpatient``, ``outpatient``, ``special_disease`` and ``maternity`` call these when
given ``insutype: 390`` (SCENARIOS.md "Resident insurance"); claims reach them through
:mod:`benefits.claims.families.resident`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from policy.calculations import InputError, money
from policy.resolver import Policy, PolicyError, PolicyMissing

from ._common import HOSPITAL_LEVELS, HUNDRED, ZERO, MoneyInput, Step, amount, check_choice, cite, fmt

EMPLOYEE_INSUTYPE = "310"
RESIDENT_INSUTYPE = "390"
INSUTYPES = (EMPLOYEE_INSUTYPE, RESIDENT_INSUTYPE)
INSUTYPE_ZH = {EMPLOYEE_INSUTYPE: "职工基本医疗保险", RESIDENT_INSUTYPE: "城乡居民基本医疗保险"}

#: 医院层级 of a resident's stay (SCENARIOS.md "Resident insurance": tier).
RESIDENT_TIERS = ("township", "county", "city", "provincial", "out_of_province")
RESIDENT_TIER_ZH = {
    "township": "乡级（乡镇卫生院、社区医疗机构）",
    "county": "县级医疗机构",
    "city": "市级医疗机构",
    "provincial": "省级医疗机构",
    "out_of_province": "省外医疗机构",
}
#: 医院类别 in the tables: 三级医院, 二级或相当规模以下医院, or one row for the tier whatever the level.
CLASS_LEVEL3, CLASS_OTHER, CLASS_ANY = "level3", "other", "any"
CLASS_ZH = {CLASS_LEVEL3: "三级医院", CLASS_OTHER: "二级或相当规模以下医院", CLASS_ANY: ""}
CHILDBIRTH_EVENTS = ("natural", "caesarean")
CHILDBIRTH_ZH = {"natural": "自然分娩", "caesarean": "剖宫产"}
MAJOR_SETTINGS = ("inpatient", "outpatient", "peritoneal_dialysis")
MAJOR_SETTING_ZH = {
    "inpatient": "住院",
    "outpatient": "门诊（含门诊特定药品）",
    "peritoneal_dialysis": "终末期肾病门诊腹膜透析",
}

K = "resident_benefits"


@dataclass(frozen=True, kw_only=True)
class ResidentStayFacts:
    """居民住院结算事实: one stay of a resident (参保居民).

    ``tier`` 医院层级 and ``hospital_level`` (``level3`` for a 三级 hospital, any lower level otherwise) pick the
    row of 第三十三条's table; ``age`` 周岁 on the first day (14周岁以下 halves the deductible, 年满80周岁 adds
    5 points); ``admission_number`` counts this year's stays at 县级以上 hospitals (1 for the first);
    ``pool_paid_this_year`` every resident pool payment this year counted toward the annual cap (第三十二条).
    """

    tier: str
    hospital_level: str
    policy_amount: MoneyInput
    age: int | None = None
    admission_number: int = 1
    pool_paid_this_year: MoneyInput = ZERO


@dataclass
class ResidentResult:
    """One resident settlement: 起付标准, ratio (None where bands apply several ratios), 统筹基金支付, 个人负担."""

    deductible: Decimal = ZERO
    ratio: Decimal | None = None
    pool_pay: Decimal = ZERO
    self_pay: Decimal = ZERO
    cap: Decimal | None = None
    steps: list[Step] = field(default_factory=list)


# --- 住院 (第三十三条) ------------------------------------------------------------------------------------


def settle_resident_inpatient(policy: Policy, facts: ResidentStayFacts) -> ResidentResult:
    """居民住院: 医院层级与类别 → 起付标准 → 分段按比例支付 → 年度支付限额 (sanmenxia 第三十二条、第三十三条)."""
    total, paid_before = _stay_inputs(facts)
    steps: list[Step] = []
    klass = hospital_class_step(policy, facts.tier, facts.hospital_level, steps)
    deductible = resident_deductible_step(policy, facts, klass, steps)
    borne = money(min(deductible, total))
    if borne < deductible:
        steps.append(Step("政策范围内费用低于起付标准，起付标准按实际费用负担", "", borne))
    payable, ratio = band_step(policy, facts, klass, total, borne, steps)
    payable, cap = resident_cap_step(policy, "inpatient", payable, paid_before, steps)
    return _result(total, borne, ratio, payable, cap, steps)


def _stay_inputs(facts: ResidentStayFacts) -> tuple[Decimal, Decimal]:
    check_choice(facts.tier, RESIDENT_TIERS, "tier")
    check_choice(facts.hospital_level, HOSPITAL_LEVELS, "hospital_level")
    if facts.admission_number < 1:
        raise InputError(f"输入 admission_number: 应从 1 起计，得到 {facts.admission_number}")
    if facts.age is None:
        raise InputError(
            "输入 age: 居民住院须给出年龄（14周岁以下起付标准减半、年满80周岁比例提高，三门峡 第三十三条）"
        )
    if facts.age < 0:
        raise InputError(f"输入 age: 不能为负数，得到 {facts.age}")
    return amount(facts.policy_amount, "policy_amount"), amount(facts.pool_paid_this_year, "pool_paid_this_year")


def hospital_class_step(policy: Policy, tier: str, hospital_level: str, steps: list[Step]) -> str:
    """医院层级与类别: the row of the table — 三级 or 二级或相当规模以下 (the level read through
    ``inpatient.level_aliases``), or the tier's only row (省外)."""
    key = f"{K}.inpatient_deductible"
    table = policy.value(key)
    row = table.get(tier) if isinstance(table, Mapping) else None
    if not isinstance(row, Mapping):
        raise PolicyMissing(policy.jurisdiction, f"{key}.{tier}", policy.on, label=RESIDENT_TIER_ZH[tier])
    if CLASS_ANY in row:
        klass = CLASS_ANY
    else:
        aliases = policy.value("inpatient.level_aliases", None) or {}
        klass = CLASS_LEVEL3 if aliases.get(hospital_level, hospital_level) == CLASS_LEVEL3 else CLASS_OTHER
        if klass not in row:
            raise PolicyMissing(
                policy.jurisdiction,
                f"{key}.{tier}.{klass}",
                policy.on,
                label=f"{RESIDENT_TIER_ZH[tier]}{CLASS_ZH[klass]}的住院起付标准",
            )
    steps.append(Step(f"居民住院：{RESIDENT_TIER_ZH[tier]}{CLASS_ZH[klass]}", cite(policy, key)))
    return klass


def _cell(policy: Policy, key: str, tier: str, klass: str) -> Any:
    table = policy.value(key)
    row = table.get(tier) if isinstance(table, Mapping) else None
    if not isinstance(row, Mapping) or klass not in row:
        raise PolicyMissing(
            policy.jurisdiction, f"{key}.{tier}.{klass}", policy.on, label=f"{RESIDENT_TIER_ZH[tier]}{CLASS_ZH[klass]}"
        )
    return row[klass]


def resident_deductible_step(policy: Policy, facts: ResidentStayFacts, klass: str, steps: list[Step]) -> Decimal:
    """起付标准: the row's figure, halved once for a second or later stay at a 县级以上 hospital or a child
    14周岁以下 (第三十三条; the two halvings do not stack)."""
    key = f"{K}.inpatient_deductible"
    deductible = Decimal(_cell(policy, key, facts.tier, klass))
    steps.append(Step("起付标准", cite(policy, key), deductible))
    pcts: list[tuple[Decimal, str, str]] = []
    if facts.admission_number >= 2:
        tiers = policy.value(f"{K}.repeat_deductible_tiers") or []
        pct = policy.value(f"{K}.repeat_deductible_pct")
        if pct is not None and facts.tier in tiers:
            pcts.append(
                (
                    pct,
                    f"年度内在县级以上医疗机构第 {facts.admission_number} 次住院",
                    cite(policy, f"{K}.repeat_deductible_pct", f"{K}.repeat_deductible_tiers"),
                )
            )
    max_age = policy.value(f"{K}.child_max_age")
    if max_age is not None and facts.age is not None and facts.age <= max_age:
        pct = policy.decimal(f"{K}.child_deductible_pct")
        pcts.append(
            (
                pct,
                f"{facts.age} 周岁，{fmt(Decimal(max_age))}周岁以下参保居民",
                cite(policy, f"{K}.child_max_age", f"{K}.child_deductible_pct"),
            )
        )
    if pcts:
        pct, why, source = min(pcts, key=lambda p: p[0])
        deductible = deductible * pct / HUNDRED
        also = "（同时符合多项减半情形，只减一次）" if len(pcts) > 1 else ""
        steps.append(Step(f"{why}：起付标准按 {fmt(pct)}% 计算{also}", source, deductible))
    return deductible


def band_step(
    policy: Policy, facts: ResidentStayFacts, klass: str, total: Decimal, borne: Decimal, steps: list[Step]
) -> tuple[Decimal, Decimal | None]:
    """分段支付: from the deductible borne up to each band's upper edge at the band's ratio, the rest at the last
    ratio; 年满80周岁 +5 points on every band. Returns the payment and the ratio when one band alone was paid."""
    upper_key, ratio_key = f"{K}.inpatient_band_upper", f"{K}.inpatient_band_ratio_pct"
    uppers = list(_cell(policy, upper_key, facts.tier, klass) or [])
    ratios = list(_cell(policy, ratio_key, facts.tier, klass) or [])
    if len(ratios) != len(uppers) + 1:
        raise PolicyError(
            f"参数 {ratio_key}（{policy.jurisdiction}）{facts.tier}.{klass}: 比例 {len(ratios)} 项，"
            f"应比分段上限（{upper_key}，{len(uppers)} 项）多一项"
        )
    increment = elderly_increment(policy, facts.age, steps)
    source = cite(policy, upper_key, ratio_key)
    lower, payable, used = borne, ZERO, []
    for upper, base_ratio in zip([*uppers, None], ratios, strict=True):
        top = total if upper is None else min(total, Decimal(upper))
        part = max(top - lower, ZERO)
        ratio = min(Decimal(base_ratio) + increment, HUNDRED)
        if part > 0:
            pay = part * ratio / HUNDRED
            payable += pay
            used.append(ratio)
            edge = "以上" if upper is None else f"—{fmt(Decimal(upper))} 元"
            steps.append(
                Step(f"{fmt(lower)} 元{edge}部分 {fmt(part)} 元 × {fmt(ratio)}%", source, pay),
            )
        lower = max(lower, top)
    return payable, used[0] if len(used) == 1 else None


def elderly_increment(policy: Policy, age: int | None, steps: list[Step]) -> Decimal:
    """年满80周岁参保居民住院支付比例提高5个百分点 (第三十三条); 0 below the age."""
    min_age = policy.value(f"{K}.elderly_min_age")
    if min_age is None or age is None or age < min_age:
        return ZERO
    increment = policy.decimal(f"{K}.elderly_ratio_increment_pct")
    steps.append(
        Step(
            f"{age} 周岁，年满 {fmt(Decimal(min_age))} 周岁：支付比例提高 {fmt(increment)} 个百分点",
            cite(policy, f"{K}.elderly_min_age", f"{K}.elderly_ratio_increment_pct"),
        )
    )
    return increment


def resident_cap_step(
    policy: Policy, benefit: str, payable: Decimal, paid_before: Decimal | None, steps: list[Step]
) -> tuple[Decimal, Decimal | None]:
    """年度支付限额 (第三十二条): the payment held to what is left of the resident pool's annual cap, where the
    benefit counts toward it (``resident_benefits.cap_counts``); ``paid_before`` None: not known, not held."""
    counts = policy.value(f"{K}.cap_counts") or []
    if benefit not in counts or paid_before is None:
        return payable, None
    key = f"{K}.annual_cap"
    cap = policy.decimal(key)
    left = max(cap - paid_before, ZERO)
    if payable > left:
        steps.append(
            Step(
                f"居民医保统筹基金年度支付限额 {fmt(cap)} 元，本年已支付 {fmt(paid_before)} 元，剩余 {fmt(left)} 元",
                cite(policy, key, f"{K}.cap_counts"),
                left,
            )
        )
        return left, cap
    return payable, cap


def _result(
    total: Decimal, borne: Decimal, ratio: Decimal | None, payable: Decimal, cap: Decimal | None, steps: list[Step]
) -> ResidentResult:
    pool_pay = money(payable)
    self_pay = total - pool_pay
    steps.append(Step("居民医保统筹基金支付", "", pool_pay))
    steps.append(Step("个人负担（政策范围内费用 − 统筹基金支付）", "", self_pay))
    return ResidentResult(deductible=borne, ratio=ratio, pool_pay=pool_pay, self_pay=self_pay, cap=cap, steps=steps)


# --- 门诊重症慢性病 (第三十四条), 重特大疾病 (第三十五条) ---------------------------------------------------


def settle_resident_chronic(
    policy: Policy, *, amount_: MoneyInput, paid_this_year: MoneyInput = ZERO, overall_paid: MoneyInput | None = None
) -> ResidentResult:
    """门诊重症慢性病 (第三十四条): no deductible, 65%, at most what is left of the limit staff enter
    (``resident_benefits.chronic_annual_cap``: "限额管理", no figure in the document), then the annual cap."""
    total = amount(amount_, "amount")
    paid = amount(paid_this_year, "paid_this_year")
    steps: list[Step] = []
    ratio_key = f"{K}.chronic_ratio_pct"
    ratio = policy.decimal(ratio_key)
    borne = _no_deductible(policy, f"{K}.chronic_deductible", total, steps)
    payable = (total - borne) * ratio / HUNDRED
    steps.append(Step(f"门诊重症慢性病 {fmt(total - borne)} 元 × {fmt(ratio)}%", cite(policy, ratio_key), payable))
    cap_key = f"{K}.chronic_annual_cap"
    limit = policy.decimal(cap_key)
    left = max(limit - paid, ZERO)
    if payable > left:
        steps.append(
            Step(
                f"门诊重症慢性病年度支付限额 {fmt(limit)} 元，本年已支付 {fmt(paid)} 元，剩余 {fmt(left)} 元",
                cite(policy, cap_key),
                left,
            )
        )
        payable = left
    payable, _ = resident_cap_step(
        policy, "chronic", payable, _optional(overall_paid, "overall_pool_paid_this_year"), steps
    )
    result = _result(total, borne, ratio, payable, limit, steps)
    return result


def settle_resident_major_disease(
    policy: Policy,
    *,
    tier: str | None,
    setting: str,
    amount_: MoneyInput,
    limit: MoneyInput | None = None,
    overall_paid: MoneyInput | None = None,
) -> ResidentResult:
    """重特大疾病 (第三十五条): no deductible; stays 80/70/65% by tier (县级/市级/省级), outpatient 80%,
    终末期肾病门诊腹膜透析 85%; the disease's limit where one is set (``limit``), then the annual cap."""
    check_choice(setting, MAJOR_SETTINGS, "setting")
    total = amount(amount_, "amount")
    key = f"{K}.major_disease_ratio_pct"
    ratios = policy.value(key)
    entry = ratios.get(setting) if isinstance(ratios, Mapping) else None
    where = MAJOR_SETTING_ZH[setting]
    missing = f"{key}.{setting}"
    if setting == "inpatient":
        check_choice(tier, RESIDENT_TIERS, "tier")
        entry = entry.get(tier) if isinstance(entry, Mapping) else None
        where = f"{where}（{RESIDENT_TIER_ZH[tier]}）"
        missing = f"{missing}.{tier}"
    if not isinstance(entry, Decimal):
        raise PolicyMissing(policy.jurisdiction, missing, policy.on, label=f"居民重特大疾病{where}支付比例")
    steps: list[Step] = []
    borne = _no_deductible(policy, f"{K}.major_disease_deductible", total, steps)
    payable = (total - borne) * entry / HUNDRED
    steps.append(Step(f"重特大疾病{where} {fmt(total - borne)} 元 × {fmt(entry)}%", cite(policy, key), payable))
    cap = None
    if limit is not None:
        cap = amount(limit, "limit")
        if payable > cap:
            steps.append(Step(f"病种限额 {fmt(cap)} 元", "病种限额（定点医疗机构协议）", cap))
            payable = cap
    payable, _ = resident_cap_step(
        policy, "major_disease", payable, _optional(overall_paid, "overall_pool_paid_this_year"), steps
    )
    return _result(total, borne, entry, payable, cap, steps)


def _no_deductible(policy: Policy, key: str, total: Decimal, steps: list[Step]) -> Decimal:
    """起付标准 where the article sets none (null); a figure staff entered is borne up to the amount."""
    deductible = policy.value(key)
    if deductible is None:
        steps.append(Step("政策范围内医疗费用不设起付标准", cite(policy, key)))
        return ZERO
    borne = min(Decimal(deductible), total)
    steps.append(Step("起付标准由个人负担", cite(policy, key), borne))
    return borne


def _optional(value: MoneyInput | None, name: str) -> Decimal | None:
    return None if value is None else amount(value, name)


# --- 门诊统筹 (第三十六条) --------------------------------------------------------------------------------


def settle_resident_outpatient(
    policy: Policy, *, amount_: MoneyInput, deductible_used: MoneyInput = ZERO, pool_paid_this_year: MoneyInput = ZERO
) -> ResidentResult:
    """居民门诊统筹 (第三十六条): 单独核算, never held to the annual cap; the yearly deductible left, the ratio and
    the outpatient limit are staff-entered (按人头付费: the document gives the person no figures)."""
    total = amount(amount_, "amount")
    used = amount(deductible_used, "deductible_used_this_year")
    paid = amount(pool_paid_this_year, "pool_paid_this_year")
    steps: list[Step] = []
    ded_key, ratio_key, cap_key = (
        f"{K}.outpatient_deductible",
        f"{K}.outpatient_ratio_pct",
        f"{K}.outpatient_annual_cap",
    )
    yearly = policy.value(ded_key)
    yearly = ZERO if yearly is None else Decimal(yearly)
    borne = money(min(max(yearly - used, ZERO), total))
    steps.append(
        Step(f"门诊统筹年度起付标准 {fmt(yearly)} 元，本年已负担 {fmt(used)} 元", cite(policy, ded_key), borne)
    )
    ratio = policy.decimal(ratio_key)
    payable = (total - borne) * ratio / HUNDRED
    steps.append(Step(f"{fmt(total - borne)} 元 × {fmt(ratio)}%", cite(policy, ratio_key), payable))
    limit = policy.value(cap_key)
    if limit is not None:
        left = max(Decimal(limit) - paid, ZERO)
        if payable > left:
            steps.append(
                Step(
                    f"门诊统筹年度支付限额 {fmt(Decimal(limit))} 元，本年已支付 {fmt(paid)} 元，剩余 {fmt(left)} 元",
                    cite(policy, cap_key),
                    left,
                )
            )
            payable = left
    if policy.value(f"{K}.outpatient_outside_cap", False):
        steps.append(
            Step("门诊统筹单独核算，不计入居民医保统筹基金年度支付限额", cite(policy, f"{K}.outpatient_outside_cap"))
        )
    else:
        raise PolicyMissing(
            policy.jurisdiction, f"{K}.outpatient_outside_cap", policy.on, label="门诊统筹是否计入年度支付限额"
        )
    return _result(total, borne, ratio, payable, None if limit is None else Decimal(limit), steps)


# --- 住院分娩 (第三十七条) -----------------------------------------------------------


def resident_childbirth(policy: Policy, *, event: str, actual_cost: MoneyInput | None = None) -> ResidentResult:
    """住院分娩 (第三十七条): the fixed amount of the delivery (自然分娩 760, 剖宫产 1870); costs below it are
    paid as incurred, costs above it at the fixed amount. Without ``actual_cost`` the fixed amount is paid."""
    check_choice(event, CHILDBIRTH_EVENTS, "event")
    key = f"{K}.childbirth_amounts"
    amounts = policy.value(key)
    fixed = amounts.get(event) if isinstance(amounts, Mapping) else None
    if fixed is None:
        raise PolicyMissing(policy.jurisdiction, f"{key}.{event}", policy.on, label=f"{CHILDBIRTH_ZH[event]}定额标准")
    fixed = Decimal(fixed)
    steps = [Step(f"{CHILDBIRTH_ZH[event]}定额标准 {fmt(fixed)} 元", cite(policy, key), fixed)]
    pay = fixed
    if actual_cost is not None:
        cost = amount(actual_cost, "actual_cost")
        below_key = f"{K}.childbirth_below_amount_as_incurred"
        if cost < fixed and policy.value(below_key):
            pay = cost
            steps.append(Step(f"实际住院医疗费用 {fmt(cost)} 元低于定额标准：据实结算", cite(policy, below_key), pay))
        else:
            steps.append(Step(f"实际住院医疗费用 {fmt(cost)} 元：按定额标准支付", cite(policy, key), pay))
    total = pay if actual_cost is None else amount(actual_cost, "actual_cost")
    return _result(total, ZERO, None, pay, None, steps)


def ensure_defaults(inputs: Mapping[str, Any], defaults: Mapping[str, Any], used: Sequence[str]) -> None:
    """A resident settlement refuses inputs it does not read (an employee-only fact given with ``insutype: 390``)."""
    for name, value in inputs.items():
        if name in used or name == "insutype":
            continue
        if value != defaults.get(name):
            raise InputError(f"输入 {name}: 不适用于城乡居民基本医疗保险（insutype 390）")
