"""Bad-input corpus: the 第三人责任先行支付 screens (hunan 第三十五条). The application form and the action forms
(追偿到账, 申请核销, 办理日期) re-show with a message on the field and change nothing; never an HTTP 500."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from benefits.claims.models import ThirdPartyAction, ThirdPartyCase
from benefits.claims.third_party import services
from tests.test_third_party import CAUSE, _claim, _settled

pytestmark = pytest.mark.django_db

ADD = "admin:claims_thirdpartycase_add"
LIST = "admin:claims_thirdpartycase_changelist"


@pytest.fixture
def claim(person_factory, employer_a):
    return _claim(person_factory(employer=employer_a), key="BAD-1")


def _valid(claim) -> dict[str, str]:
    return {"claim": str(claim.pk), "applied_on": "2024-03-06", "reason": "unknown", "third_party": "", "cause": CAUSE}


APPLY_ERRORS = [
    ("claim", "999999"),
    ("claim", "abc"),
    ("applied_on", "2024-02-30"),
    ("applied_on", "2999-01-01"),
    ("applied_on", "2024-02-29"),  # before the stay began (2024-03-01)
    ("reason", "bribe"),
    ("cause", ""),
    ("cause", "长" * 1001),
    ("third_party", "名" * 101),
]


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
@pytest.mark.parametrize(("field", "value"), APPLY_ERRORS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(APPLY_ERRORS)])
def test_bad_application_is_refused_on_its_field(admin_client, claim, field, value):
    response = admin_client.post(reverse(ADD), {**_valid(claim), field: value})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.get(field), response.context["adminform"].form.errors
    assert not ThirdPartyCase.objects.exists()


@pytest.mark.bad_input(area="admin_form", outcome="accepted")
def test_the_valid_application_is_accepted(admin_client, claim):
    response = admin_client.post(reverse(ADD), _valid(claim))
    assert response.status_code == 302 and ThirdPartyCase.objects.get().state == "applied"


@pytest.fixture
def recovering(person_factory, employer_a):
    claim = _settled(person_factory(employer=employer_a), key="BAD-2")
    case = services.case_apply(claim=claim, applied_on=date(2024, 3, 6), reason="unknown", cause=CAUSE)
    case = services.case_investigate(case, found_true=True, finding="属实", on=date(2024, 3, 6))
    return services.case_advance(case, on=date(2024, 3, 7))


RECOVER_ERRORS = [
    ("amount", "-5"),
    ("amount", "0"),
    ("amount", "abc"),
    ("amount", "1e400"),
    ("amount", "12.345"),
    ("amount", "999999999999999.99"),
    ("reference", ""),
    ("reference", "R" * 100),
    ("on", "2024-13-01"),
    ("on", "2999-01-01"),
    ("on", "1900-01-01"),
]


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
@pytest.mark.parametrize(
    ("field", "value"), RECOVER_ERRORS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(RECOVER_ERRORS)]
)
def test_bad_recovery_is_refused_on_its_field(admin_client, recovering, field, value):
    data = {"amount": "100.00", "reference": "HK-1", "on": "2024-05-01", field: value}
    before = ThirdPartyAction.objects.count()
    response = admin_client.post(
        reverse(LIST), {"action": "recover", "_selected_action": [recovering.pk], "apply": "1", **data}
    )
    assert response.status_code == 200 and response.context["form"].errors.get(field)
    assert ThirdPartyAction.objects.count() == before


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
def test_recovery_over_the_outstanding_amount_changes_nothing(admin_client, recovering):
    response = admin_client.post(
        reverse(LIST),
        {"action": "recover", "_selected_action": [recovering.pk], "apply": "1", "amount": "800.01",
         "reference": "HK-1", "on": "2024-05-01"},
    )  # fmt: skip
    assert response.status_code == 302  # back to the list with the refusal as a message
    recovering.refresh_from_db()
    assert recovering.recovered == D(0) and recovering.state == "recovering"
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("超过" in m for m in messages)


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
def test_write_off_without_reason_is_refused(admin_client, recovering):
    response = admin_client.post(
        reverse(LIST),
        {"action": "request_write_off", "_selected_action": [recovering.pk], "apply": "1", "reason": "",
         "on": "2024-05-01"},
    )  # fmt: skip
    assert response.status_code == 200 and response.context["form"].errors.get("reason")
    recovering.refresh_from_db()
    assert recovering.state == "recovering"
