"""The first night's shortcuts (issue #13 item 2) give the tables of the general path.

* persons outside the one-span-with-dues shape (retirees, spans not billed yet, several spans, a transfer in)
  with the same facts, exactly as loaded, share one evaluation (:meth:`Evaluator.general`);
* the clearance scan does not read back the cases it has just opened (a first night opens every case of the
  chunk) and reads one base per person (:func:`_last_bases`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from benefits import services as svc
from benefits.models import EligibilityState
from contributions.models import MonthlyDue
from contributions.retirement import services as clearance
from contributions.retirement.models import RetirementClearanceCase
from enrollment import services as enrol
from operations.demo.population import credit_code, id_number
from policy.models import Jurisdiction
from tests.test_nightly_equivalence import NIGHT, expected, stored
from tests.test_retirement_clearance_cases import hunan_women  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def _retiree(code: str, region: str, n: int, start: date):
    p = enrol.person_register(id_number=id_number(region, date(1950, 1, 1), n, True), name=f"退{n}")
    enrol.span_open(person=p, jurisdiction=Jurisdiction.objects.get(code=code), category="retiree", start=start)
    return p


def test_persons_with_the_same_facts_outside_the_single_shape_share_one_evaluation(monkeypatch):
    same = [_retiree("hunan", "430102", n, date(2022, 6, 1)) for n in (1, 2, 3)]
    other = _retiree("hunan", "430102", 4, date(2022, 6, 15))
    langfang = _retiree("langfang", "131002", 5, date(2022, 6, 1))  # the same day elsewhere: other facts
    people = [*same, other, langfang]
    calls = []
    evaluate = svc.person_evaluate
    monkeypatch.setattr(svc, "person_evaluate", lambda *a, **k: calls.append(a[1]) or evaluate(*a, **k))
    ev = svc.Evaluator(NIGHT)
    with transaction.atomic():
        counts = svc.refresh(NIGHT, ids=[p.pk for p in people], evaluator=ev)
    assert counts["eligibility.evaluated"] == len(people)
    assert len(calls) == 3 and len(ev.others) == 3  # one per distinct facts, not one per person
    monkeypatch.setattr(svc, "person_evaluate", evaluate)
    fresh = svc.Evaluator(NIGHT)  # nothing shared: person by person, the general path
    for p in people:
        rows, error_key = expected(p.pk, fresh)
        assert EligibilityState.objects.get(person_id=p.pk).error_key == error_key, p.pk
        assert stored(p.pk) == rows, p.pk
    assert stored(same[0].pk) == stored(same[1].pk) and stored(same[0].pk)
    assert stored(other.pk) != stored(same[0].pk)


def test_the_scan_does_not_read_back_the_cases_it_opened(hunan_women, monkeypatch):  # noqa: F811
    loaded = []
    from_db = RetirementClearanceCase.from_db.__func__

    def counting(cls, db, field_names, values):
        loaded.append(values)
        return from_db(cls, db, field_names, values)

    monkeypatch.setattr(RetirementClearanceCase, "from_db", classmethod(counting))
    counts = clearance.clearance_scan(date(2024, 5, 10), lo=0, hi=10**9)
    assert counts["clearance.opened"] == 2 and counts["clearance.pending"] == 2
    assert loaded == []  # both cases were opened tonight: none is read again to be recomputed
    again = clearance.clearance_scan(date(2024, 5, 11), lo=0, hi=10**9)  # a later full scan reads them
    assert again["clearance.pending"] == 2 and len(loaded) == 2


def test_last_bases_is_the_base_of_the_latest_in_service_month():
    emp = enrol.employer_register(
        credit_code=credit_code("430102", 990), name="基数单位", jurisdiction="hunan", registered_on=date(2015, 1, 1)
    )
    hunan, langfang = Jurisdiction.objects.get(code="hunan"), Jurisdiction.objects.get(code="langfang")
    people = [
        enrol.person_register(id_number=id_number("430102", date(1964, 1, 1), n, True), name=f"基{n}")
        for n in (1, 2, 3)
    ]

    def due(person, jur, month: date, base: str, category: str = "employee") -> MonthlyDue:
        return MonthlyDue(
            person=person,
            employer=emp if category == "employee" else None,
            jurisdiction=jur,
            month=month,
            category=category,
            base=Decimal(base),
            employer_amount=Decimal(1),
            individual_amount=Decimal(1),
            personal_account_amount=Decimal(0),
            pool_amount=Decimal(2),
            total=Decimal(2),
            paid_principal=Decimal(0),
            created_at=timezone.now(),
        )

    a, b, c = people
    MonthlyDue.objects.bulk_create(
        [
            due(a, hunan, date(2024, 3, 1), "6100.5"),
            due(a, hunan, date(2024, 1, 1), "5000"),
            due(a, hunan, date(2024, 2, 1), "5500"),
            due(a, hunan, date(2024, 4, 1), "99", category="retiree"),  # a retiree month is not a base
            due(a, langfang, date(2024, 5, 1), "7000"),  # another jurisdiction's month
            due(b, hunan, date(2023, 12, 1), "4321.1234"),
            due(c, langfang, date(2024, 1, 1), "8000"),
        ]
    )
    assert clearance._last_bases([a.pk, b.pk, c.pk], hunan.pk) == {
        a.pk: Decimal("6100.5000"),
        b.pk: Decimal("4321.1234"),
    }
    assert clearance._last_bases([a.pk, c.pk], langfang.pk) == {a.pk: Decimal("7000"), c.pk: Decimal("8000")}
