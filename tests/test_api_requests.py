"""Issue #16 item 1: an employer's system files 增减员 requests by API (single and many, all or nothing) through
the same services and checks as the request screens; they land in the case workers' queue; the employer reads
its own requests with state and 退回 reason; reads its own bills, arrears and its people's payment years."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from apiaudit.models import ApiWrite
from contributions.models import MonthlyDue
from enrollment.models import EmployerRequest, EmployerUser, RequestState
from enrollment.requests import services as rs
from enrollment.roles import EMPLOYER_USER
from operations.demo.population import id_number
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


def token_client(user) -> APIClient:
    _, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def emp_a(employer_user_a):
    return token_client(employer_user_a)


@pytest.fixture
def emp_b(db, employer_b):
    user = make_user("t_emp_b_api", EMPLOYER_USER)
    EmployerUser.objects.create(user=user, employer=employer_b)
    return token_client(user)


def today() -> date:
    return timezone.localdate()


def new_id(n: int) -> str:
    return id_number("430103", date(1990, 4, 1), 300 + n, True)


def hire_body(n: int, **kw) -> dict:
    return {
        "kind": "hire",
        "id_number": new_id(n),
        "name": f"新人{n}",
        "occurred_on": str(today() - timedelta(5)),
        **kw,
    }


def test_a_hire_by_api_lands_in_the_queue_and_the_employer_reads_its_state_and_return_reason(
    emp_a, employer_a, case_worker
):
    answer = emp_a.post("/api/v1/employer-requests/", hire_body(1, monthly_wage="6200.00"), format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["state"] == "submitted" and body["employer"] == employer_a.pk and body["source"] == "api"
    assert body["report_deadline"] == str(today() - timedelta(5) + timedelta(30))  # hunan 第十七条: 30 days
    req = EmployerRequest.objects.get(pk=body["id"])
    assert req.submitted_by.username == "t_emp_a" and req.monthly_wage == Decimal("6200.00")
    # the case worker's queue has it; 退回 with a reason the employer reads by API
    assert EmployerRequest.objects.visible_to(case_worker).open().filter(pk=req.pk).exists()
    rs.request_return(req, user=case_worker, reason="缺劳动合同")
    mine = emp_a.get(f"/api/v1/employer-requests/{req.pk}/").json()
    assert mine["state"] == "returned" and mine["state_display"] == "已退回" and mine["return_reason"] == "缺劳动合同"
    assert emp_a.get("/api/v1/employer-requests/", {"state": "returned"}).json()["count"] == 1
    assert ApiWrite.objects.filter(path="/api/v1/employer-requests/", status=201).count() == 1


def test_the_same_checks_as_the_screen_refuse_by_field_and_write_nothing(emp_a, employer_a, person_factory):
    person = person_factory(employer=employer_a, start=date(2024, 1, 1))
    twice = emp_a.post(
        "/api/v1/employer-requests/",
        {"kind": "hire", "id_number": person.id_number, "name": person.name, "occurred_on": str(today())},
        format="json",
    )
    assert twice.status_code == 400 and "已在本单位参保" in twice.json()["id_number"][0]
    wrong_name = emp_a.post(
        "/api/v1/employer-requests/",
        {"kind": "separation", "id_number": person.id_number, "name": "别人", "occurred_on": str(today())},
        format="json",
    )
    assert wrong_name.status_code == 400 and "name" in wrong_name.json()
    no_wage = emp_a.post(
        "/api/v1/employer-requests/",
        {"kind": "wage_change", "id_number": person.id_number, "name": person.name, "occurred_on": str(today())},
        format="json",
    )
    assert no_wage.status_code == 400 and "monthly_wage" in no_wage.json()
    future = emp_a.post(
        "/api/v1/employer-requests/", hire_body(2, occurred_on=str(today() + timedelta(1))), format="json"
    )
    assert future.status_code == 400 and "occurred_on" in future.json()
    assert not EmployerRequest.objects.exists() and not ApiWrite.objects.exists()


def test_an_employer_files_only_for_itself_and_sees_only_its_own_requests(emp_a, emp_b, employer_a, employer_b):
    other = emp_a.post("/api/v1/employer-requests/", hire_body(3, employer=employer_b.pk), format="json")
    assert other.status_code == 403
    made = emp_a.post("/api/v1/employer-requests/", hire_body(4), format="json").json()
    assert emp_b.get(f"/api/v1/employer-requests/{made['id']}/").status_code == 404
    assert emp_b.get("/api/v1/employer-requests/").json()["count"] == 0
    assert EmployerRequest.objects.filter(employer=employer_b).count() == 0


def test_staff_name_the_employer_and_the_auditor_reads_masked(admin_client, auditor, employer_a):
    assert admin_client.post("/api/v1/employer-requests/", hire_body(5), content_type="application/json").json() == {
        "employer": ["请指定用人单位。"]
    }
    made = admin_client.post(
        "/api/v1/employer-requests/", hire_body(5, employer=employer_a.pk), content_type="application/json"
    )
    assert made.status_code == 201 and made.json()["id_number"] == new_id(5)
    read = token_client(auditor).get(f"/api/v1/employer-requests/{made.json()['id']}/").json()
    assert read["id_number"] != new_id(5) and "*" in read["id_number"]
    assert token_client(auditor).post("/api/v1/employer-requests/", hire_body(6), format="json").status_code == 403


def test_many_requests_all_or_nothing_with_row_and_field_errors(emp_a, employer_a):
    good = [
        {"kind": "增员", "id_number": new_id(7), "name": "甲", "occurred_on": str(today() - timedelta(3))},
        {"kind": "hire", "id_number": new_id(8), "name": "乙", "occurred_on": str(today() - timedelta(2))},
    ]
    bad = [*good, {"kind": "离职", "id_number": new_id(9), "name": "丙", "occurred_on": "2025-02-30"}]
    refused = emp_a.post("/api/v1/employer-requests/batch/", {"rows": bad}, format="json")
    assert refused.status_code == 400
    errors = refused.json()["rows"]
    assert {(e["row"], e["field"]) for e in errors} == {(4, "kind"), (4, "occurred_on")}
    assert not EmployerRequest.objects.exists()
    repeated = emp_a.post("/api/v1/employer-requests/batch/", {"rows": [good[0], good[0]]}, format="json")
    assert repeated.status_code == 400 and repeated.json()["rows"][0]["row"] == 3
    made = emp_a.post("/api/v1/employer-requests/batch/", {"rows": good}, format="json")
    assert made.status_code == 201, made.content
    assert [r["name"] for r in made.json()] == ["甲", "乙"]
    assert EmployerRequest.objects.filter(employer=employer_a, state=RequestState.SUBMITTED, source="api").count() == 2


def _due(person, employer, month: date, total: str, *, paid: str = "0", due_date: date | None = None) -> MonthlyDue:
    amount = Decimal(total)
    return MonthlyDue.objects.create(
        person=person, employer=employer, jurisdiction=employer.jurisdiction, month=month, category="employee",
        base=Decimal("5000"), employer_amount=amount, individual_amount=Decimal(0), personal_account_amount=Decimal(0),
        pool_amount=amount, total=amount, paid_principal=Decimal(paid), due_date=due_date or month + timedelta(44),
        settled_on=month + timedelta(40) if paid == total else None, created_at="2024-03-01T00:00:00Z",
    )  # fmt: skip


def test_the_employer_reads_its_bill_notice_and_arrears_only_its_own(emp_a, emp_b, employer_a, person_factory):
    person = person_factory(employer=employer_a, start=date(2024, 1, 1))
    _due(person, employer_a, date(2024, 1, 1), "600.00", paid="600.00")
    _due(person, employer_a, date(2024, 2, 1), "600.00", paid="100.00")
    summary = emp_a.get(f"/api/v1/employer-bills/{employer_a.pk}/")
    assert summary.status_code == 200, summary.content
    by_month = {r["month"]: r for r in summary.json()}
    assert by_month["2024-02-01"]["unpaid"] == "500.00" and by_month["2024-01-01"]["unpaid"] == "0.00"
    assert emp_a.get(f"/api/v1/employer-bills/{employer_a.pk}/", {"year": 2023}).json() == []
    notice = emp_a.get(f"/api/v1/employer-bills/{employer_a.pk}/notice/", {"month": "2024-02"}).json()
    assert notice["totals"]["total"] == "600.00" and notice["totals"]["paid"] == "100.00"
    assert notice["lines"][0]["principal_due"] == "500.00" and notice["lines"][0]["id_number"] == person.id_number
    arrears = emp_a.get(f"/api/v1/employer-bills/{employer_a.pk}/arrears/").json()
    assert [line["month"] for line in arrears["lines"]] == ["2024-02-01"]
    assert arrears["lines"][0]["principal_due"] == "500.00"
    assert emp_b.get(f"/api/v1/employer-bills/{employer_a.pk}/").status_code == 404
    assert emp_b.get(f"/api/v1/employer-bills/{employer_a.pk}/arrears/").status_code == 404
    assert emp_a.get(f"/api/v1/employer-bills/{employer_a.pk}/notice/", {"month": "2024-13"}).status_code == 400


def test_payment_years_of_own_people(emp_a, emp_b, employer_a, person_factory):
    person = person_factory(employer=employer_a, start=date(2024, 1, 1))
    _due(person, employer_a, date(2024, 1, 1), "600.00", paid="600.00")
    _due(person, employer_a, date(2024, 2, 1), "600.00", paid="600.00")
    years = emp_a.get(f"/api/v1/payment-years/{person.pk}/")
    assert years.status_code == 200, years.content
    assert Decimal(years.json()["local_months"]) == 2 and years.json()["jurisdiction"] == "hunan"
    assert emp_b.get(f"/api/v1/payment-years/{person.pk}/").status_code == 404
