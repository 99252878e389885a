"""Bad-input corpus, printable documents (issue #19 item 6): the period, year and month of a print, the bulk
run's form and the public verification code. A bad value comes back with a message naming its field; no
document is registered, no bulk run is started, never an HTTP 500. One line per case."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.urls import reverse

from operations.models import DocumentBatch, IssuedDocument

pytestmark = pytest.mark.django_db

LONG = "9" * 300


@pytest.fixture
def setup(client, case_worker, employer_a, person_factory, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()
    person = person_factory(employer=employer_a, name="甲一", start=date(2023, 1, 1))
    client.force_login(case_worker)
    return {"client": client, "person": person.pk, "employer": employer_a.pk}


PRINT_CASES = [
    # (case, url name, query, outcome, field)
    ("period_month_13", "person_contributions", {"start": "2024-13", "end": "2024-12"}, "form_error", "start"),
    ("period_month_0", "person_contributions", {"start": "2024-00", "end": "2024-12"}, "form_error", "start"),
    ("period_text", "person_contributions", {"start": "上个月", "end": "2024-12"}, "form_error", "start"),
    ("period_too_long_text", "person_contributions", {"start": LONG, "end": "2024-12"}, "form_error", "start"),
    ("period_year_1800", "person_contributions", {"start": "1800-01", "end": "2024-12"}, "form_error", "start"),
    ("period_year_9999", "person_contributions", {"start": "2024-01", "end": "9999-12"}, "form_error", "end"),
    ("period_reversed", "person_contributions", {"start": "2024-06", "end": "2024-01"}, "form_error", "end"),
    ("period_eleven_years", "person_contributions", {"start": "2010-01", "end": "2020-12"}, "form_error", "end"),
    ("period_empty", "person_contributions", {"start": "", "end": ""}, "form_error", "start"),
    ("period_full_date", "person_contributions", {"start": "2024-01-15", "end": "2024-12"}, "form_error", "start"),
    ("period_ten_years", "person_contributions", {"start": "2015-01", "end": "2024-12"}, "accepted", None),
    ("period_one_month", "person_contributions", {"start": "2024-03", "end": "2024-03"}, "accepted", None),
    ("year_text", "person_account", {"year": "二〇二四"}, "form_error", "year"),
    ("year_negative", "person_account", {"year": "-2024"}, "form_error", "year"),
    ("year_huge", "person_account", {"year": LONG}, "form_error", "year"),
    ("year_1989", "person_account", {"year": "1989"}, "form_error", "year"),
    ("year_decimal", "person_account", {"year": "2024.5"}, "form_error", "year"),
    ("month_13", "employer_notice", {"month": "2024-13"}, "form_error", "month"),
    ("month_formula", "employer_notice", {"month": "=1+1"}, "form_error", "month"),
    ("month_empty", "employer_notice", {"month": ""}, "form_error", "month"),
    ("month_ok", "employer_notice", {"month": "2024-03"}, "accepted", None),
]


@pytest.mark.bad_input(area="documents", outcome="mixed")
@pytest.mark.parametrize("case, name, query, expected, field", PRINT_CASES, ids=[c[0] for c in PRINT_CASES])
def test_print_parameters(setup, case, name, query, expected, field):
    kwargs = {"employer_id": setup["employer"]} if name == "employer_notice" else {"person_id": setup["person"]}
    response = setup["client"].get(reverse(f"documents:{name}", kwargs=kwargs), query)
    if expected == "accepted":
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert IssuedDocument.objects.count() == 1
        return
    assert response.status_code == 400
    page = response.content.decode()
    assert f"（{field}，" in page, page[:2000]
    assert not IssuedDocument.objects.exists()


BULK_CASES = [
    ("kind_missing", {"start": "2024-01", "end": "2024-03"}, "form_error", "kind"),
    ("kind_unknown", {"kind": "account"}, "form_error", "kind"),
    ("contributions_without_period", {"kind": "contributions"}, "form_error", "start"),
    ("contributions_reversed", {"kind": "contributions", "start": "2024-05", "end": "2024-01"}, "form_error", "end"),
    ("contributions_bad_month", {"kind": "contributions", "start": "2024-1x", "end": "2024-01"}, "form_error",
     "start"),
    ("enrolment_ok", {"kind": "enrolment"}, "accepted", None),
]  # fmt: skip


@pytest.mark.bad_input(area="documents", outcome="mixed")
@pytest.mark.parametrize("case, data, expected, field", BULK_CASES, ids=[c[0] for c in BULK_CASES])
def test_bulk_form(setup, case, data, expected, field):
    url = reverse("documents:bulk_start", kwargs={"employer_id": setup["employer"]})
    response = setup["client"].post(url, data)
    if expected == "accepted":
        assert response.status_code == 302 and DocumentBatch.objects.count() == 1
        return
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page or f"id_{field}" in page.split("errorlist")[1], page[:2000]
    assert not DocumentBatch.objects.exists()


VERIFY_CASES = [
    ("code_short", "ABCD"),
    ("code_long", "ABCD-EFGH-JKMN-PQRS"),
    ("code_lookalike_O", "OBCD-EFGH-JKMN"),
    ("code_lookalike_1", "1BCD-EFGH-JKMN"),
    ("code_sql", "' OR 1=1 --"),
    ("code_full_width", "ＡＢＣＤ－ＥＦＧＨ－ＪＫＭＮ"),
    ("code_huge", LONG),
]


@pytest.mark.bad_input(area="documents", outcome="form_error")
@pytest.mark.parametrize("case, typed", VERIFY_CASES, ids=[c[0] for c in VERIFY_CASES])
def test_verify_code(client, db, case, typed):
    cache.clear()
    response = client.get(reverse("documents:verify"), {"code": typed})
    assert response.status_code == 400
    assert "核验码：" in response.content.decode()
