"""Scenario ``policy:`` blocks (SCENARIOS.md): catalog key → value as if staff had entered it on ``on``."""

from datetime import date
from pathlib import Path

import pytest

from policy.resolver import Policy
from policy.scenarios import run_paths

pytestmark = pytest.mark.django_db

CASES = """
- name: 湖南 单位费率按情形给定 10%
  jurisdiction: hunan
  on: 2024-03-01
  calculation: contribution
  stats: {reference_monthly_wage: 7000}
  policy:
    contribution.employer_rate_pct: 10
  input: {category: employee, monthly_wage: 8000}
  output: {employer: 800}
- name: 湖南 不给 policy 时按文件费率
  jurisdiction: hunan
  on: 2024-03-01
  calculation: contribution
  stats: {reference_monthly_wage: 7000}
  input: {category: employee, monthly_wage: 8000}
  output: {employer: 800}
- name: 不在目录中的键
  jurisdiction: hunan
  on: 2024-03-01
  calculation: contribution
  stats: {reference_monthly_wage: 7000}
  policy:
    contribution.no_such_key: 10
  input: {category: employee, monthly_wage: 8000}
  output: {employer: 800}
- name: policy 不是映射
  jurisdiction: hunan
  on: 2024-03-01
  calculation: contribution
  policy: [1, 2]
  input: {category: employee, monthly_wage: 8000}
  output: {employer: 800}
"""


def test_policy_blocks_override_run_and_name_bad_keys(tmp_path: Path):
    path = tmp_path / "cases.yaml"
    path.write_text(CASES, encoding="utf-8")
    given, stored, unknown, not_a_map = run_paths([path])
    assert given.passed, given.problems
    # without the block the file's rate applies (hunan 第十一条: not 10%), so the same expectation fails
    assert not stored.passed and "employer" in stored.problems[0]
    assert not unknown.passed and "contribution.no_such_key" in unknown.problems[0]
    assert not not_a_map.passed and "policy" in not_a_map.problems[0]


def test_a_given_value_applies_from_the_case_date_only():
    on = date(2024, 3, 1)
    stored = Policy("hunan", on).value("contribution.employer_rate_pct")
    policy = Policy("hunan", on, params={"contribution.employer_rate_pct": 10})
    assert policy.value("contribution.employer_rate_pct") == 10
    assert policy.used["contribution.employer_rate_pct"] == "情形给定"
    assert policy.at(date(2024, 12, 31)).value("contribution.employer_rate_pct") == 10
    assert policy.at(date(2024, 2, 29)).value("contribution.employer_rate_pct") == stored != 10
