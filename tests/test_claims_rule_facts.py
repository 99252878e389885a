"""Claims pass the rules' further facts (issue #6): transfers and the stay's deductible, the overall annual
cap across benefits (and langfang's 大额 above it for outpatient care), honoured groups, out-of-province
care, AIDS, excluded causes and the third-party advance, non-designated hospitals, maternity arrears and
the one-off grant, the manual-claim deadline — the same in the admin, one at a time and in a bulk file.

Expected amounts are worked by hand from the seeds (arithmetic in the comments).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from batch.runs import run_in_process
from benefits.claims.adjudication import deadline_last_day
from benefits.claims.imports import COLUMNS, parse_row, settlement_file_import
from benefits.claims.jobs import JOB
from benefits.claims.models import (
    EXTRA_RESULT_FIELDS,
    RESULT_FIELDS,
    RULE_FACT_FIELDS,
    BenefitAccumulator,
    Claim,
    ClaimSource,
    ClaimStatus,
    SettlementFile,
)
from benefits.claims.services import ClaimError, claim_adjudicate
from funds.models import AccountKind
from funds.posting import balance_of, fund_account
from policy.catalog import validate_value
from policy.models import Jurisdiction
from policy.resolver import PolicyError
from tests.test_claims import make_claim, make_person
from tests.test_claims_admin import claim_form_data
from tests.test_claims_bulk import _csv, _Rollback, settlement_row
from tests.test_claims_layers import LANGFANG_STAFF, XIANNING_STAFF, enter

ON = date(2024, 3, 15)


pytestmark = pytest.mark.usefixtures("fresh_policy")


def settle(claim: Claim) -> Claim:
    return claim_adjudicate(claim, as_of=ON)


def maternity_claim(code: str, *, continuous_months: int = 12, **facts: object) -> Claim:
    """A new mother's natural birth in a level-2 hospital: 3000 in scope, employer's average wage 6000."""
    return make_claim(
        make_person(code, male=False, birth=date(1992, 4, 4)),
        code,
        med_type="52",
        maternity_event="natural",
        continuous_months=continuous_months,
        employer_average_monthly_wage=D(6000),
        inscp_scp_amt=D(3000),
        hospital_level="level2",
        **facts,
    )


# --- transfers: direction, the deductible borne in the whole stay ---------------------------------------


def test_hunan_downward_referral_waives_the_deductible(claim_stats):
    # hunan 第三十六条: 三级 1100, (10000−1100)×85% = 7565; referred down to 二级: no deductible, 5000×90% = 4500.
    person = make_person("hunan")
    first = settle(make_claim(person, "hunan", hospital_level="level3", inscp_scp_amt=D(10000)))
    assert (first.act_pay_dedc, first.hifp_pay, first.stay_deductible) == (D(1100), D(7565), D(1100))
    second = settle(
        make_claim(
            person,
            "hunan",
            hospital_level="level2",
            inscp_scp_amt=D(5000),
            start_date=date(2024, 3, 10),
            end_date=date(2024, 3, 14),
            transfer_from=first,
            continued_stay="transfer_downward",
        )
    )
    assert (second.act_pay_dedc, second.hifp_pay, second.stay_deductible) == (D(0), D(4500), D(1100))
    assert any("转往下级" in s["description"] and "第三十六条" in s["citation"] for s in second.steps)
    acc = BenefitAccumulator.objects.get(person=person, year=2024)
    assert acc.inpatient_admissions == 1 and acc.inpatient_deductibles == D(1100)


def test_a_chain_of_upward_transfers_bears_one_deductible_in_all(claim_stats):
    # hunan D-H6: 一级 500 → 二级 800 − 500 = 300 → 三级 1100 − 800 = 300 (not 1100 − 300: the whole stay counts).
    # Pool: 2500×92% = 2300; 3700×90% = 3330; 9700×85% = 8245.
    person = make_person("hunan")
    a = settle(make_claim(person, "hunan", hospital_level="level1", inscp_scp_amt=D(3000)))
    b = settle(
        make_claim(
            person,
            "hunan",
            hospital_level="level2",
            inscp_scp_amt=D(4000),
            start_date=date(2024, 3, 10),
            end_date=date(2024, 3, 12),
            transfer_from=a,
            continued_stay="transfer_upward",
        )
    )
    c = settle(
        make_claim(
            person,
            "hunan",
            hospital_level="level3",
            inscp_scp_amt=D(10000),
            start_date=date(2024, 3, 12),
            end_date=date(2024, 3, 14),
            transfer_from=b,
            continued_stay="transfer_upward",
        )
    )
    assert [(x.act_pay_dedc, x.hifp_pay, x.stay_deductible) for x in (a, b, c)] == [
        (D(500), D(2300), D(500)),
        (D(300), D(3330), D(800)),
        (D(300), D(8245), D(1100)),
    ]


def test_a_transfer_needs_its_direction(claim_stats):
    person = make_person("hunan")
    first = settle(make_claim(person, "hunan", hospital_level="level2", inscp_scp_amt=D(5000)))
    second = make_claim(person, "hunan", hospital_level="level3", inscp_scp_amt=D(5000), transfer_from=first)
    with pytest.raises(ClaimError, match="连续住院类型"):
        settle(second)
    alone = make_claim(person, "hunan", inscp_scp_amt=D(5000), continued_stay="transfer_upward")
    with pytest.raises(ClaimError, match="转院前住院"):
        settle(alone)


def test_sanmenxia_transfer_stops_on_the_missing_rule(db):
    # sanmenxia 第十三条(一): "视同连续住院的起付标准，另行规定" — not given (D-X16): the claim names the key.
    person = make_person("sanmenxia")
    first = settle(make_claim(person, "sanmenxia", hospital_level="level1", inscp_scp_amt=D(5000)))
    second = make_claim(
        person,
        "sanmenxia",
        hospital_level="level2",
        inscp_scp_amt=D(5000),
        transfer_from=first,
        continued_stay="transfer_upward",
    )
    with pytest.raises(ClaimError, match=r"inpatient\.continued_stay_rules\.transfer_upward"):
        settle(second)
    second.refresh_from_db()
    assert second.status == ClaimStatus.DRAFT and "continued_stay_rules" in second.error


# --- the overall annual cap across benefits, and langfang's 大额 above it ---------------------------------


def test_ziyang_outpatient_and_single_payment_drug_stop_at_the_overall_cap(claim_stats):
    # ziyang 第十二条(四): 6 × 80000 = 480000 for inpatient, outpatient, special disease and drugs together.
    # Inpatient already paid 479900: outpatient 三级甲等 (1000−200)×50% = 400 → 100 left; drug 1000×70% = 700 → 0.
    person = make_person("ziyang")
    BenefitAccumulator.objects.create(
        person=person, jurisdiction_id=Jurisdiction.objects.get(code="ziyang").pk, year=2024, inpatient_pool_paid=479900
    )
    visit = settle(make_claim(person, "ziyang", med_type="11", hospital_level="level3a", inscp_scp_amt=D(1000)))
    assert (visit.act_pay_dedc, visit.hifp_pay) == (D(200), D(100))
    assert any("480000" in s["description"] and "第十二条(四)" in s["citation"] for s in visit.steps)
    drug = settle(
        make_claim(
            person,
            "ziyang",
            med_type="14",
            special_kind="single_payment_drug",
            hospital_level="level3a",
            inscp_scp_amt=D(1000),
            start_date=date(2024, 3, 2),
        )
    )
    assert drug.hifp_pay == D(0)


def test_langfang_outpatient_above_the_combined_cap_goes_to_the_large_amount_layer(db):
    # langfang 第四十九条(四) D-L9: 350 000 for inpatient, 门诊慢特病 and outpatient together; paid 349 800.
    # 二级 (1000−100)×60% = 540 but 200 left → 200; above the cap (540−200)÷60% = 566.67 (第五十二条 大额).
    person = make_person("langfang")
    BenefitAccumulator.objects.create(
        person=person,
        jurisdiction_id=Jurisdiction.objects.get(code="langfang").pk,
        year=2024,
        inpatient_pool_paid=349800,
    )
    claim = make_claim(person, "langfang", med_type="11", hospital_level="level2", inscp_scp_amt=D(1000))
    with pytest.raises(ClaimError, match=r"critical_illness\.bands"):  # the layer's ratios are staff data
        settle(claim)
    enter("langfang", LANGFANG_STAFF)
    claim = settle(claim)
    # 566.67 × 90% = 510.003 → 510.00
    assert (claim.act_pay_dedc, claim.hifp_pay, claim.hifob_pay) == (D(100), D(200), D("510.00"))
    assert claim.fund_pay_sumamt == D("710.00") and claim.psn_cash_pay == D("290.00")
    acc = BenefitAccumulator.objects.get(person=person, year=2024)
    assert (acc.outpatient_pool_paid, acc.layer_burden, acc.layer_paid) == (D(200), D("566.67"), D("510.00"))


def test_langfang_outpatient_below_the_combined_cap_has_no_layer_step(db):
    person = make_person("langfang")
    claim = settle(make_claim(person, "langfang", med_type="11", hospital_level="level2", inscp_scp_amt=D(1000)))
    assert (claim.hifp_pay, claim.hifob_pay) == (D(540), D(0))
    assert not any(s["stage"] == "大额补充医疗保险" for s in claim.steps)


# --- facts only the case worker knows -------------------------------------------------------------------


def test_langfang_honoured_group_ratio(db):
    # langfang 第七十九条: the inpatient ratio is 10 points higher.
    person = make_person("langfang")
    plain = settle(make_claim(person, "langfang", hospital_level="level3", inscp_scp_amt=D(10000)))
    other = make_person("langfang")
    honoured = settle(
        make_claim(other, "langfang", hospital_level="level3", inscp_scp_amt=D(10000), honoured_group=True)
    )
    # 三级 600, 88%: 9400×88% = 8272; honoured 98%: 9400×98% = 9212.
    assert (plain.act_pay_dedc, plain.hifp_pay) == (D(600), D(8272))
    assert (honoured.act_pay_dedc, honoured.hifp_pay) == (D(600), D(9212))
    assert any("第七十九条" in s["citation"] for s in honoured.steps)


def test_sanmenxia_out_of_province_deductible(db):
    # sanmenxia 第十三条(一): 省外非基层医疗机构 2000.
    person = make_person("sanmenxia")
    claim = settle(
        make_claim(
            person,
            "sanmenxia",
            hospital_level="level2",
            inscp_scp_amt=D(10000),
            location="registered_remote",
            out_of_province=True,
        )
    )
    assert claim.act_pay_dedc == D(2000)
    assert any(
        "省外" in s["description"] and "第十三条" in s["citation"] and s["amount"] == "2000.00" for s in claim.steps
    )


def test_ziyang_aids_patient_bears_only_the_first_deductible(claim_stats):
    # ziyang 第十八条(一)5: only the year's first deductible; a second stay bears none.
    person = make_person("ziyang")
    settle(make_claim(person, "ziyang", hospital_level="level1", inscp_scp_amt=D(5000), aids=True))
    second = settle(
        make_claim(
            person,
            "ziyang",
            hospital_level="level1",
            inscp_scp_amt=D(5000),
            start_date=date(2024, 5, 1),
            end_date=date(2024, 5, 5),
            aids=True,
        )
    )
    assert second.act_pay_dedc == D(0)
    other = make_person("ziyang")
    settle(make_claim(other, "ziyang", hospital_level="level1", inscp_scp_amt=D(5000)))
    plain = settle(
        make_claim(
            other,
            "ziyang",
            hospital_level="level1",
            inscp_scp_amt=D(5000),
            start_date=date(2024, 5, 1),
            end_date=date(2024, 5, 5),
        )
    )
    assert plain.act_pay_dedc > 0


def test_hunan_third_party_advance_and_work_injury(claim_stats):
    # hunan 第三十五条: a third party who does not pay → the pool advances (一级 500, 9500×92% = 8740) and recovers.
    person = make_person("hunan")
    advance = settle(
        make_claim(person, "hunan", inscp_scp_amt=D(10000), excluded_cause="third_party", third_party_unpaid=True)
    )
    assert (advance.hifp_pay, advance.third_party_advance) == (D(8740), True)
    assert any("向第三人追偿" in s["description"] for s in advance.steps)
    other = make_person("hunan")
    injury = settle(make_claim(other, "hunan", inscp_scp_amt=D(10000), excluded_cause="work_injury"))
    assert (injury.hifp_pay, injury.hifmi_pay, injury.psn_cash_pay, injury.third_party_advance) == (
        D(0),
        D(0),
        D(10000),
        False,
    )
    assert not BenefitAccumulator.objects.filter(person=other, layer_burden__gt=0).exists()


def test_hunan_non_designated_pays_only_emergency_rescue(claim_stats):
    # hunan 第四十条.
    person = make_person("hunan")
    refused = settle(make_claim(person, "hunan", inscp_scp_amt=D(10000), non_designated=True))
    assert refused.hifp_pay == D(0) and any("第四十条" in s["citation"] for s in refused.steps)
    other = make_person("hunan")
    rescue = settle(make_claim(other, "hunan", inscp_scp_amt=D(10000), non_designated=True, emergency_rescue=True))
    assert rescue.hifp_pay == D(8740)


def test_ziyang_pharmacy_outpatient_level_is_accepted(claim_stats):
    # ziyang 第十六条(二): a designated retail pharmacy is an outpatient level.
    person = make_person("ziyang")
    claim = settle(make_claim(person, "ziyang", med_type="11", hospital_level="pharmacy", inscp_scp_amt=D(500)))
    assert claim.status == ClaimStatus.ADJUDICATED and claim.hifp_pay > 0


# --- maternity: arrears, one-off grant, payee -----------------------------------------------------------


def test_sanmenxia_arrears_leave_medical_only(db):
    # sanmenxia 第二十八条: arrears over 3 months, made up: 自然分娩 1200 only, no allowance.
    claim = settle(maternity_claim("sanmenxia", arrears_months=4, arrears_made_up=True))
    assert (claim.hifp_pay, claim.maternity_allowance, claim.benefit_scope) == (D(1200), D(0), "medical_only")


def test_sanmenxia_one_off_grant_is_staff_data_then_paid_from_the_pool(db):
    # sanmenxia 第二十三条 lists 一次性生育补助金 without an amount (D-X16): named, then paid once entered.
    claim = maternity_claim("sanmenxia", continuous_months=9, claim_one_off_grant=True)
    with pytest.raises(ClaimError, match=r"maternity\.one_off_grant_amounts"):
        settle(claim)
    enter("sanmenxia", {"maternity.one_off_grant_amounts": {"natural": "800"}})
    claim = settle(claim)
    # 1200 + 19600 (第二十六条) + 800
    assert (claim.hifp_pay, claim.maternity_allowance, claim.one_off_grant) == (D(1200), D(19600), D(800))
    assert balance_of(fund_account("sanmenxia", AccountKind.POOLED)) == D(-21600)


def test_ziyang_allowance_payee_is_shown(db):
    claim = settle(maternity_claim("ziyang"))
    assert (claim.allowance_payee, claim.benefit_scope) == ("employer", "full")
    assert any("拨付用人单位" in s["description"] for s in claim.steps)


def test_ziyang_birth_outside_family_planning_policy_is_not_paid(db):
    # ziyang 第二十三条: a birth outside family-planning policy gets no maternity benefit; the same birth
    # inside policy is paid (the fact is entered by the case worker, as in the admin and the file).
    outside = settle(maternity_claim("ziyang", policy_compliant=False))
    assert outside.status == ClaimStatus.REFUSED
    assert "计划生育（生育）政策" in outside.refusal_reason
    assert (outside.hifp_pay or D(0), outside.maternity_allowance or D(0)) == (D(0), D(0))
    inside = settle(maternity_claim("ziyang"))
    assert inside.status == ClaimStatus.ADJUDICATED and inside.hifp_pay > 0


def test_langfang_disabled_soldier_needs_the_separate_rule(db):
    # langfang 第八十条: 一至六级残疾军人 "按相关规定执行" — a rule staff must enter; the claim names it.
    person = make_person("langfang")
    claim = make_claim(person, "langfang", hospital_level="level3", inscp_scp_amt=D(10000), disabled_soldier_grade=3)
    with pytest.raises(ClaimError, match=r"inpatient\.disabled_soldier_rules"):
        settle(claim)


# --- manual-claim deadline ------------------------------------------------------------------------------


def test_langfang_manual_claim_within_six_months_of_discharge(db):
    # langfang 第七十三条: out-of-area care paid by the person is claimed within 6 months of discharge.
    enter("langfang", LANGFANG_STAFF)  # out-of-area care reads the 大额 layer's location rules (staff data)
    person = make_person("langfang")
    common = {"inscp_scp_amt": D(10000), "location": "registered_remote", "end_date": date(2024, 3, 10)}
    late = settle(make_claim(person, "langfang", submitted_on=date(2024, 9, 11), **common))
    assert late.status == ClaimStatus.REFUSED and late.hifp_pay is None
    assert "超过报销期限" in late.refusal_reason and "第七十三条" in late.refusal_reason
    in_time = settle(make_claim(person, "langfang", submitted_on=date(2024, 9, 10), **common))
    assert in_time.status == ClaimStatus.ADJUDICATED
    with pytest.raises(ClaimError, match="申请受理日期"):
        settle(make_claim(person, "langfang", **common))
    local = settle(make_claim(make_person("langfang"), "langfang", inscp_scp_amt=D(10000)))
    assert any(s["stage"] == "申请期限" and "不适用" in s["description"] for s in local.steps)


def test_xianning_manual_claim_by_the_end_of_the_following_year(db):
    # xianning 细则 第二十五条: 市域外异地门诊 not settled directly — "最迟于次年底前": care on 2024-03-01 is
    # claimed by 2025-12-31; 2026-01-01 is too late. Local care is not a manual out-of-area claim.
    # The overall cap is not in the 细则 (D-XN1): staff enter a hypothetical one for the in-time claim.
    enter(
        "xianning",
        {**XIANNING_STAFF, "inpatient.annual_cap": "300000", "inpatient.annual_cap_average_wage_multiple": None},
    )
    person = make_person("xianning")
    common = {"med_type": "11", "inscp_scp_amt": D(500), "location": "registered_remote"}
    late = settle(make_claim(person, "xianning", submitted_on=date(2026, 1, 1), **common))
    assert late.status == ClaimStatus.REFUSED, late.steps
    assert "最迟于次年底前" in late.refusal_reason and "2025-12-31" in late.refusal_reason
    assert "xianning 细则 第二十五条" in late.refusal_reason
    in_time = settle(make_claim(person, "xianning", submitted_on=date(2025, 12, 31), **common))
    deadline = [s for s in in_time.steps if s["stage"] == "申请期限"]
    assert deadline and "最迟于次年底前" in deadline[0]["description"], in_time.steps
    assert "超过报销期限" not in (in_time.refusal_reason or "")


def test_the_deadline_shape_is_checked_on_load():
    # The catalog gives the record's shape: an unknown field or a wrong type is refused naming the key.
    with pytest.raises(ValidationError, match="manual_claim_deadline"):
        validate_value("claims.manual_claim_deadline", {"until": "end_of_next_decade"})
    with pytest.raises(ValidationError, match="未知字段 days"):
        validate_value("claims.manual_claim_deadline", {"until": "months_after_end", "days": 30})
    assert deadline_last_day({"until": "end_of_following_year"}, date(2024, 12, 31))[0] == date(2025, 12, 31)
    assert deadline_last_day({"months": 6}, date(2024, 8, 31))[0] == date(2025, 2, 28)
    with pytest.raises(PolicyError, match="months"):
        deadline_last_day({"until": "months_after_end"}, date(2024, 3, 10))


def test_silent_jurisdictions_say_there_is_no_deadline(claim_stats):
    for code in ("hunan", "ziyang", "sanmenxia"):
        claim = settle(make_claim(make_person(code), code, inscp_scp_amt=D(10000), submitted_on=date(2030, 1, 1)))
        assert claim.status == ClaimStatus.ADJUDICATED, code
        assert any(
            s["stage"] == "申请期限" and "未规定" in s["description"] and code in s["citation"] for s in claim.steps
        ), code


def test_a_settlement_file_claim_is_not_a_manual_claim(db):
    enter("langfang", LANGFANG_STAFF)
    person = make_person("langfang")
    claim = make_claim(
        person,
        "langfang",
        inscp_scp_amt=D(10000),
        location="registered_remote",
        source=ClaimSource.SETTLEMENT_FILE,
    )
    claim = settle(claim)
    assert claim.status == ClaimStatus.ADJUDICATED
    assert any("结算文件" in s["description"] for s in claim.steps if s["stage"] == "申请期限")


# --- the admin form and the result page ----------------------------------------------------------------


def test_admin_form_takes_the_facts_and_shows_the_outputs(client, case_worker, claim_stats):
    person = make_person("hunan")
    client.force_login(case_worker)
    data = claim_form_data(
        person,
        business_key="M-facts-1",
        med_type="21",
        start_date="2024-03-01",
        end_date="2024-03-10",
        hospital_level="level1",
        medfee_sumamt="10000",
        inscp_scp_amt="10000",
        excluded_cause="third_party",
        third_party_unpaid="on",
        submitted_on="2024-03-20",
    )
    response = client.post(reverse("admin:claims_claim_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    claim = Claim.objects.get(business_key="M-facts-1")
    assert (claim.excluded_cause, claim.third_party_unpaid, claim.submitted_on) == (
        "third_party",
        True,
        date(2024, 3, 20),
    )
    claim = settle(claim)
    page = client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert "基金先行支付（向第三人追偿）" in page and "向第三人追偿" in page


# --- the same in a file, one at a time and entered: every new fact ----------------------------------------


def _rows(code: str, persons: list) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []

    def add(person, key: str, **kw) -> None:
        row = {"business_key": key, "id_number": person.id_number, "hospital_level": "level1", "med_type": "21"}
        row.update(start_date="2024-02-01", end_date="2024-02-08")
        row.update(kw)
        row.setdefault("medfee_sumamt", row.get("inscp_scp_amt"))
        rows.append({k: str(v) for k, v in row.items()})

    for i, p in enumerate(persons):
        k = f"{code[:2]}{i}"
        add(p, f"{k}a", hospital_level="level2", inscp_scp_amt=8000 + 100 * i)
        add(
            p,
            f"{k}b",
            hospital_level="level3",
            inscp_scp_amt=12000,
            start_date="2024-02-08",
            end_date="2024-02-15",
            transfer_from=f"{k}a",
            continued_stay="transfer_upward" if code != "hunan" or i % 2 == 0 else "transfer_downward",
        )
        add(p, f"{k}c", med_type="11", start_date="2024-03-01", end_date="", hospital_level="level2", inscp_scp_amt=900)
        if code == "hunan":
            add(
                p,
                f"{k}d",
                inscp_scp_amt=6000,
                start_date="2024-04-01",
                end_date="2024-04-03",
                excluded_cause="third_party",
                third_party_unpaid="1",
            )
            add(
                p,
                f"{k}e",
                inscp_scp_amt=3000,
                start_date="2024-05-01",
                end_date="2024-05-03",
                non_designated="1",
                emergency_rescue="1" if i else "",
            )
        elif code == "langfang":
            add(
                p,
                f"{k}d",
                hospital_level="level3",
                inscp_scp_amt=20000,
                start_date="2024-04-01",
                end_date="2024-04-03",
                honoured_group="1",
            )
        elif code == "ziyang":
            add(p, f"{k}d", inscp_scp_amt=5000, start_date="2024-04-01", end_date="2024-04-03", aids="1")
            add(
                p,
                f"{k}e",
                med_type="11",
                hospital_level="pharmacy",
                inscp_scp_amt=300,
                start_date="2024-04-10",
                end_date="",
            )
        elif code == "sanmenxia":
            add(
                p,
                f"{k}d",
                hospital_level="level2",
                inscp_scp_amt=9000,
                start_date="2024-04-01",
                end_date="2024-04-03",
                location="registered_remote",
                out_of_province="1",
            )
    return rows


def _result(claim: Claim) -> tuple:
    return (
        claim.status,
        claim.refusal_reason,
        claim.error,
        *(getattr(claim, f) for f in RESULT_FIELDS),
        *(getattr(claim, f) for f in EXTRA_RESULT_FIELDS),
        claim.steps,
    )


@pytest.mark.parametrize("code", ["hunan", "langfang", "ziyang", "sanmenxia"])
def test_new_facts_settle_alike_in_a_file_one_at_a_time_and_entered(claim_stats, code, settings, tmp_path):
    persons = [make_person(code) for _ in range(3)]
    rows = _rows(code, persons)
    settings.MEDIA_ROOT = str(tmp_path)
    sfile = SettlementFile.objects.create(
        jurisdiction=Jurisdiction.objects.get(code=code),
        file=SimpleUploadedFile(f"{code}.csv", _csv(rows)),
        original_name=f"{code}.csv",
        as_of=date(2024, 7, 1),
    )
    assert settlement_file_import(sfile, today=sfile.as_of) == {"rows": len(rows), "imported": len(rows), "errors": 0}
    claims = list(Claim.objects.filter(settlement_file=sfile).order_by("person_id", "row_number"))

    one_by_one, entered = {}, {}
    try:
        with transaction.atomic():
            for claim in claims:
                try:
                    c = claim_adjudicate(claim, as_of=sfile.as_of)
                except ClaimError:
                    c = Claim.objects.get(pk=claim.pk)
                one_by_one[c.business_key] = _result(c)
            raise _Rollback
    except _Rollback:
        pass
    try:
        with transaction.atomic():  # the same claims entered in the admin (source settlement_file kept)
            copies: dict[int, Claim] = {}
            for claim in claims:
                fields = {
                    f.name: getattr(claim, f.name)
                    for f in Claim._meta.concrete_fields
                    if f.name not in ("id", "business_key", "settlement_file", "row_number", "transfer_from")
                }
                fields["transfer_from"] = copies.get(claim.transfer_from_id)
                copy = Claim.objects.create(business_key=f"E-{claim.business_key}", **fields)
                copies[claim.pk] = copy
                try:
                    c = claim_adjudicate(copy, as_of=sfile.as_of)
                except ClaimError:
                    c = Claim.objects.get(pk=copy.pk)
                copies[claim.pk] = c
                entered[claim.business_key] = _result(c)
            raise _Rollback
    except _Rollback:
        pass

    run = run_in_process(JOB, as_of=sfile.as_of, jurisdiction=code, params={"file_id": sfile.pk}, chunk_size=2)
    assert run.status == "done"
    bulk = {c.business_key: _result(c) for c in Claim.objects.filter(settlement_file=sfile)}
    assert bulk == one_by_one == entered
    # the transfers were settled as transfers (not new admissions) and carry the stay's deductible
    transfers = Claim.objects.filter(settlement_file=sfile, transfer_from__isnull=False)
    assert len(transfers) == len(persons)  # one per person (_rows): the checks below are not vacuous
    if code == "sanmenxia":
        assert all("continued_stay_rules" in c.error for c in transfers)
    else:
        assert all(c.status == ClaimStatus.ADJUDICATED and c.stay_deductible is not None for c in transfers)
        assert all(c.stay_deductible >= c.act_pay_dedc for c in transfers)


def test_parse_row_reads_the_new_columns():
    row = settlement_row(
        business_key="X1",
        id_number="1",
        med_type="21",
        start_date="2024-01-01",
        hospital_level="level1",
        continued_stay="transfer_downward",
        honoured_group="是",
        arrears_months="4",
        separated_on="2024-01-02",
    )
    out = parse_row(row)
    assert (out["continued_stay"], out["honoured_group"], out["arrears_months"], out["separated_on"]) == (
        "transfer_downward",
        True,
        4,
        date(2024, 1, 2),
    )
    assert out["external_service_filed"] is True  # empty: the default (filed)
    assert set(RULE_FACT_FIELDS) <= set(COLUMNS)
    from benefits.claims.imports import RowError

    with pytest.raises(RowError) as info:
        parse_row({**row, "continued_stay": "sideways"})
    assert info.value.field == "continued_stay"
