"""Bad inputs of the API (issue #16): payments, wage declarations, pages, cursors, filters and ids answer a
row-and-field 400 (or a documented 404), never an HTTP 500, and write nothing."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from apiaudit.models import ApiWrite
from contributions.models import ImportJob, Payment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


GOOD_PAYMENT = {"reference": "T-20240301-1", "amount": "10.00", "paid_on": "2024-03-01"}


@pytest.mark.bad_input(area="api", outcome="form_error")
@pytest.mark.parametrize(
    "field,value",
    [
        ("reference", ""),
        ("reference", "x" * 65),
        ("reference", "=HYPERLINK(1)"),
        ("amount", "0"),
        ("amount", "1.234"),
        ("amount", "100000000.01"),
        ("amount", "NaN"),
        ("paid_on", "2024-13-01"),
        ("paid_on", "1900-01-01"),
        ("id_number", "1" * 40),
    ],
)
def test_tax_payment_field_errors(admin_client, person_factory, employer_a, field, value):
    person = person_factory(employer=employer_a)
    body = {**GOOD_PAYMENT, "id_number": person.id_number, field: value}
    response = admin_client.post("/api/v1/payments/", body, content_type="application/json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not Payment.objects.exists() and not ApiWrite.objects.exists()


@pytest.mark.bad_input(area="api", outcome="form_error")
@pytest.mark.parametrize(
    "body,field",
    [
        ({"year": 2026, "rows": []}, "rows"),
        ({"year": "abc", "rows": [{"id_number": "1", "name": "x"}]}, "year"),
        ({"year": 2026, "rows": [{"name": "x"}]}, "rows"),
        ({"year": 2026, "rows": "not a list"}, "rows"),
        ({"year": 2026, "employer": 2**70, "rows": [{"id_number": "1", "name": "x"}]}, "employer"),
    ],
)
def test_wage_declaration_field_errors(admin_client, body, field):
    response = admin_client.post("/api/v1/wage-declarations/", body, content_type="application/json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not ImportJob.objects.exists()


@pytest.mark.bad_input(area="api", outcome="form_error")
@pytest.mark.parametrize(
    "url,field",
    [
        ("/api/v1/persons/?page=0", "page"),
        ("/api/v1/persons/?page=abc", "page"),
        ("/api/v1/persons/?page_size=0", "page_size"),
        ("/api/v1/dues/?cursor=not-ours", "cursor"),
        ("/api/v1/dues/?person=99999999999999999999999", "person"),
        ("/api/v1/postings/?account=-5", "account"),
        ("/api/v1/claims/?start_from=2024-02-30", "start_from"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_field(admin_client, employer_a, url, field):
    response = admin_client.get(url)
    assert response.status_code == 400 and field in response.json(), response.content


@pytest.mark.bad_input(area="api", outcome="form_error")  # refused: a documented 404
@pytest.mark.parametrize("pk", ["abc", "0", "-1", "99999999999999999999999", "１"])
def test_malformed_ids_are_a_documented_404(admin_client, pk):
    for base in ("persons", "dues", "payments", "claims", "wage-declarations", "person-status"):
        assert admin_client.get(f"/api/v1/{base}/{pk}/").status_code == 404
