"""Files for the user: the rejected rows (to fix and upload again) and blank templates."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date

from ..models import ImportJob, ImportKind
from .jobs import _read_job_file

ERROR_COLUMN = "错误说明"


def rejected_rows_xlsx(job: ImportJob) -> bytes:
    """The rejected rows with their original columns plus 错误说明, to fix and upload again."""
    import openpyxl

    messages: dict[int, list[str]] = defaultdict(list)
    for e in job.errors:
        messages[e["row"]].append(f"{e['field']}：{e['message']}" if e.get("field") else e["message"])
    table = _read_job_file(job)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("错误行")
    sheet.append([*(h if h is not None else "" for h in table.headers), ERROR_COLUMN, "原行号"])
    for number, cells in table.rows:
        if number in messages:
            sheet.append([*cells, "；".join(messages[number]), number])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_xlsx(kind: str, *, as_of: date) -> bytes:
    """A blank file with the expected headers (the ID column formatted as text) and one example row."""
    import openpyxl

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
