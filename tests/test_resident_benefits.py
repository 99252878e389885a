"""城乡居民基本医疗保险待遇 (险种 390, issue 15 items 4, 5, 7): sanmenxia 第三十二条–第三十八条, the claim path and
the switches between the schemes (hunan 第六十条、第六十一条).

Amounts are worked by hand from the seed articles (the arithmetic is in each comment). The scenario files
tests/scenarios/sanmenxia/resident_*.yaml hold the table's cases; this file holds what they cannot show: input
errors, the pending cases (values the documents do not give), the claim path (scheme on the service date, the
register's tier, the resident accumulators and the resident fund's accounts) and birthdays.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.utils import timezone

from benefits.calculations._common import Step
from benefits.calculations.resident import (
    ResidentStayFacts,
    ensure_defaults,
    resident_childbirth,
    settle_resident_chronic,
    settle_resident_inpatient,
    settle_resident_major_disease,
    settle_resident_outpatient,
)
from benefits.calculations.scheme_switch import (
    cap_paid_with_resident,
    certification_carries_over,
    resident_cover_in_year,
    waiting_payer,
)
from benefits.claims.adjudication import Acc, ClaimFacts, Coverage, PersonFacts, decide
from benefits.claims.families.resident import RESIDENT_ADMISSIONS, resident_tier
from benefits.claims.models import BenefitAccumulator, ClaimStatus
from benefits.claims.services import ClaimError, claim_adjudicate
from benefits.models import EligibilityPeriod
from contributions.residents.models import ResidentDue
from enrollment.models import EnrolmentSpan
from funds.models import AccountKind, JournalEntry
from funds.posting import balance_of, fund_account
from policy.calculations import REGISTRY, InputError
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyError, PolicyMissing
from tests.policy_support import assert_pending_cases, staff_enter
from tests.test_claims import make_claim, make_person

ON = date(2024, 6, 1)
S = "sanmenxia"
pytestmark = pytest.mark.usefixtures("fresh_policy")


def stay(tier="county", level="level2", amount="5000", age=40, **kw) -> ResidentStayFacts:
    return ResidentStayFacts(tier=tier, hospital_level=level, policy_amount=D(amount), age=age, **kw)


def run(calc: str, code: str = S, **inputs):
    calculation = REGISTRY[calc]
    return calculation.run(Policy(code, ON), {"insutype": "390", **inputs})


# --- 住院 (第三十三条): what the scenario outputs do not show ----------------------------------------------------


@pytest.mark.django_db
def test_band_steps_name_each_band_and_its_ratio():
    # 县级 二级 5000: 400 起付; 400—1500 1100×63% = 693; 1500 以上 3500×83% = 2905
    r = settle_resident_inpatient(Policy(S, ON), stay())
    lines = [(s.description, s.amount) for s in r.steps]
    assert ("400 元—1500 元部分 1100 元 × 63%", D("693.00")) in lines
    assert ("1500 元以上部分 3500 元 × 83%", D("2905.00")) in lines
    assert r.steps[0].description == "居民住院：县级医疗机构二级或相当规模以下医院"
    assert "sanmenxia 第三十三条" in r.steps[0].citation
    assert (r.deductible, r.ratio, r.pool_pay, r.cap) == (D(400), None, D(3598), D(150000))


@pytest.mark.django_db
def test_halvings_do_not_stack_and_the_step_says_so():
    r = settle_resident_inpatient(Policy(S, ON), stay(age=14, admission_number=2))
    assert r.deductible == D(200)
    assert any("只减一次" in s.description for s in r.steps)
    alone = settle_resident_inpatient(Policy(S, ON), stay(age=15, admission_number=2))
    assert alone.deductible == D(200) and not any("只减一次" in s.description for s in alone.steps)
    child = settle_resident_inpatient(Policy(S, ON), stay(age=14))
    assert child.deductible == D(200) and not any("只减一次" in s.description for s in child.steps)
    assert any("14周岁以下" in s.description for s in child.steps)


@pytest.mark.django_db
def test_first_stay_at_county_is_not_halved_and_the_second_is():
    # admission_number counts this year's stays at 县级以上 hospitals: 1 → 400, 2 → 200 (第三十三条)
    assert settle_resident_inpatient(Policy(S, ON), stay(admission_number=1)).deductible == D(400)
    assert settle_resident_inpatient(Policy(S, ON), stay(admission_number=2)).deductible == D(200)


@pytest.mark.django_db
def test_elderly_increment_applies_from_the_80th_year_and_says_so():
    r = settle_resident_inpatient(Policy(S, ON), stay(age=80, amount="1500"))
    # 1100 × (63 + 5)% = 748
    assert (r.ratio, r.pool_pay) == (D(68), D(748))
    assert any("年满 80 周岁" in s.description for s in r.steps)
    younger = settle_resident_inpatient(Policy(S, ON), stay(age=79, amount="1500"))
    assert (younger.ratio, younger.pool_pay) == (D(63), D(693))


@pytest.mark.django_db
def test_cap_step_names_what_is_left():
    r = settle_resident_inpatient(Policy(S, ON), stay(pool_paid_this_year=D(149000)))
    assert r.pool_pay == D(1000)
    assert any("剩余 1000 元" in s.description for s in r.steps)
    full = settle_resident_inpatient(Policy(S, ON), stay(pool_paid_this_year=D(146402)))
    assert full.pool_pay == D(3598)  # 150000 − 146402 = 3598 exactly: not held back


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("facts", "message"),
    [
        (stay(age=None), "age"),
        (stay(age=-1), "age"),
        (stay(admission_number=0), "admission_number"),
        (stay(tier="village"), "tier"),
        (stay(level="level9"), "hospital_level"),
        (stay(amount="-1"), "policy_amount"),
        (stay(pool_paid_this_year="-5"), "pool_paid_this_year"),
    ],
)
def test_bad_stay_inputs_are_named(facts, message):
    with pytest.raises(InputError, match=message):
        settle_resident_inpatient(Policy(S, ON), facts)


@pytest.mark.django_db
def test_bands_and_ratios_that_do_not_match_are_refused():
    policy = Policy(S, ON, params={"resident_benefits.inpatient_band_ratio_pct": {"county": {"other": [63]}}})
    with pytest.raises(PolicyError, match="多一项"):
        settle_resident_inpatient(policy, stay())


@pytest.mark.django_db
def test_a_tier_or_class_the_table_does_not_give_is_named():
    with pytest.raises(PolicyMissing, match=r"resident_benefits\.inpatient_deductible\.county\.level3"):
        settle_resident_inpatient(Policy(S, ON), stay(level="level3"))
    with pytest.raises(PolicyMissing, match=r"resident_benefits\.inpatient_deductible\.city"):
        settle_resident_inpatient(
            Policy(S, ON, params={"resident_benefits.inpatient_deductible": {"county": {"other": 400}}}),
            stay(tier="city"),
        )


@pytest.mark.django_db
def test_the_calculation_refuses_employee_only_inputs_and_a_missing_tier():
    with pytest.raises(InputError, match="location"):
        run("inpatient", tier="county", hospital_level="level2", age=40, policy_amount=1000, location="referral")
    with pytest.raises(InputError, match="tier"):
        run("inpatient", hospital_level="level2", age=40, policy_amount=1000)
    with pytest.raises(InputError, match="tier"):
        REGISTRY["inpatient"].run(Policy(S, ON), {"tier": "township", "hospital_level": "level1", "policy_amount": 1})
    with pytest.raises(InputError, match="single_payment_drug"):
        run("special_disease", benefit="single_payment_drug", amount=100)
    with pytest.raises(InputError, match="disease_classes"):
        run("special_disease", benefit="chronic", amount=100, disease_classes=[1])
    with pytest.raises(InputError, match="event"):
        run("maternity", event="assisted")
    with pytest.raises(InputError, match="continuous_months"):
        run("maternity", event="natural", continuous_months=12)
    with pytest.raises(InputError, match="scheme"):
        run("outpatient", hospital_level="level1", amount=100, scheme="pool_only")


def test_ensure_defaults_lets_defaults_and_used_inputs_through():
    ensure_defaults({"a": 1, "b": None, "insutype": "390"}, {"a": 0, "b": None}, ("a",))
    with pytest.raises(InputError, match="输入 b"):
        ensure_defaults({"a": 1, "b": 2}, {"a": 0, "b": None}, ("a",))


# --- 门诊重症慢性病, 重特大疾病, 门诊统筹, 住院分娩 ---------------------------------------------------------------


@pytest.mark.django_db
def test_chronic_needs_the_limit_staff_enter():
    with pytest.raises(PolicyMissing, match=r"sanmenxia.*resident_benefits\.chronic_annual_cap"):
        settle_resident_chronic(Policy(S, ON), amount_=D(1000))
    policy = Policy(S, ON, params={"resident_benefits.chronic_annual_cap": 5000})
    r = settle_resident_chronic(policy, amount_=D(1000), paid_this_year=D(4350), overall_paid=D(0))
    assert (r.deductible, r.ratio, r.pool_pay, r.cap) == (D(0), D(65), D(650), D(5000))
    r = settle_resident_chronic(policy, amount_=D(1000), paid_this_year=D("4350.01"))
    assert r.pool_pay == D("649.99")
    # a deductible staff might enter is borne up to the amount
    staffed = Policy(
        S, ON, params={"resident_benefits.chronic_annual_cap": 5000, "resident_benefits.chronic_deductible": 200}
    )
    r = settle_resident_chronic(staffed, amount_=D(100))
    assert (r.deductible, r.pool_pay) == (D(100), D(0))
    r = settle_resident_chronic(staffed, amount_=D(1000))
    assert (r.deductible, r.pool_pay) == (D(200), D(520))


@pytest.mark.django_db
def test_major_disease_tiers_settings_and_caps():
    p = Policy(S, ON)
    assert settle_resident_major_disease(p, tier="city", setting="inpatient", amount_=D(100)).pool_pay == D(70)
    assert settle_resident_major_disease(p, tier=None, setting="outpatient", amount_=D(100)).pool_pay == D(80)
    with pytest.raises(PolicyMissing, match=r"major_disease_ratio_pct\.inpatient\.out_of_province"):
        settle_resident_major_disease(p, tier="out_of_province", setting="inpatient", amount_=D(100))
    with pytest.raises(InputError, match="tier"):
        settle_resident_major_disease(p, tier=None, setting="inpatient", amount_=D(100))
    with pytest.raises(InputError, match="setting"):
        settle_resident_major_disease(p, tier="city", setting="home", amount_=D(100))
    limited = settle_resident_major_disease(p, tier="county", setting="inpatient", amount_=D(1000), limit=D(800))
    assert (limited.pool_pay, limited.cap) == (D(800), D(800))  # 1000 × 80% = 800 = the limit: paid in full
    limited = settle_resident_major_disease(p, tier="county", setting="inpatient", amount_=D(1000), limit=D(799))
    assert limited.pool_pay == D(799)
    # the annual cap counts major disease (第三十二条): 149 500 paid, 800 due, 500 left
    capped = settle_resident_major_disease(
        p, tier="county", setting="inpatient", amount_=D(1000), overall_paid=D(149500)
    )
    assert capped.pool_pay == D(500)


@pytest.mark.django_db
def test_outpatient_pooling_is_apart_from_the_annual_cap():
    values = {
        "resident_benefits.outpatient_deductible": 50,
        "resident_benefits.outpatient_ratio_pct": 50,
        "resident_benefits.outpatient_annual_cap": 400,
    }
    p = Policy(S, ON, params=values)
    r = settle_resident_outpatient(p, amount_=D(30))
    assert (r.deductible, r.pool_pay, r.self_pay) == (D(30), D(0), D(30))
    r = settle_resident_outpatient(p, amount_=D(100), deductible_used=D(20))
    assert (r.deductible, r.pool_pay) == (D(30), D(35))
    r = settle_resident_outpatient(p, amount_=D(100), deductible_used=D(50), pool_paid_this_year=D(350))
    assert r.pool_pay == D(50)  # exactly what is left
    assert any("不计入" in s.description for s in r.steps)
    no_cap = Policy(S, ON, params={**values, "resident_benefits.outpatient_annual_cap": None})
    assert settle_resident_outpatient(no_cap, amount_=D(1000), pool_paid_this_year=D(10**6)).pool_pay == D(475)
    no_deductible = Policy(S, ON, params={**values, "resident_benefits.outpatient_deductible": None})
    assert settle_resident_outpatient(no_deductible, amount_=D(100)).pool_pay == D(50)
    counted = Policy(S, ON, params={**values, "resident_benefits.outpatient_outside_cap": False})
    with pytest.raises(PolicyMissing, match="outpatient_outside_cap"):
        settle_resident_outpatient(counted, amount_=D(100))


@pytest.mark.django_db
def test_childbirth_below_at_and_above_the_fixed_amount():
    p = Policy(S, ON)
    assert resident_childbirth(p, event="natural").pool_pay == D(760)
    assert resident_childbirth(p, event="natural", actual_cost=D("759.99")).pool_pay == D("759.99")
    assert resident_childbirth(p, event="natural", actual_cost=D(760)).pool_pay == D(760)
    r = resident_childbirth(p, event="caesarean", actual_cost=D(2000))
    assert (r.pool_pay, r.self_pay) == (D(1870), D(130))
    fixed_only = Policy(S, ON, params={"resident_benefits.childbirth_below_amount_as_incurred": False})
    assert resident_childbirth(fixed_only, event="natural", actual_cost=D(500)).pool_pay == D(760)
    with pytest.raises(PolicyMissing, match=r"childbirth_amounts\.caesarean"):
        resident_childbirth(
            Policy(S, ON, params={"resident_benefits.childbirth_amounts": {"natural": 760}}), event="caesarean"
        )


# --- pending values (D-X16): named until staff enter them -----------------------------------------------------

SANMENXIA_STAFF_VALUES = {  # hypothetical test values, not policy; tables as staff would re-enter them whole
    "resident_benefits.outpatient_deductible": "50",
    "resident_benefits.outpatient_ratio_pct": "50",
    "resident_benefits.outpatient_annual_cap": "400",
    "resident_benefits.chronic_annual_cap": "5000",
    "resident_benefits.inpatient_deductible": {
        "township": {"other": 150},
        "county": {"other": 400, "level3": 500},
        "city": {"other": 500, "level3": 1200},
        "provincial": {"other": 600, "level3": 2000},
        "out_of_province": {"any": 2000},
    },
    "resident_benefits.inpatient_band_upper": {
        "township": {"other": [800]},
        "county": {"other": [1500], "level3": [1500]},
        "city": {"other": [3000], "level3": [4000]},
        "provincial": {"other": [4000], "level3": [7000]},
        "out_of_province": {"any": [7000]},
    },
    "resident_benefits.inpatient_band_ratio_pct": {
        "township": {"other": [70, 90]},
        "county": {"other": [63, 83], "level3": [63, 83]},
        "city": {"other": [55, 75], "level3": [53, 72]},
        "provincial": {"other": [53, 72], "level3": [50, 68]},
        "out_of_province": {"any": [50, 68]},
    },
    "resident_benefits.major_disease_ratio_pct": {
        "inpatient": {"township": 80, "county": 80, "city": 70, "provincial": 65},
        "outpatient": 80,
        "peritoneal_dialysis": 85,
    },
}
OTHER_STAFF_VALUES = {  # hypothetical test values, not policy
    "resident_benefits.inpatient_deductible": {"county": {"other": 500}},
    "resident_benefits.inpatient_band_upper": {"county": {"other": [2000]}},
    "resident_benefits.inpatient_band_ratio_pct": {"county": {"other": [60, 80]}},
    "resident_benefits.child_max_age": None,
    "resident_benefits.elderly_min_age": None,
    "resident_benefits.cap_counts": ["inpatient"],
    "resident_benefits.annual_cap": "100000",
    "resident_benefits.childbirth_amounts": {"natural": 800},
    "resident_benefits.childbirth_below_amount_as_incurred": True,
    "resident_benefits.major_disease_ratio_pct": {"outpatient": 75},
    "resident_benefits.major_disease_deductible": None,
}
PENDING = {
    "sanmenxia/resident_benefits.yaml": (
        ["resident_benefits.outpatient_deductible"] * 3
        + [
            "resident_benefits.chronic_annual_cap",
            "resident_benefits.inpatient_deductible.county.level3",
            "resident_benefits.major_disease_ratio_pct.inpatient.township",
        ],
        SANMENXIA_STAFF_VALUES,
    ),
    **{
        f"{code}/resident_benefits.yaml": (
            [
                "resident_benefits.inpatient_deductible",
                "resident_benefits.childbirth_amounts",
                "resident_benefits.major_disease_ratio_pct",
            ],
            OTHER_STAFF_VALUES,
        )
        for code in ("hunan", "langfang", "xianning", "ziyang")
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PENDING))
def test_pending_resident_cases_name_the_missing_value_then_pass(name):
    missing, values = PENDING[name]
    assert_pending_cases(
        name, missing, values, effective_from=date(2024, 1, 1), document="居民医保待遇（经办录入，测试假设值）"
    )


# --- 切换参保关系 (hunan 第六十条、第六十一条) --------------------------------------------------------------------


@pytest.mark.django_db
def test_waiting_payer_by_status_cover_and_document():
    hunan = Policy("hunan", ON)
    spans = [(date(2024, 1, 1), date(2024, 5, 1))]
    assert waiting_payer(hunan, status="waiting", on=ON, resident_spans=spans)[0] == "390"
    assert waiting_payer(hunan, status="covered", on=ON, resident_spans=spans)[0] == "310"
    assert waiting_payer(hunan, status="suspended", on=ON, resident_spans=spans)[0] is None
    assert waiting_payer(hunan, status="waiting", on=ON, resident_spans=[])[0] is None
    last_year = [(date(2023, 1, 1), date(2024, 1, 1))]
    assert waiting_payer(hunan, status="waiting", on=ON, resident_spans=last_year)[0] is None
    payer, why = waiting_payer(Policy(S, ON), status="waiting", on=ON, resident_spans=spans)
    assert payer is None and "未规定" in why
    with pytest.raises(InputError):
        waiting_payer(hunan, status="ok", on=ON, resident_spans=spans)


def test_resident_cover_in_year_edges():
    on = date(2024, 3, 10)
    assert resident_cover_in_year([(date(2023, 1, 1), date(2024, 1, 2))], on)  # ended 1 January: in the year
    assert not resident_cover_in_year([(date(2023, 1, 1), date(2024, 1, 1))], on)  # ended before the year
    assert resident_cover_in_year([(date(2024, 3, 10), None)], on)
    assert not resident_cover_in_year([(date(2024, 3, 11), None)], on)  # began after the day


@pytest.mark.django_db
def test_caps_reduced_by_resident_payments_only_where_the_document_says_so():
    steps: list[Step] = []
    assert cap_paid_with_resident(Policy("hunan", ON), D(100), D(50), steps) == D(150)
    assert "第六十一条" in steps[0].citation and "50" in steps[0].description
    assert cap_paid_with_resident(Policy("hunan", ON), D(100), D(0)) == D(100)
    assert cap_paid_with_resident(Policy(S, ON), D(100), D(50)) == D(100)
    assert certification_carries_over(Policy("hunan", ON), valid_until=date(2024, 6, 2), on=ON)
    assert not certification_carries_over(Policy("hunan", ON), valid_until=ON, on=ON)  # half-open
    assert certification_carries_over(Policy("hunan", ON), valid_until=None, on=ON)
    with pytest.raises(PolicyMissing, match=r"scheme_switch\.certifications_carry_over"):
        certification_carries_over(Policy(S, ON), valid_until=None, on=ON)


# --- the claim path ---------------------------------------------------------------------------------------------


def resident_person(jurisdiction: str = S, *, birth: date = date(1980, 5, 17), paid_years=(2024,), kind: str = "rural"):
    """A resident (span under 险种 390 since 2022) whose yearly contributions for ``paid_years`` are settled."""
    person = make_person(jurisdiction, category="flexible", birth=birth, covered_from=None)
    EnrolmentSpan.objects.filter(person=person).update(insutype="390", category="resident", resident_kind=kind)
    for year in paid_years:
        ResidentDue.objects.create(
            person=person,
            jurisdiction=Jurisdiction.objects.get(code=jurisdiction),
            benefit_year=year,
            resident_kind=kind,
            individual_amount=D(380),
            subsidy_amount=D(640),
            window_start=date(year - 1, 9, 1),
            window_end=date(year, 1, 1),
            paid_amount=D(380),
            settled_on=date(year - 1, 10, 8),
            created_at=timezone.now(),
        )
    return person


def settle(claim):
    return claim_adjudicate(claim, as_of=date(2024, 3, 15))


@pytest.mark.django_db
def test_resident_stay_settled_by_the_resident_rules_and_posted_to_the_resident_fund():
    person = resident_person()
    claim = settle(make_claim(person, S, inscp_scp_amt=D(20000), out_of_province=True, hospital_level="level2"))
    # 省外 2000 起付; 5000 × 50% + 13000 × 68% = 11340
    assert claim.status == ClaimStatus.ADJUDICATED, claim.refusal_reason
    assert (claim.act_pay_dedc, claim.hifp_pay, claim.acct_pay, claim.psn_cash_pay) == (
        D(2000),
        D(11340),
        D(0),
        D(8660),
    )
    assert any(s["stage"] == "险种" and "390" in s["description"] for s in claim.steps)
    acc = BenefitAccumulator.objects.get(person=person, year=2024)
    assert (acc.resident_pool_paid, acc.inpatient_pool_paid) == (D(11340), D(0))
    assert acc.admissions_by_level == {RESIDENT_ADMISSIONS: 1}
    entry = JournalEntry.objects.get(business_key=f"claim:{claim.business_key}")
    assert "居民医保" in entry.memo
    assert balance_of(fund_account(S, AccountKind.RESIDENT_POOLED)) == D(-11340)
    assert balance_of(fund_account(S, AccountKind.POOLED)) == D(0)
    # the second stay this year at a 县级以上 hospital: 起付 halved to 1000; 6000 × 50% + 13000 × 68% = 11840
    second = settle(
        make_claim(
            person,
            S,
            inscp_scp_amt=D(20000),
            out_of_province=True,
            start_date=date(2024, 4, 1),
            end_date=date(2024, 4, 5),
        )
    )
    assert (second.act_pay_dedc, second.hifp_pay) == (D(1000), D(11840))


@pytest.mark.django_db
def test_resident_cap_reached_mid_claim_from_the_accumulators():
    person = resident_person()
    BenefitAccumulator.objects.create(
        person=person, jurisdiction=Jurisdiction.objects.get(code=S), year=2024, resident_pool_paid=D(145000)
    )
    claim = settle(make_claim(person, S, inscp_scp_amt=D(20000), out_of_province=True))
    assert (claim.hifp_pay, claim.psn_cash_pay) == (D(5000), D(15000))
    assert BenefitAccumulator.objects.get(person=person, year=2024).resident_pool_paid == D(150000)


@pytest.mark.django_db
def test_resident_stay_needs_the_registers_tier():
    person = resident_person()
    with pytest.raises(ClaimError, match="医疗机构级别"):
        settle(make_claim(person, S, inscp_scp_amt=D(1000)))


@pytest.mark.django_db
def test_resident_childbirth_claim_and_an_event_the_resident_scheme_does_not_pay():
    person = resident_person(birth=date(1995, 1, 1))
    claim = settle(make_claim(person, S, med_type="52", maternity_event="caesarean", inscp_scp_amt=D(3000)))
    assert (claim.status, claim.hifp_pay, claim.psn_cash_pay) == (ClaimStatus.ADJUDICATED, D(1870), D(1130))
    assert BenefitAccumulator.objects.get(person=person, year=2024).maternity_paid == D(1870)
    other = settle(make_claim(person, S, med_type="53", maternity_event="tubal_ligation", inscp_scp_amt=D(3000)))
    assert other.status == ClaimStatus.REFUSED and "第三十七条" in other.refusal_reason


@pytest.mark.django_db
def test_an_employee_in_the_same_jurisdiction_is_still_paid_from_the_employee_fund():
    person = make_person(S)
    claim = settle(make_claim(person, S, inscp_scp_amt=D(10000)))
    # employee 一级 400 起付, 90%: (10000 − 400) × 90% = 8640 (第十三条)
    assert claim.hifp_pay == D(8640)
    assert balance_of(fund_account(S, AccountKind.POOLED)) == D(-8640)
    assert balance_of(fund_account(S, AccountKind.RESIDENT_POOLED)) == D(0)


def _facts(**kw) -> ClaimFacts:
    base = {
        "jurisdiction": S,
        "med_type": "21",
        "start": date(2024, 3, 1),
        "end": date(2024, 3, 5),
        "hospital_level": "level1",
        "medfee_sumamt": D(1000),
        "inscp_scp_amt": D(1000),
        "tier": "township",
    }
    return ClaimFacts(**{**base, **kw})


def _resident(birth: date) -> PersonFacts:
    return PersonFacts(1, birth, "female", "flexible", "combined", "enterprise", insutype="390")


COVERED = Coverage(True, "享受待遇", "test")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("birth", "start", "deductible", "pool"),
    [
        # 14周岁以下 (含本数): the day before the 15th birthday halved (75), the birthday not (150)
        (date(2009, 3, 2), date(2024, 3, 1), D(75), D("687.50")),
        (date(2009, 3, 1), date(2024, 3, 1), D(150), D(635)),
        # 年满80周岁: the 80th birthday +5 points (650 × 75% + 200 × 95% = 677.50), the day before not (635)
        (date(1944, 3, 1), date(2024, 3, 1), D(150), D("677.50")),
        (date(1944, 3, 2), date(2024, 3, 1), D(150), D(635)),
        # born on a leap day: 80 on 29 February 2024, 79 the day before
        (date(1944, 2, 29), date(2024, 2, 29), D(150), D("677.50")),
        (date(1944, 2, 29), date(2024, 2, 28), D(150), D(635)),
    ],
)
def test_birthdays_on_the_first_day_of_care(birth, start, deductible, pool):
    decision = decide(
        _facts(start=start, end=date(2024, 3, 5)), _resident(birth), coverage=COVERED, accs={}, balance=D(0)
    )
    assert decision.status == "adjudicated", decision.refusal_reason
    assert (decision.breakdown["act_pay_dedc"], decision.breakdown["hifp_pay"]) == (deductible, pool)
    assert decision.insutype == "390"


@pytest.mark.django_db
def test_second_county_stay_counted_from_the_accumulator_and_township_stays_not_counted():
    person = _resident(date(1980, 1, 1))
    county = _facts(tier="county", hospital_level="level2", inscp_scp_amt=D(5000), medfee_sumamt=D(5000))
    first = decide(county, person, coverage=COVERED, accs={}, balance=D(0))
    assert first.breakdown["act_pay_dedc"] == D(400)
    assert first.effects["2024"]["admissions_by_level"] == {RESIDENT_ADMISSIONS: 1}
    again = decide(county, person, coverage=COVERED, accs={2024: Acc(by_level={RESIDENT_ADMISSIONS: 1})}, balance=D(0))
    assert (again.breakdown["act_pay_dedc"], again.breakdown["hifp_pay"]) == (D(200), D(3724))
    township = decide(
        _facts(), person, coverage=COVERED, accs={2024: Acc(by_level={RESIDENT_ADMISSIONS: 3})}, balance=D(0)
    )
    assert township.breakdown["act_pay_dedc"] == D(150) and "admissions_by_level" not in township.effects["2024"]


@pytest.mark.django_db
def test_resident_has_no_personal_account_even_when_asked():
    decision = decide(
        _facts(acct_pay_requested=D(100)), _resident(date(1980, 1, 1)), coverage=COVERED, accs={}, balance=D(500)
    )
    assert decision.breakdown["acct_pay"] == D(0) and decision.breakdown["psn_cash_pay"] == D(365)


def test_resident_tier_from_the_register_or_out_of_province():
    assert resident_tier(_facts(tier="city")) == "city"
    assert resident_tier(_facts(tier="city", out_of_province=True)) == "out_of_province"
    with pytest.raises(InputError):
        resident_tier(_facts(tier=""))


@pytest.mark.django_db
def test_hunan_waiting_period_costs_go_to_the_resident_scheme():
    # 第六十条: resident cover in 2024 until 1 March, employee from 1 March with a waiting period
    person = make_person("hunan", covered_from=date(2024, 6, 1))
    jur = Jurisdiction.objects.get(code="hunan")
    span = EnrolmentSpan.objects.get(person=person)
    EnrolmentSpan.objects.filter(pk=span.pk).update(start=date(2024, 3, 1))
    EnrolmentSpan.objects.create(
        person=person,
        jurisdiction=jur,
        category="resident",
        resident_kind="rural",
        start=date(2024, 1, 1),
        end=date(2024, 3, 1),
        insutype="390",
    )
    EligibilityPeriod.objects.filter(person=person, status="waiting").update(start=date(2024, 3, 1))
    claim = make_claim(person, "hunan", inscp_scp_amt=D(3000), out_of_province=True, location="referral")
    # hunan's document gives no resident figures: the resident settlement names the first missing one
    with pytest.raises(ClaimError, match=r"hunan.*resident_benefits\.inpatient_deductible"):
        settle(claim)
    staff_enter(
        "hunan",
        {
            **OTHER_STAFF_VALUES,
            "resident_benefits.inpatient_deductible": {"out_of_province": {"any": 1000}},
            "resident_benefits.inpatient_band_upper": {"out_of_province": {"any": []}},
            "resident_benefits.inpatient_band_ratio_pct": {"out_of_province": {"any": [50]}},
            "resident_benefits.repeat_deductible_tiers": [],
        },
        effective_from=date(2024, 1, 1),
        document="居民医保待遇（经办录入，测试假设值）",
    )
    claim.refresh_from_db()
    claim = settle(claim)
    # (3000 − 1000) × 50% = 1000, from the resident fund
    assert (claim.status, claim.hifp_pay) == (ClaimStatus.ADJUDICATED, D(1000))
    assert any("第六十条" in (s["citation"] or "") for s in claim.steps)
    assert balance_of(fund_account("hunan", AccountKind.RESIDENT_POOLED)) == D(-1000)


@pytest.mark.django_db
def test_ziyang_previous_level_settled_at_resident_values_once_they_exist():
    # 第十四条 原档次待遇: without resident values the staff-entered table is asked for (as before) ...
    facts = ClaimFacts(
        jurisdiction="ziyang",
        med_type="21",
        start=date(2024, 3, 1),
        end=date(2024, 3, 5),
        hospital_level="level2",
        medfee_sumamt=D(3000),
        inscp_scp_amt=D(3000),
        tier="county",
    )
    person = PersonFacts(1, date(1980, 1, 1), "male", "employee", "combined", "enterprise")
    coverage = Coverage(True, "缴费当月起6个月内享受原档次待遇", "ziyang 第十四条", benefit_level="previous_scheme")
    with pytest.raises(PolicyMissing, match=r"claims\.previous_level_values"):
        decide(facts, person, coverage=coverage, accs={}, balance=D(0))
    # ... once ziyang's resident values are entered, the resident rules settle it: 500 起付;
    # 1500 × 60% + 1000 × 80% = 1700; paid by the employee fund the person now pays into
    staff_enter("ziyang", OTHER_STAFF_VALUES, effective_from=date(2024, 1, 1), document="居民医保待遇（测试假设值）")
    decision = decide(facts, person, coverage=coverage, accs={}, balance=D(0))
    assert (decision.breakdown["act_pay_dedc"], decision.breakdown["hifp_pay"]) == (D(500), D(1700))
    assert decision.insutype == "310" and decision.effects["2024"]["resident_pool_paid"] == "1700.00"
    assert any(s["stage"] == "险种" and "原档次" in s["description"] for s in decision.steps)


# --- what only the explanation shows (mutants the amounts cannot see) ---------------------------------------


def _texts(result) -> list[str]:
    return [s.description for s in result.steps]


@pytest.mark.django_db
def test_deductible_borne_as_incurred_only_below_the_deductible():
    below = settle_resident_inpatient(Policy(S, ON), stay(tier="township", level="level1", amount="149.99"))
    assert below.deductible == D("149.99") and any("低于起付标准" in t for t in _texts(below))
    at = settle_resident_inpatient(Policy(S, ON), stay(tier="township", level="level1", amount="150"))
    assert at.deductible == D(150) and not any("低于起付标准" in t for t in _texts(at))


@pytest.mark.django_db
def test_the_lower_percentage_wins_when_both_halvings_apply():
    # a staff what-if: second stays at 40%, children at 50% → one reduction, the lower: 400 × 40% = 160;
    # 1340 × 63% + 3500 × 83% = 844.20 + 2905 = 3749.20
    policy = Policy(S, ON, params={"resident_benefits.repeat_deductible_pct": 40})
    r = settle_resident_inpatient(policy, stay(age=10, admission_number=2))
    assert (r.deductible, r.pool_pay) == (D(160), D("3749.20"))
    assert any("第 2 次住院" in t and "40%" in t for t in _texts(r))


@pytest.mark.django_db
def test_missing_rows_of_the_band_tables_are_named():
    policy = Policy(S, ON, params={"resident_benefits.inpatient_band_upper": {"city": {"other": [3000]}}})
    with pytest.raises(PolicyMissing, match=r"inpatient_band_upper\.county\.other"):
        settle_resident_inpatient(policy, stay())
    policy = Policy(S, ON, params={"resident_benefits.inpatient_band_ratio_pct": [63, 83]})
    with pytest.raises(PolicyMissing, match=r"inpatient_band_ratio_pct\.county\.other"):
        settle_resident_inpatient(policy, stay())
    with pytest.raises(PolicyMissing, match="三级医院的住院起付标准"):
        settle_resident_inpatient(Policy(S, ON), stay(level="level3"))


@pytest.mark.django_db
def test_no_cap_step_when_the_payment_fits_exactly():
    r = settle_resident_inpatient(Policy(S, ON), stay(pool_paid_this_year=D(146402)))
    assert r.pool_pay == D(3598) and not any("剩余" in t for t in _texts(r))
    capped = Policy(S, ON, params={"resident_benefits.chronic_annual_cap": 5000})
    r = settle_resident_chronic(capped, amount_=D(1000), paid_this_year=D(4350))
    assert r.pool_pay == D(650) and not any("剩余" in t for t in _texts(r))
    r = settle_resident_major_disease(Policy(S, ON), tier="county", setting="inpatient", amount_=D(1000), limit=D(800))
    assert not any("病种限额" in t for t in _texts(r))


@pytest.mark.django_db
def test_deductibles_staff_may_enter_are_taken_off_before_the_ratio():
    policy = Policy(
        S,
        ON,
        params={
            "resident_benefits.major_disease_deductible": 100,
            "resident_benefits.chronic_deductible": 200,
            "resident_benefits.chronic_annual_cap": 5000,
        },
    )
    r = settle_resident_major_disease(policy, tier="county", setting="inpatient", amount_=D(1000))
    assert (r.deductible, r.pool_pay) == (D(100), D(720))  # (1000 − 100) × 80%
    assert "重特大疾病住院（县级医疗机构） 900 元 × 80%" in _texts(r)
    r = settle_resident_chronic(policy, amount_=D(1000))
    assert "门诊重症慢性病 800 元 × 65%" in _texts(r)


@pytest.mark.django_db
def test_outpatient_limit_exceeded_and_the_cap_question_named_where_unanswered():
    values = {
        "resident_benefits.outpatient_deductible": 50,
        "resident_benefits.outpatient_ratio_pct": 50,
        "resident_benefits.outpatient_annual_cap": 400,
    }
    p = Policy(S, ON, params=values)
    r = settle_resident_outpatient(p, amount_=D(100), deductible_used=D(50), pool_paid_this_year=D(360))
    assert r.pool_pay == D(40) and any("剩余 40 元" in t for t in _texts(r))
    r = settle_resident_outpatient(p, amount_=D(100))
    assert "50 元 × 50%" in _texts(r)
    r = settle_resident_outpatient(p, amount_=D(100), deductible_used=D(50), pool_paid_this_year=D(350))
    assert not any("剩余" in t for t in _texts(r))
    with pytest.raises(PolicyMissing, match=r"hunan.*outpatient_outside_cap"):
        settle_resident_outpatient(Policy("hunan", ON, params=values), amount_=D(100))


@pytest.mark.django_db
def test_childbirth_at_the_fixed_amount_says_it_is_paid_at_the_amount():
    r = resident_childbirth(Policy(S, ON), event="natural", actual_cost=D(760))
    assert any("按定额标准支付" in t for t in _texts(r)) and not any("据实" in t for t in _texts(r))


@pytest.mark.django_db
def test_certifications_do_not_carry_over_where_the_document_says_no():
    policy = Policy("hunan", ON, params={"scheme_switch.certifications_carry_over": False})
    assert not certification_carries_over(policy, valid_until=None, on=ON)


@pytest.mark.django_db
def test_settlement_file_settles_residents_like_one_at_a_time_and_books_them_apart(settings, tmp_path):
    """结算文件: residents and employees in one file; the family by each person's scheme on the service date."""
    from django.db import transaction

    from batch.runs import run_in_process
    from benefits.claims.imports import settlement_file_import
    from benefits.claims.jobs import JOB
    from benefits.claims.models import Claim
    from tests.test_claims_bulk import _file, _result

    residents = [resident_person(birth=date(1990, 1, 1)) for _ in range(2)]
    employee = make_person(S)
    rows = []
    for n, (person, extra) in enumerate(
        [
            (residents[0], {"med_type": "21", "out_of_province": "1", "location": "referral", "inscp_scp_amt": 20000}),
            (residents[0], {"med_type": "21", "out_of_province": "1", "location": "referral", "inscp_scp_amt": 20000}),
            (residents[1], {"med_type": "52", "maternity_event": "natural", "inscp_scp_amt": 500}),
            (employee, {"med_type": "21", "inscp_scp_amt": 10000}),
        ]
    ):
        row = {"business_key": f"R{n:05d}", "id_number": person.id_number, "hospital_level": "level2"}
        row.update(start_date=f"2024-0{n + 2}-01", end_date=f"2024-0{n + 2}-05", **extra)
        row["medfee_sumamt"] = row["inscp_scp_amt"]
        rows.append({k: str(v) for k, v in row.items()})
    sfile = _file(S, rows, settings, tmp_path)
    assert settlement_file_import(sfile, today=sfile.as_of)["errors"] == 0
    claims = list(Claim.objects.filter(settlement_file=sfile).order_by("person_id", "row_number"))

    class Rollback(Exception):
        pass

    one_by_one = {}
    try:
        with transaction.atomic():
            for claim in claims:
                c = claim_adjudicate(claim, as_of=sfile.as_of)
                one_by_one[c.business_key] = _result(c)
            raise Rollback
    except Rollback:
        pass
    run = run_in_process(JOB, as_of=sfile.as_of, jurisdiction=S, params={"file_id": sfile.pk}, chunk_size=1)
    assert run.status == "done"
    bulk = {c.business_key: _result(c) for c in Claim.objects.filter(settlement_file=sfile)}
    assert bulk == one_by_one
    paid = {c.business_key: c.hifp_pay for c in Claim.objects.filter(settlement_file=sfile)}
    # 省外 11340, then the second stay 11840 (起付 halved); 自然分娩 据实 500; the employee 二级 (10000 − 600) × 90%
    assert paid == {"R00000": D(11340), "R00001": D(11840), "R00002": D(500), "R00003": D(8460)}
    assert balance_of(fund_account(S, AccountKind.RESIDENT_POOLED)) == D(-23680)
    assert balance_of(fund_account(S, AccountKind.POOLED)) == D(-8460)


@pytest.mark.django_db
def test_resident_cover_needs_the_years_contribution_settled_or_a_newborns_birth_year():
    # 第三十一条 缴费次年享受: 2024's contribution unpaid → no resident benefits in 2024
    unpaid = resident_person(paid_years=(2023,))
    claim = settle(make_claim(unpaid, S, inscp_scp_amt=D(20000), out_of_province=True))
    assert claim.status == ClaimStatus.REFUSED and "2024 年度居民医保个人缴费未缴清" in claim.refusal_reason
    assert "第三十一条" in claim.refusal_reason
    # 第三十八条: a newborn's birth-year cover needs no contribution; 14周岁以下: 起付 halved to 1000
    baby = resident_person(birth=date(2024, 1, 20), paid_years=(), kind="newborn")
    claim = settle(make_claim(baby, S, inscp_scp_amt=D(20000), out_of_province=True))
    assert claim.status == ClaimStatus.ADJUDICATED, claim.refusal_reason
    assert (claim.act_pay_dedc, claim.hifp_pay) == (D(1000), D(11840))
    # a stay running past the end of the resident span is not covered to its end
    ended = resident_person()
    EnrolmentSpan.objects.filter(person=ended).update(end=date(2024, 3, 5))
    claim = settle(make_claim(ended, S, inscp_scp_amt=D(1000), out_of_province=True))
    assert claim.status == ClaimStatus.REFUSED and "2024-03-05 起不在居民医保参保期间内" in claim.refusal_reason


# --- the resident claim family by medical type (decide, values a case supplies as a draft overlay) ----------


def _overlay(values: dict, code: str = S):
    from policy.resolver import build_overlay, draft_overlay

    return draft_overlay(build_overlay([(code, k, date(2024, 1, 1), v, "测试假设值", "") for k, v in values.items()]))


def _decide(accs=None, **kw):
    return decide(_facts(**kw), _resident(date(1980, 1, 1)), coverage=COVERED, accs=accs or {}, balance=D(0))


OUTPATIENT_VALUES = {
    "resident_benefits.outpatient_deductible": 50,
    "resident_benefits.outpatient_ratio_pct": 50,
    "resident_benefits.outpatient_annual_cap": 400,
}


@pytest.mark.django_db
def test_resident_outpatient_claim_reads_and_adds_the_resident_outpatient_accumulators():
    with _overlay(OUTPATIENT_VALUES):
        acc = Acc({"resident_outpatient_deductible_used": D(20), "resident_outpatient_paid": D(380)})
        d = _decide({2024: acc}, med_type="11", end=date(2024, 3, 1), inscp_scp_amt=D(100), medfee_sumamt=D(100))
    # 30 of the yearly 50 left; (100 − 30) × 50% = 35, held to the 20 left of the 400 limit
    assert (d.breakdown["act_pay_dedc"], d.breakdown["hifp_pay"]) == (D(30), D(20))
    assert d.effects["2024"]["resident_outpatient_deductible_used"] == "30.00"
    assert d.effects["2024"]["resident_outpatient_paid"] == "20.00"
    assert "resident_pool_paid" not in d.effects["2024"]  # 单独核算 (第三十六条)


@pytest.mark.django_db
def test_resident_chronic_and_major_disease_claims():
    cap = {"resident_benefits.chronic_annual_cap": 5000}
    with _overlay(cap):
        d = _decide({2024: Acc({"resident_chronic_paid": D(4800)})}, med_type="14", special_kind="chronic")
        assert d.breakdown["hifp_pay"] == D(200)  # 1000 × 65% = 650, 200 left of the limit
        assert d.effects["2024"]["resident_chronic_paid"] == "200.00"
        assert d.effects["2024"]["resident_pool_paid"] == "200.00"
        d = _decide({2024: Acc({"resident_pool_paid": D(149900)})}, med_type="14", special_kind="chronic")
        assert d.breakdown["hifp_pay"] == D(100)  # the annual cap counts it (第三十二条)
    major = {"med_type": "14", "special_kind": "major_disease"}
    assert _decide(tier="city", **major).breakdown["hifp_pay"] == D(700)  # the register's tier: 市级 70%
    assert _decide(tier="city", major_disease_tier="county", **major).breakdown["hifp_pay"] == D(800)
    out = _decide(tier="", major_disease_setting="outpatient", **major)  # no tier needed outside a stay
    assert out.breakdown["hifp_pay"] == D(800)
    d = _decide({2024: Acc({"resident_pool_paid": D(149500)})}, tier="county", **major)
    assert d.breakdown["hifp_pay"] == D(500) and d.effects["2024"]["resident_pool_paid"] == "500.00"
    with pytest.raises(InputError, match="single_payment_drug"):
        _decide(med_type="14", special_kind="single_payment_drug")


@pytest.mark.django_db
def test_resident_childbirth_claims_and_what_the_scheme_does_not_pay():
    d = _decide(med_type="52", maternity_event="natural", inscp_scp_amt=D(500), medfee_sumamt=D(500))
    assert (d.status, d.breakdown["hifp_pay"], d.effects["2024"]["maternity_paid"]) == ("adjudicated", D(500), "500.00")
    for med, event in (("52", "assisted"), ("53", "natural"), ("51", "prenatal")):
        refused = _decide(med_type=med, maternity_event=event)
        assert refused.status == "refused" and "第三十七条" in refused.refusal_reason
        assert refused.steps[-1]["amount"] == "0.00"
    with pytest.raises(InputError, match="跨年度"):
        _decide(start=date(2023, 12, 30), end=date(2024, 1, 3))
