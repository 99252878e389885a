"""Reading import files: .xlsx (first sheet, streamed through pyexpat) and .csv (UTF-8 or GB18030).

A file is refused whole (:class:`FileRejected`, with a message for the user) when it is too large,
not a spreadsheet, damaged, or has no data rows.
"""

from __future__ import annotations

import csv
import io
import pyexpat
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

import openpyxl
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import from_excel

from enrollment import bounds

#: Files above this size are refused before they are read (the form says so); the product bounds of
#: :mod:`enrollment.bounds`.
MAX_UPLOAD_BYTES = bounds.MAX_UPLOAD_BYTES
#: Data rows per file (a 100 000-row payroll is about 4 MB as .xlsx, 6 MB as .csv).
MAX_ROWS = bounds.MAX_UPLOAD_ROWS
#: Columns per row: checked from the sheet's <dimension> before parsing, and cell by cell while streaming.
MAX_COLUMNS = bounds.MAX_COLUMNS
ALLOWED_EXTENSIONS = (".xlsx", ".csv")


class FileRejected(Exception):
    """The whole file is refused (too large, not a spreadsheet, missing columns, ...)."""


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
    if len(headers) > MAX_COLUMNS:
        raise FileRejected(_too_many_columns(1))
    table = Table(headers=headers, rows=[])
    try:
        for number, cells in enumerate(rows, start=2):
            if _blank(cells):
                continue
            if len(cells) > MAX_COLUMNS:
                raise FileRejected(_too_many_columns(number))
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


def _blank(cells: tuple[Any, ...]) -> bool:
    """Every cell empty or spaces (a loop that stops at the first filled cell, usually the first)."""
    for c in cells:
        if c is not None and not (isinstance(c, str) and not c.strip()):
            return False
    return True


#: An .xlsx is a zip: refuse one that would expand beyond this (a "zip bomb"); the sum of the members'
#: declared sizes, which also bound what the zip reader will inflate.
MAX_XLSX_EXPANDED_BYTES = bounds.MAX_DECOMPRESSED_BYTES


def _too_many_columns(row: int) -> str:
    return f"第 {row} 行超过 {MAX_COLUMNS} 列，不是工资申报或缴费文件的格式。请只保留所需的列后重新上传。"


_DIMENSION_RE = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"[A-Za-z]*\d*(?::([A-Za-z]+)(\d+))?\"")


def _check_dimension(book: zipfile.ZipFile, sheet: str) -> None:
    """Refuse a sheet whose declared <dimension> exceeds the column or row bound, before parsing it."""
    with book.open(sheet) as stream:
        head = stream.read(4096)
    match = _DIMENSION_RE.search(head)
    if match is None or match[1] is None:
        return  # absent or one cell: the streaming reader counts cells and rows itself
    if _column_index(match[1].decode(), {}) >= MAX_COLUMNS:
        raise FileRejected(
            f"工作表的范围（到 {match[1].decode()}{match[2].decode()}）超过 {MAX_COLUMNS} 列，请只保留所需的列。"
        )
    if int(match[2]) > MAX_ROWS + 1:
        raise FileRejected(f"行数超过上限 {MAX_ROWS:,} 行，请拆分后分批上传。")


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
    _check_dimension(book, sheet)
    rows = _xlsx_rows_plain(book, sheet, shared, date_styles)
    if rows is not None:
        return iter(rows)
    return _xlsx_rows(book, sheet, shared, date_styles)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xlsx_parts(book: zipfile.ZipFile) -> tuple[str, list[str], set[int]]:
    """The first worksheet's path, the shared strings, and the style indexes that format dates."""

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
            if self.position >= MAX_COLUMNS:  # stop at once: one row may hold millions of cells
                raise FileRejected(_too_many_columns(self.row_number))
            self.kind, self.style = attrs.get("t", "n"), int(attrs.get("s", 0))
            self.value_text, self.inline = None, []
        elif name == "v" or (name == "t" and not self.in_phonetic):
            self.text = []
        elif name == "row":
            self.row_number = int(attrs.get("r") or self.row_number + 1)
            if self.row_number > 2 * MAX_ROWS:  # blank rows count too: a far row number is a damaged file
                raise FileRejected(f"行数超过上限 {MAX_ROWS:,} 行，请拆分后分批上传。")
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


# --- the plain sheet: rows matched whole by a regular expression ---------------------------------------------
#
# The sheets Excel, WPS and openpyxl write have one shape: ``<row r="N" …>`` holding ``<c r="A1" s="…" t="…">``
# cells with a ``<v>`` value or an inline ``<is><t>`` string, and no entities. Such a sheet is read about
# six times faster by matching each row whole (the cells found by ``findall``) than through pyexpat's
# callbacks. Anything else — a formula, a prefix, an entity, rich text, another attribute order — and the
# whole sheet is read by :func:`_xlsx_rows` instead, which reads every sheet; the same values either way.

_PLAIN_CELL = (
    rb'<c r="([A-Z]{1,3})[0-9]+"(?: s="([0-9]+)")?(?: t="([a-zA-Z]+)")?(?: s="([0-9]+)")?\s*'
    rb'(?:/>|>\s*(?:(<v>)([^<&]*)</v>|<is>\s*<t(?: xml:space="preserve")?>([^<&]*)</t>\s*</is>)?\s*</c>)'
)
_PLAIN_ROW = re.compile(
    rb'\s*<row r="([0-9]+)"(?: [\w:]+="[^"<>&]*")*\s*(?:/>|>((?:\s*' + _PLAIN_CELL + rb")*)\s*</row>)"
)
_PLAIN_CELLS = re.compile(_PLAIN_CELL)
_SHEET_DATA = re.compile(rb"<sheetData\s*(/?)>")
_SHEET_DATA_END = re.compile(rb"\s*</sheetData>")
#: Bytes read at a time; a row longer than this (unmatched) sends the sheet to the pyexpat reader.
_PLAIN_CHUNK = 1 << 20


def _xlsx_rows_plain(
    book: zipfile.ZipFile, sheet: str, shared: list[str], date_styles: set[int]
) -> list[tuple[Any, ...]] | None:
    """The sheet's rows (blank rows filled in, as :func:`_xlsx_rows` yields them) when the whole sheet is
    plain (see above). ``None`` — read it with :func:`_xlsx_rows` — when it is not, or when a cell does not
    convert or a row is beyond a bound (the pyexpat reader then says so in its own words)."""
    try:
        return _plain_rows(book, sheet, shared, date_styles)
    except Exception:  # a cell that does not convert (the pyexpat reader refuses the file with its reason)
        return None


def _plain_rows(book, sheet, shared, date_styles) -> list[tuple[Any, ...]] | None:
    columns: dict[bytes, int] = {}
    out: list[tuple[Any, ...]] = []
    expected = 1
    with book.open(sheet) as stream:
        buf = stream.read(_PLAIN_CHUNK)
        start = _SHEET_DATA.search(buf)
        if start is None:
            return None
        if start[1]:  # <sheetData/>: no rows
            return out
        pos, eof = start.end(), False
        while True:
            match = _PLAIN_ROW.match(buf, pos)
            if match is None:
                if _SHEET_DATA_END.match(buf, pos):
                    return out
                if eof or len(buf) - pos > _PLAIN_CHUNK:
                    return None
                more = stream.read(_PLAIN_CHUNK)
                eof = not more
                buf = buf[pos:] + more
                pos = 0
                continue
            pos = match.end()
            number = int(match[1])
            if number > 2 * MAX_ROWS or len(out) > 2 * MAX_ROWS:
                return None
            values: list[Any] = []  # the row's cells in column order, a gap filled with None
            if match[2]:
                for letters, s1, kind, s2, v, value, inline in _PLAIN_CELLS.findall(match[2]):
                    if s1 and s2:
                        return None  # the style twice: not a well-formed cell
                    index = columns.get(letters)
                    if index is None:
                        index = columns[letters] = _column_index(letters.decode(), {})
                    if index >= MAX_COLUMNS:
                        return None
                    if index != len(values):
                        if index < len(values):
                            return None  # a column again, or out of order: the pyexpat reader's way
                        values += [None] * (index - len(values))
                    if kind == b"inlineStr":  # the common cells first, as _plain_value reads them
                        values.append(inline.decode())
                    elif v and kind == b"s":
                        values.append(shared[int(value)])
                    elif v and (not kind or kind == b"n"):
                        amount = float(value) if b"." in value or b"E" in value or b"e" in value else int(value)
                        dated = date_styles and int(s1 or s2 or 0) in date_styles
                        values.append(from_excel(amount) if dated else amount)
                    else:
                        text = value.decode() if v else None
                        values.append(
                            _plain_value(
                                kind.decode() or "n", int(s1 or s2 or 0), text, inline.decode(), shared, date_styles
                            )
                        )
            while expected < number:  # rows absent from the XML are blank rows
                out.append(())
                expected += 1
            out.append(tuple(values))
            expected = number + 1


def _plain_value(kind: str, style: int, text: str | None, inline: str, shared: list[str], date_styles: set[int]):
    """A cell's value exactly as :meth:`_SheetHandler._value` gives it."""
    if kind == "s":
        return shared[int(text)] if text is not None else None
    if kind == "inlineStr":
        return inline
    if kind in ("str", "e"):
        return text
    if kind == "b":
        return None if text is None else text == "1"
    if kind == "d":
        return datetime.fromisoformat(text) if text else None
    if text is None:
        return None
    value = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
    return from_excel(value) if style in date_styles else value


def _read_xlsx_openpyxl(data: bytes) -> Iterator[tuple[Any, ...]]:

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise FileRejected(f"无法读取 Excel 工作簿：{type(exc).__name__}。请用 Excel 重新保存为 .xlsx。") from None

    sheet = book.worksheets[0]
    if (sheet.max_column or 0) > MAX_COLUMNS:
        book.close()
        raise FileRejected(_too_many_columns(1))

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            yield from sheet.iter_rows(values_only=True)
        finally:
            book.close()

    return rows()


#: Byte-order marks of encodings that are not read (UTF-8 with BOM is read).
_OTHER_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}
ENCODING_HINT = "请用 Excel 或 WPS“另存为”CSV UTF-8（或 GB18030/GBK）后上传。"


def _read_csv(data: bytes) -> Iterator[tuple[Any, ...]]:
    for bom, name in _OTHER_BOMS.items():
        if data.startswith(bom):
            raise FileRejected(f"CSV 文件是 {name} 编码，只接受 UTF-8、UTF-8（带 BOM）或 GB18030/GBK。{ENCODING_HINT}")
    if b"\x00" in data[:4096]:
        raise FileRejected("文件不是文本格式的 CSV（含二进制内容）。请上传 .xlsx 或另存为 CSV。")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileRejected(f"无法识别 CSV 文件的编码（应为 UTF-8 或 GB18030/GBK）。{ENCODING_HINT}")
    if encoding == "gb18030" and _implausible(text):
        # GB18030 decodes almost any bytes: text in another encoding (Big5, Latin-1, Shift-JIS …)
        # comes out as private-use or control characters.
        raise FileRejected(f"无法识别 CSV 文件的编码（应为 UTF-8 或 GB18030/GBK）。{ENCODING_HINT}")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return map(tuple, csv.reader(io.StringIO(text), dialect))


def _implausible(text: str) -> bool:
    """Private-use, unassigned or control characters (other than tab and line ends) in decoded text."""
    return any(unicodedata.category(ch) in ("Co", "Cn", "Cc") and ch not in "\t\r\n" for ch in text[: 1 << 16])
