"""hunan's remaining status rules (issue #14 item 6): 第三十条 deemed years lost by persons expelled or
sentenced; 第三十一条 where a person retires. Rule functions at their edges, then the register and the
retirement clearance that use them.

Figures by hand (hunan 第二十六条, 第二十七条, 第二十八条, 第三十条):
* a woman cadre born 1969-05-10 retires at 55 on 2024-05-10, needs 300 cumulative and 120 local months;
  200 deemed + 12 paid. Expelled: deemed no longer count → 12 cumulative, shortfall max(300 − 12, 120 − 12)
  = 288; lump sum 缴费基准值 6000 × (8% + 2%) × 288 = 172 800.00 (第二十八条).
* 第三十一条（二）: the same woman with her span in 暂停参保 status retires as a flexible worker: 第二十九条
  base 60% of 6000 = 3600 × employer rate 8% × 288 = 82 944.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from contributions.calculations.payment_years import count_payment_months, deemed_lost
from contributions.calculations.retirement_place import (
    PlaceUndecided,
    longest_place,
    place_rule,
    retirement_place,
)
from contributions.retirement import services
from contributions.retirement.models import RetirementClearanceCase
from contributions.selectors import months_by_kind, payment_years
from enrollment import services as enrol
from enrollment.models import EnrolmentSpan, LifeEvent
from policy.calculations import InputError
from policy.resolver import Policy, PolicyError
from tests.test_retirement_clearance_cases import employee, paid_months, stat

pytestmark = pytest.mark.django_db

ON = date(2024, 6, 1)


# --- 第三十条: the rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["expulsion", "conviction", "imprisonment"])
def test_each_listed_event_loses_the_deemed_years_in_hunan(kind: str) -> None:
    policy = Policy("hunan", ON)
    reason = deemed_lost(policy, kind)
    assert reason is not None and "hunan 第三十条" in reason
    counted = count_payment_months(policy, deemed_lost_by=kind, deemed_months=200, local_months=130)
    assert counted.cumulative == D(130) and counted.local == D(130)
    [(label, months)] = [(k, v) for k, v in counted.parts.items() if "不再计入" in k]
    assert "200个月" in label and months == 0


def test_no_event_keeps_the_deemed_years() -> None:
    policy = Policy("hunan", ON)
    assert deemed_lost(policy, None) is None and deemed_lost(policy, "") is None
    assert count_payment_months(policy, deemed_months=200, local_months=130).cumulative == D(330)
    assert count_payment_months(policy, deemed_lost_by="", deemed_months=1, local_months=0).cumulative == D(1)


def test_loss_touches_only_the_pre_2003_service() -> None:
    """外省转入 (作为视同, 第二十六条) and 军龄 are not 2003年1月1日以前的连续工龄: they still count."""
    counted = count_payment_months(
        Policy("hunan", ON),
        deemed_lost_by="conviction",
        deemed_months=150,
        local_months=100,
        other_region_months=60,
        military_months=36,
    )
    assert counted.cumulative == D(196) and counted.local == D(100)


def test_without_deemed_months_nothing_is_said() -> None:
    counted = count_payment_months(Policy("hunan", ON), deemed_lost_by="expulsion", local_months=100)
    assert counted.cumulative == D(100) and not any("不再计入" in k for k in counted.parts)


@pytest.mark.parametrize("code", ["langfang", "sanmenxia"])
def test_documents_without_the_rule_keep_the_deemed_years(code: str) -> None:
    """langfang 第二十九条: after release the earlier years link up; sanmenxia is silent — nothing lost."""
    policy = Policy(code, ON)
    assert deemed_lost(policy, "imprisonment") is None


def test_unknown_event_is_an_input_error() -> None:
    with pytest.raises(InputError):
        deemed_lost(Policy("hunan", ON), "divorce")


# --- 第三十条: the register and the counts ------------------------------------------------------------------


def _expelled(on: date):
    person, employer = employee("hunan", "430102", 31, date(1970, 3, 3), male=True, deemed=200, hired=date(2020, 1, 1))
    paid_months(person, employer, date(2020, 1, 1), 24)
    enrol.life_event_record(person=person, kind="expulsion", occurred_on=on, jurisdiction="hunan", employer=employer)
    return person


def test_expulsion_is_recorded_and_counts_from_its_day() -> None:
    person = _expelled(date(2024, 3, 15))
    assert LifeEvent.objects.filter(person=person, kind="expulsion").count() == 1
    # the event records the fact only: the span stays (a separation is its own event)
    assert EnrolmentSpan.objects.get(person=person).end is None
    eve = months_by_kind([person.pk], date(2024, 3, 14))[person.pk]
    day = months_by_kind([person.pk], date(2024, 3, 15))[person.pk]
    assert "deemed_lost_by" not in eve and day["deemed_lost_by"] == "expulsion"
    assert payment_years(person, date(2024, 3, 14)).counted.cumulative == D(224)
    years = payment_years(person, date(2024, 3, 15))
    assert years.counted.cumulative == D(24) and years.deemed_lost_by == "expulsion"
    assert payment_years(person, date(2024, 3, 16)).counted.cumulative == D(24)


def test_the_earliest_loss_event_is_the_one_named() -> None:
    person = _expelled(date(2024, 3, 15))
    enrol.life_event_record(person=person, kind="conviction", occurred_on=date(2024, 1, 5), jurisdiction="hunan")
    assert months_by_kind([person.pk], ON)[person.pk]["deemed_lost_by"] == "conviction"


def test_clearance_of_an_expelled_person_counts_actual_years_only() -> None:
    stat("hunan", 6000, date(2024, 1, 1))
    cadre, emp = employee(
        "hunan", "430102", 32, date(1969, 5, 10), male=False, role="cadre", deemed=200, hired=date(2023, 5, 1)
    )
    paid_months(cadre, emp, date(2023, 5, 1), 12)
    enrol.life_event_record(person=cadre, kind="expulsion", occurred_on=date(2024, 5, 9), jurisdiction="hunan")
    services.clearance_scan(date(2024, 5, 10), lo=0, hi=10**9)
    case = RetirementClearanceCase.objects.get(person=cadre)
    assert case.deemed_months == 0 and case.cumulative_months == 12 and case.local_months == 12
    assert case.shortfall_months == 288 and case.lump_sum == D("172800.00")
    assert "被单位开除" in str(case.facts)


# --- 第三十一条: the rule ---------------------------------------------------------------------------------------


def test_normal_status_retires_where_currently_insured() -> None:
    decision = retirement_place(
        Policy("hunan", ON), status="normal", current_place="hunan", months_by_place={"hunan": D(0)}
    )
    assert decision.place == "hunan" and not decision.as_flexible
    assert "hunan 第三十一条（一）" in decision.reason


def test_suspended_status_retires_in_the_longest_place_as_flexible() -> None:
    decision = retirement_place(
        Policy("hunan", ON),
        status="suspended",
        current_place="changsha",
        months_by_place={"changsha": D(119), "zhuzhou": D(120), "xiangtan": D(0)},
    )
    assert decision.place == "zhuzhou" and decision.as_flexible
    assert "120" in decision.reason and "hunan 第三十一条（二）" in decision.reason


def test_longest_place_edges() -> None:
    assert longest_place({"a": D(1)}) == "a"
    assert longest_place({"a": D("120.5"), "b": D(120)}) == "a"
    with pytest.raises(PlaceUndecided, match="同为 120"):
        longest_place({"a": D(120), "b": D(120), "c": D(3)})
    with pytest.raises(PlaceUndecided, match="没有实际缴费记录"):
        longest_place({"a": D(0)})
    with pytest.raises(PlaceUndecided):
        longest_place({})
    with pytest.raises(InputError, match="负数"):
        longest_place({"a": D(-1), "b": D(5)})


def test_no_rule_no_decision_and_bad_status() -> None:
    assert place_rule(Policy("langfang", ON)) is None
    assert retirement_place(Policy("langfang", ON), status="suspended", current_place="x", months_by_place={}) is None
    with pytest.raises(InputError, match="参保状态"):
        retirement_place(Policy("hunan", ON), status="retired", current_place="hunan", months_by_place={"hunan": D(9)})
    with pytest.raises(PolicyError, match="未知取值"):
        place_rule(Policy("hunan", ON, params={"retirement.place_rule": "wherever"}))


# --- 第三十一条 in the clearance --------------------------------------------------------------------------------


@pytest.fixture
def cadre_2024():
    stat("hunan", 6000, date(2024, 1, 1))
    cadre, emp = employee(
        "hunan", "430102", 33, date(1969, 5, 10), male=False, role="cadre", deemed=0, hired=date(2023, 5, 1)
    )
    paid_months(cadre, emp, date(2023, 5, 1), 12)
    return cadre, emp


def test_normal_status_case_is_cleared_as_employee_where_insured(cadre_2024) -> None:
    cadre, _ = cadre_2024
    services.clearance_scan(date(2024, 5, 10), lo=0, hi=10**9)
    case = RetirementClearanceCase.objects.get(person=cadre)
    assert case.status_at_retirement == "normal" and case.category == "employee"
    assert "第三十一条（一）" in case.place_basis
    assert case.shortfall_months == 288 and case.lump_sum == D("172800.00")


def test_suspended_span_is_cleared_as_flexible_worker(cadre_2024) -> None:
    cadre, _ = cadre_2024
    EnrolmentSpan.objects.filter(person=cadre).update(status="2")  # 暂停参保
    services.clearance_scan(date(2024, 5, 10), lo=0, hi=10**9)
    case = RetirementClearanceCase.objects.get(person=cadre)
    assert case.status_at_retirement == "suspended" and case.category == "flexible"
    assert "第三十一条（二）" in case.place_basis and "灵活就业人员" in case.place_basis
    # 第二十九条: 60% of 6000 × employer rate 8% × 288
    assert case.shortfall_months == 288 and case.lump_sum == D("82944.00")
    # the nightly recomputation keeps the decision
    assert services.pending_recompute(date(2024, 5, 11), lo=0, hi=10**9)["clearance.updated"] == 0


def test_contributions_stopped_before_retirement_open_a_flexible_case(cadre_2024) -> None:
    cadre, _ = cadre_2024
    enrol.life_event_record(person=cadre, kind="separation", occurred_on=date(2024, 5, 1), jurisdiction="hunan")
    case = services.case_open(
        person=cadre, reason="pension_approved", retire_on=date(2024, 5, 10), opened_on=date(2024, 5, 12)
    )
    assert case.status_at_retirement == "suspended" and case.category == "flexible"
    assert case.jurisdiction.code == "hunan" and case.lump_sum == D("82944.00")


def test_no_rule_elsewhere_keeps_the_old_refusal() -> None:
    stat("langfang", 7000, date(2024, 1, 1))
    man, _ = employee("langfang", "131002", 34, date(1964, 9, 1), male=True, hired=date(2019, 1, 1))
    enrol.life_event_record(person=man, kind="separation", occurred_on=date(2024, 5, 1), jurisdiction="langfang")
    with pytest.raises(ValidationError, match="没有在职参保关系"):
        services.case_open(
            person=man, reason="pension_approved", retire_on=date(2024, 9, 30), opened_on=date(2024, 10, 8)
        )
