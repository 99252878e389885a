"""What the personal account may pay (个人账户的使用): plain functions over the policy, the purpose and who
benefits. Policy data: ``account_use.permitted`` (purpose → beneficiaries self/family), ``account_use.prohibited``,
``account_use.family_relationships``, ``account_use.holder_payout_grounds`` (hunan 第四十三条–第四十四条,
langfang 第四十条–第四十一条, sanmenxia 第十条, ziyang 第十一条(一), xianning 细则 第十三条).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from policy.resolver import Policy

BENEFICIARY_ZH = {"self": "本人", "family": "家庭成员"}
RELATIONSHIP_ZH = {"spouse": "配偶", "parent": "父母", "child": "子女"}


@dataclass(frozen=True)
class UseVerdict:
    ok: bool
    reason: str
    citation: str


def use_verdict(policy: Policy, purpose: str, beneficiary: str, purpose_zh: str = "") -> UseVerdict:
    """May the account pay ``purpose`` for ``beneficiary`` (self | family)? Anything not listed is refused,
    a use the document forbids with that article."""
    what = purpose_zh or purpose
    permitted = policy.value("account_use.permitted") or {}
    cite = policy.citation("account_use.permitted")
    prohibited = [str(p) for p in (policy.value("account_use.prohibited", None) or [])]
    if purpose in prohibited:
        pcite = policy.citation("account_use.prohibited")
        return UseVerdict(False, f"个人账户不得用于{what}（{pcite}）", pcite)
    allowed = [str(b) for b in permitted.get(purpose) or []]
    if beneficiary in allowed:
        return UseVerdict(True, f"个人账户可支付{BENEFICIARY_ZH[beneficiary]}的{what}（{cite}）", cite)
    if allowed:
        who = "、".join(BENEFICIARY_ZH.get(b, b) for b in allowed)
        return UseVerdict(False, f"{what}只可为{who}支付，不可为{BENEFICIARY_ZH[beneficiary]}支付（{cite}）", cite)
    return UseVerdict(False, f"{what}不在个人账户支付范围内（{cite}）", cite)


def relationship_check(policy: Policy, relationship: str, *, holder_birth: date, member_birth: date) -> tuple[str, str]:
    """(refusal or "", citation): the relationship is one the document lists, and the birth dates agree."""
    key = "account_use.family_relationships"
    allowed = [str(r) for r in policy.value(key) or []]
    cite = policy.citation(key)
    if relationship not in allowed:
        listed = "、".join(RELATIONSHIP_ZH.get(r, r) for r in allowed) or "无"
        return f"可绑定的家庭成员为{listed}（{cite}）", cite
    if relationship == "parent" and member_birth >= holder_birth:
        return "父母的出生日期须早于账户持有人（按身份证号）", cite
    if relationship == "child" and member_birth <= holder_birth:
        return "子女的出生日期须晚于账户持有人（按身份证号）", cite
    return "", cite


def payout_ground_check(policy: Policy, ground: str, ground_zh: str = "") -> tuple[str, str]:
    """(refusal or "", citation): the balance may be paid to the holder on this ground."""
    key = "account_use.holder_payout_grounds"
    grounds = [str(g) for g in policy.value(key) or []]
    cite = policy.citation(key)
    if ground not in grounds:
        return f"本统筹区不得因“{ground_zh or ground}”将个人账户余额支付本人（{cite}）", cite
    return "", cite
