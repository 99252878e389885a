"""Scenario files: analyst-readable YAML cases run against the rules (SCENARIOS.md).

:func:`run_case` evaluates one case and returns a :class:`CaseResult`; a case that
cannot be computed (missing policy value, unknown key, bad input) is a failure
with a message, never an exception out of the runner.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError

from .calculations import Calculation, InputError, discover, money, parse_value
from .catalog import jsonable, read_yaml, read_yaml_text, validate_value
from .resolver import Policy, PolicyError

CASE_FIELDS = {"name", "cite", "jurisdiction", "on", "calculation", "stats", "policy", "input", "output"}
STAT_KEYS = {
    "reference_monthly_wage",
    "average_pension_monthly",
    "average_pension_institution_monthly",
    "average_pension_enterprise_monthly",
    "employer_average_monthly_wage",
    "employer_average_base",
    "critical_illness_deductible",
    "large_amount_deductible",
    "annual_average_wage",
}


@dataclass
class Case:
    path: Path
    index: int
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data.get("name") or f"case {self.index}") if isinstance(self.data, dict) else ""

    @property
    def label(self) -> str:
        return f"{self.path}: {self.name}"


@dataclass
class CaseResult:
    case: Case
    problems: list[str] = field(default_factory=list)
    computed: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems

    def line(self) -> str:
        return f"FAIL {self.case.label}: " + "; ".join(self.problems)


def find_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(q for q in p.rglob("*") if q.suffix in {".yaml", ".yml"}))
        else:
            files.append(p)
    return files


def load_cases(paths: Iterable[str | Path]) -> Iterator[Case | CaseResult]:
    """Every case in the files; a file that cannot be read yields one failed result."""
    for path in find_files(paths):
        try:
            data = read_yaml(path)
        except (OSError, ValueError, Exception) as exc:  # YAML errors have many types
            yield CaseResult(Case(path, 0, {"name": "(file)"}), [f"文件无法读取: {exc}"])
            continue
        if not isinstance(data, list):
            yield CaseResult(Case(path, 0, {"name": "(file)"}), ["文件应为用例列表 (a YAML list of cases)"])
            continue
        for i, item in enumerate(data, start=1):
            yield Case(path, i, item if isinstance(item, dict) else {"name": f"case {i}", "_bad": item})


def _fmt(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_fmt(k)}: {_fmt(v)}" for k, v in value.items()) + "}"
    return str(value)


def compare(kind: str, expected_raw: Any, computed: Any) -> str | None:
    """None when equal, else a message ``expected X, computed Y``."""
    try:
        if computed is None or expected_raw is None:
            equal = computed is None and expected_raw is None
            expected = expected_raw
        elif kind == "money":
            expected = Decimal(str(expected_raw))
            computed = money(Decimal(computed))
            equal = expected == computed
        elif kind == "decimal":
            expected = Decimal(str(expected_raw))
            equal = expected == Decimal(computed)
        elif kind == "map":
            if not isinstance(expected_raw, dict):
                return f"expected a mapping, got {expected_raw!r}"
            expected = {_key(k): v for k, v in expected_raw.items()}
            computed_map = {_key(k): v for k, v in computed.items()}
            diffs = [
                f"{_fmt(k)}: expected {_fmt(v)}, computed {_fmt(computed_map.get(k, '(none)'))}"
                for k, v in expected.items()
                if computed_map.get(k) != v
            ]
            return "; ".join(diffs) or None
        else:
            expected = parse_value(kind, expected_raw)
            equal = expected == computed
    except (InvalidOperation, ValueError, TypeError) as exc:
        return f"cannot compare {expected_raw!r} with {computed!r}: {exc}"
    return None if equal else f"expected {_fmt(expected)}, computed {_fmt(computed)}"


def _key(k: Any) -> Any:
    if isinstance(k, date):
        return k
    try:
        return date.fromisoformat(str(k))
    except ValueError:
        return k


def _policy_block(block: Any) -> dict[str, Any]:
    """A case's ``policy:`` block (SCENARIOS.md): catalog key → value, as if staff had entered it on ``on``.
    A key not in the catalog, or a value of the wrong type or unit, is an error naming the key."""
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise InputError("policy 应为映射：参数键 → 取值 (policy must map catalog keys to values)")
    out = {}
    for key, value in block.items():
        try:
            out[str(key)] = validate_value(str(key), value)
        except ValidationError as exc:
            raise InputError(f"policy.{key}: {'; '.join(exc.messages)}") from exc
    return out


def run_case(case: Case, registry: dict[str, Calculation] | None = None) -> CaseResult:
    registry = registry if registry is not None else discover()
    result = CaseResult(case)
    d = case.data
    try:
        if "_bad" in d:
            raise InputError("用例应为映射 (a case is a mapping)")
        unknown = set(d) - CASE_FIELDS
        if unknown:
            raise InputError(f"未知字段 (unknown case field): {', '.join(sorted(unknown))}")
        for required in ("jurisdiction", "on", "calculation", "output"):
            if required not in d:
                raise InputError(f"缺少字段 (missing field): {required}")
        calc = registry.get(str(d["calculation"]))
        if calc is None:
            raise InputError(f"未知计算 (unknown calculation): {d['calculation']!r}")
        stats = d.get("stats") or {}
        if not isinstance(stats, dict) or set(stats) - STAT_KEYS:
            raise InputError(f"未知统计指标 (unknown stats key): {', '.join(sorted(set(stats) - STAT_KEYS))}")
        params = _policy_block(d.get("policy"))
        expected = d["output"]
        if not isinstance(expected, dict) or not expected:
            raise InputError("output 应为非空映射 (output must list the keys to check)")
        unknown_out = set(expected) - set(calc.outputs)
        if unknown_out:
            raise InputError(f"未知输出项 (unknown output key): {', '.join(sorted(unknown_out))}")
        on = parse_value("date", d["on"])
        policy = Policy(str(d["jurisdiction"]), on, stats=stats, params=params)
        computed = calc.run(policy, d.get("input") or {})
        result.computed = computed
        for key, exp in expected.items():
            if key not in computed:
                result.problems.append(f"{key}: expected {_fmt(exp)}, computed (nothing)")
                continue
            diff = compare(calc.outputs[key], exp, computed[key])
            if diff:
                result.problems.append(f"{key}: {diff}")
    except (PolicyError, InputError) as exc:
        result.problems.append(str(exc))
    except (ArithmeticError, ValueError, TypeError, KeyError) as exc:
        result.problems.append(f"计算出错 (error): {type(exc).__name__}: {exc}")
    return result


def run_paths(
    paths: Iterable[str | Path], *, jurisdiction: str | None = None, calculation: str | None = None
) -> list[CaseResult]:
    registry = discover()
    results = []
    for item in load_cases(paths):
        if isinstance(item, CaseResult):
            results.append(item)
            continue
        if jurisdiction and item.data.get("jurisdiction") != jurisdiction:
            continue
        if calculation and item.data.get("calculation") != calculation:
            continue
        results.append(run_case(item, registry))
    return results


# --- scenario text from the admin and the API (issue #18 item 3) ---------------------------------------------

MAX_TEXT_BYTES = 1_000_000  # 1 MB
MAX_CASES = 2_000


class ScenarioTextError(ValueError):
    """A scenario text that cannot be run at all (too large, not YAML, not a list, too many cases)."""


def parse_text(text: str) -> list[Any]:
    """The cases of a scenario text, within the bounds; a problem raises :class:`ScenarioTextError`."""
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise ScenarioTextError(f"文件过大：不得超过 {MAX_TEXT_BYTES // 1_000_000} MB")
    try:
        data = read_yaml_text(text)
    except (yaml.YAMLError, ArithmeticError, ValueError, TypeError, RecursionError) as exc:
        raise ScenarioTextError(f"YAML 格式错误: {exc}") from exc
    if not isinstance(data, list) or not data:
        raise ScenarioTextError("文件应为非空的用例列表 (a YAML list of cases)")
    if len(data) > MAX_CASES:
        raise ScenarioTextError(f"用例过多：{len(data)} 个，上限 {MAX_CASES} 个")
    return data


def run_text(text: str, name: str = "(pasted)") -> list[CaseResult]:
    """Run every case of a scenario text against the policy in force; bounds as :func:`parse_text`."""
    registry = discover()
    path = Path(name)
    return [
        run_case(Case(path, i, item if isinstance(item, dict) else {"name": f"case {i}", "_bad": item}), registry)
        for i, item in enumerate(parse_text(text), start=1)
    ]


def results_json(results: list[CaseResult]) -> dict[str, Any]:
    """The results as stored on a run: per case name, passed, problems, computed (Decimal as text)."""
    cases = [
        {"name": r.case.name, "passed": r.passed, "problems": list(r.problems), "computed": jsonable(r.computed)}
        for r in results
    ]
    passed = sum(1 for c in cases if c["passed"])
    return {"passed": passed, "failed": len(cases) - passed, "cases": cases}
