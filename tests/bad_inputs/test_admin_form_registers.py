"""Bad-input corpus, admin forms of issue #17: 异地就医备案, 门诊慢特病认定, 家庭共济绑定, 个人账户支付, 余额支付本人.
A bad value re-shows the form with a message on that field and writes nothing; no HTTP 500. One line per case."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from benefits.registers.models import ChronicCertification, OutOfAreaFiling
from funds.models import AccountPayout, AccountUse, FamilyBinding, JournalEntry
from operations.demo.population import id_number
from policy.models import Jurisdiction
from tests.policy_support import staff_enter
from tests.test_claims import make_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

LONG = "长" * 300
CHILD = id_number("430102", date(2012, 6, 1), 91, False)


@pytest.fixture
def objects(db):
    staff_enter(
        "hunan",
        {"registers.chronic_disease_catalogue": [{"code": "HN-01", "name": "糖尿病"}]},
        effective_from=date(2023, 1, 1),
        document="测试目录",
    )
    return {"person": make_person("hunan"), "hunan": Jurisdiction.objects.get(code="hunan")}


def _valid(form: str, o) -> dict[str, str]:
    p, j = str(o["person"].pk), str(o["hunan"].pk)
    return {
        "filing": {
            "person": p,
            "jurisdiction": j,
            "kind": "long_term",
            "place": "广州市",
            "filed_on": "2024-01-01",
            "start": "2024-01-01",
            "end": "",
            "note": "",
        },
        "certification": {
            "person": p,
            "jurisdiction": j,
            "disease_code": "HN-01",
            "disease_class": "",
            "applied_on": "2024-01-01",
            "note": "",
        },
        "binding": {
            "holder": p,
            "jurisdiction": j,
            "member_name": "小明",
            "member_id_number": CHILD,
            "relationship": "child",
            "proof": "户口簿",
            "start": "2024-01-01",
        },
        "use": {
            "holder": p,
            "jurisdiction": j,
            "purpose": "fitness",
            "binding": "",
            "amount": "10.00",
            "used_on": "2024-06-01",
        },
        "payout": {
            "holder": p,
            "jurisdiction": j,
            "ground": "special_circumstances",
            "bank_name": "测试银行",
            "bank_account": "6222000011112222",
            "paid_on": "2024-06-01",
        },
    }[form]


FORMS = {
    "filing": ("admin:registers_outofareafiling_add", OutOfAreaFiling),
    "certification": ("admin:registers_chroniccertification_add", ChronicCertification),
    "binding": ("admin:funds_familybinding_add", FamilyBinding),
    "use": ("admin:funds_accountuse_add", AccountUse),
    "payout": ("admin:funds_accountpayout_add", AccountPayout),
}

FORM_ERRORS = [
    ("filing", "person", "999999"),
    ("filing", "kind", "forever"),
    ("filing", "place", LONG),
    ("filing", "start", "2024-02-30"),
    ("filing", "start", "2023-12-01"),  # before the application: hunan gives no retro-filing (missing value)
    ("filing", "end", "2023-06-01"),  # before the start
    ("certification", "disease_code", "NOPE"),  # not in the catalogue
    ("certification", "disease_class", "2"),  # hunan 第四十六条: no classes
    ("certification", "disease_class", "-1"),
    ("certification", "applied_on", "not a date"),
    ("binding", "member_id_number", CHILD[:-1]),
    ("binding", "member_id_number", "' OR 1=1 --"),
    ("binding", "relationship", "cousin"),
    ("binding", "relationship", "parent"),  # the member is younger than the holder
    ("binding", "proof", ""),
    ("binding", "member_name", LONG),
    ("use", "amount", "-5"),
    ("use", "amount", "abc"),
    ("use", "amount", "12.345"),
    ("use", "amount", "1e400"),
    ("use", "purpose", "lottery"),
    ("use", "binding", "999999"),
    ("payout", "bank_account", "12ab"),
    ("payout", "bank_account", "1" * 40),
    ("payout", "ground", "emigration"),  # hunan 第四十四条 gives special circumstances only
    ("payout", "paid_on", "1900-02-30"),
]


def _post(admin_client, form: str, data: dict[str, str]):
    url_name, model = FORMS[form]
    before, entries = model.objects.count(), JournalEntry.objects.count()
    response = admin_client.post(reverse(url_name), data)
    assert response.status_code != 500
    return response, model.objects.count() - before, JournalEntry.objects.count() - entries


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
@pytest.mark.parametrize(
    ("form", "field", "value"), FORM_ERRORS, ids=[f"{f}-{fl}-{i}" for i, (f, fl, _) in enumerate(FORM_ERRORS)]
)
def test_bad_value_is_refused_on_its_field(admin_client, objects, form, field, value):
    response, written, posted = _post(admin_client, form, {**_valid(form, objects), field: value})
    assert response.status_code == 200, "re-shown, not saved"
    form_obj = response.context["adminform"].form
    assert form_obj.errors.get(field) or form_obj.non_field_errors(), form_obj.errors
    assert written == 0 and posted == 0


@pytest.mark.bad_input(area="admin_form", outcome="accepted")
@pytest.mark.parametrize("form", sorted(set(FORMS) - {"payout"}))
def test_the_valid_form_is_accepted(admin_client, objects, form):
    response, written, _ = _post(admin_client, form, _valid(form, objects))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert written == 1
