"""生育保险待遇 (maternity benefits): medical payment, family-planning surgery, allowance, spouse grant.

:func:`maternity_benefit` is the rule; the scenario calculation ``maternity``
(SCENARIOS.md) is a thin wrapper around it. Every amount, day count and month
threshold is a policy parameter (``maternity.*``, policy/policies/<code>/maternity.yaml);
hunan, langfang and xianning give none (D-H23, D-L16, D-XN1), so any maternity
claim there fails with ``PolicyMissing`` naming the first parameter asked for (D-X16).

The inputs (the contract's and those beyond it, all optional with defaults) are the fields of
:class:`MaternityFacts` (``maternity_facts``), documented there by group; the named steps live in
``maternity_steps``. This module keeps the public names.

Extra ``event`` codes (family-planning surgery): tubal_ligation, vasectomy, tubal_reversal,
vas_reversal, iud_insertion, iud_removal (both jurisdictions) and the ziyang packages of
第二十五条: pregnancy_monitoring, implant_insertion, implant_removal, surgical_abortion,
medical_abortion, medical_abortion_curettage (129 + 47), midterm_induction, fp_complication.
"""

from __future__ import annotations

from typing import Any

from policy.calculations import REGISTRY, Field, calculation
from policy.resolver import Policy

from ._common import ZERO, Step
from .maternity_facts import (
    BAND_EVENTS,
    BAND_ZH,
    CATEGORIES,
    CATEGORY_ZH,
    DELIVERIES,
    EMPLOYER_KINDS,
    EVENT_ZH,
    EVENTS,
    EXCLUDED_ITEM_ZH,
    EXCLUDED_ITEMS,
    FAMILY_PLANNING,
    MALE_SURGERIES,
    PREGNANCY_ENDING,
    SETTING_EVENTS,
    SETTINGS,
    MaternityFacts,
    MaternityResult,
)
from .maternity_steps import (
    allowance_step,
    extra_days_step,
    inputs_step,
    male_step,
    medical_qualifies_step,
    medical_step,
    one_off_grant_step,
    scope_step,
)
from .resident import EMPLOYEE_INSUTYPE, INSUTYPES, RESIDENT_INSUTYPE, ensure_defaults, resident_childbirth

__all__ = [
    "BAND_EVENTS",
    "BAND_ZH",
    "CATEGORIES",
    "CATEGORY_ZH",
    "DELIVERIES",
    "EMPLOYER_KINDS",
    "EVENTS",
    "EVENT_ZH",
    "EXCLUDED_ITEMS",
    "EXCLUDED_ITEM_ZH",
    "FAMILY_PLANNING",
    "MALE_SURGERIES",
    "PREGNANCY_ENDING",
    "SETTINGS",
    "SETTING_EVENTS",
    "MaternityFacts",
    "MaternityResult",
    "maternity",
    "maternity_benefit",
]


def maternity_benefit(policy: Policy, facts: MaternityFacts) -> MaternityResult:
    """生育保险待遇: what the pool pays for one maternity event of one insured person (the named steps, in order)."""
    inputs_step(facts)
    # Read first: the jurisdiction's way of paying maternity medical costs (silent seeds stop here).
    basis = policy.value("maternity.medical_payment_basis")
    extra_days_step(policy, facts)
    result = scope_step(policy, facts)
    if result.scope == "none":
        return result
    if facts.sex == "male":
        return male_step(policy, facts, basis, result)
    if facts.separated_on is None and not medical_qualifies_step(policy, facts, result.steps):
        return result
    covered = medical_step(policy, facts, basis, result)
    if result.scope == "medical_only":
        result.steps.append(Step("只享受生育医疗费用待遇：不享受生育津贴和一次性生育补助金", ""))
        result.eligible = covered
        return result
    allowance_paid = allowance_step(policy, facts, result)
    if facts.claim_one_off_grant:
        one_off_grant_step(policy, facts, result)
    result.eligible = covered or allowance_paid or result.one_off_grant > 0
    return result


@calculation(
    "maternity",
    inputs={
        "event": Field("str", choices=EVENTS),
        "babies": Field("int", default=1),
        "category": Field("str", default="employee", choices=CATEGORIES),
        "continuous_months": Field("int", default=None),
        "sex": Field("str", default="female", choices=("female", "male")),
        "policy_extra_days": Field("int", default=0),
        "actual_cost": Field("decimal", default=None),
        "employer_kind": Field("str", default="enterprise", choices=EMPLOYER_KINDS),
        "spouse_insured": Field("bool", default=False),
        "rare_complication": Field("bool", default=False),
        "setting": Field("str", default=None, choices=SETTINGS),
        "pregnancy_months": Field("int", default=None),
        "arrears_months": Field("int", default=0),
        "arrears_made_up": Field("bool", default=False),
        "separated_on": Field("date", default=None),
        "maternity_insured_months": Field("int", default=None),
        "event_on": Field("date", default=None),
        "new_employer": Field("bool", default=False),
        "policy_compliant": Field("bool", default=True),
        "free_service": Field("bool", default=False),
        "appraised_amount": Field("decimal", default=None),
        "claim_one_off_grant": Field("bool", default=False),
        "excluded_item": Field("str", default=None, choices=EXCLUDED_ITEMS),
        "insutype": Field("str", default=EMPLOYEE_INSUTYPE, choices=INSUTYPES),
    },
    outputs={
        "eligible": "bool",
        "allowance_days": "int",
        "allowance": "money",
        "medical_payment": "money",
        "one_off_grant": "money",
        "benefit_scope": "str",
        "allowance_payee": "str",
    },
)
def maternity(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """生育保险待遇 (SCENARIOS.md ``maternity``).

    ``insutype`` 390: 居民住院分娩 (:func:`~benefits.calculations.resident.resident_childbirth`, sanmenxia
    第三十七条), reading ``event`` (natural | caesarean), ``actual_cost`` and ``babies``; no allowance.
    """
    inputs = dict(inputs)
    if inputs.pop("insutype") == RESIDENT_INSUTYPE:
        ensure_defaults(inputs, _DEFAULTS, ("event", "actual_cost", "babies", "sex", "category"))
        result = resident_childbirth(policy, event=inputs["event"], actual_cost=inputs["actual_cost"])
        return {
            "eligible": True,
            "allowance_days": 0,
            "allowance": ZERO,
            "medical_payment": result.pool_pay,
            "one_off_grant": ZERO,
            "benefit_scope": "medical_only",
            "allowance_payee": "",
            "steps": result.steps,
        }
    return maternity_benefit(policy, MaternityFacts(**inputs)).outputs()


_DEFAULTS = {name: spec.default for name, spec in REGISTRY["maternity"].inputs.items()}
