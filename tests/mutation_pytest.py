"""Mutation run of one rule module against pytest files (issue 15; the operators of ``tests/mutation_resident.py``).

    DJANGO_SETTINGS_MODULE=config.settings_test .venv/bin/python tests/mutation_pytest.py MODULE TEST_FILE...

Mutants: flipped comparisons and arithmetic, and<->or, max<->min, True<->False, dropped ``not``, integer
constants +-1, dropped if-branches and negated if-tests. Each mutant replaces the module's functions everywhere
they were imported (services that ``from … import`` them included), then the test files run in this process
(``pytest.main``) on a kept test database (``--reuse-db``; on SQLite a file under /tmp, so the migrations run once).
A mutant is killed when a test fails. Prints the score and every survivor with its line.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import io
import sys
import tempfile
from pathlib import Path

import django
import pytest
from django.conf import settings

sys.path.insert(0, ".")
if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # a kept file instead of an in-memory test db
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = str(Path(tempfile.gettempdir()) / "mutation.sqlite3")
django.setup()

from tests.mutation_resident import Apply, mutation_points, patch  # noqa: E402

MODULE, TESTS = sys.argv[1], sys.argv[2:]
ARGS = [*TESTS, "-x", "-n", "0", "--reuse-db", "-p", "no:cacheprovider", "-p", "no:randomly"]


def failed() -> bool:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        return pytest.main(ARGS) != 0


def main() -> None:
    assert not failed(), "the tests fail on the unmutated module"
    source = inspect.getsource(importlib.import_module(MODULE))
    total = dead = 0
    survivors = []
    for idx in range(len(mutation_points(ast.parse(source)))):
        fresh = ast.parse(source)
        target, kind = mutation_points(fresh)[idx]
        line = getattr(target, "lineno", 0)
        text = source.splitlines()[line - 1].strip() if line else ""
        if text.startswith(('"""', "#")):
            continue
        mutated = ast.fix_missing_locations(Apply(target, kind).visit(fresh))
        namespace = {"__name__": MODULE, "__package__": MODULE.rsplit(".", 1)[0]}
        total += 1
        try:
            exec(compile(mutated, f"<mutant {MODULE}:{line}>", "exec"), namespace)
        except Exception:
            dead += 1
            continue
        saved = patch(MODULE, namespace)
        try:
            killed = failed()
        finally:
            for d, attr, val in reversed(saved):
                d[attr] = val
        if killed:
            dead += 1
        else:
            survivors.append(f"{MODULE}:{line} {kind[0]}: {text}")
    print(f"mutants {total}, killed {dead}, survived {total - dead}, score {100 * dead / max(total, 1):.1f}%")
    for s in survivors:
        print("SURVIVED", s)
    assert not failed(), "the tests fail after restoring the module"


if __name__ == "__main__":
    main()
