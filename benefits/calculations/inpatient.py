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

The facts a stay is settled on are :class:`InpatientFacts` (``inpatient_facts``); the named steps
(起付标准, 支付比例, 统筹支付 …) live in ``inpatient_steps``. This module keeps the public names.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from policy.calculations import REGISTRY, Field, InputError, calculation
from policy.resolver import Policy

from ._common import (
    HOSPITAL_LEVELS,
    HOSPITAL_TIERS,
    HUNDRED,
    LOCATIONS,
    PERSON_TYPES,
    ZERO,
    Step,
    cite,
    fmt,
    overall_annual_cap,
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
from .inpatient_steps import (
    Care,
    annual_deductible_step,
    deductible_step,
    inputs_step,
    level_deductible_step,
    location_step,
    place_step,
    pool_pay_step,
    pool_scope_step,
    ratio_adjustment_step,
    ratio_step,
    repeat_admission_step,
    special_care_step,
)
from .resident import (
    EMPLOYEE_INSUTYPE,
    INSUTYPES,
    RESIDENT_INSUTYPE,
    RESIDENT_TIERS,
    ResidentStayFacts,
    ensure_defaults,
    settle_resident_inpatient,
)

__all__ = [
    "CONTINUED_STAYS",
    "CONTINUED_STAY_ZH",
    "COUNTED_AS_INPATIENT",
    "COUNTED_ZH",
    "EXCLUDED_CAUSES",
    "EXCLUDED_CAUSE_ZH",
    "EXTERNAL_SERVICES",
    "EXTERNAL_SERVICE_ZH",
    "HIGH_VALUE_DRUG_USES",
    "HIGH_VALUE_DRUG_ZH",
    "InpatientFacts",
    "InpatientResult",
    "annual_deductible_step",
    "inpatient",
    "level_deductible_step",
    "parameter_limit_breaches",
    "repeat_admission_step",
    "settle_inpatient",
]


def settle_inpatient(policy: Policy, facts: InpatientFacts) -> InpatientResult:
    """Settle one stay (一次住院) under ``policy``: the named steps of the module docstring, in order.

    Care the pool does not pay (an excluded cause, care not counted as inpatient, a non-designated
    hospital, an unfiled 外检外购) ends after :func:`pool_scope_step` or :func:`special_care_step` with
    the whole amount left to the person.
    """
    sums = inputs_step(facts)
    steps: list[Step] = []
    care: Care | InpatientResult = place_step(policy, facts)
    care = pool_scope_step(policy, facts, care, sums.total, steps)
    if isinstance(care, InpatientResult):
        return care
    care = special_care_step(policy, facts, care, sums.total, steps)
    if isinstance(care, InpatientResult):
        return care
    ded_table = location_step(policy, facts, care, steps)
    borne = deductible_step(policy, facts, care, ded_table, sums, steps)  # 1. 起付标准
    ratio, borne = ratio_step(policy, facts, care, borne, steps)  # 2. 支付比例
    ratio = ratio_adjustment_step(policy, facts, care, ratio, steps)
    return pool_pay_step(policy, care, sums, borne, ratio, steps)  # 3. 统筹基金支付


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
        "tier": Field("str", default=None, choices=RESIDENT_TIERS),
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
        "insutype": Field("str", default=EMPLOYEE_INSUTYPE, choices=INSUTYPES),
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
    """住院: 起付标准、支付比例、统筹基金支付与个人负担（SCENARIOS.md `inpatient`）.

    ``insutype`` 390: a resident's stay (:func:`~benefits.calculations.resident.settle_resident_inpatient`,
    sanmenxia 第三十三条), reading ``tier``, ``hospital_level``, ``age``, ``admission_number``, ``policy_amount``
    and ``pool_paid_this_year``; the employee-only inputs are refused.
    """
    inputs = dict(inputs)
    insutype = inputs.pop("insutype")
    if insutype == RESIDENT_INSUTYPE:
        ensure_defaults(inputs, _DEFAULTS, RESIDENT_STAY_INPUTS)
        if inputs["tier"] is None:
            raise InputError(
                "缺少输入项 tier：居民住院须给出医院层级（township / county / city / provincial / out_of_province）"
            )
        facts = ResidentStayFacts(**{name: inputs[name] for name in RESIDENT_STAY_INPUTS})
        result = settle_resident_inpatient(policy, facts)
        return {
            "deductible": result.deductible,
            "ratio": result.ratio,
            "pool_pay": result.pool_pay,
            "self_pay": result.self_pay,
            "third_party_advance": False,
            "steps": result.steps,
        }
    if inputs["tier"] is not None and inputs["tier"] not in HOSPITAL_TIERS:
        raise InputError(
            f"输入 tier: {inputs['tier']!r} 只用于居民医保（insutype 390）；职工医保可选 {', '.join(HOSPITAL_TIERS)}"
        )
    return settle_inpatient(policy, InpatientFacts(**inputs)).outputs()


RESIDENT_STAY_INPUTS = ("tier", "hospital_level", "policy_amount", "age", "admission_number", "pool_paid_this_year")
_DEFAULTS = {name: spec.default for name, spec in REGISTRY["inpatient"].inputs.items()}
