"""Bad-input corpus: the claims settlement-file upload (issue #12 items 4, 6, 8).

Every case goes through the admin upload as a case worker would (eager tasks: the file is read in the
request). Outcomes: ``file_error`` — the form is shown again with a whole-file message, nothing saved;
``row_error`` — the file record says 失败 with the row and field, no claim written, the upload deleted;
``accepted`` — valid after normalisation, the claim is read. Never an HTTP 500; a refused upload leaves no
file in MEDIA_ROOT.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from benefits.claims import upload as upload_module
from benefits.claims.imports import COLUMNS, ITEM_COLUMNS
from benefits.claims.models import Claim, ClaimItem, SettlementFile
from funds.models import JournalEntry
from policy.models import Jurisdiction
from tests.test_claims import make_person

AS_OF = "2024-07-01"
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@pytest.fixture
def people(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return {"hunan": make_person("hunan"), "langfang": make_person("langfang")}


def _row(people, **changes: str) -> dict[str, str]:
    """A good outpatient claim of the hunan person, with ``changes``; ``{id}`` / ``{other}`` name the persons."""
    row = {
        "business_key": "B1",
        "id_number": "{id}",
        "med_type": "11",
        "start_date": "2024-03-01",
        "hospital_name": "人民医院",
        "hospital_level": "level2",
        "medfee_sumamt": "100",
        "inscp_scp_amt": "100",
        **changes,
    }
    ids = {"id": people["hunan"].id_number, "other": people["langfang"].id_number}
    return {k: v.format(**ids) if "{" in v else v for k, v in row.items()}


def _csv(rows: list[dict[str, str]], *, encoding: str = "utf-8-sig", header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header or [*COLUMNS, *ITEM_COLUMNS], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _upload(client, user, name: str, data: bytes):
    client.force_login(user)
    return client.post(
        reverse("admin:claims_settlementfile_add"),
        {
            "jurisdiction": Jurisdiction.objects.get(code="hunan").pk,
            "as_of": AS_OF,
            "file": SimpleUploadedFile(name, data),
        },
    )


def _stored_files(settings) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def _counts() -> tuple[int, int, int]:
    return Claim.objects.count(), ClaimItem.objects.count(), JournalEntry.objects.count()


def _item(key: str, **changes: str) -> dict[str, str]:
    return {"business_key": key, "item_kind": "category_a", "item_name": "甲类药", "unit_price": "10", **changes}


# --- rows: (case, rows of the file given the persons, row, field, words of the message) --------------------

ROW_CASES: list[tuple[str, Callable[[dict], list[dict[str, str]]], int, str, str]] = [
    ("amount_1e13", lambda p: [_row(p, medfee_sumamt="1e13")], 2, "medfee_sumamt", "超出合理范围"),
    ("amount_13_digits", lambda p: [_row(p, medfee_sumamt="10000000000000")], 2, "medfee_sumamt", "超出合理范围"),
    ("amount_negative", lambda p: [_row(p, medfee_sumamt="-5")], 2, "medfee_sumamt", "不能为负数"),
    ("amount_4_decimals", lambda p: [_row(p, medfee_sumamt="100.1234")], 2, "medfee_sumamt", "最多两位小数"),
    ("amount_3_decimals", lambda p: [_row(p, inscp_scp_amt="99.995")], 2, "inscp_scp_amt", "最多两位小数"),
    ("amount_nan", lambda p: [_row(p, medfee_sumamt="NaN")], 2, "medfee_sumamt", "不是金额"),
    ("amount_infinity", lambda p: [_row(p, medfee_sumamt="Infinity")], 2, "medfee_sumamt", "不是金额"),
    ("amount_text", lambda p: [_row(p, medfee_sumamt="一百元")], 2, "medfee_sumamt", "不是金额"),
    ("amount_formula", lambda p: [_row(p, fulamt_ownpay="=1+1")], 2, "fulamt_ownpay", "不是金额"),
    ("amount_missing", lambda p: [_row(p, medfee_sumamt="")], 2, "medfee_sumamt", "必填"),
    (
        "wage_too_large",
        lambda p: [_row(p, employer_average_monthly_wage="20000000")],
        2,
        "employer_average_monthly_wage",
        "超出合理范围",
    ),
    ("business_key_100_chars", lambda p: [_row(p, business_key="K" * 100)], 2, "business_key", "长度不能超过 64"),
    ("business_key_empty", lambda p: [_row(p, business_key=" ")], 2, "business_key", "必填"),
    ("business_key_twice", lambda p: [_row(p), _row(p, start_date="2024-03-02")], 3, "business_key", "重复"),
    ("hospital_name_300_chars", lambda p: [_row(p, hospital_name="院" * 300)], 2, "hospital_name", "长度不能超过 200"),
    (
        "disease_classes_too_long",
        lambda p: [_row(p, disease_classes="2," * 20)],
        2,
        "disease_classes",
        "长度不能超过 32",
    ),
    ("dated_2030", lambda p: [_row(p, start_date="2030-01-01")], 2, "start_date", "不能晚于"),
    ("dated_after_as_of", lambda p: [_row(p, start_date="2024-07-02")], 2, "start_date", "不能晚于 2024-07-01"),
    (
        "discharged_after_as_of",
        lambda p: [_row(p, med_type="21", start_date="2024-06-28", end_date="2024-07-05")],
        2,
        "end_date",
        "不能晚于 2024-07-01",
    ),
    ("submitted_in_future", lambda p: [_row(p, submitted_on="2031-01-01")], 2, "submitted_on", "不能晚于"),
    ("dated_1900", lambda p: [_row(p, start_date="1900-01-01")], 2, "start_date", "不能早于"),
    ("date_month_13", lambda p: [_row(p, start_date="2024-13-01")], 2, "start_date", "日期格式"),
    ("date_slashes", lambda p: [_row(p, start_date="01/03/2024")], 2, "start_date", "日期格式"),
    (
        "discharge_before_admission",
        lambda p: [_row(p, med_type="21", start_date="2024-03-05", end_date="2024-03-01")],
        2,
        "end_date",
        "早于",
    ),
    ("person_of_another_jurisdiction", lambda p: [_row(p, id_number="{other}")], 2, "id_number", "没有参保关系"),
    ("person_unknown", lambda p: [_row(p, id_number="11010519491231002X")], 2, "id_number", "查无此参保人员"),
    ("id_check_digit_wrong", lambda p: [_row(p, id_number="110105194912310021")], 2, "id_number", "校验码错误"),
    ("id_letters", lambda p: [_row(p, id_number="abc")], 2, "id_number", "应为18位"),
    ("id_100_digits", lambda p: [_row(p, id_number="1" * 100)], 2, "id_number", "长度不能超过 18"),
    ("med_type_unknown", lambda p: [_row(p, med_type="99")], 2, "med_type", "不在可选值"),
    ("hospital_level_unknown", lambda p: [_row(p, hospital_level="level9")], 2, "hospital_level", "不在可选值"),
    ("babies_beyond_column", lambda p: [_row(p, babies="99999")], 2, "babies", "超出范围"),
    ("babies_negative", lambda p: [_row(p, babies="-1")], 2, "babies", "不能为负数"),
    ("babies_fraction", lambda p: [_row(p, babies="1.5")], 2, "babies", "不是整数"),
    ("bool_word", lambda p: [_row(p, tcm="也许")], 2, "tcm", "是/否"),
    (
        "transfer_from_unknown",
        lambda p: [_row(p, med_type="21", end_date="2024-03-04", transfer_from="NOPE")],
        2,
        "transfer_from",
        "不存在",
    ),
    (
        "item_price_1e13",
        lambda p: [_row(p, medfee_sumamt=""), _item("B1", unit_price="1e13")],
        3,
        "unit_price",
        "超出合理范围",
    ),
    (
        "item_quantity_3_decimals",
        lambda p: [_row(p, medfee_sumamt=""), _item("B1", quantity="1.234")],
        3,
        "quantity",
        "最多两位小数",
    ),
    (
        "item_name_300_chars",
        lambda p: [_row(p, medfee_sumamt=""), _item("B1", item_name="药" * 300)],
        3,
        "item_name",
        "长度不能超过 200",
    ),
    (
        "item_price_nan",
        lambda p: [_row(p, medfee_sumamt=""), _item("B1", unit_price="NaN")],
        3,
        "unit_price",
        "不是有效的金额",
    ),
    ("item_without_claim", lambda p: [_item("B0"), _row(p)], 2, "business_key", "须紧随"),
    ("items_total_differs", lambda p: [_row(p, medfee_sumamt="999"), _item("B1")], 2, "medfee_sumamt", "不符"),
]


@pytest.mark.bad_input(area="claims", outcome="row_error")
@pytest.mark.parametrize(("rows", "row", "field", "words"), [c[1:] for c in ROW_CASES], ids=[c[0] for c in ROW_CASES])
def test_row_errors(client, case_worker, people, settings, rows, row, field, words):
    before = _counts()
    response = _upload(client, case_worker, "claims.csv", _csv(rows(people)))
    assert response.status_code == 302  # the form took the file: its rows are refused
    sfile = SettlementFile.objects.get()
    assert sfile.status == "failed" and sfile.imported_rows == 0
    assert any(e["row"] == row and e["field"] == field and words in e["message"] for e in sfile.errors), sfile.errors
    assert _counts() == before and not sfile.file and _stored_files(settings) == []
    page = client.get(reverse("admin:claims_settlementfile_change", args=[sfile.pk]))
    assert page.status_code == 200 and f"<td>{row}</td><td><code>{field}</code></td>" in page.content.decode()


@pytest.mark.bad_input(area="claims", outcome="row_error")
def test_row_error_in_xlsx_numeric_cell(client, case_worker, people, settings):
    good = _row(people)
    cells = [[*COLUMNS], [1e13 if c == "medfee_sumamt" else (good.get(c) or None) for c in COLUMNS]]
    before = _counts()
    assert _upload(client, case_worker, "claims.xlsx", _xlsx(cells)).status_code == 302
    sfile = SettlementFile.objects.get()
    assert [(e["row"], e["field"]) for e in sfile.errors] == [(2, "medfee_sumamt")]
    assert _counts() == before and _stored_files(settings) == []


# --- whole files: (case, name, bytes given the persons, words of the message) --------------------------------


def _ole2(_p) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _wide_xlsx(p) -> bytes:
    return _xlsx([[*COLUMNS], [*_row(p).values(), *(["x"] * 250)]])


FILE_CASES: list[tuple[str, str, Callable[[dict], bytes], str]] = [
    ("xls_binary", "claims.xls", _ole2, "另存为"),
    ("xls_named_text", "claims.xls", lambda p: _csv([_row(p)]), "另存为"),
    ("et_wps", "claims.et", _ole2, "另存为"),
    ("text_saved_as_xlsx", "claims.xlsx", lambda p: _csv([_row(p)]), "不是有效的 Excel"),
    ("ole2_saved_as_xlsx", "claims.xlsx", _ole2, "不是有效的 Excel"),
    ("zip_without_workbook", "claims.xlsx", lambda p: _zip({"readme.txt": b"hello"}), "没有工作簿"),
    (
        "xlsx_broken_sheet",
        "claims.xlsx",
        lambda p: _zip({"xl/workbook.xml": b"<x/>", "xl/worksheets/sheet1.xml": b"<row"}),
        "已损坏",
    ),
    ("pdf", "claims.pdf", lambda p: b"%PDF-1.4\n", "只接受"),
    ("txt", "claims.txt", lambda p: _csv([_row(p)]), "只接受"),
    ("no_extension", "claims", lambda p: _csv([_row(p)]), "只接受"),
    ("utf16_csv", "claims.csv", lambda p: _csv([_row(p)], encoding="utf-16"), "UTF-16"),
    ("binary_csv", "claims.csv", lambda p: b"business_key\x00\x01\x02\n", "二进制"),
    ("undecodable_csv", "claims.csv", lambda p: b"business_key,id_number\n\xff\xfe\xff,1\n", "无法识别文件编码"),
    ("header_only_csv", "claims.csv", lambda p: _csv([]), "没有数据行"),
    ("header_and_blank_lines_csv", "claims.csv", lambda p: _csv([]) + b",,,\n\n,,\n", "没有数据行"),
    ("header_only_xlsx", "claims.xlsx", lambda p: _xlsx([[*COLUMNS]]), "没有数据行"),
    ("empty_xlsx_sheet", "claims.xlsx", lambda p: _xlsx([]), "缺少必填列"),
    ("required_columns_missing", "claims.csv", lambda p: b"a,b,c\n1,2,3\n", "缺少必填列"),
    ("csv_field_too_large", "claims.csv", lambda p: _csv([_row(p, hospital_name="x" * 200_000)]), "CSV 格式错误"),
    ("csv_too_wide", "claims.csv", lambda p: _csv([_row(p)]).rstrip() + b"," * 300 + b"\r\n", "超过上限"),
    ("xlsx_too_wide", "claims.xlsx", _wide_xlsx, "超过上限"),
    ("empty_file", "claims.csv", lambda p: b"", "空文件"),
]


@pytest.mark.bad_input(area="claims", outcome="file_error")
@pytest.mark.parametrize(("name", "data", "words"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_file_errors(client, case_worker, people, settings, name, data, words):
    before = _counts()
    response = _upload(client, case_worker, name, data(people))
    assert response.status_code == 200  # the form again, with the file's problem
    errors = response.context["adminform"].form.errors
    assert any(words in message for message in errors.get("file", [])), errors
    assert not SettlementFile.objects.exists() and _counts() == before and _stored_files(settings) == []


LIMIT_CASES = [
    ("too_large", "MAX_UPLOAD_BYTES", 200, "claims.csv", "文件过大"),
    ("too_many_rows_csv", "MAX_UPLOAD_ROWS", 3, "claims.csv", "行数超过上限"),
    ("too_many_rows_xlsx", "MAX_UPLOAD_ROWS", 3, "claims.xlsx", "行数超过上限"),
    ("zip_expands_too_far", "MAX_DECOMPRESSED_BYTES", 4096, "claims.xlsx", "解压后过大"),
]


@pytest.mark.bad_input(area="claims", outcome="file_error")
@pytest.mark.parametrize(
    ("limit", "value", "name", "words"), [c[1:] for c in LIMIT_CASES], ids=[c[0] for c in LIMIT_CASES]
)
def test_file_limits_checked_before_parsing(
    client, case_worker, people, settings, monkeypatch, limit, value, name, words
):
    """The limits of enrollment.bounds, lowered so that a small file crosses them; no row is parsed."""
    monkeypatch.setattr(upload_module, limit, value)
    monkeypatch.setattr("benefits.claims.imports.parse_row", _never)
    rows = [_row(people, business_key=f"B{i}", start_date=f"2024-03-0{i + 1}") for i in range(5)]
    data = _csv(rows) if name.endswith(".csv") else _xlsx([[*COLUMNS], *([r.get(c) for c in COLUMNS] for r in rows)])
    before = _counts()
    response = _upload(client, case_worker, name, data)
    assert response.status_code == 200
    assert any(words in m for m in response.context["adminform"].form.errors["file"])
    assert not SettlementFile.objects.exists() and _counts() == before and _stored_files(settings) == []


def _never(*args, **kwargs):
    raise AssertionError("a row was parsed before the file's limits were checked")


@pytest.mark.bad_input(area="claims", outcome="file_error")
def test_zip_bomb_refused_from_the_directory(client, case_worker, people, settings):
    """A workbook whose sheet would expand to 210 MB (a few hundred KB sent) is refused without inflating it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", b"<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as sheet:
            chunk = b" " * (1024 * 1024)
            for _ in range(210):
                sheet.write(chunk)
    response = _upload(client, case_worker, "bomb.xlsx", buf.getvalue())
    assert response.status_code == 200
    assert any("解压后过大" in m for m in response.context["adminform"].form.errors["file"])
    assert not SettlementFile.objects.exists() and _stored_files(settings) == []


# --- accepted after normalisation: (case, name, bytes given the persons) -----------------------------------


def _gbk_zh_headers(p) -> bytes:
    zh = {v: k for k, v in {"业务流水号": "business_key", "身份证号": "id_number", "医疗类别": "med_type"}.items()}
    zh |= {"start_date": "入院/就诊日期", "hospital_name": "医疗机构名称", "hospital_level": "医疗机构等级"}
    zh |= {"medfee_sumamt": "医疗费总额", "inscp_scp_amt": "符合政策范围金额"}
    row = _row(p, hospital_name="湘雅医院")
    header = ",".join(zh[c] for c in row)
    return (header + "\r\n" + ",".join(row.values()) + "\r\n").encode("gbk")


ACCEPTED_CASES: list[tuple[str, str, Callable[[dict], bytes]]] = [
    ("utf8_with_bom", "claims.csv", lambda p: _csv([_row(p)])),
    ("utf8_without_bom", "claims.csv", lambda p: _csv([_row(p)], encoding="utf-8")),
    ("gbk_chinese_headers", "claims.csv", _gbk_zh_headers),
    ("gb18030", "claims.csv", lambda p: _csv([_row(p, hospital_name="㐀院")], encoding="gb18030")),
    (
        "id_full_width_digits",
        "claims.csv",
        lambda p: _csv([_row(p, id_number=p["hunan"].id_number.translate(FULL_WIDTH))]),
    ),
    (
        "id_no_break_spaces",
        "claims.csv",
        lambda p: _csv([_row(p, id_number=f"\u00a0{p['hunan'].id_number[:6]}\u00a0{p['hunan'].id_number[6:]} ")]),
    ),
    (
        "id_ideographic_space",
        "claims.csv",
        lambda p: _csv([_row(p, id_number=f"{p['hunan'].id_number[:6]}\u3000{p['hunan'].id_number[6:]}")]),
    ),
    ("amount_trailing_zero", "claims.csv", lambda p: _csv([_row(p, medfee_sumamt="100.500")])),
    ("xlsx", "claims.xlsx", lambda p: _xlsx([[*COLUMNS], [_row(p).get(c) for c in COLUMNS]])),
    ("blank_row_between", "claims.csv", lambda p: _csv([_row(p)]) + b",,,\r\n"),
]


@pytest.mark.bad_input(area="claims", outcome="accepted")
@pytest.mark.parametrize(("name", "data"), [c[1:] for c in ACCEPTED_CASES], ids=[c[0] for c in ACCEPTED_CASES])
def test_accepted_after_normalisation(client, case_worker, people, settings, name, data):
    response = _upload(client, case_worker, name, data(people))
    assert response.status_code == 302
    sfile = SettlementFile.objects.get()
    assert sfile.status in ("settling", "done") and sfile.errors == [] and sfile.imported_rows == 1
    claim = Claim.objects.get()
    assert claim.person == people["hunan"] and claim.row_number == 2 and claim.business_key == "B1"
    assert len(_stored_files(settings)) == 1  # the upload read is kept with its claims


def test_corpus_size():
    """Issue #12 item 8: the claims import's share of the corpus."""
    assert len(ROW_CASES) + len(FILE_CASES) + len(LIMIT_CASES) + len(ACCEPTED_CASES) + 2 >= 40
