"""城乡居民参保登记 (issue #15 item 1): households, resident spans (险种 390), students in their place of study
(sanmenxia 第二十九条), newborns (第三十八条), and one person never in both schemes at once."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from enrollment import services
from enrollment.calculations import resident_checks as rc
from enrollment.models import EnrolmentSpan, Household, HouseholdMember
from enrollment.residents import services as rs
from enrollment.selectors import scheme_on
from operations.demo.population import credit_code, id_number
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyMissing

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

SMX = "411202"  # 三门峡 湖滨区
TODAY = date(2024, 12, 1)


@pytest.fixture
def smx():
    return Jurisdiction.objects.get(code="sanmenxia")


@pytest.fixture
def household(smx):
    return rs.household_register(
        jurisdiction=smx,
        head_id_number=id_number(SMX, date(1985, 3, 2), 1, True),
        head_name="王大山",
        kind="rural",
        start=date(2025, 1, 1),
        registered_on=date(2024, 9, 10),
        today=TODAY,
    )


def test_household_head_enrolled_as_resident(household):
    assert household.members.get().relation == "head"
    span = EnrolmentSpan.objects.get(person=household.head)
    assert (span.insutype, span.category, span.resident_kind, span.employer_id) == ("390", "resident", "rural", None)
    assert span.psn_type == ""
    assert scheme_on(household.head_id, date(2024, 12, 31)) is None
    assert scheme_on(household.head_id, date(2025, 1, 1)) == "390"


def test_member_added_and_not_twice(household):
    member = rs.member_add(
        household=household,
        id_number=id_number(SMX, date(2019, 6, 1), 2, False),
        name="王小花",
        relation="child",
        kind="preschool",
        start=date(2025, 1, 1),
        joined_on=date(2024, 9, 10),
        today=TODAY,
    )
    assert member.person.spans.get().resident_kind == "preschool"
    with pytest.raises(ValidationError) as exc:
        rs.member_add(
            household=household,
            id_number=member.person.id_number,
            name="王小花",
            relation="child",
            kind="preschool",
            start=date(2025, 6, 1),
            joined_on=date(2024, 9, 10),
            today=TODAY,
        )
    assert "已是王大山户的成员" in exc.value.message_dict["id_number"][0]


def test_member_name_must_match_an_existing_record(household):
    with pytest.raises(ValidationError) as exc:
        rs.member_add(
            household=household,
            id_number=household.head.id_number,
            name="别人",
            relation="spouse",
            kind="rural",
            start=date(2025, 1, 1),
            joined_on=date(2024, 9, 10),
            today=TODAY,
        )
    assert "不一致" in exc.value.message_dict["name"][0]


def test_student_enrols_in_the_place_of_study(household):
    """第二十九条: 全日制大中专学生原则上应在学籍地参加居民医保."""
    kw = dict(
        household=household,
        name="王学生",
        relation="child",
        kind="student",
        start=date(2025, 1, 1),
        joined_on=date(2024, 9, 10),
        today=TODAY,
    )
    with pytest.raises(ValidationError) as exc:
        rs.member_add(id_number=id_number(SMX, date(2004, 1, 1), 3, True), study_jurisdiction="hunan", **kw)
    message = exc.value.message_dict["study_jurisdiction"][0]
    assert "学籍地" in message and "sanmenxia 第二十九条" in message
    assert not Household.objects.filter(members__person__name="王学生").exists()  # nothing half-written
    ok = rs.member_add(id_number=id_number(SMX, date(2004, 1, 1), 4, True), study_jurisdiction="sanmenxia", **kw)
    assert ok.person.spans.get().resident_kind == "student"


def test_student_place_rule_function():
    p = Policy("sanmenxia", date(2024, 9, 1))
    args = dict(jurisdiction="sanmenxia")
    assert rc.student_place_refusal(p, kind="student", study_jurisdiction="sanmenxia", **args) is None
    assert rc.student_place_refusal(p, kind="student", study_jurisdiction=None, **args) is None
    assert rc.student_place_refusal(p, kind="rural", study_jurisdiction="hunan", **args) is None
    assert "第二十九条" in rc.student_place_refusal(p, kind="student", study_jurisdiction="hunan", **args)
    with pytest.raises(PolicyMissing, match=r"resident\.students_enrol_where_studying"):
        rc.student_place_refusal(
            Policy("hunan", date(2024, 9, 1)), kind="student", jurisdiction="hunan", study_jurisdiction="ziyang"
        )


def test_employee_cannot_also_be_resident(smx, household):
    """One person never in both schemes at once (hunan 第十六条; the constraint of enrollment 0002)."""
    employer = services.employer_register(
        credit_code=credit_code("411202", 7),
        name="三门峡甲厂",
        jurisdiction="sanmenxia",
        registered_on=date(2020, 1, 1),
    )
    worker = services.person_register(id_number=id_number(SMX, date(1990, 1, 1), 9, True), name="赵工")
    services.span_open(person=worker, jurisdiction=smx, category="employee", start=date(2024, 1, 1), employer=employer)
    with pytest.raises(ValidationError) as exc:
        rs.member_add(
            household=household,
            id_number=worker.id_number,
            name="赵工",
            relation="other",
            kind="urban_non_working",
            start=date(2025, 1, 1),
            joined_on=date(2024, 9, 10),
            today=TODAY,
        )
    message = exc.value.message_dict["start"][0]
    assert "一人不得同时参加职工医保和居民医保" in message and "职工基本医疗保险（险种 310）" in message
    assert not HouseholdMember.objects.filter(person=worker).exists()
    # after the employee span ends the day before, the resident span is accepted (half-open)
    EnrolmentSpan.objects.filter(person=worker).update(end=date(2025, 1, 1))
    rs.member_add(
        household=household,
        id_number=worker.id_number,
        name="赵工",
        relation="other",
        kind="urban_non_working",
        start=date(2025, 1, 1),
        joined_on=date(2024, 9, 10),
        today=TODAY,
    )
    assert scheme_on(worker.pk, date(2024, 12, 31)) == "310" and scheme_on(worker.pk, date(2025, 1, 1)) == "390"


def test_span_kind_must_match_the_scheme(smx):
    person = services.person_register(id_number=id_number(SMX, date(1990, 1, 1), 11, True), name="钱某")
    with pytest.raises(ValidationError) as exc:
        services.span_open(person=person, jurisdiction=smx, category="resident", start=date(2025, 1, 1))
    assert "resident_kind" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.span_open(
            person=person, jurisdiction=smx, category="flexible", start=date(2025, 1, 1), resident_kind="rural"
        )
    assert "resident_kind" in exc.value.message_dict


# --- 新生儿 第三十八条 -----------------------------------------------------------------------------------


def _newborn(household, born, registered_on, parents, seq=20):
    return rs.newborn_register(
        household=household,
        id_number=id_number(SMX, born, seq, False),
        name="王新生",
        parents_insured=parents,
        registered_on=registered_on,
        today=TODAY,
    )


def test_newborn_with_parent_insured_here_is_covered_in_the_birth_year(household):
    member = _newborn(household, date(2024, 5, 20), date(2024, 11, 30), "here")
    span = member.person.spans.get()
    assert (span.start, span.end, span.resident_kind) == (date(2024, 5, 20), date(2025, 1, 1), "newborn")
    assert member.relation == "child"


@pytest.mark.parametrize(
    ("registered_on", "covered"),
    [(date(2024, 5, 30), True), (date(2024, 5, 31), False)],  # born 1 March 2024 (leap year): day 90 is 30 May
)
def test_newborn_of_parents_insured_elsewhere_registered_within_90_days(household, registered_on, covered):
    if covered:
        span = _newborn(household, date(2024, 3, 1), registered_on, "elsewhere").person.spans.get()
        assert (span.start, span.end) == (date(2024, 3, 1), date(2025, 1, 1))
    else:
        with pytest.raises(ValidationError) as exc:
            _newborn(household, date(2024, 3, 1), registered_on, "elsewhere")
        message = exc.value.message_dict["parents_insured"][0]
        assert "2024-05-30" in message and "逾期" in message and "sanmenxia 第三十八条" in message
        assert not EnrolmentSpan.objects.filter(resident_kind="newborn").exists()


def test_newborn_rule_function_edges():
    p = Policy("sanmenxia", date(2024, 1, 1))
    assert rc.newborn_deadline(p, date(2024, 3, 1)) == date(2024, 5, 30)
    assert rc.newborn_deadline(p, date(2023, 12, 31)) == date(2024, 3, 30)
    late_birth = rc.newborn_cover(
        p, birth_date=date(2024, 12, 31), parents_insured="here", registered_on=date(2025, 1, 2)
    )
    assert (late_birth.covered, late_birth.start, late_birth.end) == (True, date(2024, 12, 31), date(2025, 1, 1))
    same_day = rc.newborn_cover(
        p, birth_date=date(2024, 3, 1), parents_insured="elsewhere", registered_on=date(2024, 3, 1)
    )
    assert same_day.covered and same_day.deadline == date(2024, 5, 30)
    none = rc.newborn_cover(p, birth_date=date(2024, 3, 1), parents_insured="none", registered_on=date(2024, 3, 2))
    assert not none.covered and "未参加基本医疗保险" in none.reason
    with pytest.raises(ValueError):
        rc.newborn_cover(p, birth_date=date(2024, 3, 1), parents_insured="maybe", registered_on=date(2024, 3, 2))
    with pytest.raises(ValueError):
        rc.newborn_cover(p, birth_date=date(2024, 3, 2), parents_insured="here", registered_on=date(2024, 3, 1))
    with pytest.raises(PolicyMissing, match=r"resident\.newborn_birth_year_cover"):
        rc.newborn_cover(
            Policy("ziyang", date(2024, 1, 1)),
            birth_date=date(2024, 3, 1),
            parents_insured="here",
            registered_on=date(2024, 3, 2),
        )


def test_newborn_without_insured_parents_is_refused(household):
    with pytest.raises(ValidationError) as exc:
        _newborn(household, date(2024, 6, 1), date(2024, 6, 5), "none")
    assert "未参加基本医疗保险" in exc.value.message_dict["parents_insured"][0]


def test_scheme_clash_words():
    same = rc.scheme_clash(
        new_insutype="390", existing_insutype="390", existing_start=date(2024, 1, 1), existing_end=None
    )
    assert same == "与已有城乡居民基本医疗保险参保关系重叠：2024-01-01–至今。"
    cross = rc.scheme_clash(
        new_insutype="310", existing_insutype="390", existing_start=date(2024, 1, 1), existing_end=date(2025, 1, 1)
    )
    assert "2024-01-01–2025-01-01 已参加城乡居民基本医疗保险（险种 390）" in cross and "再登记职工基本医疗保险" in cross


def test_rules_switched_off_by_staff_values():
    """Where staff record that students may enrol anywhere and newborns are not covered (hypothetical values)."""
    from tests.policy_support import staff_enter

    staff_enter(
        "hunan",
        {"resident.students_enrol_where_studying": False, "resident.newborn_birth_year_cover": False},
        effective_from=date(2024, 1, 1),
        document="测试假设值",
    )
    p = Policy("hunan", date(2024, 9, 1))
    assert rc.student_place_refusal(p, kind="student", jurisdiction="hunan", study_jurisdiction="ziyang") is None
    off = rc.newborn_cover(p, birth_date=date(2024, 3, 1), parents_insured="here", registered_on=date(2024, 3, 2))
    assert not off.covered and off.start is None and "hunan 测试假设值" in off.reason


@pytest.mark.parametrize(
    ("parents", "registered_on", "covered", "deadline", "words"),
    [
        # 第三十八条: parents insured here → covered whenever registered, no deadline to keep
        ("here", date(2024, 11, 30), True, None, "随在本统筹区参保的父母"),
        # parents insured elsewhere: 90 days counted from the day after birth (1 March 2024 → 30 May, leap year)
        ("elsewhere", date(2024, 5, 29), True, date(2024, 5, 30), "已于 2024-05-30 前办理参保登记"),
        ("elsewhere", date(2024, 5, 30), True, date(2024, 5, 30), "已于 2024-05-30 前办理参保登记"),
        ("elsewhere", date(2024, 5, 31), False, date(2024, 5, 30), "应于出生后 90 天内（2024-05-30 前）"),
        ("none", date(2024, 3, 1), False, None, "父母均未参加基本医疗保险"),
    ],
)
def test_newborn_cover_rule_by_parents_and_registration_day(parents, registered_on, covered, deadline, words):
    """sanmenxia 第三十八条 as the rule function reads it: day 90 is the last day, day 91 is late."""
    got = rc.newborn_cover(
        Policy("sanmenxia", date(2024, 1, 1)),
        birth_date=date(2024, 3, 1),
        parents_insured=parents,
        registered_on=registered_on,
    )
    assert (got.covered, got.deadline) == (covered, deadline)
    assert (got.start, got.end) == ((date(2024, 3, 1), date(2025, 1, 1)) if covered else (None, None))
    assert words in got.reason and "sanmenxia 第三十八条" in got.reason
    with pytest.raises(FrozenInstanceError):  # a decision read from the rule, never edited afterwards
        got.covered = not covered
