"""住院审核规则 — checks of an inpatient claim against the rules for designated hospitals, with their articles.

Each check is a plain function over the claim's audit facts (:class:`AuditFacts`, as the hospital's file or
the case worker states them) and the policy in force, and yields a :class:`Finding` (the check, the reason, the
article, and the action the policy gives: ``refuse`` 不予支付 or ``review`` 转经办人员复核). The values (48 hours,
3 working days, 7 / 15 days) and the actions are policy data (``audit.*``; langfang 第六十条, 第六十二条–第六十四条);
a jurisdiction whose document sets no such rule has ``null`` and the check is not made. A fact not given
(None) is not checked. :func:`audit_claim` runs every check in order; the claims read it through
:mod:`benefits.claims.registers` at adjudication.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from policy.resolver import Policy

ACTIONS_ZH = {"refuse": "不予支付", "review": "转经办人员复核"}
CHECK_ZH = {
    "identity_check": "参保身份核实",
    "admission_registration_hours": "入院登记时限",
    "injury_registration_working_days": "外伤登记时限",
    "unrecorded_costs": "病历无记录的费用",
    "bed_hanging": "挂床住院",
    "discharge_drug_days": "出院带药量",
}


@dataclass(frozen=True)
class AuditFacts:
    """What the audit checks read; None: not stated (the check is not made)."""

    identity_verified: bool | None = None
    admission_registered_hours: int | None = None
    injury: bool = False
    injury_registered_on: date | None = None
    costs_unrecorded: bool | None = None
    bed_hanging: bool | None = None
    discharge_drug_days: int | None = None
    chronic_condition: bool = False
    review_cleared: bool = False  # a case worker reviewed the flags and cleared them


@dataclass(frozen=True)
class Finding:
    """One check's outcome: ``ok`` False when the claim breaks the rule (then ``action`` applies)."""

    check: str
    ok: bool
    reason: str
    citation: str
    action: str = ""


def working_days_after(start: date, end: date) -> int:
    """Working days (Monday–Friday) after ``start`` up to and including ``end`` (0 when ``end`` ≤ ``start``)."""
    days, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days += 1
    return days


def _rule(policy: Policy, key: str) -> tuple[dict[str, Any] | None, str]:
    value = policy.value(key)
    return value, policy.citation(key) if value is not None else ""


def _finding(check: str, ok: bool, reason: str, rule: dict[str, Any], citation: str) -> Finding:
    return Finding(check, ok, reason, citation, "" if ok else str(rule["action"]))


def check_identity(policy: Policy, facts: AuditFacts, admitted: date) -> Finding | None:
    """langfang 第六十条: the hospital verifies the patient's insured identity on admission (冒名住院)."""
    rule, cite = _rule(policy, "audit.identity_check")
    if rule is None or facts.identity_verified is None:
        return None
    ok = facts.identity_verified
    return _finding(
        "identity_check", ok, "入院时已核实参保身份" if ok else "入院时未核实参保身份（疑似冒名住院）", rule, cite
    )


def check_admission_registration(policy: Policy, facts: AuditFacts, admitted: date) -> Finding | None:
    """langfang 第六十条: the 医疗保险入院登记 within ``hours`` of admission."""
    rule, cite = _rule(policy, "audit.admission_registration_hours")
    if rule is None or facts.admission_registered_hours is None:
        return None
    limit = Decimal(rule["hours"])
    ok = facts.admission_registered_hours <= limit
    return _finding(
        "admission_registration_hours",
        ok,
        f"入院后 {facts.admission_registered_hours} 小时办理医疗保险入院登记（时限 {limit} 小时"
        + ("以内）" if ok else "，已超时）"),
        rule,
        cite,
    )


def check_injury_registration(policy: Policy, facts: AuditFacts, admitted: date) -> Finding | None:
    """langfang 第六十条: an admission for an injury registers the injury within ``working_days``."""
    rule, cite = _rule(policy, "audit.injury_registration_working_days")
    if rule is None or not facts.injury:
        return None
    limit = int(rule["working_days"])
    if facts.injury_registered_on is None:
        return _finding("injury_registration_working_days", False, "因外伤入院，未办理外伤登记手续", rule, cite)
    used = working_days_after(admitted, facts.injury_registered_on)
    ok = facts.injury_registered_on >= admitted and used <= limit
    return _finding(
        "injury_registration_working_days",
        ok,
        f"因外伤入院，{facts.injury_registered_on} 办理外伤登记，入院后第 {used} 个工作日（时限 {limit} 个工作日"
        + ("以内）" if ok else "，已超时）"),
        rule,
        cite,
    )


def check_unrecorded_costs(policy: Policy, facts: AuditFacts, admitted: date) -> Finding | None:
    """langfang 第六十二条: costs without a record in the medical file (or not true to it) are not paid."""
    rule, cite = _rule(policy, "audit.unrecorded_costs")
    if rule is None or facts.costs_unrecorded is None:
        return None
    ok = not facts.costs_unrecorded
    reason = "费用均有病历记录" if ok else "有住院病历无记录或记录不真实的费用，须剔除后重新申报"
    return _finding("unrecorded_costs", ok, reason, rule, cite)


def check_bed_hanging(policy: Policy, facts: AuditFacts, admitted: date) -> Finding | None:
    """langfang 第六十三条: leaving without 请销假登记 counts as 挂床住院; the related costs are refused."""
    rule, cite = _rule(policy, "audit.bed_hanging")
    if rule is None or facts.bed_hanging is None:
        return None
    ok = not facts.bed_hanging
    reason = "无挂床住院情形" if ok else "住院期间离院未办理请销假登记，视为挂床住院"
    return _finding("bed_hanging", ok, reason, rule, cite)


def check_discharge_drugs(policy: Policy, facts: AuditFacts, admitted: date) -> Finding | None:
    """langfang 第六十四条: discharge drugs at most 7 days' supply (acute) or 15 (chronic)."""
    rule, cite = _rule(policy, "audit.discharge_drug_days")
    if rule is None or facts.discharge_drug_days is None:
        return None
    kind = "chronic" if facts.chronic_condition else "acute"
    limit = int(rule[kind])
    ok = facts.discharge_drug_days <= limit
    what = "慢性病" if kind == "chronic" else "急性病"
    return _finding(
        "discharge_drug_days",
        ok,
        f"出院带药 {facts.discharge_drug_days} 日量（{what}不超过 {limit} 日量" + ("）" if ok else "，超量）"),
        rule,
        cite,
    )


CHECKS: tuple[Callable[[Policy, AuditFacts, date], Finding | None], ...] = (
    check_identity,
    check_admission_registration,
    check_injury_registration,
    check_unrecorded_costs,
    check_bed_hanging,
    check_discharge_drugs,
)


def audit_claim(policy: Policy, facts: AuditFacts, admitted: date) -> list[Finding]:
    """Every check that applies, in order (a check whose rule or fact is absent gives nothing)."""
    return [f for check in CHECKS if (f := check(policy, facts, admitted)) is not None]


def verdict(findings: list[Finding], *, review_cleared: bool = False) -> tuple[str, str]:
    """(action, reason): ``refuse`` when any failed check refuses; ``review`` when any asks for review and no
    case worker has cleared it; ("", "") otherwise. The reason names each failed check and its article."""
    failed = [f for f in findings if not f.ok]
    refused = [f for f in failed if f.action == "refuse"]
    if refused:
        return "refuse", "；".join(f"{f.reason}（{f.citation}）" for f in refused)
    review = [f for f in failed if f.action == "review"]
    if review and not review_cleared:
        return "review", "；".join(f"{f.reason}（{f.citation}）" for f in review)
    return "", ""
