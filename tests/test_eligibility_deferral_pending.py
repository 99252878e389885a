"""Issue #4 gaps: a lapsed deferral (langfang 第二十六条) and retirees never enrolled (sanmenxia 第八条).

* The rules: the timeline explains a lapsed deferral with the article; the clearance of a never-enrolled
  retiree buys 10 years or the months since 2000-10-01 on the reference wage × (7% + 1%).
* Pending cases (tests/scenarios_pending/hunan/eligibility_deferral.yaml,
  tests/scenarios_pending/sanmenxia/retirement_never_enrolled.yaml): they fail naming the jurisdiction
  and the missing key until staff enter the hypothetical value in each file's header, then pass.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from benefits.calculations.eligibility import (
    COVERED,
    SUSPENDED,
    ContributionMonth,
    eligibility_timeline,
    status_on,
)
from contributions.calculations.retirement import _months_since, clearance
from policy.calculations import InputError
from policy.resolver import Policy, PolicyMissing
from tests.policy_support import assert_pending_cases

pytestmark = pytest.mark.usefixtures("fresh_policy")

# file → (missing key, start date and the hypothetical staff value: for these tests only, not policy)
PENDING_CASES: dict[str, tuple[str, date, object]] = {
    "hunan/eligibility_deferral.yaml": ("eligibility.deferral_lapse_rule", date(2023, 1, 1), "month_after_payment"),
    "sanmenxia/retirement_never_enrolled.yaml": (
        "retirement.never_enrolled_shortfall_rule",
        date(2021, 2, 7),
        "same_terms",
    ),
}


def _langfang_deferral(paid_on: date | None, as_of: date) -> list:
    months = [ContributionMonth(date(2024, m, 1), date(2024, m, 10)) for m in (1, 2, 3)]
    months += [ContributionMonth(date(2024, m, 1), paid_on, True, date(2024, 9, 30)) for m in (4, 5, 6)]
    months += [ContributionMonth(date(2024, m, 1), date(2024, m, 10)) for m in (7, 8, 9)]
    return eligibility_timeline(Policy("langfang", as_of), category="employee", months=months, as_of=as_of)


@pytest.mark.django_db
def test_langfang_lapsed_deferral_is_suspended_from_the_day_after_with_the_article() -> None:
    timeline = _langfang_deferral(None, date(2024, 10, 20))
    assert status_on(timeline, date(2024, 9, 30)).status == COVERED
    period = status_on(timeline, date(2024, 10, 1))
    assert period.status == SUSPENDED and period.end is None
    assert "缓缴期满" in period.reason and "langfang 第二十六条" in period.citation


@pytest.mark.django_db
def test_langfang_late_make_up_of_a_deferral_restores_the_month_after_even_within_three_months() -> None:
    timeline = _langfang_deferral(date(2024, 11, 5), date(2024, 12, 10))
    period = status_on(timeline, date(2024, 11, 30))
    assert period.status == SUSPENDED and (period.start, period.end) == (date(2024, 10, 1), date(2024, 12, 1))
    assert status_on(timeline, date(2024, 12, 1)).status == COVERED
    # the same months paid within the deferral: nothing is suspended
    paid_in_time = _langfang_deferral(date(2024, 9, 30), date(2024, 12, 10))
    assert all(p.status != SUSPENDED for p in paid_in_time)


@pytest.mark.django_db
def test_deferred_until_needs_a_deferred_month() -> None:
    policy = Policy("langfang", date(2024, 6, 1))
    with pytest.raises(InputError):
        eligibility_timeline(
            policy,
            category="employee",
            months=[{"month": "2024-01", "paid_on": "2024-01-10", "deferred_until": "2024-03-31"}],
            as_of=policy.on,
        )


@pytest.mark.django_db
def test_hunan_lapsed_deferral_raises_policy_missing_but_a_running_one_does_not() -> None:
    as_of = date(2024, 7, 20)
    months = [ContributionMonth(date(2024, 1, 1), date(2024, 1, 10))]
    months += [ContributionMonth(date(2024, m, 1), None, True, date(2024, 6, 30)) for m in (2, 3, 4)]
    with pytest.raises(PolicyMissing) as exc:
        eligibility_timeline(Policy("hunan", as_of), category="employee", months=months, as_of=as_of)
    assert (exc.value.jurisdiction, exc.value.key) == ("hunan", "eligibility.deferral_lapse_rule")
    running = eligibility_timeline(
        Policy("hunan", date(2024, 6, 30)), category="employee", months=months, as_of=date(2024, 6, 30)
    )
    assert status_on(running, date(2024, 6, 30)).status == COVERED


def test_months_since_counts_a_started_month_whole() -> None:
    start = date(2000, 10, 1)
    assert _months_since(start, date(2015, 7, 1)) == 177
    assert _months_since(start, date(2015, 7, 2)) == 178
    assert _months_since(start, date(2000, 10, 1)) == 0


@pytest.mark.django_db
def test_sanmenxia_never_enrolled_clearance_goes_by_retirement_date() -> None:
    policy = Policy("sanmenxia", date(2024, 8, 10), stats={"reference_monthly_wage": Decimal(6400)})
    before = clearance(policy, sex="male", retire_on=date(2011, 12, 31))
    assert (before.shortfall_months, before.lump_sum) == (120, Decimal("61440.00"))
    assert "全部计入统筹基金" in before.basis
    after = clearance(policy, sex="male", retire_on=date(2015, 7, 1), deemed_months=200)
    assert (after.shortfall_months, after.lump_sum) == (177, Decimal("90624.00"))
    # someone who paid even one local month follows the ordinary shortfall rule on their own base
    ordinary = clearance(
        policy, sex="male", retire_on=date(2024, 6, 1), actual_months=1, local_months=1, last_monthly_base=5000
    )
    assert ordinary.shortfall_months == 359 and ordinary.lump_sum == Decimal("179500.00")


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PENDING_CASES))
def test_pending_case_fails_naming_the_missing_value_then_passes_once_staff_enter_it(name: str) -> None:
    key, start, value = PENDING_CASES[name]  # one case per file
    assert_pending_cases(name, [key], {key: value}, effective_from=start, document="经办录入（测试假设值，并非政策）")
