"""Registers a claim stands on (issue #17 items 2, 3, 4 and ziyang 第十四条): out-of-area filings, chronic-disease
certifications, personal-account use with family binding and payout, and the 原档次待遇 window.

Claims go through the database (``claim_adjudicate``): the location and the certification come from the
registers, not from what the claim states. Amounts are worked by hand from the seeds in the comments.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from benefits.calculations.eligibility import ContributionMonth, eligibility_timeline
from benefits.claims.models import ClaimStatus
from benefits.claims.services import ClaimError, claim_adjudicate
from benefits.models import EligibilityPeriod, EligibilityState
from benefits.registers import services as regs
from benefits.registers.models import CertificationStatus, FilingStatus, OutOfAreaFiling
from benefits.services import _rows
from funds import account_use as acct
from funds.models import AccountKind, AccountUse, EntryKind, FamilyBinding, JournalEntry
from funds.posting import Leg, balance_of, fund_account, personal_account, post_entry
from operations.demo.population import id_number
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyMissing
from tests.policy_support import staff_enter
from tests.registers_support import certify
from tests.test_claims import make_claim, make_person, stat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

ON = date(2024, 6, 20)


@pytest.fixture
def ziyang_stats(db):
    stat("ziyang", "large_amount_deductible", 40000)
    stat("ziyang", "annual_average_wage", 80000)


def fund(person, code: str, amount: str, on: date = date(2024, 1, 2)) -> None:
    """Put money in the person's personal account (an opening posting, as a credit would)."""
    jur = Jurisdiction.objects.get(code=code)
    post_entry(
        business_key=f"test-fund:{person.pk}:{code}",
        kind=EntryKind.OPENING,
        jurisdiction=jur,
        effective_on=on,
        legs=[
            Leg(personal_account(person, jur, on=on), D(amount)),
            Leg(fund_account(jur, AccountKind.BANK), -D(amount)),
        ],
        memo="测试期初余额",
    )


# --- 异地就医备案: the claim's location from the filings --------------------------------------------------


def test_ziyang_filed_out_of_area_stay_is_settled_as_local(ziyang_stats):
    # 第三十四条(一), D-Z13: filed long-term residence → local figures, 三级甲等 (20000 − 1000) × 80% = 15200.
    person = make_person("ziyang")
    regs.filing_record(
        person=person,
        jurisdiction="ziyang",
        kind="long_term",
        place="成都市",
        filed_on=date(2024, 1, 5),
        start=date(2024, 1, 5),
    )
    claim = make_claim(person, "ziyang", hospital_level="level3a", location="unregistered", inscp_scp_amt=D(20000))
    claim = claim_adjudicate(claim, as_of=ON)
    assert claim.status == ClaimStatus.ADJUDICATED
    assert (claim.act_pay_dedc, claim.hifp_pay) == (D(1000), D(15200))
    step = next(s for s in claim.steps if s["stage"] == "异地就医备案")
    assert "异地长期居住" in step["description"] and "ziyang 第三十四条" in step["citation"]


def test_ziyang_unfiled_out_of_area_stay_uses_the_out_of_area_column(ziyang_stats):
    # 第十八条, D-Z13: no filing on the admission date (the filing ended before) → 1200 and 60%:
    # (20000 − 1200) × 60% = 11280, whatever the claim typed.
    person = make_person("ziyang")
    regs.filing_record(
        person=person,
        jurisdiction="ziyang",
        kind="temporary",
        place="重庆市",
        filed_on=date(2024, 1, 5),
        start=date(2024, 1, 5),
        end=date(2024, 2, 1),
    )
    claim = make_claim(person, "ziyang", hospital_level="level3a", location="registered_remote", inscp_scp_amt=D(20000))
    claim = claim_adjudicate(claim, as_of=ON)
    assert (claim.act_pay_dedc, claim.hifp_pay) == (D(1200), D(11280))
    assert any("无有效的异地就医备案" in s["description"] for s in claim.steps)


def test_local_care_keeps_its_location_and_needs_no_filing(ziyang_stats):
    person = make_person("ziyang")
    claim = claim_adjudicate(
        make_claim(person, "ziyang", hospital_level="level3a", location="local", inscp_scp_amt=D(20000)), as_of=ON
    )
    assert claim.hifp_pay == D(15200)


def test_sanmenxia_long_term_filing_cannot_change_or_end_within_a_year():
    # 第五十五条: "原则上申请办理异地长期居住就医备案一年内不能变更或终止".
    person = make_person("sanmenxia")
    first = regs.filing_record(
        person=person,
        jurisdiction="sanmenxia",
        kind="long_term",
        place="郑州市",
        filed_on=date(2024, 1, 1),
        start=date(2024, 1, 1),
    )
    with pytest.raises(ValidationError) as err:
        regs.filing_record(
            person=person,
            jurisdiction="sanmenxia",
            kind="long_term",
            place="洛阳市",
            filed_on=date(2024, 7, 1),
            start=date(2024, 7, 1),
        )
    assert "sanmenxia 第五十五条" in str(err.value.message_dict["start"])
    with pytest.raises(ValidationError) as err:
        regs.filing_cancel(first, on=date(2024, 10, 1))
    assert "第五十五条" in str(err.value)
    assert OutOfAreaFiling.objects.filter(person=person).count() == 1  # nothing half-written
    # a year later the change is allowed: the first filing ends the day the second starts
    second = regs.filing_record(
        person=person,
        jurisdiction="sanmenxia",
        kind="long_term",
        place="洛阳市",
        filed_on=date(2025, 1, 1),
        start=date(2025, 1, 1),
    )
    first.refresh_from_db()
    assert (first.status, first.end, second.replaces_id) == (FilingStatus.REPLACED, date(2025, 1, 1), first.pk)


def test_langfang_change_within_half_a_year_refused_but_cancellation_on_return_allowed():
    # 第六十九条: 半年内不得再次变更就医地; 返回参保地居住的，可申请注销.
    person = make_person("langfang")
    first = regs.filing_record(
        person=person,
        jurisdiction="langfang",
        kind="long_term",
        place="北京市",
        filed_on=date(2024, 1, 1),
        start=date(2024, 1, 1),
    )
    with pytest.raises(ValidationError, match="第六十九条"):
        regs.filing_record(
            person=person,
            jurisdiction="langfang",
            kind="long_term",
            place="天津市",
            filed_on=date(2024, 4, 1),
            start=date(2024, 4, 1),
        )
    cancelled = regs.filing_cancel(first, on=date(2024, 4, 1))
    assert (cancelled.status, cancelled.end) == (FilingStatus.CANCELLED, date(2024, 4, 1))


def test_langfang_temporary_filing_runs_one_year_and_may_be_filed_late():
    # 第六十七条: 临时外出就医备案有效期为1年; 未能及时备案的可先行住院、出院结算前补办.
    person = make_person("langfang")
    filing = regs.filing_record(
        person=person,
        jurisdiction="langfang",
        kind="temporary",
        place="上海市",
        filed_on=date(2024, 3, 5),
        start=date(2024, 3, 1),
    )
    assert filing.end == date(2025, 3, 1) and "补办备案" in filing.citation
    with pytest.raises(ValidationError) as err:
        regs.filing_record(
            person=person,
            jurisdiction="langfang",
            kind="temporary",
            place="上海市",
            filed_on=date(2024, 3, 1),
            start=date(2024, 3, 1),
            end=date(2025, 6, 1),
        )
    assert "end" in err.value.message_dict


def test_retro_filing_where_the_document_is_silent_names_the_missing_value():
    person = make_person("hunan")
    with pytest.raises(PolicyMissing, match=r"registers\.retro_filing"):
        regs.filing_record(
            person=person,
            jurisdiction="hunan",
            kind="long_term",
            place="广州市",
            filed_on=date(2024, 3, 5),
            start=date(2024, 3, 1),
        )


def test_langfang_emergency_admission_counts_as_filed():
    # 第六十七条 "参保人员因急诊抢救住院的，视同已备案".
    from benefits.registers.calculations.rules import claim_location

    location, _, cite = claim_location(
        Policy("langfang", ON), "unregistered", [], admission=ON, discharge=ON, emergency=True, manual=False
    )
    assert location == "registered_remote" and "langfang 第六十七条" in cite


# --- 门诊慢特病认定 --------------------------------------------------------------------------------------


CATALOGUE = [{"code": "ZY-2-01", "name": "高血压病（合并靶器官损害）", "class": 2}]


def test_ziyang_chronic_claim_without_certification_is_refused(ziyang_stats):
    person = make_person("ziyang")
    claim = make_claim(
        person, "ziyang", med_type="14", disease_classes="2", hospital_level="level2a", inscp_scp_amt=D(1000)
    )
    claim = claim_adjudicate(claim, as_of=ON)
    assert claim.status == ClaimStatus.REFUSED
    assert "无有效的门诊慢特病认定" in claim.refusal_reason and "ziyang 第十七条(三)" in claim.refusal_reason
    assert not JournalEntry.objects.filter(business_key=f"claim:{claim.business_key}").exists()


def test_ziyang_chronic_claim_under_an_approved_certification_is_paid(ziyang_stats):
    # 第十七条: class 2, 75%: 1000 × 75% = 750. Certification: 申请 → 鉴定 → 核准 with validity and institution.
    staff_enter(
        "ziyang",
        {"registers.chronic_disease_catalogue": CATALOGUE},
        effective_from=date(2023, 1, 1),
        document="测试目录",
    )
    person = make_person("ziyang")
    cert = regs.certification_apply(
        person=person, jurisdiction="ziyang", disease_code="ZY-2-01", applied_on=date(2024, 1, 3)
    )
    assert (cert.disease_class, cert.status) == (2, CertificationStatus.APPLIED)
    with pytest.raises(ValidationError):  # no approval before the assessment
        regs.certification_approve(
            cert, on=date(2024, 1, 20), valid_from=date(2024, 2, 1), valid_until=None, institution_code="H1"
        )
    regs.certification_assess(cert, on=date(2024, 1, 15), passed=True, opinion="符合")
    regs.certification_approve(
        cert, on=date(2024, 1, 20), valid_from=date(2024, 2, 1), valid_until=date(2025, 2, 1), institution_code="H1"
    )
    kw = {"med_type": "14", "hospital_level": "level2a", "inscp_scp_amt": D(1000)}
    paid = claim_adjudicate(make_claim(person, "ziyang", start_date=date(2024, 3, 1), **kw), as_of=ON)
    assert (paid.status, paid.hifp_pay) == (ClaimStatus.ADJUDICATED, D(750))
    early = claim_adjudicate(make_claim(person, "ziyang", start_date=date(2024, 1, 25), **kw), as_of=ON)
    assert early.status == ClaimStatus.REFUSED  # before the validity period


def test_certification_outside_the_catalogue_or_class_is_refused_on_its_field():
    person = make_person("ziyang")
    with pytest.raises(PolicyMissing, match=r"registers\.chronic_disease_catalogue"):
        regs.certification_apply(person=person, jurisdiction="ziyang", disease_code="X", applied_on=date(2024, 1, 3))
    staff_enter(
        "ziyang",
        {"registers.chronic_disease_catalogue": CATALOGUE},
        effective_from=date(2023, 1, 1),
        document="测试目录",
    )
    with pytest.raises(ValidationError) as err:
        regs.certification_apply(person=person, jurisdiction="ziyang", disease_code="NOPE", applied_on=date(2024, 1, 3))
    assert "disease_code" in err.value.message_dict


def test_hunan_carry_over_from_resident_insurance_counts_what_was_paid(db):
    # 第六十一条: the approval carries over without re-application; the year's cap is net of what the
    # resident scheme already paid. Cap (staff-entered, D-H12) 10000, paid 9500 → at most 500 more;
    # 第四十七条 in-service 80%: 2000 × 80% = 1600 → 500.
    staff_enter(
        "hunan",
        {
            "registers.chronic_disease_catalogue": [{"code": "HN-01", "name": "糖尿病"}],
            "special_disease.outpatient_annual_cap": 10000,
        },
        effective_from=date(2023, 1, 1),
        document="测试值",
    )
    person = make_person("hunan")
    cert = regs.certification_carry_over(
        person=person,
        jurisdiction="hunan",
        disease_code="HN-01",
        approved_on=date(2024, 3, 1),
        valid_from=date(2024, 3, 1),
        valid_until=date(2025, 3, 1),
        institution_code="H43",
        paid_amount=D("9500"),
        paid_year=2024,
    )
    assert cert.carried_over and cert.status == CertificationStatus.APPROVED and "hunan 第六十一条" in cert.citation
    claim = claim_adjudicate(
        make_claim(
            person, "hunan", med_type="14", hospital_level="level2", start_date=date(2024, 4, 1), inscp_scp_amt=D(2000)
        ),
        as_of=ON,
    )
    assert claim.hifp_pay == D(500)
    assert any("居民医保期内已报销" in s["description"] for s in claim.steps)


def test_carry_over_where_no_seed_allows_it_names_the_missing_value():
    person = make_person("ziyang")
    with pytest.raises(PolicyMissing, match=r"registers\.chronic_carry_over_on_switch"):
        regs.certification_carry_over(
            person=person,
            jurisdiction="ziyang",
            disease_code="ZY-2-01",
            approved_on=date(2024, 3, 1),
            valid_from=date(2024, 3, 1),
            valid_until=None,
            institution_code="H",
            paid_amount=D(1),
            paid_year=2024,
        )


# --- 个人账户的使用 --------------------------------------------------------------------------------------


def _child_of(person, n: int = 1) -> str:
    return id_number("430102", date(2012, 6, 1), 90 + n, False)


def test_hunan_family_pharmacy_purchase_is_paid_from_the_holders_account():
    # 第四十三条: 配偶、父母、子女 … 在定点零售药店购买药品 … 由个人负担的费用.
    person = make_person("hunan")
    fund(person, "hunan", "500.00")
    binding = acct.binding_create(
        holder=person,
        jurisdiction="hunan",
        member_name="小明",
        member_id_number=_child_of(person),
        relationship="child",
        proof="户口簿 123",
        start=date(2024, 1, 1),
    )
    use = acct.account_use(
        holder=person, jurisdiction="hunan", purpose="pharmacy", amount=D("120.50"), on=ON, binding=binding
    )
    assert use.status == "paid" and "hunan 第四十三条" in use.citation and use.entry is not None
    assert balance_of(personal_account(person, "hunan", on=ON)) == D("379.50")


def test_uses_outside_the_list_are_refused_with_the_article_and_recorded():
    person = make_person("sanmenxia")
    fund(person, "sanmenxia", "300.00")
    # sanmenxia 第十条 lists no family costs at institutions; the relationships are not listed either (missing)
    with pytest.raises(PolicyMissing, match=r"account_use\.family_relationships"):
        acct.binding_create(
            holder=person,
            jurisdiction="sanmenxia",
            member_name="配偶",
            member_id_number=_child_of(person, 2),
            relationship="spouse",
            proof="结婚证",
            start=date(2024, 1, 1),
        )
    refused = acct.account_use(holder=person, jurisdiction="sanmenxia", purpose="fitness", amount=D(50), on=ON)
    assert refused.status == "refused" and "sanmenxia 第十条" in refused.reason and refused.entry is None
    checkup = acct.account_use(holder=person, jurisdiction="sanmenxia", purpose="health_checkup", amount=D(50), on=ON)
    assert checkup.status == "paid"
    assert AccountUse.objects.filter(holder=person).count() == 2
    assert balance_of(personal_account(person, "sanmenxia", on=ON)) == D(250)


def test_langfang_prohibited_use_cites_article_41():
    person = make_person("langfang")
    use = acct.account_use(holder=person, jurisdiction="langfang", purpose="cosmetics", amount=D(10), on=ON)
    assert use.status == "refused" and "langfang 第四十一条" in use.reason


def test_binding_relationship_is_checked_against_the_birth_dates():
    person = make_person("hunan")  # born 1980-05-17
    with pytest.raises(ValidationError) as err:
        acct.binding_create(
            holder=person,
            jurisdiction="hunan",
            member_name="父",
            member_id_number=_child_of(person, 3),
            relationship="parent",
            proof="户口簿",
            start=date(2024, 1, 1),
        )
    assert "relationship" in err.value.message_dict
    assert not FamilyBinding.objects.exists()


def test_family_payment_after_the_binding_ended_is_refused():
    person = make_person("hunan")
    fund(person, "hunan", "100.00")
    binding = acct.binding_create(
        holder=person,
        jurisdiction="hunan",
        member_name="小红",
        member_id_number=_child_of(person, 4),
        relationship="child",
        proof="出生证明",
        start=date(2024, 1, 1),
    )
    acct.binding_end(binding, on=date(2024, 5, 1))
    use = acct.account_use(
        holder=person, jurisdiction="hunan", purpose="pharmacy", amount=D(10), on=ON, binding=binding
    )
    assert use.status == "refused" and "不在有效期内" in use.reason


def test_hunan_payout_of_the_balance_to_the_holders_bank_account():
    # 第四十四条: 因特殊情况无法使用或转移时可以将其个人账户资金划入本人银行账户.
    person = make_person("hunan")
    fund(person, "hunan", "880.00")
    payout = acct.account_payout(
        holder=person,
        jurisdiction="hunan",
        ground="special_circumstances",
        bank_name="测试银行",
        bank_account="6222 0000 1111 2222",
        on=ON,
    )
    assert payout.amount == D(880) and payout.entry.kind == EntryKind.HOLDER_PAYOUT
    assert balance_of(personal_account(person, "hunan", on=ON)) == 0
    with pytest.raises(ValidationError):  # nothing left to pay
        acct.account_payout(
            holder=person,
            jurisdiction="hunan",
            ground="special_circumstances",
            bank_name="测试银行",
            bank_account="6222000011112222",
            on=date(2024, 6, 21),
        )


def test_payout_on_a_ground_the_document_does_not_give_is_refused():
    person = make_person("xianning")
    fund(person, "xianning", "10.00")
    with pytest.raises(ValidationError, match="xianning 细则 第十三条"):
        acct.account_payout(
            holder=person,
            jurisdiction="xianning",
            ground="special_circumstances",
            bank_name="银行",
            bank_account="6222000011112222",
            on=ON,
        )
    assert acct.account_payout(
        holder=person,
        jurisdiction="xianning",
        ground="emigration",
        bank_name="银行",
        bank_account="6222000011112222",
        on=ON,
    ).amount == D(10)


# --- ziyang 第十四条 原档次待遇 ------------------------------------------------------------------------------


def test_ziyang_switch_window_is_marked_previous_level_in_the_stored_timeline():
    timeline = eligibility_timeline(
        Policy("ziyang", date(2024, 5, 20)),
        category="flexible",
        months=[ContributionMonth(date(2024, 5, 1), paid_on=date(2024, 5, 12))],
        as_of=date(2024, 5, 20),
        first_enrolment=False,
        previous_end=date(2024, 3, 31),
        previous_scheme="resident",
        previous_continuous_years=D(1),
    )
    rows = _rows("ziyang", timeline, json.dumps({"x": 1}))
    levels = {(r[1], r[2]): json.loads(r[6]).get("benefit_level") for r in rows if r[3] == "covered"}
    assert levels[(date(2024, 5, 12), date(2024, 11, 1))] == "previous_scheme"
    assert levels[(date(2024, 11, 1), None)] is None


def _previous_level_person(code: str = "ziyang"):
    person = make_person(code, covered_from=None)
    jur = Jurisdiction.objects.get(code=code)
    now = timezone.now()
    EligibilityState.objects.create(person=person, digest="test", computed_at=now)
    for start, end, facts in (
        (date(2024, 5, 12), date(2024, 11, 1), {"benefit_level": "previous_scheme"}),
        (date(2024, 11, 1), None, {}),
    ):
        EligibilityPeriod.objects.create(
            person=person,
            jurisdiction=jur,
            start=start,
            end=end,
            status="covered",
            reason="测试",
            citation="ziyang 第十四条",
            facts=facts,
            computed_at=now,
        )
    return person


def test_ziyang_claim_in_the_window_is_never_settled_at_employee_values(ziyang_stats):
    person = _previous_level_person()
    claim = make_claim(
        person,
        "ziyang",
        hospital_level="level3a",
        location="local",
        inscp_scp_amt=D(20000),
        start_date=date(2024, 6, 1),
        end_date=date(2024, 6, 5),
    )
    with pytest.raises(ClaimError, match=r"claims\.previous_level_values"):
        claim_adjudicate(claim, as_of=ON)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DRAFT and "claims.previous_level_values" in claim.error
    # staff enter the previous scheme's values (test values): (20000 − 800) × 60% = 11520, not 15200
    staff_enter(
        "ziyang",
        {"claims.previous_level_values": {"21": {"deductible": 800, "ratio_pct": 60, "annual_cap": 100000}}},
        effective_from=date(2023, 1, 1),
        document="测试：居民医保原档次",
    )
    claim = claim_adjudicate(claim, as_of=ON)
    assert (claim.act_pay_dedc, claim.hifp_pay) == (D(800), D(11520))
    after = claim_adjudicate(
        make_claim(
            person,
            "ziyang",
            hospital_level="level3a",
            location="local",
            inscp_scp_amt=D(20000),
            start_date=date(2024, 11, 5),
            end_date=date(2024, 11, 9),
        ),
        as_of=date(2024, 12, 1),
    )
    assert after.hifp_pay == D(15200)  # after the window: employee values (第十八条)


# --- screens ---------------------------------------------------------------------------------------------


@pytest.fixture
def worker_client(client):
    from enrollment.roles import CASE_WORKER
    from tests.conftest import make_user

    client.force_login(make_user("regs_worker", CASE_WORKER))
    return client


def test_filing_screen_records_and_refuses_on_the_field(worker_client):
    person = make_person("sanmenxia")
    jur = Jurisdiction.objects.get(code="sanmenxia")
    data = {
        "person": person.pk,
        "jurisdiction": jur.pk,
        "kind": "long_term",
        "place": "郑州市",
        "filed_on": "2024-01-01",
        "start": "2024-01-01",
        "end": "",
        "note": "",
    }
    url = reverse("admin:registers_outofareafiling_add")
    assert worker_client.post(url, data).status_code == 302
    response = worker_client.post(url, {**data, "place": "洛阳市", "filed_on": "2024-06-01", "start": "2024-06-01"})
    assert response.status_code == 200
    assert "第五十五条" in str(response.context["adminform"].form.errors["start"])
    assert OutOfAreaFiling.objects.filter(person=person).count() == 1
    listing = worker_client.get(reverse("admin:registers_outofareafiling_changelist"), {"q": str(person.pk)})
    assert listing.status_code == 200 and "郑州市" in listing.content.decode()


def test_account_use_screen_records_a_refusal(worker_client):
    person = make_person("langfang")
    jur = Jurisdiction.objects.get(code="langfang")
    data = {
        "holder": person.pk,
        "jurisdiction": jur.pk,
        "purpose": "food",
        "binding": "",
        "amount": "10",
        "used_on": "2024-06-01",
    }
    assert worker_client.post(reverse("admin:funds_accountuse_add"), data).status_code == 302
    use = AccountUse.objects.get(holder=person)
    assert use.status == "refused" and "langfang 第四十一条" in use.reason


def test_ziyang_switch_from_resident_insurance_end_to_end(ziyang_stats):
    # 第十四条: 1 year of resident cover, switch with no gap; flexible worker pays 2024-03-10 → 原档次待遇
    # from 2024-03-10 for 6 months (to 2024-09-01). The nightly stores the level with the period; a claim in
    # the window stops on the missing previous-scheme values (never paid at employee values).
    from enrollment.models import LifeEvent
    from tests.test_nightly_equivalence import _span_person, months, on_day

    p = _span_person("ziyang", 21, "flexible", date(2024, 3, 1), on_day(months("2024-03", "2024-08"), 10))
    LifeEvent.objects.create(
        person=p,
        kind="transfer_in",
        occurred_on=date(2024, 3, 1),
        jurisdiction=Jurisdiction.objects.get(code="ziyang"),
        months=12,
        other_region="城乡居民基本医疗保险",
    )
    from benefits.services import eligibility_refresh

    eligibility_refresh([p.pk], date(2024, 9, 10))
    window = EligibilityPeriod.objects.get(person=p, facts__benefit_level="previous_scheme")
    assert (window.start, window.end, window.status) == (date(2024, 3, 10), date(2024, 9, 1), "covered")
    claim = make_claim(
        p,
        "ziyang",
        hospital_level="level2a",
        location="local",
        inscp_scp_amt=D(5000),
        start_date=date(2024, 5, 2),
        end_date=date(2024, 5, 6),
    )
    with pytest.raises(ClaimError, match=r"claims\.previous_level_values"):
        claim_adjudicate(claim, as_of=date(2024, 9, 10))


def test_bulk_settlement_reads_the_registers_as_one_claim_does(ziyang_stats):
    # The settlement-file job (settle_claims) and the claim screen check the same registers: a filed stay at
    # local figures (15200), an unfiled one at the out-of-area column (11280), a chronic claim without a
    # certification refused and one under a certification paid (1000 × 75% = 750).
    from benefits.claims.jobs import settle_claims

    filed, unfiled = make_person("ziyang"), make_person("ziyang")
    regs.filing_record(
        person=filed,
        jurisdiction="ziyang",
        kind="referral",
        place="华西医院",
        filed_on=date(2024, 2, 28),
        start=date(2024, 2, 28),
        end=date(2024, 4, 1),
    )
    certified = make_person("ziyang")
    certify(certified, "ziyang", 2)
    kw = {"hospital_level": "level3a", "location": "unregistered", "inscp_scp_amt": D(20000)}
    chronic = {"med_type": "14", "disease_classes": "2", "hospital_level": "level2a", "inscp_scp_amt": D(1000)}
    claims = [
        make_claim(filed, "ziyang", **kw),
        make_claim(unfiled, "ziyang", **kw),
        make_claim(unfiled, "ziyang", start_date=date(2024, 3, 20), **chronic),
        make_claim(certified, "ziyang", **chronic),
    ]
    for c in claims:
        c.jurisdiction = Jurisdiction.objects.get(code="ziyang")
    settle_claims(sorted(claims, key=lambda c: (c.person_id, c.pk)), as_of=ON)
    got = {c.pk: c for c in type(claims[0]).objects.filter(pk__in=[c.pk for c in claims])}
    assert got[claims[0].pk].hifp_pay == D(15200)
    assert got[claims[1].pk].hifp_pay == D(11280)
    assert got[claims[2].pk].status == ClaimStatus.REFUSED
    assert got[claims[3].pk].hifp_pay == D(750)
