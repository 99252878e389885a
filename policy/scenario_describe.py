"""情形用例自述: every calculation's inputs and outputs, for the runner's ``--describe`` and the admin page.

For each name: type, unit (from the field's kind), choices, default, Chinese label, and whether
``../shared/SCENARIOS.md`` fixes the name ("contract") or it is the project's own ("extension"). The
contract names are data (``policy/scenario_contract.yaml``); names the contract defines that the project
does not implement yet are listed "pending".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .calculations import Calculation, Field
from .catalog import read_yaml

CONTRACT_FILE = Path(__file__).resolve().parent / "scenario_contract.yaml"

CONTRACT, EXTENSION, PENDING = "contract", "extension", "pending"
STATUS_LABELS = {CONTRACT: "契约（SCENARIOS.md）", EXTENSION: "本项目扩展", PENDING: "契约已定义，尚未实现"}

#: 取值类型 → 单位 / 写法 (the unit a field's kind implies).
UNITS = {
    "money": "元（精确到分）",
    "decimal": "数值",
    "int": "整数",
    "date": "日期 YYYY-MM-DD",
    "month": "月份 YYYY-MM",
    "bool": "true / false",
    "str": "文本",
    "list": "列表",
    "map": "映射",
    "any": "",
}


@dataclass(frozen=True)
class NameRow:
    """一个输入项或输出项."""

    direction: str  # input | output
    name: str
    kind: str
    unit: str
    choices: tuple[str, ...]
    default: str  # "" when required, "(必填)"
    label: str
    status: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class CalculationDescription:
    name: str
    doc: str
    source: str
    rows: tuple[NameRow, ...]

    @property
    def inputs(self) -> tuple[NameRow, ...]:
        return tuple(r for r in self.rows if r.direction == "input")

    @property
    def outputs(self) -> tuple[NameRow, ...]:
        return tuple(r for r in self.rows if r.direction == "output")


@cache
def contract() -> dict[str, dict[str, Any]]:
    """The contract file: per calculation ``inputs``, ``outputs``, ``pending_*`` and ``extensions`` (name → label)."""
    data = read_yaml(CONTRACT_FILE) or {}
    return {
        str(calc): {part: dict(entry.get(part) or {}) for part in _PARTS} | {"source": str(entry.get("source", ""))}
        for calc, entry in data.items()
    }


_PARTS = ("inputs", "outputs", "pending_inputs", "pending_outputs", "extensions")


def _default_text(spec: Field) -> str:
    if spec.required:
        return "(必填)"
    if spec.default is None:
        return "(空)"
    if isinstance(spec.default, bool):
        return "true" if spec.default else "false"
    if isinstance(spec.default, list | tuple):
        return "[" + ", ".join(map(str, spec.default)) + "]"
    return str(spec.default)


def _row(direction: str, name: str, kind: str, spec: Field | None, entry: dict[str, dict[str, str]]) -> NameRow:
    fixed = entry.get(f"{direction}s", {})
    status = CONTRACT if name in fixed else EXTENSION
    label = (spec.label if spec is not None else "") or fixed.get(name) or entry.get("extensions", {}).get(name)
    return NameRow(
        direction=direction,
        name=name,
        kind=kind,
        unit=UNITS.get(kind, ""),
        choices=tuple(spec.choices or ()) if spec is not None else (),
        default=_default_text(spec) if spec is not None else "",
        label=label or name,
        status=status,
    )


def describe_one(calc: Calculation) -> CalculationDescription:
    entry = contract().get(calc.name, {})
    rows = [_row("input", n, spec.kind, spec, entry) for n, spec in calc.inputs.items()]
    rows += [
        NameRow("input", n, "", "", (), "", label, CONTRACT if n in entry.get("inputs", {}) else EXTENSION)
        for part in ("inputs", "extensions")
        for n, label in entry.get(part, {}).items()
        if "[]." in n
    ]
    rows += [_row("output", n, kind, None, entry) for n, kind in calc.outputs.items()]
    for direction in ("input", "output"):
        for name, label in entry.get(f"pending_{direction}s", {}).items():
            rows.append(NameRow(direction, name, "", "", (), "", label, PENDING))
    return CalculationDescription(calc.name, calc.doc.split("\n\n")[0], entry.get("source", ""), tuple(rows))


def describe(registry: dict[str, Calculation], name: str | None = None) -> list[CalculationDescription]:
    """Every calculation (or the one named), in name order. An unknown name raises ``KeyError``."""
    if name:
        if name not in registry:
            raise KeyError(name)
        return [describe_one(registry[name])]
    return [describe_one(registry[n]) for n in sorted(registry)]


def as_text(descriptions: list[CalculationDescription]) -> str:
    """Plain text for the terminal: one block per calculation, one line per name."""
    lines: list[str] = []
    for d in descriptions:
        lines.append(f"== {d.name} ==  {d.doc}")
        if d.source:
            lines.append(f"   ({d.source})")
        for title, rows in (("输入 input", d.inputs), ("输出 output", d.outputs)):
            lines.append(f"  {title}:")
            for r in rows:
                parts = [f"    {r.name:<32} [{r.status}]", r.kind or "-"]
                if r.unit:
                    parts.append(f"单位 {r.unit}")
                if r.choices:
                    parts.append("可选 " + " | ".join(r.choices))
                if r.default:
                    parts.append(f"默认 {r.default}")
                parts.append(r.label)
                lines.append("  ".join(parts))
        lines.append("")
    return "\n".join(lines)
