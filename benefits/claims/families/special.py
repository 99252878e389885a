"""门诊慢特病 (med_type 14): 慢特病 (ziyang's class 1 视同住院), 重特大疾病, 单行支付药品; the layer above the
overall cap (langfang D-L16) and ziyang's 商业健康补充医疗保险 for classes 2/3 (第三十一条(一))."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from benefits.calculations.critical_illness import settle_supplementary_special_disease, supplementary_entitled
from benefits.calculations.scheme_switch import cap_paid_with_resident
from benefits.calculations.special_disease import (
    SettlementResult,
    major_disease,
    single_payment_drug,
    special_disease_outpatient,
)
from policy.calculations import InputError
from policy.resolver import Policy

from ..facts import ClaimFacts, PersonFacts
from .base import Acc, Book, Parts, acc_of, cap_paid, policy_for, pool_part
from .inpatient import pay_inpatient
from .layers import above_cap, layer_above_overall_cap, pay_layer_above


def pay_special(
    facts: ClaimFacts, person: PersonFacts, accs: Mapping[int, Acc], amount: Decimal, book: Book, parts: Parts
) -> None:
    year = facts.end.year
    policy = policy_for(facts, facts.end)
    acc = acc_of(accs, year)
    kind = facts.special_kind or "chronic"
    if kind == "chronic":
        result = _chronic(facts, person, policy, acc, amount)
        book.add("门诊慢特病", result.steps)
        if result.settle_as_inpatient:
            pay_inpatient(
                facts,
                person,
                accs,
                amount,
                book,
                parts,
                special_disease_class=min(facts.disease_classes),
                no_deductible="第一类门诊特殊疾病视同住院，不设起付线（ziyang 第十七条(一)）",
            )
            return
        benefit = "special_disease_pool_paid"
    elif kind == "major_disease":
        result = major_disease(
            policy,
            tier=facts.major_disease_tier or None,
            setting=facts.major_disease_setting or "inpatient",
            amount=amount,
        )
        book.add("重特大疾病", result.steps)
        benefit = "major_disease_pool_paid"
    elif kind == "single_payment_drug":
        result = single_payment_drug(
            policy,
            amount=amount,
            paid_this_year=acc.get("single_drug_pool_paid"),
            overall_pool_paid_this_year=cap_paid(policy, acc),
        )
        book.add("单行支付药品", result.steps)
        benefit = "single_drug_pool_paid"
    else:
        raise InputError(f"慢特病类别 {kind!r} 无效")
    pool_part(parts, amount, result.deductible, result.pool_pay)
    book.delta(year, benefit, result.pool_pay)
    if kind == "chronic":
        _above_chronic(facts, person, policy, acc, year, amount, result, book, parts)


def _chronic(
    facts: ClaimFacts, person: PersonFacts, policy: Policy, acc: Acc, amount: Decimal, *, overall_cap: bool = True
) -> SettlementResult:
    """慢特病 through :func:`special_disease_outpatient`; without ``overall_cap``: as if no overall cap."""
    capped = {"overall_pool_paid_this_year": cap_paid(policy, acc)} if overall_cap else {}
    return special_disease_outpatient(
        policy,
        person_type=person.person_type,
        disease_classes=list(facts.disease_classes) or None,
        amount=amount,
        # hunan 第六十一条: the 门诊慢特病 limit is reduced by what the resident scheme paid under it this year
        paid_this_year=cap_paid_with_resident(
            policy, Decimal(acc.get("special_disease_pool_paid")), Decimal(acc.get("resident_chronic_paid"))
        ),
        **capped,
    )


def _above_chronic(
    facts: ClaimFacts,
    person: PersonFacts,
    policy: Policy,
    acc: Acc,
    year: int,
    amount: Decimal,
    result: SettlementResult,
    book: Book,
    parts: Parts,
) -> None:
    """慢特病 above the pool: the layer above the overall cap, then the commercial supplement."""
    if result.ratio and layer_above_overall_cap(policy, "special_disease"):
        uncapped = _chronic(facts, person, policy, acc, amount, overall_cap=False).pool_pay
        pay_layer_above(facts, policy, acc, year, result.ratio, uncapped, result.pool_pay, book, parts)
    if not facts.supplementary_insured:
        return
    # ziyang 第三十一条(一): class-2/3 costs above the pool's outpatient limit × 60%, ≤ 1000 a year.
    stage = "商业健康补充医疗保险"
    ok, step = supplementary_entitled(policy, insured=True, renewed_on=facts.supplementary_renewed_on, day=facts.start)
    book.add(stage, [step])
    if ok:
        above = above_cap(amount, result.deductible, result.ratio, result.pool_pay)
        sup = settle_supplementary_special_disease(
            policy, above_cap_amount=above, paid_this_year=acc.get("supplementary_sd_paid")
        )
        book.add(stage, sup.steps)
        parts.oth += sup.pay
        book.delta(year, "supplementary_sd_paid", sup.pay)
