"""Issue #16 item 4: exports of large result sets as background jobs — POST a list's filters → 202 and a job;
GET polls; the .xlsx downloads when done. The rows are the list's own (scope, PII masking), every cell
neutralised; a bad filter is a 400 naming it; a job is seen by its owner only; auditors write nothing."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from apiaudit.models import ApiWrite
from contributions.models import MonthlyDue
from operations.models import ExportJob

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


def _due(person, employer, month: date, total: str) -> MonthlyDue:
    amount = Decimal(total)
    return MonthlyDue.objects.create(
        person=person, employer=employer, jurisdiction=employer.jurisdiction, month=month, category="employee",
        base=Decimal("5000"), employer_amount=amount, individual_amount=Decimal(0), personal_account_amount=Decimal(0),
        pool_amount=amount, total=amount, due_date=date(2024, 4, 15), created_at="2024-03-01T00:00:00Z",
    )  # fmt: skip


def _sheet(response) -> list[tuple]:
    data = b"".join(response.streaming_content)
    return list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def test_an_employer_exports_its_own_dues_filtered_neutralised(
    employer_user_a, employer_a, employer_b, person_factory, django_capture_on_commit_callbacks
):
    mine = person_factory(employer=employer_a, name="=HYPERLINK(1)")
    theirs = person_factory(employer=employer_b)
    for month in (1, 2, 3):
        _due(mine, employer_a, date(2024, month, 1), "100.00")
        _due(theirs, employer_b, date(2024, month, 1), "200.00")
    client = token_client(employer_user_a)
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(
            "/api/v1/exports/", {"resource": "dues", "filters": {"month_from": "2024-02-01"}}, format="json"
        )
    assert posted.status_code == 202, posted.content
    assert posted.json()["status"] == "queued"
    job = client.get(f"/api/v1/exports/{posted.json()['id']}/").json()
    assert job["status"] == "done" and job["rows"] == 2 and job["download"].endswith("/download/")
    rows = _sheet(client.get(job["download"]))
    header, body = rows[0], rows[1:]
    assert "person_id_number" in header and len(body) == 2
    column = header.index("person")
    assert {r[column] for r in body} == {mine.pk}  # employer B's rows are not in the file
    assert ApiWrite.objects.filter(path="/api/v1/exports/", status=202).count() == 1

    # names with a formula are neutralised (a person export)
    with django_capture_on_commit_callbacks(execute=True):
        persons = client.post("/api/v1/exports/", {"resource": "persons"}, format="json").json()
    rows = _sheet(client.get(f"/api/v1/exports/{persons['id']}/download/"))
    names = [r[rows[0].index("name")] for r in rows[1:]]
    assert names == ["'=HYPERLINK(1)"]


def test_pii_is_masked_in_the_file_for_roles_without_it(
    case_worker, employer_a, person_factory, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Permission

    person = person_factory(employer=employer_a)
    _due(person, employer_a, date(2024, 1, 1), "100.00")
    case_worker.groups.first().permissions.remove(Permission.objects.get(codename="view_pii"))
    client = token_client(case_worker)
    with django_capture_on_commit_callbacks(execute=True):
        job = client.post("/api/v1/exports/", {"resource": "dues"}, format="json").json()
    rows = _sheet(client.get(f"/api/v1/exports/{job['id']}/download/"))
    shown = rows[1][rows[0].index("person_id_number")]
    assert shown != person.id_number and "*" in shown


def test_bad_filters_and_resources_are_400_and_nothing_is_queued(admin_client):
    cases = [
        ({"resource": "dues", "filters": {"month_from": "2024-02-30"}}, "filters"),
        ({"resource": "dues", "filters": {"person": "99999999999999999999"}}, "filters"),
        ({"resource": "no-such-list"}, "resource"),
        ({"resource": "dues", "filters": {"cursor": "x"}}, "filters"),
        ({"resource": "dues", "filters": "not a dict"}, "filters"),
    ]
    for body, field in cases:
        answer = admin_client.post("/api/v1/exports/", body, content_type="application/json")
        assert answer.status_code == 400 and field in answer.json(), (body, answer.content)
    assert not ExportJob.objects.exists()


def test_a_job_is_its_owners_the_auditor_cannot_export_and_an_unfinished_job_has_no_file(
    employer_user_a, case_worker, auditor
):
    client = token_client(employer_user_a)
    job = client.post("/api/v1/exports/", {"resource": "dues"}, format="json").json()  # not run: not committed
    assert client.get(f"/api/v1/exports/{job['id']}/download/").status_code == 409
    assert token_client(case_worker).get(f"/api/v1/exports/{job['id']}/").status_code == 404
    assert token_client(auditor).post("/api/v1/exports/", {"resource": "dues"}, format="json").status_code == 403
    # an employer user may not export a list it may not read (claims)
    assert client.post("/api/v1/exports/", {"resource": "claims"}, format="json").status_code == 403
    assert ExportJob.objects.count() == 1
