"""Bad-input corpus: the 两定机构 inputs (issue #17 items 1, 2, 6).

- the settlement file's new columns (fixmedins_code, the 住院审核 facts): row and field named, nothing written;
- the register file through the admin import (django-import-export): every bad row named by row and field in the
  preview, nothing written, no confirm offered; never an HTTP 500.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from benefits.claims.models import SettlementFile
from benefits.institutions.models import Agreement, Institution, InstitutionRating
from tests.bad_inputs.test_claims import _counts, _csv, _row, _stored_files, _upload, people  # noqa: F401

ROW_CASES: list[tuple[str, Callable[[dict], list[dict[str, str]]], str, str]] = [
    ("code_unknown", lambda p: [_row(p, fixmedins_code="H00000000000")], "fixmedins_code", "查无此定点医药机构编码"),
    ("code_too_long", lambda p: [_row(p, fixmedins_code="H" * 30)], "fixmedins_code", "长度不能超过 20"),
    ("no_level_no_code", lambda p: [_row(p, hospital_level="")], "hospital_level", "fixmedins_code"),
    (
        "hours_negative",
        lambda p: [_row(p, admission_registered_hours="-1")],
        "admission_registered_hours",
        "不能为负数",
    ),
    ("hours_text", lambda p: [_row(p, admission_registered_hours="两天")], "admission_registered_hours", "不是整数"),
    ("hours_huge", lambda p: [_row(p, admission_registered_hours="99999")], "admission_registered_hours", "超出范围"),
    ("drug_days_fraction", lambda p: [_row(p, discharge_drug_days="1.5")], "discharge_drug_days", "不是整数"),
    ("injury_date_bad", lambda p: [_row(p, injury_registered_on="2024-02-30")], "injury_registered_on", "日期格式"),
    ("injury_date_future", lambda p: [_row(p, injury_registered_on="2031-01-01")], "injury_registered_on", "不能晚于"),
    ("identity_maybe", lambda p: [_row(p, identity_verified="也许")], "identity_verified", "应为 是/否"),
    ("bed_hanging_formula", lambda p: [_row(p, bed_hanging="=1")], "bed_hanging", "应为 是/否"),
]


@pytest.mark.bad_input(area="claims", outcome="row_error")
@pytest.mark.parametrize(("rows", "field", "words"), [c[1:] for c in ROW_CASES], ids=[c[0] for c in ROW_CASES])
def test_settlement_file_register_columns(client, case_worker, people, settings, rows, field, words):  # noqa: F811
    before = _counts()
    assert _upload(client, case_worker, "claims.csv", _csv(rows(people))).status_code == 302
    sfile = SettlementFile.objects.get()
    assert sfile.status == "failed" and sfile.imported_rows == 0
    assert any(e["row"] == 2 and e["field"] == field and words in e["message"] for e in sfile.errors), sfile.errors
    assert _counts() == before and _stored_files(settings) == []


HEADER = (
    "定点医药机构编码,机构名称,机构类别,统筹区,地址,医疗机构等级,中医医院,医疗机构级别,所在地,等级起始日,"
    "协议编号,协议起始日,协议截止日,协议状态,中止解除生效日,保证金预留比例\n"
)
GOOD = "H13100200031,好医院,hospital,langfang,,level2,否,county,pooling_area,2024-01-01,A1,2024-01-01,,,,\n"

REGISTER_CASES = [
    ("kind_unknown", "H13100200032,医院,诊所,langfang,,level2,,,,2024-01-01,,,,,,\n", "kind"),
    ("jurisdiction_unknown", "H13100200033,医院,hospital,beijing,,level2,,,,2024-01-01,,,,,,\n", "jurisdiction"),
    ("level_unknown", "H13100200034,医院,hospital,langfang,,level9,,,,2024-01-01,,,,,,\n", "医疗机构等级"),
    ("level_without_date", "H13100200035,医院,hospital,langfang,,level2,,,,,,,,,,\n", "等级起始日"),
    ("pharmacy_as_hospital", "P13100200036,药店,pharmacy,langfang,,level2,,,,2024-01-01,,,,,,\n", "医疗机构等级"),
    ("date_bad", "H13100200037,医院,hospital,langfang,,level2,,,,2024-02-30,,,,,,\n", "等级起始日"),
    ("tcm_maybe", "H13100200038,医院,hospital,langfang,,level2,也许,,,2024-01-01,,,,,,\n", "中医医院"),
    (
        "end_before_start",
        "H13100200039,医院,hospital,langfang,,level2,,,,2024-01-01,A,2024-05-01,2024-01-01,,,\n",
        "协议截止日",
    ),
    (
        "ended_without_date",
        "H13100200040,医院,hospital,langfang,,level2,,,,2024-01-01,A,2024-01-01,,ended,,\n",
        "中止解除生效日",
    ),
    (
        "deposit_where_none",
        "H13100200041,医院,hospital,langfang,,level2,,,,2024-01-01,A,2024-01-01,,,,5\n",
        "保证金预留比例",
    ),
    (
        "deposit_text",
        "H13100200042,医院,hospital,langfang,,level2,,,,2024-01-01,A,2024-01-01,,,,五\n",
        "保证金预留比例",
    ),
    ("name_too_long", "H13100200043," + "院" * 300 + ",hospital,langfang,,level2,,,,2024-01-01,,,,,,\n", "name"),
    ("code_empty", ",医院,hospital,langfang,,level2,,,,2024-01-01,,,,,,\n", "fixmedins_code"),
]


def _preview(client, user, text: str):
    client.force_login(user)
    return client.post(
        reverse("admin:institutions_institution_import"),
        {"import_file": SimpleUploadedFile("两定机构.csv", text.encode("utf-8-sig")), "format": "1", "resource": "0"},
    )


@pytest.mark.bad_input(area="admin_form", outcome="row_error")
@pytest.mark.parametrize(("line", "field"), [c[1:] for c in REGISTER_CASES], ids=[c[0] for c in REGISTER_CASES])
def test_register_import_names_row_and_field_and_writes_nothing(client, case_worker, line, field):
    response = _preview(client, case_worker, HEADER + GOOD + line)
    assert response.status_code == 200
    result = response.context["result"]
    invalid = {r.number: r.field_specific_errors for r in result.invalid_rows}
    assert list(invalid) == [2] and field in invalid[2], invalid  # the good first row is fine, the bad one named
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert (
        not Institution.objects.exists() and not Agreement.objects.exists() and not InstitutionRating.objects.exists()
    )


@pytest.mark.bad_input(area="admin_form", outcome="accepted")
def test_register_import_good_file_confirms(client, case_worker):
    preview = _preview(client, case_worker, HEADER + GOOD.replace("H131", "Ｈ131"))  # full-width normalised
    assert preview.status_code == 200 and not Institution.objects.exists()  # dry run
    done = client.post(
        reverse("admin:institutions_institution_process_import"), preview.context["confirm_form"].initial
    )
    assert done.status_code == 302
    inst = Institution.objects.get(fixmedins_code="H13100200031")
    assert inst.ratings.get().hospital_level == "level2" and inst.agreements.get().number == "A1"
