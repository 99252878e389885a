"""Claims admin: pages render for a case worker (2303 breakdown, steps, 冲正) and are refused to an employer user."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from benefits.claims.models import Claim, ClaimStatus
from tests.test_claims import make_claim, make_person


@pytest.fixture
def claim(db):
    person = make_person("langfang")
    return make_claim(person, "langfang", hospital_level="level1", inscp_scp_amt=D(10000))


def claim_form_data(person, **fields: str) -> dict[str, object]:
    """POST data for the admin add form (经办录入): the form's defaults and an empty item formset, then `fields`."""
    return {
        "person": person.pk,
        "jurisdiction": person.spans.first().jurisdiction_id,
        "special_kind": "chronic",
        "location": "local",
        "fulamt_ownpay": "0",
        "preselfpay": "0",
        "acct_pay_requested": "0",
        "babies": "1",
        "policy_extra_days": "0",
        "arrears_months": "0",
        "external_service_filed": "on",
        "items-TOTAL_FORMS": "0",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
        **fields,
    }


def test_case_worker_enters_adjudicates_and_reverses(client, case_worker, claim):
    client.force_login(case_worker)
    assert (
        client.get(reverse("admin:claims_claim_changelist") + "?status__exact=draft&med_type__exact=21").status_code
        == 200
    )
    assert client.get(reverse("admin:claims_claim_add")).status_code == 200
    page = client.get(reverse("admin:claims_claim_change", args=[claim.pk]))
    assert page.status_code == 200 and "审核结算" in page.content.decode()

    client.post(reverse("admin:claims_claim_adjudicate", args=[claim.pk]))
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.ADJUDICATED and claim.hifp_pay == D(9408)  # (10000−200)×96%
    html = client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert "hifp_pay" in html and "9408" in html and "廊坊 第四十七条(一)1" in html and "冲正" in html

    assert client.get(reverse("admin:claims_claim_reverse", args=[claim.pk])).status_code == 200
    client.post(reverse("admin:claims_claim_reverse", args=[claim.pk]), {"reason": "重复报销"})
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REVERSED and claim.reversal_entry is not None
    assert client.get(reverse("admin:claims_claim_history", args=[claim.pk])).status_code == 200
    assert client.get(reverse("admin:claims_benefitaccumulator_changelist")).status_code == 200
    assert client.get(reverse("admin:claims_settlementfile_add")).status_code == 200


def test_add_claim_through_the_form(client, case_worker, db):
    person = make_person("ziyang")
    client.force_login(case_worker)
    data = claim_form_data(
        person,
        business_key="M-form-1",
        med_type="11",
        start_date="2024-03-01",
        hospital_level="level3a",
        medfee_sumamt="1000",
        inscp_scp_amt="1000",
    )
    response = client.post(reverse("admin:claims_claim_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    claim = Claim.objects.get(business_key="M-form-1")
    assert claim.created_by == case_worker and claim.status == ClaimStatus.DRAFT


def test_employer_user_is_refused(client, employer_user_a, claim):
    client.force_login(employer_user_a)
    assert client.get(reverse("admin:claims_claim_changelist")).status_code == 403
    assert client.get(reverse("admin:claims_claim_change", args=[claim.pk])).status_code in (302, 403)
    assert client.post(reverse("admin:claims_claim_adjudicate", args=[claim.pk])).status_code == 403
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DRAFT


def test_auditor_sees_masked_id_number(client, auditor, claim):
    client.force_login(auditor)
    html = client.get(reverse("admin:claims_claim_changelist")).content.decode()
    assert claim.person.id_number not in html
    assert claim.person.id_number[:3] in html


def test_settled_claim_shows_its_item_lines_read_only(client, case_worker, db):
    from benefits.claims.models import ClaimItem
    from benefits.claims.services import claim_adjudicate
    from tests.test_claims import stat

    stat("ziyang", "annual_average_wage", 80000)
    stat("ziyang", "large_amount_deductible", 40000)
    person = make_person("ziyang")
    claim = make_claim(person, "ziyang", hospital_level="level2b", inscp_scp_amt=D(0), medfee_sumamt=D(0))
    ClaimItem.objects.create(claim=claim, kind="class_b_drug", name="乙类药X", quantity=D(10), unit_price=D(100))
    claim_adjudicate(claim, as_of=date(2024, 3, 15))
    client.force_login(case_worker)
    html = client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    # ziyang 第十二条(一)1: 乙类 10% 先行自付: 1000 → 100 自付, 900 纳入; the line is shown, not editable
    assert "费用明细（已结算，只读）" in html and "乙类药X" in html and 'name="items-0-name"' not in html
    assert "先行自付 1000 × 10% = 100 元" in html


def test_settlement_file_page_lists_errors_by_row_and_field(client, case_worker, db):
    from benefits.claims.models import SettlementFile
    from policy.models import Jurisdiction

    sfile = SettlementFile.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="ziyang"),
        file="claims/x.csv",
        original_name="x.csv",
        as_of=date(2024, 7, 1),
        error_rows=2,
        errors=[
            {"row": 5, "field": "item_kind", "message": "'drug' 不在可选值 category_a … 中"},
            {"row": 8, "field": "medfee_sumamt", "message": "必填（无费用明细时）"},
        ],
    )
    client.force_login(case_worker)
    html = client.get(reverse("admin:claims_settlementfile_change", args=[sfile.pk])).content.decode()
    assert "错误明细（行号 / 字段 / 说明）" in html
    assert "<td>5</td><td><code>item_kind</code></td>" in html and "必填（无费用明细时）" in html


def test_claim_screen_says_the_insurer_pays_oth_pay(client, case_worker, db):
    """ziyang 商业健康补充医疗保险 (第二十八条): the result and the step say the insurer pays it, not a fund."""
    from benefits.claims.adjudication import OTH_PAY_PAYER
    from benefits.claims.services import claim_adjudicate
    from tests.test_claims import stat

    stat("ziyang", "large_amount_deductible", 40000)
    stat("ziyang", "annual_average_wage", 80000)
    person = make_person("ziyang")
    claim = make_claim(person, "ziyang", hospital_level="level3a", inscp_scp_amt=D(200000), supplementary_insured=True)
    claim = claim_adjudicate(claim, as_of=date(2024, 3, 15))
    # (200000−1000)×80% = 159200; 大额 560; 商业 (40800−1000−560)×60% = 23544, outside fund_pay_sumamt and the ledger
    assert claim.oth_pay == D(23544) and claim.fund_pay_sumamt == D(159760)
    assert sum(p.amount for p in claim.journal_entry.postings.all() if p.amount > 0) == D(159760)
    assert any(OTH_PAY_PAYER in s["description"] and "ziyang 第二十八条" in s["citation"] for s in claim.steps)
    client.force_login(case_worker)
    html = client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert f"其他支出（商业健康补充医疗保险，商业保险机构赔付）：{OTH_PAY_PAYER}" in html
    assert "23544" in html
