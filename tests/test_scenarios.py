"""Every scenario file under tests/scenarios/ is a pytest case too (SCENARIOS.md)."""

from pathlib import Path

import pytest

from policy.scenarios import Case, CaseResult, load_cases, run_case

SCENARIO_DIR = Path(__file__).parent / "scenarios"


def _param(item: Case | CaseResult):
    case = item.case if isinstance(item, CaseResult) else item
    return pytest.param(item, id=f"{case.path.relative_to(SCENARIO_DIR)}::{case.name}")


@pytest.mark.django_db
@pytest.mark.parametrize("item", [_param(i) for i in load_cases([SCENARIO_DIR])])
def test_scenario(item: Case | CaseResult) -> None:
    result = item if isinstance(item, CaseResult) else run_case(item)
    assert result.passed, result.line()
