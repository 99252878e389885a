"""The runner describes itself (issue #18 item 2): ``run_scenarios --describe`` and the admin page list every
calculation's inputs and outputs, and say which names SCENARIOS.md fixes and which are our extensions."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from policy.calculations import discover
from policy.scenario_describe import CONTRACT, EXTENSION, contract, describe


@pytest.fixture(scope="module")
def registry():
    """The apps' calculations (other tests register throw-away ones in the same registry)."""
    return {n: c for n, c in discover().items() if not c.func.__module__.startswith("tests.")}


def _names(registry, calc: str, direction: str) -> set[str]:
    c = registry[calc]
    return set(c.inputs) if direction == "inputs" else set(c.outputs)


def test_every_calculation_has_a_contract_entry(registry):
    assert set(registry) == set(contract()), "add or remove calculations in policy/scenario_contract.yaml"


def test_every_contract_name_is_implemented_or_listed_pending(registry):
    missing = [
        f"{calc}.{direction}.{name}"
        for calc, entry in contract().items()
        for direction in ("inputs", "outputs")
        for name in entry[direction]
        if "[]." not in name and name not in _names(registry, calc, direction)
    ]
    assert not missing, f"contract names the registry does not declare (implement or list as pending): {missing}"


def test_pending_names_are_really_not_implemented(registry):
    implemented = [
        f"{calc}.{name}"
        for calc, entry in contract().items()
        for direction in ("inputs", "outputs")
        for name in entry[f"pending_{direction}"]
        if name in _names(registry, calc, direction)
    ]
    assert not implemented, f"move these from pending_* to the contract names: {implemented}"


def test_every_extension_is_labelled_and_flagged(registry):
    unlabelled = []
    for calc, c in registry.items():
        entry = contract()[calc]
        for direction, names in (("inputs", c.inputs), ("outputs", c.outputs)):
            for name, spec in names.items():
                labelled = getattr(spec, "label", "") or name in entry["extensions"]  # Field.label, else the file
                if name not in entry[direction] and not labelled:
                    unlabelled.append(f"{calc}.{name}")
    assert not unlabelled, f"label these extensions in policy/scenario_contract.yaml: {unlabelled}"
    stale = [
        f"{calc}.{n}"
        for calc, entry in contract().items()
        for n in entry["extensions"]
        if "[]." not in n and n not in set(registry[calc].inputs) | set(registry[calc].outputs)
    ]
    assert not stale, f"extensions the registry no longer declares: {stale}"


def test_statuses_of_known_names(registry):
    rows = {(d.name, r.name): r for d in describe(registry) for r in d.rows}
    assert rows[("inpatient", "excluded_cause")].status == EXTENSION
    assert rows[("critical_illness", "supplementary_pay")].status == EXTENSION
    assert rows[("eligibility", "months[].deferred_until")].status == EXTENSION
    assert rows[("eligibility", "months[].paid_on")].status == CONTRACT
    assert rows[("inpatient", "policy_amount")].status == CONTRACT
    assert rows[("inpatient", "insutype")].status == CONTRACT  # resident benefits (issue 15)
    assert rows[("contribution", "subsidy")].status == CONTRACT
    assert rows[("fund_risk_reserve", "extraction")].status == EXTENSION
    loc = rows[("inpatient", "location")]
    assert (loc.kind, loc.default, loc.label) == (
        "str",
        "local",
        "就医地（本地 / 省内异地 / 转诊 / 急诊抢救 / 备案异地 / 未备案）",
    )
    assert "unregistered" in loc.choices
    assert rows[("inpatient", "policy_amount")].default == "(必填)"
    assert rows[("late_fee", "late_fee")].unit.startswith("元")
    # every row has a Chinese label (the name is only a fallback)
    assert all(r.label != r.name for r in rows.values())


def test_command_describes_all_and_one(capsys):
    call_command("run_scenarios", "--describe")
    out = capsys.readouterr().out
    for calc in ("contribution", "inpatient", "maternity", "special_disease", "fund_deficit_waterfall"):
        assert f"== {calc} ==" in out
    call_command("run_scenarios", "--describe", "critical_illness")
    one = capsys.readouterr().out
    assert "== critical_illness ==" in one and "== inpatient ==" not in one
    assert "supplementary_pay" in one and "[extension]" in one and "补充保险支付" in one
    with pytest.raises(CommandError, match="unknown calculation"):
        call_command("run_scenarios", "--describe", "no_such_calc")


def test_command_without_paths_or_describe_is_an_error():
    with pytest.raises(CommandError):
        call_command("run_scenarios")


@pytest.mark.django_db
@pytest.mark.parametrize("who, status", [("admin_user", 200), ("auditor", 200), ("employer_user_a", 403)])
def test_admin_describe_page(client, request, who, status):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("admin:policy_scenariorun_describe"))
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert "excluded_cause" in body and "本项目扩展" in body
        # issue 15 implemented the last pending names (insutype, subsidy): nothing is shown as not implemented
        assert "契约已定义，尚未实现" not in body
