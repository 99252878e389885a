"""Edge cases of what the personal account may pay (funds.calculations.account_use): each refusal says which
rule refused, birth dates are compared strictly, and the calculation's defaults bind a plausible family.

hunan 第四十三条 (uses; 配偶、父母、子女), 第四十四条 (balance to the holder's bank account); xianning 细则 第十三条.
"""

from __future__ import annotations

from datetime import date

import pytest

from funds.calculations import account_use as au
from policy.calculations import InputError
from policy.resolver import Policy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

ON = date(2024, 6, 1)


def _use(**inputs):
    full = {"beneficiary": "self", "relationship": None, "holder_birth": None, "member_birth": None, **inputs}
    return au.account_use(Policy("hunan", ON), full)


def test_use_for_the_wrong_beneficiary_names_who_may_benefit():
    """hunan 第四十三条: 大病保险个人缴费 for the holder only; 居民医保个人缴费 for the family only."""
    verdict = au.use_verdict(Policy("hunan", ON), "critical_illness_premium", "family")
    assert not verdict.ok and "只可为本人支付，不可为家庭成员支付" in verdict.reason
    verdict = au.use_verdict(Policy("hunan", ON), "resident_premium", "self")
    assert not verdict.ok and "只可为家庭成员支付，不可为本人支付" in verdict.reason
    assert verdict.citation == "hunan 第四十三条"


def test_use_not_listed_is_outside_the_scope_and_a_prohibited_one_cites_its_article():
    unlisted = au.use_verdict(Policy("hunan", ON), "health_checkup", "self", "健康体检")
    assert not unlisted.ok and unlisted.reason == "健康体检不在个人账户支付范围内（hunan 第四十三条）"
    forbidden = au.use_verdict(Policy("hunan", ON), "fitness", "self", "体育健身")
    assert not forbidden.ok and forbidden.reason == "个人账户不得用于体育健身（hunan 第四十三条）"
    allowed = au.use_verdict(Policy("hunan", ON), "pharmacy", "self", "购药")
    assert allowed.ok and allowed.reason == "个人账户可支付本人的购药（hunan 第四十三条）"


@pytest.mark.parametrize(
    ("relationship", "member_birth", "refused"),
    [
        ("parent", date(1980, 5, 17), True),  # same day as the holder: not a parent
        ("parent", date(1980, 5, 16), False),
        ("child", date(1980, 5, 17), True),  # same day as the holder: not a child
        ("child", date(1980, 5, 18), False),
        ("spouse", date(1980, 5, 17), False),  # a spouse's birth date is not compared
    ],
)
def test_binding_birth_dates_compared_strictly(relationship, member_birth, refused):
    """hunan 第四十三条: 配偶、父母、子女 — a parent born before the holder, a child after."""
    refusal, cite = au.relationship_check(
        Policy("hunan", ON), relationship, holder_birth=date(1980, 5, 17), member_birth=member_birth
    )
    assert bool(refusal) is refused and cite == "hunan 第四十三条"


def test_relationship_not_listed_is_refused_with_the_list():
    refusal, _ = au.relationship_check(
        Policy("hunan", ON), "other", holder_birth=date(1980, 1, 1), member_birth=date(1990, 1, 1)
    )
    assert refusal == "可绑定的家庭成员为配偶、父母、子女（hunan 第四十三条）"


def test_family_use_without_birth_dates_binds_a_plausible_parent_or_child():
    for relationship in ("parent", "child", "spouse"):
        out = _use(purpose="pharmacy", beneficiary="family", relationship=relationship)
        assert out == {"allowed": True, "reason": "个人账户可支付家庭成员的pharmacy（hunan 第四十三条）"}
    wrong = _use(
        purpose="pharmacy",
        beneficiary="family",
        relationship="parent",
        holder_birth=date(1980, 1, 1),
        member_birth=date(2000, 1, 1),
    )
    assert wrong == {"allowed": False, "reason": "父母的出生日期须早于账户持有人（按身份证号）"}
    with pytest.raises(InputError, match="relationship"):
        _use(purpose="pharmacy", beneficiary="family")


def test_refused_use_for_family_skips_the_relationship_and_self_needs_none():
    out = _use(purpose="critical_illness_premium", beneficiary="family")  # no relationship given: refused first
    assert out["allowed"] is False and "只可为本人支付" in out["reason"]
    assert _use(purpose="pharmacy")["allowed"] is True


def test_payout_grounds_per_jurisdiction():
    """hunan 第四十四条 special circumstances only; xianning 细则 第十三条 emigration only."""
    hunan = au.account_payout(Policy("hunan", ON), {"ground": "special_circumstances"})
    assert hunan == {"allowed": True, "reason": "准予支付本人（hunan 第四十四条）"}
    refused = au.account_payout(Policy("hunan", ON), {"ground": "emigration"})
    assert refused["allowed"] is False and "hunan 第四十四条" in refused["reason"]
    assert au.account_payout(Policy("xianning", ON), {"ground": "emigration"})["allowed"] is True


def test_refusals_name_the_ground_and_an_empty_relationship_list():
    """hunan 第四十四条: the refused ground is named as given (Chinese label or code)."""
    refusal, cite = au.payout_ground_check(Policy("hunan", ON), "emigration", "出国出境定居")
    assert (
        refusal == "本统筹区不得因“出国出境定居”将个人账户余额支付本人（hunan 第四十四条）"
        and cite == "hunan 第四十四条"
    )
    assert "“emigration”" in au.payout_ground_check(Policy("hunan", ON), "emigration")[0]
    assert au.payout_ground_check(Policy("hunan", ON), "special_circumstances") == ("", "hunan 第四十四条")
    nobody = Policy("hunan", ON, params={"account_use.family_relationships": []})
    refusal, _ = au.relationship_check(nobody, "spouse", holder_birth=date(1980, 1, 1), member_birth=date(1980, 1, 1))
    assert refusal.startswith("可绑定的家庭成员为无")
