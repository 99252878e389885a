"""The layers above the basic pool in claims: ziyang's 商业健康补充医疗保险 (oth_pay), langfang's
大额补充 and xianning's 大额补助 (structure from the seed, figures staff-entered), sanmenxia none.

Expected amounts are worked by hand from the seeds (arithmetic in the comments).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from benefits.calculations.critical_illness import settle_critical_illness
from benefits.claims.models import BenefitAccumulator, ClaimStatus
from benefits.claims.services import ClaimError, claim_adjudicate, claim_reverse
from funds.models import JournalEntry
from policy.calculations import InputError
from policy.resolver import Policy, PolicyMissing
from tests.policy_support import assert_cases_fail_naming, assert_cases_pass, staff_enter
from tests.registers_support import certify
from tests.test_claims import make_claim, make_person, stat

ON = date(2024, 3, 15)

LOCAL_EXCEPT_UNREGISTERED = {
    "local": {"standard": "local"},
    "in_province": {"standard": "local"},
    "referral": {"standard": "local"},
    "emergency": {"standard": "local"},
    "registered_remote": {"standard": "local"},
    "unregistered": {"standard": "out_of_area"},
}
# What staff would enter (hypothetical values for the tests only, not policy; the pending
# files' expected outputs were computed by hand from them).
LANGFANG_STAFF = {
    "critical_illness.bands": [{"up_to": None, "local_pct": "90", "out_of_area_pct": "80"}],
    "critical_illness.location_rules": LOCAL_EXCEPT_UNREGISTERED,
    "critical_illness.annual_cap": "600000",
}
XIANNING_STAFF = {
    "critical_illness.basis": "burden",
    "critical_illness.deductible_statistic": "large_amount_deductible",
    "critical_illness.bands": [{"up_to": None, "local_pct": "80", "out_of_area_pct": "70"}],
    "critical_illness.location_rules": LOCAL_EXCEPT_UNREGISTERED,
    "critical_illness.annual_cap": "300000",
    "critical_illness.cap_includes_pool": False,
}


pytestmark = pytest.mark.usefixtures("fresh_policy")


def enter(code: str, values: dict[str, object]) -> None:
    """Staff enter hypothetical values in force from 2023 (also used by tests/test_claims_rule_facts.py)."""
    staff_enter(code, values, effective_from=date(2023, 1, 1), document="现行政策（经办录入，测试假设值）")


# --- pending scenarios: fail naming the key, pass once staff enter the values -----------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code, key, values",
    [("langfang", "critical_illness.bands", LANGFANG_STAFF), ("xianning", "critical_illness.basis", XIANNING_STAFF)],
)
def test_pending_layer_cases_fail_then_pass_once_staff_enter_values(code, key, values):
    name = f"{code}/critical_illness.yaml"
    assert_cases_fail_naming(name, [key] * 3)
    enter(code, values)
    assert_cases_pass(name, 3)


@pytest.mark.django_db
def test_langfang_layer_needs_no_figure_below_the_basic_cap_and_names_it_above():
    policy = Policy("langfang", date(2024, 6, 1))
    assert settle_critical_illness(policy, self_pay_this_year=D(100000)).pay == 0
    with pytest.raises(PolicyMissing) as info:
        settle_critical_illness(policy, self_pay_this_year=D(100000), above_cap_this_year=D(1))
    assert info.value.jurisdiction == "langfang" and info.value.key == "critical_illness.bands"


@pytest.mark.django_db
def test_supplementary_is_only_in_ziyang():
    from benefits.calculations.critical_illness import supplementary_entitled

    for code in ("hunan", "langfang", "xianning", "sanmenxia"):
        with pytest.raises(InputError, match="商业健康补充医疗保险"):
            supplementary_entitled(Policy(code, date(2024, 6, 1)), insured=True, renewed_on=None, day=ON)
    # ...and in ziyang it is there (第二十九条): insured, renewed in time → covered
    entitled, _ = supplementary_entitled(Policy("ziyang", date(2024, 6, 1)), insured=True, renewed_on=None, day=ON)
    assert entitled is True


# --- claims ----------------------------------------------------------------------------------------------


def test_ziyang_supplementary_in_the_claim_oth_pay_cumulative_and_reversed(claim_stats):
    person = make_person("ziyang")
    # 三级甲等 1000, 80%: (200000−1000)×80% = 159200; 个人负担 40800; 大额 (40800−40000)×70% = 560;
    # 商业补充 (40800 − 1000 − 560) × 60% = 23544 (第三十一条(二)); 现金 200000 − 159760 − 23544 = 16696.
    first = claim_adjudicate(
        make_claim(person, "ziyang", hospital_level="level3a", inscp_scp_amt=D(200000), supplementary_insured=True),
        as_of=ON,
    )
    assert (first.hifp_pay, first.hifob_pay, first.oth_pay) == (D(159200), D(560), D(23544))
    assert first.fund_pay_sumamt == D(159760) and first.psn_cash_pay == D(16696)
    kinds = {p.account.kind: p.amount for p in first.journal_entry.postings.select_related("account")}
    assert kinds == {"pooled": D(-159200), "large_amount": D(-560), "bank": D(159760)}  # insurer pays oth_pay
    assert any("商业健康补充医疗保险" == s["stage"] and "ziyang 第三十一条(二)" in s["citation"] for s in first.steps)

    # Second stay: repeat admission 1000−50 = 950 (D-Z11); (50000−950)×80% = 39240; 负担 10760 → 累计 51560;
    # 大额 10000×70% + 1560×80% = 8248 − 560 = 7688; 商业 (51560 − 1950 − 8248)×60% = 24817.2 − 23544 = 1273.20.
    second = claim_adjudicate(
        make_claim(
            person,
            "ziyang",
            hospital_level="level3a",
            inscp_scp_amt=D(50000),
            start_date=date(2024, 5, 1),
            end_date=date(2024, 5, 9),
            supplementary_insured=True,
        ),
        as_of=ON,
    )
    assert (second.act_pay_dedc, second.hifp_pay, second.hifob_pay, second.oth_pay) == (
        D(950),
        D(39240),
        D(7688),
        D("1273.20"),
    )
    acc = BenefitAccumulator.objects.get(person=person, year=2024)
    assert (acc.layer_burden, acc.layer_paid, acc.supplementary_paid) == (D(51560), D(8248), D("24817.20"))
    claim_reverse(second, "重复报销", on=ON)
    acc.refresh_from_db()
    assert (acc.layer_burden, acc.layer_paid, acc.supplementary_paid) == (D(40800), D(560), D(23544))


def test_ziyang_supplementary_waits_three_months_after_a_renewal(claim_stats):
    # 第三十一条: renewed after a break on 2024-02-20 → covered from 2024-05-01 (payment month = month 1).
    person = make_person("ziyang")
    claim = claim_adjudicate(
        make_claim(
            person,
            "ziyang",
            hospital_level="level3a",
            inscp_scp_amt=D(200000),
            supplementary_insured=True,
            supplementary_renewed_on=date(2024, 2, 20),
        ),
        as_of=ON,
    )
    assert claim.oth_pay == 0 and claim.hifob_pay == D(560)
    assert any("2024-05-01" in s["description"] for s in claim.steps)


def test_ziyang_supplementary_special_disease_above_the_outpatient_limit(claim_stats):
    # 第十七条: class 2, 75%, cap 3000. 5000 → pool min(3750, 3000) = 3000; cost above the limit
    # 5000 − 3000/75% = 1000 → 第三十一条(一) 60% = 600. Next 2000: pool 0, above 2000 → 1200, cap 1000 − 600 = 400.
    person = make_person("ziyang")
    certify(person, "ziyang", 2)  # paid only under a valid certification (第十七条(三))
    kw = {"med_type": "14", "disease_classes": "2", "hospital_level": "level2a", "supplementary_insured": True}
    first = claim_adjudicate(make_claim(person, "ziyang", inscp_scp_amt=D(5000), **kw), as_of=ON)
    assert (first.hifp_pay, first.oth_pay) == (D(3000), D(600))
    second = claim_adjudicate(
        make_claim(person, "ziyang", inscp_scp_amt=D(2000), start_date=date(2024, 4, 2), **kw), as_of=ON
    )
    assert (second.hifp_pay, second.oth_pay, second.psn_cash_pay) == (D(0), D(400), D(1600))


def test_langfang_layer_below_and_above_the_basic_cap(db):
    person = make_person("langfang")
    # Below the 350 000 cap: the layer has nothing to pay and needs no figure (第五十二条).
    below = claim_adjudicate(make_claim(person, "langfang", hospital_level="level3", inscp_scp_amt=D(20000)), as_of=ON)
    assert below.status == ClaimStatus.ADJUDICATED and below.hifob_pay == 0
    assert any("未超过基本医疗保险统筹基金年度最高支付限额" in s["description"] for s in below.steps)

    # Pool already paid 345 000 this year (inpatient, D-L9): 三级 repeat admission 600−100 = 500 (D-L1), 88%:
    # (20000−500)×88% = 17160 but only 5000 left → above the cap 19500 − 5000/88% = 13818.18.
    BenefitAccumulator.objects.filter(person=person, year=2024).update(inpatient_pool_paid=D(345000))
    above = make_claim(
        person,
        "langfang",
        hospital_level="level3",
        inscp_scp_amt=D(20000),
        start_date=date(2024, 6, 1),
        end_date=date(2024, 6, 8),
    )
    with pytest.raises(ClaimError, match=r"critical_illness\.bands"):
        claim_adjudicate(above, as_of=ON)
    above.refresh_from_db()
    assert above.status == ClaimStatus.DRAFT and "langfang" in above.error and "critical_illness.bands" in above.error

    enter("langfang", LANGFANG_STAFF)
    above = claim_adjudicate(above, as_of=ON)
    # 13818.18 × 90% = 12436.362 → 12436.36; total cap 600000 − (345000 + 5000) not reached.
    assert (above.act_pay_dedc, above.hifp_pay, above.hifob_pay) == (D(500), D(5000), D("12436.36"))
    acc = BenefitAccumulator.objects.get(person=person, year=2024)
    assert (acc.layer_burden, acc.layer_paid) == (D("13818.18"), D("12436.36"))
    entry = JournalEntry.objects.get(business_key=f"claim:{above.business_key}")
    kinds = {p.account.kind: p.amount for p in entry.postings.select_related("account")}
    assert kinds["large_amount"] == D("-12436.36")


def test_sanmenxia_claim_says_there_is_no_layer(db):
    person = make_person("sanmenxia")
    claim = claim_adjudicate(make_claim(person, "sanmenxia", inscp_scp_amt=D(10000)), as_of=ON)
    assert claim.hifmi_pay == 0 and claim.hifob_pay == 0
    assert any("未设职工大病保险或大额医疗费用补助" in s["description"] for s in claim.steps)


def test_hunan_poverty_claim_reduced_deductible_higher_ratio(claim_stats):
    # 省部属 1600, 80%: (100000−1600)×80% = 78720; 负担 21280; 特困低保 起付 7500, 90%: (21280−7500)×90% = 12402.
    person = make_person("hunan")
    claim = claim_adjudicate(
        make_claim(person, "hunan", hospital_level="provincial", inscp_scp_amt=D(100000), poverty=True), as_of=ON
    )
    assert (claim.hifp_pay, claim.hifmi_pay) == (D(78720), D(12402))


@pytest.mark.django_db
def test_xianning_claim_layer_names_the_missing_key_then_pays_hifob(claim_stats):
    # xianning's inpatient figures are themselves staff-entered (D-XN1); the layer step of a claim is
    # checked on its own: PolicyMissing naming critical_illness.basis, then hifob_pay once values exist.
    from benefits.claims.adjudication import Acc, ClaimFacts
    from benefits.claims.families.base import Book as _Book
    from benefits.claims.families.base import Parts as _Parts
    from benefits.claims.families.layers import pay_layer as _layer

    facts = ClaimFacts(
        jurisdiction="xianning",
        med_type="21",
        start=date(2024, 6, 1),
        end=date(2024, 6, 9),
        hospital_level="level2",
        medfee_sumamt=D(100000),
        inscp_scp_amt=D(100000),
    )
    args = (facts, Policy("xianning", date(2024, 6, 9)), Acc(), 2024, D(30000), D(0), D(70000))
    with pytest.raises(PolicyMissing) as info:
        _layer(*args, _Book(), _Parts())
    assert (info.value.jurisdiction, info.value.key) == ("xianning", "critical_illness.basis")

    stat("xianning", "large_amount_deductible", 20000)
    enter("xianning", XIANNING_STAFF)
    book, parts = _Book(), _Parts()
    # hypothetical staff values: (30000 − 20000) × 80% = 8000 → hifob_pay (xianning 办法 三、四(二)).
    args = (facts, Policy("xianning", date(2024, 6, 9)), Acc(), 2024, D(30000), D(0), D(70000))
    assert _layer(*args, book, parts) == D(8000)
    assert parts.hifob == D(8000) and parts.layer_field == "hifob_pay"
    assert book.effects["2024"] == {"layer_burden": "30000", "layer_paid": "8000.00"}
    assert any("大额医疗费用补助" == s["stage"] for s in book.steps)
