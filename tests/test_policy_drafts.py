"""政策草案 (issue #18 item 4): proposed dated values that change nothing until a second administrator
publishes them; the resolver reads "production + draft" without writing; scenario runs against a draft."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from policy.drafts import areas_touched, comparison, draft_from_values, draft_overlay_of, draft_publish, draft_withdraw
from policy.models import DraftStatus, PolicyDraft, PolicyParameter, ScenarioRun
from policy.resolver import Policy, draft_overlay
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

KEY = "contribution.employer_rate_pct"  # hunan 第十条: 8 % in force


def _draft(user=None, value="9", on=date(2025, 1, 1)) -> PolicyDraft:
    return draft_from_values(
        "单位费率上调",
        [{"jurisdiction": "hunan", "key": KEY, "effective_from": on, "value": value, "citation": "测试 第十条"}],
        user=user,
    )


def test_draft_changes_nothing_until_published_and_overlay_reads_it(case_worker):
    before = Policy("hunan", date(2025, 3, 1)).decimal(KEY)
    draft = _draft(case_worker)
    assert Policy("hunan", date(2025, 3, 1)).decimal(KEY) == before  # production unchanged
    with draft_overlay(draft_overlay_of(draft)):
        assert Policy("hunan", date(2025, 3, 1)).decimal(KEY) == Decimal(9)
        assert Policy("hunan", date(2024, 12, 31)).decimal(KEY) == before  # before the draft's date
    assert Policy("hunan", date(2025, 3, 1), overlay=draft_overlay_of(draft)).decimal(KEY) == Decimal(9)
    assert not PolicyParameter.objects.filter(key=KEY, effective_from=date(2025, 1, 1)).exists()


def test_value_checked_against_catalog():
    with pytest.raises(ValidationError):
        _draft(value="abc")
    with pytest.raises(ValidationError):
        _draft(value="250")  # a percent above 100


def test_comparison_shows_current_and_proposed(case_worker):
    row = comparison(_draft(case_worker))[0]
    assert (row.key, row.proposed, row.current, row.changed, row.is_new_key) == (KEY, "9", "8", True, False)
    assert row.label and row.unit == "%"


def test_author_cannot_publish_second_admin_can(admin_user):
    other = make_user("t_admin2", "经办管理员")
    draft = _draft(admin_user)
    with pytest.raises(ValidationError):
        draft_publish(draft, admin_user)  # 双人复核: not the author
    assert draft_publish(draft, other) == 1
    row = PolicyParameter.objects.get(jurisdiction__code="hunan", key=KEY, effective_from=date(2025, 1, 1))
    assert row.value == "9" and row.citation == "测试 第十条"
    assert row.history.latest().history_user == other
    assert Policy("hunan", date(2025, 3, 1)).decimal(KEY) == Decimal(9)
    draft.refresh_from_db()
    assert (draft.status, draft.published_by) == (DraftStatus.PUBLISHED, other)
    with pytest.raises(ValidationError):
        draft_publish(draft, other)  # once


def test_case_worker_cannot_publish(case_worker, admin_user):
    with pytest.raises(PermissionDenied):
        draft_publish(_draft(admin_user), case_worker)


def test_withdrawn_draft_is_never_published(case_worker, admin_user):
    draft = _draft(case_worker)
    draft_withdraw(draft, case_worker)
    with pytest.raises(ValidationError):
        draft_publish(draft, admin_user)
    assert draft.status == DraftStatus.WITHDRAWN
    assert not PolicyParameter.objects.filter(key=KEY, effective_from=date(2025, 1, 1)).exists()


def test_areas_touched():
    assert areas_touched({KEY}) == {"contributions"}
    assert areas_touched({"inpatient.deductible_by_level"}) == {"benefits"}
    assert "accounts" in areas_touched({"accounts.employer_share_by_age"})


def test_admin_pages_publish_by_second_admin(client, case_worker, admin_user):
    draft = _draft(case_worker)
    client.force_login(admin_user)
    page = client.get(reverse("admin:policy_policydraft_compare", args=[draft.pk]))
    assert (
        page.status_code == 200
        and "单位" in page.content.decode()
        and "发布（写入现行政策参数）" in page.content.decode()
    )
    client.post(reverse("admin:policy_policydraft_publish", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == DraftStatus.PUBLISHED


def test_admin_author_sees_no_publish_button(client, admin_user):
    draft = _draft(admin_user)
    client.force_login(admin_user)
    page = client.get(reverse("admin:policy_policydraft_compare", args=[draft.pk])).content.decode()
    assert "双人复核" in page
    client.post(reverse("admin:policy_policydraft_publish", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == DraftStatus.DRAFT


SCENARIO = """- name: 湖南 单位费率
  jurisdiction: hunan
  "on": 2025-03-01
  calculation: contribution
  stats: {reference_monthly_wage: 7000}
  input: {category: employee, monthly_wage: 8000}
  output: {employer: 720}
"""


def test_scenario_run_against_draft_in_admin_and_api(client, case_worker):
    draft = _draft(case_worker)
    client.force_login(case_worker)
    client.post(reverse("admin:policy_scenariorun_add"), {"text": SCENARIO, "draft": draft.pk})
    run = ScenarioRun.objects.latest("id")
    assert (run.draft, run.passed) == (draft, 1)  # 8000 × 9 % = 720 under the draft
    response = client.post("/api/scenario-runs/", {"yaml": SCENARIO}, content_type="application/json")
    assert response.status_code == 201 and response.json()["failed"] == 1  # 640 in production
    response = client.post(
        "/api/scenario-runs/", {"yaml": SCENARIO, "draft": draft.pk}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["passed"] == 1
