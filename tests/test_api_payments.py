"""Issue #16 item 2: the tax bureau posts payment records (实缴) by API — 电子税票号 unique and idempotent on
retry (same content → the original answer, 200; different content → 409) — and reads the reconciliation
(allocations to dues, the unapplied remainder). Item 4: dues and payments read with the screens' scope."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from apiaudit.models import ApiWrite
from contributions.models import MonthlyDue, Payment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


@pytest.fixture
def tax_client(case_worker):
    """The tax bureau's machine client: a case worker's rights (add payments) with a token."""
    from django.contrib.auth.models import Permission

    case_worker.user_permissions.add(Permission.objects.get(codename="use_token"))
    _, token = AuthToken.objects.create(user=case_worker)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _due(person, employer, month: date, total: str) -> MonthlyDue:
    amount = Decimal(total)
    return MonthlyDue.objects.create(
        person=person, employer=employer, jurisdiction=employer.jurisdiction, month=month, category="employee",
        base=Decimal("5000"), employer_amount=amount, individual_amount=Decimal(0), personal_account_amount=Decimal(0),
        pool_amount=amount, total=amount, due_date=date(2024, 4, 15), created_at="2024-03-01T00:00:00Z",
    )  # fmt: skip


def test_duplicate_tax_payment_posted_twice_is_recorded_once(tax_client, person_factory, employer_a):
    person = person_factory(employer=employer_a)
    due = _due(person, employer_a, date(2024, 3, 1), "600.00")
    body = {"reference": "33202403150001", "id_number": person.id_number, "amount": "600.00", "paid_on": "2024-03-20"}
    first = tax_client.post("/api/v1/payments/", body, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["allocations"][0]["due"] == due.pk  # reconciled against the oldest due
    assert Decimal(first.json()["unapplied_amount"]) == 0
    again = tax_client.post("/api/v1/payments/", body, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Payment.objects.filter(reference="33202403150001").count() == 1
    due.refresh_from_db()
    assert due.paid_principal == Decimal("600.00")  # applied once, not twice
    changed = tax_client.post("/api/v1/payments/", {**body, "amount": "601.00"}, format="json")
    assert changed.status_code == 409
    assert "reference" in changed.json()
    assert Payment.objects.filter(reference="33202403150001").get().amount == Decimal("600.00")
    # the write and its retries are audited with the client's token
    audit = ApiWrite.objects.filter(path="/api/v1/payments/").order_by("id")
    assert [a.status for a in audit] == [201, 200]
    assert audit[0].token_key


def test_bad_payment_fields_answer_row_and_field(tax_client, person_factory, employer_a):
    person = person_factory(employer=employer_a)
    answer = tax_client.post(
        "/api/v1/payments/",
        {"reference": "=1+1", "id_number": "430102000000000000", "amount": "-3", "paid_on": "not a day"},
        format="json",
    )
    assert answer.status_code == 400
    assert {"id_number", "amount", "paid_on"} <= set(answer.json())
    answer = tax_client.post(
        "/api/v1/payments/",
        {"reference": "=1+1", "id_number": person.id_number, "amount": "3.00", "paid_on": "2024-03-01"},
        format="json",
    )
    assert answer.status_code == 400 and "reference" in answer.json()
    assert Payment.objects.count() == 0


def test_read_only_and_employer_users_cannot_post_payments(auditor, employer_user_a, person_factory, employer_a):
    person = person_factory(employer=employer_a)
    body = {"reference": "T-1", "id_number": person.id_number, "amount": "1.00", "paid_on": "2024-03-01"}
    for user in (auditor, employer_user_a):
        _, token = AuthToken.objects.create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert client.post("/api/v1/payments/", body, format="json").status_code == 403
    assert Payment.objects.count() == 0 and ApiWrite.objects.count() == 0


def test_dues_are_scoped_to_the_employer_and_cursor_paged(
    employer_user_a, person_factory, employer_a, employer_b, admin_client
):
    mine = person_factory(employer=employer_a)
    theirs = person_factory(employer=employer_b)
    for month in (1, 2, 3):
        _due(mine, employer_a, date(2024, month, 1), "100.00")
        _due(theirs, employer_b, date(2024, month, 1), "200.00")
    _, token = AuthToken.objects.create(user=employer_user_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    page = client.get("/api/v1/dues/", {"page_size": 2})
    assert page.status_code == 200
    rows = page.json()["results"]
    assert len(rows) == 2 and {r["person"] for r in rows} == {mine.pk}
    assert "cursor=" in page.json()["next"]
    rest = client.get(page.json()["next"]).json()["results"]
    assert len(rest) == 1 and rest[0]["person"] == mine.pk
    assert client.get("/api/v1/dues/", {"unsettled": "true", "month_from": "2024-02-01"}).json()["results"]
    assert admin_client.get("/api/v1/dues/", {"person": theirs.pk}).json()["results"][0]["total"] == "200.00"
