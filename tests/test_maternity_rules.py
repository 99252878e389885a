"""Maternity rules (生育保险): what the scenario files cannot express.

The scenario files tests/scenarios/{sanmenxia,ziyang}/maternity.yaml hold the worked
cases. Here: hunan, langfang and xianning give no maternity rules (D-H23, D-L16, D-XN1),
so every maternity case there fails with PolicyMissing naming the jurisdiction (D-X16);
and the input errors, silent items and explanation steps of :func:`maternity_benefit`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benefits.calculations.maternity import MaternityFacts, MaternityResult, maternity_benefit
from policy.calculations import InputError
from policy.resolver import Policy, PolicyMissing
from policy.scenarios import Case, run_case
from tests.policy_support import assert_pending_cases

D = Decimal
ON = date(2024, 3, 1)


pytestmark = pytest.mark.usefixtures("fresh_policy")


def _policy(code: str, on: date = ON, **stats: int | str) -> Policy:
    return Policy(code, on, stats=stats)


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["hunan", "langfang", "xianning"])
@pytest.mark.parametrize(
    "facts",
    [
        {"event": "natural", "continuous_months": 12},
        {"event": "caesarean", "babies": 2, "continuous_months": 24},
        {"event": "abortion_under_4_months", "continuous_months": 12},
        {"event": "prenatal"},
        {"event": "natural", "sex": "male"},
        {"event": "natural", "category": "flexible", "continuous_months": 12},
    ],
)
def test_silent_jurisdictions_raise_policy_missing(code: str, facts: dict) -> None:
    with pytest.raises(PolicyMissing) as exc:
        maternity_benefit(_policy(code, employer_average_monthly_wage=6000), MaternityFacts(**facts))
    assert exc.value.jurisdiction == code
    assert exc.value.key.startswith("maternity.")
    assert code in str(exc.value)


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["hunan", "langfang", "xianning"])
def test_silent_jurisdictions_fail_as_scenario_cases(code: str) -> None:
    case = Case(
        path=__file__,  # type: ignore[arg-type]
        index=1,
        data={
            "name": f"{code} 自然分娩",
            "jurisdiction": code,
            "on": "2024-03-01",
            "calculation": "maternity",
            "stats": {"employer_average_monthly_wage": 6000},
            "input": {"event": "natural", "continuous_months": 12},
            "output": {"eligible": True, "allowance_days": 98},
        },
    )
    result = run_case(case)
    assert not result.passed
    assert f"missing parameter 'maternity.medical_payment_basis' for {code}" in result.problems[0]


@pytest.mark.django_db
def test_before_the_document_is_in_force_nothing_applies() -> None:
    # sanmenxia 三政办〔2021〕2号 in force from 2021-02-07 (第六十五条).
    with pytest.raises(PolicyMissing) as exc:
        maternity_benefit(_policy("sanmenxia", date(2021, 2, 6)), MaternityFacts(event="natural", continuous_months=12))
    assert exc.value.jurisdiction == "sanmenxia"


@pytest.mark.django_db
def test_sanmenxia_steps_cite_articles() -> None:
    result = maternity_benefit(
        _policy("sanmenxia", employer_average_monthly_wage=6000),
        MaternityFacts(event="caesarean", babies=2, continuous_months=9, policy_extra_days=90, rare_complication=True),
    )
    assert isinstance(result, MaternityResult)
    # 98 + 15 + 15 + 90 = 218 days; 6000 / 30 = 200 a day (第二十六条, D-S14)
    assert result.allowance_days == 218
    assert result.daily_rate == D(200)
    assert result.allowance == D("43600.00")
    assert result.medical_payment == D("4200.00")  # 2800 + 1400 (第二十四条(二)(三), D-S13)
    cites = " ".join(step.citation for step in result.steps)
    for article in ("第二十三条", "第二十四条", "第二十六条(一)", "第二十六条(二)", "D-S13", "D-S14"):
        assert article in cites
    assert all(step.description for step in result.steps)


@pytest.mark.django_db
def test_sanmenxia_abortion_by_months_needs_the_setting() -> None:
    # 第二十四条(五) pays 门诊流产 160 / 住院流（引）产 800: the month band alone does not say which.
    with pytest.raises(InputError, match="setting"):
        maternity_benefit(_policy("sanmenxia"), MaternityFacts(event="abortion_under_4_months", continuous_months=9))


@pytest.mark.django_db
def test_setting_abortion_needs_pregnancy_months_for_the_allowance() -> None:
    policy = _policy("sanmenxia", employer_average_monthly_wage=6000)
    with pytest.raises(InputError, match="pregnancy_months"):
        maternity_benefit(policy, MaternityFacts(event="inpatient_abortion", continuous_months=9))
    # Without an allowance (not 9 months) the months are not needed: nothing is paid at all.
    result = maternity_benefit(policy, MaternityFacts(event="inpatient_abortion", continuous_months=8))
    assert result.eligible is False


@pytest.mark.django_db
def test_ziyang_abortion_by_setting_needs_pregnancy_months_for_the_cap() -> None:
    with pytest.raises(InputError, match="pregnancy_months"):
        maternity_benefit(_policy("ziyang"), MaternityFacts(event="outpatient_abortion", continuous_months=3))


@pytest.mark.django_db
def test_pregnancy_months_must_agree_with_the_event() -> None:
    with pytest.raises(InputError, match="不一致"):
        maternity_benefit(
            _policy("ziyang", employer_average_monthly_wage=6000),
            MaternityFacts(event="abortion_under_4_months", pregnancy_months=5, continuous_months=12),
        )


@pytest.mark.django_db
def test_pregnancy_month_thresholds_are_inclusive() -> None:
    # "满4个月" → 42 days; 3 months → 15 days (ziyang 第二十四条(一)); "满7个月以上" → 158.
    policy = _policy("ziyang", employer_average_monthly_wage=3000)
    days = {
        m: maternity_benefit(
            policy, MaternityFacts(event="stillbirth", pregnancy_months=m, continuous_months=12)
        ).allowance_days
        for m in (3, 4, 6, 7)
    }
    assert days == {3: 15, 4: 42, 6: 42, 7: 158}


@pytest.mark.django_db
def test_sanmenxia_stillbirth_amount_is_missing() -> None:
    # 第二十四条 lists no stillbirth amount: a missing table item, named (D-X16).
    with pytest.raises(PolicyMissing) as exc:
        maternity_benefit(
            _policy("sanmenxia"), MaternityFacts(event="stillbirth", pregnancy_months=6, continuous_months=9)
        )
    assert exc.value.key == "maternity.medical_amounts.stillbirth"


@pytest.mark.django_db
def test_sanmenxia_has_no_ziyang_packages() -> None:
    with pytest.raises(PolicyMissing) as exc:
        maternity_benefit(_policy("sanmenxia"), MaternityFacts(event="implant_insertion", continuous_months=9))
    assert exc.value.key == "maternity.family_planning_packages"
    assert exc.value.jurisdiction == "sanmenxia"


@pytest.mark.django_db
def test_ziyang_unemployed_allowance_is_missing() -> None:
    # ziyang names the unemployed as insured (第七条(二)) but gives no allowance rule for them.
    with pytest.raises(PolicyMissing) as exc:
        maternity_benefit(
            _policy("ziyang", reference_monthly_wage=6000),
            MaternityFacts(event="natural", category="unemployed", continuous_months=12),
        )
    assert exc.value.key == "maternity.unemployed_allowance_wage_pct"


@pytest.mark.django_db
def test_ziyang_takes_no_extra_leave_days() -> None:
    # The 158-day table is complete (第二十四条(一)); sanmenxia adds the provincial 90 (第二十六条(二)).
    with pytest.raises(InputError, match="policy_extra_days"):
        maternity_benefit(
            _policy("ziyang"), MaternityFacts(event="natural", continuous_months=12, policy_extra_days=60)
        )


@pytest.mark.django_db
def test_extra_leave_days_only_for_births() -> None:
    with pytest.raises(InputError, match="policy_extra_days"):
        maternity_benefit(
            _policy("sanmenxia"),
            MaternityFacts(event="inpatient_abortion", pregnancy_months=5, continuous_months=9, policy_extra_days=90),
        )


@pytest.mark.django_db
def test_ziyang_complication_is_settled_as_inpatient() -> None:
    result = maternity_benefit(_policy("ziyang"), MaternityFacts(event="rare_complication"))
    assert result.settle_as_inpatient is True
    assert result.medical_payment == 0
    # On a delivery: the delivery cap is paid, the complication goes to inpatient rules (第二十三条).
    result = maternity_benefit(
        _policy("ziyang"),
        MaternityFacts(event="natural", rare_complication=True, actual_cost=D("3000"), continuous_months=3),
    )
    assert result.settle_as_inpatient is True
    assert result.medical_payment == D("3000.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ({"event": "multiple"}, "babies"),
        ({"event": "natural", "babies": 0}, "babies"),
        ({"event": "vasectomy"}, "male"),
        ({"event": "prenatal", "rare_complication": True}, "rare_complication"),
        ({"event": "outpatient_abortion", "setting": "inpatient", "pregnancy_months": 2}, "setting"),
        ({"event": "natural", "sex": "male", "policy_extra_days": 90}, "policy_extra_days"),
        ({"event": "natural"}, "continuous_months"),
        ({"event": "delivery"}, "event"),
    ],
)
def test_input_errors(facts: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        maternity_benefit(_policy("sanmenxia", employer_average_monthly_wage=6000), MaternityFacts(**facts))


@pytest.mark.django_db
def test_allowance_needs_the_employer_wage_statistic() -> None:
    # The statistic is entered by the bureau; without it the allowance cannot be computed.
    with pytest.raises(PolicyMissing) as exc:
        maternity_benefit(_policy("ziyang"), MaternityFacts(event="natural", continuous_months=12))
    assert exc.value.key == "employer_average_monthly_wage"


@pytest.mark.django_db
def test_ziyang_flexible_male_gets_no_spouse_grant() -> None:
    # Flexible workers pay no maternity rate (第九条(二)2) and get delivery caps only (第十九条).
    result = maternity_benefit(_policy("ziyang"), MaternityFacts(event="natural", sex="male", category="flexible"))
    assert result.eligible is False
    assert result.medical_payment == 0


@pytest.mark.django_db
def test_ziyang_flexible_abortion_is_outside_the_caps() -> None:
    result = maternity_benefit(
        _policy("ziyang"), MaternityFacts(event="abortion_under_4_months", category="flexible", actual_cost=D("500"))
    )
    assert result.eligible is False
    assert result.medical_payment == 0


# --- tests/scenarios_pending: maternity cases that wait for staff values (D-X16) ------------------------------

# What hunan / langfang / xianning staff would enter once the city's maternity policy is supplied.
# Hypothetical values for the test only, not policy: the pending files' expected outputs were worked
# by hand from them.
MATERNITY_STAFF_VALUES = {
    "maternity.medical_qualifying_months": None,
    "maternity.allowance_qualifying_months": "12",
    "maternity.spouse_grant_qualifying_months": None,
    "maternity.medical_payment_basis": "capped",
    "maternity.medical_amounts": {
        "prenatal": "500",
        "natural": "3000",
        "assisted": "3000",
        "difficult": "5000",
        "caesarean": "5000",
        "multiple": "5000",
        "abortion_under_4_months": "800",
        "abortion_4_to_7_months": "1200",
        "abortion_over_7_months": "3000",
        "stillbirth": "1500",
    },
    "maternity.family_planning_packages": {},
    "maternity.flexible_medical_caps": None,
    "maternity.complications_as_inpatient": True,
    "maternity.spouse_grant_pct": "50",
    "maternity.spouse_grant_events": ["natural", "assisted", "caesarean", "difficult", "multiple"],
    "maternity.allowance_day_divisor": "30",
    "maternity.delivery_days": "98",
    "maternity.dystocia_extra_days": "15",
    "maternity.dystocia_events": ["difficult", "caesarean"],
    "maternity.extra_baby_days": "15",
    "maternity.policy_extra_days_apply": True,
    "maternity.pregnancy_loss_days": {"under_4_months": "15", "4_to_7_months": "42", "over_7_months": "42"},
    "maternity.pregnancy_month_thresholds": ["4", "7"],
    "maternity.fiscal_institution_allowance": False,
    "maternity.flexible_allowance_wage_pct": None,
    "maternity.unemployed_allowance_wage_pct": None,
    "maternity.retiree_allowance": False,
}
# sanmenxia's own fixed amounts (第二十四条) plus the stillbirth amount staff would enter (hypothetical 1000).
SANMENXIA_AMOUNTS_WITH_STILLBIRTH = {
    "prenatal": "500",
    "natural": "1200",
    "multiple": "1200",
    "assisted": "1400",
    "difficult": "1400",
    "caesarean": "2800",
    "rare_complication": "1400",
    "tubal_ligation": "1400",
    "vasectomy": "1400",
    "tubal_reversal": "1400",
    "vas_reversal": "1400",
    "iud_insertion": "80",
    "iud_removal": "80",
    "outpatient_abortion": "160",
    "inpatient_abortion": "800",
    "stillbirth": "1000",
}
_BIRTHS = ("natural", "assisted", "caesarean", "difficult", "multiple")
STAFF_DOCUMENT = "生育保险待遇政策（经办录入，测试假设值）"  # what staff cite, after the jurisdiction
# file under tests/scenarios_pending → (the missing parameter each case names, in file order; values staff enter)
PENDING_MATERNITY = {
    "hunan/maternity.yaml": (["maternity.medical_payment_basis"] * 3, MATERNITY_STAFF_VALUES),
    "langfang/maternity.yaml": (["maternity.medical_payment_basis"] * 3, MATERNITY_STAFF_VALUES),
    "xianning/maternity.yaml": (["maternity.medical_payment_basis"] * 3, MATERNITY_STAFF_VALUES),
    "ziyang/maternity.yaml": (
        [
            "maternity.unemployed_allowance_wage_pct",
            "maternity.new_employer_allowance_stat",
            "maternity.after_separation_windows",
        ],
        {
            "maternity.unemployed_allowance_wage_pct": "60",
            "maternity.new_employer_allowance_stat": "employer_average_base",
            "maternity.after_separation_windows": [
                {"min_insured_months": 12, "max_insured_months": None, "window_months": 12}
            ],
        },
    ),
    "sanmenxia/maternity.yaml": (
        [
            "maternity.medical_amounts.stillbirth",
            "maternity.one_off_grant_amounts",
            "maternity.free_service_excluded",
        ],
        {
            "maternity.medical_amounts": SANMENXIA_AMOUNTS_WITH_STILLBIRTH,
            "maternity.one_off_grant_amounts": dict.fromkeys(_BIRTHS, "500"),
            "maternity.free_service_excluded": True,
        },
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PENDING_MATERNITY))
def test_pending_maternity_cases_fail_until_staff_enter_the_values(name: str) -> None:
    missing, values = PENDING_MATERNITY[name]
    assert_pending_cases(name, missing, values, effective_from=date(2024, 1, 1), document=STAFF_DOCUMENT)


# --- calcE2: arrears, separation, new employer, exclusions ----------------------------------------------------------


@pytest.mark.django_db
def test_sanmenxia_arrears_beyond_three_months_leave_medical_only_with_citation() -> None:
    result = maternity_benefit(
        _policy("sanmenxia", employer_average_monthly_wage=6000),
        MaternityFacts(event="natural", continuous_months=12, arrears_months=4, arrears_made_up=True),
    )
    assert (result.scope, result.medical_payment, result.allowance) == ("medical_only", D("1200.00"), D(0))
    assert any("第二十八条" in s.citation and "只享受生育医疗费用" in s.description for s in result.steps)


@pytest.mark.django_db
def test_arrears_threshold_is_inclusive_in_both_jurisdictions() -> None:
    # "3个月内" / "3个月内补缴": 3 unpaid months made up still gives everything (D-X5).
    for code, months in (("sanmenxia", 9), ("ziyang", 12)):
        policy = _policy(code, employer_average_monthly_wage=6000)
        three = maternity_benefit(
            policy, MaternityFacts(event="natural", continuous_months=months, arrears_months=3, arrears_made_up=True)
        )
        four = maternity_benefit(
            policy, MaternityFacts(event="natural", continuous_months=months, arrears_months=4, arrears_made_up=True)
        )
        assert three.scope == "full" and three.allowance > 0, code
        assert four.scope != "full" and four.allowance == 0, code


@pytest.mark.django_db
def test_sanmenxia_separation_window_is_half_open() -> None:
    # 第二十八条 "在24个月未就业期间": from 2022-06-01 the window ends before 2024-06-01 (S23 Reading A).
    policy = _policy("sanmenxia")
    facts = {"event": "natural", "separated_on": date(2022, 6, 1), "maternity_insured_months": 24}
    assert maternity_benefit(policy, MaternityFacts(event_on=date(2024, 5, 31), **facts)).scope == "medical_only"
    assert maternity_benefit(policy, MaternityFacts(event_on=date(2024, 6, 1), **facts)).scope == "none"
    with pytest.raises(InputError, match="maternity_insured_months"):
        maternity_benefit(policy, MaternityFacts(event="natural", separated_on=date(2023, 1, 1)))
    with pytest.raises(InputError, match="separated_on"):
        maternity_benefit(
            policy, MaternityFacts(event="natural", separated_on=date(2024, 6, 2), maternity_insured_months=24)
        )
    with pytest.raises(InputError, match="separated_on"):
        maternity_benefit(
            policy,
            MaternityFacts(event="natural", sex="male", separated_on=date(2023, 1, 1), maternity_insured_months=24),
        )


@pytest.mark.django_db
def test_new_employer_allowance_uses_the_average_base_statistic() -> None:
    with pytest.raises(PolicyMissing) as exc:  # the statistic is entered by the bureau
        maternity_benefit(_policy("sanmenxia"), MaternityFacts(event="natural", continuous_months=9, new_employer=True))
    assert exc.value.key == "employer_average_base"
    with pytest.raises(PolicyMissing) as exc:  # ziyang 第二十四条(一) has no rule for a unit without a last year
        maternity_benefit(
            _policy("ziyang", employer_average_base=3000),
            MaternityFacts(event="natural", continuous_months=12, new_employer=True),
        )
    assert exc.value.key == "maternity.new_employer_allowance_stat"


@pytest.mark.django_db
def test_sanmenxia_one_off_grant_and_free_service_are_missing_values() -> None:
    policy = _policy("sanmenxia", employer_average_monthly_wage=6000)
    with pytest.raises(PolicyMissing) as exc:
        maternity_benefit(policy, MaternityFacts(event="natural", continuous_months=9, claim_one_off_grant=True))
    assert exc.value.key == "maternity.one_off_grant_amounts"
    # Not asked for: the other benefits are settled as before.
    assert maternity_benefit(policy, MaternityFacts(event="natural", continuous_months=9)).one_off_grant == 0
    with pytest.raises(PolicyMissing) as exc:
        maternity_benefit(policy, MaternityFacts(event="tubal_ligation", continuous_months=9, free_service=True))
    assert exc.value.key == "maternity.free_service_excluded"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ({"event": "natural", "free_service": True}, "free_service"),
        ({"event": "iud_insertion", "appraised_amount": D(100)}, "appraised_amount"),
        ({"event": "natural", "arrears_months": -1}, "arrears_months"),
    ],
)
def test_calc_e2_input_errors(facts: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        maternity_benefit(
            _policy("ziyang", employer_average_monthly_wage=6000), MaternityFacts(continuous_months=12, **facts)
        )


@pytest.mark.django_db
def test_ziyang_allowance_is_paid_to_the_employer_sanmenxia_says_nothing() -> None:
    ziyang = maternity_benefit(
        _policy("ziyang", employer_average_monthly_wage=4500), MaternityFacts(event="natural", continuous_months=12)
    )
    assert ziyang.allowance_payee == "employer"
    assert any("第三十三条(三)" in s.citation for s in ziyang.steps)
    sanmenxia = maternity_benefit(
        _policy("sanmenxia", employer_average_monthly_wage=4500), MaternityFacts(event="natural", continuous_months=9)
    )
    assert sanmenxia.allowance_payee is None


# --- properties (hypothesis): arrears made up in time change nothing; medical-only never pays an allowance --------

_DELIVERY = st.sampled_from(["natural", "assisted", "caesarean", "difficult"])


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    code=st.sampled_from(["sanmenxia", "ziyang"]),
    event=_DELIVERY,
    babies=st.integers(min_value=1, max_value=3),
    months=st.integers(min_value=12, max_value=120),
    arrears=st.integers(min_value=1, max_value=3),
    wage=st.integers(min_value=1000, max_value=30000),
)
def test_arrears_made_up_within_three_months_change_nothing(code, event, babies, months, arrears, wage) -> None:
    policy = _policy(code, employer_average_monthly_wage=wage)
    plain = maternity_benefit(policy, MaternityFacts(event=event, babies=babies, continuous_months=months))
    made_up = maternity_benefit(
        policy,
        MaternityFacts(
            event=event, babies=babies, continuous_months=months, arrears_months=arrears, arrears_made_up=True
        ),
    )
    assert made_up.outputs() == plain.outputs()


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    event=_DELIVERY,
    babies=st.integers(min_value=1, max_value=3),
    arrears=st.integers(min_value=4, max_value=24),
    insured=st.integers(min_value=12, max_value=240),
)
def test_sanmenxia_medical_only_pays_the_fixed_amount_and_no_allowance(event, babies, arrears, insured) -> None:
    policy = _policy("sanmenxia", employer_average_monthly_wage=6000)
    full = maternity_benefit(policy, MaternityFacts(event=event, babies=babies, continuous_months=12))
    for facts in (
        {"continuous_months": 12, "arrears_months": arrears, "arrears_made_up": True},
        {"separated_on": date(2024, 1, 1), "maternity_insured_months": insured},
    ):
        limited = maternity_benefit(policy, MaternityFacts(event=event, babies=babies, **facts))
        assert limited.scope == "medical_only"
        assert (limited.allowance, limited.allowance_days) == (0, 0)
        assert limited.medical_payment == full.medical_payment > 0
