"""Scenario runs in the admin and the API (issue #18 item 3): an analyst uploads or pastes a scenario file,
runs it against the policy in force and reads each case's result; runs are kept with who and when."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from policy.models import ScenarioRun
from policy.scenarios import MAX_CASES, MAX_TEXT_BYTES, ScenarioTextError, parse_text, results_json, run_text

pytestmark = pytest.mark.django_db

CASES = """
- name: 湖南 1000 元逾期 20 天
  jurisdiction: hunan
  "on": 2024-04-20
  calculation: late_fee
  input: {amount: 1000, due_date: 2024-03-31, paid_on: 2024-04-20}
  output: {days: 20, late_fee: 10.00}
- name: 湖南 期望值写错
  jurisdiction: hunan
  "on": 2024-04-20
  calculation: late_fee
  input: {amount: 1000, due_date: 2024-03-31, paid_on: 2024-04-20}
  output: {days: 20, late_fee: 11.00}
- name: 湖南 单位费率按情形给定 10%
  jurisdiction: hunan
  "on": 2024-03-01
  calculation: contribution
  stats: {reference_monthly_wage: 7000}
  policy: {contribution.employer_rate_pct: 10}
  input: {category: employee, monthly_wage: 8000}
  output: {employer: 800}
"""

ONE_CASE = """- name: c
  jurisdiction: hunan
  "on": 2024-04-20
  calculation: late_fee
  input: {amount: 1000, due_date: 2024-03-31, paid_on: 2024-04-20}
  output: {days: 20}
"""


# --- the runner on a text --------------------------------------------------------------------------------


def test_run_text_results_per_case():
    data = results_json(run_text(CASES))
    assert (data["passed"], data["failed"]) == (2, 1)
    by_name = {c["name"]: c for c in data["cases"]}
    wrong = by_name["湖南 期望值写错"]
    assert wrong["passed"] is False
    assert wrong["problems"] == ["late_fee: expected 11.00, computed 10.00"]
    assert by_name["湖南 1000 元逾期 20 天"]["computed"] == {"days": 20, "late_fee": "10.00"}
    assert by_name["湖南 单位费率按情形给定 10%"]["passed"] is True  # the policy block is applied


@pytest.mark.parametrize(
    "text, message",
    [
        ("- name: [unclosed", "YAML 格式错误"),
        ("name: not a list", "用例列表"),
        ("", "用例列表"),
        ("- on: 2024-13-45\n", "YAML 格式错误"),
        ("x" * (MAX_TEXT_BYTES + 1), "文件过大"),
        ("- {name: a}\n" * (MAX_CASES + 1), "用例过多"),
    ],
)
def test_texts_that_cannot_run(text, message):
    with pytest.raises(ScenarioTextError, match=message):
        parse_text(text)


def test_the_bounds_themselves_are_allowed():
    assert len(parse_text("- {name: a}\n" * MAX_CASES)) == MAX_CASES


def test_a_bad_case_is_a_failure_not_an_error():
    data = results_json(run_text("- 42\n- {name: x, jurisdiction: hunan}\n"))
    assert data["failed"] == 2 and "用例应为映射" in data["cases"][0]["problems"][0]


# --- the admin -------------------------------------------------------------------------------------------


def test_admin_paste_runs_and_keeps_the_run(client, case_worker):
    client.force_login(case_worker)
    response = client.post(reverse("admin:policy_scenariorun_add"), {"text": CASES})
    run = ScenarioRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:policy_scenariorun_change", args=[run.pk]
    )
    assert (run.ran_by, run.passed, run.failed, run.yaml_text) == (case_worker, 2, 1, CASES)
    page = client.get(response["Location"]).content.decode()
    assert "late_fee: expected 11.00, computed 10.00" in page and "失败" in page
    assert run.file_name in client.get(reverse("admin:policy_scenariorun_changelist")).content.decode()


def test_admin_upload_runs_the_file(client, admin_user):
    client.force_login(admin_user)
    upload = SimpleUploadedFile("late.yaml", ONE_CASE.encode(), content_type="application/x-yaml")
    client.post(reverse("admin:policy_scenariorun_add"), {"file": upload})
    run = ScenarioRun.objects.get()
    assert (run.file_name, run.passed, run.failed) == ("late.yaml", 1, 0)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"text": "- name: [unclosed"}, "YAML 格式错误"),
        ({"text": ""}, "请上传用例文件或粘贴用例"),
        ({"file": SimpleUploadedFile("big.yaml", b"#" * (MAX_TEXT_BYTES + 1))}, "文件过大"),
        ({"file": SimpleUploadedFile("gbk.yaml", "- name: 湖南".encode("gbk"))}, "UTF-8"),
    ],
)
def test_admin_shows_problems_as_a_message(client, admin_user, data, message):
    client.force_login(admin_user)
    response = client.post(reverse("admin:policy_scenariorun_add"), data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not ScenarioRun.objects.exists()


def test_admin_roles(client, auditor, employer_user_a):
    client.force_login(auditor)
    assert client.get(reverse("admin:policy_scenariorun_changelist")).status_code == 200
    assert client.post(reverse("admin:policy_scenariorun_add"), {"text": ONE_CASE}).status_code == 403
    client.force_login(employer_user_a)
    assert client.get(reverse("admin:policy_scenariorun_changelist")).status_code == 403
    assert client.post(reverse("admin:policy_scenariorun_add"), {"text": ONE_CASE}).status_code == 403
    assert not ScenarioRun.objects.exists()


def test_runs_are_never_changed_or_deleted(client, admin_user):
    client.force_login(admin_user)
    client.post(reverse("admin:policy_scenariorun_add"), {"text": ONE_CASE})
    run = ScenarioRun.objects.get()
    change = reverse("admin:policy_scenariorun_change", args=[run.pk])
    assert client.post(change, {"file_name": "x"}).status_code == 403
    assert client.post(reverse("admin:policy_scenariorun_delete", args=[run.pk]), {"post": "yes"}).status_code == 403
    assert ScenarioRun.objects.get().file_name == ""


# --- the API ---------------------------------------------------------------------------------------------


def test_api_post_runs_and_lists(client, case_worker, auditor):
    client.force_login(case_worker)
    response = client.post(
        "/api/scenario-runs/", {"yaml": CASES, "file_name": "mine.yaml"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["passed"], body["failed"], body["ran_by"], body["file_name"]) == (2, 1, "t_worker", "mine.yaml")
    assert body["results"]["cases"][1]["problems"] == ["late_fee: expected 11.00, computed 10.00"]
    client.force_login(auditor)
    listing = client.get("/api/scenario-runs/").json()
    assert [r["id"] for r in listing["results"]] == [body["id"]]
    detail = client.get(f"/api/scenario-runs/{body['id']}/").json()
    assert detail["yaml_text"] == CASES and detail["results"] == body["results"]
    assert client.post("/api/scenario-runs/", {"yaml": ONE_CASE}, content_type="application/json").status_code == 403


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"yaml": "- name: [unclosed"}, "YAML 格式错误"),
        ({"yaml": "a: 1"}, "用例列表"),
        ({"yaml": "- {name: a}\n" * (MAX_CASES + 1)}, "用例过多"),
        ({}, "'yaml'"),
    ],
)
def test_api_bad_text_is_400_with_the_message(client, admin_user, payload, message):
    client.force_login(admin_user)
    response = client.post("/api/scenario-runs/", payload, content_type="application/json")
    assert response.status_code == 400 and message in str(response.json())
    assert not ScenarioRun.objects.exists()


def test_api_refuses_employer_users_and_anonymous(client, employer_user_a):
    assert client.get("/api/scenario-runs/").status_code in (401, 403)
    client.force_login(employer_user_a)
    assert client.get("/api/scenario-runs/").status_code == 403
    assert client.post("/api/scenario-runs/", {"yaml": ONE_CASE}, content_type="application/json").status_code == 403
    assert not ScenarioRun.objects.exists()
