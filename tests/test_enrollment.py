"""The register: identifiers, services, spans, life events (issue 2, item 4)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from enrollment import services
from enrollment.identifiers import mask_id_number, parse_id_number, validate_credit_code
from enrollment.models import Category, EnrolmentSpan, InsuranceStatus, LifeEventKind


@pytest.mark.parametrize(
    ("value", "birth", "sex"),
    [("11010519491231002X", date(1949, 12, 31), "2"), ("440524188001010014", date(1880, 1, 1), "1")],
)
def test_valid_id_numbers_give_birth_date_and_sex(value, birth, sex):
    facts = parse_id_number(value)
    assert (facts.birth_date, facts.sex) == (birth, sex)


def test_bad_check_digit_names_the_expected_digit():
    with pytest.raises(ValidationError) as exc:
        parse_id_number("110105194912310029")
    assert "应为 X" in exc.value.messages[0]


@pytest.mark.parametrize("value", ["11010519491231002", "1101051949123100AX", "110105194913310025"])
def test_malformed_id_numbers_are_rejected(value):
    with pytest.raises(ValidationError):
        parse_id_number(value)


def test_credit_codes():
    validate_credit_code("91350100M000100Y43")
    validate_credit_code("914403001922038216")
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("91350100M000100Y4Z")
    assert "不含 I、O、Z、S、V" in exc.value.messages[0]
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("91350100M000100Y44")
    assert "第18位应为 3" in exc.value.messages[0]


def test_masking():
    assert mask_id_number("11010519491231002X") == "110105********002X"


@pytest.mark.django_db
def test_register_person_derives_sex_and_birth():
    person = services.person_register(id_number="11010519491231002x", name="张三")
    assert (person.id_number, person.sex, person.birth_date) == ("11010519491231002X", "2", date(1949, 12, 31))


@pytest.mark.django_db
def test_register_person_bad_id_is_a_field_error_and_saves_nothing():
    with pytest.raises(ValidationError) as exc:
        services.person_register(id_number="110105194912310029", name="张三")
    assert "id_number" in exc.value.message_dict
    from enrollment.models import InsuredPerson

    assert not InsuredPerson.objects.exists()


@pytest.mark.django_db
def test_employer_bad_credit_code_and_unknown_jurisdiction():
    with pytest.raises(ValidationError) as exc:
        services.employer_register(
            credit_code="91350100M000100Y4Z", name="x", jurisdiction="hunan", registered_on=date(2020, 1, 1)
        )
    assert "credit_code" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.employer_register(
            credit_code="91350100M000100Y43", name="x", jurisdiction="beijing", registered_on=date(2020, 1, 1)
        )
    assert "jurisdiction" in exc.value.message_dict


@pytest.mark.django_db
def test_overlapping_span_is_refused(person_factory, employer_a):
    person = person_factory(employer=employer_a, start=date(2023, 1, 1))
    with pytest.raises(ValidationError) as exc:
        services.span_open(person=person, jurisdiction="hunan", category=Category.FLEXIBLE, start=date(2023, 6, 1))
    assert "start" in exc.value.message_dict and "重叠" in exc.value.message_dict["start"][0]


@pytest.mark.django_db
def test_end_before_start_is_refused(person_factory, employer_a):
    person = person_factory(employer=employer_a, start=date(2023, 1, 1))
    span = person.spans.get()
    with pytest.raises(ValidationError) as exc:
        services.span_close(span=span, end=date(2022, 12, 31))
    assert "end" in exc.value.message_dict


@pytest.mark.django_db
def test_employee_span_needs_employer(person_factory):
    person = person_factory(category=Category.FLEXIBLE, start=date(2023, 1, 1))
    services.span_close(span=person.spans.get(), end=date(2023, 6, 1))
    with pytest.raises(ValidationError) as exc:
        services.span_open(person=person, jurisdiction="hunan", category=Category.EMPLOYEE, start=date(2023, 6, 1))
    assert "employer" in exc.value.message_dict


@pytest.mark.django_db(transaction=True)
def test_database_refuses_overlap_on_postgresql(person_factory, employer_a):
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's; other databases rely on the service")
    person = person_factory(employer=employer_a, start=date(2023, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        EnrolmentSpan.objects.create(
            person=person, jurisdiction=employer_a.jurisdiction, category="flexible", start=date(2024, 1, 1)
        )


@pytest.mark.django_db
def test_life_events_move_spans_and_are_kept(person_factory, employer_a, employer_b):
    person = person_factory(employer=employer_a, start=date(2023, 1, 1))
    services.life_event_record(
        person=person, kind=LifeEventKind.SEPARATION, occurred_on=date(2023, 7, 1), jurisdiction="hunan"
    )
    services.life_event_record(
        person=person, kind=LifeEventKind.HIRE, occurred_on=date(2023, 9, 1), jurisdiction="hunan", employer=employer_b
    )
    services.life_event_record(
        person=person,
        kind=LifeEventKind.TRANSFER_IN,
        occurred_on=date(2023, 9, 1),
        jurisdiction="hunan",
        months=36,
        other_region="广东省广州市",
    )
    spans = list(person.spans.order_by("start").values_list("employer_id", "start", "end", "status"))
    assert spans == [
        (employer_a.pk, date(2023, 1, 1), date(2023, 7, 1), InsuranceStatus.TERMINATED),
        (employer_b.pk, date(2023, 9, 1), None, InsuranceStatus.NORMAL),
    ]
    assert list(person.events.values_list("kind", flat=True)) == ["separation", "hire", "transfer_in"]


@pytest.mark.django_db
def test_separation_without_open_span_is_refused(person_factory, employer_a):
    person = person_factory(employer=employer_a, start=date(2023, 1, 1))
    with pytest.raises(ValidationError) as exc:
        services.life_event_record(
            person=person, kind=LifeEventKind.DEATH, occurred_on=date(2022, 1, 1), jurisdiction="hunan"
        )
    assert "occurred_on" in exc.value.message_dict
    assert not person.events.exists()


@pytest.mark.django_db
def test_history_records_who_changed_a_person(person_factory, employer_a, case_worker):
    person = person_factory(employer=employer_a)
    person.phone = "13900000000"
    person._history_user = case_worker
    person.save()
    assert person.history.first().history_user == case_worker
