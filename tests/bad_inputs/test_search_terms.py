"""Bad-input corpus, the search box and the person page (issue #19): a term too long, odd characters, a day
that is not a date or out of range, a filter value that is not an id — each answered with a message or an
empty result, never an HTTP 500, nothing written. One line per case."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from enrollment.search import MAX_TERM, search
from tests.access_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return build_world()


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
def test_a_term_too_long_is_refused_with_a_message(w):
    result = search(w.worker, "张" * (MAX_TERM + 1))
    assert result.persons == [] and result.employers == [] and f"不能超过 {MAX_TERM}" in result.message
    page = client_for(w.worker).get(reverse("operations:search"), {"q": "张" * 5000})
    assert page.status_code == 200 and "不能超过" in page.content.decode()


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
def test_a_short_id_fragment_is_refused_with_a_message(w):
    page = client_for(w.worker).get(reverse("operations:search"), {"q": "198"})
    assert page.status_code == 200 and "至少 4 位" in page.content.decode()
    listing = client_for(w.worker).get(reverse("admin:enrollment_insuredperson_changelist"), {"q": "198"})
    assert listing.status_code == 200 and "至少 4 位" in listing.content.decode()


@pytest.mark.bad_input(area="admin_form", outcome="accepted")
@pytest.mark.parametrize("term", ["", "   ", "%", "_", "\\", "'; DROP TABLE x;--", "\x00", "=cmd|' /C calc'!A0"])
def test_odd_terms_find_nothing_and_never_fail(w, term):
    for url in (reverse("operations:search"), reverse("admin:enrollment_enrolmentspan_changelist")):
        response = client_for(w.worker).get(url, {"q": term})
        assert response.status_code == 200, url
    page = client_for(w.worker).get(reverse("operations:search"), {"q": term}).content.decode()
    assert "甲一" not in page and "乙一" not in page


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
@pytest.mark.parametrize("day", ["2024-13-01", "昨天", "1900-01-01", "2999-12-31", "2024-02-30", "x" * 500])
def test_person_page_day_out_of_range_shows_today_with_a_message(w, day):
    response = client_for(w.worker).get(reverse("operations:person", args=[w.p2.pk]), {"on": day})
    assert response.status_code == 200
    assert response.context["page"].on == timezone.localdate() and "已显示今日" in response.content.decode()


@pytest.mark.bad_input(area="admin_form", outcome="accepted")
@pytest.mark.parametrize("value", ["abc", "-1", "9" * 40, "1 OR 1=1"])
def test_span_employer_filter_value_not_an_id_lists_nothing(w, value):
    response = client_for(w.worker).get(reverse("admin:enrollment_enrolmentspan_changelist"), {"employer": value})
    assert response.status_code == 200 and "乙一" not in response.content.decode()


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
@pytest.mark.parametrize("value", ["abc", "1; DROP TABLE x", "9" * 40, "-1", "999999"])
def test_a_picker_value_that_is_no_person_is_refused_on_its_field(w, value):
    from enrollment.models import EnrolmentSpan

    before = EnrolmentSpan.objects.count()
    data = {
        "person": value,
        "jurisdiction": w.e2.jurisdiction_id,
        "category": "employee",
        "employer": w.e2.pk,
        "scheme": "combined",
        "start": "2025-01-01",
        "status": "1",
    }
    response = client_for(w.worker).post(reverse("admin:enrollment_enrolmentspan_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.get("person")
    assert EnrolmentSpan.objects.count() == before
