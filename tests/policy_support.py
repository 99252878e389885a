"""Test support for values staff enter (经办录入) and the pending scenario cases that wait for them.

tests/scenarios_pending/<jurisdiction>/*.yaml hold cases whose answer depends on a value the documents
do not give (POLICY-DIGEST §3.7, D-X16): each case must fail naming the jurisdiction and the missing
key, then pass once staff enter the (hypothetical, test-only) values, as they would in the admin.
A pending file is named by its path below that folder, e.g. ``"xianning/contribution.yaml"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from policy import resolver as policy_module
from policy.catalog import validate_value
from policy.models import Jurisdiction, ParameterOrigin, PolicyParameter
from policy.scenarios import CaseResult, run_paths

PENDING = Path(__file__).parent / "scenarios_pending"
MISSING_MARK = "缺少参数"  # the start of a PolicyMissing message for a parameter


def staff_enter(code: str, values: Mapping[str, object], *, effective_from: date, document: str) -> None:
    """Staff enter ``values`` for jurisdiction ``code``: 政策参数 rows of origin 经办录入, as in the admin.

    Each row cites ``"<code> <document>"``.
    """
    jurisdiction = Jurisdiction.objects.get(code=code)
    for key, value in values.items():
        validate_value(key, value)  # the same check as the admin form: test values fit the key's type and unit
        PolicyParameter.objects.create(
            jurisdiction=jurisdiction,
            key=key,
            effective_from=effective_from,
            value=value,
            citation=f"{code} {document}",
            origin=ParameterOrigin.STAFF,
        )
    policy_module.invalidate()


def _run(name: str, count: int) -> list[CaseResult]:
    results = run_paths([PENDING / name])
    assert len(results) == count, f"{name}: {len(results)} cases, expected {count}"
    return results


def assert_cases_fail_naming(name: str, first_missing: Sequence[str]) -> None:
    """Every case of pending file ``name`` fails naming its jurisdiction and, in file order, the first key it misses."""
    code = name.split("/")[0]
    for result, key in zip(_run(name, len(first_missing)), first_missing, strict=True):
        message = " ".join(result.problems)
        assert not result.passed, result.case.name
        assert code in message and key in message and MISSING_MARK in message, (result.case.name, message)


def assert_cases_pass(name: str, count: int) -> None:
    """Pending file ``name`` holds ``count`` cases and every one passes."""
    results = _run(name, count)
    assert all(r.passed for r in results), [r.line() for r in results if not r.passed]


def assert_pending_cases(
    name: str,
    first_missing: Sequence[str],
    staff_values: Mapping[str, object],
    *,
    effective_from: date,
    document: str,
) -> None:
    """The cases of pending file ``name`` fail naming what they miss; staff enter the values; then all pass."""
    assert_cases_fail_naming(name, first_missing)
    staff_enter(name.split("/")[0], staff_values, effective_from=effective_from, document=document)
    assert_cases_pass(name, len(first_missing))
