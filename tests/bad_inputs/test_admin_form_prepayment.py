"""Bad-input corpus, admin forms of issue #14 item 3: 预缴 (hunan 第十三条、第五十四条) and 退费 (hunan 第十三条,
ziyang 第九条(三)). A bad value re-shows the form with a message on that field (or the form's own for a
missing policy value) and writes nothing — no payment, no prepayment, no refund, no ledger entry; no HTTP 500."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from contributions.models import Payment
from funds import prepayment
from funds.models import ContributionRefund, JournalEntry, Prepayment
from policy.models import Jurisdiction, ReferenceStatistic
from tests.test_claims import make_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

LONG = "长" * 300


@pytest.fixture
def objects(db):
    hunan = Jurisdiction.objects.get(code="hunan")
    for key, value in (("reference_monthly_wage", "6789.41"), ("national_life_expectancy", "78.6")):
        ReferenceStatistic.objects.create(
            jurisdiction=hunan, key=key, effective_from=date(2023, 1, 1), period_label="测试", value=Decimal(value)
        )
    person = make_person("hunan", category="flexible", covered_from=None)
    held = prepayment.flexible_prepay(
        person=person, jurisdiction="hunan", year=2025, paid_on=date(2024, 12, 1), reference="YJ-HELD"
    )
    other = make_person("hunan", category="flexible", covered_from=None)
    return {"person": person, "other": other, "hunan": hunan, "held": held}


def _valid(form: str, o) -> dict[str, str]:
    j = str(o["hunan"].pk)
    return {
        "prepay": {
            "person": str(o["other"].pk),
            "jurisdiction": j,
            "kind": "flexible_annual",
            "year": "2025",
            "ground": "",
            "paid_on": "2024-12-31",
            "paid_from": "bank",
            "reference": "YJ-OK-1",
        },
        "refund": {
            "person": str(o["person"].pk),
            "jurisdiction": j,
            "kind": "prepaid_remainder",
            "prepayment": str(o["held"].pk),
            "ground": "employment",
            "event_on": "2025-03-10",
            "refunded_on": "2025-03-15",
        },
    }[form]


FORMS = {
    "prepay": ("admin:funds_prepayment_add", Prepayment),
    "refund": ("admin:funds_contributionrefund_add", ContributionRefund),
}

FORM_ERRORS = [
    ("prepay", "year", "2026"),  # only the next year (hunan 第十三条)
    ("prepay", "year", ""),
    ("prepay", "year", "99999"),
    ("prepay", "year", "二〇二五"),
    ("prepay", "paid_on", "2025-01-01"),  # 1 January: too late for 2025
    ("prepay", "paid_on", "1900-01-01"),
    ("prepay", "paid_on", "2024-02-30"),
    ("prepay", "reference", "=1+1"),
    ("prepay", "reference", ""),
    ("prepay", "reference", LONG),
    ("prepay", "kind", "lottery"),
    ("prepay", "paid_from", "personal_account"),  # the basic contribution is not taken from the account
    ("prepay", "paid_from", "cash"),
    ("prepay", "person", "999999"),
    ("prepay", "person", "PERSON"),  # prepaid already for 2025: overlap
    ("prepay", "ground", "lottery"),
    ("refund", "prepayment", ""),
    ("refund", "prepayment", "999999"),
    ("refund", "person", "OTHER"),  # the prepayment is another person's
    ("refund", "event_on", "2025-12-15"),  # in the last prepaid month: nothing left
    ("refund", "event_on", "2025-03-16"),  # after the refund date
    ("refund", "event_on", "not a date"),
    ("refund", "refunded_on", "1900-01-01"),
    ("refund", "ground", "holiday"),
    ("refund", "kind", "before_benefit_period"),  # hunan has no such rule: the missing key is named
]


# where the refusal lands when it is not on the field changed
ON_FIELD = {("prepay", "paid_on", "2025-01-01"): "year", ("refund", "person", "OTHER"): "prepayment"}


def _post(admin_client, form: str, data: dict[str, str]):
    url_name, model = FORMS[form]
    counts = (model.objects.count(), JournalEntry.objects.count(), Payment.objects.count())
    response = admin_client.post(reverse(url_name), data)
    assert response.status_code != 500
    after = (model.objects.count(), JournalEntry.objects.count(), Payment.objects.count())
    return response, tuple(b - a for a, b in zip(counts, after, strict=True))


def _value(value: str, objects) -> str:
    return {"PERSON": str(objects["person"].pk), "OTHER": str(objects["other"].pk)}.get(value, value)


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
@pytest.mark.parametrize(
    ("form", "field", "value"), FORM_ERRORS, ids=[f"{f}-{fl}-{i}" for i, (f, fl, _) in enumerate(FORM_ERRORS)]
)
def test_bad_value_is_refused_on_its_field(admin_client, objects, form, field, value):
    response, written = _post(admin_client, form, {**_valid(form, objects), field: _value(value, objects)})
    assert response.status_code == 200, "re-shown, not saved"
    form_obj = response.context["adminform"].form
    on = ON_FIELD.get((form, field, value), field)
    assert form_obj.errors.get(on) or form_obj.non_field_errors(), form_obj.errors
    assert written == (0, 0, 0)
    held = Payment.objects.get(reference="YJ-HELD")
    assert (held.unapplied_amount, held.refunded_amount) == (Decimal("4090.68"), 0)


@pytest.mark.bad_input(area="admin_form", outcome="accepted")
@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_valid_form_is_accepted(admin_client, objects, form):
    response, written = _post(admin_client, form, _valid(form, objects))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert written[0] == 1
    if form == "refund":  # March 10: April–December back, 9 × 325.89
        refund = ContributionRefund.objects.get()
        assert (refund.months, refund.amount) == (9, Decimal("2933.01"))


def test_the_notice_shows_the_bill_and_the_auditor_reads_it(admin_client, objects):
    url = reverse("admin:funds_prepayment_change", args=[objects["held"].pk])
    page = admin_client.get(url).content.decode()
    assert "预缴通知" in page and "4090.68" in page and "hunan 第十三条" in page and "2025年01月 起 12 个月" in page
