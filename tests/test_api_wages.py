"""Issue #16 item 1 (wages): an employer's payroll system submits a year's wage declaration by API — the
same job and checks as the payroll import screen — polls the job, reads row-and-field errors, confirms
all-or-nothing, and reads its own dues (bill) afterwards."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from apiaudit.models import ApiWrite
from contributions import imports
from contributions.models import WageDeclaration

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


@pytest.fixture
def machine(employer_user_a):
    _, token = AuthToken.objects.create(user=employer_user_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _year() -> int:
    return imports.payroll_years("hunan", timezone.localdate())[0]


def test_employer_submits_a_wage_declaration_and_confirms_it(machine, employer_a, person_factory):
    a1 = person_factory(employer=employer_a, name="甲一")
    a2 = person_factory(employer=employer_a, name="甲二")
    rows = [
        {"id_number": a1.id_number, "name": "甲一", "monthly_wage": "6200.00"},
        {"id_number": a2.id_number, "name": "甲二", "monthly_wage": "7300.00"},
    ]
    submitted = machine.post("/api/v1/wage-declarations/", {"year": _year(), "rows": rows}, format="json")
    assert submitted.status_code == 202, submitted.content
    job = submitted.json()
    assert job["status"] == "validated" and job["error_rows"] == 0  # validated in-process (no broker)
    polled = machine.get(f"/api/v1/wage-declarations/{job['id']}/").json()
    assert polled["total_rows"] == 2
    assert WageDeclaration.objects.count() == 0  # nothing written before the confirm
    confirmed = machine.post(f"/api/v1/wage-declarations/{job['id']}/confirm/")
    assert confirmed.status_code == 202 and confirmed.json()["status"] == "done"
    assert WageDeclaration.objects.filter(employer=employer_a, year=_year()).count() == 2
    again = machine.post(f"/api/v1/wage-declarations/{job['id']}/confirm/")
    assert again.status_code == 409  # confirmed once, however often pressed
    assert ApiWrite.objects.filter(path__startswith="/api/v1/wage-declarations/").count() == 2


def test_bad_rows_answer_row_and_field_and_nothing_is_written(machine, employer_a, person_factory):
    a1 = person_factory(employer=employer_a, name="甲一")
    rows = [
        {"id_number": a1.id_number, "name": "甲一", "monthly_wage": "6200.00"},
        {"id_number": "430102000000000000", "name": "无此人", "monthly_wage": "-5"},
    ]
    job = machine.post("/api/v1/wage-declarations/", {"year": _year(), "rows": rows}, format="json").json()
    assert job["error_rows"] == 1
    assert {e["row"] for e in job["errors"]} == {3} and all(e["field"] and e["message"] for e in job["errors"])
    refused = machine.post(f"/api/v1/wage-declarations/{job['id']}/confirm/").json()
    assert refused["status"] == "validated" and refused["dry_run_summary"]["commit_refused"]
    assert WageDeclaration.objects.count() == 0  # all or nothing


def test_employer_submits_only_for_itself(machine, employer_b):
    answer = machine.post(
        "/api/v1/wage-declarations/",
        {"employer": employer_b.pk, "year": _year(), "rows": [{"id_number": "x", "name": "y"}]},
        format="json",
    )
    assert answer.status_code == 403
    bad = machine.post("/api/v1/wage-declarations/", {"year": 1800, "rows": []}, format="json")
    assert bad.status_code == 400 and {"year", "rows"} <= set(bad.json())
