"""Mutation run over the resident rule modules (issue 15): ``DJANGO_SETTINGS_MODULE=config.settings_test
.venv/bin/python tests/mutation_resident.py [module ...]`` after ``manage.py migrate`` (reads the policy of the
local database; the tests that write rows are skipped).

Simple mutation run over the resident rule modules (flipped comparisons/arithmetic, max<->min, and<->or,
True<->False, dropped `not`, constants +-1, dropped if-branches). Run under Django against the dev db.sqlite3
(policy loaded by migrate). A mutant is killed when a scenario case or a pure test fails or raises."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from pathlib import Path

import django
import pytest

sys.path.insert(0, ".")
django.setup()

from policy.scenarios import load_cases, run_case  # noqa: E402

TARGETS = sys.argv[1:] or ["benefits.calculations.resident", "benefits.calculations.scheme_switch"]
SCENARIOS = [
    *sorted(Path("tests/scenarios/sanmenxia").glob("resident_*.yaml")),
    Path("tests/scenarios/hunan/resident_switch.yaml"),
]
#: Tests that write rows (claims, staff entries, persons) are left out: they would change the local database.
WRITES = ("settle(", "staff_enter(", "make_person(", "resident_person(", "assert_pending_cases(")

import tests.test_resident_benefits as T  # noqa: E402


def _body(fn) -> str:
    """The test's source without its ``def`` line (a name like ``…_staff_enter`` is not a call)."""
    source = inspect.getsource(fn)
    return source[source.index("\ndef ") + 1 :].split("\n", 1)[1] if "\ndef " in source else source.split("\n", 1)[1]


def pure_tests():
    out = []
    for name, fn in vars(T).items():
        if not name.startswith("test_") or any(w in _body(fn) for w in WRITES):
            continue
        marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
        if not marks:
            out.append((name, fn, {}))
            continue
        for m in marks:
            names = [n.strip() for n in m.args[0].split(",")] if isinstance(m.args[0], str) else list(m.args[0])
            for values in m.args[1]:
                values = values if len(names) > 1 else (values,)
                out.append((name, fn, dict(zip(names, values, strict=True))))
    return out


TESTS = pure_tests()
CASES = [c for c in load_cases(SCENARIOS)]

SWAP_CMP = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
SWAP_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}


def mutation_points(tree):
    """(index, description) for every mutable node, in walk order."""
    points = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in SWAP_CMP:
                    points.append((node, ("cmp", i)))
        elif isinstance(node, ast.BinOp) and type(node.op) in SWAP_BIN:
            points.append((node, ("bin", None)))
        elif isinstance(node, ast.BoolOp):
            points.append((node, ("bool", None)))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("min", "max"):
            points.append((node, ("minmax", None)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            points.append((node, ("boolconst", None)))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            points.append((node, ("int+1", None)))
            points.append((node, ("int-1", None)))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            points.append((node, ("notdrop", None)))
        elif isinstance(node, ast.If):
            points.append((node, ("ifdrop", None)))
            points.append((node, ("ifnegate", None)))
    return points


class Apply(ast.NodeTransformer):
    def __init__(self, target, kind):
        self.target, self.kind = target, kind

    def visit(self, node):
        if node is self.target:
            return self.mutate(node)
        return self.generic_visit(node)

    def mutate(self, node):
        kind, i = self.kind
        if kind == "cmp":
            node.ops[i] = SWAP_CMP[type(node.ops[i])]()
        elif kind == "bin":
            node.op = SWAP_BIN[type(node.op)]()
        elif kind == "bool":
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        elif kind == "minmax":
            node.func.id = "max" if node.func.id == "min" else "min"
        elif kind == "boolconst":
            node.value = not node.value
        elif kind == "int+1":
            node.value = node.value + 1
        elif kind == "int-1":
            node.value = node.value - 1
        elif kind == "notdrop":
            return node.operand
        elif kind == "ifdrop":
            return node.orelse or [ast.Pass()]
        elif kind == "ifnegate":
            node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
        return node


def patch(modname, namespace):
    """Point every module attribute that holds an object of the target module at the mutated one."""
    original = sys.modules[modname]
    saved = []
    for name, obj in list(vars(original).items()):
        if getattr(obj, "__module__", None) != modname or name not in namespace:
            continue
        new = namespace[name]
        for mod in list(sys.modules.values()):
            if mod is None:
                continue
            d = getattr(mod, "__dict__", None)
            if not d:
                continue
            for attr, val in list(d.items()):
                if val is obj:
                    saved.append((d, attr, val))
                    d[attr] = new
    return saved


def patch_registry(saved_list, modname, namespace):
    import dataclasses

    from policy.calculations import REGISTRY

    original = sys.modules[modname]
    for key, calc in list(REGISTRY.items()):
        name = calc.func.__name__
        if calc.func.__module__ == modname and name in namespace and getattr(original, name, None) is calc.func:
            saved_list.append((REGISTRY, key, calc))
            REGISTRY[key] = dataclasses.replace(calc, func=namespace[name])


def restore(saved):
    for d, attr, val in reversed(saved):
        d[attr] = val


def killed() -> str:
    for case in CASES:
        if not isinstance(case, type(CASES[0])) or not hasattr(case, "data"):
            continue
        try:
            result = run_case(case)
        except Exception as exc:
            return f"case {case.name}: {type(exc).__name__}"
        if not result.passed:
            return f"case {case.name}"
    for name, fn, kwargs in TESTS:
        try:
            fn(**kwargs)
        except (Exception, pytest.fail.Exception) as exc:
            return f"{name}: {type(exc).__name__}"
    return ""


def main():
    base = killed()
    assert not base, f"unmutated run fails: {base}"
    total = dead = 0
    survivors = []
    reasons = {}
    for modname in TARGETS:
        module = importlib.import_module(modname)
        source = inspect.getsource(module)
        tree = ast.parse(source)
        # skip module docstring constants and the scenario-calculation registration (decorator re-registers)
        points = mutation_points(tree)
        for idx in range(len(points)):
            fresh = ast.parse(source)
            fresh_points = mutation_points(fresh)
            target, k = fresh_points[idx]
            line = getattr(target, "lineno", 0)
            text = source.splitlines()[line - 1].strip() if line else ""
            if text.startswith(('"""', "#")) or "Field(" in text or text.startswith("@calculation"):
                continue
            mutated = Apply(target, k).visit(fresh)
            ast.fix_missing_locations(mutated)
            ns = {"__name__": modname, "__package__": modname.rsplit(".", 1)[0]}
            try:
                # registration of a calculation again under the same name is refused: neutralise the decorator
                import policy.calculations as pc

                real = pc.calculation
                pc.calculation = lambda name, **kw: lambda f: f
                try:
                    exec(compile(mutated, f"<mutant {modname}:{line}>", "exec"), ns)
                finally:
                    pc.calculation = real
            except Exception:
                total += 1
                dead += 1
                continue
            saved = []
            patch_registry(saved, modname, ns)
            saved += patch(modname, ns)
            try:
                why = killed()
            finally:
                restore(saved)
            total += 1
            reasons.setdefault(why.split(":")[0], 0)
            reasons[why.split(":")[0]] += 1
            if why:
                dead += 1
            else:
                survivors.append(f"{modname}:{line} {k[0]}: {text}")
    print(f"mutants {total}, killed {dead}, survived {total - dead}, score {100 * dead / max(total, 1):.1f}%")
    for s in survivors:
        print("SURVIVED", s)
    print("after all mutants, unmutated run:", repr(killed()))
    for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])[:15]:
        print("KILLED BY", v, k)


if __name__ == "__main__":
    main()
