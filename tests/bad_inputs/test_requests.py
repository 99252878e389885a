"""Bad-input corpus, employers' 增减员 requests (issue #14 items 1, 7): the submit form and the file upload.

A bad value re-shows the form with a message on that field, or lists the row and field of a file; nothing is
written (no request, no attachment file in MEDIA_ROOT, no person or span); never an HTTP 500. One line per case.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from enrollment.models import EmployerRequest, EnrolmentSpan, InsuredPerson, RequestAttachment
from operations.demo.population import id_number

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

VALID_ID = id_number("430104", date(1991, 6, 1), 21, True)
WRONG_CHECK = VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1")
OLD_ID = id_number("430104", date(1950, 6, 1), 22, True)  # past hunan's retirement age (第十六条, 第二十八条)
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def setup(client, employer_user_a, employer_a, employer_b, person_factory):
    client.force_login(employer_user_a)
    return {
        "client": client,
        "own": person_factory(employer=employer_a, start=date(2024, 1, 1), name="本单位人"),
        "other": person_factory(employer=employer_b, start=date(2024, 1, 1), name="他单位人"),
        "recent": person_factory(employer=employer_a, start=timezone.localdate() - timedelta(days=2), name="新入职"),
    }


def _day(n: int = 1) -> str:
    return (timezone.localdate() - timedelta(days=n)).isoformat()


def _valid(**kw) -> dict:
    return {
        "kind": "hire",
        "id_number": VALID_ID,
        "name": "张三",
        "female_role": "",
        "phone": "",
        "occurred_on": _day(),
        "monthly_wage": "",
        "note": "",
        **kw,
    }


def _files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _nothing_written(before_people: int) -> None:
    assert not EmployerRequest.objects.exists() and not RequestAttachment.objects.exists()
    assert InsuredPerson.objects.count() == before_people and not _files()


# (field, value or callable of setup, extra fields) → message on the field
FORM_CASES = [
    ("id_number", "", {}),
    ("id_number", WRONG_CHECK, {}),
    ("id_number", "1" * 40, {}),
    ("id_number", "=1+1", {}),
    ("name", "长" * 300, {}),
    ("phone", "1" * 40, {}),
    ("occurred_on", "2024-02-30", {}),
    ("occurred_on", "1900-01-01", {}),
    ("occurred_on", "2999-01-01", {}),
    ("kind", "promotion", {}),
    ("female_role", "queen", {}),
    ("monthly_wage", "-5", {}),
    ("monthly_wage", "abc", {}),
    ("monthly_wage", "12.345", {}),
    ("monthly_wage", "999999999999.99", {}),
    ("occurred_on", _day(), {"id_number": OLD_ID}),  # hunan 第十六条: over retirement age
    ("id_number", "other", {}),  # hire of a person enrolled at another employer
    ("id_number", "own", {}),  # hire of one's own employee again
    ("id_number", "other", {"kind": "separation"}),  # another employer's person
    ("occurred_on", _day(2), {"kind": "separation", "id_number": "recent"}),  # separation before/at the hire
    ("monthly_wage", "", {"kind": "wage_change", "id_number": "own"}),  # wage change without a wage
    ("id_number", VALID_ID, {"kind": "separation"}),  # never enrolled
    ("attachments", "exe", {}),
    ("attachments", "fake-pdf", {}),
    ("attachments", "empty", {}),
]


def _upload(kind: str):
    return {
        "exe": SimpleUploadedFile("virus.exe", b"MZ\x90\x00", content_type="application/octet-stream"),
        "fake-pdf": SimpleUploadedFile("contract.pdf", b"<html>", content_type="application/pdf"),
        "empty": SimpleUploadedFile("contract.pdf", b"", content_type="application/pdf"),
    }[kind]


@pytest.mark.bad_input(area="requests", outcome="form_error")
@pytest.mark.parametrize(
    ("field", "value", "extra"), FORM_CASES, ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(FORM_CASES)]
)
def test_bad_request_is_refused_on_its_field(setup, field, value, extra):
    people = InsuredPerson.objects.count()
    spans = EnrolmentSpan.objects.count()
    data = _valid(**extra)
    if field == "attachments":
        data["attachments"] = _upload(value)
    else:
        data[field] = value
    for key in ("id_number",):
        if data[key] in ("own", "other", "recent"):
            person = setup[data[key]]
            data[key], data["name"] = person.id_number, person.name
    response = setup["client"].post(reverse("admin:enrollment_employerrequest_add"), data)
    assert response.status_code == 200, "re-shown, not saved"
    errors = response.context["adminform"].form.errors
    assert errors.get(field), errors
    _nothing_written(people)
    assert EnrolmentSpan.objects.count() == spans


@pytest.mark.bad_input(area="requests", outcome="form_error")
def test_duplicate_request_is_refused(setup):
    client = setup["client"]
    assert client.post(reverse("admin:enrollment_employerrequest_add"), _valid()).status_code == 302
    response = client.post(reverse("admin:enrollment_employerrequest_add"), _valid())
    assert "请勿重复申报" in str(response.context["adminform"].form.errors["id_number"])
    assert EmployerRequest.objects.count() == 1


HEAD = ["申请类型", "身份证号", "姓名", "变动日期", "月工资", "女职工身份", "联系电话", "申请说明"]


def _xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ROW_CASES = [
    (["调岗", VALID_ID, "张三", _day(), "", "", "", ""], "申请类型"),
    (["增员", WRONG_CHECK, "张三", _day(), "", "", "", ""], "身份证号"),
    (["增员", VALID_ID, "", _day(), "", "", "", ""], "姓名"),
    (["增员", VALID_ID, "张三", "2024-13-01", "", "", "", ""], "变动日期"),
    (["增员", VALID_ID, "张三", "", "", "", "", ""], "变动日期"),
    (["工资变更", "own", "", _day(), "abc", "", "", ""], "月工资"),
    (["工资变更", "own", "", _day(), "-1", "", "", ""], "月工资"),
    (["增员", VALID_ID, "张三", _day(), "", "皇后", "", ""], "女职工身份"),
    (["减员", "other", "", _day(), "", "", "", ""], "身份证号"),
    (["增员", OLD_ID, "老人", _day(), "", "", "", ""], "变动日期"),
    (["增员", "=cmd|' /C calc'!A0", "张三", _day(), "", "", "", ""], "身份证号"),
]


@pytest.mark.bad_input(area="requests", outcome="row_error")
@pytest.mark.parametrize(("row", "label"), ROW_CASES, ids=[f"row-{i}" for i in range(len(ROW_CASES))])
def test_bad_file_row_is_listed_by_row_and_field_and_nothing_is_submitted(setup, row, label):
    people = InsuredPerson.objects.count()
    row = list(row)
    if row[1] in ("own", "other"):
        person = setup[row[1]]
        row[1], row[2] = person.id_number, person.name
    good = ["增员", id_number("430104", date(1992, 1, 1), 30, False), "李四", _day(), "", "女工人", "", ""]
    response = setup["client"].post(
        reverse("admin:enrollment_employerrequest_upload"),
        {"file": SimpleUploadedFile("r.xlsx", _xlsx([HEAD, good, row]))},
    )
    assert response.status_code == 200
    assert f"第 3 行 {label}" in response.content.decode()
    _nothing_written(people)


FILE_CASES = [
    ("r.txt", b"hello", "只接受"),
    ("r.xlsx", b"PK\x03\x04 broken", "无法读取"),
    ("r.csv", b"", "文件是空的"),
    ("r.csv", "姓名,身份证号\n张三,1\n".encode(), "缺少列"),
    ("r.csv", ",".join(HEAD).encode("utf-8") + b"\n", "没有申请行"),
    ("r.csv", b"\xff\xfe\x00\x00garbage\x00", "编码"),
]


@pytest.mark.bad_input(area="requests", outcome="file_error")
@pytest.mark.parametrize(
    ("name", "content", "message"), FILE_CASES, ids=[c[0] + str(i) for i, c in enumerate(FILE_CASES)]
)
def test_unreadable_file_is_refused_as_a_whole(setup, name, content, message):
    people = InsuredPerson.objects.count()
    response = setup["client"].post(
        reverse("admin:enrollment_employerrequest_upload"), {"file": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 200 and message in response.content.decode()
    _nothing_written(people)
