"""The typed catalog, value validation (files and staff entries), the scale check and ``policy_show``
(issue 11 item 4; issue 19: 0.0005 entered for a percent key whose files hold 0.05)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from policy import loader
from policy.catalog import POLICY_DIR, TYPES, catalog, catalog_labels, read_yaml, scale_mismatch, validate_value
from policy.models import Jurisdiction, ParameterOrigin, PolicyParameter

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

RATE = "contribution.employer_rate_pct"
LATE_FEE = "contribution.late_fee_daily_pct"
DEDUCTIBLE = "inpatient.deductible_by_level"


def _file_line(code: str, topic: str, key: str) -> int:
    """The line of ``- key: KEY`` in a jurisdiction's file (so the test follows edits of the file)."""
    lines = (POLICY_DIR / code / f"{topic}.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip() == f"- key: {key}")


# --- the catalog ---------------------------------------------------------------------------------------


def test_every_key_has_a_type_and_the_unit_its_type_needs():
    keys = catalog()
    assert len(keys) == len(catalog_labels()) >= 240
    for key, spec in keys.items():
        assert spec.key == key and spec.label and spec.type in TYPES, key
        if spec.type == "percent":
            assert spec.unit in {"%", "百分点"}, key
        if spec.type == "amount":
            assert spec.unit.startswith("元"), key
        if spec.type in {"months", "days", "years"}:
            assert spec.unit, key
        assert bool(spec.choices) == (spec.type == "choice"), key
    # names that say their type agree with it
    for key, spec in keys.items():
        if key.endswith("_pct"):
            assert spec.type == "percent", key
        if key.endswith("_months") and not spec.grouped:
            assert spec.type == "months", key
    assert keys[RATE].type == "percent" and keys[RATE].unit == "%"
    assert keys["retirement.age_male"].type == "years" and keys["retirement.age_male"].unit == "岁"
    assert keys["eligibility.employee_wait_rule"].choices == (
        "consecutive_paid_months",
        "days_after_payment",
        "from_payment_month",
        "month_after_first_month",
        "months_from_payment_month",
    )


def test_catalog_files_keep_their_comments():
    text = (POLICY_DIR / "catalog" / "contribution.yaml").read_text(encoding="utf-8")
    assert text.startswith("# 缴费（征缴）参数")
    assert "# 灵活就业人员" in text


def test_every_file_value_validates():
    checked = 0
    for jdir in sorted(p for p in POLICY_DIR.iterdir() if p.is_dir() and p.name != "catalog"):
        for path in sorted(jdir.glob("*.yaml")):
            if path.name == "jurisdiction.yaml":
                continue
            for entry in read_yaml(path):
                validate_value(entry["key"], entry["value"])
                checked += 1
    assert checked > 500


def test_values_are_normalised():
    assert validate_value(RATE, "7.5") == Decimal("7.5")
    assert validate_value(RATE, 8) == Decimal(8)
    assert validate_value(RATE, None) is None  # null = does not apply here
    assert validate_value("contribution.base_ceiling_pct", 300) == Decimal(300)  # max: null in the catalog
    assert validate_value("eligibility.employee_wait_months", "3") == 3
    assert validate_value("retirement.deemed_cutoff", date(2000, 10, 1)) == "2000-10-01"
    assert validate_value("contribution.reset_month_day", "02-29") == "02-29"
    assert validate_value(DEDUCTIBLE, {"level1": 200, "level3": "1100"}) == {
        "level1": Decimal(200),
        "level3": Decimal(1100),
    }


BAD_VALUES = [
    (RATE, 150, "不能大于 100"),
    (RATE, -1, "不能小于 0"),
    (RATE, "abc", "须为数字"),
    (RATE, True, "须为数字"),
    (RATE, {"a": 1}, "须为数字"),
    ("inpatient.annual_cap", -5, "不能小于 0"),
    ("inpatient.annual_cap", "1.234", "两位小数"),
    ("inpatient.annual_cap", 200_000_000, "不能大于"),
    ("eligibility.employee_wait_months", "2.5", "非负整数"),
    ("eligibility.employee_wait_months", -1, "非负整数"),
    ("eligibility.employee_wait_days", "x", "须为数字"),
    ("retirement.age_male", Decimal("60.5"), "非负整数"),
    ("contribution.due_day", 0, "不能小于 1"),
    ("contribution.due_day", 32, "不能大于 31"),
    ("retirement.deemed_cutoff", "2000-13-01", "不是有效日期"),
    ("retirement.deemed_cutoff", "01/10/2000", "YYYY-MM-DD"),
    ("contribution.reset_month_day", "7-1", "MM-DD"),
    ("contribution.reset_month_day", "02-30", "不是有效的月日"),
    ("accounts.unemployed_as_employee", "true", "true 或 false"),
    ("accounts.unemployed_as_employee", 1, "true 或 false"),
    ("eligibility.employee_wait_rule", "weekly", "须为以下之一"),
    ("claims.pre_self_pay", 5, "须为表格"),
    (DEDUCTIBLE, {"level1": -1}, "不能小于 0"),
    ("inpatient.ratio_by_level_pct", {"in_service": {"level1": 120}}, "不能大于 100"),
    ("no.such_key", 1, "不在政策参数目录"),
]


@pytest.mark.parametrize(("key", "value", "why"), BAD_VALUES)
def test_bad_values_of_each_type_are_refused_naming_key_type_and_unit(key, value, why):
    with pytest.raises(ValidationError) as exc:
        validate_value(key, value)
    message = " ".join(exc.value.messages)
    assert why in message and key in message
    spec = catalog().get(key)
    if spec is not None:
        assert TYPES[spec.type] in message
        if spec.unit:
            assert spec.unit in message


def test_every_type_has_a_bad_value_above():
    assert {catalog()[k].type for k, _, _ in BAD_VALUES if k in catalog()} == set(TYPES) - {"text"}


# --- the loader --------------------------------------------------------------------------------------------


def _policy_tree(tmp_path: Path, value: str, key: str = RATE) -> Path:
    (tmp_path / "catalog").symlink_to(POLICY_DIR / "catalog")
    place = tmp_path / "testland"
    place.mkdir()
    (place / "jurisdiction.yaml").write_text("code: testland\nname: 测试\n", encoding="utf-8")
    (place / "contribution.yaml").write_text(
        f"- key: contribution.due_day\n  from: 2024-01-01\n  value: 25\n  cite: testland 第一条\n"
        f"- key: {key}\n  from: 2024-01-01\n  value: {value}\n  cite: testland 第二条\n",
        encoding="utf-8",
    )
    return tmp_path


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        (RATE, "800", "不能大于 100"),
        (RATE, "eight", "须为数字"),
        ("eligibility.employee_wait_rule", "weekly", "须为以下之一"),
        ("retirement.deemed_cutoff", "'2024-02-30'", "不是有效日期"),
        ("accounts.unemployed_as_employee", "yes", "true 或 false"),
        ("contribution.reset_month_day", "'7-1'", "MM-DD"),
    ],
)
def test_a_bad_file_value_stops_the_loader_naming_file_entry_and_key(tmp_path, monkeypatch, key, value, why):
    monkeypatch.setattr(loader, "POLICY_DIR", _policy_tree(tmp_path, value, key))
    with pytest.raises(ImproperlyConfigured) as exc:
        loader.read_policy_files()
    message = str(exc.value)
    assert "testland/contribution.yaml entry 2" in message and key in message and why in message


def test_a_good_file_value_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "POLICY_DIR", _policy_tree(tmp_path, "7.5"))
    _, entries = loader.read_policy_files()
    assert [e["value"] for e in entries] == [25, "7.5"]


# --- the admin form ----------------------------------------------------------------------------------------


def _post(client, code: str, key: str, value: str, effective_from: str = "2027-01-01", **extra):
    data = {
        "jurisdiction": Jurisdiction.objects.get(code=code).pk,
        "key": key,
        "effective_from": effective_from,
        "value": value,
        "citation": f"{code} 测试通知",
        "decision": "",
        "note": "",
        **extra,
    }
    return client.post(reverse("admin:policy_policyparameter_add"), data)


def _saved(code: str, key: str, on: str = "2027-01-01") -> PolicyParameter | None:
    return PolicyParameter.objects.filter(
        jurisdiction__code=code, key=key, effective_from=date.fromisoformat(on)
    ).first()


def test_the_form_shows_type_and_unit_next_to_the_value(client, admin_user):
    client.force_login(admin_user)
    row = PolicyParameter.objects.get(jurisdiction__code="langfang", key=RATE)
    page = client.get(reverse("admin:policy_policyparameter_change", args=[row.pk])).content.decode()
    assert "单位：%（8 表示 8%" in page and "类型：百分比" in page
    page = client.get(reverse("admin:policy_policyparameter_add") + "?key=retirement.age_male").content.decode()
    assert "单位：岁" in page and "类型：年数/年龄" in page


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        (RATE, "150", "不能大于 100"),
        ("inpatient.annual_cap", "-1", "不能小于 0"),
        ("eligibility.employee_wait_rule", '"weekly"', "须为以下之一"),
        ("retirement.deemed_cutoff", '"2024-02-30"', "不是有效日期"),
        ("accounts.unemployed_as_employee", '"yes"', "true 或 false"),
        ("eligibility.employee_wait_months", "2.5", "非负整数"),
        ("claims.pre_self_pay", "5", "须为表格"),
    ],
)
def test_the_form_refuses_a_bad_value_with_a_field_message(client, admin_user, key, value, why):
    client.force_login(admin_user)
    response = _post(client, "xianning", key, value)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert why in " ".join(errors["value"]) and key in " ".join(errors["value"])
    assert _saved("xianning", key) is None


def test_the_form_stores_decimals_as_text_never_float(client, admin_user):
    client.force_login(admin_user)
    assert _post(client, "xianning", RATE, "7.5").status_code == 302
    row = _saved("xianning", RATE)
    assert row.value == "7.5" and row.origin == ParameterOrigin.STAFF


def test_scale_check_refuses_a_value_fifty_times_off_unless_confirmed(client, admin_user):
    """issue 19: 0.0005 entered for a daily late-fee rate of 0.05 %."""
    client.force_login(admin_user)
    response = _post(client, "hunan", LATE_FEE, "0.0005")
    assert response.status_code == 200
    assert "确认数量级无误" in " ".join(response.context["adminform"].form.errors["value"])
    assert _saved("hunan", LATE_FEE) is None
    assert _post(client, "hunan", LATE_FEE, "0.06").status_code == 302  # same order of magnitude: no question
    response = _post(client, "hunan", LATE_FEE, "5", effective_from="2028-01-01")  # 0.06 → 5: ×83
    assert response.status_code == 200
    response = _post(client, "hunan", LATE_FEE, "5", effective_from="2028-01-01", confirm_scale="on")
    assert response.status_code == 302 and _saved("hunan", LATE_FEE, "2028-01-01").value == 5


def test_scale_mismatch_rule():
    assert scale_mismatch(LATE_FEE, Decimal("0.0005"), "0.05")
    assert scale_mismatch(RATE, Decimal("400"), 6)
    assert scale_mismatch(RATE, Decimal("7"), 6) is None
    assert scale_mismatch(RATE, Decimal("0.12"), 6) is None  # exactly 1/50
    assert scale_mismatch(RATE, Decimal("7"), None) is None  # nothing in force
    assert scale_mismatch("eligibility.employee_wait_months", 300, 3) is None  # counts are not scale-checked


# --- policy_show -------------------------------------------------------------------------------------------


def _show(*args: str) -> str:
    out = StringIO()
    call_command("policy_show", *args, stdout=out)
    return out.getvalue()


def test_policy_show_langfang_employer_rate():
    out = _show("langfang", RATE, "2025-06-01")
    line = _file_line("langfang", "contribution", RATE)
    assert "单位基本医疗缴费费率" in out and "类型：百分比" in out and "单位：%" in out
    assert "2025-06-01 的现行值：6 %" in out
    assert "期间：[2024-01-01, …)" in out
    assert "出处：langfang 第十二条" in out
    assert f"来源：政策文件 policy/policies/langfang/contribution.yaml 第 {line} 行" in out
    assert "contributions/calculations/contribution.py" in out.split("used by")[1]


def test_policy_show_hunan_level3_inpatient_deductible():
    out = _show("hunan", DEDUCTIBLE, "2025-06-01")
    line = _file_line("hunan", "inpatient", DEDUCTIBLE)
    assert '"level3": 1100' in out and "单位：元" in out
    assert "出处：hunan 第三十六条" in out
    assert f"policy/policies/hunan/inpatient.yaml 第 {line} 行" in out
    used_by = out.split("used by")[1]
    assert "benefits/calculations/inpatient_steps.py" in used_by and "deductible_key" in used_by


def test_policy_show_names_a_staff_entry_with_who_and_when_and_the_periods(client, admin_user):
    client.force_login(admin_user)
    assert _post(client, "langfang", RATE, "7").status_code == 302
    out = _show("langfang", RATE, "2027-03-01")
    assert "2027-03-01 的现行值：7 %" in out and "期间：[2027-01-01, …)" in out
    assert "来源：经办人员录入：t_admin" in out
    assert "[2024-01-01, 2027-01-01) 6" in out  # the file version, now closed by the staff entry
    earlier = _show("langfang", RATE, "2026-12-31")
    assert "2026-12-31 的现行值：6 %" in earlier and "经办人员录入：t_admin" in earlier.split("其他版本")[1]


def test_policy_show_a_key_with_no_value_and_the_missing_list():
    out = _show("xianning", RATE, "2025-01-01")
    assert "2025-01-01 无现行值" in out
    missing = _show("xianning", "--missing", "2025-01-01")
    assert f"  {RATE}  " in missing
    assert f"  {RATE}  " not in _show("langfang", "--missing", "2025-01-01")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nowhere", RATE), "未知统筹区"),
        (("langfang", "contribution.employer_rate"), "不在政策参数目录"),
        (("langfang", RATE, "2025-13-01"), "日期"),
        (("langfang",), "用法"),
    ],
)
def test_policy_show_refuses_unknown_input(args, message):
    with pytest.raises(CommandError, match=message):
        _show(*args)
