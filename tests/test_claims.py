"""Claims (费用报销): adjudication per jurisdiction, refusal, accumulators, ledger, reversal.

Expected amounts are worked by hand from the seeds (the arithmetic is in each comment);
they match the scenario cases in tests/scenarios/<j>/{inpatient,outpatient,maternity}.yaml.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.utils import timezone

from benefits.claims.models import AccumulatorAdjustment, BenefitAccumulator, Claim, ClaimItem, ClaimStatus
from benefits.claims.services import ClaimError, claim_adjudicate, claim_reverse
from benefits.models import EligibilityPeriod, EligibilityState
from enrollment import services as enrol
from funds.models import AccountKind, JournalEntry
from funds.posting import Leg, balance_of, fund_account, personal_account, post_entry
from operations.demo.population import credit_code, id_number
from policy.models import Jurisdiction, ReferenceStatistic

REGION = {"hunan": "430102", "langfang": "131002", "xianning": "421202", "sanmenxia": "411202", "ziyang": "512002"}
_seq = iter(range(1, 100_000))


def make_person(
    jurisdiction: str,
    *,
    category: str = "employee",
    birth: date = date(1980, 5, 17),
    male: bool = True,
    covered_from: date | None = date(2023, 1, 1),
    employer_kind: str = "enterprise",
) -> object:
    """A person with one open span; the stored eligibility timeline says covered from ``covered_from``."""
    n = next(_seq)
    employer = None
    if category == "employee":
        employer = enrol.employer_register(
            credit_code=credit_code(REGION[jurisdiction], 500 + n),
            name=f"单位{n}",
            jurisdiction=jurisdiction,
            registered_on=date(2015, 1, 1),
            kind=employer_kind,
        )
    # the 身份证号 sequence has three digits (0..499); tests in one process may make more persons than that
    person = enrol.person_register(id_number=id_number(REGION[jurisdiction], birth, n % 500, male), name=f"参保人{n}")
    enrol.span_open(
        person=person, jurisdiction=jurisdiction, category=category, start=date(2022, 1, 1), employer=employer
    )
    if covered_from is not None:
        now = timezone.now()
        jur = Jurisdiction.objects.get(code=jurisdiction)
        EligibilityState.objects.create(person=person, digest="test", computed_at=now)
        EligibilityPeriod.objects.create(
            person=person,
            jurisdiction=jur,
            start=date(2022, 1, 1),
            end=covered_from,
            status="waiting",
            reason="新参保等待期",
            citation="test",
            computed_at=now,
        )
        EligibilityPeriod.objects.create(
            person=person,
            jurisdiction=jur,
            start=covered_from,
            end=None,
            status="covered",
            reason="等待期满，享受职工医保待遇",
            citation="test",
            computed_at=now,
        )
    return person


def stat(jurisdiction: str, key: str, value: int, on: date = date(2023, 1, 1)) -> None:
    ReferenceStatistic.objects.create(
        jurisdiction=Jurisdiction.objects.get(code=jurisdiction),
        key=key,
        effective_from=on,
        period_label="测试",
        value=D(value),
        is_demo=True,
    )


def make_claim(person, jurisdiction: str, **kw) -> Claim:
    n = next(_seq)
    kw.setdefault("med_type", "21")
    kw.setdefault("start_date", date(2024, 3, 1))
    kw.setdefault("end_date", date(2024, 3, 10) if kw["med_type"] in ("21", "52") else None)
    kw.setdefault("hospital_level", "level1")
    kw.setdefault("medfee_sumamt", kw.get("inscp_scp_amt", D(0)))
    return Claim.objects.create(
        business_key=f"T{n:06d}", person=person, jurisdiction=Jurisdiction.objects.get(code=jurisdiction), **kw
    )


def breakdown(claim: Claim) -> dict[str, D]:
    return {
        k: getattr(claim, k)
        for k in (
            "act_pay_dedc",
            "hifp_pay",
            "pool_prop_selfpay",
            "hifmi_pay",
            "hifob_pay",
            "acct_pay",
            "psn_cash_pay",
            "fund_pay_sumamt",
        )
    }


ON = date(2024, 3, 15)


@pytest.fixture
def stats(db):
    stat("hunan", "critical_illness_deductible", 15000)
    stat("ziyang", "large_amount_deductible", 40000)
    stat("ziyang", "annual_average_wage", 80000)


# --- inpatient, one per jurisdiction ---------------------------------------------------------------


@pytest.mark.parametrize(
    "jurisdiction, level, amount, expected",
    [
        # hunan 第三十六条 第三十八条: 基层 200, 95%: (10000−200)×95% = 9310; psn 690; 比例自付 9800−9310 = 490
        (
            "hunan",
            "grassroots",
            10000,
            {"act_pay_dedc": 200, "hifp_pay": 9310, "pool_prop_selfpay": 490, "psn_cash_pay": 690},
        ),
        # langfang 第四十七条(一)1: 一级 200, 96%: 9800×96% = 9408; psn 592
        (
            "langfang",
            "level1",
            10000,
            {"act_pay_dedc": 200, "hifp_pay": 9408, "pool_prop_selfpay": 392, "psn_cash_pay": 592},
        ),
        # sanmenxia 第十三条: 一级 400, 90%: 9600×90% = 8640; psn 1360
        (
            "sanmenxia",
            "level1",
            10000,
            {"act_pay_dedc": 400, "hifp_pay": 8640, "pool_prop_selfpay": 960, "psn_cash_pay": 1360},
        ),
        # ziyang 第十八条: 一级 200, 90%: 9800×90% = 8820; psn 1180 (大额: 1180 < 起付 40000 → 0)
        (
            "ziyang",
            "level1",
            10000,
            {"act_pay_dedc": 200, "hifp_pay": 8820, "pool_prop_selfpay": 980, "psn_cash_pay": 1180},
        ),
    ],
)
def test_inpatient_claim_matches_scenarios(stats, jurisdiction, level, amount, expected):
    person = make_person(jurisdiction)
    claim = make_claim(person, jurisdiction, hospital_level=level, inscp_scp_amt=D(amount))
    claim = claim_adjudicate(claim, as_of=ON)
    assert claim.status == ClaimStatus.ADJUDICATED
    got = breakdown(claim)
    for key, value in expected.items():
        assert got[key] == D(value), key
    assert got["fund_pay_sumamt"] == got["hifp_pay"] + got["hifmi_pay"] + got["hifob_pay"]
    cited = [s["citation"] for s in claim.steps if s["stage"] == "住院统筹" and s["citation"]]
    assert any(jurisdiction in c and "条" in c for c in cited)


def test_xianning_inpatient_names_the_missing_parameter(db):
    person = make_person("xianning")
    claim = make_claim(person, "xianning", inscp_scp_amt=D(10000))
    with pytest.raises(ClaimError, match=r"缺少参数：xianning .* inpatient\."):
        claim_adjudicate(claim, as_of=ON)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DRAFT and "xianning" in claim.error


# --- outpatient -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "jurisdiction, level, amount, expected",
    [
        ("hunan", "level1", 500, {"act_pay_dedc": 0, "hifp_pay": 350, "psn_cash_pay": 150}),  # 500×70% (第五十条)
        ("langfang", "level2", 1000, {"act_pay_dedc": 100, "hifp_pay": 540, "psn_cash_pay": 460}),  # (1000−100)×60%
        ("sanmenxia", "level2", 1000, {"act_pay_dedc": 0, "hifp_pay": 0, "psn_cash_pay": 1000}),  # 无职工门诊统筹 D-S11
        ("ziyang", "level3a", 1000, {"act_pay_dedc": 200, "hifp_pay": 400, "psn_cash_pay": 600}),  # (1000−200)×50%
    ],
)
def test_outpatient_claim_matches_scenarios(stats, jurisdiction, level, amount, expected):
    person = make_person(jurisdiction)
    claim = make_claim(person, jurisdiction, med_type="11", hospital_level=level, inscp_scp_amt=D(amount))
    claim = claim_adjudicate(claim, as_of=ON)
    got = breakdown(claim)
    for key, value in expected.items():
        assert got[key] == D(value), key


def test_xianning_outpatient_claim_stops_on_the_missing_overall_cap(db):
    # xianning 细则 第十五条: outpatient pooling counts toward the pool's overall annual maximum
    # (claims.inpatient_cap_counts), whose figure the seed does not give (D-XN1): the claim names it.
    # Without the overall cap the outpatient rule alone gives (1000−400)×80% = 480 (scenario case).
    person = make_person("xianning")
    claim = make_claim(person, "xianning", med_type="11", hospital_level="level1", inscp_scp_amt=D(1000))
    with pytest.raises(ClaimError, match=r"缺少参数：xianning .*inpatient\.annual_cap"):
        claim_adjudicate(claim, as_of=ON)


def test_outpatient_deductible_accumulates_across_visits(db):
    # langfang 第四十九条(一): 100 a year.
    # Visit 1: 60 → all deductible, pool 0. Visit 2: 1000 → 40 left; (960)×60% = 576.
    person = make_person("langfang")
    first = claim_adjudicate(
        make_claim(person, "langfang", med_type="11", hospital_level="level2", inscp_scp_amt=D(60)), as_of=ON
    )
    second = claim_adjudicate(
        make_claim(
            person,
            "langfang",
            med_type="11",
            hospital_level="level2",
            inscp_scp_amt=D(1000),
            start_date=date(2024, 4, 1),
        ),
        as_of=ON,
    )
    assert (first.act_pay_dedc, first.hifp_pay) == (D(60), D(0))
    assert (second.act_pay_dedc, second.hifp_pay) == (D(40), D(576))
    acc = BenefitAccumulator.objects.get(person=person, year=2024)
    assert acc.outpatient_deductible_used == D(100) and acc.outpatient_pool_paid == D(576)
    # 1 January resets: a 2025 visit bears the full 100 again ((1000−100)×60% = 540).
    third = claim_adjudicate(
        make_claim(
            person,
            "langfang",
            med_type="11",
            hospital_level="level2",
            inscp_scp_amt=D(1000),
            start_date=date(2025, 1, 5),
        ),
        as_of=date(2025, 1, 10),
    )
    assert (third.act_pay_dedc, third.hifp_pay) == (D(100), D(540))


# --- maternity --------------------------------------------------------------------------------------


def test_sanmenxia_maternity_claim(db):
    # sanmenxia 第二十四条: 自然分娩定额 1200; 第二十六条: 6000÷30×98 = 19600.
    person = make_person("sanmenxia", male=False, birth=date(1992, 4, 4))
    claim = make_claim(
        person,
        "sanmenxia",
        med_type="52",
        maternity_event="natural",
        continuous_months=9,
        employer_average_monthly_wage=D(6000),
        inscp_scp_amt=D(3000),
        hospital_level="level2",
    )
    claim = claim_adjudicate(claim, as_of=ON)
    assert claim.hifp_pay == D(1200) and claim.maternity_allowance == D(19600)
    assert claim.psn_cash_pay == D(1800)  # 3000 − 1200
    entry = claim.journal_entry
    assert sum(p.amount for p in entry.postings.all()) == 0
    assert balance_of(fund_account("sanmenxia", AccountKind.POOLED)) == D(-20800)


def test_ziyang_maternity_claim(db):
    # ziyang 第二十四条(二): 顺产限额 3500, 实际 3000 → 3000; (一) 6000÷30×158 = 31600.
    person = make_person("ziyang", male=False, birth=date(1992, 4, 4))
    claim = make_claim(
        person,
        "ziyang",
        med_type="52",
        maternity_event="natural",
        continuous_months=12,
        employer_average_monthly_wage=D(6000),
        inscp_scp_amt=D(3000),
        hospital_level="level2",
    )
    claim = claim_adjudicate(claim, as_of=ON)
    assert claim.hifp_pay == D(3000) and claim.maternity_allowance == D(31600) and claim.psn_cash_pay == D(0)


def test_maternity_refused_below_continuous_months(db):
    # sanmenxia 第二十三条: 9 months; 8 → refused with the reason.
    person = make_person("sanmenxia", male=False, birth=date(1992, 4, 4))
    claim = make_claim(
        person, "sanmenxia", med_type="52", maternity_event="natural", continuous_months=8, inscp_scp_amt=D(3000)
    )
    claim = claim_adjudicate(claim, as_of=ON)
    assert claim.status == ClaimStatus.REFUSED and "不满 9 个月" in claim.refusal_reason
    assert claim.journal_entry is None


def _birth(person, jurisdiction: str, months: int, cost: int, **kw) -> Claim:
    """A natural birth (med_type 52) adjudicated; the employer's average monthly wage 6000."""
    claim = make_claim(
        person,
        jurisdiction,
        med_type="52",
        maternity_event="natural",
        continuous_months=months,
        employer_average_monthly_wage=D(6000),
        inscp_scp_amt=D(cost),
        hospital_level="level2",
        **kw,
    )
    return claim_adjudicate(claim, as_of=ON)


@pytest.mark.parametrize(
    "jurisdiction, months, cost, expected",
    [
        # sanmenxia 第二十八条: 男职工连续缴费满 9 个月，配偶无工作单位：自然分娩定额 1200 × 50% = 600
        ("sanmenxia", 9, 3000, 600),
        # ziyang 第二十四条(二): 配偶未享受生育待遇：顺产标准 3500 × 50% = 1750（按标准，不按实际费用 2000）
        ("ziyang", 12, 2000, 1750),
    ],
)
def test_male_employee_non_working_spouse_maternity_claim_paid_half(db, jurisdiction, months, cost, expected):
    person = make_person(jurisdiction, male=True)
    claim = _birth(person, jurisdiction, months, cost)
    assert claim.status == ClaimStatus.ADJUDICATED
    assert (claim.hifp_pay, claim.maternity_allowance) == (D(expected), D(0))  # no allowance for the husband
    assert any("50%" in s["description"] and jurisdiction in s["citation"] for s in claim.steps)
    # the spouse already had her own maternity benefit: nothing
    spouse_paid = _birth(person, jurisdiction, months, cost, spouse_insured=True)
    assert spouse_paid.status == ClaimStatus.REFUSED and spouse_paid.hifp_pay is None


@pytest.mark.parametrize(
    "jurisdiction, months, cost, medical",
    [
        # sanmenxia 第二十七条: 财政全额供给单位 不享受生育津贴；第二十四条 自然分娩定额 1200
        ("sanmenxia", 20, 3000, 1200),
        # ziyang 第二十四条(一): 财政供养机关事业单位人员 不享受生育津贴；(二) 顺产限额 3500, 实际 4000 → 3500
        ("ziyang", 36, 4000, 3500),
    ],
)
def test_fiscal_funded_employer_staff_get_no_allowance(db, jurisdiction, months, cost, medical):
    person = make_person(jurisdiction, male=False, birth=date(1992, 4, 4), employer_kind="fiscal_institution")
    claim = _birth(person, jurisdiction, months, cost)
    assert claim.status == ClaimStatus.ADJUDICATED
    assert (claim.hifp_pay, claim.maternity_allowance) == (D(medical), D(0))
    assert any("财政" in s["description"] and jurisdiction in s["citation"] for s in claim.steps)
    # the same birth for an enterprise employee does carry the allowance (6000 ÷ 30 × days)
    other = make_person(jurisdiction, male=False, birth=date(1992, 4, 4))
    assert _birth(other, jurisdiction, months, cost).maternity_allowance > 0


@pytest.mark.parametrize("jurisdiction", ["hunan", "langfang"])
def test_maternity_where_seed_is_silent(db, jurisdiction):
    person = make_person(jurisdiction, male=False, birth=date(1992, 4, 4))
    claim = make_claim(
        person, jurisdiction, med_type="52", maternity_event="natural", continuous_months=12, inscp_scp_amt=D(3000)
    )
    with pytest.raises(ClaimError, match=r"maternity\.medical_payment_basis"):
        claim_adjudicate(claim, as_of=ON)


# --- refusal when not covered -----------------------------------------------------------------------


def test_refused_during_waiting_period(db):
    person = make_person("hunan", covered_from=date(2024, 5, 1))
    claim = claim_adjudicate(make_claim(person, "hunan", inscp_scp_amt=D(5000)), as_of=ON)
    assert claim.status == ClaimStatus.REFUSED
    assert "2024-03-01" in claim.refusal_reason and "等待期" in claim.refusal_reason
    assert claim.hifp_pay is None and claim.journal_entry is None
    assert not BenefitAccumulator.objects.filter(person=person).exists()


def test_refused_when_stay_runs_past_coverage(db):
    person = make_person("hunan")
    EligibilityPeriod.objects.filter(person=person, status="covered").update(end=date(2024, 3, 5))
    EligibilityPeriod.objects.create(
        person=person,
        jurisdiction=Jurisdiction.objects.get(code="hunan"),
        start=date(2024, 3, 5),
        end=None,
        status="suspended",
        reason="欠费暂停",
        citation="hunan 第十八条",
        computed_at=timezone.now(),
    )
    claim = claim_adjudicate(make_claim(person, "hunan", inscp_scp_amt=D(5000)), as_of=ON)
    assert claim.status == ClaimStatus.REFUSED and claim.refusal_reason.startswith("2024-03-05 暂停享受待遇")


def test_unemployed_employee_without_payments_uses_the_real_timeline(db):
    # No stored timeline: eligH's rule is run first; with no contribution paid the person is in 等待期.
    person = make_person("ziyang", covered_from=None)
    claim = claim_adjudicate(make_claim(person, "ziyang", inscp_scp_amt=D(5000)), as_of=ON)
    assert claim.status == ClaimStatus.REFUSED and "等待期" in claim.refusal_reason


# --- accumulators, repeat admissions, ledger, reversal ----------------------------------------------


def test_repeat_admission_uses_accumulators_and_reversal_restores_them(stats):
    # hunan D-H5: 三级 1100 then same level ×50% = 550.
    person = make_person("hunan")
    first = claim_adjudicate(make_claim(person, "hunan", hospital_level="level3", inscp_scp_amt=D(20000)), as_of=ON)
    # (20000−1100)×85% = 16065
    assert (first.act_pay_dedc, first.hifp_pay) == (D(1100), D(16065))
    second = make_claim(
        person,
        "hunan",
        hospital_level="level3",
        inscp_scp_amt=D(20000),
        start_date=date(2024, 5, 1),
        end_date=date(2024, 5, 9),
    )
    second = claim_adjudicate(second, as_of=ON)
    # (20000−550)×85% = 16532.50
    assert (second.act_pay_dedc, second.hifp_pay) == (D(550), D("16532.50"))
    acc = BenefitAccumulator.objects.get(person=person, year=2024)
    assert acc.inpatient_admissions == 2 and acc.admissions_by_level == {"level3": 2}
    assert acc.inpatient_deductibles == D(1650) and acc.inpatient_pool_paid == D("32597.50")
    # layer burden: self-pay 3935 + 3467.50
    assert acc.layer_burden == D("7402.50") and acc.layer_paid == 0

    pool = fund_account("hunan", AccountKind.POOLED)
    before = balance_of(pool)
    claim_reverse(second, "录入错误", on=ON)
    second.refresh_from_db()
    assert second.status == ClaimStatus.REVERSED and second.reversal_entry.reverses_id == second.journal_entry_id
    assert balance_of(pool) == before + D("16532.50")
    acc.refresh_from_db()
    assert acc.inpatient_admissions == 1 and acc.admissions_by_level == {"level3": 1}
    assert acc.inpatient_deductibles == D(1100) and acc.inpatient_pool_paid == D(16065)
    assert acc.layer_burden == D(3935)
    kinds = list(AccumulatorAdjustment.objects.filter(claim=second).values_list("kind", flat=True))
    assert kinds == ["settle", "reverse"]
    # The original result is kept; history records the change.
    assert second.hifp_pay == D("16532.50") and second.history.count() >= 3
    with pytest.raises(ClaimError):
        claim_reverse(second, "再次冲正", on=ON)
    # A third stay after the reversal is again the 2nd at this level: 550.
    third = claim_adjudicate(
        make_claim(
            person,
            "hunan",
            hospital_level="level3",
            inscp_scp_amt=D(20000),
            start_date=date(2024, 6, 1),
            end_date=date(2024, 6, 5),
        ),
        as_of=ON,
    )
    assert third.act_pay_dedc == D(550)


def test_ledger_entry_posted_once_with_business_key(stats):
    person = make_person("ziyang")
    claim = claim_adjudicate(make_claim(person, "ziyang", inscp_scp_amt=D(10000)), as_of=ON)
    entry = JournalEntry.objects.get(business_key=f"claim:{claim.business_key}")
    assert entry.kind == "benefit_payment" and entry.person_id == person.pk
    assert sorted((p.account.kind, p.amount) for p in entry.postings.select_related("account")) == [
        ("bank", D(8820)),
        ("pooled", D(-8820)),
    ]
    with pytest.raises(ClaimError, match="只有待审核"):
        claim_adjudicate(claim, as_of=ON)
    assert JournalEntry.objects.filter(business_key__startswith="claim:").count() == 1


def test_personal_account_pays_up_to_balance(stats):
    person = make_person("hunan")
    jur = Jurisdiction.objects.get(code="hunan")
    account = personal_account(person, jur, on=date(2024, 1, 1))
    post_entry(
        business_key="opening-test",
        kind="opening",
        jurisdiction=jur,
        effective_on=date(2024, 1, 1),
        legs=[Leg(account, D(500)), Leg(fund_account(jur, AccountKind.BANK), D(-500))],
    )
    # psn share 690 (see the hunan inpatient case); asks 1000; balance 500 → account 500, cash 190.
    claim = make_claim(person, "hunan", hospital_level="grassroots", inscp_scp_amt=D(10000), acct_pay_requested=D(1000))
    claim = claim_adjudicate(claim, as_of=ON)
    assert (claim.acct_pay, claim.psn_cash_pay) == (D(500), D(190))
    assert balance_of(account) == 0
    claim_reverse(claim, "退回", on=ON)
    assert balance_of(account) == D(500)


def test_hunan_critical_illness_layer_on_cumulative_self_pay(stats):
    # 省部属 1600, 80%: 100000 → pool (98400)×80% = 78720; self 21280; 大病: (21280−15000)×85% = 5338.
    person = make_person("hunan")
    claim = claim_adjudicate(
        make_claim(person, "hunan", hospital_level="provincial", inscp_scp_amt=D(100000)), as_of=ON
    )
    assert claim.hifp_pay == D(78720) and claim.hifmi_pay == D(5338) and claim.hifob_pay == 0
    assert claim.fund_pay_sumamt == D(84058) and claim.psn_cash_pay == D(15942)
    entry = claim.journal_entry
    kinds = {p.account.kind: p.amount for p in entry.postings.select_related("account")}
    assert kinds == {"pooled": D(-78720), "critical_illness": D(-5338), "bank": D(84058)}


def test_ziyang_large_amount_layer(stats):
    # 三级甲等 1000, 80%: 200000 → (199000)×80% = 159200; self 40800; 大额 (40800−40000)×70% = 560.
    person = make_person("ziyang")
    claim = claim_adjudicate(make_claim(person, "ziyang", hospital_level="level3a", inscp_scp_amt=D(200000)), as_of=ON)
    assert claim.hifp_pay == D(159200) and claim.hifob_pay == D(560) and claim.hifmi_pay == 0


def _cross_year_stay(person) -> Claim:
    """A langfang 一级 stay 2024-12-20 → 2025-01-10, 10000 of which 6000 in 2024, settled 2025-01-15."""
    claim = make_claim(
        person,
        "langfang",
        start_date=date(2024, 12, 20),
        end_date=date(2025, 1, 10),
        inscp_scp_amt=D(10000),
        first_year_amount=D(6000),
    )
    return claim_adjudicate(claim, as_of=date(2025, 1, 15))


def test_cross_year_stay_split_with_one_deductible(db):
    # langfang 第四十七条(五), D-X15: 一级 200 once; 2024 part 6000: (5800)×96% = 5568; 2025 part 4000: 4000×96% = 3840.
    person = make_person("langfang")
    claim = _cross_year_stay(person)
    assert (claim.act_pay_dedc, claim.hifp_pay) == (D(200), D(9408))
    a24 = BenefitAccumulator.objects.get(person=person, year=2024)
    a25 = BenefitAccumulator.objects.get(person=person, year=2025)
    assert (a24.inpatient_pool_paid, a24.inpatient_deductibles, a24.inpatient_admissions) == (D(5568), D(200), 1)
    assert (a25.inpatient_pool_paid, a25.inpatient_deductibles, a25.inpatient_admissions) == (D(3840), 0, 0)


def test_cross_year_stay_reversed_restores_both_years(db):
    # The stay of test_cross_year_stay_split_with_one_deductible, then 冲正: both years' accumulators back to 0,
    # the entry reversed; a new stay in 2025 is then the year's first admission (一级 200 again).
    person = make_person("langfang")
    claim = _cross_year_stay(person)
    pool = fund_account("langfang", AccountKind.POOLED)
    assert balance_of(pool) == D(-9408)
    claim_reverse(claim, "重复申报", on=date(2025, 1, 20))
    claim.refresh_from_db()
    assert claim.reversal_entry.reverses_id == claim.journal_entry_id and balance_of(pool) == 0
    for year in (2024, 2025):
        acc = BenefitAccumulator.objects.get(person=person, year=year)
        assert (acc.inpatient_pool_paid, acc.inpatient_deductibles, acc.inpatient_admissions, acc.claims_count) == (
            0,
            0,
            0,
            0,
        )
        assert list(
            AccumulatorAdjustment.objects.filter(claim=claim, accumulator=acc).values_list("kind", flat=True)
        ) in (["settle", "reverse"],)
    again = claim_adjudicate(
        make_claim(
            person,
            "langfang",
            start_date=date(2025, 2, 1),
            end_date=date(2025, 2, 5),
            inscp_scp_amt=D(10000),
        ),
        as_of=date(2025, 2, 10),
    )
    assert again.act_pay_dedc == D(200)


def test_transfer_pays_only_the_deductible_difference(stats):
    # hunan D-H6: 二级 800 then referred up to 三级 (1100): pays 300 more; not a new admission at the first level.
    person = make_person("hunan")
    first = claim_adjudicate(
        make_claim(person, "hunan", hospital_level="level2", inscp_scp_amt=D(5000), end_date=date(2024, 3, 5)), as_of=ON
    )
    second = make_claim(
        person,
        "hunan",
        hospital_level="level3",
        inscp_scp_amt=D(10000),
        start_date=date(2024, 3, 5),
        end_date=date(2024, 3, 12),
        transfer_from=first,
        continued_stay="transfer_upward",
    )
    second = claim_adjudicate(second, as_of=ON)
    # (10000−300)×85% = 8245
    assert (second.act_pay_dedc, second.hifp_pay) == (D(300), D(8245))
    acc = BenefitAccumulator.objects.get(person=person, year=2024)
    assert acc.inpatient_admissions == 1 and acc.inpatient_deductibles == D(1100)
    with pytest.raises(ClaimError, match="转院后"):
        claim_reverse(first, "错", on=ON)


def test_ziyang_items_banded_pre_self_pay_and_bed_fee(stats):
    # ziyang 第十二条(一)(二): 乙类药 1000 → 100 先行自付; 诊疗项目单价 2000 (30%) → 600; 材料 70000 →
    # 10000 自费, 60000×50% = 30000 先行自付; 二级普通床位 30元×10日 → 标准 20: 200 纳入, 100 自费; 甲类 3000.
    # 总额 1000+2000+70000+300+3000 = 76300; 自费 10100; 先行自付 30700; 政策范围 35500.
    # 二级乙等 400, 85%: (35500−400)×85% = 29835.
    person = make_person("ziyang")
    claim = make_claim(person, "ziyang", hospital_level="level2", inscp_scp_amt=D(0), medfee_sumamt=D(0))
    for kind, qty, price, extra in [
        ("class_b_drug", 10, 100, {}),
        ("part_paid_item", 1, 2000, {}),
        ("material", 1, 70000, {}),
        ("bed_fee", 10, 30, {"bed_type": "general"}),
        ("category_a", 1, 3000, {}),
    ]:
        ClaimItem.objects.create(claim=claim, kind=kind, quantity=D(qty), unit_price=D(price), **extra)
    claim = claim_adjudicate(claim, as_of=ON)
    assert (claim.medfee_sumamt, claim.fulamt_ownpay, claim.preselfpay, claim.inscp_scp_amt) == (
        D(76300),
        D(10100),
        D(30700),
        D(35500),
    )
    assert (claim.act_pay_dedc, claim.hifp_pay) == (D(400), D(29835))
    assert claim.psn_cash_pay == D(76300) - D(29835)
