"""两定机构 (issue #17 items 1, 5, 6): the register, claims reading it, 诊察费, the inpatient audit checks.

Amounts worked by hand from the seeds (langfang 第四十七条(一)1: 一级 200 / 96%, 二级 400 / 93%, 三级 600 / 88%,
TCM hospitals one level lower; 第四十九条(一): outpatient deductible 100, 60%).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal as D

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from benefits.claims.imports import COLUMNS, settlement_file_import
from benefits.claims.jobs import settle_claims
from benefits.claims.models import BenefitAccumulator, Claim, ClaimItem, ClaimStatus, SettlementFile
from benefits.claims.services import ClaimError, claim_adjudicate, claim_review_clear, claim_review_refuse
from benefits.institutions.audit import AuditFacts, audit_claim, working_days_after
from benefits.institutions.models import Agreement, Institution, InstitutionRating
from benefits.institutions.resources import InstitutionResource
from benefits.institutions.rules import AgreementFacts, RatingFacts, RegisterFacts, agreement_in_force, institution_on
from benefits.institutions.services import agreement_check
from policy.models import Jurisdiction
from policy.resolver import Policy
from tests.policy_support import staff_enter
from tests.test_claims import make_claim, make_person, stat

ON = date(2024, 7, 15)


def institution(code: str, jurisdiction: str = "langfang", *, kind: str = "hospital", **rating) -> Institution:
    inst = Institution.objects.create(
        fixmedins_code=code, name=f"医院{code}", kind=kind, jurisdiction=Jurisdiction.objects.get(code=jurisdiction)
    )
    if rating:
        InstitutionRating.objects.create(institution=inst, **{"valid_from": date(2024, 1, 1), **rating})
    return inst


def agreement(inst: Institution, start=date(2024, 1, 1), end=None, **kw) -> Agreement:
    return Agreement.objects.create(institution=inst, start=start, end=end, number=kw.pop("number", "XY1"), **kw)


def settle(claim: Claim) -> Claim:
    return claim_adjudicate(claim, as_of=ON)


# --- the rule over register facts and the date ---------------------------------------------------------------


def test_agreement_in_force_by_period_status_and_suspension():
    signed = AgreementFacts(date(2024, 1, 1), date(2025, 1, 1))
    assert agreement_in_force(signed, date(2024, 1, 1)) and agreement_in_force(signed, date(2024, 12, 31))
    assert not agreement_in_force(signed, date(2025, 1, 1))  # half-open
    ended = AgreementFacts(date(2024, 1, 1), None, "ended", date(2024, 5, 1))
    assert agreement_in_force(ended, date(2024, 4, 30)) and not agreement_in_force(ended, date(2024, 5, 1))
    suspended = AgreementFacts(date(2024, 1, 1), None, "suspended", date(2024, 3, 1), date(2024, 4, 1))
    assert [agreement_in_force(suspended, date(2024, m, 15)) for m in (2, 3, 4)] == [True, False, True]


def test_level_history_read_on_the_service_date():
    register = RegisterFacts(
        "H1",
        "医院",
        "hospital",
        ratings=(
            RatingFacts(date(2020, 1, 1), date(2024, 6, 1), "level2"),
            RatingFacts(date(2024, 6, 1), None, "level3", tcm=True, tier="city"),
        ),
        agreements=(AgreementFacts(date(2020, 1, 1), None),),
    )
    assert institution_on(register, date(2024, 5, 31)).rating.hospital_level == "level2"
    june = institution_on(register, date(2024, 6, 1))
    assert (june.rating.hospital_level, june.rating.tcm, june.rating.tier, june.designated) == (
        "level3",
        True,
        "city",
        True,
    )


# --- claims read the register --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_claim_takes_level_and_tcm_from_the_register_on_the_service_date():
    """langfang 第四十七条(一)1: 二级 400 / 93% until the re-rating, then a 三级 TCM hospital (deductible one level
    lower: 400) at 88%. The level typed on the claim (一级) does not count: the register does."""
    inst = institution("H13100200001", hospital_level="level2", valid_until=date(2024, 6, 1))
    InstitutionRating.objects.create(institution=inst, valid_from=date(2024, 6, 1), hospital_level="level3", tcm=True)
    agreement(inst)
    march = settle(
        make_claim(
            make_person("langfang"), "langfang", institution=inst, hospital_level="level1", inscp_scp_amt=D(10000)
        )
    )
    assert (march.status, march.act_pay_dedc, march.hifp_pay) == ("adjudicated", D(400), D("8928.00"))  # 9600 × 93%
    assert any("两定机构登记" in s["description"] and "二级" in s["description"] for s in march.steps)
    july = settle(
        make_claim(
            make_person("langfang"),
            "langfang",
            institution=inst,
            hospital_level="",
            start_date=date(2024, 7, 1),
            end_date=date(2024, 7, 10),
            inscp_scp_amt=D(10000),
        )
    )
    assert (july.act_pay_dedc, july.hifp_pay) == (D(400), D("8448.00"))  # TCM 三级 → 二级 deductible; 9600 × 88%


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"end": date(2024, 3, 1)}, "已于 2024-03-01 期满终止"),
        ({"status": "ended", "status_since": date(2024, 2, 1)}, "解除/终止"),
        ({"status": "suspended", "status_since": date(2024, 2, 1)}, "中止"),
        ({"start": date(2024, 4, 1)}, "尚未生效"),
    ],
)
def test_claim_at_an_institution_without_an_agreement_in_force_is_refused_with_the_article(kw, why):
    """langfang 第五十六条 第五十八条: 定点协议管理 — no agreement in force on the admission date, nothing paid."""
    inst = institution("H13100200002", hospital_level="level1")
    agreement(inst, **kw)
    claim = settle(make_claim(make_person("langfang"), "langfang", institution=inst, inscp_scp_amt=D(5000)))
    assert claim.status == ClaimStatus.REFUSED and claim.fund_pay_sumamt is None
    assert why in claim.refusal_reason and "langfang 第五十六条 第五十八条" in claim.refusal_reason


@pytest.mark.django_db
def test_emergency_at_a_non_agreement_hospital_is_settled_as_non_designated_hunan():
    """hunan 第四十条: care at a non-designated hospital is not paid, except emergency rescue."""
    stat("hunan", "critical_illness_deductible", 15000)
    inst = institution("H43010200001", "hunan", hospital_level="level2")
    claim = settle(
        make_claim(make_person("hunan"), "hunan", institution=inst, inscp_scp_amt=D(10000), emergency_rescue=True)
    )
    assert claim.status == ClaimStatus.ADJUDICATED and claim.hifp_pay > 0
    assert any("急诊抢救" in s["description"] and s["stage"] == "定点医药机构" for s in claim.steps)


@pytest.mark.django_db
def test_outside_the_province_needs_an_out_of_area_location_and_sets_the_tier_sanmenxia():
    """sanmenxia 第五十三条 (D-S8): the register's tier decides the −5 at 市级以上 hospitals outside the area."""
    inst = institution("H11000000001", "sanmenxia", hospital_level="level3", tier="county", area="outside_province")
    agreement(inst, start=date(2023, 1, 1), end=date(2025, 1, 1))
    person = make_person("sanmenxia")
    with pytest.raises(ClaimError, match="省外"):
        settle(make_claim(person, "sanmenxia", institution=inst, inscp_scp_amt=D(20000)))
    claim = settle(make_claim(person, "sanmenxia", institution=inst, inscp_scp_amt=D(20000), location="referral"))
    assert claim.status == ClaimStatus.ADJUDICATED
    assert any("县级医疗机构不在异地比例调整范围内" in s["description"] for s in claim.steps)


@pytest.mark.django_db
def test_sanmenxia_agreements_run_one_year_when_no_end_is_given():
    """sanmenxia 第五十二条: 协议期限一般为1年."""
    assert agreement_check(
        "sanmenxia",
        start=date(2024, 3, 1),
        end=None,
        status="signed",
        status_since=None,
        suspended_until=None,
        deposit_pct=None,
    ) == date(2025, 3, 1)
    assert (
        agreement_check(
            "langfang",
            start=date(2024, 3, 1),
            end=None,
            status="signed",
            status_since=None,
            suspended_until=None,
            deposit_pct=None,
        )
        is None
    )


@pytest.mark.django_db
def test_service_quality_deposit_only_where_a_seed_sets_one():
    """hunan 第六十六条: 预留不超过10%; langfang sets no deposit."""
    from django.core.exceptions import ValidationError

    common = dict(start=date(2024, 1, 1), end=None, status="signed", status_since=None, suspended_until=None)
    agreement_check("hunan", deposit_pct=D(10), **common)
    with pytest.raises(ValidationError) as over:
        agreement_check("hunan", deposit_pct=D("10.5"), **common)
    assert "hunan 第六十六条" in over.value.message_dict["deposit_pct"][0]
    with pytest.raises(ValidationError) as none:
        agreement_check("langfang", deposit_pct=D(5), **common)
    assert "未设服务质量保证金" in none.value.message_dict["deposit_pct"][0]


# --- the settlement file -------------------------------------------------------------------------------------


def _file(rows, settings, tmp_path) -> SettlementFile:
    settings.MEDIA_ROOT = str(tmp_path)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for r in rows:
        writer.writerow({**dict.fromkeys(COLUMNS, ""), **r})
    return SettlementFile.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="langfang"),
        file=SimpleUploadedFile("lf.csv", out.getvalue().encode("utf-8-sig")),
        original_name="lf.csv",
        as_of=date(2024, 7, 1),
    )


def _row(person, key: str, **kw) -> dict[str, str]:
    return {
        "business_key": key,
        "id_number": person.id_number,
        "med_type": "21",
        "start_date": "2024-03-01",
        "end_date": "2024-03-10",
        "medfee_sumamt": "10000",
        "inscp_scp_amt": "10000",
        **kw,
    }


@pytest.mark.django_db
def test_unknown_institution_code_is_a_row_error_in_the_settlement_file(settings, tmp_path):
    person = make_person("langfang")
    inst = institution("H13100200003", hospital_level="level2")
    agreement(inst)
    sfile = _file(
        [_row(person, "K1", fixmedins_code="H13100200003"), _row(person, "K2", fixmedins_code="H99999999999")],
        settings,
        tmp_path,
    )
    assert settlement_file_import(sfile, today=sfile.as_of) == {"rows": 2, "imported": 0, "errors": 1}
    sfile.refresh_from_db()
    assert sfile.errors == [
        {"row": 3, "field": "fixmedins_code", "message": "查无此定点医药机构编码 H99999999999（两定机构登记）"}
    ]
    assert not Claim.objects.exists()  # all or nothing


@pytest.mark.django_db
def test_settlement_file_claims_name_their_institution_and_settle_on_the_register(settings, tmp_path):
    person, other = make_person("langfang"), make_person("langfang")
    good = institution("H13100200004", hospital_level="level2")
    agreement(good)
    ended = institution("H13100200005", hospital_level="level3")
    agreement(ended, end=date(2024, 2, 1))
    sfile = _file(
        [
            _row(person, "F1", fixmedins_code="H13100200004"),
            _row(other, "F2", fixmedins_code="H13100200005", hospital_level="level1"),
            _row(other, "F3", hospital_level="level1", start_date="2024-04-01", end_date="2024-04-05"),  # no code
        ],
        settings,
        tmp_path,
    )
    assert settlement_file_import(sfile, today=sfile.as_of)["imported"] == 3
    claims = list(Claim.objects.filter(settlement_file=sfile).order_by("person_id", "row_number"))
    settle_claims(claims, as_of=ON)
    f1, f2, f3 = (Claim.objects.get(business_key=k) for k in ("F1", "F2", "F3"))
    assert (f1.institution_id, f1.status, f1.hifp_pay) == (good.pk, "adjudicated", D("8928.00"))  # 二级 9600 × 93%
    assert f2.status == "refused" and "期满终止" in f2.refusal_reason
    assert (f3.status, f3.act_pay_dedc, f3.hifp_pay) == ("adjudicated", D(200), D("9408.00"))  # the level as a fact


@pytest.mark.django_db
def test_a_row_needs_a_level_or_an_institution_code(settings, tmp_path):
    sfile = _file([_row(make_person("langfang"), "N1")], settings, tmp_path)
    settlement_file_import(sfile, today=sfile.as_of)
    sfile.refresh_from_db()
    assert sfile.errors[0]["field"] == "hospital_level" and "fixmedins_code" in sfile.errors[0]["message"]


# --- 诊察费 -----------------------------------------------------------------------------------------------------


def _outpatient_with_fee(jurisdiction: str) -> Claim:
    claim = make_claim(
        make_person(jurisdiction), jurisdiction, med_type="11", hospital_level="level2", inscp_scp_amt=D(0)
    )
    ClaimItem.objects.create(claim=claim, kind="consultation_fee", name="诊察费", quantity=1, unit_price=D(20))
    ClaimItem.objects.create(claim=claim, kind="category_a", name="检查", quantity=1, unit_price=D(300))
    return claim


@pytest.mark.django_db
def test_langfang_consultation_fee_is_paid_apart_and_outside_the_outpatient_cap():
    """langfang 第四十八条 (报销标准按有关规定执行: staff-entered) and 第四十九条(二) (不记入门诊统筹支付限额)."""
    claim = _outpatient_with_fee("langfang")
    with pytest.raises(ClaimError, match=r"claims\.consultation_fee_pay_pct"):
        settle(claim)
    staff_enter("langfang", {"claims.consultation_fee_pay_pct": 60}, effective_from=date(2024, 1, 1), document="测试")
    claim = settle(claim)
    # 诊察费 20 × 60% = 12 apart; the visit 300: (300 − 100) × 60% = 120 under the outpatient cap.
    assert (claim.hifp_pay, claim.act_pay_dedc) == (D("132.00"), D(100))
    acc = BenefitAccumulator.objects.get(person=claim.person, year=2024)
    assert acc.outpatient_pool_paid == D(120)  # the 12 is not counted against the cap
    assert any(s["stage"] == "门诊诊察费" and "第四十九条(二)" in s["citation"] for s in claim.steps)


@pytest.mark.django_db
def test_ziyang_general_treatment_fee_is_in_the_policy_range_of_the_visit():
    """ziyang 第二十二条: 一般诊疗费 纳入医保支付范围, settled with the visit (二级 60%, deductible 200)."""
    stat("ziyang", "annual_average_wage", 80000)
    claim = settle(_outpatient_with_fee("ziyang"))
    assert claim.inscp_scp_amt == D(320) and claim.hifp_pay == D("72.00")  # (320 − 200) × 60%


@pytest.mark.django_db
def test_consultation_fee_where_the_seed_is_silent_stops_naming_the_key():
    with pytest.raises(ClaimError, match=r"claims\.consultation_fee，"):
        settle(_outpatient_with_fee("hunan"))


# --- 住院审核 ---------------------------------------------------------------------------------------------------


def test_working_days_skip_the_weekend():
    assert working_days_after(date(2024, 3, 1), date(2024, 3, 6)) == 3  # Fri → Mon, Tue, Wed
    assert working_days_after(date(2024, 3, 1), date(2024, 3, 7)) == 4


@pytest.mark.django_db
def test_audit_values_are_policy_data_with_articles():
    policy = Policy("langfang", date(2024, 3, 1))
    findings = audit_claim(
        policy,
        AuditFacts(
            identity_verified=True, admission_registered_hours=48, discharge_drug_days=15, chronic_condition=True
        ),
        date(2024, 3, 1),
    )
    assert [(f.check, f.ok) for f in findings] == [
        ("identity_check", True),
        ("admission_registration_hours", True),
        ("discharge_drug_days", True),
    ]
    assert findings[0].citation == "langfang 第六十条" and findings[2].citation == "langfang 第六十四条"
    assert audit_claim(Policy("hunan", date(2024, 3, 1)), AuditFacts(identity_verified=False), date(2024, 3, 1)) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("facts", "status", "article"),
    [
        ({"identity_verified": False}, "review", "langfang 第六十条"),
        ({"admission_registered_hours": 49}, "review", "langfang 第六十条"),
        ({"injury": True, "injury_registered_on": date(2024, 3, 7)}, "review", "langfang 第六十条"),
        ({"injury": True}, "review", "langfang 第六十条"),
        ({"costs_unrecorded": True}, "refused", "langfang 第六十二条"),
        ({"bed_hanging": True}, "refused", "langfang 第六十三条"),
        ({"discharge_drug_days": 8}, "refused", "langfang 第六十四条"),
        ({"discharge_drug_days": 16, "chronic_condition": True}, "refused", "langfang 第六十四条"),
    ],
)
def test_each_audit_rule_refuses_or_sends_to_review_with_its_article(facts, status, article):
    claim = settle(make_claim(make_person("langfang"), "langfang", inscp_scp_amt=D(10000), **facts))
    assert claim.status == status and article in claim.refusal_reason
    assert claim.fund_pay_sumamt is None and not BenefitAccumulator.objects.filter(person=claim.person).exists()


@pytest.mark.django_db
def test_within_the_limits_the_claim_is_settled_with_the_checks_as_steps():
    claim = settle(
        make_claim(
            make_person("langfang"),
            "langfang",
            inscp_scp_amt=D(10000),
            identity_verified=True,
            admission_registered_hours=30,
            injury=True,
            injury_registered_on=date(2024, 3, 6),  # admitted Fri 1 March: the 3rd working day
            discharge_drug_days=7,
        )
    )
    assert claim.status == ClaimStatus.ADJUDICATED and claim.hifp_pay == D("9408.00")
    assert sum(s["stage"] == "住院审核" for s in claim.steps) == 4


@pytest.mark.django_db
def test_review_queue_clear_settles_and_refuse_refuses(django_user_model):
    worker = django_user_model.objects.create(username="jb")
    cleared = settle(make_claim(make_person("langfang"), "langfang", inscp_scp_amt=D(10000), identity_verified=False))
    assert cleared.status == ClaimStatus.REVIEW
    with pytest.raises(ClaimError, match="复核意见"):
        claim_review_clear(cleared, " ", as_of=ON, user=worker)
    cleared = claim_review_clear(cleared, "已电话核实身份", as_of=ON, user=worker)
    assert cleared.status == ClaimStatus.ADJUDICATED and cleared.hifp_pay == D("9408.00")
    assert any("经办人员已复核" in s["description"] for s in cleared.steps)
    refused = settle(make_claim(make_person("langfang"), "langfang", inscp_scp_amt=D(10000), identity_verified=False))
    refused = claim_review_refuse(refused, "冒名住院", as_of=ON, user=worker)
    assert refused.status == ClaimStatus.REFUSED and refused.refusal_reason.startswith("经复核不予支付")
    with pytest.raises(ClaimError, match="只有待复核"):
        claim_review_clear(refused, "x", as_of=ON, user=worker)


@pytest.mark.django_db
def test_audit_rules_do_not_apply_where_the_seed_sets_none():
    stat("hunan", "critical_illness_deductible", 15000)
    claim = settle(make_claim(make_person("hunan"), "hunan", inscp_scp_amt=D(10000), identity_verified=False))
    assert claim.status == ClaimStatus.ADJUDICATED


@pytest.mark.django_db
def test_audit_flags_in_a_settlement_file_go_to_review(settings, tmp_path):
    person = make_person("langfang")
    sfile = _file(
        [_row(person, "A1", hospital_level="level1", admission_registered_hours="72", bed_hanging="否")],
        settings,
        tmp_path,
    )
    assert settlement_file_import(sfile, today=sfile.as_of)["imported"] == 1
    counts = settle_claims(list(Claim.objects.filter(settlement_file=sfile)), as_of=ON)
    claim = Claim.objects.get(business_key="A1")
    assert counts["review"] == 1 and claim.status == "review" and "72 小时" in claim.refusal_reason


# --- the register file (django-import-export) -------------------------------------------------------------------


HEADERS = [
    "定点医药机构编码",
    "机构名称",
    "机构类别",
    "统筹区",
    "地址",
    "医疗机构等级",
    "中医医院",
    "医疗机构级别",
    "所在地",
    "等级起始日",
    "协议编号",
    "协议起始日",
    "协议截止日",
    "协议状态",
    "中止解除生效日",
    "保证金预留比例",
]


def _dataset(*rows: list[str]) -> tablib.Dataset:
    return tablib.Dataset(*rows, headers=HEADERS)


def _import(dataset: tablib.Dataset):
    return InstitutionResource().import_data(
        dataset, dry_run=False, use_transactions=True, rollback_on_validation_errors=True
    )


@pytest.mark.django_db
def test_register_import_writes_institution_rating_and_agreement():
    good = ["Ｈ43010200009", "湘雅", "医院", "hunan", "", "三级医疗机构", "否", "省级", "统筹区内", "2024-01-01"]
    result = _import(_dataset([*good, "HN-1", "2024-01-01", "", "已签订（履行中）", "", "10"]))
    assert not result.has_errors(), [e.error for e in result.base_errors]
    assert not result.has_validation_errors(), [r.field_specific_errors for r in result.invalid_rows]
    inst = Institution.objects.get(fixmedins_code="H43010200009")  # full-width normalised
    assert inst.ratings.get().hospital_level == "level3" and inst.ratings.get().tier == "provincial"
    assert inst.agreements.get().deposit_pct == D(10)


@pytest.mark.django_db
def test_register_import_is_all_or_nothing_with_row_and_field_errors():
    ok = [
        "H13100200010",
        "好医院",
        "hospital",
        "langfang",
        "",
        "level2",
        "否",
        "",
        "",
        "2024-01-01",
        "",
        "",
        "",
        "",
        "",
        "",
    ]
    bad_kind = [
        "H13100200011",
        "坏医院",
        "诊所",
        "langfang",
        "",
        "level2",
        "",
        "",
        "",
        "2024-01-01",
        "",
        "",
        "",
        "",
        "",
        "",
    ]
    deposit = [
        "H13100200012",
        "医院",
        "hospital",
        "langfang",
        "",
        "level2",
        "",
        "",
        "",
        "2024-01-01",
        "A",
        "2024-01-01",
        "",
        "",
        "",
        "5",
    ]
    pharmacy_level = [
        "P13100200013",
        "药店",
        "pharmacy",
        "langfang",
        "",
        "level2",
        "",
        "",
        "",
        "2024-01-01",
        "",
        "",
        "",
        "",
        "",
        "",
    ]
    result = _import(_dataset(ok, bad_kind, deposit, pharmacy_level))
    errors = {row.number: row.field_specific_errors for row in result.invalid_rows}
    assert set(errors) == {2, 3, 4}
    assert "kind" in errors[2] and "保证金预留比例" in errors[3] and "医疗机构等级" in errors[4]
    assert not Institution.objects.exists()


@pytest.mark.django_db
def test_register_export_neutralises_formula_cells():
    institution("H13100200014", hospital_level="level1").__class__.objects.filter(fixmedins_code="H13100200014").update(
        name='=HYPERLINK("http://x")'
    )
    data = InstitutionResource().export(queryset=Institution.objects.all())
    row = dict(zip(data.headers, data[0], strict=True))
    assert not str(row["机构名称"]).startswith("=") and row["医疗机构等级"] == "一级医疗机构"


# --- screens -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_search_and_claim_autocomplete_offers_institutions_with_an_agreement(admin_client):
    designated = institution("H13100200020", hospital_level="level2")
    agreement(designated)
    institution("H13100200021", hospital_level="level2")  # never designated
    page = admin_client.get(reverse("admin:institutions_institution_changelist"), {"q": "H13100200020"})
    assert page.status_code == 200 and "H13100200020" in page.content.decode()
    found = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "claims", "model_name": "claim", "field_name": "institution", "term": "H1310020002"},
    )
    assert [r["text"] for r in found.json()["results"]] == ["H13100200020 医院H13100200020"]


# --- the demo --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_register_names_real_codes_and_renews_sanmenxia_yearly():
    from operations.demo.institutions import demo_institutions

    assert demo_institutions(date(2026, 3, 1), log=lambda _: None) == 15
    assert demo_institutions(date(2026, 3, 1), log=lambda _: None) == 15  # idempotent
    assert Institution.objects.count() == 15
    smx = Institution.objects.get(fixmedins_code="H41120200001")
    assert [(a.start, a.end) for a in smx.agreements.order_by("start")] == [
        (date(2024, 1, 1), date(2025, 1, 1)),
        (date(2025, 1, 1), date(2026, 1, 1)),
        (date(2026, 1, 1), date(2027, 1, 1)),
    ]  # sanmenxia 第五十二条: one-year agreements
    ended = Institution.objects.get(fixmedins_code="H13100200003")
    claim = settle(
        make_claim(
            make_person("langfang"),
            "langfang",
            institution=ended,
            start_date=date(2024, 7, 2),
            end_date=date(2024, 7, 5),
            inscp_scp_amt=D(3000),
        )
    )
    assert claim.status == ClaimStatus.REFUSED and "解除/终止" in claim.refusal_reason


@pytest.mark.django_db
def test_admin_entry_checks_the_agreement_against_the_policy(admin_client):
    """The institution page with its inlines: a deposit where the seed sets none is a field error, nothing saved;
    sanmenxia's agreement without an end gets its one-year end (第五十二条)."""
    url = reverse("admin:institutions_institution_add")

    def post(jurisdiction: str, deposit: str):
        data = {
            "fixmedins_code": f"H{jurisdiction[:2].upper()}0000000001",
            "name": "新医院",
            "kind": "hospital",
            "jurisdiction": Jurisdiction.objects.get(code=jurisdiction).pk,
            **{
                f"{p}-{k}": v
                for p in ("ratings", "agreements", "appraisals")
                for k, v in (
                    ("TOTAL_FORMS", "1" if p != "appraisals" else "0"),
                    ("INITIAL_FORMS", "0"),
                    ("MIN_NUM_FORMS", "0"),
                    ("MAX_NUM_FORMS", "1000"),
                )
            },
            "ratings-0-valid_from": "2024-01-01",
            "ratings-0-hospital_level": "level2",
            "ratings-0-area": "pooling_area",
            "agreements-0-start": "2024-03-01",
            "agreements-0-status": "signed",
            "agreements-0-deposit_pct": deposit,
        }
        return admin_client.post(url, data)

    refused = post("langfang", "5")
    assert refused.status_code == 200 and "未设服务质量保证金" in refused.content.decode()
    assert not Institution.objects.exists()
    assert post("sanmenxia", "").status_code == 302
    assert Agreement.objects.get().end == date(2025, 3, 1)
