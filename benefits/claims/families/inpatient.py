"""住院 (med_type 21, care counted as inpatient, ziyang's class-1 special disease 视同住院): the pool by year
part (a cross-year stay split with one deductible, D-X15; a transfer as the same stay), then the layers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from benefits.calculations._common import ZERO, Step, benefit_year_end, fmt
from benefits.calculations.inpatient import InpatientFacts, InpatientResult, settle_inpatient
from policy.calculations import InputError
from policy.resolver import Policy

from ..facts import ClaimFacts, PersonFacts
from .base import Acc, Book, Parts, acc_of, cap_paid, opt, policy_for, pool_part
from .layers import above_cap, pay_layer, pay_supplementary


@dataclass
class _Stay:
    """One stay being settled: the claim and person, where its steps and parts go, the deductible it bore."""

    facts: ClaimFacts
    person: PersonFacts
    book: Book
    parts: Parts
    special_disease_class: int | None
    no_deductible: str  # 视同住院、不设起付线: the wording of the step; "" for a stay
    paid_this_stay: Decimal  # deductible borne in the whole stay so far


def pay_inpatient(
    facts: ClaimFacts,
    person: PersonFacts,
    accs: Mapping[int, Acc],
    amount: Decimal,
    book: Book,
    parts: Parts,
    *,
    special_disease_class: int | None = None,
    no_deductible: str = "",
) -> None:
    """住院 (or 视同住院): the pool by year part, then the layer above it."""
    segments = _year_parts(facts, amount, book)
    _check_continued_stay(facts)
    paid = facts.transfer_deductible if facts.transfer else ZERO
    if no_deductible:
        paid = amount  # 视同住院、不设起付线: nothing left of any deductible
    stay = _Stay(facts, person, book, parts, special_disease_class, no_deductible, paid)
    for i, (year, on, part_amount) in enumerate(segments):
        policy = policy_for(facts, on)
        acc = acc_of(accs, year)
        result = _settle_part(stay, policy, acc, i, part_amount)
        stage = f"住院统筹（{year} 年）" if len(segments) > 1 else "住院统筹"
        _part_steps(stay, i, stage, result)
        if result.not_counted:
            # Not counted as inpatient (the table's conditions not met): refused with the reason; the
            # costs may be claimed under the outpatient rules (langfang 第四十七条(一)1).
            parts.refusal = f"{result.not_counted}；可按门诊规定另行申请"
            return
        _book_part(stay, policy, acc, year, i, stage, part_amount, result)


def _year_parts(facts: ClaimFacts, amount: Decimal, book: Book) -> list[tuple[int, date, Decimal]]:
    """(year, policy day, amount) of each year's part: a stay spanning two benefit years is split (D-X15) at
    the end of the admission's benefit year (``claims.benefit_year``)."""
    if facts.start.year == facts.end.year:
        return [(facts.end.year, facts.end, amount)]
    if facts.end.year - facts.start.year > 1:
        raise InputError("住院跨越两个以上年度：请分段录入")
    if facts.first_year_amount is None or not ZERO <= facts.first_year_amount <= amount:
        raise InputError("跨年度住院须录入入院年度的政策范围金额（0 ≤ 金额 ≤ 符合政策范围金额；D-X15）")
    segments = [
        (facts.start.year, benefit_year_end(policy_for(facts, facts.start), facts.start.year), facts.first_year_amount),
        (facts.end.year, facts.end, amount - facts.first_year_amount),
    ]
    book.step(
        "住院",
        f"跨年度住院按年度拆分：{facts.start.year} 年 {fmt(segments[0][2])} 元，"
        f"{facts.end.year} 年 {fmt(segments[1][2])} 元，只计算一次起付标准",
        "langfang 第四十七条(五), D-X15",
    )
    return segments


def _check_continued_stay(facts: ClaimFacts) -> None:
    if facts.transfer and not facts.continued_stay:
        raise InputError("转院（同一次连续住院）须选择连续住院类型：向上转诊、向下转诊或跨年度住院的次年部分")
    if facts.continued_stay and not facts.transfer:
        raise InputError("连续住院类型只用于有“转院前住院”的申请（跨年度住院在同一申请内按年度拆分）")


def _admission_number(stay: _Stay, policy: Policy, acc: Acc, i: int) -> int:
    """The admission's number this year (all levels, or the same level where the repeat rule says so)."""
    facts, level = stay.facts, stay.facts.hospital_level
    same_level = bool(policy.value("inpatient.repeat_counts_same_level_only"))
    count = acc.by_level.get(level, 0) if same_level else int(acc.get("inpatient_admissions"))
    if i == 0 and not facts.transfer:
        return count + 1
    if i == 0 and same_level and facts.transfer_level != level:
        return count + 1  # the earlier part of the stay was at another level
    return max(count, 1)


def _settle_part(stay: _Stay, policy: Policy, acc: Acc, i: int, amount: Decimal) -> InpatientResult:
    """One year's part through :func:`settle_inpatient`, with every fact the rule reads."""
    facts, person = stay.facts, stay.person
    # The part continuing an earlier one: the transfer (first part), the second year of a stay (D-X15).
    continued = (facts.continued_stay or None) if i == 0 else "cross_year"
    if stay.no_deductible:
        continued = None
    return settle_inpatient(
        policy,
        InpatientFacts(
            hospital_level=facts.hospital_level,
            policy_amount=amount,
            person_type=person.person_type,
            age=person.age_on(facts.start),
            tcm=facts.tcm,
            location=facts.location,
            admission_number=_admission_number(stay, policy, acc, i),
            deductibles_this_year=acc.get("inpatient_deductibles"),
            pool_paid_this_year=cap_paid(policy, acc),
            special_disease_class=stay.special_disease_class,
            deductible_paid_this_stay=stay.paid_this_stay,
            continued_stay=continued,
            honoured_group=facts.honoured_group,
            disabled_soldier_grade=facts.disabled_soldier_grade,
            out_of_province=facts.out_of_province,
            aids=facts.aids,
            designated=not facts.non_designated,
            emergency_rescue=facts.emergency_rescue,
            external_service=opt(facts.external_service),
            external_service_filed=facts.external_service_filed,
            high_value_drug=opt(facts.high_value_drug),
            excluded_cause=opt(facts.excluded_cause),
            third_party_unpaid=facts.third_party_unpaid,
            tier=opt(facts.tier),
            **_counted_facts(facts),
        ),
    )


def _part_steps(stay: _Stay, i: int, stage: str, result: InpatientResult) -> None:
    """The part's steps: a transfer says it is the same stay; 视同住院 says why no deductible is borne."""
    if stay.facts.transfer and i == 0:
        stay.book.step(
            stage,
            "转院：与转出医院的住院为同一次连续住院，不计新的住院次数",
            "hunan 第三十六条 D-H6；langfang 第四十七条(一)1 D-L20；ziyang 第十八条(一)6 D-Z12",
        )
    steps = result.steps
    if stay.no_deductible:
        steps = [
            Step(stay.no_deductible, s.citation, s.amount)
            if s.description.startswith("同一次连续住院已负担起付标准")
            else s
            for s in steps
        ]
    stay.book.add(stage, steps)


def _book_part(
    stay: _Stay, policy: Policy, acc: Acc, year: int, i: int, stage: str, amount: Decimal, result: InpatientResult
) -> None:
    """The part's pool result into the parts and the year's accumulator, then the layers above it."""
    facts, book, parts = stay.facts, stay.book, stay.parts
    parts.third_party_advance = parts.third_party_advance or result.third_party_advance
    stay.paid_this_stay += result.deductible
    pool_part(parts, amount, result.deductible, result.pool_pay)
    book.delta(year, "inpatient_deductibles", result.deductible)
    book.delta(year, "inpatient_pool_paid", result.pool_pay)
    if i == 0 and not facts.transfer:  # a new admission
        book.delta(year, "inpatient_admissions", 1)
        book.delta(year, "admissions_by_level", {facts.hospital_level: 1})
    if not result.ratio:
        # 不予支付 (excluded cause, non-designated, unfiled 外检外购): no layer above a pool that paid nothing.
        book.step(stage, "统筹基金不予支付的费用，不计入大病/大额及补充医疗保险", "")
        return
    above = above_cap(amount, result.deductible, result.ratio, result.pool_pay)
    layer_pay = pay_layer(facts, policy, acc, year, result.self_pay, above, result.pool_pay, book, parts)
    if facts.supplementary_insured:
        pay_supplementary(facts, policy, acc, year, result.self_pay, result.deductible, layer_pay, book, parts)


def _counted_facts(facts: ClaimFacts) -> dict[str, Any]:
    """The ``counted_as_inpatient`` inputs of :func:`settle_inpatient` (none when the care is a stay)."""
    if not facts.counted_as_inpatient:
        return {}
    return {
        "counted_as_inpatient": facts.counted_as_inpatient,
        "dates_continuous": facts.dates_continuous,
        "died_in_rescue": facts.died_in_rescue,
        "days_before_admission": facts.days_before_admission,
        "same_hospital": facts.same_hospital,
        "observation_days": facts.observation_days,
    }
