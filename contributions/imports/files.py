"""Files for the user: the rejected rows (to fix and upload again) and blank templates."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date

import openpyxl

from enrollment.access import can_see_pii
from enrollment.bounds import normalise_identifier
from enrollment.identifiers import mask_id_number
from enrollment.models import employer_id_of
from enrollment.safe_files import neutralise_cell

from ..models import ImportJob, ImportKind
from .cells import _text
from .columns import COLUMNS, map_headers
from .jobs import _read_job_file
from .readers import FileRejected, Table
from .validation import message_for

ERROR_COLUMN = "错误说明"


def rejected_rows_xlsx(job: ImportJob, *, user=None) -> bytes:
    """The rejected rows with their original columns plus 错误说明, to fix and upload again.

    Written for ``user``'s role: every text cell neutralised (a ``=…`` cell stays text, issue #12
    item 4), the 身份证号 masked unless the user may see personal data (no user: masked), and the
    messages an employer user may read (:func:`~.validation.message_for`).
    """

    employer_user = employer_id_of(user) is not None
    messages: dict[int, list[str]] = defaultdict(list)
    for e in job.errors:
        text = message_for(e, employer_user=employer_user)
        messages[e["row"]].append(f"{e['field']}：{text}" if e.get("field") else text)
    table = _read_job_file(job)
    masked = _id_column(table, job.kind) if user is None or not can_see_pii(user) else None
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("错误行")
    headers = (h if h is not None else "" for h in table.headers)
    sheet.append([*(neutralise_cell(h) for h in headers), ERROR_COLUMN, "原行号"])
    for number, cells in table.rows:
        if number in messages:
            row = list(cells)
            if masked is not None and masked < len(row) and row[masked] not in (None, ""):
                row[masked] = mask_id_number(normalise_identifier(_text(row[masked])))
            sheet.append([*(neutralise_cell(v) for v in row), neutralise_cell("；".join(messages[number])), number])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _id_column(table: Table, kind: str) -> int | None:
    """The 身份证号 column of the file (``None`` when the headers do not map)."""
    try:
        return map_headers(table.headers, COLUMNS[kind]).get("id_number")
    except FileRejected:
        return None


def template_xlsx(kind: str, *, as_of: date) -> bytes:
    """A blank file with the expected headers (the ID column formatted as text) and one example row."""

    book = openpyxl.Workbook()
    sheet = book.active
    if kind == ImportKind.PAYROLL:
        sheet.title = "工资申报"
        sheet.append(["身份证号", "姓名", "月工资", "上年工资总额", "年度", "起薪月份"])
        sheet.append(["11010519491231002X", "张三", 6500, None, as_of.year, None])
    else:
        sheet.title = "实缴"
        sheet.append(["电子税票号", "身份证号", "金额", "缴款日期", "姓名"])
        sheet.append(["332024000000000001", "11010519491231002X", 650.00, as_of.isoformat(), "张三"])
    for cell in sheet[2]:
        cell.number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
