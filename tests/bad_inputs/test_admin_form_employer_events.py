"""Bad-input corpus, 单位变动 form (issue #14 item 4): a merger into itself or into a closed employer, a date before
the founding, a split without persons, a bankruptcy without the trustee langfang 第二十八条 requires, a silent
document's missing key … each re-shows the form with a message and writes nothing; no HTTP 500."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from contributions.models import EmployerEvent, EmployerEventDueMove, MonthlyDue
from enrollment.models import Employer, EnrolmentSpan
from tests.test_employer_events import _retire, due, employer, person

pytestmark = pytest.mark.django_db
URL = "admin:contributions_employerevent_add"


@pytest.fixture
def o(db):
    a = employer("langfang", "原单位", founded_on=date(2019, 6, 1), registered_on=date(2019, 6, 20))
    b = employer("langfang", "接收单位")
    closed = employer("langfang", "已注销单位")
    Employer.objects.filter(pk=closed.pk).update(status="4")
    p = person("langfang", a)
    due(p, a, date(2024, 1, 1))
    return {"a": a, "b": b, "closed": closed, "p": p, "other": employer("ziyang"), "hunan": employer("hunan")}


def _valid(o) -> dict[str, str]:
    return {
        "employer": str(o["a"].pk),
        "kind": "merger",
        "occurred_on": "2024-06-01",
        "reported_on": "2024-06-20",
        "successor": str(o["b"].pk),
        "trustee": "",
        "resigned_count": "0",
        "note": "",
    }


CASES = [
    ("successor", "itself"),
    ("successor", "closed"),
    ("successor", "other_jurisdiction"),
    ("successor", ""),
    ("occurred_on", "2019-05-31"),  # before the founding date
    ("occurred_on", "2024-02-30"),
    ("occurred_on", "1899-12-31"),
    ("occurred_on", "2999-01-01"),
    ("reported_on", "2024-05-31"),  # before the event
    ("kind", "explosion"),
    ("kind", "split"),  # a split names the persons who go
    ("kind", "bankruptcy"),  # with a successor
    ("resigned_count", "-1"),
    ("resigned_count", "100001"),
    ("resigned_count", "abc"),
    ("note", "长" * 2001),
    ("employer", "closed"),
    ("employer", "999999"),
    ("employer", "hunan"),  # hunan gives no successor rule: the missing key is named
]


def _data(o, field: str, value: str) -> dict[str, str]:
    data = _valid(o)
    if field in ("successor", "employer") and value in o:
        data[field] = str(o[value].pk)
        if value == "hunan":
            data["successor"] = str(employer("hunan").pk)
    elif field == "successor" and value == "itself":
        data[field] = data["employer"]
    elif field == "successor" and value == "other_jurisdiction":
        data[field] = str(o["other"].pk)
    else:
        data[field] = value
    return data


def _counts():
    return (EmployerEvent.objects.count(), EmployerEventDueMove.objects.count(), EnrolmentSpan.objects.count())


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
@pytest.mark.parametrize(("field", "value"), CASES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(CASES)])
def test_bad_event_is_refused_and_changes_nothing(admin_client, o, field, value):
    before = _counts()
    response = admin_client.post(reverse(URL), _data(o, field, value))
    assert response.status_code == 200, "re-shown, not saved"
    form = response.context["adminform"].form
    assert form.errors, "a message is shown"
    assert _counts() == before
    assert MonthlyDue.objects.get(person=o["p"]).employer_id == o["a"].pk


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
def test_langfang_bankruptcy_without_trustee_for_retirees_is_refused(admin_client, o):
    retiree = person("langfang", o["a"])
    _retire(retiree, o["a"], date(2023, 1, 1))
    data = {**_valid(o), "kind": "bankruptcy", "successor": ""}
    before = _counts()
    response = admin_client.post(reverse(URL), data)
    assert response.status_code == 200
    assert "trustee" in response.context["adminform"].form.errors
    assert _counts() == before


@pytest.mark.bad_input(area="admin_form", outcome="accepted")
def test_the_valid_merger_is_accepted(admin_client, o):
    response = admin_client.post(reverse(URL), _valid(o))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    event = EmployerEvent.objects.get()
    assert event.dues_moved == 1 and MonthlyDue.objects.get(person=o["p"]).employer_id == o["b"].pk
    page = admin_client.get(reverse("admin:contributions_employerevent_change", args=[event.pk]))
    assert page.status_code == 200 and "langfang 第二十七条" in page.content.decode()


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
def test_employer_registered_before_its_founding_is_refused(admin_client, o):
    a = o["a"]
    data = {
        "credit_code": a.credit_code,
        "name": a.name,
        "jurisdiction": str(a.jurisdiction_id),
        "kind": a.kind,
        "management_type": a.management_type,
        "scheme": a.scheme,
        "founded_on": "2019-07-01",
        "registered_on": "2019-06-20",
        "status": a.status,
        "payment_frequency": a.payment_frequency,
        "ownership": "",
    }
    response = admin_client.post(reverse("admin:enrollment_employer_change", args=[a.pk]), data)
    assert response.status_code == 200
    assert "registered_on" in response.context["adminform"].form.errors
    a.refresh_from_db()
    assert a.founded_on == date(2019, 6, 1)
