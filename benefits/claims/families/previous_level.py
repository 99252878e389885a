"""原档次待遇 (ziyang 第十四条; D-Z10): a claim in the window settled at the previous scheme's values.

A person with less than 2 years of prior cover who switches from resident to employee insurance with a gap
of at most 3 months "缴费当月起6个月内享受原档次待遇". The eligibility timeline marks those days covered at the
previous scheme's level (``benefit_level`` ``previous_scheme``); a claim in them is settled here, never at
employee values. The employee document gives no resident-level values: ``claims.previous_level_values``
(by medical type: deductible, ratio, annual cap) is staff-entered, and until it is the claim names the
missing value (D-X16).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from benefits.calculations._common import ZERO, fmt
from policy.resolver import PolicyMissing

from ..facts import ClaimFacts
from .base import POOL_FIELDS, Acc, Book, Parts, acc_of, policy_for, pool_part

KEY = "claims.previous_level_values"
BENEFIT_OF = {"11": "outpatient", "14": "special_disease", "21": "inpatient"}


def pay_previous_level(
    facts: ClaimFacts, accs: Mapping[int, Acc], amount: Decimal, book: Book, parts: Parts, *, citation: str
) -> None:
    """Deductible, ratio and annual cap of the previous scheme for this medical type (pool = (amount −
    deductible) × ratio, at most the cap less what the pool paid under this benefit this year)."""
    year = facts.end.year
    policy = policy_for(facts, facts.end)
    table = policy.value(KEY)
    row = (table or {}).get(facts.med_type) if isinstance(table, Mapping) else None
    if row is None:
        raise PolicyMissing(facts.jurisdiction, f"{KEY}.{facts.med_type}", facts.end, label="原档次待遇的结算参数")
    cite = policy.citation(KEY)
    deductible = min(Decimal(row.get("deductible") or 0), amount)
    ratio = Decimal(row["ratio_pct"]) / 100
    pool = (amount - deductible) * ratio
    field = POOL_FIELDS[BENEFIT_OF.get(facts.med_type, "inpatient")]
    cap = row.get("annual_cap")
    if cap is not None:
        room = max(Decimal(cap) - Decimal(acc_of(accs, year).get(field)), ZERO)
        pool = min(pool, room)
    book.step(
        "原档次待遇",
        f"缴费当月起享受原档次（居民医保）待遇期间：起付标准 {fmt(deductible)} 元，支付比例 {fmt(ratio * 100)}%"
        + (f"，年度限额 {fmt(Decimal(cap))} 元" if cap is not None else ""),
        f"{citation}；{cite}",
        pool,
    )
    pool_part(parts, amount, deductible, pool)
    book.delta(year, field, pool)
