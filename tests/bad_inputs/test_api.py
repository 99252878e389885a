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


# --- issue #16 items 1, 3, 4: 增减员 requests, settlements, exports -------------------------------------------


@pytest.mark.bad_input(area="api", outcome="form_error")
@pytest.mark.parametrize(
    "change,field",
    [
        ({"kind": "fired"}, "kind"),
        ({"id_number": "110105194912310029"}, "id_number"),  # check digit wrong (ENGINEERING.md)
        ({"id_number": "1" * 40}, "id_number"),
        ({"name": ""}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"occurred_on": "2025-02-30"}, "occurred_on"),
        ({"occurred_on": "1800-01-01"}, "occurred_on"),
        ({"monthly_wage": "-1"}, "monthly_wage"),
        ({"monthly_wage": "1.234"}, "monthly_wage"),
        ({"monthly_wage": "NaN"}, "monthly_wage"),
        ({"female_role": "boss"}, "female_role"),
        ({"employer": 2**70}, "employer"),
    ],
)
def test_employer_request_field_errors(admin_client, employer_a, change, field):
    from enrollment.models import EmployerRequest

    body = {
        "employer": employer_a.pk,
        "kind": "hire",
        "id_number": "11010519491231002X",
        "name": "张三",
        "occurred_on": "2024-03-01",
        **change,
    }
    response = admin_client.post("/api/v1/employer-requests/", body, content_type="application/json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not EmployerRequest.objects.exists() and not ApiWrite.objects.exists()


@pytest.mark.bad_input(area="api", outcome="row_error")
@pytest.mark.parametrize(
    "row,field",
    [
        ({"kind": "解雇"}, "kind"),
        ({"occurred_on": "20240301x"}, "occurred_on"),
        ({"monthly_wage": "abc"}, "monthly_wage"),
        ({"id_number": "123"}, "id_number"),
        ({"name": ""}, "name"),
    ],
)
def test_employer_request_batch_row_errors(admin_client, employer_a, row, field):
    from enrollment.models import EmployerRequest

    good = {"kind": "增员", "id_number": "11010519491231002X", "name": "张三", "occurred_on": "2024-03-01"}
    response = admin_client.post(
        "/api/v1/employer-requests/batch/",
        {"employer": employer_a.pk, "rows": [{**good, **row}]},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert {"row": 2, "field": field} == {k: response.json()["rows"][0][k] for k in ("row", "field")}
    assert not EmployerRequest.objects.exists()


@pytest.mark.bad_input(area="api", outcome="form_error")
@pytest.mark.parametrize(
    "body,field",
    [
        ({"rows": []}, "rows"),
        ({"rows": "not a list"}, "rows"),
        ({"rows": [{"name": "x"}]}, "rows"),
    ],
)
def test_employer_request_batch_shape_errors(admin_client, employer_a, body, field):
    response = admin_client.post(
        "/api/v1/employer-requests/batch/", {"employer": employer_a.pk, **body}, content_type="application/json"
    )
    assert response.status_code == 400 and field in response.json(), response.content


@pytest.mark.bad_input(area="api", outcome="form_error")
@pytest.mark.parametrize(
    "url,field",
    [
        ("notice/?month=2024-13", "month"),
        ("notice/?month=abc", "month"),
        ("notice/?month=9999-01", "month"),
        ("?year=abc", "year"),
        ("?year=99999", "year"),
    ],
)
def test_employer_bill_query_errors(admin_client, employer_a, url, field):
    response = admin_client.get(f"/api/v1/employer-bills/{employer_a.pk}/{url}")
    assert response.status_code == 400 and field in response.json(), response.content


@pytest.mark.bad_input(area="api", outcome="form_error")
@pytest.mark.parametrize(
    "change,field",
    [
        ({"setl_id": ""}, "setl_id"),
        ({"setl_id": "x" * 31}, "setl_id"),
        ({"setl_id": "=cmd|' /C calc'!A0"}, "setl_id"),
        ({"mdtrt_id": ""}, "mdtrt_id"),
        ({"psn_no": "1" * 40}, "psn_no"),
        ({"med_type": "99"}, "med_type"),
        ({"begndate": "2024-02-30"}, "begndate"),
        ({"medfee_sumamt": "NaN"}, "medfee_sumamt"),
        ({"medfee_sumamt": "100000000.01"}, "medfee_sumamt"),
        ({"inscp_scp_amt": "1.234"}, "inscp_scp_amt"),
        ({"extra": {"babies": "-1"}}, "extra.babies"),
        ({"extra": "not a dict"}, "extra"),
        ({"fixmedins_code": "NO-SUCH-CODE"}, "fixmedins_code"),
    ],
)
def test_settlement_field_errors(admin_client, change, field):
    from benefits.claims.models import ApiSettlement, Claim
    from benefits.institutions.models import Institution
    from policy.models import Jurisdiction

    Institution.objects.create(
        fixmedins_code="H00000000000",
        name="坏输入医院",
        kind="hospital",
        jurisdiction=Jurisdiction.objects.get(code="hunan"),
    )

    body = {
        "fixmedins_code": "H00000000000",
        "setl_id": "S1",
        "mdtrt_id": "M1",
        "psn_no": "11010519491231002X",
        "med_type": "21",
        "begndate": "2024-03-01",
        "enddate": "2024-03-05",
        "medfee_sumamt": "100.00",
        "inscp_scp_amt": "100.00",
        **change,
    }
    response = admin_client.post("/api/v1/settlements/", body, content_type="application/json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not ApiSettlement.objects.exists() and not Claim.objects.exists()


@pytest.mark.bad_input(area="api", outcome="form_error")
@pytest.mark.parametrize(
    "body,field",
    [
        ({"resource": "dues", "filters": {"month_from": "2024-02-30"}}, "filters"),
        ({"resource": "claims", "filters": {"start_from": "x"}}, "filters"),
        ({"resource": "dues", "filters": {"person": "-5"}}, "filters"),
        ({"resource": "dues", "filters": {"page_size": "5"}}, "filters"),
        ({"resource": "dues", "filters": {str(i): "1" for i in range(21)}}, "filters"),
        ({"resource": "users"}, "resource"),
        ({}, "resource"),
    ],
)
def test_export_job_errors(admin_client, body, field):
    from operations.models import ExportJob

    response = admin_client.post("/api/v1/exports/", body, content_type="application/json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not ExportJob.objects.exists()


@pytest.mark.bad_input(area="api", outcome="form_error")  # refused: a documented 404
@pytest.mark.parametrize("pk", ["abc", "0", "-1", "99999999999999999999999", "１"])
def test_malformed_ids_of_the_new_endpoints_are_a_documented_404(admin_client, pk):
    for base in ("employer-requests", "employer-bills", "payment-years", "settlements", "exports"):
        assert admin_client.get(f"/api/v1/{base}/{pk}/").status_code == 404, base
