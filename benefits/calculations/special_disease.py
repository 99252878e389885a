"""门诊慢特病 / 重特大疾病 / 单行支付药品: special-disease settlements (POLICY-DIGEST §2l).

Plain functions, each returning a :class:`SettlementResult` with the pool's payment,
the person's part, the ratio and the explanation steps (the scenario calculation
``special_disease`` at the end of this module wraps them; ``benefit`` picks one):

- :func:`special_disease_outpatient` — hunan 门诊慢特病 (第四十七条), sanmenxia 门诊重症慢性病
  (第十四条), ziyang 门诊特殊疾病 classes 2/3 (第十七条; class 1 is settled as inpatient).
  The annual cap is a required parameter where the seed gives no figure (hunan D-H12,
  sanmenxia 第十四条): until staff enter it, settlement fails with ``PolicyMissing``.
- :func:`major_disease` — sanmenxia 重特大疾病 (第十五条).
- :func:`single_payment_drug` — ziyang 单行支付药品 (第二十条(一)).

Amounts are policy-range amounts (政策范围内费用), after any pre-payment self-pay (个人先行自付).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from policy.calculations import REGISTRY, Field, InputError, calculation, money
from policy.resolver import Policy, PolicyError, PolicyMissing

from ._common import (
    HUNDRED,
    PERSON_TYPE_ZH,
    PERSON_TYPES,
    ZERO,
    Step,
    check_choice,
    cite,
    fmt,
    within_overall_cap,
)
from ._common import amount as money_fact
from .resident import (
    EMPLOYEE_INSUTYPE,
    INSUTYPES,
    RESIDENT_INSUTYPE,
    RESIDENT_TIERS,
    ensure_defaults,
    settle_resident_chronic,
    settle_resident_major_disease,
)

MAJOR_SETTINGS = ("inpatient", "outpatient", "peritoneal_dialysis")
MAJOR_TIERS = ("county", "city", "provincial")
TIER_ZH = {"county": "县级医疗机构", "city": "市级医疗机构", "provincial": "省级医疗机构"}
SETTING_ZH = {
    "inpatient": "住院",
    "outpatient": "门诊（含门诊特定药品）",
    "peritoneal_dialysis": "终末期肾病门诊腹膜透析",
}


@dataclass
class SettlementResult:
    """One settlement: 统筹基金支付 ``pool_pay``, 个人负担 ``self_pay``, 支付比例 ``ratio`` (percent)."""

    pool_pay: Decimal = ZERO
    self_pay: Decimal = ZERO
    ratio: Decimal | None = None
    deductible: Decimal = ZERO
    cap: Decimal | None = None  # the annual (or per-disease) limit applied
    settle_as_inpatient: bool = False  # 视同住院: settle this amount with the inpatient rules instead
    steps: list[Step] = field(default_factory=list)


def _settle(
    policy: Policy,
    result: SettlementResult,
    *,
    total: Decimal,
    ratio: Decimal,
    ratio_cite: str,
    deductible_key: str,
    cap: Decimal | None,
    cap_cite: str,
    paid_this_year: Decimal,
    benefit: str = "",
    overall_paid: Decimal | None = None,
) -> SettlementResult:
    """Deductible (null: none) → ratio → what remains of the cap → what remains of the pool's overall cap
    (where ``benefit`` counts toward it); round the pool's payment (D-X12)."""
    deductible = policy.value(deductible_key)
    deductible = ZERO if deductible is None else min(deductible, total)
    if deductible:
        result.steps.append(Step(f"起付标准 {fmt(deductible)} 元由个人负担", cite(policy, deductible_key), deductible))
    else:
        result.steps.append(Step("不设起付标准", cite(policy, deductible_key)))
    result.deductible = deductible
    result.ratio = ratio
    pay = (total - deductible) * ratio / HUNDRED
    result.steps.append(
        Step(f"政策范围内费用 {fmt(total - deductible)} 元 × {fmt(ratio)}% = {fmt(pay)} 元", ratio_cite, pay)
    )
    if cap is not None:
        result.cap = cap
        remaining = max(cap - paid_this_year, ZERO)
        if pay > remaining:
            result.steps.append(
                Step(
                    f"年度支付限额 {fmt(cap)} 元，本年已支付 {fmt(paid_this_year)} 元，"
                    f"尚余 {fmt(remaining)} 元：按余额支付",
                    cap_cite,
                    remaining,
                )
            )
            pay = remaining
        else:
            result.steps.append(
                Step(f"年度支付限额 {fmt(cap)} 元，本年已支付 {fmt(paid_this_year)} 元，未超限额", cap_cite)
            )
    if benefit:
        pay = within_overall_cap(policy, benefit, pay, overall_paid, result.steps)
    result.pool_pay = money(pay)
    result.self_pay = total - result.pool_pay
    result.steps.append(
        Step(f"统筹基金支付 {fmt(result.pool_pay)} 元，个人负担 {fmt(result.self_pay)} 元", "", result.pool_pay)
    )
    return result


def special_disease_outpatient(
    policy: Policy,
    *,
    person_type: str,
    disease_classes: Sequence[int] | None,
    amount: Any,
    paid_this_year: Any = ZERO,
    overall_pool_paid_this_year: Any = None,
) -> SettlementResult:
    """门诊慢特病 (hunan) / 门诊重症慢性病 (sanmenxia) / 门诊特殊疾病 (ziyang): one outpatient claim.

    ``disease_classes`` lists the classes of the person's approved diseases (ziyang 一/二/三类,
    one entry per disease); ``None`` where the jurisdiction has no classes.
    ``paid_this_year``: what the pool already paid under this benefit this year.
    ``overall_pool_paid_this_year`` (optional): every pool payment this year that counts toward the
    pool's overall annual cap (ziyang 第十二条(四); langfang D-L9).
    """
    check_choice(person_type, PERSON_TYPES, "person_type")
    total = _amount(amount, "amount")
    paid = _amount(paid_this_year, "paid_this_year")
    result = SettlementResult()
    ratio_key = "special_disease.outpatient_ratio_pct"
    ratios = policy.value(ratio_key)  # silent seeds (langfang, xianning) stop here
    basis = policy.value("special_disease.outpatient_cap_basis")
    if basis == "by_class":
        if not disease_classes:
            raise InputError(
                f"缺少输入 disease_classes：{policy.jurisdiction} 门诊特殊疾病按病种类别结算"
                f"（{cite(policy, 'special_disease.outpatient_cap_basis')}）"
            )
        inpatient_classes = {int(c) for c in policy.value("special_disease.inpatient_classes")}
        outpatient = [int(c) for c in disease_classes if int(c) not in inpatient_classes]
        if not outpatient:
            result.settle_as_inpatient = True
            result.self_pay = total
            result.steps.append(
                Step(
                    f"第{'、'.join(str(c) for c in disease_classes)}类特殊疾病视同住院："
                    "不设起付线，按住院有关规定结算支付",
                    cite(policy, "special_disease.inpatient_classes"),
                )
            )
            return result
        if len(outpatient) < len(disease_classes):
            result.steps.append(
                Step(
                    "视同住院类别的病种另按住院规定结算，不占门诊特殊疾病限额；本次费用按第二、三类病种结算",
                    cite(policy, "special_disease.inpatient_classes"),
                )
            )
        cap, cap_cite = _class_cap(policy, outpatient, result)
    elif basis == "annual":
        if disease_classes:
            raise InputError(f"输入 disease_classes: {policy.jurisdiction} 的门诊慢特病不分类别")
        cap = policy.decimal("special_disease.outpatient_annual_cap")  # hunan D-H12, sanmenxia 第十四条
        cap_cite = cite(policy, "special_disease.outpatient_annual_cap")
    else:
        raise PolicyError(f"参数 special_disease.outpatient_cap_basis（{policy.jurisdiction}）取值无效: {basis!r}")
    ratio = _group_ratio(policy, ratio_key, ratios, person_type)
    return _settle(
        policy,
        result,
        total=total,
        ratio=ratio,
        ratio_cite=cite(policy, ratio_key),
        deductible_key="special_disease.outpatient_deductible",
        cap=cap,
        cap_cite=cap_cite,
        paid_this_year=paid,
        benefit="special_disease",
        overall_paid=_optional(overall_pool_paid_this_year, "overall_pool_paid_this_year"),
    )


def _class_cap(policy: Policy, classes: list[int], result: SettlementResult) -> tuple[Decimal, str]:
    """ziyang 第十七条(二), D-Z16: the highest class cap, +20% of it for each further disease."""
    caps_key, extra_key = "special_disease.class_caps", "special_disease.extra_disease_cap_pct"
    caps = policy.value(caps_key)
    for c in classes:
        if str(c) not in caps:
            raise PolicyMissing(policy.jurisdiction, f"{caps_key}.{c}", policy.on, label=f"第{c}类特殊疾病年度支付限额")
    highest = max(caps[str(c)] for c in classes)
    extra_diseases = len(classes) - 1
    cap = highest
    text = f"门诊特殊疾病年度支付限额：最高类别限额 {fmt(highest)} 元"
    if extra_diseases:
        pct = policy.decimal(extra_key)
        cap = highest + highest * pct / HUNDRED * extra_diseases
        text += f" + 每增加一个病种 {fmt(pct)}% × {extra_diseases} = {fmt(cap)} 元"
    result.steps.append(Step(text, cite(policy, caps_key, extra_key), cap))
    return cap, cite(policy, caps_key, extra_key)


def _group_ratio(policy: Policy, key: str, ratios: Any, person_type: str) -> Decimal:
    if not isinstance(ratios, Mapping) or person_type not in ratios:
        raise PolicyMissing(policy.jurisdiction, f"{key}.{person_type}", policy.on, label=PERSON_TYPE_ZH[person_type])
    return ratios[person_type]


def major_disease(
    policy: Policy, *, tier: str | None, setting: str, amount: Any, limit: Any = None
) -> SettlementResult:
    """重特大疾病 (sanmenxia 第十五条): no deductible; ratio by setting, and by hospital tier for stays.

    ``setting``: inpatient | outpatient (含门诊特定药品) | peritoneal_dialysis (终末期肾病门诊腹膜透析).
    ``tier``: county | city | provincial (inpatient only). ``limit``: the per-disease limit or fixed
    amount (限额或定额) where one is set for the disease; the seed gives none.
    """
    check_choice(setting, MAJOR_SETTINGS, "setting")
    total = _amount(amount, "amount")
    key = "special_disease.major_disease_ratio_pct"
    ratios = policy.value(key)
    entry = ratios.get(setting) if isinstance(ratios, Mapping) else None
    if setting == "inpatient":
        check_choice(tier, MAJOR_TIERS, "tier")
        entry = entry.get(tier) if isinstance(entry, Mapping) else None
        where = f"{SETTING_ZH[setting]}（{TIER_ZH[tier]}）"
    else:
        where = SETTING_ZH[setting]
    if not isinstance(entry, Decimal):
        raise PolicyMissing(policy.jurisdiction, f"{key}.{setting}", policy.on, label=where)
    result = SettlementResult()
    result.steps.append(Step(f"重特大疾病{where}：支付比例 {fmt(entry)}%", cite(policy, key)))
    cap = None if limit is None else _amount(limit, "limit")
    return _settle(
        policy,
        result,
        total=total,
        ratio=entry,
        ratio_cite=cite(policy, key),
        deductible_key="special_disease.major_disease_deductible",
        cap=cap,
        cap_cite="病种限额（定点医疗机构协议）",
        paid_this_year=ZERO,
    )


def single_payment_drug(
    policy: Policy, *, amount: Any, paid_this_year: Any = ZERO, overall_pool_paid_this_year: Any = None
) -> SettlementResult:
    """单行支付药品 (ziyang 第二十条(一)): no deductible, 70%, annual cap 200 000 inside the overall cap.

    ``overall_pool_paid_this_year`` (optional): every pool payment this year counted in the overall
    cap (6 × the average wage, 第十二条(四)); the drug payment is held to what is left of both caps.
    """
    total = _amount(amount, "amount")
    paid = _amount(paid_this_year, "paid_this_year")
    ratio_key = "special_disease.single_payment_drug_ratio_pct"
    ratio = policy.decimal(ratio_key)
    cap_key = "special_disease.single_payment_drug_annual_cap"
    cap = policy.decimal(cap_key)
    result = SettlementResult()
    return _settle(
        policy,
        result,
        total=total,
        ratio=ratio,
        ratio_cite=cite(policy, ratio_key),
        deductible_key="special_disease.single_payment_drug_deductible",
        cap=cap,
        cap_cite=cite(policy, cap_key),
        paid_this_year=paid,
        benefit="single_payment_drug",
        overall_paid=_optional(overall_pool_paid_this_year, "overall_pool_paid_this_year"),
    )


def _optional(value: Any, name: str) -> Decimal | None:
    return None if value is None else _amount(value, name)


def _amount(value: Any, name: str) -> Decimal:
    """A money fact (Decimal, int or numeric string; never float), not negative."""
    return money_fact(value, name)


BENEFITS = ("chronic", "major_disease", "single_payment_drug")


@calculation(
    "special_disease",
    inputs={
        "benefit": Field("str", default="chronic", choices=BENEFITS),
        "person_type": Field("str", default="in_service", choices=PERSON_TYPES),
        "disease_classes": Field("list", default=None),
        "amount": Field("decimal"),
        "paid_this_year": Field("decimal", default=ZERO),
        "overall_pool_paid_this_year": Field("decimal", default=None),
        "tier": Field("str", default=None, choices=RESIDENT_TIERS),
        "setting": Field("str", default="inpatient", choices=MAJOR_SETTINGS),
        "limit": Field("decimal", default=None),
        "insutype": Field("str", default=EMPLOYEE_INSUTYPE, choices=INSUTYPES),
    },
    outputs={
        "deductible": "money",
        "ratio": "decimal",
        "pool_pay": "money",
        "self_pay": "money",
        "cap": "money",
        "settle_as_inpatient": "bool",
    },
)
def special_disease(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """门诊慢特病 / 重特大疾病 / 单行支付药品 (``benefit``): one claim settled by the pool.

    ``chronic``: hunan 第四十七条, sanmenxia 第十四条, ziyang 第十七条 (``disease_classes`` one entry
    per approved disease; class 1 is settled as inpatient: ``settle_as_inpatient``).
    ``major_disease``: sanmenxia 第十五条 (``setting``, ``tier`` for stays, ``limit`` the disease's
    limit where one is set). ``single_payment_drug``: ziyang 第二十条(一).
    ``paid_this_year``: this benefit's pool payments this year; ``overall_pool_paid_this_year``: every
    payment counted in the pool's overall annual cap (ziyang 第十二条(四)).
    """
    inputs = dict(inputs)
    if inputs.pop("insutype") == RESIDENT_INSUTYPE:
        return _resident(policy, inputs)
    benefit = inputs["benefit"]
    if benefit == "chronic":
        classes = inputs["disease_classes"]
        result = special_disease_outpatient(
            policy,
            person_type=inputs["person_type"],
            disease_classes=None if classes is None else [_class(c) for c in classes],
            amount=inputs["amount"],
            paid_this_year=inputs["paid_this_year"],
            overall_pool_paid_this_year=inputs["overall_pool_paid_this_year"],
        )
    elif benefit == "major_disease":
        result = major_disease(
            policy, tier=inputs["tier"], setting=inputs["setting"], amount=inputs["amount"], limit=inputs["limit"]
        )
    else:
        result = single_payment_drug(
            policy,
            amount=inputs["amount"],
            paid_this_year=inputs["paid_this_year"],
            overall_pool_paid_this_year=inputs["overall_pool_paid_this_year"],
        )
    return {
        "deductible": result.deductible,
        "ratio": result.ratio,
        "pool_pay": result.pool_pay,
        "self_pay": result.self_pay,
        "cap": result.cap,
        "settle_as_inpatient": result.settle_as_inpatient,
        "steps": result.steps,
    }


def _resident(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """居民医保 (insutype 390): 门诊重症慢性病 (sanmenxia 第三十四条) or 重特大疾病 (第三十五条)."""
    benefit = inputs["benefit"]
    if benefit == "chronic":
        ensure_defaults(inputs, _DEFAULTS, ("benefit", "amount", "paid_this_year", "overall_pool_paid_this_year"))
        result = settle_resident_chronic(
            policy,
            amount_=inputs["amount"],
            paid_this_year=inputs["paid_this_year"],
            overall_paid=inputs["overall_pool_paid_this_year"],
        )
    elif benefit == "major_disease":
        used = ("benefit", "amount", "tier", "setting", "limit", "overall_pool_paid_this_year")
        ensure_defaults(inputs, _DEFAULTS, used)
        result = settle_resident_major_disease(
            policy,
            tier=inputs["tier"],
            setting=inputs["setting"],
            amount_=inputs["amount"],
            limit=inputs["limit"],
            overall_paid=inputs["overall_pool_paid_this_year"],
        )
    else:
        raise InputError(f"输入 benefit: {benefit!r} 不适用于城乡居民基本医疗保险（insutype 390）")
    return {
        "deductible": result.deductible,
        "ratio": result.ratio,
        "pool_pay": result.pool_pay,
        "self_pay": result.self_pay,
        "cap": result.cap,
        "settle_as_inpatient": False,
        "steps": result.steps,
    }


_DEFAULTS = {name: spec.default for name, spec in REGISTRY["special_disease"].inputs.items()}


def _class(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise InputError(f"输入 disease_classes: 病种类别应为 1、2、3，得到 {value!r}")
    return int(value)
