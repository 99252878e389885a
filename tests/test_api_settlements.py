"""Issue #16 item 3: hospitals and pharmacies submit settlements in the national platform's field names and get
the adjudicated breakdown (2303) back; idempotent by 机构 + setl_id (same body → 200 and the same answer,
different body → 409); 冲正 reverses the claim and its ledger posting in one transaction, idempotent too.
Institution tokens: a login bound to one 定点医药机构 sees and writes only its own settlements.

Figures by hand from langfang 第四十七条(一)1: 二级 deductible 400, 93%: (10000 − 400) × 93% = 8928.00."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from apiaudit.models import ApiWrite
from benefits.claims.models import AccumulatorAdjustment, ApiSettlement, BenefitAccumulator, Claim
from benefits.institutions.models import InstitutionUser
from funds.models import JournalEntry
from tests.test_claims import make_person
from tests.test_institutions import agreement, institution

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


def machine(username: str, inst) -> tuple[APIClient, object]:
    user = get_user_model().objects.create_user(username=username, password="pw-123456")
    InstitutionUser.objects.create(user=user, institution=inst)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client, user


@pytest.fixture
def hospital():
    inst = institution("H13100200004", hospital_level="level2")
    agreement(inst)
    return inst


@pytest.fixture
def other_hospital():
    inst = institution("H13100200009", hospital_level="level1")
    agreement(inst)
    return inst


def body(person, setl_id: str = "S0001", **kw) -> dict:
    return {
        "setl_id": setl_id,
        "mdtrt_id": "M0001",
        "psn_no": person.id_number,
        "med_type": "21",
        "begndate": "2024-03-01",
        "enddate": "2024-03-10",
        "medfee_sumamt": "10000.00",
        "inscp_scp_amt": "10000.00",
        **kw,
    }


def test_a_settlement_is_adjudicated_and_answered_in_national_names_then_retried_and_conflicting(hospital):
    client, _ = machine("h4", hospital)
    person = make_person("langfang")
    first = client.post("/api/v1/settlements/", body(person), format="json")
    assert first.status_code == 201, first.content
    answer = first.json()
    assert answer["setl_stas"] == "adjudicated" and answer["fixmedins_code"] == "H13100200004"
    assert (answer["act_pay_dedc"], answer["hifp_pay"]) == ("400.00", "8928.00")
    assert D(answer["fund_pay_sumamt"]) + D(answer["psn_cash_pay"]) == D("10000.00")
    assert answer["psn_no"] == person.id_number  # the institution sent it
    claim = Claim.objects.get(pk=answer["claim"])
    assert claim.source == "api" and claim.institution_id == hospital.pk and claim.journal_entry_id
    again = client.post("/api/v1/settlements/", body(person), format="json")
    assert again.status_code == 200 and again.json() == answer
    changed = client.post("/api/v1/settlements/", body(person, medfee_sumamt="10001.00"), format="json")
    assert changed.status_code == 409 and "setl_id" in changed.json()
    assert ApiSettlement.objects.count() == 1 and Claim.objects.count() == 1
    assert [w.status for w in ApiWrite.objects.order_by("id")] == [201, 200]


def test_reversal_takes_back_the_posting_and_the_accumulators_and_is_idempotent(hospital):
    client, _ = machine("h4", hospital)
    person = make_person("langfang")
    record = client.post("/api/v1/settlements/", body(person), format="json").json()
    url = f"/api/v1/settlements/{record['id']}/reverse/"
    assert client.post(url, {"reason": " "}, format="json").status_code == 400
    done = client.post(url, {"reason": "患者退费重结"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["setl_stas"] == "reversed" and done.json()["reversal_reason"] == "患者退费重结"
    claim = Claim.objects.get(pk=record["claim"])
    assert claim.reversal_entry_id and claim.reversal_entry_id != claim.journal_entry_id
    reversal = JournalEntry.objects.get(pk=claim.reversal_entry_id)
    original = JournalEntry.objects.get(pk=claim.journal_entry_id)
    assert sorted(leg.amount for leg in reversal.postings.all()) == sorted(
        -leg.amount for leg in original.postings.all()
    )
    acc = BenefitAccumulator.objects.get(person=person, year=2024)
    assert acc.claims_count == 0 and acc.inpatient_admissions == 0
    assert AccumulatorAdjustment.objects.filter(claim=claim, kind="reverse").count() == 1
    assert client.post(url, {"reason": "患者退费重结"}, format="json").status_code == 200
    assert client.post(url, {"reason": "另一个原因"}, format="json").status_code == 409
    assert JournalEntry.objects.filter(pk__in=[claim.reversal_entry_id]).count() == 1
    assert AccumulatorAdjustment.objects.filter(claim=claim, kind="reverse").count() == 1


def test_a_refused_or_unsettled_claim_cannot_be_reversed(hospital):
    client, _ = machine("h4", hospital)
    stranger = make_person("langfang", covered_from=None)
    answer = client.post("/api/v1/settlements/", body(stranger, setl_id="S0002"), format="json").json()
    assert answer["setl_stas"] in ("refused", "draft", "review")
    url = f"/api/v1/settlements/{answer['id']}/reverse/"
    assert client.post(url, {"reason": "撤销"}, format="json").status_code == 409


def test_an_institution_token_sees_and_writes_only_its_own(hospital, other_hospital):
    mine, _ = machine("h4", hospital)
    theirs, _ = machine("h9", other_hospital)
    person = make_person("langfang")
    record = mine.post("/api/v1/settlements/", body(person), format="json").json()
    assert theirs.get(f"/api/v1/settlements/{record['id']}/").status_code == 404
    assert (
        theirs.post(f"/api/v1/settlements/{record['id']}/reverse/", {"reason": "x"}, format="json").status_code == 404
    )
    assert theirs.get("/api/v1/settlements/").json()["count"] == 0
    forged = theirs.post("/api/v1/settlements/", body(person, fixmedins_code="H13100200004"), format="json")
    assert forged.status_code == 403
    # the same setl_id at another institution is another settlement
    assert theirs.post("/api/v1/settlements/", body(person), format="json").status_code == 201
    # nothing else of the bureau is open to it
    for url in ("/api/v1/persons/", "/api/v1/claims/", "/api/v1/dues/", "/api/v1/employers/"):
        assert theirs.get(url).status_code == 403, url


def test_institution_tokens_are_issued_expire_and_are_revoked(hospital, settings):
    user = get_user_model().objects.create_user(username="h4login", password="pw-123456")
    InstitutionUser.objects.create(user=user, institution=hospital)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + __import__("base64").b64encode(b"h4login:pw-123456").decode())
    issued = client.post("/api/v1/auth/login/")
    assert issued.status_code == 200 and issued.json()["expiry"]
    token = issued.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/settlements/").status_code == 200
    AuthToken.objects.filter(user=user).delete()  # revoked by the administrator (接口令牌 → 删除)
    assert client.get("/api/v1/settlements/").status_code == 401


def test_staff_read_all_submit_for_a_named_institution_and_employers_are_refused(
    hospital, admin_client, auditor, employer_user_a
):
    person = make_person("langfang")
    missing = admin_client.post("/api/v1/settlements/", body(person), content_type="application/json")
    assert missing.status_code == 400 and "fixmedins_code" in missing.json()
    made = admin_client.post(
        "/api/v1/settlements/", body(person, fixmedins_code="H13100200004"), content_type="application/json"
    )
    assert made.status_code == 201, made.content
    reader = APIClient()
    reader.force_authenticate(auditor)
    assert reader.get("/api/v1/settlements/").json()["count"] == 1
    assert "*" in reader.get(f"/api/v1/settlements/{made.json()['id']}/").json()["psn_no"]
    assert reader.post(f"/api/v1/settlements/{made.json()['id']}/reverse/", {"reason": "x"}).status_code == 403
    emp = APIClient()
    emp.force_authenticate(employer_user_a)
    assert emp.get("/api/v1/settlements/").status_code == 403


def test_field_errors_name_the_national_field_and_write_nothing(hospital):
    client, _ = machine("h4", hospital)
    person = make_person("langfang")
    cases = [
        ({"psn_no": "430102000000000000"}, "psn_no"),
        ({"med_type": "99"}, "med_type"),
        ({"begndate": "2024-02-30"}, "begndate"),
        ({"enddate": "2024-02-01"}, "enddate"),
        ({"medfee_sumamt": "-1"}, "medfee_sumamt"),
        ({"setl_id": "=1+1"}, "setl_id"),
        ({"extra": {"no_such_fact": "1"}}, "extra"),
        ({"extra": {"poverty": "maybe"}}, "extra.poverty"),
        ({"begndate": "2999-01-01", "enddate": "2999-01-02"}, "begndate"),
    ]
    for change, field in cases:
        answer = client.post("/api/v1/settlements/", body(person, **change), format="json")
        assert answer.status_code == 400 and field in answer.json(), (change, answer.content)
    assert not ApiSettlement.objects.exists() and not Claim.objects.exists() and not ApiWrite.objects.exists()
