"""文件批量申报: an employer's file of many 增减员 requests (.xlsx or .csv), read row by row.

Every row is checked (row-and-field messages: ``第 3 行 身份证号：…``); a file with any bad row submits
nothing (all-or-nothing). Size, rows, columns and the decompressed size of an .xlsx are bounded
(:mod:`enrollment.bounds`). The template we hand out has its cells neutralised like every file we write.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError

from ..bounds import MAX_COLUMNS, MAX_DECOMPRESSED_BYTES, MAX_UPLOAD_BYTES
from ..models import FemaleRole
from ..safe_files import neutralise_cell
from .models import RequestKind
from .services import RequestInput, parse_wage

#: 一个文件最多的申请行数 (a product bound: an employer's monthly changes, not a payroll).
MAX_REQUEST_ROWS = 2000

#: Column headings → field, in the template's order.
COLUMNS = (
    ("申请类型", "kind"),
    ("身份证号", "id_number"),
    ("姓名", "name"),
    ("变动日期", "occurred_on"),
    ("月工资", "monthly_wage"),
    ("女职工身份", "female_role"),
    ("联系电话", "phone"),
    ("申请说明", "note"),
)
LABELS = {f: h for h, f in COLUMNS}
REQUIRED = ("kind", "id_number", "name", "occurred_on")
KINDS = {
    **{label: value for value, label in RequestKind.choices},
    **{v: v for v in RequestKind.values},
    "增员": RequestKind.HIRE,
    "减员": RequestKind.SEPARATION,
}
ROLES = {**{label: value for value, label in FemaleRole.choices}, **{v: v for v in FemaleRole.values}}


class FileRejected(ValueError):
    """The file as a whole cannot be read (type, size, headings)."""


@dataclass
class RowError:
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行 {LABELS.get(self.field, self.field)}：{self.message}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError({"occurred_on": f"日期 {text!r} 无法识别，请写成 2025-03-01。"}) from None


def read_rows(data: bytes, name: str) -> list[tuple[int, dict[str, Any]]]:
    """(row number as the spreadsheet shows it, cells by field) of every non-empty row."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise FileRejected(f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB。")
    suffix = Path(name or "").suffix.lower()
    if suffix == ".xlsx":
        rows = _xlsx(data)
    elif suffix == ".csv":
        rows = _csv(data)
    else:
        raise FileRejected("只接受 .xlsx 或 .csv 文件。")
    try:
        headings = next(rows)
    except StopIteration:
        raise FileRejected("文件是空的。") from None
    if len(headings) > MAX_COLUMNS:
        raise FileRejected(f"列数超过 {MAX_COLUMNS}。")
    index = {}
    for i, heading in enumerate(headings):
        field = dict(COLUMNS).get(_text(heading))
        if field:
            index[field] = i
    missing = [LABELS[f] for f in REQUIRED if f not in index]
    if missing:
        raise FileRejected(f"缺少列：{'、'.join(missing)}（第 1 行应为表头：{'、'.join(h for h, _ in COLUMNS)}）。")
    result = []
    for number, cells in enumerate(rows, start=2):
        if not any(_text(c) for c in cells):
            continue
        if len(result) >= MAX_REQUEST_ROWS:
            raise FileRejected(f"一个文件最多 {MAX_REQUEST_ROWS} 行申请。")
        result.append((number, {f: (cells[i] if i < len(cells) else None) for f, i in index.items()}))
    if not result:
        raise FileRejected("文件没有申请行。")
    return result


def _xlsx(data: bytes):
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            if sum(i.file_size for i in book.infolist()) > MAX_DECOMPRESSED_BYTES:
                raise FileRejected("文件解压后过大。")
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    except FileRejected:
        raise
    except Exception:
        raise FileRejected("无法读取 .xlsx 文件（文件损坏或不是 Excel 工作簿）。") from None
    for row in sheet.iter_rows(values_only=True):
        yield tuple(row[: MAX_COLUMNS + 1])


def _csv(data: bytes):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileRejected("无法识别 .csv 文件的编码（应为 UTF-8 或 GBK）。")
    if "\x00" in text:
        raise FileRejected("不是文本文件。")
    yield from (tuple(r) for r in csv.reader(io.StringIO(text)))


def parse_row(number: int, cells: dict[str, Any]) -> tuple[RequestInput | None, list[RowError]]:
    """One row as a :class:`RequestInput`, or its errors by field."""
    errors: list[RowError] = []
    kind_text = _text(cells.get("kind"))
    kind = KINDS.get(kind_text)
    if kind is None:
        errors.append(RowError(number, "kind", f"{kind_text!r} 不是申请类型（增员、减员、工资变更、信息更正）。"))
    role_text = _text(cells.get("female_role"))
    role = ROLES.get(role_text, "") if role_text else ""
    if role_text and not role:
        errors.append(RowError(number, "female_role", f"{role_text!r} 应为 女干部 或 女工人。"))
    occurred = wage = None
    try:
        occurred = _date(cells.get("occurred_on"))
    except ValidationError as exc:
        errors.append(RowError(number, "occurred_on", exc.message_dict["occurred_on"][0]))
    try:
        wage = parse_wage(_text(cells.get("monthly_wage")))
    except ValidationError as exc:
        errors.append(RowError(number, "monthly_wage", exc.message_dict["monthly_wage"][0]))
    if errors:
        return None, errors
    return (
        RequestInput(
            kind=kind,
            id_number=_text(cells.get("id_number")),
            name=_text(cells.get("name")),
            occurred_on=occurred,
            female_role=role,
            phone=_text(cells.get("phone")),
            monthly_wage=wage,
            note=_text(cells.get("note")),
        ),
        [],
    )


def template_xlsx() -> bytes:
    """The empty template with its headings and one example row (cells neutralised)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "增减员申请"
    sheet.append([neutralise_cell(h) for h, _ in COLUMNS])
    example = ["增员", "（18位身份证号）", "张三", "2025-03-01", "6000.00", "", "13800000000", "新入职"]
    sheet.append([neutralise_cell(v) for v in example])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
