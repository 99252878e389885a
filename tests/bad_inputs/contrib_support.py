"""Shared helpers of the payroll and payment bad-input corpus (tests/bad_inputs/test_payroll.py, test_payment.py).

Every case goes through the upload screen as a case worker would (the Celery task runs in-process),
then the outcome is read from the response and the job: ``file_error`` — the form is shown again with
a file message, or the job failed with a whole-file message; ``row_error`` — the job lists the row and
field; ``accepted`` — no error, and confirming writes the row.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contributions.models import ImportJob, ImportStatus, Payment, WageDeclaration

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


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


def xlsx_with_sheet(sheet_xml: str) -> bytes:
    """A minimal .xlsx whose first sheet is ``sheet_xml`` (to build hostile sheets cheaply)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return out.getvalue()


def files_in(root: str) -> set[str]:
    return {str(Path(d) / f) for d, _, names in os.walk(root) for f in names}


@dataclass
class Outcome:
    outcome: str
    message: str
    errors: list[dict]
    job: ImportJob | None
    status_code: int


def upload(client, url: str, name: str, data: bytes, **fields) -> Outcome:
    response = client.post(url, {**fields, "file": SimpleUploadedFile(name, data)})
    assert response.status_code in (200, 302), response.status_code  # never an HTTP 500
    if response.status_code == 200:
        form = response.context["form"]
        return Outcome("file_error", " ".join(form.errors.get("file", [])), [], None, 200)
    job = ImportJob.objects.latest("created_at")
    assert response["Location"] == reverse("contributions:import_job", args=[job.pk])
    if job.status == ImportStatus.FAILED:
        return Outcome("file_error", job.dry_run_summary["failure"], [], job, 302)
    assert job.status == ImportStatus.VALIDATED
    if job.errors:
        return Outcome("row_error", " ".join(e["message"] for e in job.errors), job.errors, job, 302)
    return Outcome("accepted", "", [], job, 302)


def written() -> tuple[int, int]:
    return WageDeclaration.objects.count(), Payment.objects.count()


def check_case(client, outcome: Outcome, expected: str, where, media_root: str, before: tuple[int, int]) -> None:
    """The common assertions of a corpus case: outcome, where (row/field or message), writes, files."""
    assert outcome.outcome == expected, (outcome.outcome, outcome.message)
    if expected == "row_error":
        row, field = where
        assert (row, field) in {(e["row"], e["field"]) for e in outcome.errors}, outcome.errors
        assert written() == before
        assert files_in(media_root) == {outcome.job.file.path}  # only the job's own file, for the download
    elif expected == "file_error":
        assert where in outcome.message, outcome.message
        assert written() == before
        assert files_in(media_root) == set()  # nothing left behind in MEDIA_ROOT
        page = client.get(reverse("contributions:import_job", args=[outcome.job.pk])) if outcome.job else None
        assert page is None or page.status_code == 200
    else:
        response = client.post(reverse("contributions:import_job_confirm", args=[outcome.job.pk]))
        assert response.status_code == 302
        outcome.job.refresh_from_db()
        assert outcome.job.status == ImportStatus.DONE, outcome.job.dry_run_summary
        assert sum(written()) == sum(before) + 1
