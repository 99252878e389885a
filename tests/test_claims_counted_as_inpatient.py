"""Care outside a stay counted as inpatient (门急诊费用按住院结算), wired end to end in claims.

Table ``inpatient.counted_as_inpatient``: langfang 第四十七条(一)1 (院前急诊, 院前检查, 急诊留观),
第四十七条(一)3 (日间手术); xianning 细则 第二十三条 (院前急诊, values pending); ziyang 第十八条(三)
(急诊抢救死亡的门诊费用). Expected amounts are the worked examples of
tests/scenarios/{langfang,ziyang}/inpatient.yaml (calcE2): a claim counted as inpatient is paid as
a stay; one that does not meet the table's conditions is refused with the reason; a jurisdiction
whose document is silent stops on the missing value. Entered in the admin, read from a settlement
file and adjudicated one at a time or in bulk, the results are the same.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from batch.runs import run_in_process
from benefits.claims.imports import COLUMNS, RowError, parse_row, settlement_file_import
from benefits.claims.jobs import JOB
from benefits.claims.models import (
    RULE_FACT_FIELDS,
    BenefitAccumulator,
    Claim,
    ClaimStatus,
    SettlementFile,
)
from benefits.claims.services import ClaimError, claim_adjudicate, claim_reverse
from funds.models import JournalEntry
from policy.models import Jurisdiction
from tests.test_claims import make_claim, make_person, stat
from tests.test_claims_admin import claim_form_data
from tests.test_claims_bulk import _csv, _result, _Rollback, settlement_row

ON = date(2024, 7, 1)
COUNTED_FIELDS = (
    "counted_as_inpatient",
    "dates_continuous",
    "died_in_rescue",
    "days_before_admission",
    "same_hospital",
    "observation_days",
)


@pytest.fixture
def stats(db):
    stat("ziyang", "large_amount_deductible", 40000)
    stat("ziyang", "annual_average_wage", 80000)


def _steps(claim: Claim, needle: str) -> list[dict]:
    return [s for s in claim.steps if needle in s["description"]]


def test_the_facts_are_rule_facts_and_file_columns():
    assert set(COUNTED_FIELDS) <= set(RULE_FACT_FIELDS) <= set(COLUMNS)


# --- counted: paid as a stay ------------------------------------------------------------------------


def _visit(person, code: str, kind: str, level: str, amount: int, **facts) -> Claim:
    """An outpatient/emergency visit (med_type 11) entered as counted as inpatient, adjudicated."""
    claim = make_claim(
        person,
        code,
        med_type="11",
        start_date=date(2024, 6, 1),
        hospital_level=level,
        inscp_scp_amt=D(amount),
        counted_as_inpatient=kind,
        **facts,
    )
    return claim_adjudicate(claim, as_of=ON)


def test_langfang_emergency_observation_over_three_days_is_paid_as_inpatient(db):
    person = make_person("langfang")
    claim = _visit(person, "langfang", "emergency_observation", "level2", 2400, observation_days=4)
    # 第四十七条(一)1: 留观超过 3 天 → 住院; 二级 起付 400, 93%: (2400−400)×93% = 1860; person 540
    assert claim.status == ClaimStatus.ADJUDICATED
    assert (claim.act_pay_dedc, claim.hifp_pay, claim.psn_cash_pay) == (D(400), D(1860), D(540))
    assert claim.fund_pay_sumamt == D(1860)
    step = _steps(claim, "急诊留观费用（留观 4 天，超过 3 天）：纳入住院费用")
    assert step and step[0]["citation"] == "langfang 第四十七条(一)1, 第四十七条(一)3"
    acc = BenefitAccumulator.objects.get(person=person, year=2024)
    assert (acc.inpatient_pool_paid, acc.inpatient_deductibles, acc.inpatient_admissions) == (D(1860), D(400), 1)
    assert acc.outpatient_pool_paid == 0  # settled under the inpatient benefit, not outpatient pooling
    assert claim.journal_entry is not None


@pytest.mark.parametrize(
    "code, person_kw, kind, level, amount, facts, expected, step",
    [
        # langfang 第四十七条(一)3 日间手术: 三级 600 − 退休 100 = 500, 91%: (8500−500)×91% = 7280
        (
            "langfang",
            {"category": "retiree", "birth": date(1955, 1, 1)},
            "day_surgery",
            "level3",
            8500,
            {},
            (500, 7280),
            "日间手术",
        ),
        # langfang 第四十七条(一)1: 未住院但抢救期间死亡 → 住院; 三级 600, 88%: (5600−600)×88% = 4400
        (
            "langfang",
            {},
            "pre_admission_emergency",
            "level3",
            5600,
            {"dates_continuous": False, "died_in_rescue": True},
            (600, 4400),
            "急救车或急诊抢救期间死亡",
        ),
        # ziyang 第十八条(三): 急诊抢救死亡的门诊费用; 二级甲等 起付 600, 85%: (8600−600)×85% = 6800
        ("ziyang", {}, "rescue_death_outpatient", "level2a", 8600, {}, (600, 6800), "急诊抢救死亡的门诊医疗费用"),
    ],
)
def test_counted_visits_are_paid_as_stays(stats, code, person_kw, kind, level, amount, facts, expected, step):
    claim = _visit(make_person(code, **person_kw), code, kind, level, amount, **facts)
    assert (claim.status, claim.act_pay_dedc, claim.hifp_pay) == (ClaimStatus.ADJUDICATED, *map(D, expected))
    cited = [s["citation"] for s in _steps(claim, "纳入住院费用") if step in s["description"]]
    assert cited and cited[0].startswith(code)


# --- not counted: refused with the reason -----------------------------------------------------------


def test_langfang_observation_of_three_days_is_refused_with_the_reason(db):
    person = make_person("langfang")
    claim = _visit(person, "langfang", "emergency_observation", "level2", 2400, observation_days=3)
    assert claim.status == ClaimStatus.REFUSED
    assert "留观 3 天，未超过 3 天" in claim.refusal_reason
    assert "不纳入住院费用报销范围" in claim.refusal_reason and "langfang 第四十七条(一)1" in claim.refusal_reason
    assert claim.hifp_pay is None and claim.journal_entry is None
    assert not BenefitAccumulator.objects.filter(person=person).exists()  # no admission, no deductible counted


@pytest.mark.parametrize(
    "facts, why",
    [
        ({"counted_as_inpatient": "pre_admission_emergency", "dates_continuous": False}, "日期与入院日期不连续"),
        ({"counted_as_inpatient": "pre_surgery_tests", "days_before_admission": 4}, "超过 3 天"),
        (
            {"counted_as_inpatient": "pre_surgery_tests", "days_before_admission": 1, "same_hospital": False},
            "不在同一家定点医疗机构",
        ),
    ],
)
def test_langfang_pre_admission_costs_outside_the_conditions_are_refused(db, facts, why):
    person = make_person("langfang")
    claim = make_claim(person, "langfang", hospital_level="level3", inscp_scp_amt=D(1500), **facts)
    claim = claim_adjudicate(claim, as_of=ON)
    assert claim.status == ClaimStatus.REFUSED and why in claim.refusal_reason
    assert "可按门诊规定另行申请" in claim.refusal_reason


def test_pre_surgery_tests_without_the_days_cannot_be_settled(db):
    person = make_person("langfang")
    claim = make_claim(
        person, "langfang", hospital_level="level3", inscp_scp_amt=D(1500), counted_as_inpatient="pre_surgery_tests"
    )
    with pytest.raises(ClaimError, match="days_before_admission"):
        claim_adjudicate(claim, as_of=ON)


# --- where the document is silent, and misuse -------------------------------------------------------


@pytest.mark.parametrize(
    "code, level, med_type, kind, error",
    [
        # hunan, sanmenxia: no such table in the document → the whole key is missing (D-X16)
        ("hunan", "level2", "11", "emergency_observation", r"inpatient\.counted_as_inpatient"),
        ("sanmenxia", "level2", "11", "emergency_observation", r"inpatient\.counted_as_inpatient"),
        # ziyang 第十八条(三) gives only 急诊抢救死亡: another kind is a missing value, named
        ("ziyang", "level2a", "11", "emergency_observation", r"inpatient\.counted_as_inpatient\.emergency_observation"),
        # only a visit (11) or a stay (21) can be counted as inpatient
        ("langfang", "level2", "14", "day_surgery", "11 普通门诊或 21 普通住院"),
    ],
)
def test_claims_that_cannot_be_settled_name_why(stats, code, level, med_type, kind, error):
    claim = make_claim(
        make_person(code),
        code,
        med_type=med_type,
        hospital_level=level,
        inscp_scp_amt=D(2400),
        counted_as_inpatient=kind,
        observation_days=5,
    )
    with pytest.raises(ClaimError, match=error):
        claim_adjudicate(claim, as_of=ON)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DRAFT and claim.error and claim.journal_entry is None


def test_reversal_of_a_counted_claim_takes_the_stay_back_out(db):
    person = make_person("langfang")
    claim = _visit(person, "langfang", "emergency_observation", "level2", 2400, observation_days=4)
    assert claim.status == ClaimStatus.ADJUDICATED
    claim_reverse(claim, "录入错误", on=ON)
    acc = BenefitAccumulator.objects.get(person=person, year=2024)
    assert (acc.inpatient_pool_paid, acc.inpatient_deductibles, acc.inpatient_admissions) == (0, 0, 0)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REVERSED and claim.reversal_entry.reverses_id == claim.journal_entry_id


# --- the settlement file ----------------------------------------------------------------------------


def _base_row(**kw) -> dict[str, str]:
    defaults = {
        "business_key": "X1",
        "id_number": "1",
        "med_type": "11",
        "start_date": "2024-06-01",
        "hospital_level": "level2",
        "medfee_sumamt": "2400",
        "inscp_scp_amt": "2400",
    }
    return settlement_row(**{**defaults, **kw})


def test_parse_row_reads_the_counted_columns_with_their_defaults():
    out = parse_row(_base_row(counted_as_inpatient="emergency_observation", observation_days="4"))
    assert (out["counted_as_inpatient"], out["observation_days"]) == ("emergency_observation", 4)
    assert out["dates_continuous"] is True and out["same_hospital"] is True  # empty: the model's default
    assert out["died_in_rescue"] is False
    out = parse_row(
        _base_row(counted_as_inpatient="pre_admission_emergency", dates_continuous="否", died_in_rescue="是")
    )
    assert (out["dates_continuous"], out["died_in_rescue"]) == (False, True)


@pytest.mark.parametrize(
    "cells, field, message",
    [
        ({"counted_as_inpatient": "observation"}, "counted_as_inpatient", "不在可选值"),
        ({"counted_as_inpatient": "day_surgery", "med_type": "14"}, "counted_as_inpatient", "11 或 21"),
        ({"observation_days": "four"}, "observation_days", "不是整数"),
        ({"days_before_admission": "-1"}, "days_before_admission", "不能为负数"),
        ({"same_hospital": "maybe"}, "same_hospital", "是/否"),
    ],
)
def test_parse_row_names_the_bad_counted_cell(cells, field, message):
    with pytest.raises(RowError) as info:
        parse_row(_base_row(**cells))
    assert info.value.field == field and message in str(info.value)


def test_file_rows_counted_as_inpatient_settle_as_one_at_a_time(db, settings, tmp_path):
    people = [make_person("langfang") for _ in range(3)]
    rows: list[dict[str, str]] = []
    for i, p in enumerate(people):
        base = {"id_number": p.id_number, "start_date": "2024-06-01"}
        rows += [
            # 留观 4 天: paid as a stay; 3 天: refused; 院前急诊 并入住院 (med 21, dates continuous): paid
            _base_row(
                business_key=f"C{i}a", counted_as_inpatient="emergency_observation", observation_days="4", **base
            ),
            _base_row(
                business_key=f"C{i}b", counted_as_inpatient="emergency_observation", observation_days="3", **base
            ),
            _base_row(
                business_key=f"C{i}c",
                med_type="21",
                end_date="2024-06-09",
                hospital_level="level3",
                medfee_sumamt=str(10600 + i),
                inscp_scp_amt=str(10600 + i),
                counted_as_inpatient="pre_surgery_tests",
                days_before_admission="3",
                **base,
            ),
            _base_row(
                business_key=f"C{i}d", counted_as_inpatient="emergency_observation", observation_days="x", **base
            ),
        ]
    settings.MEDIA_ROOT = str(tmp_path)

    def upload(name: str, rows: list[dict[str, str]]) -> SettlementFile:
        return SettlementFile.objects.create(
            jurisdiction=Jurisdiction.objects.get(code="langfang"),
            file=SimpleUploadedFile(name, _csv(rows)),
            original_name=name,
            as_of=ON,
        )

    # all or nothing: the three bad rows are listed and nothing of the file is read
    sfile = upload("lf-bad.csv", rows)
    assert settlement_file_import(sfile, today=sfile.as_of) == {"rows": 12, "imported": 0, "errors": 3}
    sfile.refresh_from_db()
    assert {(e["field"], e["message"][:4]) for e in sfile.errors} == {("observation_days", "不是整数")}
    assert not Claim.objects.exists()
    sfile = upload("lf.csv", [r for r in rows if not r["business_key"].endswith("d")])
    assert settlement_file_import(sfile, today=sfile.as_of) == {"rows": 9, "imported": 9, "errors": 0}

    claims = list(Claim.objects.filter(settlement_file=sfile).order_by("person_id", "row_number"))
    one_by_one = {}
    try:
        with transaction.atomic():
            for claim in claims:
                c = claim_adjudicate(claim, as_of=sfile.as_of)
                one_by_one[c.business_key] = _result(c)
            accs_one = sorted(
                BenefitAccumulator.objects.values_list(
                    "person_id", "inpatient_pool_paid", "inpatient_deductibles", "inpatient_admissions"
                )
            )
            raise _Rollback
    except _Rollback:
        pass

    run = run_in_process(JOB, as_of=sfile.as_of, jurisdiction="langfang", params={"file_id": sfile.pk}, chunk_size=2)
    assert run.status == "done"
    bulk = {c.business_key: _result(c) for c in Claim.objects.filter(settlement_file=sfile)}
    assert bulk == one_by_one
    assert (
        sorted(
            BenefitAccumulator.objects.values_list(
                "person_id", "inpatient_pool_paid", "inpatient_deductibles", "inpatient_admissions"
            )
        )
        == accs_one
    )
    got = {k: (v[0], v[3]) for k, v in bulk.items()}  # status, hifp_pay
    assert got["C0a"] == (ClaimStatus.ADJUDICATED, D(1860))  # (2400−400)×93%
    assert got["C0b"] == (ClaimStatus.REFUSED, None)
    # 院前检查 3 天内 并入住院, the second stay of the year (langfang 第四十七条(一)1: −100 per further stay):
    # 三级 600 − 100 = 500, 88%: (10600−500)×88% = 8888
    assert got["C0c"] == (ClaimStatus.ADJUDICATED, D(8888))
    assert JournalEntry.objects.filter(business_key__startswith="claim:C").count() == 6


# --- the admin --------------------------------------------------------------------------------------


def test_case_worker_enters_a_counted_claim_in_the_admin(client, case_worker, db):
    person = make_person("langfang")
    client.force_login(case_worker)
    page = client.get(reverse("admin:claims_claim_add")).content.decode()
    assert "门急诊费用按住院结算" in page and "id_observation_days" in page and "id_counted_as_inpatient" in page
    data = claim_form_data(
        person,
        business_key="M-counted-1",
        med_type="11",
        start_date="2024-06-01",
        hospital_level="level2",
        medfee_sumamt="2400",
        inscp_scp_amt="2400",
        policy_compliant="on",
        dates_continuous="on",
        same_hospital="on",
        counted_as_inpatient="emergency_observation",
        observation_days="4",
    )
    response = client.post(reverse("admin:claims_claim_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    claim = Claim.objects.get(business_key="M-counted-1")
    assert (claim.counted_as_inpatient, claim.observation_days) == ("emergency_observation", 4)
    client.post(reverse("admin:claims_claim_adjudicate", args=[claim.pk]))
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.ADJUDICATED and claim.hifp_pay == D(1860)
    html = client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert "急诊留观费用（留观 4 天，超过 3 天）：纳入住院费用，按住院待遇结算" in html
    assert "廊坊 第四十七条(一)1" in html  # the citation in words (jurisdiction by name)
