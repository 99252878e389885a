"""File imports: payroll (工资申报) from employers, payments (实缴) from the tax bureau.

The pipeline, for both kinds of file:

1. **upload** (:func:`import_job_create`): the file is checked for size and type and
   stored on an :class:`~contributions.models.ImportJob`; validation is queued.
2. **validate** — the dry run (:func:`import_job_validate`, a Celery task over the job):
   the file is read once, each row is normalised in Python, and everything that needs
   the database is checked *set-wise*: one query per 10 000 身份证号 for the persons,
   one query per year for the spans at the employer, one per 10 000 税票号 for the
   payments already imported. Every bad row is recorded as ``{row, field, message}``
   with the spreadsheet's own row number (the header is row 1).
3. **confirm** (:func:`import_job_commit`): the file is read and validated again, then
   written in ONE transaction with bulk upserts (``INSERT … ON CONFLICT``), batch by
   batch. Any failure rolls everything back: all rows or none. A file with bad rows is
   committed only if the user explicitly asks to skip them (``skip_errors``); the
   rejected rows can be downloaded (:func:`rejected_rows_xlsx`), fixed and re-uploaded
   (importing a payroll row again is an upsert, a payment reference is never imported twice).

Progress (``processed_rows`` of ``total_rows``) is written while the job runs, so the
job page can poll it; during the commit transaction it is written through a second
connection on PostgreSQL (elsewhere it becomes visible when the transaction ends).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from config.policy import Policy
from enrollment.identifiers import parse_id_number
from enrollment.models import Category, Employer, EnrolmentSpan, InsuredPerson, employer_id_of

from . import periods
from .models import ImportJob, ImportKind, ImportStatus, Payment, PaymentSource, WageDeclaration

log = logging.getLogger(__name__)

#: Files above this size are refused before they are read (the form says so).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: Data rows per file (a 100 000-row payroll is about 4 MB as .xlsx, 6 MB as .csv).
MAX_ROWS = 200_000
ALLOWED_EXTENSIONS = (".xlsx", ".csv")
#: Rows per INSERT in the commit; ids per IN (...) query in the validation.
COMMIT_BATCH = 5_000
LOOKUP_BATCH = 10_000
PROGRESS_EVERY = 5_000
#: Errors kept on the job (the rejected-rows file is rebuilt from the file and these).
MAX_STORED_ERRORS = MAX_ROWS * 2
ERROR_COLUMN = "错误说明"


class FileRejected(Exception):
    """The whole file is refused (too large, not a spreadsheet, missing columns, ...)."""


class ImportAborted(Exception):
    """The commit found the data changed since the dry run; nothing was written."""


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


# ---------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of an import file: its field, its Chinese header and the other headers accepted."""

    field: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = True


PAYROLL_COLUMNS: tuple[Column, ...] = (
    Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "证件号码", "证件号")),
    Column("name", "姓名", ("职工姓名", "人员姓名")),
    Column("monthly_wage", "月工资", ("月平均工资", "月工资收入", "上年度月平均工资", "缴费工资"), required=False),
    Column("annual_wage_total", "上年工资总额", ("上年度工资总额", "年工资总额", "工资总额"), required=False),
    Column("year", "年度", ("缴费年度", "所属年度", "所属期", "费款所属期", "申报年度"), required=False),
    Column("first_pay_month", "起薪月份", ("起薪当月", "起薪时间"), required=False),
)

PAYMENT_COLUMNS: tuple[Column, ...] = (
    Column("reference", "电子税票号", ("税票号", "电子税票号码", "票证号码")),
    Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "证件号码", "缴费人证件号码")),
    Column("amount", "金额", ("缴款金额", "实缴金额", "缴费金额")),
    Column("paid_on", "缴款日期", ("缴费日期", "入库日期", "到账日期")),
    Column("name", "姓名", ("缴费人姓名", "人员姓名"), required=False),
)

COLUMNS = {ImportKind.PAYROLL: PAYROLL_COLUMNS, ImportKind.PAYMENT: PAYMENT_COLUMNS}
_LABEL = {c.field: c.label for cols in COLUMNS.values() for c in cols}


def _header_key(value: Any) -> str:
    """Compare headers without spaces, case, unit suffixes or required-field stars: "月工资（元）*" → "月工资"."""
    text = re.sub(r"[\s\u3000*＊]", "", str(value or "")).lower()
    return re.sub(r"[（(](元|人民币|yyyy.*|年-?月.*|文本)[)）]$", "", text)


def map_headers(headers: Sequence[Any], columns: Sequence[Column]) -> dict[str, int]:
    """Field → column index. Raises :class:`FileRejected` naming the missing columns."""
    index: dict[str, int] = {}
    keys = [_header_key(h) for h in headers]
    for col in columns:
        accepted = {_header_key(a) for a in (col.label, col.field, *col.aliases)}
        for i, key in enumerate(keys):
            if key in accepted and col.field not in index:
                index[col.field] = i
    missing = [c.label for c in columns if c.required and c.field not in index]
    if columns is PAYROLL_COLUMNS and "monthly_wage" not in index and "annual_wage_total" not in index:
        missing.append("月工资 或 上年工资总额")
    if missing:
        found = "、".join(str(h) for h in headers if h not in (None, "")) or "（无）"
        raise FileRejected(f"缺少必需的列：{'、'.join(missing)}。第1行应为表头，文件中的表头为：{found}。")
    return index


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------


@dataclass
class Table:
    """The first sheet of a file: the header row and the non-blank data rows with their row numbers."""

    headers: list[Any]
    rows: list[tuple[int, tuple[Any, ...]]]

    def __len__(self) -> int:
        return len(self.rows)


def check_upload(name: str, size: int) -> None:
    """Refuse a file by name and size before reading it."""
    if not name.lower().endswith(ALLOWED_EXTENSIONS):
        hint = "请在 Excel 中“另存为” .xlsx 后上传。" if name.lower().endswith((".xls", ".et", ".ods")) else ""
        raise FileRejected(f"只接受 .xlsx 或 .csv 文件，收到的是“{name}”。{hint}")
    if size > MAX_UPLOAD_BYTES:
        raise FileRejected(
            f"文件过大：{size / 1024 / 1024:.1f} MB，上限为 {MAX_UPLOAD_BYTES // 1024 // 1024} MB"
            f"（约 {MAX_ROWS:,} 行）。请拆分后分批上传。"
        )
    if size == 0:
        raise FileRejected("文件是空的。")


def read_table(data: bytes, name: str) -> Table:
    """Read an .xlsx (first sheet) or .csv (UTF-8 or GB18030) file. Raises :class:`FileRejected`."""
    check_upload(name, len(data))
    rows = _read_xlsx(data) if name.lower().endswith(".xlsx") else _read_csv(data)
    try:
        headers = list(next(rows))
    except StopIteration:
        raise FileRejected("文件中没有数据：第1行应为表头，之后每行一人。") from None
    except FileRejected:
        raise
    except Exception as exc:  # a damaged sheet or CSV: the whole file is refused, with the reason
        raise FileRejected(f"无法读取文件：{type(exc).__name__}。请用 Excel 重新保存后上传。") from None
    table = Table(headers=headers, rows=[])
    try:
        for number, cells in enumerate(rows, start=2):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            if len(table.rows) >= MAX_ROWS:
                raise FileRejected(f"行数超过上限 {MAX_ROWS:,} 行，请拆分后分批上传。")
            table.rows.append((number, tuple(cells)))
    except FileRejected:
        raise
    except Exception as exc:
        raise FileRejected(f"无法读取文件第 {len(table.rows) + 2} 行附近：{type(exc).__name__}。") from None
    if not table.rows:
        raise FileRejected("文件中没有数据行：只有表头。")
    return table


#: An .xlsx is a zip: refuse one that would expand beyond this (a "zip bomb").
MAX_XLSX_EXPANDED_BYTES = 400 * 1024 * 1024


def _read_xlsx(data: bytes) -> Iterator[tuple[Any, ...]]:
    """The first sheet's rows. A streaming reader of the sheet XML (about ten times faster than
    openpyxl's read-only mode on 100 000 rows); openpyxl reads any file this reader cannot."""
    if not data.startswith(b"PK") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise FileRejected("文件不是有效的 Excel 工作簿（.xlsx）。请确认文件未损坏，且不是改了扩展名的其他文件。")
    book = zipfile.ZipFile(io.BytesIO(data))
    if sum(i.file_size for i in book.infolist()) > MAX_XLSX_EXPANDED_BYTES:
        raise FileRejected("Excel 工作簿解压后过大，请拆分后分批上传。")
    try:
        sheet, shared, date_styles = _xlsx_parts(book)
    except Exception:
        return _read_xlsx_openpyxl(data)
    return _xlsx_rows(book, sheet, shared, date_styles)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xlsx_parts(book: zipfile.ZipFile) -> tuple[str, list[str], set[int]]:
    """The first worksheet's path, the shared strings, and the style indexes that format dates."""
    from xml.etree import ElementTree

    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    names = set(book.namelist())
    sheet = "xl/worksheets/sheet1.xml"
    if "xl/workbook.xml" in names and "xl/_rels/workbook.xml.rels" in names:
        first = next(e for e in ElementTree.fromstring(book.read("xl/workbook.xml")).iter() if _local(e.tag) == "sheet")
        rid = next(v for k, v in first.attrib.items() if _local(k) == "id")
        for rel in ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels")):
            if rel.get("Id") == rid:
                target = rel.get("Target", "")
                sheet = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    if sheet not in names:
        raise KeyError(sheet)
    shared: list[str] = []
    if "xl/sharedStrings.xml" in names:
        for si in ElementTree.fromstring(book.read("xl/sharedStrings.xml")):
            if _local(si.tag) == "si":
                # Plain <t>, or rich-text runs <r><t>; phonetic <rPh> runs are not part of the text.
                shared.append("".join(t.text or "" for t in _texts(si)))
    date_styles: set[int] = set()
    if "xl/styles.xml" in names:
        styles = ElementTree.fromstring(book.read("xl/styles.xml"))
        custom = {
            int(f.get("numFmtId")): f.get("formatCode", "")
            for f in styles.iter()
            if _local(f.tag) == "numFmt" and f.get("numFmtId", "").isdigit()
        }
        xfs = next((e for e in styles if _local(e.tag) == "cellXfs"), [])
        for i, xf in enumerate(x for x in xfs if _local(x.tag) == "xf"):
            fmt_id = int(xf.get("numFmtId", "0"))
            fmt = custom.get(fmt_id, BUILTIN_FORMATS.get(fmt_id, "General"))
            if is_date_format(fmt):
                date_styles.add(i)
    return sheet, shared, date_styles


def _texts(element) -> Iterator[Any]:
    """The <t> elements of a string item, skipping phonetic runs (<rPh>)."""
    for child in element:
        name = _local(child.tag)
        if name == "t":
            yield child
        elif name == "r":
            yield from (t for t in child if _local(t.tag) == "t")


_DIGITS = "0123456789"


def _column_index(ref: str, cache: dict[str, int]) -> int:
    """0-based column of a cell reference ("C12" → 2)."""
    letters = ref.rstrip(_DIGITS)
    index = cache.get(letters)
    if index is None:
        index = 0
        for ch in letters.upper():
            index = index * 26 + ord(ch) - 64
        index = cache[letters] = index - 1
    return index


class _SheetHandler:
    """pyexpat callbacks turning ``<row><c r t s><v>…</v></c></row>`` into tuples of values.

    Elements are matched by local name, so prefixed (``x:c``) and strict-OOXML sheets work.
    """

    def __init__(self, shared: list[str], date_styles: set[int]):
        from openpyxl.utils.datetime import from_excel

        self.shared, self.date_styles, self.from_excel = shared, date_styles, from_excel
        self.rows: list[tuple[int, tuple[Any, ...]]] = []
        self.columns: dict[str, int] = {}
        self.row_number = 0
        self.cells: dict[int, Any] = {}
        self.position = 0
        self.kind, self.style = "n", 0
        self.text: list[str] | None = None  # collecting <v> or <t> text
        self.value_text: str | None = None
        self.inline: list[str] = []
        self.in_phonetic = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        name = name.rpartition(":")[2]
        if name == "c":
            ref = attrs.get("r")
            if ref:
                self.position = _column_index(ref, self.columns)
            self.kind, self.style = attrs.get("t", "n"), int(attrs.get("s", 0))
            self.value_text, self.inline = None, []
        elif name == "v" or (name == "t" and not self.in_phonetic):
            self.text = []
        elif name == "row":
            self.row_number = int(attrs.get("r") or self.row_number + 1)
            self.cells, self.position = {}, 0
        elif name == "rPh":
            self.in_phonetic = True

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    def end(self, name: str) -> None:
        name = name.rpartition(":")[2]
        if name == "v" and self.text is not None:
            self.value_text, self.text = "".join(self.text), None
        elif name == "t" and self.text is not None:
            self.inline.append("".join(self.text))
            self.text = None
        elif name == "c":
            self.cells[self.position] = self._value()
            self.position += 1
        elif name == "row":
            cells = self.cells
            self.rows.append((self.row_number, tuple(cells.get(i) for i in range(max(cells) + 1)) if cells else ()))
        elif name == "rPh":
            self.in_phonetic = False

    def _value(self) -> Any:
        kind, text = self.kind, self.value_text
        if kind == "s":
            return self.shared[int(text)] if text is not None else None
        if kind == "inlineStr":
            return "".join(self.inline)
        if kind in ("str", "e"):
            return text
        if kind == "b":
            return None if text is None else text == "1"
        if kind == "d":
            return datetime.fromisoformat(text) if text else None
        if text is None:
            return None
        value = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
        return self.from_excel(value) if self.style in self.date_styles else value


def _xlsx_rows(
    book: zipfile.ZipFile, sheet: str, shared: list[str], date_styles: set[int]
) -> Iterator[tuple[Any, ...]]:
    """Stream the sheet through pyexpat (about four times faster than ElementTree.iterparse)."""
    import pyexpat

    handler = _SheetHandler(shared, date_styles)
    parser = pyexpat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.data
    expected = 1
    with book.open(sheet) as stream:
        while True:
            chunk = stream.read(1 << 16)
            parser.Parse(chunk, not chunk)
            for number, cells in handler.rows:
                while expected < number:  # rows absent from the XML are blank rows
                    yield ()
                    expected += 1
                yield cells
                expected = number + 1
            handler.rows.clear()
            if not chunk:
                break


def _read_xlsx_openpyxl(data: bytes) -> Iterator[tuple[Any, ...]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise FileRejected(f"无法读取 Excel 工作簿：{type(exc).__name__}。请用 Excel 重新保存为 .xlsx。") from None

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            yield from book.worksheets[0].iter_rows(values_only=True)
        finally:
            book.close()

    return rows()


def _read_csv(data: bytes) -> Iterator[tuple[Any, ...]]:
    if b"\x00" in data[:4096]:
        raise FileRejected("文件不是文本格式的 CSV（含二进制内容）。请上传 .xlsx 或另存为 CSV。")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileRejected("无法识别 CSV 文件的编码（应为 UTF-8 或 GBK）。")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return (tuple(row) for row in csv.reader(io.StringIO(text), dialect))


# ---------------------------------------------------------------------------------------------
# Cell normalisation: each returns the value or raises ValueError with the message for the user
# ---------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_id_cell(value: Any) -> str:
    """身份证号: 18 characters, check digit per GB 11643 (via :func:`enrollment.identifiers.parse_id_number`)."""
    if isinstance(value, float):
        raise ValueError("身份证号被存成了数字，后几位已丢失；请把该列设为“文本”格式后重新填写。")
    text = _text(value).upper().replace(" ", "")
    if not text:
        raise ValueError("身份证号未填写。")
    try:
        parse_id_number(text)
    except ValidationError as exc:
        raise ValueError(exc.messages[0]) from None
    return text


_MONEY_LIMIT = Decimal("999999999999.99")  # DecimalField(14, 2)


def parse_money(value: Any, *, label: str, positive: bool = False) -> Decimal | None:
    """An amount in yuan, at most 2 decimals; ``None`` for an empty cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{label}不是数字：{value}。")
    if isinstance(value, float):
        amount = Decimal(repr(value))
        rounded = amount.quantize(Decimal("0.01"))
        if abs(amount - rounded) < Decimal("0.000001"):  # binary float noise from Excel formulas
            amount = rounded
    elif isinstance(value, int | Decimal):
        amount = Decimal(value)
    else:
        text = re.sub(r"[\s,，¥￥元]", "", str(value))
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{label}不是数字：“{value}”。") from None
        if not amount.is_finite():
            raise ValueError(f"{label}不是数字：“{value}”。")
    if amount < 0:
        raise ValueError(f"{label}不能为负数：{amount}。")
    if positive and amount == 0:
        raise ValueError(f"{label}应大于0。")
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{label}最多保留两位小数：{amount}。")
    if amount > _MONEY_LIMIT:
        raise ValueError(f"{label}超出允许范围：{amount}。")
    return amount.quantize(Decimal("0.01"))


_MONTH_RE = re.compile(r"^(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*月?(?:[-/.](\d{1,2})日?)?$")
_YEAR_RE = re.compile(r"^(\d{4})\s*(?:年度?)?$")
_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_period(value: Any) -> tuple[int, int | None] | None:
    """年度/所属期: ``(year, None)`` for a year, ``(year, month)`` for a month; ``None`` when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime | date):
        return value.year, value.month
    text = _text(value)
    if m := _YEAR_RE.match(text):
        return int(m[1]), None
    if re.fullmatch(r"\d{6}", text):  # 202407
        year, month = int(text[:4]), int(text[4:])
    elif m := _MONTH_RE.match(text):
        year, month = int(m[1]), int(m[2])
    else:
        raise ValueError(f"年度/所属期格式不正确：“{value}”，应为 2024 或 2024-07。")
    if not 1 <= month <= 12:
        raise ValueError(f"年度/所属期的月份不正确：“{value}”。")
    return year, month


def parse_date_cell(value: Any, *, label: str) -> date | None:
    """A date cell, or text such as 2024-05-20, 2024/5/20, 20240520, 2024年5月20日."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    try:
        if re.fullmatch(r"\d{8}", text):
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if m := _DATE_RE.match(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?", text):
            return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"{label}不是有效日期：“{value}”。") from None
    raise ValueError(f"{label}格式不正确：“{value}”，应为 2024-05-20。")


def parse_month_cell(value: Any, *, label: str) -> date | None:
    """A month (first day): 2024-03, 202403, 2024年3月, or a date cell."""
    period = parse_period(value)
    if period is None:
        return None
    year, month = period
    if month is None:
        raise ValueError(f"{label}应为年月，例如 2024-03：“{value}”。")
    return date(year, month, 1)


# ---------------------------------------------------------------------------------------------
# Contribution years
# ---------------------------------------------------------------------------------------------


def contribution_year_bounds(jurisdiction: str, year: int, *, on: date) -> tuple[date, date]:
    """``[start, end)`` of the base year labelled ``year`` (:func:`contributions.periods.base_year_label`).

    langfang and sanmenxia: from 1 July (第二十一条, 第六条); elsewhere the calendar year.
    """
    policy = Policy(jurisdiction, on)
    return periods.base_year_bounds(policy, periods.base_year_start(policy, date(year, 12, 31)))


def contribution_year_of(jurisdiction: str, on: date) -> int:
    """The label of the base year that contains ``on``."""
    return periods.base_year_label(periods.base_year_start(Policy(jurisdiction, on), on))


def payroll_years(jurisdiction: str, as_of: date) -> tuple[int, int]:
    """The years a payroll may be declared for on ``as_of``: the current and the next contribution year."""
    current = contribution_year_of(jurisdiction, as_of)
    return current, current + 1


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


Progress = Callable[[int], None]


@dataclass
class Validation:
    """The dry run's result: rows ready to write (by row number) and every error found."""

    total: int
    valid: dict[int, dict[str, Any]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})

    def add(self, row: int, field_name: str, message: str) -> None:
        self.errors.append(RowError(row, _LABEL.get(field_name, field_name), message))
        self.valid.pop(row, None)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def persons_by_id_number(id_numbers: Iterable[str]) -> dict[str, tuple[int, str]]:
    """身份证号 → (person id, name): one query per :data:`LOOKUP_BATCH` numbers (PostgreSQL: one array)."""
    numbers = sorted(set(id_numbers))
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT id_number, id, name FROM {InsuredPerson._meta.db_table} WHERE id_number = ANY(%s)", [numbers]
            )
            return {number: (pk, name) for number, pk, name in cur.fetchall()}
    found: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(numbers, LOOKUP_BATCH):
        for number, pk, name in InsuredPerson.objects.filter(id_number__in=chunk).values_list(
            "id_number", "id", "name"
        ):
            found[number] = (pk, name)
    return found


def references_imported(references: Iterable[str]) -> set[str]:
    """The 电子税票号 among ``references`` already recorded as payments: one query per batch."""
    refs = sorted(set(references))
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"SELECT reference FROM {Payment._meta.db_table} WHERE reference = ANY(%s)", [refs])
            return {r for (r,) in cur.fetchall()}
    found: set[str] = set()
    for chunk in _chunks(refs, LOOKUP_BATCH):
        found.update(Payment.objects.filter(reference__in=chunk).values_list("reference", flat=True))
    return found


def employees_at(employer_id: int, start: date, end: date) -> set[int]:
    """Ids of persons with an 在职职工 span at the employer overlapping ``[start, end)``: one query."""
    return set(
        EnrolmentSpan.objects.filter(employer_id=employer_id, category=Category.EMPLOYEE, start__lt=end)
        .filter(Q(end__isnull=True) | Q(end__gt=start))
        .values_list("person_id", flat=True)
    )


def _cells(cells: tuple[Any, ...], index: dict[str, int]) -> dict[str, Any]:
    return {f: (cells[i] if i < len(cells) else None) for f, i in index.items()}


def _normalise(result: Validation, number: int, raw: dict[str, Any], parsers: dict[str, Callable]) -> dict:
    row: dict[str, Any] = {}
    ok = True
    for name, parse in parsers.items():
        try:
            row[name] = parse(raw.get(name))
        except ValueError as exc:
            result.errors.append(RowError(number, _LABEL.get(name, name), str(exc)))
            ok = False
    if ok:
        result.valid[number] = row
    return row


def _duplicates(result: Validation, rows: dict[int, dict[str, Any]], key: Callable, field_name: str, what: str):
    """Reject every occurrence of a key seen on more than one row ("与第 N 行重复")."""
    seen: dict[Any, list[int]] = defaultdict(list)
    for number, row in rows.items():
        k = key(row)
        if k is not None:
            seen[k].append(number)
    for numbers in seen.values():
        if len(numbers) > 1:
            for n in numbers:
                others = "、".join(str(o) for o in numbers if o != n)
                result.add(n, field_name, f"{what}在文件中重复：与第 {others} 行重复，请只保留一行。")


def _keys(*names: str) -> Callable[[dict[str, Any]], tuple | None]:
    """The duplicate key of a row: its values of ``names``, or None when one did not parse."""
    return lambda row: tuple(row[n] for n in names) if all(n in row for n in names) else None


def _check_name(result: Validation, number: int, given: str, registered: str) -> None:
    if given and given.replace(" ", "") != registered.replace(" ", ""):
        # Do not show the registered name: the row may be someone else's person.
        result.add(number, "name", "姓名与参保登记信息不一致，请核对身份证号和姓名。")


def payroll_validate(
    table: Table,
    *,
    employer: Employer,
    as_of: date,
    default_year: int | None = None,
    progress: Progress | None = None,
) -> Validation:
    """Check a payroll file for ``employer`` (dry run). Writes nothing.

    Rows must name a person enrolled as 在职职工 at this employer during the declared
    contribution year, which must be the current or the next one on ``as_of``.
    """
    index = map_headers(table.headers, PAYROLL_COLUMNS)
    jurisdiction = employer.jurisdiction.code
    allowed = payroll_years(jurisdiction, as_of)
    first_month = contribution_year_bounds(jurisdiction, allowed[0], on=as_of)[0].month
    result = Validation(total=len(table))

    def year_of(value: Any) -> int | None:
        period = parse_period(value)
        if period is None:
            if default_year is None:
                raise ValueError(f"年度未填写（应为 {allowed[0]} 或 {allowed[1]}）。")
            return default_year
        year, month = period
        if month is not None:  # a month → the contribution year containing it
            year = year if month >= first_month else year - 1
        if year not in allowed:
            raise ValueError(f"年度 {year} 不可申报：只能申报当前缴费年度 {allowed[0]} 或下一缴费年度 {allowed[1]}。")
        return year

    parsers = {
        "id_number": parse_id_cell,
        "name": lambda v: _text(v),
        "monthly_wage": lambda v: parse_money(v, label="月工资"),
        "annual_wage_total": lambda v: parse_money(v, label="上年工资总额"),
        "year": year_of,
        "first_pay_month": lambda v: parse_month_cell(v, label="起薪月份"),
    }
    parsed: dict[int, dict[str, Any]] = {}
    for i, (number, cells) in enumerate(table.rows, start=1):
        row = parsed[number] = _normalise(result, number, _cells(cells, index), parsers)
        if not row.get("name") and "name" in row:
            result.add(number, "name", "姓名未填写。")
        if "monthly_wage" in row and "annual_wage_total" in row and row["monthly_wage"] is None:
            if row["annual_wage_total"] is None:
                result.add(number, "monthly_wage", "月工资和上年工资总额至少填写一项。")
        if progress and i % PROGRESS_EVERY == 0:
            progress(i // 2)  # parsing is the first half of the work
    # Duplicates among all rows that name a person and a year, whatever else is wrong with them.
    _duplicates(result, parsed, _keys("id_number", "year"), "id_number", "同一人员同一年度")

    # Set-wise checks: the persons, then the employer's employees for each year.
    persons = persons_by_id_number(r["id_number"] for r in result.valid.values())
    if progress:
        progress(len(table) * 3 // 4)
    spans = {
        year: employees_at(employer.pk, *contribution_year_bounds(jurisdiction, year, on=as_of)) for year in allowed
    }
    for number, row in list(result.valid.items()):
        person = persons.get(row["id_number"])
        if person is None:
            result.add(number, "id_number", "未找到该身份证号的参保登记，请先办理参保登记。")
            continue
        person_id, registered_name = person
        if person_id not in spans[row["year"]]:
            result.add(number, "id_number", f"该人员在 {row['year']} 缴费年度未在本单位以在职职工身份参保。")
            continue
        _check_name(result, number, row["name"], registered_name)
        row["person_id"] = person_id

    existing = {
        (p, y): (m, a, f)
        for p, y, m, a, f in WageDeclaration.objects.filter(employer=employer, year__in=allowed).values_list(
            "person_id", "year", "monthly_wage", "annual_wage_total", "first_pay_month"
        )
    }
    new = changed = unchanged = 0
    for row in result.valid.values():
        old = existing.get((row["person_id"], row["year"]))
        values = (row["monthly_wage"], row["annual_wage_total"], row["first_pay_month"])
        row["change"] = "new" if old is None else ("same" if old == values else "update")
        new += old is None
        changed += old is not None and old != values
        unchanged += old == values
    result.errors.sort(key=lambda e: e.row)
    result.summary = {
        "valid_rows": len(result.valid),
        "error_rows": result.error_rows,
        "to_create": new,
        "to_update": changed,
        "unchanged": unchanged,
        "years": sorted({r["year"] for r in result.valid.values()}),
        "allowed_years": list(allowed),
    }
    if progress:
        progress(len(table))
    return result


def payment_validate(table: Table, *, as_of: date, progress: Progress | None = None) -> Validation:
    """Check a tax-bureau payment file (dry run). A reference already imported is "已导入"."""
    index = map_headers(table.headers, PAYMENT_COLUMNS)
    result = Validation(total=len(table))

    def reference(value: Any) -> str:
        text = _text(value)
        if not text:
            raise ValueError("电子税票号未填写。")
        if len(text) > Payment._meta.get_field("reference").max_length:
            raise ValueError(f"电子税票号过长：“{text}”。")
        return text

    def paid_on(value: Any) -> date:
        day = parse_date_cell(value, label="缴款日期")
        if day is None:
            raise ValueError("缴款日期未填写。")
        if day > as_of:
            raise ValueError(f"缴款日期 {day} 晚于导入日期 {as_of}。")
        return day

    parsers = {
        "reference": reference,
        "id_number": parse_id_cell,
        "amount": lambda v: _require(parse_money(v, label="金额", positive=True), "金额未填写。"),
        "paid_on": paid_on,
        "name": lambda v: _text(v),
    }
    parsed: dict[int, dict[str, Any]] = {}
    for i, (number, cells) in enumerate(table.rows, start=1):
        parsed[number] = _normalise(result, number, _cells(cells, index), parsers)
        if progress and i % PROGRESS_EVERY == 0:
            progress(i // 2)

    _duplicates(result, parsed, _keys("reference"), "reference", "电子税票号")
    already = references_imported(r["reference"] for r in result.valid.values())
    persons = persons_by_id_number(r["id_number"] for r in result.valid.values())
    if progress:
        progress(len(table) * 3 // 4)
    for number, row in list(result.valid.items()):
        if row["reference"] in already:
            result.add(number, "reference", "已导入：该电子税票号已经导入过，不能重复入账。")
            continue
        person = persons.get(row["id_number"])
        if person is None:
            result.add(number, "id_number", "未找到该身份证号的参保登记。")
            continue
        _check_name(result, number, row["name"], person[1])
        row["person_id"] = person[0]
    result.errors.sort(key=lambda e: e.row)
    result.summary = {
        "valid_rows": len(result.valid),
        "error_rows": result.error_rows,
        "to_create": len(result.valid),
        "amount_total": str(sum((r["amount"] for r in result.valid.values()), Decimal("0.00"))),
    }
    if progress:
        progress(len(table))
    return result


def _require(value: Any, message: str) -> Any:
    if value is None:
        raise ValueError(message)
    return value


# ---------------------------------------------------------------------------------------------
# Writing (inside the commit transaction)
# ---------------------------------------------------------------------------------------------


class _Writer:
    """Writes the rows of one commit in batches, inside the commit's transaction.

    PostgreSQL: ``COPY`` (into a temporary table for an upsert); elsewhere ``bulk_create``.
    """

    def __init__(self, job: ImportJob, now: datetime):
        self.job, self.now = job, now
        self.pg = connection.vendor == "postgresql"

    def write(self, rows: list[tuple]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass

    def _copy(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        cols = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cur, cur.connection.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


class _WageWriter(_Writer):
    """Upsert of WageDeclaration on (person, employer, year): INSERT … ON CONFLICT DO UPDATE."""

    STAGE = "contributions_import_wage"
    FIELDS = ("monthly_wage", "annual_wage_total", "first_pay_month", "import_job_id", "declared_by_id", "declared_at")

    def __init__(self, job: ImportJob, now: datetime, employer: Employer):
        super().__init__(job, now)
        self.employer = employer
        if self.pg:
            with connection.cursor() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {self.STAGE}")
                cur.execute(
                    f"CREATE TEMPORARY TABLE {self.STAGE} (person_id bigint, year smallint, "
                    "monthly_wage numeric(14, 2), annual_wage_total numeric(14, 2), first_pay_month date) "
                    "ON COMMIT DROP"
                )

    def write(self, rows: list[tuple]) -> None:
        if self.pg:
            self._copy(self.STAGE, ("person_id", "year", "monthly_wage", "annual_wage_total", "first_pay_month"), rows)
            return
        WageDeclaration.objects.bulk_create(
            [
                WageDeclaration(
                    person_id=p,
                    employer_id=self.employer.pk,
                    year=y,
                    monthly_wage=m,
                    annual_wage_total=a,
                    first_pay_month=f,
                    import_job_id=self.job.pk,
                    declared_by_id=self.job.uploaded_by_id,
                    declared_at=self.now,
                )
                for p, y, m, a, f in rows
            ],
            batch_size=COMMIT_BATCH,
            update_conflicts=True,
            unique_fields=["person", "employer", "year"],
            update_fields=[
                "monthly_wage",
                "annual_wage_total",
                "first_pay_month",
                "import_job",
                "declared_by",
                "declared_at",
            ],
        )

    def finish(self) -> None:
        if not self.pg:
            return
        table = WageDeclaration._meta.db_table
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in self.FIELDS)
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (person_id, employer_id, year, monthly_wage, annual_wage_total, "
                f"first_pay_month, import_job_id, declared_by_id, declared_at) "
                f"SELECT person_id, %s, year, monthly_wage, annual_wage_total, first_pay_month, %s, %s, %s "
                f"FROM {self.STAGE} ON CONFLICT (person_id, employer_id, year) DO UPDATE SET {updates}",
                [self.employer.pk, self.job.pk, self.job.uploaded_by_id, self.now],
            )
            cur.execute(f"DROP TABLE {self.STAGE}")


class _PaymentWriter(_Writer):
    """Insert of Payment (a reference already present fails the whole commit: unique constraint)."""

    COLUMNS = (
        "person_id",
        "amount",
        "paid_on",
        "source",
        "reference",
        "unapplied_amount",
        "import_job_id",
        "recorded_by_id",
        "recorded_at",
    )

    def write(self, rows: list[tuple]) -> None:
        full = [
            (p, amount, paid_on, PaymentSource.TAX_FILE, ref, amount, self.job.pk, self.job.uploaded_by_id, self.now)
            for p, amount, paid_on, ref in rows
        ]
        if self.pg:
            self._copy(Payment._meta.db_table, self.COLUMNS, full)
        else:
            Payment.objects.bulk_create(
                [Payment(**dict(zip(self.COLUMNS, r, strict=True))) for r in full], batch_size=COMMIT_BATCH
            )


def write_batch(writer: _Writer, rows: list[tuple]) -> None:
    """Write one batch (a seam for tests that inject a failure mid-commit)."""
    writer.write(rows)


def _write_all(writer: _Writer, rows: list[tuple], progress: Progress | None) -> None:
    written = 0
    for batch in _chunks(rows, COMMIT_BATCH):
        write_batch(writer, list(batch))
        written += len(batch)
        if progress:
            progress(written)
    writer.finish()


def payroll_write(
    validation: Validation, *, employer: Employer, job: ImportJob, progress: Progress | None = None
) -> dict[str, int]:
    """Upsert the valid rows into WageDeclaration (person, employer, year), batch by batch.

    Rows whose declaration is already exactly as in the file are not written again,
    so importing the same file twice changes nothing the second time.
    """
    rows = [
        (r["person_id"], r["year"], r["monthly_wage"], r["annual_wage_total"], r["first_pay_month"])
        for r in validation.valid.values()
        if r["change"] != "same"
    ]
    _write_all(_WageWriter(job, timezone.now(), employer), rows, progress)
    s = validation.summary
    return {"created": s["to_create"], "updated": s["to_update"], "unchanged": s["unchanged"]}


def payment_write(validation: Validation, *, job: ImportJob, progress: Progress | None = None) -> dict[str, int]:
    """Insert the valid rows as Payment (source 税务缴费文件, nothing applied yet)."""
    rows = [(r["person_id"], r["amount"], r["paid_on"], r["reference"]) for r in validation.valid.values()]
    _write_all(_PaymentWriter(job, timezone.now()), rows, progress)
    return {"created": len(rows)}


# ---------------------------------------------------------------------------------------------
# Jobs: create, validate, commit (the Celery tasks in import_tasks call these)
# ---------------------------------------------------------------------------------------------


def import_job_create(
    *,
    kind: str,
    uploaded_file: UploadedFile,
    user,
    as_of: date,
    employer: Employer | None = None,
    year: int | None = None,
) -> ImportJob:
    """Store an uploaded file as a new job. Raises :class:`FileRejected` for a file refused outright."""
    name = uploaded_file.name or "upload"
    check_upload(name, uploaded_file.size or 0)
    if kind == ImportKind.PAYROLL and employer is None:
        raise FileRejected("工资申报必须指定用人单位。")
    own = employer_id_of(user)
    if own is not None and (kind != ImportKind.PAYROLL or employer.pk != own):
        # An employer user imports only their own employer's payroll (enrollment.models.visible_to).
        raise PermissionDenied("单位经办员只能为本单位导入工资申报。")
    params: dict[str, Any] = {"as_of": as_of.isoformat()}
    if year is not None:
        params["year"] = year
    job = ImportJob(
        kind=kind,
        employer=employer,
        uploaded_by=user,
        original_name=name[:255],
        status=ImportStatus.UPLOADED,
        dry_run_summary={"params": params},
    )
    job.file.save(f"{kind}-{timezone.now():%Y%m%d-%H%M%S}-{_safe(name)}", uploaded_file, save=False)
    job.save()
    return job


def _safe(name: str) -> str:
    return re.sub(r"[^\w.\-]", "_", name)[-80:]


def _params(job: ImportJob) -> tuple[date, int | None]:
    params = job.dry_run_summary.get("params", {})
    return date.fromisoformat(params["as_of"]), params.get("year")


def _read_job_file(job: ImportJob) -> Table:
    with job.file.open("rb") as f:
        data = f.read()
    return read_table(data, job.original_name or job.file.name)


def _validate(job: ImportJob, table: Table, progress: Progress | None) -> Validation:
    as_of, year = _params(job)
    if job.kind == ImportKind.PAYROLL:
        return payroll_validate(table, employer=job.employer, as_of=as_of, default_year=year, progress=progress)
    return payment_validate(table, as_of=as_of, progress=progress)


class _ProgressWriter:
    """Writes ``processed_rows`` so other connections see it, even from inside a transaction.

    On PostgreSQL a second connection is used while a transaction is open; on SQLite a
    second writer would wait for the first, so the row is updated in the same
    connection (visible when the transaction ends).
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.side = None

    def __call__(self, processed: int) -> None:
        if connection.in_atomic_block and connection.vendor == "postgresql":
            if self.side is None:
                self.side = connections.create_connection(DEFAULT_DB_ALIAS)
            with self.side.cursor() as cur:
                cur.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET processed_rows = %s WHERE id = %s", [processed, self.job_id]
                )
        else:
            ImportJob.objects.filter(pk=self.job_id).update(processed_rows=processed)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None


def _fail(job: ImportJob, message: str, *, errors: list[RowError] | None = None) -> ImportJob:
    job.status = ImportStatus.FAILED
    job.finished_at = timezone.now()
    job.dry_run_summary = {**job.dry_run_summary, "failure": message}
    fields = ["status", "finished_at", "dry_run_summary"]
    if errors is not None:
        job.errors = [e.as_dict() for e in errors]
        job.error_rows = len({e.row for e in errors})
        fields += ["errors", "error_rows"]
    job.save(update_fields=fields)
    return job


def import_job_validate(job_id: int) -> ImportJob:
    """Dry run: read and check the file, record the errors and the summary. Writes no data rows."""
    job = ImportJob.objects.select_related("employer__jurisdiction").get(pk=job_id)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.VALIDATED, ImportStatus.VALIDATING):
        return job
    job.status, job.processed_rows = ImportStatus.VALIDATING, 0
    job.save(update_fields=["status", "processed_rows"])
    progress = _ProgressWriter(job.pk)
    try:
        table = _read_job_file(job)
        ImportJob.objects.filter(pk=job.pk).update(total_rows=len(table))
        job.total_rows = len(table)
        result = _validate(job, table, progress)
    except FileRejected as exc:
        return _fail(job, str(exc))
    except Exception as exc:  # never leave a job "校验中" for ever: say what went wrong
        log.exception("import job %s failed during validation", job_id)
        return _fail(job, f"校验失败：{type(exc).__name__}: {exc}")
    finally:
        progress.close()
    job.refresh_from_db(fields=["dry_run_summary"])
    job.status = ImportStatus.VALIDATED
    job.processed_rows = job.total_rows
    job.errors = [e.as_dict() for e in result.errors[:MAX_STORED_ERRORS]]
    job.error_rows = result.error_rows
    job.dry_run_summary = {"params": job.dry_run_summary.get("params", {}), **result.summary}
    job.save(update_fields=["status", "processed_rows", "errors", "error_rows", "dry_run_summary"])
    return job


def _lock_job(job_id: int) -> None:
    """Serialise two commits of one job (a task delivered twice) until the transaction ends.

    An advisory lock, not ``SELECT … FOR UPDATE`` on the job row: the progress writer updates
    that row from a second connection while this transaction runs. SQLite serialises writers anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, job_id])


_LOCK_NAMESPACE = 3_2024  # contributions import jobs


def import_job_commit(job_id: int, *, skip_errors: bool = False) -> ImportJob:
    """Confirm: validate again and write every valid row in ONE transaction — all or nothing.

    Without ``skip_errors`` a file with any bad row is refused. With it, the bad rows are
    left out (to be fixed and re-uploaded) and the others are written. If the data changed
    since the dry run (new errors), nothing is written and the job returns to 已校验
    with the new errors. Payments are applied to dues after the commit.
    """
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.VALIDATED).update(
        status=ImportStatus.IMPORTING, processed_rows=0
    )
    job = ImportJob.objects.select_related("employer__jurisdiction").get(pk=job_id)
    if not claimed and job.status != ImportStatus.IMPORTING:
        return job  # already done, failed, or not yet validated: nothing to do (idempotent)
    progress = _ProgressWriter(job.pk)
    try:
        with transaction.atomic():
            _lock_job(job_id)
            if ImportJob.objects.filter(pk=job_id, status=ImportStatus.DONE).exists():
                return ImportJob.objects.get(pk=job_id)
            table = _read_job_file(job)
            result = _validate(job, table, None)
            if not result.valid:
                raise ImportAborted("文件中没有可导入的有效行，未导入任何数据。")
            if result.error_rows and not skip_errors:
                raise ImportAborted(f"文件有 {result.error_rows} 行错误，未导入任何数据。")
            if len(result.valid) != job.dry_run_summary.get("valid_rows"):
                raise ImportAborted(
                    f"数据自试导入后已变化（有效行 {job.dry_run_summary.get('valid_rows')} → {len(result.valid)}），"
                    "未导入任何数据；请查看新的校验结果后重新确认。"
                )
            if job.kind == ImportKind.PAYROLL:
                counts = payroll_write(result, employer=job.employer, job=job, progress=progress)
            else:
                counts = payment_write(result, job=job, progress=progress)
            job.status = ImportStatus.DONE
            job.processed_rows = job.total_rows
            job.finished_at = timezone.now()
            job.dry_run_summary = {**job.dry_run_summary, "committed": counts, "skipped_error_rows": result.error_rows}
            job.save(update_fields=["status", "processed_rows", "finished_at", "dry_run_summary"])
    except ImportAborted as exc:
        job.status, job.processed_rows = ImportStatus.VALIDATED, job.total_rows
        job.errors = [e.as_dict() for e in result.errors[:MAX_STORED_ERRORS]]
        job.error_rows = result.error_rows
        job.dry_run_summary = {
            "params": job.dry_run_summary.get("params", {}),
            **result.summary,
            "commit_refused": str(exc),
        }
        job.save(update_fields=["status", "processed_rows", "errors", "error_rows", "dry_run_summary"])
        return job
    except FileRejected as exc:
        return _fail(job, str(exc))
    except Exception as exc:
        log.exception("import job %s failed during commit", job_id)
        return _fail(job, f"导入失败，未写入任何数据：{type(exc).__name__}: {exc}")
    finally:
        progress.close()
    if job.kind == ImportKind.PAYMENT:
        _apply_payments(job)
    return job


def apply_payment_ids(payment_ids: Iterable[int], *, recompute_as_of: date | None = None) -> dict[str, Any]:
    """Apply payments to the oldest unpaid dues, in groups of whole persons.

    ``contributions.services.payments_apply`` allocates each person's payments oldest
    first and is idempotent; calling it per group of at most :data:`LOOKUP_BATCH`
    payments keeps the SQL small, and never splits one person's payments across groups.
    """
    from . import services

    ids = sorted(set(payment_ids))
    owner: list[tuple[int, int]] = []
    for chunk in _chunks(ids, LOOKUP_BATCH):
        owner += list(Payment.objects.filter(id__in=chunk).values_list("person_id", "id"))
    owner.sort()
    totals: dict[str, Any] = defaultdict(int)
    group: list[int] = []
    for i, (person_id, payment_id) in enumerate(owner):
        group.append(payment_id)
        last_of_person = i + 1 == len(owner) or owner[i + 1][0] != person_id
        if last_of_person and (len(group) >= LOOKUP_BATCH or i + 1 == len(owner)):
            for k, v in (services.payments_apply(group, recompute_as_of=recompute_as_of) or {}).items():
                totals[k] += v if isinstance(v, int) else 0
            group = []
    return dict(totals)


def _apply_payments(job: ImportJob) -> None:
    """Allocate the job's new payments (after the commit: the payments stay recorded if this fails)."""
    ids = list(Payment.objects.filter(import_job=job).values_list("id", flat=True))
    try:
        # the persons' fees, eligibility and account credits up to the day of the import, at once (issue #12)
        applied = apply_payment_ids(ids, recompute_as_of=timezone.localdate())
    except Exception as exc:  # the payments are recorded; applying can be retried from the admin
        log.exception("applying the payments of import job %s failed", job.pk)
        job.dry_run_summary = {**job.dry_run_summary, "apply_error": f"{type(exc).__name__}: {exc}"}
        job.save(update_fields=["dry_run_summary"])
        return
    job.dry_run_summary = {**job.dry_run_summary, "applied": _jsonable(applied)}
    job.save(update_fields=["dry_run_summary"])


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


# ---------------------------------------------------------------------------------------------
# Files for the user: rejected rows, blank templates
# ---------------------------------------------------------------------------------------------


def rejected_rows_xlsx(job: ImportJob) -> bytes:
    """The rejected rows with their original columns plus 错误说明, to fix and upload again."""
    import openpyxl

    messages: dict[int, list[str]] = defaultdict(list)
    for e in job.errors:
        messages[e["row"]].append(f"{e['field']}：{e['message']}" if e.get("field") else e["message"])
    table = _read_job_file(job)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("错误行")
    sheet.append([*(h if h is not None else "" for h in table.headers), ERROR_COLUMN, "原行号"])
    for number, cells in table.rows:
        if number in messages:
            sheet.append([*cells, "；".join(messages[number]), number])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_xlsx(kind: str, *, as_of: date) -> bytes:
    """A blank file with the expected headers (the ID column formatted as text) and one example row."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    if kind == ImportKind.PAYROLL:
        sheet.title = "工资申报"
        sheet.append(["身份证号", "姓名", "月工资", "上年工资总额", "年度", "起薪月份"])
        sheet.append(["11010519491231002X", "张三", 6500, None, as_of.year, None])
    else:
        sheet.title = "实缴"
        sheet.append(["电子税票号", "身份证号", "金额", "缴款日期", "姓名"])
        sheet.append(["332024000000000001", "11010519491231002X", 650.00, as_of.isoformat(), "张三"])
    for cell in sheet[2]:
        cell.number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
