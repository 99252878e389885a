"""File imports: payroll (工资申报) from employers, payments (实缴) from the tax bureau.

The pipeline, for both kinds of file:

1. **upload** (:func:`import_job_create`): the file is checked for size and type and
   stored on an :class:`~contributions.models.ImportJob`; validation is queued.
2. **validate** — the dry run (:func:`import_job_validate`, a Celery task over the job):
   the file is read once. A payroll's cells are parsed a column at a time (fast paths for clean cells,
   the cell parsers and their messages for every other), its rows that parse are copied into a temporary
   table and their references checked there by joins (the person by 身份证号, an 在职职工 span at the
   employer in the year), and the valid rows staged by one INSERT … SELECT. A payment file is checked
   row by row in Python and set-wise for the persons (one query per 10 000 身份证号) and the payments
   already imported (one per 10 000 税票号). Every bad row is recorded as ``{row, field, message}``
   with the spreadsheet's own row number (the header is row 1).
3. **confirm** (:func:`import_job_commit`): a payroll is confirmed from the rows its dry run
   staged (:class:`~contributions.models.PayrollStagedRow`: the file is read once; an unlogged
   table on PostgreSQL, so when a crash emptied it the stored file is validated again), their
   references checked again set-wise in staging (each person still an employee of the
   employer in the year), then upserted by ``INSERT … SELECT … ON CONFLICT``; a payment file
   is read and validated again. Either is written in ONE transaction, batch by batch. Any
   failure rolls everything back: all rows or none. A file with bad rows is
   committed only if the user explicitly asks to skip them (``skip_errors``); the
   rejected rows can be downloaded (:func:`rejected_rows_xlsx`), fixed and re-uploaded
   (importing a payroll row again is an upsert, a payment reference is never imported twice).

Progress (``processed_rows`` of ``total_rows``) is written while the job runs, so the
job page can poll it; during the commit transaction it is written through a second
connection on PostgreSQL (elsewhere it becomes visible when the transaction ends).

The package: :mod:`.readers` (reading .xlsx and .csv), :mod:`.columns` (headers), :mod:`.cells` (cell
parsers), :mod:`.validation` (row errors, shared checks), :mod:`.writing` (batched writers),
:mod:`.payroll`, :mod:`.payments`, :mod:`.jobs` (upload, dry run, commit) and :mod:`.files` (rejected
rows, templates). The public names are re-exported here: ``from contributions.imports import X`` works.
"""

from .cells import parse_date_cell, parse_id_cell, parse_money, parse_month_cell, parse_period
from .columns import COLUMNS, PAYMENT_COLUMNS, PAYROLL_COLUMNS, Column, map_headers
from .files import ERROR_COLUMN, rejected_rows_xlsx, template_xlsx
from .jobs import (
    MAX_STORED_ERRORS,
    ImportAborted,
    _ProgressWriter,
    import_job_commit,
    import_job_create,
    import_job_validate,
)
from .payments import apply_payment_ids, payment_validate, payment_write, references_imported
from .payroll import (
    contribution_year_bounds,
    contribution_year_of,
    employees_at,
    payroll_validate,
    payroll_years,
)
from .readers import (
    ALLOWED_EXTENSIONS,
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    FileRejected,
    Table,
    _read_xlsx,
    _read_xlsx_openpyxl,
    check_upload,
    read_table,
)
from .validation import (
    LOOKUP_BATCH,
    NOT_OUR_EMPLOYEE,
    PROGRESS_EVERY,
    Progress,
    RowError,
    Validation,
    message_for,
    persons_by_id_number,
)
from .writing import COMMIT_BATCH, write_batch

__all__ = [
    "ALLOWED_EXTENSIONS",
    "COLUMNS",
    "COMMIT_BATCH",
    "ERROR_COLUMN",
    "LOOKUP_BATCH",
    "MAX_ROWS",
    "MAX_STORED_ERRORS",
    "MAX_UPLOAD_BYTES",
    "NOT_OUR_EMPLOYEE",
    "PAYMENT_COLUMNS",
    "PAYROLL_COLUMNS",
    "PROGRESS_EVERY",
    "Column",
    "FileRejected",
    "ImportAborted",
    "Progress",
    "RowError",
    "Table",
    "Validation",
    "_ProgressWriter",
    "_read_xlsx",
    "_read_xlsx_openpyxl",
    "apply_payment_ids",
    "check_upload",
    "contribution_year_bounds",
    "contribution_year_of",
    "employees_at",
    "import_job_commit",
    "import_job_create",
    "import_job_validate",
    "map_headers",
    "message_for",
    "parse_date_cell",
    "parse_id_cell",
    "parse_money",
    "parse_month_cell",
    "parse_period",
    "payment_validate",
    "payment_write",
    "payroll_validate",
    "payroll_years",
    "persons_by_id_number",
    "read_table",
    "references_imported",
    "rejected_rows_xlsx",
    "template_xlsx",
    "write_batch",
]
