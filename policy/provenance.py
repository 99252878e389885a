"""参数来源: where a dated value came from and which code reads its key (``policy_show``, issue 11 item 4).

A value in force is a ``PolicyParameter`` row: either loaded from a policy file (its file and line are
found again in ``policy/policies/<code>/``) or entered by staff (who and when, from its history).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from django.apps import apps
from django.conf import settings

from .catalog import POLICY_DIR, compose_yaml
from .models import ParameterOrigin, PolicyParameter


@dataclass(frozen=True)
class Version:
    """One dated version of a key in a jurisdiction, with its half-open period [start, end)."""

    row: PolicyParameter
    start: date
    end: date | None  # the next version's start; None = open-ended
    origin: str  # "policy/policies/langfang/contribution.yaml 第 12 行" or "经办人员录入：admin，2025-01-02 10:00"

    def covers(self, on: date) -> bool:
        return self.start <= on and (self.end is None or on < self.end)


def file_locations(code: str) -> dict[tuple[str, date], tuple[str, int]]:
    """(key, from) → (file path relative to the project, line) for every entry of the jurisdiction's files."""
    found: dict[tuple[str, date], tuple[str, int]] = {}
    jdir = POLICY_DIR / code
    for path in sorted(jdir.glob("*.yaml")) if jdir.is_dir() else []:
        if path.name == "jurisdiction.yaml":
            continue
        root = compose_yaml(path)
        for node in getattr(root, "value", None) or []:
            if not isinstance(node, yaml.MappingNode):
                continue
            fields = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
            key, start = fields.get("key"), fields.get("from")
            if isinstance(key, yaml.ScalarNode) and isinstance(start, yaml.ScalarNode):
                try:
                    found[(key.value, date.fromisoformat(start.value))] = (_relative(path), node.start_mark.line + 1)
                except ValueError:
                    continue
    return found


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(settings.BASE_DIR))
    except ValueError:
        return str(path)


def _staff_origin(row: PolicyParameter) -> str:
    """经办人员录入 with who and when (the row's latest history record)."""
    record = row.history.order_by("-history_date").select_related("history_user").first()
    if record is None:
        return "经办人员录入（无历史记录）"
    who = record.history_user.get_username() if record.history_user else "未知用户"
    when: datetime = record.history_date
    action = {"+": "录入", "~": "修改", "-": "删除"}.get(record.history_type, "录入")
    return f"经办人员{action}：{who}，{when:%Y-%m-%d %H:%M}"


def versions(code: str, key: str) -> list[Version]:
    """Every dated version of ``key`` in jurisdiction ``code``, oldest first, each with its origin."""
    rows = list(
        PolicyParameter.objects.filter(jurisdiction__code=code, key=key)
        .select_related("jurisdiction")
        .order_by("effective_from")
    )
    locations = file_locations(code) if any(r.origin == ParameterOrigin.FILE for r in rows) else {}
    out = []
    for i, row in enumerate(rows):
        end = rows[i + 1].effective_from if i + 1 < len(rows) else None
        if row.origin == ParameterOrigin.FILE:
            where = locations.get((key, row.effective_from))
            origin = (
                f"政策文件 {where[0]} 第 {where[1]} 行" if where else "政策文件（文件中已找不到该条目，请重新加载）"
            )
        else:
            origin = _staff_origin(row)
        out.append(Version(row=row, start=row.effective_from, end=end, origin=origin))
    return out


def in_force(found: list[Version], on: date) -> Version | None:
    return next((v for v in found if v.covers(on)), None)


def _source_roots() -> list[Path]:
    """The project's own apps (not Django's or third-party ones)."""
    base = Path(settings.BASE_DIR).resolve()
    roots = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(base) and ".venv" not in path.parts:
            roots.append(path)
    # nested apps (contributions.retirement) lie inside their parent: keep the outermost
    return [p for p in roots if not any(p != q and p.is_relative_to(q) for q in roots)]


@dataclass(frozen=True)
class Reference:
    """A line of project code that names a key (or, failing that, the key's last part)."""

    path: str
    line: int
    function: str  # the enclosing ``def`` ("" at module level)


def _search(pattern: re.Pattern[str]) -> list[Reference]:
    base = Path(settings.BASE_DIR).resolve()
    found = []
    for root in _source_roots():
        for path in sorted(root.rglob("*.py")):
            if "migrations" in path.parts or "tests" in path.parts or path == _THIS_FILE:
                continue
            function = ""
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if match := _DEF.match(line):
                    function = match[1]
                if pattern.search(line):
                    found.append(Reference(str(path.relative_to(base)), number, function))
    return found


_THIS_FILE = Path(__file__).resolve()
_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)")


def code_references(key: str) -> tuple[list[Reference], str]:
    """Lines of the installed project apps (tests and migrations excluded) that name the key, read at run time
    so the answer follows the code; and the string searched. A key some rule builds from parts
    (the person's group + ``"_wait_rule"``) is found by its name, then by the name without its first word."""
    found = _search(re.compile(rf"(?<![\w.]){re.escape(key)}(?!\w)"))
    if found:
        return found, key
    name = key.split(".", 1)[-1]
    for part in (name, name.split("_", 1)[-1]):
        found = _search(re.compile(rf"[\"']{re.escape(part)}[\"']"))
        if found:
            return found, f'"{part}"'
    return [], key


def display(value: Any) -> str:
    """A stored value for a person to read."""
    if value is None:
        return "null（本地不适用）"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
