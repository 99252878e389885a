"""诊察费 paid apart from the outpatient visit (langfang 第四十八条, 第四十九条(二)).

Public hospitals that removed the drug mark-up: the outpatient 诊察费 is in the pool's pay scope, "报销标准按有关
规定执行" — the percentage is staff-entered (``claims.consultation_fee_pay_pct``; without it the claim stops on
the missing value) — and "门诊诊察费报销费用不记入门诊统筹支付限额": it is paid outside the outpatient cap and
the outpatient deductible, and not added to the year's outpatient pool accumulator.
"""

from __future__ import annotations

from decimal import Decimal

from benefits.calculations._common import ZERO, cite, fmt
from policy.calculations import money

from ..facts import ClaimFacts
from ..items import consultation_outside_cap
from .base import Book, Parts, policy_for, pool_part


def pay_consultation_apart(facts: ClaimFacts, amount: Decimal, book: Book, parts: Parts) -> Decimal:
    """Pay the 诊察费 lines outside the outpatient cap; returns the amount taken out of the visit (0: none)."""
    policy = policy_for(facts, facts.end)
    fee = min(consultation_outside_cap(policy, facts.items), amount)
    if not fee:
        return ZERO
    pct = policy.decimal("claims.consultation_fee_pay_pct")
    pool = money(fee * pct / 100)
    pool_part(parts, fee, ZERO, pool)
    book.step(
        "门诊诊察费",
        f"诊察费 {fmt(fee)} 元另行报销 {fmt(pct)}%，不记入门诊统筹支付限额",
        cite(policy, "claims.consultation_fee", "claims.consultation_fee_pay_pct"),
        pool,
    )
    return fee
