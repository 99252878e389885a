"""Inpatient, outpatient-pooling and critical-illness rules: edge cases the scenario files do not show.

Expected figures are worked by hand from the seeds (arithmetic in the comments).
"""

from __future__ import annotations

from dataclasses import MISSING, FrozenInstanceError, fields
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from benefits.calculations._common import Step
from benefits.calculations.critical_illness import settle_critical_illness
from benefits.calculations.inpatient import InpatientFacts, InpatientResult, parameter_limit_breaches, settle_inpatient
from benefits.calculations.maternity import MaternityFacts
from benefits.calculations.outpatient import OutpatientFacts, band_age, settle_outpatient
from policy.calculations import InputError, discover
from policy.resolver import Policy, PolicyError, PolicyMissing
from policy.scenarios import Case, run_case
from tests.policy_support import assert_pending_cases, staff_enter

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

D = Decimal
ZIYANG_STATS = {"annual_average_wage": 80000}


def _case(jurisdiction: str, calculation: str, inputs: dict, output: dict, on: str = "2024-06-01", stats=None) -> Case:
    data = {"name": "t", "jurisdiction": jurisdiction, "on": on, "calculation": calculation, "input": inputs}
    data["output"] = output
    if stats:
        data["stats"] = stats
    return Case(Path("test"), 1, data)


# --- jurisdictions whose seed is silent (D-X16, D-XN1) -------------------------------------------------------


def test_xianning_inpatient_fails_with_policy_missing_naming_xianning():
    with pytest.raises(PolicyMissing) as info:
        settle_inpatient(
            Policy("xianning", date(2024, 6, 1)), InpatientFacts(hospital_level="level3", policy_amount=D(10000))
        )
    assert info.value.jurisdiction == "xianning"
    assert info.value.key == "inpatient.deductible_by_level"
    assert "xianning" in str(info.value)


def test_xianning_inpatient_scenario_is_a_failure_that_names_xianning():
    result = run_case(
        _case("xianning", "inpatient", {"hospital_level": "level2", "policy_amount": 5000}, {"pool_pay": 0})
    )
    assert not result.passed
    assert "xianning" in result.problems[0] and "inpatient.deductible_by_level" in result.problems[0]


@pytest.mark.parametrize("code", ["xianning", "sanmenxia"])  # langfang: tests/test_claims_layers.py
def test_critical_illness_missing_where_the_seed_is_silent(code):
    with pytest.raises(PolicyMissing) as info:
        settle_critical_illness(Policy(code, date(2024, 6, 1)), self_pay_this_year=D(100000))
    assert info.value.jurisdiction == code


def test_hunan_critical_illness_deductible_is_a_required_statistic():
    # D-H11: the city sets the figure; nothing is derived from "50%左右".
    with pytest.raises(PolicyMissing) as info:
        settle_critical_illness(Policy("hunan", date(2024, 6, 1)), self_pay_this_year=D(100000))
    assert info.value.key == "critical_illness_deductible" and info.value.kind == "统计指标"


def test_ziyang_inpatient_cap_needs_the_average_wage():
    with pytest.raises(PolicyMissing) as info:
        settle_inpatient(
            Policy("ziyang", date(2024, 6, 1)), InpatientFacts(hospital_level="level1", policy_amount=D(1000), age=40)
        )
    assert info.value.key == "annual_average_wage"


def test_hunan_outpatient_out_of_area_is_not_given_by_the_seed():
    with pytest.raises(PolicyMissing) as info:
        settle_outpatient(
            Policy("hunan", date(2024, 6, 1)),
            OutpatientFacts(hospital_level="level2", amount=D(500), location="referral"),
        )
    assert info.value.key == "outpatient.location_rules.referral"


def test_before_the_effective_date_nothing_is_in_force():
    # langfang 第八十四条: from 2024-01-01.
    with pytest.raises(PolicyMissing):
        settle_inpatient(
            Policy("langfang", date(2023, 12, 31)), InpatientFacts(hospital_level="level1", policy_amount=D(1000))
        )


# --- annual caps ---------------------------------------------------------------------------------------------


def test_hunan_inpatient_cap_boundary():
    p = Policy("hunan", date(2024, 6, 1))
    # 三级 在职: (20000 − 1100) × 85% = 16065; cap 150000.
    exact = settle_inpatient(
        p, InpatientFacts(hospital_level="level3", policy_amount=D(20000), pool_paid_this_year=D(133935))
    )
    assert exact.pool_pay == D("16065.00")  # 150000 − 133935 = 16065 left: paid in full
    short = settle_inpatient(
        p, InpatientFacts(hospital_level="level3", policy_amount=D(20000), pool_paid_this_year=D("133935.01"))
    )
    assert short.pool_pay == D("16064.99") and short.self_pay == D("3935.01")
    over = settle_inpatient(
        p, InpatientFacts(hospital_level="level3", policy_amount=D(20000), pool_paid_this_year=D(160000))
    )
    assert over.pool_pay == 0 and over.self_pay == D(20000)


def test_ziyang_cap_is_six_times_the_average_wage():
    p = Policy("ziyang", date(2024, 6, 1), stats={"annual_average_wage": 50000})
    # cap 6 × 50000 = 300000; 299000 paid → 1000 left; (20000 − 1000) × 80% = 15200 → 1000.
    r = settle_inpatient(
        p, InpatientFacts(hospital_level="level3a", policy_amount=D(20000), age=40, pool_paid_this_year=D(299000))
    )
    assert r.pool_pay == D(1000)


def test_outpatient_cap_boundary_langfang_retiree():
    p = Policy("langfang", date(2024, 6, 1))
    # retiree cap 4000; (1000 − 100) × 70% = 630; 3370 paid → exactly 630 left.
    assert settle_outpatient(
        p, OutpatientFacts(person_type="retired", hospital_level="level1", amount=D(1000), pool_paid_this_year=D(3370))
    ).pool_pay == D(630)
    assert settle_outpatient(
        p, OutpatientFacts(person_type="retired", hospital_level="level1", amount=D(1000), pool_paid_this_year=D(3371))
    ).pool_pay == D(629)


def test_critical_illness_cap_boundary_hunan():
    p = Policy("hunan", date(2024, 6, 1), stats={"critical_illness_deductible": 20000})
    # (490588.24 − 20000) × 85% = 400000.004 → capped at 400000; one step below the cap pays 399999.99.
    assert settle_critical_illness(p, self_pay_this_year=D("490588.24")).pay == D(400000)
    assert settle_critical_illness(p, self_pay_this_year=D("490588.22")).pay == D("399999.99")  # 399999.987 → .99


# --- deductible larger than the amount ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "level", "stats"),
    [
        ("hunan", "provincial", None),
        ("langfang", "level3", None),
        ("sanmenxia", "level3", None),
        ("ziyang", "level3a", ZIYANG_STATS),
    ],
)
def test_deductible_larger_than_amount(code, level, stats):
    r = settle_inpatient(
        Policy(code, date(2024, 6, 1), stats=stats),
        InpatientFacts(hospital_level=level, policy_amount=D("99.99"), age=40),
    )
    assert (r.deductible, r.pool_pay, r.self_pay) == (D("99.99"), 0, D("99.99"))


def test_outpatient_deductible_larger_than_amount_xianning():
    r = settle_outpatient(Policy("xianning", date(2024, 6, 1)), OutpatientFacts(hospital_level="level1", amount=D(50)))
    assert (r.deductible, r.pool_pay, r.self_pay) == (D(50), 0, D(50))


def test_zero_amount():
    r = settle_inpatient(Policy("hunan", date(2024, 6, 1)), InpatientFacts(hospital_level="level1", policy_amount=D(0)))
    assert (r.deductible, r.pool_pay, r.self_pay) == (0, 0, 0)


# --- rounding (D-X12: half-up to the fen, only on the payment) ----------------------------------------------


def test_rounding_is_half_up_not_bankers():
    # hunan 一级 outpatient 70%: 0.15 × 70% = 0.105 → 0.11 (half-even would give 0.10).
    r = settle_outpatient(Policy("hunan", date(2024, 6, 1)), OutpatientFacts(hospital_level="level1", amount=D("0.15")))
    assert r.pool_pay == D("0.11") and r.self_pay == D("0.04")


def test_intermediate_values_are_not_rounded():
    # langfang cross-province: (600.95 − 600) × 90% × 88% = 0.855 × 0.88 = 0.7524 → 0.75;
    # rounding the 90% step first (0.855 → 0.86 × 0.88 = 0.7568) would give 0.76.
    r = settle_inpatient(
        Policy("langfang", date(2024, 6, 1)),
        InpatientFacts(hospital_level="level3", location="referral", policy_amount=D("600.95")),
    )
    assert r.pool_pay == D("0.75")


# --- repeat admissions, transfers and explanation steps -----------------------------------------------------


def test_hunan_upward_referral_pays_only_the_difference():
    # D-H6: 二级 800 already borne for the same episode; 三级 1100 → 300 more.
    r = settle_inpatient(
        Policy("hunan", date(2024, 6, 1)),
        InpatientFacts(
            hospital_level="level3",
            policy_amount=D(10000),
            deductibles_this_year=D(800),
            deductible_paid_this_stay=D(800),
        ),
    )
    assert r.deductible == D(300)
    assert r.pool_pay == D("8245.00")  # (10000 − 300) × 85%


def test_second_year_part_of_a_stay_bears_no_new_deductible():
    # D-X15 / langfang 第四十七条(五): one deductible for a stay spanning two years.
    r = settle_inpatient(
        Policy("langfang", date(2025, 1, 10)),
        InpatientFacts(hospital_level="level2", policy_amount=D(3000), deductible_paid_this_stay=D(400)),
    )
    assert r.deductible == 0 and r.pool_pay == D(2790)  # 3000 × 93%


def test_steps_explain_with_citations():
    r = settle_inpatient(
        Policy("langfang", date(2024, 6, 1)),
        InpatientFacts(
            person_type="retired", hospital_level="level3", tcm=True, admission_number=2, policy_amount=D(10000)
        ),
    )
    assert isinstance(r, InpatientResult)
    cited = [s for s in r.steps if s.citation]
    assert any("D-L6" in s.citation for s in cited)
    assert any("D-L1" in s.citation for s in cited)
    assert [s.amount for s in r.steps if s.description.startswith("个人负担起付标准")] == [D(200)]
    assert r.steps[-2].amount == r.pool_pay == D(8918)


def test_ziyang_age_is_required_where_an_age_rule_exists():
    with pytest.raises(InputError):
        settle_inpatient(
            Policy("ziyang", date(2024, 6, 1), stats=ZIYANG_STATS),
            InpatientFacts(person_type="retired", hospital_level="level1", policy_amount=D(1000)),
        )


def test_ziyang_80_year_old_first_admission_still_pays():
    # 第十八条(一)5 waives only later admissions: 在职 82 一级 first → 200;
    # ratio 90 (no 70+ increment for the in-service, D-Z14).
    r = settle_inpatient(
        Policy("ziyang", date(2024, 6, 1), stats=ZIYANG_STATS),
        InpatientFacts(hospital_level="level1", policy_amount=D(1200), age=82),
    )
    assert (r.deductible, r.ratio, r.pool_pay) == (D(200), D(90), D(900))


# --- outpatient specifics -------------------------------------------------------------------------------------


def test_sanmenxia_outpatient_refuses_with_a_message():
    r = settle_outpatient(
        Policy("sanmenxia", date(2023, 6, 1)), OutpatientFacts(hospital_level="level2", amount=D(300))
    )
    assert (r.deductible, r.ratio, r.pool_pay, r.self_pay) == (0, 0, 0, D(300))
    assert "未设普通门诊统筹" in r.refusal and "D-S11" in r.refusal


def test_langfang_has_no_pool_only_scheme():
    with pytest.raises(PolicyError, match="单建统筹"):
        settle_outpatient(
            Policy("langfang", date(2024, 6, 1)),
            OutpatientFacts(hospital_level="level1", amount=D(300), age=30, scheme="pool_only"),
        )


@pytest.mark.parametrize(
    ("birth", "cap_left"),
    [
        (date(1979, 1, 1), D(200)),  # 45 on 2024-01-01: band changes from 2025 → under-45 cap 2000 − 1800
        (date(1978, 12, 31), D(600)),  # 45 on 2023-12-31 → 45+ cap 3000 in 2024, full 600 paid
    ],
)
def test_langfang_age_band_from_birth_date(birth, cap_left):
    r = settle_outpatient(
        Policy("langfang", date(2024, 6, 1)),
        OutpatientFacts(
            hospital_level="level2",
            amount=D(1000),
            deductible_used_this_year=D(100),
            pool_paid_this_year=D(1800),
            birth_date=birth,
        ),
    )
    assert r.pool_pay == cap_left


def test_band_age_from_age_input():
    assert band_age(date(2024, 6, 1), 45, None) == 44
    assert band_age(date(2024, 6, 1), None, date(1978, 12, 31)) == 45


# --- properties over a grid -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["hunan", "langfang", "sanmenxia", "ziyang"])
def test_inpatient_invariants(code):
    p = Policy(code, date(2024, 6, 1), stats=ZIYANG_STATS)
    for person_type in ("in_service", "retired"):
        for level in ("grassroots", "level1", "level2", "level3", "provincial"):
            for location in ("local", "referral", "unregistered"):
                for n in (1, 2, 4):
                    for amount in (D(0), D("150.5"), D(1000), D(50000)):
                        r = settle_inpatient(
                            p,
                            InpatientFacts(
                                person_type=person_type,
                                age=75,
                                hospital_level=level,
                                location=location,
                                admission_number=n,
                                policy_amount=amount,
                            ),
                        )
                        assert 0 <= r.deductible <= amount
                        assert 0 <= r.pool_pay <= amount - r.deductible
                        assert r.pool_pay + r.self_pay == amount
                        assert 0 <= r.ratio <= 100


def test_every_calculation_is_registered_with_the_contract_keys():
    registry = discover()
    # The contract's outputs, plus one optional extension (calcE2: 基金先行支付 hunan 第三十五条, ziyang 第十二条(三)).
    assert set(registry["inpatient"].outputs) == {"deductible", "ratio", "pool_pay", "self_pay", "third_party_advance"}
    assert set(registry["outpatient"].outputs) == {"deductible", "ratio", "pool_pay", "self_pay"}
    assert {"pay"} <= set(registry["critical_illness"].outputs)
    contract = {
        "inpatient": {
            "person_type",
            "age",
            "hospital_level",
            "tcm",
            "location",
            "admission_number",
            "deductibles_this_year",
            "policy_amount",
            "pool_paid_this_year",
            "special_disease_class",
            "insutype",  # SCENARIOS.md "Resident insurance" (issue 15)
        },
        "outpatient": {
            "person_type",
            "age",
            "hospital_level",
            "location",
            "amount",
            "deductible_used_this_year",
            "pool_paid_this_year",
            "scheme",
            "insutype",
        },
    }
    # Inputs beyond SCENARIOS.md are optional extensions, so files written to the contract run unchanged.
    extensions = {
        "inpatient": {
            "continued_stay",
            "deductible_paid_this_stay",
            "honoured_group",
            "out_of_province",
            # issue #17 item 7: the hospital's tier (sanmenxia 第五十三条 市级以上, D-S8); the contract's
            # resident `inpatient` already names it
            "tier",
            "aids",
            # calcE2
            "designated",
            "emergency_rescue",
            "external_service",
            "external_service_filed",
            "high_value_drug",
            "disabled_soldier_grade",
            "excluded_cause",
            "third_party_unpaid",
            "counted_as_inpatient",
            "dates_continuous",
            "died_in_rescue",
            "days_before_admission",
            "same_hospital",
            "observation_days",
        },
        "outpatient": {"birth_date", "overall_pool_paid_this_year", "designated", "emergency_rescue", "origin_level"},
    }
    for name, keys in contract.items():
        inputs = registry[name].inputs
        assert set(inputs) == keys | extensions[name]
        assert all(not inputs[k].required for k in extensions[name])
    assert {"self_pay_this_year", "paid_this_year", "poverty", "location"} <= set(registry["critical_illness"].inputs)
    assert {"pool_pay", "self_pay", "ratio", "cap", "settle_as_inpatient"} <= set(registry["special_disease"].outputs)


def test_each_rule_takes_frozen_facts_matching_its_scenario_inputs():
    # Issue #11 item 3: the scenario calculation builds the rule's facts from its inputs, field for field,
    # with the same defaults, so a file and a claim give the rule the same facts.
    registry = discover()
    for name, facts_class in (
        ("inpatient", InpatientFacts),
        ("outpatient", OutpatientFacts),
        ("maternity", MaternityFacts),
    ):
        # insutype picks the rule (390: benefits.calculations.resident), it is not a fact of the employee rule
        inputs = {k: v for k, v in registry[name].inputs.items() if k != "insutype"}
        declared = {f.name: f for f in fields(facts_class)}
        assert set(declared) == set(inputs), name
        for key, spec in inputs.items():
            assert (declared[key].default is MISSING) == spec.required, (name, key)
            if not spec.required:
                assert declared[key].default == spec.default, (name, key)
    facts = InpatientFacts(hospital_level="level1", policy_amount=D(1000))
    with pytest.raises(FrozenInstanceError):
        facts.policy_amount = D(2000)  # type: ignore[misc]


def test_a_wrong_expectation_fails():
    # Scenarios can fail: hunan 一级 (10000 − 500) × 92% = 8740, not 8741.
    result = run_case(
        _case("hunan", "inpatient", {"hospital_level": "level1", "policy_amount": 10000}, {"pool_pay": 8741})
    )
    assert not result.passed and "expected 8741" in result.problems[0]


# --- tests/scenarios_pending: benefit cases that wait for staff values (D-X16) --------------------------------

# What xianning staff would enter from the city's inpatient policy (办法 四(二), D-XN1).
# Hypothetical values for the test only, not policy: the pending file was worked by hand from them.
XIANNING_INPATIENT_STAFF_VALUES = {
    "inpatient.level_aliases": {"grassroots": "level1", "below_level1": "level1", "provincial": "level3"},
    "inpatient.deductible_by_level": {"level1": "300", "level2": "600", "level3": "900"},
    "inpatient.ratio_by_level_pct": {"in_service": {"level1": "90", "level2": "85", "level3": "80"}},
    "inpatient.retiree_ratio_increment_pct": "5",
    "inpatient.retiree_deductible_reduction": None,
    "inpatient.tcm_deductible_level": None,
    "inpatient.repeat_deductible_pct": "50",
    "inpatient.repeat_deductible_step": None,
    "inpatient.repeat_counts_same_level_only": False,
    "inpatient.deductible_floor": None,
    "inpatient.annual_deductible_cap": None,
    "inpatient.first_admission_only_deductible": None,
    "inpatient.age_ratio_increment": None,
    "inpatient.special_disease_ratio_increment_pct": None,
    "inpatient.ratio_max_pct": "100",
    "inpatient.location_rules": {"local": {"standard": "local", "ratio_adjustment_pct": "0"}},
    "inpatient.ratio_adjustment_levels": None,
    "inpatient.annual_cap": "100000",
    "inpatient.annual_cap_average_wage_multiple": None,
    "inpatient.honoured_group_ratio_increment_pct": None,
    "inpatient.out_of_province_deductible_by_level": None,
    "inpatient.continued_stay_rules": {"cross_year": "difference"},
}
_LOCAL_EVERYWHERE = {loc: {} for loc in ("local", "in_province", "referral", "emergency", "registered_remote")}
SPECIAL_DISEASE_STAFF_VALUES = {  # langfang 第五十条, xianning 细则 第九条: policy to be issued
    "special_disease.outpatient_ratio_pct": {"in_service": "85", "retired": "90"},
    "special_disease.outpatient_deductible": None,
    "special_disease.outpatient_cap_basis": "annual",
    "special_disease.outpatient_annual_cap": "10000",
}
STAFF_DOCUMENT = "另行规定（经办录入，测试假设值）"  # what staff cite, after the jurisdiction
# file under tests/scenarios_pending → (first missing parameter of each case in file order, values staff enter)
PENDING_BENEFITS = {
    "xianning/inpatient.yaml": (["inpatient.deductible_by_level"] * 5, XIANNING_INPATIENT_STAFF_VALUES),
    "sanmenxia/inpatient.yaml": (
        [
            "inpatient.continued_stay_rules.transfer_upward",
            "inpatient.continued_stay_rules.transfer_downward",
            "inpatient.non_designated_rule",
        ],
        {
            "inpatient.continued_stay_rules": {
                "cross_year": "difference",
                "transfer_upward": "difference",
                "transfer_downward": "waived",
            },
            "inpatient.non_designated_rule": "emergency_only",
        },
    ),
    "langfang/inpatient.yaml": (  # 第八十条: 一至六级残疾军人 "按相关规定执行"
        ["inpatient.disabled_soldier_rules"] * 2 + ["inpatient.third_party_advance"],
        {
            "inpatient.disabled_soldier_rules": {
                "grades": [1, 2, 3, 4, 5, 6],
                "deductible_waived": True,
                "ratio_pct": "100",
            },
            "inpatient.third_party_advance": True,
        },
    ),
    "hunan/outpatient.yaml": (
        ["outpatient.location_rules.referral", "outpatient.location_rules.registered_remote"],
        {"outpatient.location_rules": {**_LOCAL_EVERYWHERE, "unregistered": {}}},
    ),
    "ziyang/outpatient.yaml": (
        ["outpatient.location_rules.unregistered"],
        {"outpatient.location_rules": {**_LOCAL_EVERYWHERE, "unregistered": {}}},
    ),
    "hunan/special_disease.yaml": (
        ["special_disease.outpatient_annual_cap"] * 2,
        {"special_disease.outpatient_annual_cap": "6000"},
    ),
    "sanmenxia/special_disease.yaml": (
        ["special_disease.outpatient_annual_cap"] * 2,
        {"special_disease.outpatient_annual_cap": "8000"},
    ),
    "langfang/special_disease.yaml": (["special_disease.outpatient_ratio_pct"] * 2, SPECIAL_DISEASE_STAFF_VALUES),
    "xianning/special_disease.yaml": (["special_disease.outpatient_ratio_pct"] * 2, SPECIAL_DISEASE_STAFF_VALUES),
}


@pytest.mark.parametrize("name", sorted(PENDING_BENEFITS))
def test_pending_benefit_cases_fail_until_staff_enter_the_values(name):
    missing, values = PENDING_BENEFITS[name]
    assert_pending_cases(name, missing, values, effective_from=date(2024, 1, 1), document=STAFF_DOCUMENT)


# --- continued stays: transfers and stays spanning two years ------------------------------------------------


def test_hunan_downward_referral_is_free_even_after_a_halved_deductible():
    # 第三十六条: 上级转下级免除起付标准. The stay began as the 2nd 三级 admission (1100 × 50% = 550 borne);
    # at the 二级 hospital the level's own first deductible would be 800: plain subtraction would charge 250.
    p = Policy("hunan", date(2024, 6, 1))
    facts = {"hospital_level": "level2", "policy_amount": D(3000), "deductible_paid_this_stay": D(550)}
    assert settle_inpatient(p, InpatientFacts(**facts)).deductible == D(250)  # no direction given: difference only
    r = settle_inpatient(p, InpatientFacts(continued_stay="transfer_downward", **facts))
    assert (r.deductible, r.pool_pay) == (D(0), D(2700))


def test_sanmenxia_transfer_deductible_is_left_to_another_rule():
    # 第十三条(一) "视同连续住院的起付标准，另行规定" (D-S9): a transfer names the missing value ...
    p = Policy("sanmenxia", date(2024, 6, 1))
    with pytest.raises(PolicyMissing) as info:
        settle_inpatient(
            p,
            InpatientFacts(
                hospital_level="level3",
                policy_amount=D(5000),
                continued_stay="transfer_upward",
                deductible_paid_this_stay=D(600),
            ),
        )
    assert (info.value.jurisdiction, info.value.key) == ("sanmenxia", "inpatient.continued_stay_rules.transfer_upward")
    # ... while the second-year part of a stay spanning two years pays no second deductible (D-X15).
    r = settle_inpatient(
        p,
        InpatientFacts(
            hospital_level="level3",
            policy_amount=D(5000),
            continued_stay="cross_year",
            deductible_paid_this_stay=D(1200),
        ),
    )
    assert (r.deductible, r.pool_pay) == (D(0), D(4250))


def test_continued_stay_must_be_a_known_kind():
    with pytest.raises(InputError):
        settle_inpatient(
            Policy("hunan", date(2024, 6, 1)),
            InpatientFacts(hospital_level="level2", policy_amount=D(100), continued_stay="referral"),
        )


def test_langfang_honoured_group_only_where_a_rule_exists():
    # langfang 第七十九条 +10 (≤100%, D-L18); hunan has no such rule: the ratio is unchanged.
    lf = settle_inpatient(
        Policy("langfang", date(2024, 6, 1)),
        InpatientFacts(hospital_level="level2", policy_amount=D(10400), honoured_group=True),
    )
    assert (lf.ratio, lf.pool_pay) == (D(100), D(10000))
    hn = settle_inpatient(
        Policy("hunan", date(2024, 6, 1)),
        InpatientFacts(hospital_level="level2", policy_amount=D(10800), honoured_group=True),
    )
    assert (hn.ratio, hn.pool_pay) == (D(90), D(9000))


# --- outpatient: overall cap and pharmacies -----------------------------------------------------------------


def test_outpatient_overall_cap_only_where_outpatient_counts_toward_it():
    # hunan's 150 000 covers inpatient care and 双通道 drugs only (第三十九条): outpatient pooling is not held to it.
    hn = settle_outpatient(
        Policy("hunan", date(2024, 6, 1)),
        OutpatientFacts(hospital_level="level1", amount=D(100), overall_pool_paid_this_year=D(150000)),
    )
    assert hn.pool_pay == D(70)
    # langfang's 350 000 covers it (第四十九条(四), D-L9): nothing is left.
    lf = settle_outpatient(
        Policy("langfang", date(2024, 6, 1)),
        OutpatientFacts(hospital_level="level1", age=30, amount=D(1000), overall_pool_paid_this_year=D(350000)),
    )
    assert (lf.pool_pay, lf.self_pay) == (D(0), D(1000))


@pytest.mark.parametrize("code", ["hunan", "xianning"])
def test_pharmacy_outpatient_where_the_seed_gives_no_pharmacy_ratio(code):
    with pytest.raises(InputError):
        settle_outpatient(Policy(code, date(2024, 6, 1)), OutpatientFacts(hospital_level="pharmacy", amount=D(100)))


@pytest.mark.parametrize(
    ("birth", "on", "band_limit"),
    [
        (date(1979, 6, 30), date(2024, 6, 30), 2000),  # 45th birthday this year: under-45 until next 1 January
        (date(1979, 6, 30), date(2025, 1, 1), 3000),  # from the next year (第四十九条(三))
        (date(1979, 1, 1), date(2024, 1, 1), 2000),  # turned 45 on 1 January: was 44 on 31 December
    ],
)
def test_langfang_age_band_from_the_birth_date(birth, on, band_limit):
    # cap left = band limit − 1999; (1000 − 100) × 60% = 540 → 1 under the 2000 band, 540 under the 3000 band.
    r = settle_outpatient(
        Policy("langfang", on),
        OutpatientFacts(hospital_level="level1", amount=D(1000), birth_date=birth, pool_paid_this_year=D(1999)),
    )
    assert r.pool_pay == min(D(540), D(band_limit - 1999))


def test_out_of_province_needs_an_out_of_area_location_and_only_sanmenxia_sets_it_apart():
    with pytest.raises(InputError):
        settle_inpatient(
            Policy("sanmenxia", date(2024, 6, 1)),
            InpatientFacts(hospital_level="level2", policy_amount=D(100), out_of_province=True),
        )
    # hunan 第四十条 sets no separate out-of-province deductible: the home 二级 800 stays.
    r = settle_inpatient(
        Policy("hunan", date(2024, 6, 1)),
        InpatientFacts(hospital_level="level2", location="referral", out_of_province=True, policy_amount=D(10800)),
    )
    assert (r.deductible, r.ratio) == (D(800), D(85))


# --- calcE2: non-designated hospitals, 外检外购, high-value drugs, disabled soldiers -------------------------------


def test_hunan_non_designated_pays_nothing_unless_emergency_rescue():
    # 第四十条: "除危急重症患者抢救外，在非医保定点医疗机构发生的医疗费用不予支付".
    p = Policy("hunan", date(2024, 6, 1))
    refused = settle_inpatient(p, InpatientFacts(hospital_level="level2", policy_amount=D(10800), designated=False))
    assert (refused.pool_pay, refused.self_pay, refused.deductible) == (D(0), D(10800), D(0))
    assert any("不予支付" in s.description and "第四十条" in s.citation for s in refused.steps)
    rescued = settle_inpatient(
        p, InpatientFacts(hospital_level="level2", policy_amount=D(10800), designated=False, emergency_rescue=True)
    )
    designated = settle_inpatient(p, InpatientFacts(hospital_level="level2", policy_amount=D(10800)))
    assert rescued.pool_pay == designated.pool_pay == D(9000)


@pytest.mark.parametrize("code", ["langfang", "sanmenxia", "ziyang"])
def test_non_designated_rule_is_missing_where_the_seed_is_silent(code):
    with pytest.raises(PolicyMissing) as exc:
        settle_inpatient(
            Policy(code, date(2024, 6, 1), stats=ZIYANG_STATS),
            InpatientFacts(
                hospital_level="level2a" if code == "ziyang" else "level2", policy_amount=D(5000), designated=False
            ),
        )
    assert (exc.value.jurisdiction, exc.value.key) == (code, "inpatient.non_designated_rule")


def test_langfang_external_service_has_no_deductible_and_cites_the_articles():
    # 第四十七条(一)2: out of the area, 5% first, then the local ratio: 10000 × 95% × 88% = 8360.
    r = settle_inpatient(
        Policy("langfang", date(2024, 6, 1)),
        InpatientFacts(hospital_level="level3", external_service="out_of_area", policy_amount=D(10000)),
    )
    assert (r.deductible, r.ratio, r.pool_pay) == (D(0), D(88), D(8360))
    cites = " ".join(s.citation for s in r.steps)
    assert "第四十七条(一)2" in cites and "第六十五条" in cites


def test_external_service_belongs_to_a_local_stay():
    with pytest.raises(InputError, match="external_service"):
        settle_inpatient(
            Policy("langfang", date(2024, 6, 1)),
            InpatientFacts(
                hospital_level="level3", location="registered_remote", external_service="in_area", policy_amount=D(1000)
            ),
        )


@pytest.mark.parametrize("code", ["hunan", "sanmenxia", "ziyang"])
def test_external_service_rules_are_missing_where_the_seed_is_silent(code):
    with pytest.raises(PolicyMissing) as exc:
        settle_inpatient(
            Policy(code, date(2024, 6, 1), stats=ZIYANG_STATS),
            InpatientFacts(hospital_level="level1", external_service="in_area", policy_amount=D(1000)),
        )
    assert exc.value.key == "inpatient.external_service_rules"


def test_ziyang_high_value_drug_skips_the_deductible_that_a_stay_pays():
    p = Policy("ziyang", date(2024, 6, 1), stats=ZIYANG_STATS)
    stay = settle_inpatient(p, InpatientFacts(hospital_level="level3a", policy_amount=D(11000)))
    drug = settle_inpatient(
        p, InpatientFacts(hospital_level="level3a", policy_amount=D(11000), high_value_drug="outpatient")
    )
    assert (stay.deductible, stay.pool_pay) == (D(1000), D(8000))  # (11000 − 1000) × 80%
    assert (drug.deductible, drug.pool_pay) == (D(0), D(8800))  # 11000 × 80%, 第二十条(二)
    supplier = settle_inpatient(
        p, InpatientFacts(hospital_level="below_level1", policy_amount=D(1000), high_value_drug="supplier")
    )
    assert supplier.ratio == D(80)  # 三级 standard, not the 95% of 一级以下
    with pytest.raises(InputError):
        settle_inpatient(
            p,
            InpatientFacts(
                hospital_level="level1", policy_amount=D(1), high_value_drug="supplier", external_service="in_area"
            ),
        )


@pytest.mark.parametrize("code", ["hunan", "langfang", "sanmenxia"])
def test_high_value_drug_rules_are_missing_elsewhere(code):
    with pytest.raises(PolicyMissing) as exc:
        settle_inpatient(
            Policy(code, date(2024, 6, 1)),
            InpatientFacts(hospital_level="level2", policy_amount=D(1000), high_value_drug="outpatient"),
        )
    assert exc.value.key == "inpatient.high_value_drug_rules"


def test_langfang_disabled_soldiers_wait_for_the_separate_rules():
    # 第八十条 "具体办法按相关规定执行": a missing parameter, not the ordinary settlement.
    with pytest.raises(PolicyMissing) as exc:
        settle_inpatient(
            Policy("langfang", date(2024, 6, 1)),
            InpatientFacts(hospital_level="level3", disabled_soldier_grade=1, policy_amount=D(5000)),
        )
    assert (exc.value.jurisdiction, exc.value.key) == ("langfang", "inpatient.disabled_soldier_rules")
    # Without the grade the ordinary settlement is unchanged.
    assert settle_inpatient(
        Policy("langfang", date(2024, 6, 1)), InpatientFacts(hospital_level="level3", policy_amount=D(10600))
    ).pool_pay == D(8800)


@pytest.mark.parametrize("code", ["hunan", "sanmenxia"])
def test_care_counted_as_inpatient_is_missing_where_the_seed_is_silent(code):
    with pytest.raises(PolicyMissing) as exc:
        settle_inpatient(
            Policy(code, date(2024, 6, 1)),
            InpatientFacts(
                hospital_level="level2",
                counted_as_inpatient="emergency_observation",
                observation_days=5,
                policy_amount=D(2000),
            ),
        )
    assert exc.value.key == "inpatient.counted_as_inpatient"  # the whole table: no kind is given


def test_langfang_counted_as_inpatient_needs_its_facts():
    p = Policy("langfang", date(2024, 6, 1))
    with pytest.raises(InputError, match="days_before_admission"):
        settle_inpatient(
            p, InpatientFacts(hospital_level="level3", counted_as_inpatient="pre_surgery_tests", policy_amount=D(900))
        )
    with pytest.raises(InputError, match="observation_days"):
        settle_inpatient(
            p,
            InpatientFacts(hospital_level="level3", counted_as_inpatient="emergency_observation", policy_amount=D(900)),
        )
    refused = settle_inpatient(
        p,
        InpatientFacts(
            hospital_level="level2",
            counted_as_inpatient="emergency_observation",
            observation_days=3,
            policy_amount=D(900),
        ),
    )
    assert refused.pool_pay == 0 and "第四十七条(一)1" in refused.steps[-1].citation


def test_exclusions_and_third_party_advance():
    with pytest.raises(PolicyMissing) as exc:  # sanmenxia lists no exclusions outside maternity
        settle_inpatient(
            Policy("sanmenxia", date(2024, 6, 1)),
            InpatientFacts(hospital_level="level2", excluded_cause="work_injury", policy_amount=D(1)),
        )
    assert exc.value.key == "inpatient.excluded_causes"
    with pytest.raises(InputError, match="third_party_unpaid"):
        settle_inpatient(
            Policy("hunan", date(2024, 6, 1)),
            InpatientFacts(hospital_level="level2", third_party_unpaid=True, policy_amount=D(1)),
        )
    advanced = settle_inpatient(
        Policy("hunan", date(2024, 6, 1)),
        InpatientFacts(
            hospital_level="level2", excluded_cause="third_party", third_party_unpaid=True, policy_amount=D(10800)
        ),
    )
    assert advanced.third_party_advance is True and advanced.pool_pay == D(9000)
    assert any("第三十五条" in s.citation and "追偿" in s.description for s in advanced.steps)
    with pytest.raises(PolicyMissing) as exc:  # langfang 第五十四条(十) is silent on an advance
        settle_inpatient(
            Policy("langfang", date(2024, 6, 1)),
            InpatientFacts(
                hospital_level="level2", excluded_cause="third_party", third_party_unpaid=True, policy_amount=D(6400)
            ),
        )
    assert exc.value.key == "inpatient.third_party_advance"


def test_origin_level_ratio_is_a_xianning_rule():
    # 细则 第十八条: 外配 takes the prescribing institution's ratio; ziyang's pharmacies keep their own 50%.
    xianning = settle_outpatient(
        Policy("xianning", date(2024, 6, 1)),
        OutpatientFacts(hospital_level="pharmacy", origin_level="level1", amount=D(1400)),
    )
    assert (xianning.ratio, xianning.pool_pay) == (D(80), D(800))  # (1400 − 400) × 80%
    ziyang = settle_outpatient(
        Policy("ziyang", date(2024, 6, 1), stats=ZIYANG_STATS),
        OutpatientFacts(hospital_level="pharmacy", origin_level="level1", amount=D(1200)),
    )
    assert ziyang.ratio == D(50)
    with pytest.raises(PolicyMissing) as exc:
        settle_outpatient(
            Policy("hunan", date(2024, 6, 1)),
            OutpatientFacts(hospital_level="level1", origin_level="level3", amount=D(1)),
        )
    assert exc.value.key == "outpatient.ratio_by_origin_level"


def test_sanmenxia_figures_are_checked_against_the_article_11_ceilings():
    # 第十一条: deductible ≤ 10% and cap ≤ 4 × last year's provincial annual average wage.
    ok = Policy("sanmenxia", date(2024, 6, 1), stats={"annual_average_wage": 70000})
    assert parameter_limit_breaches(ok) == []  # 2000 ≤ 7000; 70000 ≤ 280000
    low = Policy("sanmenxia", date(2024, 6, 1), stats={"annual_average_wage": 15000})
    breaches = parameter_limit_breaches(low)
    assert [b.amount for b in breaches] == [D(2000), D(70000)]  # 2000 > 1500; 70000 > 60000
    assert all("第十一条" in b.citation for b in breaches)
    # Jurisdictions without such ceilings are not checked (and need no statistic).
    assert parameter_limit_breaches(Policy("hunan", date(2024, 6, 1))) == []


# --- what only the explanation or the input check shows (mutants the scenario outputs cannot see) -----------


def test_inpatient_input_counts_are_checked():
    p = Policy("hunan", date(2024, 6, 1))
    with pytest.raises(InputError, match="admission_number"):
        settle_inpatient(p, InpatientFacts(hospital_level="level1", policy_amount=D(1000), admission_number=0))
    with pytest.raises(InputError, match="special_disease_class"):
        settle_inpatient(p, InpatientFacts(hospital_level="level1", policy_amount=D(1000), special_disease_class=4))
    # 第三类 is a class the documents name: settled as usual (hunan 一级 (1000 − 500) × 92% = 460).
    r = settle_inpatient(p, InpatientFacts(hospital_level="level1", policy_amount=D(1000), special_disease_class=3))
    assert r.pool_pay == D("460.00")


def test_inpatient_explanation_names_a_deductible_above_the_amount_only_when_it_is():
    # hunan 第三十六条: 一级 起付 500. A 300 stay bears 300, and the explanation says why; a 1000 stay bears 500.
    p = Policy("hunan", date(2024, 6, 1))
    why = "政策范围内费用低于起付标准，起付标准按实际费用负担"
    low = settle_inpatient(p, InpatientFacts(hospital_level="level1", policy_amount=D(300)))
    assert Step(why, "", D(300)) in low.steps
    usual = settle_inpatient(p, InpatientFacts(hospital_level="level1", policy_amount=D(1000)))
    assert usual.deductible == D(500) and why not in [s.description for s in usual.steps]


def test_inpatient_explanation_of_the_repeat_decrement_and_the_retiree_increment():
    # langfang 第四十七条(一)1 (D-L1): 三级 600, the 3rd stay 100 less per further stay: 600 − 100 × 2 = 400.
    third = settle_inpatient(
        Policy("langfang", date(2024, 6, 1)),
        InpatientFacts(hospital_level="level3", policy_amount=D(10000), admission_number=3),
    )
    assert "年度第 3 次住院，起付标准依次递减 100 元 × 2 = 200 元" in [s.description for s in third.steps]
    assert third.deductible == D(400)
    # ziyang 第十八条(二)1–2 (D-X8): a retiree's ratio is the in-service 85% + 5 points; both articles cited.
    p = Policy("ziyang", date(2024, 6, 1), stats={"annual_average_wage": 80000})
    retired = settle_inpatient(
        p, InpatientFacts(hospital_level="level2", policy_amount=D(10000), person_type="retired", age=60)
    )
    step = next(s for s in retired.steps if s.description.startswith("退休人员在"))
    assert step == Step(
        "退休人员在二级乙等医疗机构住院支付比例 90%", "ziyang 第十八条(二)1；ziyang 第十八条(二)2, D-X8"
    )


def test_staff_rules_without_a_share_or_with_a_ratio_increment():
    # Hypothetical staff entries (test only): a 外检外购 row without a share pays the local ratio on the whole
    # amount (langfang 二级 93%: 1000 × 93% = 930); a soldiers' rule "+10 points" on 三级 88% → 98%:
    # (5000 − 600) × 98% = 4312 (第八十条 leaves the rule to staff).
    staff_enter(
        "langfang",
        {
            "inpatient.external_service_rules": {"in_area": {}, "requires_filing": True},
            "inpatient.disabled_soldier_rules": {"grades": [1], "ratio_increment_pct": "10"},
        },
        effective_from=date(2024, 6, 1),
        document=STAFF_DOCUMENT,
    )
    p = Policy("langfang", date(2024, 6, 15))
    external = settle_inpatient(
        p, InpatientFacts(hospital_level="level2", policy_amount=D(1000), external_service="in_area")
    )
    assert (external.deductible, external.ratio, external.pool_pay) == (D(0), D(93), D("930.00"))
    soldier = settle_inpatient(
        p, InpatientFacts(hospital_level="level3", policy_amount=D(5000), disabled_soldier_grade=1)
    )
    assert (soldier.deductible, soldier.ratio, soldier.pool_pay) == (D(600), D(98), D("4312.00"))
