"""The nightly batch writes set-wise (COPY / INSERT … SELECT) and still leaves an audit trail."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from contributions.retirement import services
from contributions.retirement.models import RetirementClearanceCase
from tests.test_retirement_clearance_cases import hunan_women  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_cases_opened_by_the_scan_have_their_creation_in_the_history(hunan_women):  # noqa: F811
    cadre, worker, _young = hunan_women
    services.clearance_scan(date(2024, 5, 10), lo=0, hi=10**9)
    history = RetirementClearanceCase.history.model.objects.order_by("person_id")
    assert [(h.person_id, h.history_type, h.status) for h in history] == [
        (cadre.pk, "+", "open"),
        (worker.pk, "+", "open"),
    ]
    first = history.first()
    case = RetirementClearanceCase.objects.get(person=cadre)
    assert first.id == case.pk and first.lump_sum == case.lump_sum and first.facts == case.facts
    assert first.history_change_reason == "退休清缴日常扫描立案" and first.history_user_id is None
    # the next day's scan opens nothing, so it records nothing either
    services.clearance_scan(date(2024, 5, 11), lo=0, hi=10**9)
    assert RetirementClearanceCase.history.model.objects.count() == 2


def _langfang_deferred_employee(deferral_end: date):
    """A langfang employee whose employer deferred April–June 2024 (缓缴) and never paid those months."""
    from contributions.models import Deferral, MonthlyDue
    from tests.test_retirement_clearance_cases import employee, paid_months

    person, employer = employee("langfang", "131002", 41, date(1985, 3, 3), male=True, hired=date(2024, 1, 1))
    Deferral.objects.create(
        employer=employer, start=date(2024, 4, 1), end=deferral_end, approved_on=date(2024, 3, 20), citation="测试"
    )
    paid_months(person, employer, date(2024, 1, 1), 9, base=5000)
    dues = MonthlyDue.objects.filter(person=person)
    for due in dues:  # due on the 25th (langfang), paid on the 10th
        due.due_date, due.settled_on = due.month.replace(day=25), due.month.replace(day=10)
    MonthlyDue.objects.bulk_update(dues, ["due_date", "settled_on"])
    dues.filter(month__month__in=(4, 5, 6)).update(settled_on=None, paid_principal=0, deferred=True)
    return person


@pytest.mark.parametrize(
    ("deferral_end", "on_oct_1"),
    [
        (date(2024, 10, 1), "suspended"),  # ran out on 30 September unpaid: suspended from 1 October
        (date(2025, 1, 1), "covered"),  # still running on the evaluation date
    ],
)
def test_nightly_timeline_knows_when_a_deferral_ran_out(deferral_end, on_oct_1):
    """langfang 第二十六条: the stored timeline reads the deferral's end from the employer's approved deferral."""
    from benefits.selectors import status_on
    from benefits.services import eligibility_refresh

    person = _langfang_deferred_employee(deferral_end)
    eligibility_refresh([person.pk], date(2024, 10, 20))
    assert status_on(person, date(2024, 5, 15)).status == "covered"
    assert status_on(person, date(2024, 9, 30)).status == "covered"
    oct_1 = status_on(person, date(2024, 10, 1))
    assert oct_1.status == on_oct_1
    assert oct_1.facts["缓缴期满日"] == (deferral_end - timedelta(days=1)).isoformat()  # shown on the why page


def test_case_worker_closes_a_case_opened_in_error_and_the_history_says_who(client, case_worker, hunan_women):  # noqa: F811
    cadre, _worker, _young = hunan_women
    services.clearance_scan(date(2024, 5, 10), lo=0, hi=10**9)
    case = RetirementClearanceCase.objects.get(person=cadre)
    client.force_login(case_worker)
    listing = "/admin/retirement/retirementclearancecase/"
    resp = client.post(listing, {"action": "close", "_selected_action": [case.pk]}, follow=True)
    assert "已撤销" in resp.content.decode()
    case.refresh_from_db()
    assert case.status == "closed" and "经办撤销立案" in case.ledger_note
    assert case.history.first().history_user == case_worker  # who and when (HistoryRequestMiddleware)
    # a closed case cannot be closed again; the next scan may open a new one for the same person
    resp = client.post(listing, {"action": "close", "_selected_action": [case.pk]}, follow=True)
    assert "不能撤销" in resp.content.decode()
    assert services.clearance_scan(date(2024, 5, 11), lo=0, hi=10**9)["clearance.opened"] == 1
