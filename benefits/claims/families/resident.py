"""城乡居民基本医疗保险 (险种 390): a resident's claim settled by the resident rules, kept apart from the employee
figures (sanmenxia 第三十二条–第三十八条; :mod:`benefits.calculations.resident`).

The family is chosen by the person's scheme on the first day of care (the enrolment span in force,
``PersonFacts.insutype``), by ziyang's 原档次待遇 where resident values exist (第十四条), and by hunan's
第六十条 for costs in the employee waiting period of a person who had this year's resident cover. By medical
type: 21 住院 (the institution's tier from the 两定机构 register; 省外 where the register says the institution is
outside the province), 11 门诊统筹 (单独核算, outside the annual cap), 14 门诊重症慢性病 / 重特大疾病, 52 住院分娩.
The year's resident accumulators: ``resident_pool_paid`` (the amounts the annual cap counts),
``resident_chronic_paid``, ``resident_outpatient_*``; stays at 县级以上 hospitals are counted in
``admissions_by_level`` under :data:`RESIDENT_ADMISSIONS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from benefits.calculations.resident import (
    RESIDENT_TIERS,
    ResidentResult,
    ResidentStayFacts,
    resident_childbirth,
    settle_resident_chronic,
    settle_resident_inpatient,
    settle_resident_major_disease,
    settle_resident_outpatient,
)
from policy.calculations import InputError

from ..facts import ClaimFacts, PersonFacts
from .base import Acc, Book, Parts, acc_of, policy_for, pool_part

#: The key of ``admissions_by_level`` counting a resident's stays at 县级以上 hospitals this year (第三十三条).
RESIDENT_ADMISSIONS = "resident_county_or_above"
RESIDENT_CHILDBIRTH_EVENTS = ("natural", "caesarean")


def resident_tier(facts: ClaimFacts) -> str:
    """医院层级 of the institution: 省外 where it is outside the province, else the register's tier."""
    if facts.out_of_province:
        return "out_of_province"
    if facts.tier in RESIDENT_TIERS:
        return facts.tier
    raise InputError("居民医保住院须选择已登记医疗机构级别（乡级/县级/市级/省级）的定点医疗机构（三门峡 第三十三条）")


def pay_resident(
    facts: ClaimFacts, person: PersonFacts, accs: Mapping[int, Acc], amount: Decimal, book: Book, parts: Parts
) -> str:
    """The resident pool by medical type; the refusal reason when nothing is payable under the resident rules."""
    year = facts.end.year
    if facts.start.year != year:
        raise InputError("居民医保跨年度住院：请按年度分段录入")
    policy = policy_for(facts, facts.end)
    acc = acc_of(accs, year)
    med = facts.med_type
    if med == "21":
        tier = resident_tier(facts)
        counted = tier in (policy.value("resident_benefits.repeat_deductible_tiers", None) or [])
        number = acc.by_level.get(RESIDENT_ADMISSIONS, 0) + 1 if counted else 1
        result = settle_resident_inpatient(
            policy,
            ResidentStayFacts(
                tier=tier,
                hospital_level=facts.hospital_level,
                policy_amount=amount,
                age=person.age_on(facts.start),
                admission_number=number,
                pool_paid_this_year=Decimal(acc.get("resident_pool_paid")),
            ),
        )
        _book(book, parts, "居民住院统筹", amount, result)
        book.delta(year, "resident_pool_paid", result.pool_pay)
        if counted:
            book.delta(year, "admissions_by_level", {RESIDENT_ADMISSIONS: 1})
        return ""
    if med == "11":
        result = settle_resident_outpatient(
            policy,
            amount_=amount,
            deductible_used=Decimal(acc.get("resident_outpatient_deductible_used")),
            pool_paid_this_year=Decimal(acc.get("resident_outpatient_paid")),
        )
        _book(book, parts, "居民门诊统筹", amount, result)
        book.delta(year, "resident_outpatient_deductible_used", result.deductible)
        book.delta(year, "resident_outpatient_paid", result.pool_pay)
        return ""
    if med == "14":
        return _special(facts, policy, acc, year, amount, book, parts)
    if med == "52" and facts.maternity_event in RESIDENT_CHILDBIRTH_EVENTS:
        result = resident_childbirth(policy, event=facts.maternity_event, actual_cost=amount)
        _book(book, parts, "居民住院分娩", amount, result)
        book.delta(year, "maternity_paid", result.pool_pay)
        return ""
    reason = "城乡居民基本医疗保险只支付住院分娩（自然分娩、剖宫产）的生育医疗费用（三门峡 第三十七条）"
    book.step("居民医保", reason, "sanmenxia 第三十七条", Decimal(0))
    return reason


def _special(facts: ClaimFacts, policy, acc: Acc, year: int, amount: Decimal, book: Book, parts: Parts) -> str:
    """14: 门诊重症慢性病 (第三十四条, the certification checked by the registers step) or 重特大疾病 (第三十五条)."""
    overall = Decimal(acc.get("resident_pool_paid"))
    if facts.special_kind == "chronic":
        result = settle_resident_chronic(
            policy, amount_=amount, paid_this_year=Decimal(acc.get("resident_chronic_paid")), overall_paid=overall
        )
        _book(book, parts, "居民门诊重症慢性病", amount, result)
        book.delta(year, "resident_chronic_paid", result.pool_pay)
    elif facts.special_kind == "major_disease":
        setting = facts.major_disease_setting or "inpatient"
        tier = facts.major_disease_tier or (resident_tier(facts) if setting == "inpatient" else None)
        result = settle_resident_major_disease(policy, tier=tier, setting=setting, amount_=amount, overall_paid=overall)
        _book(book, parts, "居民重特大疾病", amount, result)
    else:
        raise InputError(
            f"慢特病类别 {facts.special_kind!r} 不适用于城乡居民基本医疗保险（门诊重症慢性病、重特大疾病）"
        )
    book.delta(year, "resident_pool_paid", result.pool_pay)
    return ""


def _book(book: Book, parts: Parts, stage: str, amount: Decimal, result: ResidentResult) -> None:
    book.add(stage, result.steps)
    pool_part(parts, amount, result.deductible, result.pool_pay)
