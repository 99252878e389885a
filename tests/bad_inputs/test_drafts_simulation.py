"""Bad-input corpus, policy drafts and simulations (issue #18 items 4–5): a bad value re-shows the form with a
message on that field (or row of the draft's values) and saves nothing; no HTTP 500. One line per case."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from operations.models import Simulation
from policy.drafts import draft_from_values
from policy.models import Jurisdiction, PolicyDraft, PolicyDraftValue, ScenarioRun

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

LONG = "长" * 300


def _draft_post(**value) -> dict[str, str]:
    row = {
        "jurisdiction": str(Jurisdiction.objects.get(code="hunan").pk),
        "key": "contribution.employer_rate_pct",
        "effective_from": "2025-01-01",
        "value": "9",
        "citation": "hunan 第十一条（草案）",
        "decision": "",
        "note": "",
        **value,
    }
    return {
        "name": value.pop("name", "费率草案") if "name" in value else "费率草案",
        "description": "",
        "values-TOTAL_FORMS": "1",
        "values-INITIAL_FORMS": "0",
        "values-MIN_NUM_FORMS": "0",
        "values-MAX_NUM_FORMS": "1000",
        **{f"values-0-{k}": v for k, v in row.items() if k != "name"},
    }


# (field, value): the value makes that field of the draft's first value row wrong
VALUE_ERRORS = [
    ("key", "no.such.key"),
    ("key", ""),
    ("value", "{not json"),
    ("value", '"abc"'),
    ("value", "250"),  # a percent above 100
    ("value", "-1"),
    ("value", "0.09"),  # 1/89 of the 8 % in force: the scale check asks for confirmation
    ("effective_from", "2025-02-30"),
    ("effective_from", ""),
    ("citation", ""),
    ("citation", LONG),
    ("jurisdiction", "999999"),
]


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
@pytest.mark.parametrize(("field", "value"), VALUE_ERRORS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(VALUE_ERRORS)])
def test_bad_draft_value_is_refused_on_its_row_and_field(admin_client, field, value):
    response = admin_client.post(reverse("admin:policy_policydraft_add"), _draft_post(**{field: value}))
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[0].errors.get(field), formset.errors
    assert not PolicyDraft.objects.exists() and not PolicyDraftValue.objects.exists()


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
@pytest.mark.parametrize("name", ["", LONG])
def test_bad_draft_name_is_refused(admin_client, name):
    data = {**_draft_post(), "name": name}
    response = admin_client.post(reverse("admin:policy_policydraft_add"), data)
    assert response.status_code == 200 and response.context["adminform"].form.errors.get("name")
    assert not PolicyDraft.objects.exists()


@pytest.mark.bad_input(area="admin_form", outcome="accepted")
def test_valid_draft_is_accepted_and_scale_confirmation_lets_it_through(admin_client):
    assert admin_client.post(reverse("admin:policy_policydraft_add"), _draft_post()).status_code == 302
    data = _draft_post(value="0.09", confirm_scale="on")
    assert admin_client.post(reverse("admin:policy_policydraft_add"), data).status_code == 302
    assert PolicyDraftValue.objects.count() == 2


@pytest.fixture
def open_draft(admin_user):
    return draft_from_values(
        "草案",
        [
            {
                "jurisdiction": "hunan",
                "key": "contribution.employer_rate_pct",
                "effective_from": date(2024, 1, 1),
                "value": "9",
                "citation": "测试",
            }
        ],
        user=admin_user,
    )


# (field, value) for the simulation form
SIMULATION_ERRORS = [
    ("period_start", "2024-01-15"),  # not the 1st of a month
    ("period_start", "2024-13-01"),
    ("period_start", ""),
    ("period_end", "2023-12-01"),  # before the start
    ("period_end", "2099-01-01"),  # not yet past
    ("period_end", "not a date"),
    ("draft", "999999"),
    ("draft", "abc"),
    ("jurisdiction", "999999"),
]


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
@pytest.mark.parametrize(
    ("field", "value"), SIMULATION_ERRORS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(SIMULATION_ERRORS)]
)
def test_bad_simulation_input_is_refused(admin_client, open_draft, field, value):
    data = {"draft": str(open_draft.pk), "period_start": "2024-01-01", "period_end": "2025-01-01", field: value}
    response = admin_client.post(reverse("admin:operations_simulation_add"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors.get(field) or form.non_field_errors(), form.errors
    assert not Simulation.objects.exists()


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
def test_simulation_of_too_long_a_period_is_refused(admin_client, open_draft):
    data = {"draft": str(open_draft.pk), "period_start": "2014-01-01", "period_end": "2025-01-01"}
    response = admin_client.post(reverse("admin:operations_simulation_add"), data)
    assert response.status_code == 200 and "60" in str(response.context["form"].non_field_errors())
    assert not Simulation.objects.exists()


@pytest.mark.bad_input(area="api", outcome="form_error")
@pytest.mark.parametrize("draft", [999999, "abc", -1])
def test_scenario_run_api_refuses_an_unknown_draft(admin_client, draft):
    response = admin_client.post(
        "/api/scenario-runs/", {"yaml": "- name: x\n", "draft": draft}, content_type="application/json"
    )
    assert response.status_code == 400 and "draft" in response.json()
    assert not ScenarioRun.objects.exists()
