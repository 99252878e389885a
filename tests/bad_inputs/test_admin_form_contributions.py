"""Bad-input corpus: the contribution admin forms — 手工录入实缴 and 缓缴审批 (issue #12 items 4, 7, 8).

One line per case: a change to a good POST. ``form_error``: the form is shown again with the message on
the field and nothing is saved; ``accepted``: saved.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contributions.models import Deferral, Payment

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
TOMORROW = (TODAY + timedelta(days=1)).isoformat()
HYPERLINK = '=HYPERLINK("http://x.example/","点击")'

PAYMENT_CASES = [
    ("amount_overflow", {"amount": "999999999999.99"}, "form_error", "amount"),
    ("amount_above_bound", {"amount": "100000000.01"}, "form_error", "amount"),
    ("amount_zero", {"amount": "0"}, "form_error", "amount"),
    ("amount_three_decimals", {"amount": "1.005"}, "form_error", "amount"),
    ("amount_text", {"amount": "五百"}, "form_error", "amount"),
    ("paid_1900", {"paid_on": "1900-01-01"}, "form_error", "paid_on"),
    ("paid_tomorrow", {"paid_on": TOMORROW}, "form_error", "paid_on"),
    ("paid_year_0001", {"paid_on": "0001-01-01"}, "form_error", "paid_on"),
    ("reference_formula", {"reference": "=1+1"}, "form_error", "reference"),
    ("reference_hyperlink", {"reference": HYPERLINK}, "form_error", "reference"),
    ("reference_too_long", {"reference": "M" * 65}, "form_error", "reference"),
    ("reference_space_inside", {"reference": "M 1"}, "form_error", "reference"),
    ("good", {}, "accepted", None),
]


@pytest.mark.bad_input(area="admin_form", outcome="mixed")
@pytest.mark.parametrize(("case", "change", "expected", "field"), PAYMENT_CASES, ids=[c[0] for c in PAYMENT_CASES])
def test_manual_payment_form(client, case_worker, employer_a, person_factory, case, change, expected, field):
    person = person_factory(employer=employer_a, name="甲一")
    client.force_login(case_worker)
    post = {"person": person.pk, "amount": "515.00", "paid_on": TODAY.isoformat(), "reference": "M-1", **change}
    response = client.post(reverse("admin:contributions_payment_add"), post)
    if expected == "accepted":
        assert response.status_code == 302 and Payment.objects.count() == 1
        return
    assert response.status_code == 200  # shown again, never a 500
    assert response.context["adminform"].form.errors.get(field), response.context["adminform"].form.errors
    assert not Payment.objects.exists()


DEFERRAL_CASES = [
    ("approved_tomorrow", {"approved_on": TOMORROW}, "form_error", "approved_on"),
    ("approved_1900", {"approved_on": "1900-01-01"}, "form_error", "approved_on"),
    ("start_1900", {"start": "1900-01-01"}, "form_error", "start"),
    ("end_before_start", {"end": "2024-01-01"}, "form_error", "end"),
    ("citation_too_long", {"citation": "条" * 256}, "form_error", "citation"),
    ("citation_empty", {"citation": " "}, "form_error", "citation"),
    ("good", {}, "accepted", None),
]


@pytest.mark.bad_input(area="admin_form", outcome="mixed")
@pytest.mark.parametrize(("case", "change", "expected", "field"), DEFERRAL_CASES, ids=[c[0] for c in DEFERRAL_CASES])
def test_deferral_form(client, case_worker, employer_a, case, change, expected, field):
    client.force_login(case_worker)
    post = {
        "employer": employer_a.pk,
        "start": "2024-03-01",
        "end": "2024-06-01",
        "approved_on": "2024-02-20",
        "citation": "hunan 第二十二条",
        "note": "",
        **change,
    }
    response = client.post(reverse("admin:contributions_deferral_add"), post)
    if expected == "accepted":
        assert response.status_code == 302 and Deferral.objects.count() == 1
        return
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.get(field), response.context["adminform"].form.errors
    assert not Deferral.objects.exists()
