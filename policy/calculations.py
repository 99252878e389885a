"""Registry of the named calculations that scenario files call (SCENARIOS.md, "Calculations").

Each calculation is a plain function ``f(policy, inputs) -> outputs`` declared in
an app's ``calculations.py`` with :func:`calculation`, stating its input fields
(with types, choices and defaults) and its output keys (with types). The runner
parses and checks inputs against the declaration before calling, so the
function receives typed values (``Decimal`` money, ``date`` dates) and only
keys it knows; an unknown input or output key is an error.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.apps import apps

from .resolver import Policy

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    """Round half-up to the fen (D-X12): only where the rule says a payment is made."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class InputError(ValueError):
    """An input value of the wrong type or outside its choices."""


_NO_DEFAULT = object()


@dataclass(frozen=True)
class Field:
    """One input of a calculation. ``kind``: decimal, int, date, month, bool, str, list, map, any."""

    kind: str
    default: Any = _NO_DEFAULT
    choices: tuple[str, ...] | None = None
    label: str = ""

    @property
    def required(self) -> bool:
        return self.default is _NO_DEFAULT

    def parse(self, name: str, raw: Any) -> Any:
        try:
            value = parse_value(self.kind, raw)
        except (InvalidOperation, ValueError, TypeError) as exc:
            raise InputError(f"输入 {name}: 应为 {self.kind}，得到 {raw!r} ({exc})") from exc
        if self.choices is not None and value not in self.choices:
            raise InputError(f"输入 {name}: {value!r} 不在可选值 {', '.join(self.choices)} 中")
        return value


def parse_value(kind: str, raw: Any) -> Any:
    if raw is None:
        return None
    if kind == "decimal":
        if isinstance(raw, bool):
            raise TypeError("boolean is not a number")
        return Decimal(str(raw))
    if kind == "int":
        if isinstance(raw, bool) or (isinstance(raw, float | Decimal) and raw != int(raw)):
            raise TypeError("not a whole number")
        return int(raw)
    if kind == "date":
        return raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    if kind == "month":
        if isinstance(raw, date):
            return raw.replace(day=1)
        year, month = str(raw).split("-")
        return date(int(year), int(month), 1)
    if kind == "bool":
        if not isinstance(raw, bool):
            raise TypeError("not true/false")
        return raw
    if kind == "str":
        return str(raw)
    if kind == "list":
        if not isinstance(raw, list):
            raise TypeError("not a list")
        return raw
    if kind == "map":
        if not isinstance(raw, dict):
            raise TypeError("not a mapping")
        return raw
    return raw


@dataclass(frozen=True)
class Calculation:
    name: str
    func: Callable[[Policy, dict[str, Any]], dict[str, Any]]
    inputs: dict[str, Field]
    outputs: dict[str, str]  # key -> money | decimal | int | date | bool | str | map
    doc: str = ""
    stats: tuple[str, ...] = field(default_factory=tuple)

    def parse_inputs(self, raw: dict[str, Any]) -> dict[str, Any]:
        unknown = set(raw) - set(self.inputs)
        if unknown:
            raise InputError(f"未知输入项 (unknown input key): {', '.join(sorted(unknown))}")
        parsed = {}
        for name, spec in self.inputs.items():
            if name in raw:
                parsed[name] = spec.parse(name, raw[name])
            elif spec.required:
                raise InputError(f"缺少输入项 (missing input): {name}")
            else:
                parsed[name] = spec.default
        return parsed

    def run(self, policy: Policy, raw_inputs: dict[str, Any]) -> dict[str, Any]:
        return self.func(policy, self.parse_inputs(raw_inputs))


REGISTRY: dict[str, Calculation] = {}


def calculation(name: str, *, inputs: dict[str, Field], outputs: dict[str, str]):
    """Register ``func`` as the calculation NAME."""

    def register(func):
        if name in REGISTRY and REGISTRY[name].func is not func:
            raise RuntimeError(f"calculation {name!r} registered twice")
        REGISTRY[name] = Calculation(name, func, inputs, outputs, doc=(func.__doc__ or "").strip())
        return func

    return register


def discover() -> dict[str, Calculation]:
    """Import every installed app's ``calculations`` package (all its modules) and return the registry."""
    for app in apps.get_app_configs():
        try:
            package = importlib.import_module(f"{app.name}.calculations")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app.name}.calculations":
                raise
            continue
        for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
            importlib.import_module(f"{package.__name__}.{info.name}")
    return REGISTRY
