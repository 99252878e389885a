"""Policy as dated data, the resolver and the scenario runner (issue 2, items 5 and 6)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from policy import resolver as policy
from policy.calculations import Field, calculation, money
from policy.catalog import catalog_labels
from policy.loader import load_policy_files, read_policy_files
from policy.models import Jurisdiction, ParameterOrigin, PolicyParameter, ReferenceStatistic
from policy.resolver import Policy, PolicyMissing, UnknownJurisdiction
from policy.scenarios import run_paths

pytestmark = pytest.mark.django_db

KEY = "contribution.employer_rate_pct"


@calculation(
    "test_rate_times",
    inputs={"amount": Field("decimal"), "kind": Field("str", default="a", choices=("a", "b"))},
    outputs={"result": "money", "label": "str"},
)
def _rate_times(p: Policy, inputs):
    return {"result": inputs["amount"] * p.percent(KEY), "label": inputs["kind"]}


def _param(code: str, eff: date, value, origin=ParameterOrigin.STAFF):
    PolicyParameter.objects.create(
        jurisdiction=Jurisdiction.objects.get(code=code),
        key=KEY,
        effective_from=eff,
        value=value,
        citation="测试 第一条",
        origin=origin,
    )
    policy.invalidate()


def test_five_jurisdictions_loaded():
    assert set(Jurisdiction.objects.values_list("code", flat=True)) == {
        "hunan",
        "langfang",
        "xianning",
        "sanmenxia",
        "ziyang",
    }
    assert Jurisdiction.objects.get(code="hunan").is_draft


def test_every_file_entry_is_cited_and_in_the_catalog():
    _, entries = read_policy_files()
    labels = catalog_labels()
    for e in entries:
        assert e["cite"].startswith(e["code"]), e
        assert e["key"] in labels


def test_loader_is_idempotent():
    assert load_policy_files() == {"created": 0, "updated": 0, "deleted": 0}


def test_resolver_picks_the_version_in_force():
    PolicyParameter.objects.filter(key=KEY, jurisdiction__code="xianning").delete()
    _param("xianning", date(2024, 1, 1), "7.5")
    _param("xianning", date(2025, 1, 1), 8)
    assert policy.resolve("xianning", KEY, date(2024, 12, 31)) == Decimal("7.5")
    assert policy.resolve("xianning", KEY, date(2025, 1, 1)) == Decimal("8")
    with pytest.raises(PolicyMissing) as exc:
        policy.resolve("xianning", KEY, date(2023, 12, 31))
    message = str(exc.value)
    assert "xianning" in message and KEY in message and "2023-12-31" in message


def test_null_means_not_applicable():
    _param("xianning", date(2020, 1, 1), None)
    assert Policy("xianning", date(2024, 1, 1)).value(KEY) is None


def test_unknown_jurisdiction():
    with pytest.raises(UnknownJurisdiction):
        Policy("beijing", date(2024, 1, 1))


def test_statistics_are_dated_and_overridable():
    jur = Jurisdiction.objects.get(code="hunan")
    ReferenceStatistic.objects.create(
        jurisdiction=jur,
        key="reference_monthly_wage",
        effective_from=date(2024, 1, 1),
        period_label="2023年度",
        value=Decimal("7000"),
        is_demo=True,
    )
    assert Policy("hunan", date(2024, 6, 1)).stat("reference_monthly_wage") == Decimal("7000")
    assert Policy("hunan", date(2024, 6, 1), stats={"reference_monthly_wage": 6000}).stat(
        "reference_monthly_wage"
    ) == Decimal("6000")
    with pytest.raises(PolicyMissing) as exc:
        Policy("hunan", date(2023, 6, 1)).stat("reference_monthly_wage")
    assert "统计指标" in str(exc.value)


def test_staff_values_survive_reloading_the_files():
    _param("xianning", date(2024, 1, 1), 9)
    load_policy_files()
    assert PolicyParameter.objects.get(jurisdiction__code="xianning", key=KEY).origin == ParameterOrigin.STAFF
    assert PolicyParameter.objects.get(jurisdiction__code="xianning", key=KEY).history.count() == 1


def test_money_rounds_half_up():
    assert money(Decimal("0.125")) == Decimal("0.13")
    assert money(Decimal("2.675")) == Decimal("2.68")


def _write(tmp_path, text: str):
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_runner_compares_and_reports(tmp_path, capsys):
    _param("xianning", date(2024, 1, 1), "7.5")
    path = _write(
        tmp_path,
        """
- name: passes
  jurisdiction: xianning
  on: 2024-03-01
  calculation: test_rate_times
  input: {amount: 1001}
  output: {result: 75.08, label: a}
- name: wrong value
  jurisdiction: xianning
  on: 2024-03-01
  calculation: test_rate_times
  input: {amount: 100}
  output: {result: 7}
- name: missing policy
  jurisdiction: xianning
  on: 2023-03-01
  calculation: test_rate_times
  input: {amount: 100}
  output: {result: 7.5}
- name: unknown input
  jurisdiction: xianning
  on: 2024-03-01
  calculation: test_rate_times
  input: {amount: 100, colour: red}
  output: {result: 7.5}
- name: unknown output
  jurisdiction: xianning
  on: 2024-03-01
  calculation: test_rate_times
  input: {amount: 100}
  output: {colour: red}
- name: bad choice
  jurisdiction: xianning
  on: 2024-03-01
  calculation: test_rate_times
  input: {amount: 100, kind: c}
  output: {result: 7.5}
- name: unknown calculation
  jurisdiction: xianning
  on: 2024-03-01
  calculation: nothing
  output: {result: 1}
""",
    )
    results = {r.case.name: r for r in run_paths([path])}
    assert results["passes"].passed
    assert results["wrong value"].problems == ["result: expected 7, computed 7.50"]
    assert "xianning" in results["missing policy"].problems[0] and KEY in results["missing policy"].problems[0]
    assert "colour" in results["unknown input"].problems[0]
    assert "colour" in results["unknown output"].problems[0]
    assert "可选值" in results["bad choice"].problems[0]
    assert "nothing" in results["unknown calculation"].problems[0]

    with pytest.raises(SystemExit) as exit_info:
        call_command("run_scenarios", str(path))
    assert exit_info.value.code == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "1 passed, 6 failed"
    assert len(lines) == 7 and all("cases.yaml" in line for line in lines[:-1])

    call_command("run_scenarios", str(path), "--calculation", "test_rate_times", "--jurisdiction", "hunan")
    assert capsys.readouterr().out.strip().splitlines()[-1] == "0 passed, 0 failed"


def test_runner_survives_a_broken_file(tmp_path):
    results = run_paths([_write(tmp_path, "- name: [unclosed\n")])
    assert len(results) == 1 and not results[0].passed


def test_staff_add_a_dated_value_in_the_admin_and_history_is_kept(client, admin_user, case_worker):
    from django.urls import reverse

    xianning = Jurisdiction.objects.get(code="xianning")
    client.force_login(case_worker)
    url = reverse("admin:policy_policyparameter_add")
    assert client.get(url).status_code == 403  # case workers read policy values, administrators change them
    client.force_login(admin_user)
    response = client.post(
        url,
        {
            "jurisdiction": xianning.pk,
            "key": KEY,
            "effective_from": "2025-01-01",
            "value": '"7.5"',
            "citation": "咸宁市医保局 2024年第1号通知",
            "decision": "",
            "note": "经办录入",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = PolicyParameter.objects.get(jurisdiction=xianning, key=KEY, effective_from=date(2025, 1, 1))
    assert row.origin == ParameterOrigin.STAFF and row.history.get().history_user == admin_user
    assert Policy("xianning", date(2025, 3, 1)).decimal(KEY) == Decimal("7.5")


def test_expired_snapshot_is_kept_while_the_policy_data_is_the_same(monkeypatch):
    """An expired snapshot with unchanged data stays the same object (what is memoised on it survives, issue #13);
    a value changed behind the signals' back (another process) gives a new snapshot on expiry."""
    _param("hunan", date(2024, 1, 1), "7")
    first = policy.snapshot()
    monkeypatch.setattr(policy, "SNAPSHOT_TTL", -1.0)  # every lookup finds it expired
    again = policy.snapshot()
    assert again is first
    PolicyParameter.objects.filter(key=KEY, jurisdiction__code="hunan").update(value="8")  # no signal
    changed = policy.snapshot()
    assert changed is not first
    assert Policy("hunan", date(2024, 6, 1)).percent(KEY) == Decimal("0.08")
