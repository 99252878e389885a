"""Payroll (工资申报) and tax-bureau payment (实缴) imports: issue 3, items 1 and 5.

Expected errors and counts are written from the rules of the import screen, not
copied from the code: row numbers are the spreadsheet's (header = row 1), and the
allowed contribution years are the current and the next one on the upload date.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from contributions import imports
from contributions.imports.payroll import payroll_unstage
from contributions.models import (
    ImportJob,
    ImportStatus,
    MonthlyDue,
    Payment,
    PaymentAllocation,
    PayrollStagedRow,
    WageDeclaration,
)
from enrollment import services
from operations.demo.population import credit_code

pytestmark = pytest.mark.django_db

AS_OF = date(2024, 5, 10)  # hunan: contribution (base) year = calendar year → 2024 current, 2025 next
BAD_CHECK = "110105194912310029"  # GB 11643: the check digit of 11010519491231002 is X, not 9
UNREGISTERED = "11010519491231002X"  # valid, but nobody in the register has it


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def csv_bytes(rows: list[list], *, encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def errors_of(job_or_result) -> set[tuple[int, str]]:
    errors = job_or_result.errors
    return {(e["row"], e["field"]) if isinstance(e, dict) else (e.row, e.field) for e in errors}


def messages_of(job: ImportJob, row: int) -> str:
    return " ".join(e["message"] for e in job.errors if e["row"] == row)


HEADER = ["身份证号", "姓名", "月工资", "年度"]


@pytest.fixture
def staff(case_worker):
    return case_worker


@pytest.fixture
def people(employer_a, employer_b, person_factory):
    """Three employees of 甲公司 (since 2023-01-01) and one of 乙公司."""
    a1 = person_factory(employer=employer_a, name="甲一")
    a2 = person_factory(employer=employer_a, name="甲二")
    a3 = person_factory(employer=employer_a, name="甲三")
    b1 = person_factory(employer=employer_b, name="乙一")
    return a1, a2, a3, b1


def payroll_job(user, employer, rows, *, name="payroll.csv", as_of=AS_OF, year=None, data=None) -> ImportJob:
    job = imports.import_job_create(
        kind="payroll",
        uploaded_file=upload(name, data if data is not None else csv_bytes([HEADER, *rows])),
        user=user,
        as_of=as_of,
        employer=employer,
        year=year,
    )
    return imports.import_job_validate(job.pk)


# --- dry run: every bad row by row number and field ------------------------------------------


def test_dry_run_lists_every_bad_row_with_row_number_and_field(staff, employer_a, people):
    a1, a2, a3, b1 = people
    job = payroll_job(
        staff,
        employer_a,
        [
            [a1.id_number, "甲一", "6500", "2024"],  # row 2: good
            [BAD_CHECK, "某人", "5000", "2024"],  # row 3: check digit
            [b1.id_number, "乙一", "5000", "2024"],  # row 4: 乙公司's employee
            [a2.id_number, "甲二", "-100", "2024"],  # row 5: negative wage
            [a3.id_number, "甲三", "五千", "2024"],  # row 6: not a number
            [a1.id_number, "甲一", "6600", "2025"],  # row 7: good (next year is allowed)
            [a2.id_number, "甲二", "5000", "2022"],  # row 8: wrong period
            [UNREGISTERED, "张三", "5000", "2024"],  # row 9: not in the register
            [a3.id_number, "别人", "5000", "2025"],  # row 10: name differs from the register
        ],
    )
    assert job.status == ImportStatus.VALIDATED
    assert job.total_rows == 9
    assert errors_of(job) == {
        (3, "身份证号"),
        (4, "身份证号"),
        (5, "月工资"),
        (6, "月工资"),
        (8, "年度"),
        (9, "身份证号"),
        (10, "姓名"),
    }
    assert job.error_rows == 7
    assert "校验码" in messages_of(job, 3)
    assert "未在本单位" in messages_of(job, 4) and "乙公司" not in messages_of(job, 4)
    assert "负数" in messages_of(job, 5)
    assert "不是数字" in messages_of(job, 6)
    assert "2024" in messages_of(job, 8) and "2025" in messages_of(job, 8)
    assert "未找到" in messages_of(job, 9)
    assert job.dry_run_summary["valid_rows"] == 2  # rows 2 and 7
    assert job.dry_run_summary["to_create"] == 2
    assert not WageDeclaration.objects.exists()  # a dry run writes nothing


def test_duplicate_rows_are_rejected_on_every_occurrence(staff, employer_a, people):
    a1, a2, *_ = people
    job = payroll_job(
        staff,
        employer_a,
        [
            [a1.id_number, "甲一", "6500", "2024"],  # row 2
            [a2.id_number, "甲二", "5000", "2024"],  # row 3
            [a1.id_number, "甲一", "6600", "2024"],  # row 4: same person, same year as row 2
            [a1.id_number, "甲一", "6600", "2025"],  # row 5: another year: not a duplicate
        ],
    )
    assert errors_of(job) == {(2, "身份证号"), (4, "身份证号")}
    assert "第 4 行" in messages_of(job, 2) and "第 2 行" in messages_of(job, 4)
    assert job.dry_run_summary["valid_rows"] == 2


def test_wage_checks(staff, employer_a, people):
    a1, a2, a3, _ = people
    job = payroll_job(
        staff,
        employer_a,
        [],
        data=csv_bytes(
            [
                ["身份证号", "姓名", "月工资", "上年工资总额", "年度"],
                [a1.id_number, "甲一", "", "78000", "2024"],  # row 2: only the annual total: fine
                [a2.id_number, "甲二", "", "", "2024"],  # row 3: neither wage
                [a3.id_number, "甲三", "5000.123", "", "2024"],  # row 4: three decimals
            ]
        ),
    )
    assert errors_of(job) == {(3, "月工资"), (4, "月工资")}
    assert "至少填写一项" in messages_of(job, 3)
    assert "两位小数" in messages_of(job, 4)


def test_langfang_contribution_year_runs_july_to_june(staff, person_factory):
    """langfang 第二十一条: bases change on 1 July; on 2024-05-10 the current base year is the one
    that started 2023-07-01 (labelled 2023), the next one starts 2024-07-01 (2024)."""
    lf = services.employer_register(
        credit_code=credit_code("131002", 7), name="廊坊单位", jurisdiction="langfang", registered_on=date(2020, 1, 1)
    )
    p = person_factory(employer=lf, name="廊一")
    q = person_factory(employer=lf, name="廊二")
    r = person_factory(employer=lf, name="廊三")
    job = payroll_job(
        staff,
        lf,
        [
            [p.id_number, "廊一", "6000", "2024-05"],  # row 2: May 2024 is in base year 2023
            [q.id_number, "廊二", "6000", "2024-07"],  # row 3: July 2024 starts base year 2024
            [r.id_number, "廊三", "6000", "2025"],  # row 4: 2025 is not current (2023) or next (2024)
        ],
    )
    assert errors_of(job) == {(4, "年度")}
    assert imports.payroll_years("langfang", AS_OF) == (2023, 2024)
    imports.import_job_commit(job.pk, skip_errors=True)
    assert dict(WageDeclaration.objects.values_list("person__name", "year")) == {"廊一": 2023, "廊二": 2024}


def test_year_column_may_be_left_to_the_form(staff, employer_a, people):
    a1, *_ = people
    data = csv_bytes([["身份证号", "姓名", "月工资"], [a1.id_number, "甲一", "6500"]])
    job = payroll_job(staff, employer_a, [], data=data, year=2025)
    assert not job.errors
    imports.import_job_commit(job.pk)
    assert WageDeclaration.objects.get().year == 2025
    no_year = payroll_job(staff, employer_a, [], data=data, year=None)
    assert errors_of(no_year) == {(2, "年度")}


# --- files refused outright -------------------------------------------------------------------


def test_file_too_large_is_refused_and_the_limit_is_said(staff, employer_a, settings):
    with pytest.raises(imports.FileRejected, match="20 MB"):
        imports.check_upload("big.xlsx", imports.MAX_UPLOAD_BYTES + 1)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("payroll.xls", b"\xd0\xcf\x11\xe0old excel", "只接受 .xlsx 或 .csv"),
        ("payroll.pdf", b"%PDF-1.4", "只接受 .xlsx 或 .csv"),
        ("payroll.xlsx", b"this is not a zip file", "不是有效的 Excel"),
        ("payroll.csv", b"\x00\x01\x02binary", "不是文本格式"),
        ("payroll.csv", "姓名,工资\n张三,5000\n".encode(), "缺少必需的列：身份证号"),
        ("payroll.csv", "身份证号,姓名,月工资\n".encode(), "没有数据行"),
    ],
)
def test_not_a_spreadsheet_or_wrong_columns_fails_the_whole_file(staff, employer_a, name, data, message):
    if not name.endswith((".xlsx", ".csv")):
        with pytest.raises(imports.FileRejected, match=message):
            imports.import_job_create(
                kind="payroll", uploaded_file=upload(name, data), user=staff, as_of=AS_OF, employer=employer_a
            )
        return
    job = payroll_job(staff, employer_a, [], name=name, data=data)
    assert job.status == ImportStatus.FAILED
    assert message in job.dry_run_summary["failure"]


def test_xlsx_with_chinese_headers_gbk_csv_and_numeric_id(staff, employer_a, people):
    a1, a2, *_ = people
    data = xlsx_bytes(
        [
            ["公民身份号码", "职工姓名", "月工资（元）", "所属期"],
            [a1.id_number, "甲一", 6500.5, datetime(2024, 3, 1)],  # row 2: good, date cell as period
            [float(a2.id_number[:17] + "0"), "甲二", 5000, 2024],  # row 3: ID stored as a number
        ]
    )
    job = payroll_job(staff, employer_a, [], name="工资.xlsx", data=data)
    assert errors_of(job) == {(3, "身份证号")}
    assert "文本" in messages_of(job, 3)
    gbk = csv_bytes([HEADER, [a1.id_number, "甲一", "6500", "2024"]], encoding="gb18030")
    assert not payroll_job(staff, employer_a, [], data=gbk).errors


# --- confirm: all or nothing ------------------------------------------------------------------


def test_confirm_writes_all_rows(staff, employer_a, people):
    a1, a2, a3, _ = people
    job = payroll_job(
        staff,
        employer_a,
        [
            [a1.id_number, "甲一", "6500", "2024"],
            [a2.id_number, "甲二", "5000.50", "2024"],
            [a3.id_number, "甲三", "4000", "2025"],
        ],
    )
    job = imports.import_job_commit(job.pk)
    assert job.status == ImportStatus.DONE
    assert job.dry_run_summary["committed"] == {"created": 3, "updated": 0, "unchanged": 0}
    rows = {(w.person_id, w.year): w for w in WageDeclaration.objects.all()}
    assert rows[(a2.pk, 2024)].monthly_wage == Decimal("5000.50")
    assert rows[(a3.pk, 2025)].employer_id == employer_a.pk
    assert rows[(a1.pk, 2024)].import_job_id == job.pk and rows[(a1.pk, 2024)].declared_by_id == staff.pk


def test_a_failure_in_the_middle_of_the_commit_writes_nothing(staff, employer_a, people, monkeypatch):
    a1, a2, a3, _ = people
    job = payroll_job(
        staff,
        employer_a,
        [
            [a1.id_number, "甲一", "6500", "2024"],
            [a2.id_number, "甲二", "5000", "2024"],
            [a3.id_number, "甲三", "4000", "2024"],
        ],
    )
    monkeypatch.setattr(imports.writing, "COMMIT_BATCH", 1)  # three INSERTs of one row each
    real, calls = imports.write_batch, []

    def failing(writer, rows):
        calls.append(len(rows))
        if len(calls) == 3:
            raise RuntimeError("disk full")  # injected failure after two batches were written
        return real(writer, rows)

    monkeypatch.setattr(imports.writing, "write_batch", failing)
    job = imports.import_job_commit(job.pk)
    assert len(calls) == 3
    assert job.status == ImportStatus.FAILED
    assert "未写入任何数据" in job.dry_run_summary["failure"] and "disk full" in job.dry_run_summary["failure"]
    assert WageDeclaration.objects.count() == 0


def test_a_file_with_bad_rows_is_not_committed_unless_asked_to_skip_them(staff, employer_a, people):
    a1, a2, *_ = people
    rows = [
        [a1.id_number, "甲一", "6500", "2024"],
        [BAD_CHECK, "某人", "5000", "2024"],
        [a2.id_number, "甲二", "x", "2024"],
    ]
    job = imports.import_job_commit(payroll_job(staff, employer_a, rows).pk)
    assert job.status == ImportStatus.VALIDATED
    assert "2 行错误" in job.dry_run_summary["commit_refused"]
    assert not WageDeclaration.objects.exists()
    job = imports.import_job_commit(job.pk, skip_errors=True)
    assert job.status == ImportStatus.DONE
    assert list(WageDeclaration.objects.values_list("person_id", flat=True)) == [a1.pk]
    assert job.dry_run_summary["skipped_error_rows"] == 2


def test_commit_refuses_when_the_data_changed_since_the_dry_run(staff, employer_a, people):
    a1, a2, *_ = people
    job = payroll_job(
        staff, employer_a, [[a1.id_number, "甲一", "6500", "2024"], [a2.id_number, "甲二", "5000", "2024"]]
    )
    span = a2.spans.get()
    services.span_close(span=span, end=date(2023, 6, 1))  # 甲二 left before 2024: row 3 is now wrong
    job = imports.import_job_commit(job.pk)
    assert job.status == ImportStatus.VALIDATED and errors_of(job) == {(3, "身份证号")}
    assert not WageDeclaration.objects.exists()


def test_confirm_writes_from_the_rows_the_dry_run_staged_without_reading_the_file_again(staff, employer_a, people):
    """Issue #13 item 4: the payroll file is read once; the confirm checks the staged rows' references
    set-wise and upserts them. A confirm refused for a row that changed keeps the others staged."""
    a1, a2, a3, _ = people
    job = payroll_job(
        staff,
        employer_a,
        [
            [a1.id_number, "甲一", "6500", "2024"],
            [a2.id_number, "甲二", "5000", "2024"],
            [a3.id_number, "甲三", "4000", "2024"],
        ],
    )
    assert job.dry_run_summary["staged"] is True
    assert sorted(PayrollStagedRow.objects.filter(job=job).values_list("row", flat=True)) == [2, 3, 4]
    job.file.delete(save=True)  # the confirm must not need it
    services.span_close(span=a3.spans.get(), end=date(2023, 6, 1))  # 甲三 left before 2024: row 4 is now wrong
    job = imports.import_job_commit(job.pk)
    assert job.status == ImportStatus.VALIDATED and errors_of(job) == {(4, "身份证号")}
    assert "有效行 3 → 2" in job.dry_run_summary["commit_refused"]
    assert not WageDeclaration.objects.exists()
    job = imports.import_job_commit(job.pk, skip_errors=True)
    assert job.status == ImportStatus.DONE, job.dry_run_summary
    assert job.dry_run_summary["committed"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert set(WageDeclaration.objects.values_list("person_id", flat=True)) == {a1.pk, a2.pk}
    assert not PayrollStagedRow.objects.filter(job=job).exists()  # staging is emptied by the commit


def test_confirm_validates_the_file_again_when_its_staged_rows_are_lost(staff, employer_a, people):
    """The staging is UNLOGGED on PostgreSQL: a crash of the database empties it. The confirm then finds fewer
    staged rows than the dry run's valid rows and validates the stored file again, instead of writing what is
    left (nothing, or part of the file)."""
    a1, a2, a3, _ = people
    rows = [
        [a1.id_number, "甲一", "6500", "2024"],
        [a2.id_number, "甲二", "5000", "2024"],
        [a3.id_number, "甲三", "4000", "2024"],
    ]
    job = payroll_job(staff, employer_a, rows)
    payroll_unstage(job, [3, 4])  # two of the three staged rows lost
    job = imports.import_job_commit(job.pk)
    assert job.status == ImportStatus.DONE, job.dry_run_summary
    assert job.dry_run_summary["committed"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert set(WageDeclaration.objects.values_list("person_id", flat=True)) == {a1.pk, a2.pk, a3.pk}
    assert not PayrollStagedRow.objects.filter(job=job).exists()


def test_importing_the_same_file_twice_changes_nothing_the_second_time(staff, employer_a, people):
    a1, a2, *_ = people
    rows = [[a1.id_number, "甲一", "6500", "2024"], [a2.id_number, "甲二", "5000", "2024"]]
    first = imports.import_job_commit(payroll_job(staff, employer_a, rows).pk)
    stamp = dict(WageDeclaration.objects.values_list("id", "declared_at"))
    second = imports.import_job_commit(payroll_job(staff, employer_a, rows).pk)
    assert second.dry_run_summary["committed"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert dict(WageDeclaration.objects.values_list("id", "declared_at")) == stamp
    assert set(WageDeclaration.objects.values_list("import_job_id", flat=True)) == {first.pk}
    changed = [[a1.id_number, "甲一", "7000", "2024"], [a2.id_number, "甲二", "5000", "2024"]]
    third = imports.import_job_commit(payroll_job(staff, employer_a, changed).pk)
    assert third.dry_run_summary["committed"] == {"created": 0, "updated": 1, "unchanged": 1}
    assert WageDeclaration.objects.get(person=a1).monthly_wage == Decimal("7000.00")


def test_commit_runs_once(staff, employer_a, people):
    a1, *_ = people
    job = payroll_job(staff, employer_a, [[a1.id_number, "甲一", "6500", "2024"]])
    imports.import_job_commit(job.pk)
    again = imports.import_job_commit(job.pk)  # a task delivered twice
    assert again.status == ImportStatus.DONE and WageDeclaration.objects.count() == 1


# --- screens: employer scoping, background progress, rejected rows ---------------------------


def post_payroll(client, rows, *, employer=None, year=None, name="payroll.csv", data=None):
    year = year or imports.payroll_years("hunan", timezone.localdate())[0]
    payload = {"year": year, "file": upload(name, data if data is not None else csv_bytes([HEADER, *rows]))}
    if employer is not None:
        payload["employer"] = employer.credit_code
    return client.post(reverse("contributions:payroll_upload"), payload)


def this_year() -> str:
    return str(imports.payroll_years("hunan", timezone.localdate())[0])


def test_employer_user_imports_only_for_their_employer(client, employer_user_a, employer_a, employer_b, people):
    a1, _, _, b1 = people
    client.force_login(employer_user_a)
    page = client.get(reverse("contributions:payroll_upload")).content.decode()
    assert "甲公司" in page and "乙公司" not in page and employer_b.credit_code not in page
    # Even when the form is tampered with to name 乙公司, the job is for 甲公司.
    response = post_payroll(
        client,
        [[a1.id_number, "甲一", "6500", this_year()], [b1.id_number, "乙一", "5000", this_year()]],
        employer=employer_b,
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("contributions:import_job", args=[job.pk])
    assert job.employer == employer_a
    assert job.status == ImportStatus.VALIDATED  # the background task ran (in-process without a broker)
    assert errors_of(job) == {(3, "身份证号")}  # 乙公司's employee is rejected
    # Issue #12 item 9: an employer user is not told whether the number is registered elsewhere.
    assert messages_of(job, 3) == "该身份证号不是本单位在册职工，请核对身份证号和缴费年度。"
    html = client.get(reverse("contributions:import_job", args=[job.pk])).content.decode()
    assert "不是本单位在册职工" in html and "未在本单位" not in html and ">3<" in html


def test_staff_import_for_any_employer(client, staff, employer_b, people):
    *_, b1 = people
    client.force_login(staff)
    post_payroll(client, [[b1.id_number, "乙一", "5000", this_year()]], employer=employer_b)
    job = ImportJob.objects.get()
    assert job.employer == employer_b and not job.errors
    client.post(reverse("contributions:import_job_confirm", args=[job.pk]))
    assert WageDeclaration.objects.get().person == b1


def test_employer_user_cannot_see_another_employers_jobs(client, employer_user_a, staff, employer_b, people):
    *_, b1 = people
    other = payroll_job(staff, employer_b, [[b1.id_number, "乙一", "5000", "2024"]])
    client.force_login(employer_user_a)
    assert client.get(reverse("contributions:import_job", args=[other.pk])).status_code == 404
    assert client.get(reverse("contributions:import_job_progress", args=[other.pk])).status_code == 404
    assert client.get(reverse("contributions:import_job_rejected", args=[other.pk])).status_code == 404
    assert client.post(reverse("contributions:import_job_confirm", args=[other.pk])).status_code == 404
    changelist = client.get(reverse("admin:contributions_importjob_changelist")).content.decode()
    assert "payroll.csv" not in changelist
    assert client.get(reverse("contributions:payment_upload")).status_code == 403


def test_hundred_row_import_runs_in_the_background_with_progress_to_100(
    client, staff, employer_a, person_factory, monkeypatch
):
    persons = [person_factory(employer=employer_a, name=f"职工{i}") for i in range(100)]
    rows = [[p.id_number, p.name, str(5000 + i), this_year()] for i, p in enumerate(persons)]
    monkeypatch.setattr(imports.payroll, "PROGRESS_EVERY", 10)
    monkeypatch.setattr(imports.writing, "COMMIT_BATCH", 25)
    seen: list[tuple[str, int]] = []
    real_call = imports._ProgressWriter.__call__

    def spy(self, processed):
        seen.append((ImportJob.objects.get(pk=self.job_id).status, processed))
        return real_call(self, processed)

    monkeypatch.setattr(imports._ProgressWriter, "__call__", spy)
    client.force_login(staff)
    post_payroll(client, rows, employer=employer_a)
    job = ImportJob.objects.get()
    validating = [n for status, n in seen if status == ImportStatus.VALIDATING]
    assert validating == sorted(validating) and validating[-1] == 100 and len(validating) > 3
    progress = client.get(reverse("contributions:import_job_progress", args=[job.pk])).json()
    assert progress["status"] == "validated" and progress["percent"] == 100 and progress["processed_rows"] == 100

    seen.clear()
    client.post(reverse("contributions:import_job_confirm", args=[job.pk]))
    assert [n for status, n in seen if status == ImportStatus.IMPORTING] == [25, 50, 75, 100]
    progress = client.get(reverse("contributions:import_job_progress", args=[job.pk])).json()
    assert progress == {
        "status": "done",
        "status_display": "已完成",
        "total_rows": 100,
        "processed_rows": 100,
        "error_rows": 0,
        "percent": 100,
        "running": False,
    }
    assert WageDeclaration.objects.count() == 100


def test_progress_while_running_is_below_100(staff, employer_a, people):
    a1, *_ = people
    job = imports.import_job_create(
        kind="payroll",
        uploaded_file=upload("p.csv", csv_bytes([HEADER, [a1.id_number, "甲一", "1", "2024"]])),
        user=staff,
        as_of=AS_OF,
        employer=employer_a,
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.VALIDATING, total_rows=200, processed_rows=50)
    job.refresh_from_db()
    from contributions.views import _progress

    assert _progress(job)["percent"] == 25 and _progress(job)["running"]


def test_rejected_rows_download_has_original_columns_and_an_error_column(client, staff, employer_a, people):
    a1, a2, *_ = people
    client.force_login(staff)
    year = this_year()
    post_payroll(
        client,
        [[a1.id_number, "甲一", "6500", year], [a2.id_number, "甲二", "-1", year], [BAD_CHECK, "某人", "5000", year]],
        employer=employer_a,
    )
    job = ImportJob.objects.get()
    page = client.get(reverse("contributions:import_job", args=[job.pk])).content.decode()
    assert "下载错误行" in page and "确认导入全部" not in page and "跳过错误行" in page
    response = client.get(reverse("contributions:import_job_rejected", args=[job.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["身份证号", "姓名", "月工资", "年度", "错误说明", "原行号"]
    # Text cells that a spreadsheet would read as a formula come back neutralised (issue #12 item 4).
    assert [r[:4] for r in rows[1:]] == [[a2.id_number, "甲二", "'-1", year], [BAD_CHECK, "某人", "5000", year]]
    assert "月工资" in rows[1][4] and "负数" in rows[1][4] and rows[1][5] == 3
    assert "身份证号" in rows[2][4] and "校验码" in rows[2][4] and rows[2][5] == 4
    # The fixed rows can be uploaded again as they are (the extra columns are ignored).
    fixed = [[a2.id_number, "甲二", "5100", year, "", 3]]
    post_payroll(client, [], employer=employer_a, data=csv_bytes([rows[0], *fixed]))
    assert not ImportJob.objects.latest("created_at").errors


def test_confirm_button_and_double_submit(client, staff, employer_a, people):
    a1, *_ = people
    client.force_login(staff)
    post_payroll(client, [[a1.id_number, "甲一", "6500", this_year()]], employer=employer_a)
    job = ImportJob.objects.get()
    assert "确认导入全部 1 行" in client.get(reverse("contributions:import_job", args=[job.pk])).content.decode()
    client.post(reverse("contributions:import_job_confirm", args=[job.pk]))
    client.post(reverse("contributions:import_job_confirm", args=[job.pk]))
    assert WageDeclaration.objects.count() == 1
    assert "已导入" in client.get(reverse("contributions:import_job", args=[job.pk])).content.decode()


def test_template_download(client, staff):
    client.force_login(staff)
    response = client.get(reverse("contributions:import_template", args=["payroll"]))
    header = next(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert list(header) == ["身份证号", "姓名", "月工资", "上年工资总额", "年度", "起薪月份"]


# --- payments (实缴) ---------------------------------------------------------------------------

PAY_HEADER = ["电子税票号", "身份证号", "金额", "缴款日期"]


def payment_job(user, rows, *, as_of=AS_OF) -> ImportJob:
    job = imports.import_job_create(
        kind="payment", uploaded_file=upload("tax.csv", csv_bytes([PAY_HEADER, *rows])), user=user, as_of=as_of
    )
    return imports.import_job_validate(job.pk)


def due(person, employer, month: date, total: str, due_date: date) -> MonthlyDue:
    amount = Decimal(total)
    return MonthlyDue.objects.create(
        person=person,
        employer=employer,
        jurisdiction=employer.jurisdiction,
        month=month,
        category="employee",
        base=Decimal("5000"),
        employer_amount=amount - Decimal("100.00"),
        individual_amount=Decimal("100.00"),
        personal_account_amount=Decimal("0"),
        pool_amount=amount - Decimal("100.00"),
        total=amount,
        due_date=due_date,
        created_at=timezone.now(),
    )


def test_payment_file_dry_run_errors(staff, people):
    a1, a2, *_ = people
    job = payment_job(
        staff,
        [
            ["T001", a1.id_number, "500.00", "2024-04-20"],  # row 2: good
            ["T002", BAD_CHECK, "500", "2024-04-20"],  # row 3: check digit
            ["T003", a2.id_number, "0", "2024-04-20"],  # row 4: zero amount
            ["T004", a2.id_number, "500", "2024-13-01"],  # row 5: no such date
            ["T005", a2.id_number, "500", "2024-06-01"],  # row 6: after the import date
            ["T006", a2.id_number, "500", "2024/4/21"],  # row 7: good (other date format)
            ["T006", a1.id_number, "300", "2024-04-21"],  # row 8: same reference as row 7
            ["", a1.id_number, "300", "2024-04-21"],  # row 9: no reference
        ],
    )
    assert errors_of(job) == {
        (3, "身份证号"),
        (4, "金额"),
        (5, "缴款日期"),
        (6, "缴款日期"),
        (7, "电子税票号"),
        (8, "电子税票号"),
        (9, "电子税票号"),
    }
    assert job.dry_run_summary["valid_rows"] == 1 and job.dry_run_summary["amount_total"] == "500.00"


def test_payment_reference_imported_twice_is_rejected_and_never_applied_twice(staff, employer_a, people):
    a1, *_ = people
    d1 = due(a1, employer_a, date(2024, 3, 1), "650.00", date(2024, 3, 25))
    d2 = due(a1, employer_a, date(2024, 4, 1), "650.00", date(2024, 4, 25))
    first = imports.import_job_commit(payment_job(staff, [["332024000001", a1.id_number, "650.00", "2024-03-20"]]).pk)
    assert first.status == ImportStatus.DONE
    payment = Payment.objects.get()
    assert (payment.source, payment.amount, payment.import_job_id) == ("tax_file", Decimal("650.00"), first.pk)
    # Applied to the oldest unpaid month (March, paid before its due date: no late fee).
    d1.refresh_from_db()
    assert d1.paid_principal == Decimal("650.00") and d1.settled_on is not None
    assert PaymentAllocation.objects.get().due == d1

    second = payment_job(staff, [["332024000001", a1.id_number, "650.00", "2024-03-20"]])
    assert errors_of(second) == {(2, "电子税票号")}
    assert "已导入" in messages_of(second, 2)
    assert imports.import_job_commit(second.pk).status == ImportStatus.VALIDATED  # refused
    assert imports.import_job_commit(second.pk, skip_errors=True).status == ImportStatus.VALIDATED  # nothing valid
    assert Payment.objects.count() == 1 and PaymentAllocation.objects.count() == 1
    d2.refresh_from_db()
    assert d2.paid_principal == 0


def test_payment_upload_is_for_bureau_staff(client, staff, people):
    a1, *_ = people
    client.force_login(staff)
    response = client.post(
        reverse("contributions:payment_upload"),
        {"file": upload("tax.csv", csv_bytes([PAY_HEADER, ["T9", a1.id_number, "100", "2024-01-05"]]))},
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.kind == "payment" and job.employer is None
    assert job.status == ImportStatus.VALIDATED and not job.errors
    client.post(reverse("contributions:import_job_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and Payment.objects.get().reference == "T9"
    # Nothing to apply to: the money is held as an overpayment, not lost.
    assert Payment.objects.get().unapplied_amount == Decimal("100.00")


def test_fast_xlsx_reader_reads_what_openpyxl_reads():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["身份证号", "姓名", "月工资", "年度", "起薪月份", "在职"])
    sheet.append(["11010519491231002X", "张三", 6500, 2024, datetime(2024, 3, 1), True])
    sheet.append(["440524188001010014", "李四", 5000.55, "2024-07", None, False])
    sheet.append([])  # a blank row in the middle keeps the row numbers
    sheet["A5"], sheet["C5"] = "只有两格", 1e20
    sheet["F6"] = "远处的格"
    sheet.cell(row=2, column=4).number_format = "0"
    sheet.cell(row=2, column=5).number_format = "yyyy-mm"
    data = io.BytesIO()
    book.save(data)
    data = data.getvalue()
    ours = [tuple(r) for r in imports._read_xlsx(data)]
    theirs = [tuple(r) for r in imports._read_xlsx_openpyxl(data)]
    strip = [tuple(c for c in r if c is not None) for r in ours]
    assert strip == [tuple(c for c in r if c is not None) for r in theirs]
    assert ours[1] == ("11010519491231002X", "张三", 6500, 2024, datetime(2024, 3, 1), True)
    assert ours[3] == () and ours[4][0] == "只有两格" and ours[5][5] == "远处的格"
    table = imports.read_table(data, "x.xlsx")
    assert [n for n, _ in table.rows] == [2, 3, 5, 6]


def test_an_unexpected_error_fails_the_job_with_its_reason(staff, employer_a, people, monkeypatch):
    a1, *_ = people

    def broken(*args, **kwargs):
        raise RuntimeError("数据库连接中断")

    monkeypatch.setattr(imports.jobs, "payroll_validate", broken)
    job = payroll_job(staff, employer_a, [[a1.id_number, "甲一", "6500", "2024"]])
    assert job.status == ImportStatus.FAILED and "数据库连接中断" in job.dry_run_summary["failure"]


def test_a_duplicate_is_reported_even_when_the_other_row_has_another_error(staff, employer_a, people):
    a1, *_ = people
    job = payroll_job(
        staff,
        employer_a,
        [
            [a1.id_number, "甲一", "6500", "2024"],  # row 2: fine on its own
            [a1.id_number, "甲一", "-1", "2024"],  # row 3: negative wage, and a duplicate of row 2
        ],
    )
    assert errors_of(job) == {(2, "身份证号"), (3, "身份证号"), (3, "月工资")}
    assert job.dry_run_summary["valid_rows"] == 0
