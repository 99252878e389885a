"""enrollment.selectors.scheme_on: the 险种 of a person's cover on a day (issue #15, the interface claims use)."""

from __future__ import annotations

from datetime import date

import pytest

from enrollment.models import EnrolmentSpan
from enrollment.selectors import scheme_on

pytestmark = pytest.mark.django_db


def test_scheme_on_follows_half_open_spans(person_factory, employer_a):
    person = person_factory(employer=employer_a, start=date(2024, 1, 1))
    EnrolmentSpan.objects.filter(person=person).update(end=date(2024, 7, 1))
    EnrolmentSpan.objects.create(
        person=person,
        jurisdiction=employer_a.jurisdiction,
        category="resident",
        resident_kind="urban_non_working",
        insutype="390",
        start=date(2024, 7, 1),
        end=date(2025, 1, 1),
    )
    assert scheme_on(person.pk, date(2023, 12, 31)) is None
    assert scheme_on(person.pk, date(2024, 1, 1)) == "310"
    assert scheme_on(person.pk, date(2024, 6, 30)) == "310"
    assert scheme_on(person.pk, date(2024, 7, 1)) == "390"
    assert scheme_on(person.pk, date(2024, 12, 31)) == "390"
    assert scheme_on(person.pk, date(2025, 1, 1)) is None
