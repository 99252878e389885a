"""The enrolment checks on every way in (issue #14 item 2, hunan14): the age rule of hunan 第十六条 (with
第二十八条、第二十九条) and langfang 第六条 now guards every span that enrols someone — the span screen, the
life-event screen (入职), the employers' requests and any service — not only the requests; the other item-2
checks (dual-enrolment flag, retirees not transferred, ziyang 第九条(八)) run on the screens too.

Ages by hand: a man born 1965-06-01 turns 60 on 2025-06-01 (hunan 第二十八条: 60); a woman 50 (worker) or 55
(cadre); a flexible woman 55 (第二十九条, D-H20).
"""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from enrollment import services
from enrollment.admin import LifeEventForm, SpanForm
from enrollment.calculations import enrolment_checks as ec
from enrollment.models import EnrolmentSpan, LifeEvent
from operations.demo.population import id_number
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyMissing
from tests.policy_support import staff_enter

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

ON = date(2025, 6, 1)


def _person(birth: date, *, male: bool = True, role: str = "", n: int = 1, region: str = "430102"):
    return services.person_register(id_number=id_number(region, birth, n, male), name=f"测{n}", female_role=role)


def _hunan() -> Jurisdiction:
    return Jurisdiction.objects.get(code="hunan")


# --- the rule: a woman without a registered role ---------------------------------------------------------


def _woman(birth: date, category: str = "employee") -> str | None:
    return ec.enrolment_age_refusal(
        Policy("hunan", ON), category=category, birth_date=birth, sex="2", female_role="", on=ON
    )


def test_woman_without_role_is_judged_when_both_ages_agree():
    assert ec.female_age_bounds(Policy("hunan", ON)) == (50, 55)
    assert _woman(date(1975, 6, 2)) is None  # 49, the eve of her 50th birthday: under both ages
    with pytest.raises(ec.AgeFactMissing):
        _woman(date(1975, 6, 1))  # 50 on the day: a worker is refused, a cadre is not
    with pytest.raises(ec.AgeFactMissing):
        _woman(date(1970, 6, 2))  # 54: still between
    refusal = _woman(date(1970, 6, 1))  # 55 on the day: refused whichever role
    assert "55" in refusal and "hunan 第十六条" in refusal
    # a flexible woman has one age (第二十九条: 55), the role does not matter
    assert _woman(date(1970, 6, 2), "flexible") is None
    assert "55" in _woman(date(1970, 6, 1), "flexible")


# --- the service under every path ------------------------------------------------------------------------


def test_span_open_refuses_at_the_retirement_age_and_not_the_day_before(employer_a):
    old = _person(date(1965, 6, 1), n=1)
    with pytest.raises(ValidationError) as exc:
        services.span_open(person=old, jurisdiction="hunan", category="employee", start=ON, employer=employer_a)
    assert "hunan 第十六条" in exc.value.message_dict["start"][0] and "60" in exc.value.message_dict["start"][0]
    assert not EnrolmentSpan.objects.filter(person=old).exists()
    younger = _person(date(1965, 6, 2), n=2)  # 59 on ON
    services.span_open(person=younger, jurisdiction="hunan", category="employee", start=ON, employer=employer_a)
    assert EnrolmentSpan.objects.filter(person=younger).count() == 1


def test_retiree_spans_are_not_enrolments(employer_a):
    old = _person(date(1950, 1, 1), n=3)
    services.span_open(person=old, jurisdiction="hunan", category="retiree", start=ON)
    assert EnrolmentSpan.objects.get(person=old).category == "retiree"


def test_hire_event_is_refused_on_its_date_field(employer_a):
    old = _person(date(1965, 6, 1), n=4)
    with pytest.raises(ValidationError) as exc:
        services.life_event_record(person=old, kind="hire", occurred_on=ON, jurisdiction="hunan", employer=employer_a)
    assert "hunan 第十六条" in exc.value.message_dict["occurred_on"][0]
    assert not LifeEvent.objects.filter(person=old).exists()  # nothing half-written


def test_hire_of_a_woman_asks_for_her_role_only_when_it_decides(employer_a):
    between = _person(date(1973, 1, 1), male=False, n=5)  # 52 on ON
    with pytest.raises(ValidationError) as exc:
        services.life_event_record(
            person=between, kind="hire", occurred_on=ON, jurisdiction="hunan", employer=employer_a
        )
    assert "女干部/女工人" in exc.value.message_dict["person"][0]
    between.female_role = "cadre"
    between.save()
    services.life_event_record(person=between, kind="hire", occurred_on=ON, jurisdiction="hunan", employer=employer_a)
    young = _person(date(1990, 1, 1), male=False, n=6)
    services.life_event_record(person=young, kind="hire", occurred_on=ON, jurisdiction="hunan", employer=employer_a)
    assert EnrolmentSpan.objects.filter(person__in=[between, young]).count() == 2


def test_changing_an_old_span_is_not_an_enrolment(employer_a):
    """A span loaded before the check (history) can still be closed: only its end and status change."""
    old = _person(date(1950, 1, 1), n=7)
    span = EnrolmentSpan.objects.create(
        person=old, jurisdiction=_hunan(), category="employee", employer=employer_a, start=date(2005, 1, 1)
    )
    span.end = ON
    services.span_validate(span)  # no error
    span.start = date(2024, 1, 1)  # moving the start is an enrolment on the new day: refused (74 years old)
    with pytest.raises(ValidationError) as exc:
        services.span_validate(span)
    assert "hunan 第十六条" in exc.value.message_dict["start"][0]


def test_langfang_flexible_over_age_and_the_missing_age(admin_client):
    """langfang 第六条: its document gives no legal age (staff enter it, D-X16). Until then the check cannot be
    made: the enrolment is not refused on a guess and the screen names the missing key; once entered, an
    over-age flexible worker is refused with the article. Employees are not this article's concern."""
    person = _person(date(1960, 1, 1), n=8, region="131002")
    langfang = Jurisdiction.objects.get(code="langfang")
    response = admin_client.post(
        reverse("admin:enrollment_enrolmentspan_add"),
        {"person": person.pk, "jurisdiction": langfang.pk, "category": "flexible", "scheme": "combined",
         "start": ON.isoformat(), "status": "1"},
        follow=True,
    )  # fmt: skip
    assert any("retirement.age_male" in str(m) for m in response.context["messages"])
    span = EnrolmentSpan.objects.get(person=person)
    assert "retirement.age_male" in services.enrolment_check_gap(span)
    span.delete()
    staff_enter("langfang", {"retirement.age_male": 60}, effective_from=date(2024, 1, 1), document="测试假设值")
    with pytest.raises(ValidationError) as exc:
        services.span_open(person=person, jurisdiction="langfang", category="flexible", start=ON)
    assert "langfang 第六条" in exc.value.message_dict["start"][0]
    younger = _person(date(1966, 1, 1), n=15, region="131002")
    span = services.span_open(person=younger, jurisdiction="langfang", category="flexible", start=ON)
    assert services.enrolment_check_gap(span) is None


def test_scheme_change_continuation_is_not_an_enrolment():
    """ziyang 第九条(八): the 统账结合 span after a change continues the enrolment (no age check), and the
    change itself is still refused a second time."""
    person = _person(date(1990, 1, 1), n=9, region="512002")
    services.span_open(
        person=person, jurisdiction="ziyang", category="flexible", start=date(2024, 1, 1), scheme="pool_only"
    )
    services.life_event_record(
        person=person, kind="scheme_change", occurred_on=date(2024, 5, 10), jurisdiction="ziyang"
    )
    spans = list(EnrolmentSpan.objects.filter(person=person).order_by("start").values_list("scheme", "start"))
    assert spans == [("pool_only", date(2024, 1, 1)), ("combined", date(2024, 6, 1))]
    with pytest.raises(ValidationError, match="第九条"):
        services.life_event_record(
            person=person, kind="scheme_change", occurred_on=date(2024, 8, 1), jurisdiction="ziyang"
        )


# --- the screens -----------------------------------------------------------------------------------------


def test_span_form_shows_the_article_on_the_start_field(employer_a):
    old = _person(date(1965, 6, 1), n=10)
    data = {
        "person": old.pk,
        "jurisdiction": _hunan().pk,
        "category": "employee",
        "employer": employer_a.pk,
        "scheme": "combined",
        "start": ON.isoformat(),
        "status": "1",
    }
    form = SpanForm(data=data)
    assert not form.is_valid()
    assert "hunan 第十六条" in form.errors["start"][0]
    form = SpanForm(data={**data, "start": "2025-05-31"})  # the eve of his 60th birthday
    assert form.is_valid(), form.errors


def test_life_event_form_shows_the_article(employer_a):
    old = _person(date(1965, 6, 1), n=11)
    form = LifeEventForm(
        data={
            "person": old.pk,
            "kind": "hire",
            "occurred_on": ON.isoformat(),
            "jurisdiction": _hunan().pk,
            "employer": employer_a.pk,
        }
    )
    assert not form.is_valid()
    assert "hunan 第十六条" in form.errors["occurred_on"][0]


def test_span_screen_refuses_with_the_article_not_a_500(admin_client, employer_a):
    old = _person(date(1965, 6, 1), n=12)
    response = admin_client.post(
        reverse("admin:enrollment_enrolmentspan_add"),
        {
            "person": old.pk,
            "jurisdiction": _hunan().pk,
            "category": "employee",
            "employer": employer_a.pk,
            "scheme": "combined",
            "start": ON.isoformat(),
            "status": "1",
        },
    )
    assert response.status_code == 200
    assert "hunan 第十六条" in response.context["adminform"].form.errors["start"][0]
    assert not EnrolmentSpan.objects.filter(person=old).exists()


def test_retiree_transfer_is_refused_on_the_event_screen():
    """hunan 第二十三条 on the life-event screen (the service every path uses)."""
    retiree = _person(date(1950, 1, 1), n=13)
    services.span_open(person=retiree, jurisdiction="hunan", category="retiree", start=date(2015, 1, 1))
    form = LifeEventForm(
        data={"person": retiree.pk, "kind": "transfer_out", "occurred_on": ON.isoformat(), "jurisdiction": _hunan().pk}
    )
    assert not form.is_valid()
    assert "hunan 第二十三条" in form.errors["kind"][0]


def test_persons_api_does_not_enrol(admin_client):
    """The API has no enrolment endpoint: persons are read-only, so no way round the checks."""
    response = admin_client.post("/api/v1/persons/", {"id_number": "x"}, content_type="application/json")
    assert response.status_code == 405


def test_unknown_key_is_still_missing_error():
    with pytest.raises(PolicyMissing):
        ec.enrolment_age_refusal(
            Policy("langfang", ON), category="flexible", birth_date=date(1960, 1, 1), sex="2", female_role="", on=ON
        )


def test_enrolment_over_a_resident_span_is_refused_with_the_article(employer_a):
    """hunan 第十六条 "不得同时参加职工医保和居民医保": a resident span (险种 390) covering the start refuses an
    employee span opened on the span screen or by a service (the shared overlap check), naming the article;
    the day it ends is fine (half-open periods)."""
    person = _person(date(1990, 1, 1), n=14)
    EnrolmentSpan.objects.create(
        person=person,
        jurisdiction=_hunan(),
        category="resident",
        resident_kind="rural",
        start=date(2024, 1, 1),
        end=ON,
        insutype="390",
    )
    with pytest.raises(ValidationError) as exc:
        services.span_open(
            person=person, jurisdiction="hunan", category="employee", start=date(2025, 5, 31), employer=employer_a
        )
    message = exc.value.message_dict["start"][0]
    assert "居民医保" in message and "hunan 第十六条" in message
    services.span_open(person=person, jurisdiction="hunan", category="employee", start=ON, employer=employer_a)
    assert EnrolmentSpan.objects.filter(person=person, insutype="310").get().start == ON
