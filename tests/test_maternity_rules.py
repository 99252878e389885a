"""Maternity rules (生育保险): what the scenario files cannot express.

The scenario files tests/scenarios/{sanmenxia,ziyang}/maternity.yaml hold the worked
cases. Here: hunan, langfang and xianning give no maternity rules (D-H23, D-L16, D-XN1),
so every maternity case there fails with PolicyMissing naming the jurisdiction (D-X16);
and the input errors, silent items and explanation steps of :func:`maternity_benefit`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from benefits.calculations.maternity import MaternityResult, maternity_benefit
from config import policy as policy_module
from config.calculations import InputError
from config.policy import Policy, PolicyMissing
from config.scenarios import Case, run_case

D = Decimal
ON = date(2024, 3, 1)


@pytest.fixture(autouse=True)
def _fresh_snapshot() -> Iterator[None]:
    policy_module.invalidate()
    yield
    policy_module.invalidate()


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
        maternity_benefit(_policy(code, employer_average_monthly_wage=6000), **facts)
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
        maternity_benefit(_policy("sanmenxia", date(2021, 2, 6)), event="natural", continuous_months=12)
    assert exc.value.jurisdiction == "sanmenxia"


@pytest.mark.django_db
def test_sanmenxia_steps_cite_articles() -> None:
    result = maternity_benefit(
        _policy("sanmenxia", employer_average_monthly_wage=6000),
        event="caesarean",
        babies=2,
        continuous_months=9,
        policy_extra_days=90,
        rare_complication=True,
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
        maternity_benefit(_policy("sanmenxia"), event="abortion_under_4_months", continuous_months=9)


@pytest.mark.django_db
def test_setting_abortion_needs_pregnancy_months_for_the_allowance() -> None:
    policy = _policy("sanmenxia", employer_average_monthly_wage=6000)
    with pytest.raises(InputError, match="pregnancy_months"):
        maternity_benefit(policy, event="inpatient_abortion", continuous_months=9)
    # Without an allowance (not 9 months) the months are not needed: nothing is paid at all.
    result = maternity_benefit(policy, event="inpatient_abortion", continuous_months=8)
    assert result.eligible is False


@pytest.mark.django_db
def test_ziyang_abortion_by_setting_needs_pregnancy_months_for_the_cap() -> None:
    with pytest.raises(InputError, match="pregnancy_months"):
        maternity_benefit(_policy("ziyang"), event="outpatient_abortion", continuous_months=3)


@pytest.mark.django_db
def test_pregnancy_months_must_agree_with_the_event() -> None:
    with pytest.raises(InputError, match="不一致"):
        maternity_benefit(
            _policy("ziyang", employer_average_monthly_wage=6000),
            event="abortion_under_4_months",
            pregnancy_months=5,
            continuous_months=12,
        )


@pytest.mark.django_db
def test_pregnancy_month_thresholds_are_inclusive() -> None:
    # "满4个月" → 42 days; 3 months → 15 days (ziyang 第二十四条(一)); "满7个月以上" → 158.
    policy = _policy("ziyang", employer_average_monthly_wage=3000)
    days = {
        m: maternity_benefit(policy, event="stillbirth", pregnancy_months=m, continuous_months=12).allowance_days
        for m in (3, 4, 6, 7)
    }
    assert days == {3: 15, 4: 42, 6: 42, 7: 158}


@pytest.mark.django_db
def test_sanmenxia_stillbirth_amount_is_missing() -> None:
    # 第二十四条 lists no stillbirth amount: a missing table item, named (D-X16).
    with pytest.raises(PolicyMissing) as exc:
        maternity_benefit(_policy("sanmenxia"), event="stillbirth", pregnancy_months=6, continuous_months=9)
    assert exc.value.key == "maternity.medical_amounts.stillbirth"


@pytest.mark.django_db
def test_sanmenxia_has_no_ziyang_packages() -> None:
    with pytest.raises(PolicyMissing) as exc:
        maternity_benefit(_policy("sanmenxia"), event="implant_insertion", continuous_months=9)
    assert exc.value.key == "maternity.family_planning_packages"
    assert exc.value.jurisdiction == "sanmenxia"


@pytest.mark.django_db
def test_ziyang_unemployed_allowance_is_missing() -> None:
    # ziyang names the unemployed as insured (第七条(二)) but gives no allowance rule for them.
    with pytest.raises(PolicyMissing) as exc:
        maternity_benefit(
            _policy("ziyang", reference_monthly_wage=6000), event="natural", category="unemployed", continuous_months=12
        )
    assert exc.value.key == "maternity.unemployed_allowance_wage_pct"


@pytest.mark.django_db
def test_ziyang_takes_no_extra_leave_days() -> None:
    # The 158-day table is complete (第二十四条(一)); sanmenxia adds the provincial 90 (第二十六条(二)).
    with pytest.raises(InputError, match="policy_extra_days"):
        maternity_benefit(_policy("ziyang"), event="natural", continuous_months=12, policy_extra_days=60)


@pytest.mark.django_db
def test_extra_leave_days_only_for_births() -> None:
    with pytest.raises(InputError, match="policy_extra_days"):
        maternity_benefit(
            _policy("sanmenxia"),
            event="inpatient_abortion",
            pregnancy_months=5,
            continuous_months=9,
            policy_extra_days=90,
        )


@pytest.mark.django_db
def test_ziyang_complication_is_settled_as_inpatient() -> None:
    result = maternity_benefit(_policy("ziyang"), event="rare_complication")
    assert result.settle_as_inpatient is True
    assert result.medical_payment == 0
    # On a delivery: the delivery cap is paid, the complication goes to inpatient rules (第二十三条).
    result = maternity_benefit(
        _policy("ziyang"), event="natural", rare_complication=True, actual_cost=D("3000"), continuous_months=3
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
        maternity_benefit(_policy("sanmenxia", employer_average_monthly_wage=6000), **facts)


@pytest.mark.django_db
def test_allowance_needs_the_employer_wage_statistic() -> None:
    # The statistic is entered by the bureau; without it the allowance cannot be computed.
    with pytest.raises(PolicyMissing) as exc:
        maternity_benefit(_policy("ziyang"), event="natural", continuous_months=12)
    assert exc.value.key == "employer_average_monthly_wage"


@pytest.mark.django_db
def test_ziyang_flexible_male_gets_no_spouse_grant() -> None:
    # Flexible workers pay no maternity rate (第九条(二)2) and get delivery caps only (第十九条).
    result = maternity_benefit(_policy("ziyang"), event="natural", sex="male", category="flexible")
    assert result.eligible is False
    assert result.medical_payment == 0


@pytest.mark.django_db
def test_ziyang_flexible_abortion_is_outside_the_caps() -> None:
    result = maternity_benefit(
        _policy("ziyang"), event="abortion_under_4_months", category="flexible", actual_cost=D("500")
    )
    assert result.eligible is False
    assert result.medical_payment == 0
