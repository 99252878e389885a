"""Bad-input corpus, issue #15 admin forms: 居民参保户, 户内成员参保登记 (members, newborns), 居民医保基金收入登记.
A bad value re-shows the form with a message on that field (or the form's own) and writes nothing; no HTTP 500."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from enrollment.models import EnrolmentSpan, Household, HouseholdMember
from enrollment.residents import services as rs
from funds.models import JournalEntry, ResidentFundReceipt
from operations.demo.population import id_number
from policy.models import Jurisdiction

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

LONG = "长" * 300
SMX = "411202"
TODAY = timezone.localdate()
NEXT_YEAR = f"{TODAY.year + 1}-01-01"
REGISTERED = f"{TODAY - timedelta(days=30):%Y-%m-%d}"
HEAD = id_number(SMX, date(1980, 1, 1), 31, True)
CHILD = id_number(SMX, date(2019, 1, 1), 32, False)
OLD_NEWBORN = id_number(SMX, TODAY - timedelta(days=120), 33, True)  # registered 120 days after birth


@pytest.fixture
def objects(db):
    smx = Jurisdiction.objects.get(code="sanmenxia")
    household = rs.household_register(
        jurisdiction=smx,
        head_id_number=id_number(SMX, date(1970, 1, 1), 30, True),
        head_name="户主甲",
        kind="rural",
        start=date(TODAY.year + 1, 1, 1),
        registered_on=TODAY - timedelta(days=60),
    )
    return {"smx": smx, "household": household}


def _valid(form: str, o) -> dict[str, str]:
    return {
        "household": {
            "jurisdiction": str(o["smx"].pk),
            "head_id_number": HEAD,
            "head_name": "户主乙",
            "phone": "",
            "kind": "urban_non_working",
            "start": NEXT_YEAR,
            "study_jurisdiction": "",
            "address": "湖滨区",
            "registered_on": REGISTERED,
        },
        "member": {
            "household": str(o["household"].pk),
            "id_number": CHILD,
            "name": "孩子",
            "relation": "child",
            "kind": "preschool",
            "start": NEXT_YEAR,
            "study_jurisdiction": "",
            "parents_insured": "",
            "joined_on": REGISTERED,
        },
        "receipt": {
            "jurisdiction": str(o["smx"].pk),
            "kind": "subsidy_provincial",
            "year": str(TODAY.year),
            "amount": "1000.00",
            "received_on": REGISTERED,
            "reference": "豫财社-1",
            "note": "",
        },
    }[form]


FORMS = {
    "household": ("admin:enrollment_household_add", Household),
    "member": ("admin:enrollment_householdmember_add", HouseholdMember),
    "receipt": ("admin:funds_residentfundreceipt_add", ResidentFundReceipt),
}

FORM_ERRORS = [
    ("household", "head_id_number", HEAD[:-1] + ("0" if HEAD[-1] != "0" else "1")),  # checksum
    ("household", "head_id_number", "' OR 1=1 --"),
    ("household", "head_name", LONG),
    ("household", "kind", "alien"),
    ("household", "kind", "newborn"),  # a newborn is registered as a member (第三十八条)
    ("household", "start", f"{TODAY.year + 3}-01-01"),  # beyond the next benefit year
    ("household", "start", "1900-01-01"),
    ("household", "registered_on", "2099-01-01"),
    ("household", "registered_on", "2024-02-30"),
    ("household", "study_jurisdiction", "nowhere"),
    ("member", "household", "999999"),
    ("member", "relation", "head"),
    ("member", "relation", "cousin"),
    ("member", "kind", "newborn"),  # no parents_insured given
    ("member", "start", ""),  # a member other than a newborn needs a start
    ("member", "id_number", id_number(SMX, date(1970, 1, 1), 30, True)),  # the head, already a member
    ("member", "name", LONG),
    ("member", "joined_on", "2099-01-01"),
    ("receipt", "amount", "-5"),
    ("receipt", "amount", "0"),
    ("receipt", "amount", "abc"),
    ("receipt", "amount", "12.345"),
    ("receipt", "amount", "1e400"),
    ("receipt", "received_on", "2099-01-01"),
    ("receipt", "year", "1999"),
    ("receipt", "year", "99999"),
    ("receipt", "kind", "gift"),
    ("receipt", "reference", ""),
    ("receipt", "reference", "x" * 100),
]


def _post(admin_client, form: str, data: dict[str, str]):
    url_name, model = FORMS[form]
    before = (model.objects.count(), JournalEntry.objects.count(), EnrolmentSpan.objects.count())
    response = admin_client.post(reverse(url_name), data)
    assert response.status_code != 500
    after = (model.objects.count(), JournalEntry.objects.count(), EnrolmentSpan.objects.count())
    return response, [a - b for a, b in zip(after, before, strict=True)]


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
@pytest.mark.parametrize(
    ("form", "field", "value"), FORM_ERRORS, ids=[f"{f}-{fl}-{i}" for i, (f, fl, _) in enumerate(FORM_ERRORS)]
)
def test_bad_value_is_refused_on_its_field(admin_client, objects, form, field, value):
    response, written = _post(admin_client, form, {**_valid(form, objects), field: value})
    assert response.status_code == 200, "re-shown, not saved"
    form_obj = response.context["adminform"].form
    assert form_obj.errors.get(field) or form_obj.non_field_errors() or form_obj.errors, form_obj.errors
    assert written == [0, 0, 0]


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
def test_late_newborn_of_parents_insured_elsewhere_is_refused_citing_the_article(admin_client, objects):
    """第三十八条: 90天内办理参保登记 — registered 120 days after birth is refused, nothing written."""
    data = {**_valid("member", objects), "id_number": OLD_NEWBORN, "kind": "newborn", "parents_insured": "elsewhere"}
    data["joined_on"] = f"{TODAY:%Y-%m-%d}"
    response, written = _post(admin_client, "member", data)
    errors = response.context["adminform"].form.errors
    assert "sanmenxia 第三十八条" in str(errors["parents_insured"]) and written == [0, 0, 0]


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
def test_student_outside_the_place_of_study_is_refused(admin_client, objects):
    data = {**_valid("member", objects), "kind": "student", "study_jurisdiction": "hunan"}
    response, written = _post(admin_client, "member", data)
    assert "第二十九条" in str(response.context["adminform"].form.errors) and written == [0, 0, 0]


@pytest.mark.bad_input(area="admin_form", outcome="accepted")
@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_valid_form_is_accepted(admin_client, objects, form):
    response, written = _post(admin_client, form, _valid(form, objects))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert written[0] == 1


def test_auditor_cannot_add(client, objects, django_user_model):
    from enrollment.roles import AUDITOR
    from tests.conftest import make_user

    client.force_login(make_user("t_auditor_r", AUDITOR))
    for form, (url_name, model) in FORMS.items():
        before = model.objects.count()
        response = client.post(reverse(url_name), _valid(form, objects))
        assert response.status_code == 403 and model.objects.count() == before
