"""What the personal account may pay (个人账户的使用): plain functions over the policy, the purpose and who
benefits. Policy data: ``account_use.permitted`` (purpose → beneficiaries self/family), ``account_use.prohibited``,
``account_use.family_relationships``, ``account_use.holder_payout_grounds`` (hunan 第四十三条–第四十四条,
langfang 第四十条–第四十一条, sanmenxia 第十条, ziyang 第十一条(一), xianning 细则 第十三条).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from policy.calculations import Field, InputError, calculation
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


PURPOSES = (
    "institution_self_pay",
    "pharmacy",
    "health_checkup",
    "resident_premium",
    "critical_illness_premium",
    "large_amount_premium",
    "long_term_care_premium",
    "supplementary_premium",
    "own_basic_premium",
    "public_health",
    "fitness",
    "wellness",
    "cosmetics",
    "supplements",
    "food",
    "fitness_equipment",
    "crafts",
    "appliances",
    "cash",
    "other",
)


@calculation(
    "account_use",
    inputs={
        "purpose": Field("str", choices=PURPOSES),
        "beneficiary": Field("str", default="self", choices=("self", "family")),
        "relationship": Field("str", default=None, choices=("spouse", "parent", "child", "other")),
        "holder_birth": Field("date", default=None),
        "member_birth": Field("date", default=None),
    },
    outputs={"allowed": "bool", "reason": "str"},
)
def account_use(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """个人账户可否支付：用途与受益人（本人 / 已绑定的家庭成员及其关系）按本统筹区文件判定。"""
    verdict = use_verdict(policy, inputs["purpose"], inputs["beneficiary"])
    if not verdict.ok or inputs["beneficiary"] != "family":
        return {"allowed": verdict.ok, "reason": verdict.reason}
    if inputs["relationship"] is None:
        raise InputError("家庭成员须给出 relationship（spouse / parent / child）")
    holder = inputs["holder_birth"] or date(1980, 1, 1)
    member = inputs["member_birth"] or (date(1950, 1, 1) if inputs["relationship"] == "parent" else date(2010, 1, 1))
    refusal, _ = relationship_check(policy, inputs["relationship"], holder_birth=holder, member_birth=member)
    return {"allowed": not refusal, "reason": refusal or verdict.reason}


@calculation(
    "account_payout",
    inputs={"ground": Field("str", choices=("special_circumstances", "emigration", "other"))},
    outputs={"allowed": "bool", "reason": "str"},
)
def account_payout(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """个人账户余额可否支付到本人银行账户（按情形）。"""
    refusal, cite = payout_ground_check(policy, inputs["ground"])
    return {"allowed": not refusal, "reason": refusal or f"准予支付本人（{cite}）"}
