"""Pending eligibility, payment-years and retirement-clearance cases: they fail until staff enter a value.

tests/scenarios_pending/<jurisdiction>/{eligibility,payment_years,retirement_clearance}.yaml hold cases
whose answer depends on a value the documents do not give (POLICY-DIGEST §3.7, D-X16): hunan's and
sanmenxia's monthly due day, the deemed-years cut-off of langfang (D-L14) and ziyang, sanmenxia's rate
for a flexible worker's lump sum and its treatment of military years, and everything xianning leaves
to its city-wide documents (D-XN1). Each case must fail with a message naming the jurisdiction and the
missing key; once staff enter the (hypothetical, test-only) values listed in each file's header, every
case must pass with the figures worked out by hand.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.policy_support import PENDING, assert_cases_fail_naming, assert_cases_pass, staff_enter

# file → the first missing key each case names, in file order
FIRST_MISSING: dict[str, list[str]] = {
    "hunan/eligibility.yaml": ["contribution.due_day"] * 3,
    "sanmenxia/eligibility.yaml": ["contribution.due_day"] * 2,
    "sanmenxia/payment_years.yaml": ["retirement.military_counts_as"],
    "sanmenxia/retirement_clearance.yaml": ["retirement.flexible_lump_sum_rates"],
    "langfang/payment_years.yaml": ["retirement.deemed_cutoff"] * 2,
    "langfang/retirement_clearance.yaml": ["retirement.deemed_cutoff"] * 2,
    "ziyang/payment_years.yaml": ["retirement.deemed_cutoff"],
    "xianning/eligibility.yaml": ["eligibility.employee_wait_rule", "eligibility.retiree_arrears_exempt"],
    "xianning/payment_years.yaml": ["retirement.cumulative_includes_deemed"],
    "xianning/retirement_clearance.yaml": ["retirement.min_cumulative_months_female"],
}

# What staff would enter: hypothetical values for these tests only, not policy.
STAFF_VALUES: dict[str, tuple[date, dict[str, object]]] = {
    "hunan": (date(2023, 1, 1), {"contribution.due_day": 15}),
    "sanmenxia": (
        date(2021, 2, 7),
        {
            "contribution.due_day": 15,
            "retirement.military_counts_as": "deemed",
            "retirement.flexible_lump_sum_rates": ["contribution.flexible_rate_pct"],
        },
    ),
    "langfang": (date(2024, 1, 1), {"retirement.deemed_cutoff": "1995-01-01"}),
    "ziyang": (date(2023, 1, 1), {"retirement.deemed_cutoff": "1995-01-01"}),
    "xianning": (
        date(2023, 1, 1),
        {
            "eligibility.employee_wait_rule": "month_after_first_month",
            "eligibility.suspension_start": "month_after_due",
            "eligibility.retiree_arrears_exempt": True,
            "retirement.cumulative_includes_deemed": True,
            "retirement.min_cumulative_months_female": 300,
            "retirement.min_local_months": 120,
        },
    ),
}

FILES = sorted(FIRST_MISSING)


pytestmark = pytest.mark.usefixtures("fresh_policy")


def test_every_pending_file_of_these_calculations_is_listed() -> None:
    on_disk = {
        str(p.relative_to(PENDING))
        for p in PENDING.rglob("*.yaml")
        if p.stem in ("eligibility", "payment_years", "retirement_clearance")
    }
    assert on_disk == set(FILES)


@pytest.mark.django_db
@pytest.mark.parametrize("name", FILES)
def test_pending_cases_fail_naming_the_missing_value(name: str) -> None:
    assert_cases_fail_naming(name, FIRST_MISSING[name])


@pytest.mark.django_db
@pytest.mark.parametrize("name", FILES)
def test_pending_cases_pass_once_staff_enter_the_values(name: str) -> None:
    jurisdiction = name.split("/")[0]
    start, values = STAFF_VALUES[jurisdiction]
    staff_enter(jurisdiction, values, effective_from=start, document="经办录入（测试假设值，并非政策）")
    assert_cases_pass(name, len(FIRST_MISSING[name]))


@pytest.mark.django_db
def test_the_jurisdiction_page_lists_what_staff_must_enter() -> None:
    """D-X16: the keys these pending cases wait for are catalog keys listed as missing for the jurisdiction."""
    from policy.loader import missing_keys

    on = date(2024, 6, 1)
    missing = {code: {key for key, _ in missing_keys(code, on)} for code in STAFF_VALUES}
    assert "contribution.due_day" in missing["hunan"] and "contribution.due_day" in missing["sanmenxia"]
    assert "contribution.due_day" not in missing["langfang"] and "contribution.due_day" not in missing["ziyang"]
    assert "retirement.deemed_cutoff" in missing["langfang"] and "retirement.deemed_cutoff" in missing["ziyang"]
    assert "retirement.deemed_cutoff" not in missing["hunan"] and "retirement.deemed_cutoff" not in missing["sanmenxia"]
    assert (
        "retirement.keep_paying_allowed" in missing["sanmenxia"]
        and "retirement.keep_paying_allowed" in missing["xianning"]
    )
    assert not {"retirement.keep_paying_allowed"} & (missing["hunan"] | missing["langfang"] | missing["ziyang"])
    assert "retirement.retiree_from_rule" not in missing["xianning"]  # 细则 第十二条
    assert {"retirement.min_cumulative_months_female", "eligibility.employee_wait_rule"} <= missing["xianning"]
