"""退休地的确定 (where a person retires): hunan 第三十一条, as a plain rule over the person's facts.

第三十一条: "职工医保参保人退休地选择不与在当地按月领取基本养老金绑定":

（一）at the legal retirement age or when the pension retirement is completed the person's 职工医保 is in
     正常参保 (normal) status → the current place of insurance (当前参保地) confirms the retiree status;
（二）the person's 职工医保 is in 暂停缴费 (suspended) status → the place in the province with the longest
     actual contribution years (省内实际缴费年限最长的参保地; lump sums for missing years 不足年限一次性补缴
     included) confirms it, and the person is cleared as a flexible worker (以灵活就业人员身份办理).

The steps: :func:`place_rule` (is there such a rule in the document), :func:`longest_place` (the place with
the most actual months), :func:`retirement_place` (the decision). Where two places tie for the longest, the
document does not say which one: nothing is invented, the decision names the tie for the case worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from policy.calculations import InputError
from policy.resolver import Policy, PolicyError

PLACE_RULE = "retirement.place_rule"
RULE_CURRENT_ELSE_LONGEST = "current_if_normal_else_longest_actual"
NORMAL, SUSPENDED = "normal", "suspended"
STATUS_ZH = {NORMAL: "正常参保", SUSPENDED: "暂停缴费"}


@dataclass(frozen=True)
class RetirementPlace:
    """The decision: where (``place``, a jurisdiction code), whether as a flexible worker, and why."""

    place: str
    as_flexible: bool
    reason: str


class PlaceUndecided(InputError):
    """The facts do not decide the place (a tie, or no actual months in the province): staff decide."""


def place_rule(policy: Policy) -> str | None:
    """The document's rule (``retirement.place_rule``), or ``None`` where it has none (the case stays where
    the person is insured)."""
    rule = policy.value(PLACE_RULE, None)
    if rule is not None and rule != RULE_CURRENT_ELSE_LONGEST:
        raise PolicyError(f"{PLACE_RULE}: 未知取值 {rule!r}")
    return rule


def longest_place(months_by_place: Mapping[str, Decimal]) -> str:
    """The place with the most actual contribution months (第三十一条（二）); a tie or no months at all is
    refused with :class:`PlaceUndecided` naming the places."""
    counted = {place: Decimal(months) for place, months in months_by_place.items()}
    if any(months < 0 for months in counted.values()):
        raise InputError("实际缴费月数不能为负数。")
    best = max(counted.values(), default=Decimal(0))
    if best <= 0:
        raise PlaceUndecided("省内没有实际缴费记录，不能按实际缴费年限最长确定退休地，请经办人员核实。")
    leaders = sorted(place for place, months in counted.items() if months == best)
    if len(leaders) > 1:
        raise PlaceUndecided(
            f"{'、'.join(leaders)} 的省内实际缴费月数同为 {best}，文件未规定如何选择，请经办人员确定退休地。"
        )
    return leaders[0]


def retirement_place(
    policy: Policy, *, status: str, current_place: str, months_by_place: Mapping[str, Decimal]
) -> RetirementPlace | None:
    """退休地 of a person whose status at the legal age (or the pension's completion) is ``status``
    (``normal`` 正常参保 / ``suspended`` 暂停缴费), insured last at ``current_place``, with the actual months
    (lump sums included) per place in the province ``months_by_place``. ``None``: the document has no rule."""
    if status not in STATUS_ZH:
        raise InputError(f"参保状态 {status!r} 不在可选值 {', '.join(STATUS_ZH)} 中")
    if place_rule(policy) is None:
        return None
    cite = policy.citation(PLACE_RULE)
    if status == NORMAL:
        return RetirementPlace(current_place, False, f"退休时职工医保为正常参保状态，由当前参保地办理（{cite}（一））")
    place = longest_place(months_by_place)
    months = Decimal(months_by_place[place])
    return RetirementPlace(
        place,
        True,
        f"退休时职工医保为暂停缴费状态，在省内实际缴费年限最长的参保地（{months} 个月）"
        f"以灵活就业人员身份办理（{cite}（二））",
    )
