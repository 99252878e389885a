"""The plain-sheet reader (issue #13 item 4): a sheet matched row by row with a regular expression gives the
same rows as the pyexpat reader, and any sheet it does not read exactly is left to the pyexpat reader."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import openpyxl
import pytest

from contributions.imports import readers


def _parts(data: bytes):
    book = zipfile.ZipFile(io.BytesIO(data))
    return (book, *readers._xlsx_parts(book))


def _both(data: bytes):
    book, sheet, shared, styles = _parts(data)
    return readers._xlsx_rows_plain(book, sheet, shared, styles), list(readers._xlsx_rows(book, sheet, shared, styles))


def _workbook(write_only: bool) -> bytes:
    book = openpyxl.Workbook(write_only=write_only)
    sheet = book.create_sheet() if write_only else book.active
    rows = [
        ["身份证号", "姓名", "月工资", "年度", "起薪月份", "在职"],
        ["11010519491231002X", " 张 三 ", 6500, 2024, datetime(2024, 3, 1), True],
        ["440524188001010014", "李四", 5000.55, "2024-07", None, False],
        [],
        ["只有两格", None, 1e20, -3, 1.5e-7, "a < b"],
        [None, None, None, None, None, "远处的格"],
        ["   ", "x" * 300, 0, 0.0, 12345678901234567890, "  preserved  "],
    ]
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("write_only", [False, True], ids=["shared_strings", "inline_strings"])
def test_plain_reader_reads_what_the_pyexpat_reader_reads(write_only):
    plain, expat = _both(_workbook(write_only))
    if plain is None:  # "a < b" is written as &lt;: such a sheet is not plain
        book = openpyxl.load_workbook(io.BytesIO(_workbook(write_only)))
        book.active["F5"] = "a b"
        out = io.BytesIO()
        book.save(out)
        plain, expat = _both(out.getvalue())
    assert plain is not None and plain == expat
    assert plain[1] == ("11010519491231002X", " 张 三 ", 6500, 2024, datetime(2024, 3, 1), True)
    assert plain[3] == ()


def _sheet(rows_xml: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "xl/worksheets/sheet1.xml",
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"<sheetData>{rows_xml}</sheetData></worksheet>",
        )
    return out.getvalue()


PLAIN = [
    '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c><c r="C1"><v>5</v></c></row><row r="4"/>',
    '<row r="2" spans="1:2"><c r="A2" s="0" t="str"><v>t</v></c><c r="B2" t="b"><v>1</v></c></row>',
    '\n  <row r="1">\n    <c r="A1" t="n"><v>1.5E+3</v></c>\n    <c r="B1"/>\n  </row>\n',
    '<row r="1"><c r="A1" t="e"><v>#N/A</v></c><c r="B1" t="str"></c><c r="C1" t="str"><v></v></c></row>',
]
NOT_PLAIN = [
    '<row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>',  # a formula
    '<row r="1"><c r="A1" t="inlineStr"><is><t>a &amp; b</t></is></c></row>',  # an entity
    '<row r="1"><c r="A1" t="inlineStr"><is><r><t>rich</t></r></is></c></row>',  # rich text
    '<row><c r="A1"><v>1</v></c></row>',  # no row number
    '<row r="1"><c><v>1</v></c></row>',  # no cell reference
    '<row r="1"><c r="A1" s="1" t="n" s="2"><v>1</v></c></row>',  # an attribute twice
    f'<row r="1"><c r="{"GS"}1"><v>1</v></c></row>',  # beyond the column bound (the pyexpat reader refuses it)
    '<row r="1"><c r="A1"><v> 7 x</v></c></row>',  # does not convert (the pyexpat reader refuses it)
    '<row r="1"><c r="A1" t="n"><v></v></c></row>',  # nor does this
    '<row r="1"><c r="B1"><v>1</v></c><c r="A1"><v>2</v></c></row>',  # cells out of order
    '<row r="1"><c r="A1"><v>1</v></c><c r="A1"><v>2</v></c></row>',  # a cell twice
]


@pytest.mark.parametrize("rows_xml", PLAIN)
def test_plain_sheets(rows_xml):
    plain, expat = _both(_sheet(rows_xml))
    assert plain is not None and plain == expat


@pytest.mark.parametrize("rows_xml", NOT_PLAIN)
def test_other_sheets_go_to_the_pyexpat_reader(rows_xml):
    book, sheet, shared, styles = _parts(_sheet(rows_xml))
    assert readers._xlsx_rows_plain(book, sheet, shared, styles) is None


def test_read_table_gives_the_same_table_either_way(monkeypatch):
    data = _workbook(write_only=False)
    fast = readers.read_table(data, "x.xlsx")
    monkeypatch.setattr(readers, "_xlsx_rows_plain", lambda *a: None)
    assert readers.read_table(data, "x.xlsx") == fast
