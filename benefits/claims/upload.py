"""结算文件的整文件检查与读取: what a settlement file must be before any of its rows is parsed.

Checked in this order, each refusal a whole-file message (:class:`FileRejected`):
the name (.csv, .xlsx or .xlsm; an .xls is refused with a hint), the size as sent, then for an .xlsx that it
is a zip holding a workbook whose members expand to at most :data:`~enrollment.bounds.MAX_DECOMPRESSED_BYTES`
(summed from the zip directory, before anything is inflated), and for a .csv its encoding (UTF-8, UTF-8 with
BOM, GB18030/GBK; anything else refused). A streaming pre-scan then counts the rows and the cells per row
(:data:`~enrollment.bounds.MAX_UPLOAD_ROWS`, :data:`~enrollment.bounds.MAX_COLUMNS`) before the rows are read.
The header must name the required columns and at least one data row must follow (文件中没有数据行).
The bounds live in :mod:`enrollment.bounds`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from typing import Any
from xml.etree.ElementTree import ParseError, iterparse

from openpyxl import load_workbook

from enrollment.bounds import MAX_COLUMNS, MAX_DECOMPRESSED_BYTES, MAX_UPLOAD_BYTES, MAX_UPLOAD_ROWS

XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv",)
_OLD_EXCEL = (".xls", ".et", ".ods", ".numbers")
_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


class FileRejected(ValueError):
    """A whole-file problem: the file is refused and nothing of it is read."""


def check_name_and_size(name: str, size: int) -> None:
    """The file's name says .csv or .xlsx, and it is not larger than :data:`MAX_UPLOAD_BYTES`."""
    lower = (name or "").lower()
    if lower.endswith(_OLD_EXCEL):
        raise FileRejected(f"不接受“{name}”：请在 Excel 中“另存为” .xlsx（Excel 工作簿）或 CSV 后上传。")
    if not lower.endswith(XLSX_SUFFIXES + CSV_SUFFIXES):
        raise FileRejected(f"只接受 .xlsx 或 .csv 文件，收到的是“{name}”。")
    if size > MAX_UPLOAD_BYTES:
        raise FileRejected(
            f"文件过大：{size / 1024 / 1024:.1f} MB，上限为 {MAX_UPLOAD_BYTES // 1024 // 1024} MB。请拆分后分批上传。"
        )
    if size == 0:
        raise FileRejected("文件为空。")


def table_rows(name: str, data: bytes) -> Iterator[list[str]]:
    """The rows of the file as lists of text, header first, after every whole-file check.

    Raises :class:`FileRejected` (before yielding anything) when the file cannot or may not be read.
    """
    check_name_and_size(name, len(data))
    if name.lower().endswith(XLSX_SUFFIXES):
        return _xlsx_rows(data)
    return _csv_rows(_decode(data))


# --- csv ---------------------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK); anything else is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise FileRejected(
            "文件不是文本格式的 CSV（UTF-16 或含二进制内容）。请另存为 UTF-8 或 GBK 编码的 CSV，或 .xlsx。"
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRejected("无法识别文件编码：只接受 UTF-8（可带 BOM）或 GB18030/GBK 编码的 CSV。")


def _csv_rows(text: str) -> Iterator[list[str]]:
    _prescan(lambda: csv.reader(io.StringIO(text)), len)
    return csv.reader(io.StringIO(text))


# --- xlsx --------------------------------------------------------------------------------------------------


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise FileRejected("文件不是有效的 Excel 工作簿（.xlsx）：可能是改了扩展名的其他文件，或文件已损坏。")
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        members = book.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRejected("文件不是有效的 Excel 工作簿（.xlsx），文件已损坏。") from None
    if "xl/workbook.xml" not in {m.filename for m in members}:
        raise FileRejected("文件不是 Excel 工作簿（.xlsx）：压缩包中没有工作簿。")
    expanded = sum(m.file_size for m in members)  # from the zip directory: nothing is inflated yet
    if expanded > MAX_DECOMPRESSED_BYTES:
        raise FileRejected(
            f"工作簿解压后过大（{expanded / 1024 / 1024:.0f} MB，上限 {MAX_DECOMPRESSED_BYTES // 1024 // 1024} MB）。"
            "请拆分后分批上传。"
        )
    for sheet in (m.filename for m in members if m.filename.startswith("xl/worksheets/")):
        if sheet.endswith(".xml"):
            _prescan(lambda sheet=sheet: _sheet_row_sizes(book, sheet), lambda cells: cells)
    return _openpyxl_rows(data)


def _sheet_row_sizes(book: zipfile.ZipFile, sheet: str) -> Iterator[int]:
    """The number of cells in each ``<row>`` of a worksheet, streamed (nothing kept)."""
    try:
        with book.open(sheet) as stream:
            cells = 0
            for _event, element in iterparse(stream, events=("end",)):
                if element.tag == f"{_SHEET_NS}c":
                    cells += 1
                    element.clear()
                elif element.tag == f"{_SHEET_NS}row":
                    yield cells
                    cells = 0
                    element.clear()
    except (ParseError, zipfile.BadZipFile, OSError, RuntimeError, EOFError):
        raise FileRejected("Excel 工作簿已损坏，无法读取。请用 Excel 重新保存为 .xlsx。") from None


def _openpyxl_rows(data: bytes) -> Iterator[list[str]]:

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.active
        width = min(ws.max_column or MAX_COLUMNS, MAX_COLUMNS)
        rows = ws.iter_rows(max_col=width, values_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken workbook; all are the file's problem
        raise FileRejected(f"无法读取 Excel 工作簿（{type(exc).__name__}）。请用 Excel 重新保存为 .xlsx。") from None

    def cells() -> Iterator[list[str]]:
        try:
            for values in rows:
                yield ["" if v is None else str(v) for v in values]
        except Exception as exc:  # a part of the workbook broken further on: still the file's problem
            raise FileRejected(f"Excel 工作簿已损坏（{type(exc).__name__}）。请用 Excel 重新保存为 .xlsx。") from None
        finally:
            wb.close()

    return cells()


# --- limits ------------------------------------------------------------------------------------------------


def _prescan(rows: Callable[[], Iterator[Any]], width: Callable[[Any], int]) -> None:
    """Count the rows and the widest row, streaming, before any row is parsed."""
    count = 0
    try:
        for row in rows():
            count += 1
            if count > MAX_UPLOAD_ROWS + 1:  # + the header row
                raise FileRejected(f"行数超过上限 {MAX_UPLOAD_ROWS:,} 行。请拆分后分批上传。")
            if width(row) > MAX_COLUMNS:
                raise FileRejected(f"第 {count} 行有 {width(row)} 列，超过上限 {MAX_COLUMNS} 列。")
    except csv.Error as exc:
        raise FileRejected(f"CSV 格式错误（第 {count + 1} 行）：{exc}") from None
