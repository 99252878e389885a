"""The claim and the registers: 两定机构 on the service date, and the inpatient audit checks.

- :func:`with_register` — a claim naming its institution (``Claim.institution``, the settlement file's
  ``fixmedins_code``) takes level, TCM, tier and location from the register row in force on the service
  date (the first day of care), by :func:`benefits.institutions.rules.institution_on`; a claim without an
  institution keeps its facts as entered (scenario files and older claims state the level directly).
- :func:`institution_gate` — step 定点医药机构 of :func:`benefits.claims.adjudication.decide`: the claim is
  refused, citing ``institutions.agreement_required``, when no 服务协议 was in force on that date; care in
  an emergency (``emergency_rescue``) is settled as at a non-designated institution (``non_designated``),
  where the benefit rules decide (hunan 第四十条).
- :func:`audit_gate` — step 住院审核 (住院 and care counted as inpatient): the checks of
  :mod:`benefits.institutions.audit`; a refusing check refuses the claim with its article, a reviewing one
  sends it to the case workers' queue (status 待复核) with the reason, until a case worker clears it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from benefits.calculations._common import HOSPITAL_TIER_ZH, LEVEL_ZH, LOCATION_ZH
from benefits.institutions.audit import ACTIONS_ZH, CHECK_ZH, audit_claim, verdict
from benefits.institutions.rules import AREA_ZH, RegisterFacts, institution_on, location_for
from policy.calculations import InputError

from .facts import ClaimFacts
from .families.base import Book, policy_for


def with_register(facts: ClaimFacts, register: RegisterFacts, *, on: date | None = None) -> ClaimFacts:
    """The facts with level, TCM, tier and location from the register on the service date."""
    day = on or facts.start
    found = institution_on(register, day)
    rating = found.rating
    if rating is None:
        raise InputError(
            f"定点医药机构 {register.code} {register.name} 在 {day} 没有等级登记：请先在两定机构登记中录入"
        )
    location = location_for(rating.area, facts.location)
    if rating.area == "outside_province" and location in ("local", "in_province"):
        raise InputError(
            f"定点医药机构 {register.code} 位于省外：就医地点须为异地就医类别（转诊、急诊抢救、已备案或未备案），"
            f"不能为“{LOCATION_ZH[location]}”"
        )
    return replace(
        facts,
        institution=found,
        hospital_level=rating.hospital_level,
        tcm=rating.tcm,
        tier=rating.tier,
        location=location,
        out_of_province=facts.out_of_province or rating.area == "outside_province",
        non_designated=facts.non_designated or (not found.designated and facts.emergency_rescue),
    )


def institution_gate(facts: ClaimFacts, book: Book) -> str:
    """定点医药机构: the register's reading as a step; the refusal reason when no agreement was in force."""
    found = facts.institution
    if found is None:
        return ""
    rating = found.rating
    assert rating is not None  # with_register refuses a claim without a rating on the day
    attrs = [LEVEL_ZH.get(rating.hospital_level, rating.hospital_level)]
    if rating.tcm:
        attrs.append("中医医院")
    if rating.tier:
        attrs.append(HOSPITAL_TIER_ZH[rating.tier])
    attrs.append(AREA_ZH.get(rating.area, rating.area))
    book.step("定点医药机构", f"{found.code} {found.name}：{found.day} 登记为{'、'.join(attrs)}（两定机构登记）")
    policy = policy_for(facts, found.day)
    source = (
        policy.citation("institutions.agreement_required") if policy.value("institutions.agreement_required") else ""
    )
    if found.designated:
        a = found.agreement
        book.step("定点医药机构", f"服务协议{a.number and ' ' + a.number}在就医日有效（{a.start} 起）", source)
        return ""
    if facts.emergency_rescue:
        book.step("定点医药机构", f"{found.why_not}；急诊抢救，按非定点医疗机构就医的规定结算", source)
        return ""
    if not source:
        return ""
    reason = f"{found.code} {found.name} 在就医日 {found.day} 不是定点医药机构：{found.why_not}，不予支付（{source}）"
    book.step("定点医药机构", reason, source)
    return reason


def audit_gate(facts: ClaimFacts, book: Book) -> tuple[str, str]:
    """住院审核: (``refuse``/``review``/"", reason). Only for 住院 and care counted as inpatient."""
    if facts.audit is None or not (facts.med_type == "21" or facts.counted_as_inpatient):
        return "", ""
    policy = policy_for(facts, facts.end)
    findings = audit_claim(policy, facts.audit, facts.start)
    for f in findings:
        outcome = "符合" if f.ok else ACTIONS_ZH[f.action]
        book.step("住院审核", f"{CHECK_ZH[f.check]}：{f.reason} — {outcome}", f.citation)
    action, reason = verdict(findings, review_cleared=facts.audit.review_cleared)
    if not action and facts.audit.review_cleared and any(not f.ok for f in findings):
        book.step("住院审核", "经办人员已复核，准予按规定结算", "")
    return action, reason
