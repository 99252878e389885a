"""就医登记核验: the claim checked against the registers (异地就医备案, 门诊慢特病认定) before it is settled.

Runs only for claims built from the database (:func:`benefits.claims.services.claim_facts` attaches the
person's :class:`~benefits.registers.calculations.rules.RegisterFacts`); scenario files state their facts directly.

- the location of care outside the pooling area is derived from the filings on the admission date
  (:func:`benefits.registers.calculations.rules.claim_location`), never taken as typed;
- a 门诊慢特病 claim (med_type 14, special_kind chronic) is paid only under a certification valid on the
  service date (hunan 第四十八条, sanmenxia 第十四条, ziyang 第十七条(三)); its classes come from the
  certifications, and an amount already paid in resident insurance this year (hunan 第六十一条) counts
  against the year's cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

from benefits.registers.calculations.rules import chronic_check, claim_location

from ..facts import ClaimFacts
from .base import Acc, Book, acc_of, policy_for


def check_registers(
    facts: ClaimFacts, accs: Mapping[int, Acc], book: Book
) -> tuple[ClaimFacts, Mapping[int, Acc], str]:
    """(the facts with the derived location and classes, the accumulators as the rules see them, refusal)."""
    registers = facts.registers
    if registers is None:
        return facts, accs, ""
    policy = policy_for(facts, facts.start)
    location, reason, cite = claim_location(
        policy,
        facts.location,
        registers.filings,
        admission=facts.start,
        discharge=facts.end,
        emergency=facts.emergency_rescue,
        manual=facts.manual,
    )
    book.step("异地就医备案", reason, cite)
    if location != facts.location:  # a copy only when the filings change it (the bulk run: 100 000 claims)
        facts = replace(facts, location=location)
    if facts.med_type != "14" or facts.counted_as_inpatient or (facts.special_kind or "chronic") != "chronic":
        return facts, accs, ""
    check = chronic_check(policy, registers.certifications, service_date=facts.start, classes=facts.disease_classes)
    book.step("门诊慢特病认定", check.reason, check.citation)
    if check.refusal:
        return facts, accs, check.refusal
    if tuple(check.classes) != tuple(facts.disease_classes):
        facts = replace(facts, disease_classes=check.classes)
    if check.carried_over_paid:
        year = facts.end.year
        acc = acc_of(accs, year)
        seen = Acc(dict(acc.values), dict(acc.by_level))
        seen.values["special_disease_pool_paid"] = (
            Decimal(acc.get("special_disease_pool_paid")) + check.carried_over_paid
        )
        book.step(
            "门诊慢特病认定",
            "由居民医保转入：年度最高支付限额扣减居民医保期内已报销的额度",
            policy.citation("registers.chronic_carry_over_on_switch") or "hunan 第六十一条",
            check.carried_over_paid,
        )
        accs = {**accs, year: seen}
    return facts, accs, ""
