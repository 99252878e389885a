"""Special-disease settlements (POLICY-DIGEST §2l): 门诊慢特病, 重特大疾病, 单行支付药品.

Expected amounts are computed by hand from the seed articles in each test's comment.
The annual caps that the seeds do not give (hunan 第四十七条 D-H12, sanmenxia 第十四条)
are required parameters: settlement fails until staff enter one (D-X16); the tests then
enter a hypothetical cap (test value, not policy) to check the arithmetic.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from benefits.calculations.special_disease import (
    SettlementResult,
    major_disease,
    single_payment_drug,
    special_disease_outpatient,
)
from policy.calculations import InputError
from policy.resolver import Policy, PolicyMissing
from tests.policy_support import staff_enter

D = Decimal
ON = date(2024, 6, 1)


pytestmark = pytest.mark.usefixtures("fresh_policy")


def _enter_cap(code: str, cap: str, effective_from: date) -> None:
    """What bureau staff would enter (hypothetical test value)."""
    staff_enter(
        code, {"special_disease.outpatient_annual_cap": cap}, effective_from=effective_from, document="测试录入"
    )


# --- 门诊慢特病: missing caps -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["hunan", "sanmenxia"])
def test_outpatient_cap_missing_until_entered(code: str) -> None:
    with pytest.raises(PolicyMissing) as exc:
        special_disease_outpatient(
            Policy(code, ON), person_type="in_service", disease_classes=None, amount=D(1000), paid_this_year=D(0)
        )
    assert exc.value.jurisdiction == code
    assert exc.value.key == "special_disease.outpatient_annual_cap"
    assert code in str(exc.value)


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["langfang", "xianning"])
def test_silent_jurisdictions_have_no_special_disease_rules(code: str) -> None:
    # langfang 第五十条 (separate city policy), xianning 细则 第九条 (办法 pending): no figures.
    with pytest.raises(PolicyMissing) as exc:
        special_disease_outpatient(
            Policy(code, ON), person_type="in_service", disease_classes=None, amount=D(1000), paid_this_year=D(0)
        )
    assert exc.value.jurisdiction == code
    assert exc.value.key == "special_disease.outpatient_ratio_pct"


# --- hunan 第四十七条: 80% in service, 85% retirees, no deductible ---------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("person_type", "ratio", "pool", "self_pay"),
    [
        ("in_service", D(80), D("8000.00"), D("2000.00")),  # 10000 × 80%
        ("retired", D(85), D("8500.00"), D("1500.00")),  # 10000 × 85%
    ],
)
def test_hunan_outpatient_ratios(person_type: str, ratio: Decimal, pool: Decimal, self_pay: Decimal) -> None:
    _enter_cap("hunan", "50000", date(2023, 1, 1))
    result = special_disease_outpatient(
        Policy("hunan", ON), person_type=person_type, disease_classes=None, amount=D(10000), paid_this_year=D(0)
    )
    assert isinstance(result, SettlementResult)
    assert (result.ratio, result.pool_pay, result.self_pay, result.deductible) == (ratio, pool, self_pay, 0)
    assert result.cap == D(50000)
    assert any("hunan 第四十七条" in s.citation for s in result.steps)


@pytest.mark.django_db
def test_hunan_outpatient_cap_limits_the_payment() -> None:
    # cap 5000, 4000 already paid: 2000 × 80% = 1600 > 1000 left → 1000; self 1000.
    _enter_cap("hunan", "5000", date(2023, 1, 1))
    result = special_disease_outpatient(
        Policy("hunan", ON), person_type="in_service", disease_classes=None, amount=D(2000), paid_this_year=D(4000)
    )
    assert (result.pool_pay, result.self_pay) == (D("1000.00"), D("1000.00"))


@pytest.mark.django_db
def test_hunan_outpatient_has_no_classes() -> None:
    _enter_cap("hunan", "5000", date(2023, 1, 1))
    with pytest.raises(InputError, match="disease_classes"):
        special_disease_outpatient(
            Policy("hunan", ON), person_type="in_service", disease_classes=[2], amount=D(100), paid_this_year=D(0)
        )


# --- sanmenxia 第十四条: 90% / 92%, no deductible ---------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("person_type", "pool"),
    [("in_service", D("900.00")), ("retired", D("920.00"))],  # 1000 × 90% ; 1000 × 92%
)
def test_sanmenxia_outpatient(person_type: str, pool: Decimal) -> None:
    _enter_cap("sanmenxia", "20000", date(2021, 2, 7))
    result = special_disease_outpatient(
        Policy("sanmenxia", ON), person_type=person_type, disease_classes=None, amount=D(1000), paid_this_year=D(0)
    )
    assert result.pool_pay == pool
    assert result.self_pay == D(1000) - pool
    assert result.deductible == 0


@pytest.mark.django_db
def test_sanmenxia_outpatient_rounds_half_up() -> None:
    # 333.35 × 90% = 300.015 → 300.02 (D-X12)
    _enter_cap("sanmenxia", "20000", date(2021, 2, 7))
    result = special_disease_outpatient(
        Policy("sanmenxia", ON), person_type="in_service", disease_classes=None, amount=D("333.35"), paid_this_year=0
    )
    assert result.pool_pay == D("300.02")
    assert result.self_pay == D("33.33")


# --- ziyang 第十七条: classes 2/3 75%, caps 3000/2000, +20% per extra disease (D-Z16) ----


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("classes", "amount", "cap", "pool"),
    [
        ([2], D(10000), D(3000), D("3000.00")),  # 10000 × 75% = 7500 > 3000
        ([3], D(1000), D(2000), D("750.00")),  # 1000 × 75% = 750
        ([3], D(4000), D(2000), D("2000.00")),  # 3000 > 2000
        ([2, 3], D(10000), D(3600), D("3600.00")),  # 3000 + 20% × 3000
        ([3, 2, 2], D(10000), D(4200), D("4200.00")),  # 3000 + 2 × 600
        ([3, 3], D(10000), D(2400), D("2400.00")),  # 2000 + 20% × 2000
    ],
)
def test_ziyang_class_caps(classes: list[int], amount: Decimal, cap: Decimal, pool: Decimal) -> None:
    result = special_disease_outpatient(
        Policy("ziyang", ON), person_type="in_service", disease_classes=classes, amount=amount, paid_this_year=D(0)
    )
    assert result.cap == cap
    assert result.ratio == D(75)
    assert result.deductible == 0  # D-Z30
    assert result.pool_pay == pool
    assert result.self_pay == amount - pool
    assert any("D-Z16" in s.citation for s in result.steps) == (len(classes) > 1)


@pytest.mark.django_db
def test_ziyang_retirees_also_75_and_cap_already_used() -> None:
    # [2, 3]: cap 3600; 3500 already paid → 100 left; 1000 × 75% = 750 → 100.
    result = special_disease_outpatient(
        Policy("ziyang", ON), person_type="retired", disease_classes=[2, 3], amount=D(1000), paid_this_year=D(3500)
    )
    assert (result.ratio, result.pool_pay, result.self_pay) == (D(75), D("100.00"), D("900.00"))
    # cap exhausted
    result = special_disease_outpatient(
        Policy("ziyang", ON), person_type="retired", disease_classes=[2], amount=D(1000), paid_this_year=D(3000)
    )
    assert result.pool_pay == 0


@pytest.mark.django_db
def test_ziyang_class_1_is_settled_as_inpatient() -> None:
    result = special_disease_outpatient(
        Policy("ziyang", ON), person_type="in_service", disease_classes=[1], amount=D(5000), paid_this_year=D(0)
    )
    assert result.settle_as_inpatient is True
    assert result.pool_pay == 0
    assert "住院" in result.steps[0].description
    assert "ziyang 第十七条(一)" in result.steps[0].citation


@pytest.mark.django_db
def test_ziyang_class_1_does_not_share_the_outpatient_cap() -> None:
    # [1, 3]: the class-1 disease is settled as inpatient; the cap is class 3's 2000, no +20%.
    result = special_disease_outpatient(
        Policy("ziyang", ON), person_type="in_service", disease_classes=[1, 3], amount=D(4000), paid_this_year=D(0)
    )
    assert result.settle_as_inpatient is False
    assert (result.cap, result.pool_pay) == (D(2000), D("2000.00"))


@pytest.mark.django_db
def test_ziyang_needs_the_classes() -> None:
    with pytest.raises(InputError, match="disease_classes"):
        special_disease_outpatient(
            Policy("ziyang", ON), person_type="in_service", disease_classes=None, amount=D(100), paid_this_year=D(0)
        )


@pytest.mark.django_db
def test_unknown_class_is_a_missing_cap() -> None:
    with pytest.raises(PolicyMissing) as exc:
        special_disease_outpatient(
            Policy("ziyang", ON), person_type="in_service", disease_classes=[4], amount=D(100), paid_this_year=D(0)
        )
    assert exc.value.key == "special_disease.class_caps.4"


@pytest.mark.django_db
def test_amounts_must_be_decimal_not_float() -> None:
    with pytest.raises(InputError):
        special_disease_outpatient(
            Policy("ziyang", ON), person_type="in_service", disease_classes=[2], amount=100.5, paid_this_year=D(0)
        )
    with pytest.raises(InputError):
        special_disease_outpatient(
            Policy("ziyang", ON), person_type="employee", disease_classes=[2], amount=D(100), paid_this_year=D(0)
        )


# --- sanmenxia 第十五条 重特大疾病 -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("setting", "tier", "ratio", "pool"),
    [
        ("inpatient", "county", D(85), D("8500.00")),  # 10000 × 85%
        ("inpatient", "city", D(75), D("7500.00")),
        ("inpatient", "provincial", D(70), D("7000.00")),
        ("outpatient", None, D(85), D("8500.00")),
        ("peritoneal_dialysis", None, D(90), D("9000.00")),
    ],
)
def test_sanmenxia_major_disease(setting: str, tier: str | None, ratio: Decimal, pool: Decimal) -> None:
    result = major_disease(Policy("sanmenxia", ON), tier=tier, setting=setting, amount=D(10000))
    assert (result.ratio, result.pool_pay, result.self_pay, result.deductible) == (ratio, pool, D(10000) - pool, 0)
    assert any("sanmenxia 第十五条" in s.citation for s in result.steps)


@pytest.mark.django_db
def test_sanmenxia_major_disease_rounding_and_limit() -> None:
    # 333.33 × 85% = 283.3305 → 283.33
    result = major_disease(Policy("sanmenxia", ON), tier="county", setting="inpatient", amount=D("333.33"))
    assert result.pool_pay == D("283.33")
    # a per-disease limit (限额管理) of 5000: 10000 × 75% = 7500 → 5000
    result = major_disease(Policy("sanmenxia", ON), tier="city", setting="inpatient", amount=D(10000), limit=D(5000))
    assert (result.pool_pay, result.self_pay) == (D("5000.00"), D("5000.00"))


@pytest.mark.django_db
def test_major_disease_inpatient_needs_a_tier() -> None:
    with pytest.raises(InputError, match="tier"):
        major_disease(Policy("sanmenxia", ON), tier=None, setting="inpatient", amount=D(100))


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["hunan", "langfang", "xianning", "ziyang"])
def test_major_disease_only_in_sanmenxia(code: str) -> None:
    with pytest.raises(PolicyMissing) as exc:
        major_disease(Policy(code, ON), tier="county", setting="inpatient", amount=D(100))
    assert (exc.value.jurisdiction, exc.value.key) == (code, "special_disease.major_disease_ratio_pct")


# --- ziyang 第二十条(一) 单行支付药品 ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "paid", "pool"),
    [
        (D(10000), D(0), D("7000.00")),  # 10000 × 70%, no deductible
        (D(10000), D(195000), D("5000.00")),  # 7000 > 200000 − 195000
        (D(10000), D(200000), D("0.00")),  # cap used up
        (D("1234.57"), D(0), D("864.20")),  # 864.199 → 864.20 (D-X12)
    ],
)
def test_ziyang_single_payment_drug(amount: Decimal, paid: Decimal, pool: Decimal) -> None:
    result = single_payment_drug(Policy("ziyang", ON), amount=amount, paid_this_year=paid)
    assert (result.ratio, result.pool_pay, result.self_pay) == (D(70), pool, amount - pool)
    assert result.cap == D(200000)
    assert result.deductible == 0
    assert any("ziyang 第二十条(一)2" in s.citation for s in result.steps)


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["hunan", "langfang", "xianning", "sanmenxia"])
def test_single_payment_drug_only_in_ziyang(code: str) -> None:
    with pytest.raises(PolicyMissing) as exc:
        single_payment_drug(Policy(code, ON), amount=D(100), paid_this_year=D(0))
    assert (exc.value.jurisdiction, exc.value.key) == (code, "special_disease.single_payment_drug_ratio_pct")


# --- the pool's overall annual cap (ziyang 第十二条(四), 第二十条(一)2) ----------------------------------------


@pytest.mark.django_db
def test_single_payment_drug_held_to_what_is_left_of_the_overall_cap() -> None:
    p = Policy("ziyang", ON, stats={"annual_average_wage": 80000})
    # 6 × 80000 = 480000; 478000 already paid across benefits → 2000 left; 10000 × 70% = 7000 → 2000.
    result = single_payment_drug(p, amount=D(10000), paid_this_year=D(0), overall_pool_paid_this_year=D(478000))
    assert (result.pool_pay, result.self_pay) == (D(2000), D(8000))
    assert any("年度最高支付限额 480000" in s.description for s in result.steps)
    # Without the overall figure only the drug's own 200 000 applies (the claims screen's current call).
    assert single_payment_drug(p, amount=D(10000)).pool_pay == D(7000)


@pytest.mark.django_db
def test_overall_cap_needs_the_average_wage_statistic() -> None:
    with pytest.raises(PolicyMissing) as exc:
        single_payment_drug(Policy("ziyang", ON), amount=D(100), overall_pool_paid_this_year=D(0))
    assert (exc.value.jurisdiction, exc.value.key) == ("ziyang", "annual_average_wage")


@pytest.mark.django_db
def test_ziyang_special_disease_held_to_the_overall_cap_and_its_own() -> None:
    p = Policy("ziyang", ON, stats={"annual_average_wage": 80000})
    # class 2: 1000 × 75% = 750; own cap 3000 − 2900 = 100 and overall 480000 − 479500 = 500 → the smaller, 100.
    result = special_disease_outpatient(
        p,
        person_type="in_service",
        disease_classes=[2],
        amount=D(1000),
        paid_this_year=D(2900),
        overall_pool_paid_this_year=D(479500),
    )
    assert result.pool_pay == D(100)


@pytest.mark.django_db
def test_special_disease_scenario_refuses_a_bad_class() -> None:
    from policy.scenarios import Case, run_case

    case = Case(
        Path("t"),
        1,
        {
            "name": "t",
            "jurisdiction": "ziyang",
            "on": "2024-06-01",
            "calculation": "special_disease",
            "input": {"disease_classes": ["二"], "amount": 100},
            "output": {"pool_pay": 75},
        },
    )
    result = run_case(case)
    assert not result.passed and "disease_classes" in result.problems[0]
