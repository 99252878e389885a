"""生育 (med_type 51, 52, 53): the medical payment, the allowance and grant; a rare complication as a stay."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from benefits.calculations.maternity import MaternityFacts, maternity_benefit
from policy.calculations import InputError

from ..facts import ClaimFacts, PersonFacts
from .base import Acc, Book, Parts, opt, policy_for
from .inpatient import pay_inpatient


def pay_maternity(
    facts: ClaimFacts, person: PersonFacts, accs: Mapping[int, Acc], amount: Decimal, book: Book, parts: Parts
) -> str:
    """生育: medical payment (+ allowance). Returns the refusal reason when nothing is payable."""
    if not facts.maternity_event:
        raise InputError("生育类报销须填写生育/计划生育事件")
    year = facts.end.year
    policy = policy_for(facts, facts.end)
    employer_kind = person.employer_kind
    result = maternity_benefit(
        policy,
        MaternityFacts(
            event=facts.maternity_event,
            babies=facts.babies,
            category=person.category,
            continuous_months=facts.continuous_months,
            sex=person.sex,
            policy_extra_days=facts.policy_extra_days,
            actual_cost=amount,
            employer_kind=employer_kind,
            spouse_insured=facts.spouse_insured,
            rare_complication=facts.rare_complication,
            setting=facts.maternity_setting or None,
            pregnancy_months=facts.pregnancy_months,
            arrears_months=facts.arrears_months,
            arrears_made_up=facts.arrears_made_up,
            separated_on=facts.separated_on,
            maternity_insured_months=facts.maternity_insured_months,
            new_employer=facts.new_employer,
            claim_one_off_grant=facts.claim_one_off_grant,
            excluded_item=opt(facts.maternity_excluded_item),
            event_on=facts.start,
            policy_compliant=facts.policy_compliant,
            free_service=facts.free_service,
            appraised_amount=None if facts.appraised_amount is None else Decimal(facts.appraised_amount),
        ),
    )
    book.add("生育保险", result.steps)
    parts.benefit_scope = result.scope
    parts.allowance_payee = result.allowance_payee
    if not result.eligible:
        last = next((s.description for s in reversed(result.steps)), "不符合生育保险待遇条件")
        return f"不符合生育保险待遇条件：{last}"
    parts.hifp += result.medical_payment
    parts.allowance += result.allowance
    parts.one_off_grant += result.one_off_grant
    book.delta(year, "maternity_paid", result.medical_payment + result.allowance + result.one_off_grant)
    if result.settle_as_inpatient and facts.maternity_event == "rare_complication":
        pay_inpatient(facts, person, accs, amount, book, parts)
    return ""
