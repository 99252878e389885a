"""The catalog of policy keys (政策参数目录) and the YAML reader shared by policy and scenario files.

Every key a rule may ask for is listed under ``policy/policies/catalog/<topic>.yaml`` with its Chinese label,
its type (percent, amount, months, …), its unit and, for a choice, the allowed codes: :func:`catalog`.
:func:`validate_value` checks a value against it (files when loaded, staff entries when saved).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ImproperlyConfigured, ValidationError

POLICY_DIR = Path(__file__).resolve().parent / "policies"


class _DecimalLoader(yaml.SafeLoader):
    """YAML loader that reads decimal numbers as ``Decimal`` (never float)."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)

# YAML 1.1 reads on/off/yes/no as booleans; scenario files use `on:` as a key. Only true/false are booleans here.
_DecimalLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_DecimalLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_DecimalLoader)


def read_yaml_text(text: str) -> Any:
    """A YAML text read the same way as :func:`read_yaml` (decimals as ``Decimal``, only true/false booleans)."""
    return yaml.load(text, Loader=_DecimalLoader)


def compose_yaml(path: Path) -> yaml.Node | None:
    """The file's node tree (with line numbers), read the same way as :func:`read_yaml`."""
    with path.open(encoding="utf-8") as fh:
        return yaml.compose(fh, Loader=_DecimalLoader)


# ---------------------------------------------------------------------------------------------------------
# 类型化目录: every key declares its type and unit (issue 11 item 4); values are checked against it when a
# file is loaded (policy.loader) and when staff save (policy.admin).

#: 参数取值类型 → 中文名称.
TYPES: dict[str, str] = {
    "percent": "百分比",
    "amount": "金额",
    "months": "月数",
    "days": "天数",
    "years": "年数/年龄",
    "number": "数值",
    "date": "日期",
    "month_day": "月日",
    "bool": "是/否",
    "choice": "可选值",
    "text": "文字",
    "table": "表格",
}
NUMERIC_TYPES = frozenset({"percent", "amount", "number"})
COUNT_TYPES = frozenset({"months", "days", "years"})
#: Types the scale check (数量级检查) applies to: a value 50× off the one in force is most likely a slip.
SCALED_TYPES = frozenset({"percent", "amount"})
SCALE_FACTOR = Decimal(50)

#: 金额上限: a policy amount above one hundred million yuan is a typing error (a product bound, not policy;
#: kept here because policy is ground and imports no domain app).
MAX_POLICY_AMOUNT = Decimal("100000000")
#: 百分比默认范围 0–100; a key whose percentage may exceed 100 (a base ceiling of 300%) says ``max: null``.
PERCENT_MAX = Decimal(100)

_CATALOG_FIELDS = {"label", "type", "unit", "choices", "grouped", "min", "max", "fields"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class CatalogKey:
    """目录中的一个参数键: its Chinese label, type, unit and (for ``choice``) the allowed codes.

    ``grouped``: the value is one value of ``type`` or a table of them (by person group, hospital level,
    event …, possibly nested), every cell checked as ``type``.
    ``minimum``/``maximum``: the range for numbers (percent 0–100 and amounts ≥ 0 by default).
    ``fields``: for a ``table`` whose value is one record, the record's shape — field name → the field's
    own typed entry; a value with another field, or a field of the wrong type, is refused on load.
    """

    key: str
    label: str
    type: str
    unit: str = ""
    choices: tuple[str, ...] = ()
    grouped: bool = False
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    fields: tuple[CatalogKey, ...] = ()

    @property
    def type_label(self) -> str:
        return TYPES[self.type] + ("（可按类别分列为表格）" if self.grouped else "")

    def describe(self) -> str:
        """The type and unit as staff read them next to the value field, e.g. ``单位：%（8 表示 8%）``."""
        parts = [f"类型：{self.type_label}"]
        if self.type == "percent":
            parts.append(f"单位：{self.unit or '%'}（8 表示 8%，0.05 表示 0.05%）")
        elif self.unit:
            parts.append(f"单位：{self.unit}")
        if self.type == "choice":
            parts.append("可选值：" + " / ".join(self.choices))
        elif self.type == "date":
            parts.append("格式：YYYY-MM-DD")
        elif self.type == "month_day":
            parts.append("格式：MM-DD")
        elif self.type == "bool":
            parts.append("取值：true / false")
        if self.minimum is not None or self.maximum is not None:
            low = "" if self.minimum is None else f"{self.minimum}"
            high = "" if self.maximum is None else f"{self.maximum}"
            parts.append(f"范围：{low}–{high}")
        return "；".join(parts)


def _bound(entry: dict, name: str, default: Decimal | None) -> Decimal | None:
    if name not in entry:
        return default
    return None if entry[name] is None else Decimal(entry[name])


def _catalog_key(path: Path, key: str, entry: Any) -> CatalogKey:
    if not isinstance(entry, dict) or set(entry) - _CATALOG_FIELDS or "label" not in entry or "type" not in entry:
        raise ImproperlyConfigured(
            f"{path}: {key} must be a mapping with label, type[, unit, choices, grouped, min, max, fields]"
        )
    kind = entry["type"]
    if kind not in TYPES:
        raise ImproperlyConfigured(f"{path}: {key} has unknown type {kind!r} (one of {', '.join(TYPES)})")
    choices = tuple(str(c) for c in entry.get("choices") or ())
    if (kind == "choice") != bool(choices):
        raise ImproperlyConfigured(f"{path}: {key}: choices are given for type choice, and only for it")
    fields = entry.get("fields") or {}
    if fields and (kind != "table" or not isinstance(fields, dict)):
        raise ImproperlyConfigured(f"{path}: {key}: fields (a record's shape) are given for type table only")
    shape = tuple(_catalog_key(path, f"{key}.{name}", {"label": name, **(spec or {})}) for name, spec in fields.items())
    default_min = Decimal(0) if kind in NUMERIC_TYPES else None
    default_max = PERCENT_MAX if kind == "percent" else MAX_POLICY_AMOUNT if kind == "amount" else None
    return CatalogKey(
        key=key,
        label=str(entry["label"]),
        type=kind,
        unit=str(entry.get("unit") or ""),
        choices=choices,
        grouped=bool(entry.get("grouped", False)),
        minimum=_bound(entry, "min", default_min),
        maximum=_bound(entry, "max", default_max),
        fields=shape,
    )


@lru_cache(maxsize=1)
def catalog() -> dict[str, CatalogKey]:
    """Every known parameter key, typed (policy/policies/catalog/*.yaml)."""
    keys: dict[str, CatalogKey] = {}
    for path in sorted((POLICY_DIR / "catalog").glob("*.yaml")):
        data = read_yaml(path) or {}
        if not isinstance(data, dict):
            raise ImproperlyConfigured(f"{path}: a catalog is a mapping key → {{label, type, unit}}")
        for key, entry in data.items():
            if key in keys:
                raise ImproperlyConfigured(f"{path}: key {key} is already in another catalog file")
            keys[key] = _catalog_key(path, key, entry)
    return keys


@lru_cache(maxsize=1)
def catalog_labels() -> dict[str, str]:
    """Every known parameter key with its Chinese label."""
    return {key: entry.label for key, entry in catalog().items()}


def _refuse(spec: CatalogKey, value: Any, why: str) -> ValidationError:
    unit = f"，单位 {spec.unit}" if spec.unit else ""
    return ValidationError(f"参数 {spec.key}（{spec.label}）为{spec.type_label}{unit}：{why}（收到 {value!r}）")


def _as_decimal(spec: CatalogKey, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str, float)):
        raise _refuse(spec, value, "须为数字")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _refuse(spec, value, "须为数字") from None
    if not number.is_finite():
        raise _refuse(spec, value, "须为有限的数字")
    return number


def _in_range(spec: CatalogKey, value: Any, number: Decimal) -> Decimal:
    if spec.minimum is not None and number < spec.minimum:
        raise _refuse(spec, value, f"不能小于 {spec.minimum}")
    if spec.maximum is not None and number > spec.maximum:
        raise _refuse(spec, value, f"不能大于 {spec.maximum}")
    return number


def _validate_one(spec: CatalogKey, value: Any) -> Any:
    """One cell of the key's type (``None`` = 本地不适用 is always allowed)."""
    kind = spec.type
    if value is None:
        return None
    if kind in NUMERIC_TYPES:
        number = _in_range(spec, value, _as_decimal(spec, value))
        if kind == "amount" and number != number.quantize(Decimal("0.01")):
            raise _refuse(spec, value, "金额最多两位小数")
        return number
    if kind in COUNT_TYPES:
        number = _as_decimal(spec, value)
        if number != number.to_integral_value() or number < 0:
            raise _refuse(spec, value, "须为非负整数")
        return int(_in_range(spec, value, number))
    if kind == "bool":
        if not isinstance(value, bool):
            raise _refuse(spec, value, "须为 true 或 false")
        return value
    if kind == "date":
        text = value.isoformat() if isinstance(value, date) else value
        if not isinstance(text, str) or not _ISO_DATE.match(text):
            raise _refuse(spec, value, "须为日期 YYYY-MM-DD")
        try:
            date.fromisoformat(text)
        except ValueError:
            raise _refuse(spec, value, "不是有效日期") from None
        return text
    if kind == "month_day":
        match = _MONTH_DAY.match(value) if isinstance(value, str) else None
        if not match:
            raise _refuse(spec, value, "须为月日 MM-DD")
        try:
            date(2000, int(match[1]), int(match[2]))  # 2000 is a leap year: 02-29 is a valid month-day
        except ValueError:
            raise _refuse(spec, value, "不是有效的月日") from None
        return value
    if kind == "choice":
        if not isinstance(value, str) or value not in spec.choices:
            raise _refuse(spec, value, "须为以下之一：" + " / ".join(spec.choices))
        return value
    if kind == "table":
        if not isinstance(value, (dict, list)):
            raise _refuse(spec, value, "须为表格（对象或列表）")
        return _validate_record(spec, value) if spec.fields else value
    if not isinstance(value, str):  # text
        raise _refuse(spec, value, "须为文字")
    return value


def _validate_record(spec: CatalogKey, value: Any) -> Any:
    """A table with a declared shape (``fields``): one record, each field checked as its own entry."""
    shape = {f.key.rsplit(".", 1)[1]: f for f in spec.fields}
    if not isinstance(value, dict):
        raise _refuse(spec, value, "须为一条记录（字段：" + "、".join(shape) + "）")
    unknown = sorted(set(map(str, value)) - set(shape))
    if unknown:
        raise _refuse(spec, value, f"未知字段 {'、'.join(unknown)}（可用字段：{'、'.join(shape)}）")
    for name, field_value in value.items():
        _validate_one(shape[str(name)], field_value)
    return value


def _validate_grouped(spec: CatalogKey, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _validate_grouped(spec, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_validate_grouped(spec, v) for v in value]
    return _validate_one(spec, value)


def validate_value(key: str, value: Any) -> Any:
    """Check ``value`` against the catalog entry of ``key``; return it normalised (Decimal for numbers,
    int for counts, ISO text for dates). Raises ``ValidationError`` naming the key, its type and unit."""
    spec = catalog().get(key)
    if spec is None:
        raise ValidationError(f"参数键 {key!r} 不在政策参数目录（policy/policies/catalog）中")
    if spec.grouped:
        return _validate_grouped(spec, value)
    return _validate_one(spec, value)


def scale_mismatch(key: str, new: Any, current: Any) -> str | None:
    """数量级检查: why ``new`` looks like a slip against ``current`` (the value in force), or ``None``.

    For percent and amount keys only: a new value below 1/50 or above 50× of the one in force (0.0005
    entered for 0.05) is refused unless staff confirm it.
    """
    spec = catalog().get(key)
    if spec is None or spec.type not in SCALED_TYPES or spec.grouped:
        return None
    try:
        new_d, cur_d = Decimal(str(new)), Decimal(str(current))
    except (InvalidOperation, TypeError, ValueError):
        return None
    if isinstance(new, bool) or isinstance(current, bool) or new is None or current is None:
        return None
    if not (new_d.is_finite() and cur_d.is_finite()) or new_d <= 0 or cur_d <= 0:
        return None
    if new_d * SCALE_FACTOR < cur_d or new_d > cur_d * SCALE_FACTOR:
        unit = spec.unit or ""
        return (
            f"新值 {new_d}{unit} 与现行值 {cur_d}{unit} 相差 {SCALE_FACTOR} 倍以上，"
            f"请核对数量级（{spec.describe()}）；确认无误请勾选“确认数量级无误”"
        )
    return None


def jsonable(value: Any) -> Any:
    """A value as stored in the JSON column: Decimal as its text (never float), dates ISO."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value
