"""两定机构 rules and 住院审核 checks at their edges (the cases a flipped comparison or a dropped branch would pass).

The register read on a day (half-open periods ``[start, end)``; 中止 ``[status_since, suspended_until)``) and the
langfang audit checks at their limits: 第六十条 (48 小时入院登记, 三个工作日外伤登记), 第六十二条, 第六十三条,
第六十四条 (出院带药急性病 7 日量 / 慢性病 15 日量).
"""

from __future__ import annotations

from datetime import date

import pytest

from benefits.institutions.audit import (
    AuditFacts,
    Finding,
    audit_claim,
    check_admission_registration,
    check_bed_hanging,
    check_discharge_drugs,
    check_identity,
    check_injury_registration,
    check_unrecorded_costs,
    verdict,
    working_days_after,
)
from benefits.institutions.rules import (
    AgreementFacts,
    RatingFacts,
    RegisterFacts,
    agreement_in_force,
    institution_on,
    location_for,
    rating_on,
)
from policy.resolver import Policy

FRI = date(2024, 3, 1)  # admitted on a Friday


def register(*agreements: AgreementFacts, ratings: tuple[RatingFacts, ...] = ()) -> RegisterFacts:
    return RegisterFacts("H1", "医院", "hospital", ratings=ratings, agreements=agreements)


# --- the register on a day -----------------------------------------------------------------------------------


def test_agreement_not_in_force_before_its_start_even_when_open_ended():
    open_ended = AgreementFacts(date(2024, 1, 1), None)
    assert not agreement_in_force(open_ended, date(2023, 12, 31))
    assert agreement_in_force(open_ended, date(2024, 1, 1))


def test_ended_or_suspended_without_a_date_stays_in_force_and_suspension_is_half_open():
    assert agreement_in_force(AgreementFacts(date(2024, 1, 1), None, "ended", None), date(2024, 6, 1))
    assert agreement_in_force(AgreementFacts(date(2024, 1, 1), None, "suspended", None), date(2024, 6, 1))
    suspended = AgreementFacts(date(2024, 1, 1), None, "suspended", date(2024, 3, 1), date(2024, 4, 1))
    days = (date(2024, 2, 29), date(2024, 3, 1), date(2024, 3, 31), date(2024, 4, 1))
    assert [agreement_in_force(suspended, d) for d in days] == [True, False, False, True]
    # 中止 with no end date: suspended until the agreement's own end
    indefinite = AgreementFacts(date(2024, 1, 1), None, "suspended", date(2024, 3, 1))
    assert agreement_in_force(indefinite, date(2024, 2, 29)) and not agreement_in_force(indefinite, date(2025, 3, 1))
    # a 解除 dated after the agreement's period does not revive it outside the period
    ended_late = AgreementFacts(date(2024, 1, 1), date(2024, 6, 1), "ended", date(2024, 9, 1))
    assert agreement_in_force(ended_late, date(2024, 5, 31)) and not agreement_in_force(ended_late, date(2024, 7, 1))


def test_overlapping_ratings_take_the_latest_start_and_none_outside_every_row():
    rows = (
        RatingFacts(date(2020, 1, 1), None, "level1"),
        RatingFacts(date(2024, 1, 1), None, "level2"),
        RatingFacts(date(2022, 1, 1), None, "level3"),
    )
    assert rating_on(rows, date(2024, 2, 29)).hospital_level == "level2"
    assert rating_on(rows, date(2023, 1, 1)).hospital_level == "level3"
    assert rating_on(rows, date(2019, 12, 31)) is None
    on = institution_on(register(ratings=rows), date(2019, 12, 31))
    assert on.rating is None and not on.designated


def test_two_agreements_in_force_the_latest_start_is_read():
    on = institution_on(
        register(
            AgreementFacts(date(2023, 1, 1), None, number="A"), AgreementFacts(date(2024, 1, 1), None, number="B")
        ),
        date(2024, 6, 1),
    )
    assert on.designated and on.agreement.number == "B" and on.why_not == ""


def test_why_no_agreement_names_the_right_agreement_and_date():
    assert institution_on(register(), FRI).why_not == "未与医保经办机构签订服务协议"
    suspended = institution_on(
        register(
            AgreementFacts(date(2023, 1, 1), None, "ended", date(2023, 6, 1), number="OLD"),
            AgreementFacts(date(2024, 1, 1), None, "suspended", date(2024, 2, 1), number="NEW"),
        ),
        FRI,
    )
    assert not suspended.designated and suspended.why_not == "服务协议 NEW自 2024-02-01 起中止"
    expired = institution_on(
        register(
            AgreementFacts(date(2022, 1, 1), date(2023, 1, 1), number="A"),
            AgreementFacts(date(2023, 1, 1), date(2024, 1, 1), number="B"),
            AgreementFacts(date(2025, 1, 1), None, number="C"),
        ),
        FRI,
    )
    assert expired.why_not == "服务协议 B已于 2024-01-01 期满终止"
    # ends exactly on the service day: expired (half-open)
    assert institution_on(register(AgreementFacts(date(2023, 1, 1), FRI, number="E")), FRI).why_not == (
        "服务协议 E已于 2024-03-01 期满终止"
    )
    future = institution_on(
        register(
            AgreementFacts(date(2025, 1, 1), None, number="L"), AgreementFacts(date(2024, 6, 1), None, number="F")
        ),
        FRI,
    )
    assert future.why_not == "服务协议 F自 2024-06-01 起生效，就医时尚未生效"
    # no agreement number entered: no stray space in the reason
    assert institution_on(register(AgreementFacts(date(2024, 6, 1), None)), FRI).why_not.startswith("服务协议自 ")
    assert institution_on(register(AgreementFacts(date(2023, 1, 1), FRI)), FRI).why_not.startswith("服务协议已于 ")
    assert (
        institution_on(register(AgreementFacts(date(2024, 1, 1), None, "ended", date(2024, 2, 1))), FRI).why_not
        == "服务协议自 2024-02-01 起解除/终止"
    )


def test_location_from_where_the_institution_lies():
    assert location_for("pooling_area", "transfer") == "local"
    assert location_for("province", "local") == "in_province"
    assert location_for("province", "transfer") == "transfer"
    assert location_for("outside_province", "local") == "local"  # refused by the caller
    assert location_for("outside_province", "emergency") == "emergency"


# --- 住院审核 at the limits (langfang 第六十条, 第六十二条–第六十四条) ------------------------------------------------


def test_working_days_count_nothing_backwards_nor_on_the_weekend():
    assert working_days_after(FRI, FRI) == 0
    assert working_days_after(FRI, date(2024, 2, 28)) == 0
    assert working_days_after(FRI, date(2024, 3, 3)) == 0  # Sat, Sun
    assert working_days_after(FRI, date(2024, 3, 4)) == 1  # Mon
    assert working_days_after(date(2024, 2, 28), FRI) == 2  # leap day Thu 29 Feb, Fri 1 Mar


@pytest.fixture
def langfang() -> Policy:
    return Policy("langfang", FRI)


@pytest.mark.django_db
def test_identity_check_langfang_60(langfang):
    assert check_identity(langfang, AuditFacts(), FRI) is None
    ok = check_identity(langfang, AuditFacts(identity_verified=True), FRI)
    assert (ok.ok, ok.action, ok.citation) == (True, "", "langfang 第六十条")
    bad = check_identity(langfang, AuditFacts(identity_verified=False), FRI)
    assert (bad.ok, bad.action) == (False, "review") and "冒名住院" in bad.reason


@pytest.mark.django_db
def test_admission_registration_48_hours_langfang_60(langfang):
    assert check_admission_registration(langfang, AuditFacts(), FRI) is None
    assert check_admission_registration(langfang, AuditFacts(admission_registered_hours=0), FRI).ok
    at = check_admission_registration(langfang, AuditFacts(admission_registered_hours=48), FRI)
    assert at.ok and at.action == "" and "时限 48 小时以内" in at.reason
    late = check_admission_registration(langfang, AuditFacts(admission_registered_hours=49), FRI)
    assert (late.ok, late.action) == (False, "review") and "已超时" in late.reason


@pytest.mark.django_db
def test_injury_registration_three_working_days_langfang_60(langfang):
    assert check_injury_registration(langfang, AuditFacts(injury=False, injury_registered_on=FRI), FRI) is None
    same_day = check_injury_registration(langfang, AuditFacts(injury=True, injury_registered_on=FRI), FRI)
    assert same_day.ok and "第 0 个工作日" in same_day.reason
    third = check_injury_registration(langfang, AuditFacts(injury=True, injury_registered_on=date(2024, 3, 6)), FRI)
    assert third.ok and "第 3 个工作日（时限 3 个工作日以内）" in third.reason
    fourth = check_injury_registration(langfang, AuditFacts(injury=True, injury_registered_on=date(2024, 3, 7)), FRI)
    assert (fourth.ok, fourth.action) == (
        False,
        "review",
    ) and "第 4 个工作日（时限 3 个工作日，已超时）" in fourth.reason
    before = check_injury_registration(langfang, AuditFacts(injury=True, injury_registered_on=date(2024, 2, 29)), FRI)
    assert not before.ok  # registered before the admission: not this stay's registration
    missing = check_injury_registration(langfang, AuditFacts(injury=True), FRI)
    assert (missing.ok, missing.action) == (False, "review") and "未办理外伤登记" in missing.reason


@pytest.mark.django_db
def test_unrecorded_costs_62_and_bed_hanging_63(langfang):
    assert check_unrecorded_costs(langfang, AuditFacts(), FRI) is None
    recorded = check_unrecorded_costs(langfang, AuditFacts(costs_unrecorded=False), FRI)
    assert recorded.ok and recorded.reason == "费用均有病历记录"
    bad = check_unrecorded_costs(langfang, AuditFacts(costs_unrecorded=True), FRI)
    assert (bad.ok, bad.action, bad.citation) == (False, "refuse", "langfang 第六十二条")
    assert "须剔除后重新申报" in bad.reason
    assert check_bed_hanging(langfang, AuditFacts(), FRI) is None
    stayed = check_bed_hanging(langfang, AuditFacts(bed_hanging=False), FRI)
    assert stayed.ok and stayed.reason == "无挂床住院情形"
    hanging = check_bed_hanging(langfang, AuditFacts(bed_hanging=True), FRI)
    assert (hanging.ok, hanging.action, hanging.citation) == (False, "refuse", "langfang 第六十三条")
    assert "视为挂床住院" in hanging.reason


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("days", "chronic", "ok", "words"),
    [
        (7, False, True, "急性病不超过 7 日量）"),
        (8, False, False, "急性病不超过 7 日量，超量）"),
        (8, True, True, "慢性病不超过 15 日量）"),
        (15, True, True, "慢性病不超过 15 日量）"),
        (16, True, False, "慢性病不超过 15 日量，超量）"),
    ],
)
def test_discharge_drugs_7_or_15_days_langfang_64(langfang, days, chronic, ok, words):
    finding = check_discharge_drugs(langfang, AuditFacts(discharge_drug_days=days, chronic_condition=chronic), FRI)
    assert finding.ok is ok and finding.action == ("" if ok else "refuse") and finding.reason.endswith(words)


@pytest.mark.django_db
def test_audit_claim_runs_every_check_in_order(langfang):
    findings = audit_claim(
        langfang,
        AuditFacts(
            identity_verified=False,
            admission_registered_hours=49,
            injury=True,
            costs_unrecorded=True,
            bed_hanging=True,
            discharge_drug_days=8,
        ),
        FRI,
    )
    assert [(f.check, f.ok) for f in findings] == [
        ("identity_check", False),
        ("admission_registration_hours", False),
        ("injury_registration_working_days", False),
        ("unrecorded_costs", False),
        ("bed_hanging", False),
        ("discharge_drug_days", False),
    ]


def test_verdict_refuse_wins_review_until_cleared_and_reasons_cite_each_article():
    ok = Finding("a", True, "好", "第一条", "")
    review = Finding("b", False, "待查", "第二条", "review")
    refuse = Finding("c", False, "拒付", "第三条", "refuse")
    refuse2 = Finding("d", False, "超量", "第四条", "refuse")
    assert verdict([]) == ("", "")
    assert verdict([ok]) == ("", "")
    assert verdict([ok, review]) == ("review", "待查（第二条）")
    assert verdict([ok, review], review_cleared=True) == ("", "")
    assert verdict([review, refuse, refuse2]) == ("refuse", "拒付（第三条）；超量（第四条）")
    assert verdict([review, refuse], review_cleared=True) == ("refuse", "拒付（第三条）")
    assert verdict([Finding("e", True, "好", "第五条", "refuse")]) == ("", "")
