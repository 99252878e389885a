"""普通门诊统筹 (med_type 11): the pool, and langfang's 大额补充 above the overall cap (D-L16)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from benefits.calculations.outpatient import OutpatientFacts, settle_outpatient

from ..facts import ClaimFacts, PersonFacts
from .base import Acc, Book, Parts, acc_of, cap_paid, opt, policy_for, pool_part
from .layers import layer_above_overall_cap, pay_layer_above


def pay_outpatient(
    facts: ClaimFacts, person: PersonFacts, accs: Mapping[int, Acc], amount: Decimal, book: Book, parts: Parts
) -> None:
    year = facts.end.year
    policy = policy_for(facts, facts.end)
    acc = acc_of(accs, year)
    inputs: dict[str, Any] = {
        "hospital_level": facts.hospital_level,
        "amount": amount,
        "person_type": person.person_type,
        "age": person.age_on(facts.start),
        "location": facts.location,
        "deductible_used_this_year": acc.get("outpatient_deductible_used"),
        "pool_paid_this_year": acc.get("outpatient_pool_paid"),
        "scheme": person.scheme,
        "birth_date": person.birth_date,
        "designated": not facts.non_designated,
        "emergency_rescue": facts.emergency_rescue,
        "origin_level": opt(facts.origin_level),
    }
    result = settle_outpatient(policy, OutpatientFacts(overall_pool_paid_this_year=cap_paid(policy, acc), **inputs))
    book.add("普通门诊统筹", result.steps)
    pool_part(parts, amount, result.deductible, result.pool_pay)
    book.delta(year, "outpatient_deductible_used", result.deductible)
    book.delta(year, "outpatient_pool_paid", result.pool_pay)
    if result.ratio and layer_above_overall_cap(policy, "outpatient"):
        # the same visit without the overall cap
        uncapped = settle_outpatient(policy, OutpatientFacts(**inputs)).pool_pay
        pay_layer_above(facts, policy, acc, year, result.ratio, uncapped, result.pool_pay, book, parts)
