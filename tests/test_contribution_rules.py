"""Contribution rules: xianning's pending cases, and edge cases of the plain functions.

The scenario files under tests/scenarios/ are run by tests/test_scenarios.py; here
we check what a scenario file cannot express (errors, rounding, age boundaries)
and that xianning's contribution cases fail until staff enter the missing rates,
then pass (POLICY-DIGEST D-XN1, D-X16).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from contributions.calculations.contribution import (
    ContributionBreakdown,
    MonthlyWageRequired,
    contribution_breakdown,
    individual_base,
)
from contributions.calculations.late_fee import late_fee_amount
from contributions.calculations.personal_account import age_in_month, age_on, monthly_account_credit
from policy.calculations import InputError
from policy.resolver import Policy, PolicyError, PolicyMissing
from tests.policy_support import assert_cases_fail_naming, assert_cases_pass, staff_enter

PENDING_XIANNING = "xianning/contribution.yaml"  # under tests/scenarios_pending/

# What xianning staff would enter. Hypothetical values for the test only, not policy:
# the pending file's expected outputs were computed by hand from them.
XIANNING_STAFF_VALUES = {
    "contribution.base_floor_pct": "60",
    "contribution.base_ceiling_pct": "300",
    "contribution.employer_rate_pct": "8",
    "contribution.individual_rate_pct": "2",
    "contribution.flexible_base_pct": "60",
    "contribution.flexible_base_of": "reference_wage",
    "contribution.flexible_rate_pct": "10",
    "contribution.late_fee_daily_pct": "0.05",
}
# The first parameter each pending case asks for, in file order.
XIANNING_FIRST_MISSING = [
    "contribution.base_floor_pct",
    "contribution.base_floor_pct",
    "contribution.flexible_base_pct",
    "contribution.late_fee_daily_pct",
]

D = Decimal


pytestmark = pytest.mark.usefixtures("fresh_policy")


def _policy(code: str, on: date, **stats: int | str) -> Policy:
    return Policy(code, on, stats={k: D(str(v)) for k, v in stats.items()})


# ---------------------------------------------------------------- xianning pending


@pytest.mark.django_db
def test_xianning_pending_cases_fail_naming_the_missing_parameter() -> None:
    assert_cases_fail_naming(PENDING_XIANNING, XIANNING_FIRST_MISSING)


@pytest.mark.django_db
def test_xianning_pending_cases_pass_once_staff_enter_the_rates() -> None:
    staff_enter(
        "xianning",
        XIANNING_STAFF_VALUES,
        effective_from=date(2023, 1, 1),
        document="现行全市统一政策（经办录入，测试假设值）",
    )
    assert_cases_pass(PENDING_XIANNING, len(XIANNING_FIRST_MISSING))


@pytest.mark.django_db
def test_xianning_contribution_function_raises_policy_missing() -> None:
    with pytest.raises(PolicyMissing) as exc:
        contribution_breakdown(
            _policy("xianning", date(2023, 6, 1), reference_monthly_wage=6000),
            category="employee",
            monthly_wage=D("5000"),
        )
    assert exc.value.jurisdiction == "xianning"
    assert exc.value.key == "contribution.base_floor_pct"


# ---------------------------------------------------------------- rounding (D-X12)


@pytest.mark.django_db
def test_contribution_lines_round_half_up_at_half_a_fen() -> None:
    # hunan: 5000.25 × 2% = 100.005 → 100.01 (banker's rounding would give 100.00)
    b = contribution_breakdown(
        _policy("hunan", date(2024, 3, 1), reference_monthly_wage=6000),
        category="employee",
        monthly_wage=D("5000.25"),
    )
    assert b.individual == D("100.01")
    assert b.personal_account == D("100.01")
    assert b.employer == D("400.02")  # 400.0200
    assert b.pool == b.employer + b.individual - b.personal_account == D("400.02")


@pytest.mark.django_db
def test_late_fee_rounds_half_up_at_half_a_fen() -> None:
    # 1010 × 0.05% × 1 = 0.505 → 0.51
    days, fee = late_fee_amount(
        _policy("sanmenxia", date(2023, 3, 2)),
        amount=D("1010"),
        due_date=date(2023, 3, 1),
        paid_on=date(2023, 3, 2),
    )
    assert (days, fee) == (1, D("0.51"))


@pytest.mark.django_db
def test_base_is_not_rounded_but_lines_are() -> None:
    # ziyang flexible: 90% × 100% × 6543.21 = 5888.889 (not a bill line); 9% = 530.00001 → 530.00
    b = contribution_breakdown(
        _policy("ziyang", date(2023, 6, 1), reference_monthly_wage="6543.21"),
        category="flexible",
        monthly_wage=None,
    )
    assert b.base == D("5888.889")
    assert b.individual == D("530.00")
    assert b.personal_account == D("117.78")  # 117.77778
    assert b.pool == D("412.22")


# ---------------------------------------------------------------- late fee days


@pytest.mark.django_db
def test_late_fee_paid_on_the_due_date_is_zero_days() -> None:
    days, fee = late_fee_amount(
        _policy("ziyang", date(2023, 5, 25)),
        amount=D("1000"),
        due_date=date(2023, 5, 25),
        paid_on=date(2023, 5, 25),
    )
    assert (days, fee) == (0, D("0.00"))


@pytest.mark.django_db
def test_late_fee_paid_a_day_late() -> None:
    days, fee = late_fee_amount(
        _policy("langfang", date(2024, 8, 26)),
        amount=D("1000"),
        due_date=date(2024, 8, 25),
        paid_on=date(2024, 8, 26),
    )
    assert (days, fee) == (1, D("0.50"))


@pytest.mark.django_db
def test_late_fee_missing_rate_in_xianning() -> None:
    with pytest.raises(PolicyMissing) as exc:
        late_fee_amount(
            _policy("xianning", date(2023, 6, 1)),
            amount=D("1000"),
            due_date=date(2023, 5, 31),
            paid_on=date(2023, 6, 1),
        )
    assert exc.value.key == "contribution.late_fee_daily_pct"


# ---------------------------------------------------------------- age boundary (sanmenxia 第九条, D-S5)


def test_age_helpers() -> None:
    born = date(1978, 5, 20)
    assert age_on(born, date(2023, 5, 19)) == 44
    assert age_on(born, date(2023, 5, 20)) == 45
    # the month of the 45th birthday already counts as 45 (D-S5: from the month turning 45)
    assert age_in_month(born, date(2023, 5, 1)) == 45
    assert age_in_month(born, date(2023, 4, 1)) == 44
    assert age_in_month(date(1980, 2, 29), date(2025, 2, 1)) == 44  # no 29 Feb: not yet 45


@pytest.mark.django_db
@pytest.mark.parametrize(("age", "credit"), [(44, "300.00"), (45, "350.00"), (60, "350.00")])
def test_sanmenxia_employer_share_switches_at_45(age: int, credit: str) -> None:
    # 10000 × (2% + 1.0%) = 300 under 45; × (2% + 1.5%) = 350 from 45
    p = _policy("sanmenxia", date(2023, 5, 1))
    assert monthly_account_credit(p, category="employee", base=D("10000"), age=age) == D(credit)


@pytest.mark.django_db
def test_sanmenxia_account_needs_age() -> None:
    with pytest.raises(InputError, match="age"):
        monthly_account_credit(_policy("sanmenxia", date(2023, 5, 1)), category="employee", base=D("6000"), age=None)


@pytest.mark.django_db
def test_age_not_needed_where_the_share_is_flat() -> None:
    assert monthly_account_credit(
        _policy("hunan", date(2024, 3, 1)), category="employee", base=D("6000"), age=None
    ) == D("120.00")


# ---------------------------------------------------------------- missing rules raise (D-X16)


@pytest.mark.django_db
def test_unknown_wage_without_a_rule_names_the_input_and_parameter() -> None:
    with pytest.raises(MonthlyWageRequired) as exc:
        contribution_breakdown(
            _policy("hunan", date(2024, 3, 1), reference_monthly_wage=6000),
            category="employee",
            monthly_wage=None,
        )
    message = str(exc.value)
    assert "monthly_wage" in message
    assert "contribution.unknown_wage_base_pct" in message
    assert "hunan" in message and "第九条" in message


@pytest.mark.django_db
def test_unknown_wage_defaults_to_100_percent_in_sanmenxia() -> None:
    # sanmenxia 第六条: 100% of the provincial monthly average wage
    base = individual_base(
        _policy("sanmenxia", date(2023, 5, 1), reference_monthly_wage=6500),
        category="employee",
        monthly_wage=None,
        employer_kind="enterprise",
        scheme="combined",
    )
    assert base == D("6500")


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["hunan", "sanmenxia", "ziyang"])
def test_difficult_enterprise_is_missing_outside_langfang(code: str) -> None:
    on = {"hunan": date(2024, 3, 1), "sanmenxia": date(2023, 5, 1), "ziyang": date(2023, 6, 1)}[code]
    with pytest.raises(PolicyMissing) as exc:
        contribution_breakdown(
            _policy(code, on, reference_monthly_wage=6000),
            category="employee",
            monthly_wage=D("5000"),
            employer_kind="difficult_enterprise",
            age=30,
        )
    assert exc.value.key == "contribution.difficult_enterprise_floor_pct"
    # the ordinary employer of the same person computes
    contribution_breakdown(
        _policy(code, on, reference_monthly_wage=6000), category="employee", monthly_wage=D("5000"), age=30
    )


@pytest.mark.django_db
def test_ziyang_unemployed_is_missing() -> None:
    with pytest.raises(PolicyMissing) as exc:
        contribution_breakdown(
            _policy("ziyang", date(2023, 6, 1), reference_monthly_wage=6000),
            category="unemployed",
            monthly_wage=None,
        )
    assert exc.value.key == "contribution.unemployed_base_pct"


@pytest.mark.django_db
def test_pool_only_abolished_in_langfang() -> None:
    with pytest.raises(PolicyError, match="第七十八条"):
        contribution_breakdown(
            _policy("langfang", date(2024, 9, 1), reference_monthly_wage=5000),
            category="employee",
            monthly_wage=D("5000"),
            scheme="pool_only",
        )


@pytest.mark.django_db
def test_pool_only_missing_in_hunan() -> None:
    with pytest.raises(PolicyMissing) as exc:
        contribution_breakdown(
            _policy("hunan", date(2024, 3, 1), reference_monthly_wage=6000),
            category="employee",
            monthly_wage=D("5000"),
            scheme="pool_only",
        )
    assert exc.value.key == "contribution.pool_only_employer_rate_pct"


@pytest.mark.django_db
def test_reference_wage_missing_names_the_statistic() -> None:
    with pytest.raises(PolicyMissing) as exc:
        contribution_breakdown(_policy("langfang", date(2024, 9, 1)), category="flexible", monthly_wage=None)
    assert exc.value.key == "reference_monthly_wage"


@pytest.mark.django_db
def test_bad_choice_is_an_input_error() -> None:
    with pytest.raises(InputError):
        contribution_breakdown(
            _policy("hunan", date(2024, 3, 1), reference_monthly_wage=6000),
            category="retiree",
            monthly_wage=D("5000"),
        )


# ---------------------------------------------------------------- shapes


@pytest.mark.django_db
def test_breakdown_is_frozen_and_balances() -> None:
    b = contribution_breakdown(
        _policy("sanmenxia", date(2023, 5, 1), reference_monthly_wage=6500),
        category="unemployed",
        monthly_wage=None,
        age=50,
    )
    assert isinstance(b, ContributionBreakdown)
    with pytest.raises(AttributeError):
        b.employer = D("1")  # type: ignore[misc]
    assert b.pool == b.employer + b.individual - b.personal_account
    assert b.critical_illness is None  # sanmenxia: no such premium in the 办法


@pytest.mark.django_db
def test_hunan_critical_illness_is_a_monthly_fifteen_for_everyone() -> None:
    p = _policy("hunan", date(2024, 3, 1), reference_monthly_wage=6000)
    for category in ("employee", "flexible", "unemployed"):
        b = contribution_breakdown(p, category=category, monthly_wage=D("6000"))
        assert b.critical_illness == D("15.00"), category  # 180 ÷ 12, 第五十三条/第五十四条


@pytest.mark.django_db
def test_retiree_credit_needs_the_statistic() -> None:
    with pytest.raises(PolicyMissing) as exc:
        monthly_account_credit(_policy("ziyang", date(2023, 6, 1)), category="retiree", base=None, age=65)
    assert exc.value.key == "average_pension_monthly"


@pytest.mark.django_db
def test_policy_values_carry_citations() -> None:
    p = _policy("ziyang", date(2023, 6, 1), reference_monthly_wage=6000)
    contribution_breakdown(p, category="employee", monthly_wage=D("7000"))
    assert p.used["contribution.employer_rate_pct"].startswith("ziyang 第九条(二)1")
    assert p.used["accounts.employee_credit_pct"].startswith("ziyang 第十条")


@pytest.mark.django_db
def test_policy_not_in_force_before_the_effective_date() -> None:
    # langfang's draft applies from 2024-01-01 (第八十四条, D-X13)
    with pytest.raises(PolicyMissing):
        contribution_breakdown(
            _policy("langfang", date(2023, 12, 31), reference_monthly_wage=5000),
            category="employee",
            monthly_wage=D("5000"),
        )
