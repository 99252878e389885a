"""Every scenario file under tests/scenarios/ is a pytest case too (SCENARIOS.md)."""

from pathlib import Path

import pytest

from config.scenarios import Case, CaseResult, load_cases, run_case

SCENARIO_DIR = Path(__file__).parent / "scenarios"


def _cases() -> list:
    items = list(load_cases([SCENARIO_DIR]))
    return [pytest.param(c, id=f"{c.case.path.relative_to(SCENARIO_DIR) if isinstance(c, CaseResult) else c.path.relative_to(SCENARIO_DIR)}::{c.case.name if isinstance(c, CaseResult) else c.name}") for c in items]


@pytest.mark.django_db
@pytest.mark.parametrize("case", _cases())
def test_scenario(case: Case | CaseResult) -> None:
    result = case if isinstance(case, CaseResult) else run_case(case)
    assert result.passed, result.line()
