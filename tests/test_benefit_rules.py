"""Inpatient, outpatient-pooling and critical-illness rules: edge cases the scenario files do not show.

Expected figures are worked by hand from the seeds (arithmetic in the comments).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from benefits.calculations.critical_illness import settle_critical_illness
from benefits.calculations.inpatient import InpatientResult, settle_inpatient
from benefits.calculations.outpatient import band_age, settle_outpatient
from config import policy as policy_module
from config.calculations import InputError, discover
from config.policy import Policy, PolicyError, PolicyMissing
from config.scenarios import Case, run_case

pytestmark = pytest.mark.django_db

D = Decimal
ZIYANG_STATS = {"annual_average_wage": 80000}


@pytest.fixture(autouse=True)
def _fresh_policy_snapshot():
    policy_module.invalidate()
    yield
    policy_module.invalidate()


def _case(jurisdiction: str, calculation: str, inputs: dict, output: dict, on: str = "2024-06-01", stats=None) -> Case:
    data = {"name": "t", "jurisdiction": jurisdiction, "on": on, "calculation": calculation, "input": inputs}
    data["output"] = output
    if stats:
        data["stats"] = stats
    return Case(Path("test"), 1, data)


# --- jurisdictions whose seed is silent (D-X16, D-XN1) -------------------------------------------------------


def test_xianning_inpatient_fails_with_policy_missing_naming_xianning():
    with pytest.raises(PolicyMissing) as info:
        settle_inpatient(Policy("xianning", date(2024, 6, 1)), hospital_level="level3", policy_amount=D(10000))
    assert info.value.jurisdiction == "xianning"
    assert info.value.key == "inpatient.deductible_by_level"
    assert "xianning" in str(info.value)


def test_xianning_inpatient_scenario_is_a_failure_that_names_xianning():
    result = run_case(
        _case("xianning", "inpatient", {"hospital_level": "level2", "policy_amount": 5000}, {"pool_pay": 0})
    )
    assert not result.passed
    assert "xianning" in result.problems[0] and "inpatient.deductible_by_level" in result.problems[0]


@pytest.mark.parametrize("code", ["langfang", "xianning", "sanmenxia"])
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
        settle_inpatient(Policy("ziyang", date(2024, 6, 1)), hospital_level="level1", policy_amount=D(1000), age=40)
    assert info.value.key == "annual_average_wage"


def test_hunan_outpatient_out_of_area_is_not_given_by_the_seed():
    with pytest.raises(PolicyMissing) as info:
        settle_outpatient(
            Policy("hunan", date(2024, 6, 1)), hospital_level="level2", amount=D(500), location="referral"
        )
    assert info.value.key == "outpatient.location_rules.referral"


def test_before_the_effective_date_nothing_is_in_force():
    # langfang 第八十四条: from 2024-01-01.
    with pytest.raises(PolicyMissing):
        settle_inpatient(Policy("langfang", date(2023, 12, 31)), hospital_level="level1", policy_amount=D(1000))


# --- annual caps ---------------------------------------------------------------------------------------------


def test_hunan_inpatient_cap_boundary():
    p = Policy("hunan", date(2024, 6, 1))
    # 三级 在职: (20000 − 1100) × 85% = 16065; cap 150000.
    exact = settle_inpatient(p, hospital_level="level3", policy_amount=D(20000), pool_paid_this_year=D(133935))
    assert exact.pool_pay == D("16065.00")  # 150000 − 133935 = 16065 left: paid in full
    short = settle_inpatient(p, hospital_level="level3", policy_amount=D(20000), pool_paid_this_year=D("133935.01"))
    assert short.pool_pay == D("16064.99") and short.self_pay == D("3935.01")
    over = settle_inpatient(p, hospital_level="level3", policy_amount=D(20000), pool_paid_this_year=D(160000))
    assert over.pool_pay == 0 and over.self_pay == D(20000)


def test_ziyang_cap_is_six_times_the_average_wage():
    p = Policy("ziyang", date(2024, 6, 1), stats={"annual_average_wage": 50000})
    # cap 6 × 50000 = 300000; 299000 paid → 1000 left; (20000 − 1000) × 80% = 15200 → 1000.
    r = settle_inpatient(p, hospital_level="level3a", policy_amount=D(20000), age=40, pool_paid_this_year=D(299000))
    assert r.pool_pay == D(1000)


def test_outpatient_cap_boundary_langfang_retiree():
    p = Policy("langfang", date(2024, 6, 1))
    # retiree cap 4000; (1000 − 100) × 70% = 630; 3370 paid → exactly 630 left.
    assert settle_outpatient(
        p, person_type="retired", hospital_level="level1", amount=D(1000), pool_paid_this_year=D(3370)
    ).pool_pay == D(630)
    assert settle_outpatient(
        p, person_type="retired", hospital_level="level1", amount=D(1000), pool_paid_this_year=D(3371)
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
        Policy(code, date(2024, 6, 1), stats=stats), hospital_level=level, policy_amount=D("99.99"), age=40
    )
    assert (r.deductible, r.pool_pay, r.self_pay) == (D("99.99"), 0, D("99.99"))


def test_outpatient_deductible_larger_than_amount_xianning():
    r = settle_outpatient(Policy("xianning", date(2024, 6, 1)), hospital_level="level1", amount=D(50))
    assert (r.deductible, r.pool_pay, r.self_pay) == (D(50), 0, D(50))


def test_zero_amount():
    r = settle_inpatient(Policy("hunan", date(2024, 6, 1)), hospital_level="level1", policy_amount=D(0))
    assert (r.deductible, r.pool_pay, r.self_pay) == (0, 0, 0)


# --- rounding (D-X12: half-up to the fen, only on the payment) ----------------------------------------------


def test_rounding_is_half_up_not_bankers():
    # hunan 一级 outpatient 70%: 0.15 × 70% = 0.105 → 0.11 (half-even would give 0.10).
    r = settle_outpatient(Policy("hunan", date(2024, 6, 1)), hospital_level="level1", amount=D("0.15"))
    assert r.pool_pay == D("0.11") and r.self_pay == D("0.04")


def test_intermediate_values_are_not_rounded():
    # langfang cross-province: (600.95 − 600) × 90% × 88% = 0.855 × 0.88 = 0.7524 → 0.75;
    # rounding the 90% step first (0.855 → 0.86 × 0.88 = 0.7568) would give 0.76.
    r = settle_inpatient(
        Policy("langfang", date(2024, 6, 1)), hospital_level="level3", location="referral", policy_amount=D("600.95")
    )
    assert r.pool_pay == D("0.75")


# --- repeat admissions, transfers and explanation steps -----------------------------------------------------


def test_hunan_upward_referral_pays_only_the_difference():
    # D-H6: 二级 800 already borne for the same episode; 三级 1100 → 300 more.
    r = settle_inpatient(
        Policy("hunan", date(2024, 6, 1)),
        hospital_level="level3",
        policy_amount=D(10000),
        deductibles_this_year=D(800),
        deductible_paid_this_stay=D(800),
    )
    assert r.deductible == D(300)
    assert r.pool_pay == D("8245.00")  # (10000 − 300) × 85%


def test_second_year_part_of_a_stay_bears_no_new_deductible():
    # D-X15 / langfang 第四十七条(五): one deductible for a stay spanning two years.
    r = settle_inpatient(
        Policy("langfang", date(2025, 1, 10)),
        hospital_level="level2",
        policy_amount=D(3000),
        deductible_paid_this_stay=D(400),
    )
    assert r.deductible == 0 and r.pool_pay == D(2790)  # 3000 × 93%


def test_steps_explain_with_citations():
    r = settle_inpatient(
        Policy("langfang", date(2024, 6, 1)),
        person_type="retired",
        hospital_level="level3",
        tcm=True,
        admission_number=2,
        policy_amount=D(10000),
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
            person_type="retired",
            hospital_level="level1",
            policy_amount=D(1000),
        )


def test_ziyang_80_year_old_first_admission_still_pays():
    # 第十八条(一)5 waives only later admissions: 在职 82 一级 first → 200;
    # ratio 90 (no 70+ increment for the in-service, D-Z14).
    r = settle_inpatient(
        Policy("ziyang", date(2024, 6, 1), stats=ZIYANG_STATS), hospital_level="level1", policy_amount=D(1200), age=82
    )
    assert (r.deductible, r.ratio, r.pool_pay) == (D(200), D(90), D(900))


# --- outpatient specifics -------------------------------------------------------------------------------------


def test_sanmenxia_outpatient_refuses_with_a_message():
    r = settle_outpatient(Policy("sanmenxia", date(2023, 6, 1)), hospital_level="level2", amount=D(300))
    assert (r.deductible, r.ratio, r.pool_pay, r.self_pay) == (0, 0, 0, D(300))
    assert "未设普通门诊统筹" in r.refusal and "D-S11" in r.refusal


def test_langfang_has_no_pool_only_scheme():
    with pytest.raises(PolicyError, match="单建统筹"):
        settle_outpatient(
            Policy("langfang", date(2024, 6, 1)), hospital_level="level1", amount=D(300), age=30, scheme="pool_only"
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
        hospital_level="level2",
        amount=D(1000),
        deductible_used_this_year=D(100),
        pool_paid_this_year=D(1800),
        birth_date=birth,
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
                            person_type=person_type,
                            age=75,
                            hospital_level=level,
                            location=location,
                            admission_number=n,
                            policy_amount=amount,
                        )
                        assert 0 <= r.deductible <= amount
                        assert 0 <= r.pool_pay <= amount - r.deductible
                        assert r.pool_pay + r.self_pay == amount
                        assert 0 <= r.ratio <= 100


def test_every_calculation_is_registered_with_the_contract_keys():
    registry = discover()
    assert set(registry["inpatient"].outputs) == {"deductible", "ratio", "pool_pay", "self_pay"}
    assert set(registry["outpatient"].outputs) == {"deductible", "ratio", "pool_pay", "self_pay"}
    assert set(registry["critical_illness"].outputs) == {"pay"}
    assert set(registry["inpatient"].inputs) == {
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
    }
    assert set(registry["outpatient"].inputs) == {
        "person_type",
        "age",
        "hospital_level",
        "location",
        "amount",
        "deductible_used_this_year",
        "pool_paid_this_year",
        "scheme",
    }
    assert set(registry["critical_illness"].inputs) == {"self_pay_this_year", "paid_this_year", "poverty", "location"}


def test_a_wrong_expectation_fails():
    # Scenarios can fail: hunan 一级 (10000 − 500) × 92% = 8740, not 8741.
    result = run_case(
        _case("hunan", "inpatient", {"hospital_level": "level1", "policy_amount": 10000}, {"pool_pay": 8741})
    )
    assert not result.passed and "expected 8741" in result.problems[0]
