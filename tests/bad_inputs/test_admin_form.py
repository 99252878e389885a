"""Bad-input corpus, admin forms (issue #12 item 8): person, employer, policy parameter, deferral and payment
add forms. A bad value re-shows the form with a message on that field and saves nothing; no HTTP 500; no
file left in MEDIA_ROOT. One line per case."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from contributions.models import Deferral, Payment
from enrollment.models import Employer, InsuredPerson
from operations.demo.population import credit_code, id_number
from policy.models import Jurisdiction, PolicyParameter

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

LONG = "长" * 300
VALID_ID = id_number("430102", date(1990, 4, 1), 77, True)
WRONG_CHECK = VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1")
MONTH_13 = VALID_ID[:10] + "13" + VALID_ID[12:]


@pytest.fixture
def objects(person_factory, employer_a):
    return {"person": person_factory(employer=employer_a), "employer": employer_a}


def _valid(form: str, objects) -> dict[str, str]:
    """A POST that the form accepts; each case changes one field of it."""
    today = date.today().isoformat()
    return {
        "person": {
            "id_number": VALID_ID,
            "name": "张三",
            "female_role": "",
            "phone": "13800000000",
            "address": "长沙市",
            **{f"{inline}-{n}_FORMS": "0" for inline in ("spans", "events") for n in ("TOTAL", "INITIAL")},
        },
        "employer": {
            "credit_code": credit_code("430102", 99),
            "name": "丙公司",
            "jurisdiction": str(Jurisdiction.objects.get(code="hunan").pk),
            "kind": "enterprise",
            "management_type": "01",
            "scheme": "combined",
            "registered_on": "2020-01-01",
            "status": "2",
            "payment_frequency": "monthly",
            "contact_name": "",
            "contact_phone": "",
            "address": "",
        },
        "parameter": {
            "jurisdiction": str(Jurisdiction.objects.get(code="hunan").pk),
            "key": "contribution.due_day",
            "effective_from": "2030-01-01",
            "value": "15",
            "citation": "经办决定（测试）",
            "decision": "",
            "note": "",
        },
        "deferral": {
            "employer": str(objects["employer"].pk),
            "start": "2024-03-01",
            "end": "2024-06-01",
            "approved_on": "2024-02-20",
            "citation": "经办决定（测试）",
            "note": "",
        },
        "payment": {
            "person": str(objects["person"].pk),
            "amount": "100.00",
            "paid_on": today,
            "reference": "T-0001",
        },
    }[form]


FORMS = {
    "person": ("admin:enrollment_insuredperson_add", InsuredPerson),
    "employer": ("admin:enrollment_employer_add", Employer),
    "parameter": ("admin:policy_policyparameter_add", PolicyParameter),
    "deferral": ("admin:contributions_deferral_add", Deferral),
    "payment": ("admin:contributions_payment_add", Payment),
}

# (form, field, value) — the value makes that field wrong
FORM_ERRORS = [
    ("person", "id_number", VALID_ID[:-1]),  # 17 characters
    ("person", "id_number", WRONG_CHECK),
    ("person", "id_number", MONTH_13),
    ("person", "id_number", "' OR 1=1 --"),
    ("person", "id_number", ""),
    ("person", "name", ""),
    ("person", "name", LONG),
    ("person", "phone", "1" * 40),
    ("person", "address", LONG),
    ("employer", "credit_code", ""),
    ("employer", "credit_code", "X" * 40),
    ("employer", "name", LONG),
    ("employer", "registered_on", "2024-02-30"),
    ("employer", "registered_on", "not a date"),
    ("employer", "jurisdiction", "999999"),
    ("employer", "kind", "pirate"),
    ("employer", "payment_frequency", "hourly"),
    ("employer", "contact_phone", "9" * 40),
    ("parameter", "key", "no.such.key"),
    ("parameter", "value", "{not json"),
    ("parameter", "effective_from", ""),
    ("parameter", "citation", ""),
    ("parameter", "citation", LONG),
    ("deferral", "employer", "999999"),
    ("deferral", "employer", "abc"),
    ("deferral", "start", "2024-13-01"),
    ("deferral", "citation", LONG),
    ("payment", "person", "999999"),
    ("payment", "person", "1; DROP TABLE x"),
    ("payment", "amount", "-5"),
    ("payment", "amount", "abc"),
    ("payment", "amount", "1e400"),
    ("payment", "amount", "12.345"),
    ("payment", "amount", "999999999999999.99"),
    ("payment", "paid_on", "1900-02-30"),
    ("payment", "reference", "R" * 100),
]


def _media_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _post(admin_client, form: str, data: dict[str, str]):
    url_name, model = FORMS[form]
    before, files = model.objects.count(), _media_files()
    response = admin_client.post(reverse(url_name), data)
    assert response.status_code != 500
    return response, model.objects.count() - before, _media_files() - files


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
@pytest.mark.parametrize(
    ("form", "field", "value"), FORM_ERRORS, ids=[f"{f}-{fl}-{i}" for i, (f, fl, _) in enumerate(FORM_ERRORS)]
)
def test_bad_value_is_refused_on_its_field(admin_client, objects, form, field, value):
    data = {**_valid(form, objects), field: value}
    response, written, new_files = _post(admin_client, form, data)
    assert response.status_code == 200, "re-shown, not saved"
    errors = response.context["adminform"].form.errors
    assert errors.get(field), errors  # the message is on the field
    assert written == 0 and not new_files


@pytest.mark.bad_input(area="admin_form", outcome="accepted")
@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_valid_form_is_accepted(admin_client, objects, form):
    response, written, new_files = _post(admin_client, form, _valid(form, objects))
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    assert written == 1 and not new_files
