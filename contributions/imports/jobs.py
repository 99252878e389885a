"""Import jobs: create (upload), validate (dry run) and commit (all or nothing); the Celery tasks in
:mod:`contributions.import_tasks` call these."""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from batch.dialect import is_postgres
from enrollment.models import Employer, employer_id_of

from ..models import ImportJob, ImportKind, ImportStatus, Payment
from .payments import apply_payment_ids, payment_validate, payment_write
from .payroll import (
    payroll_staged_check,
    payroll_staged_rows,
    payroll_unstage,
    payroll_validate,
    payroll_write_staged,
    tune_transaction,
)
from .readers import MAX_ROWS, FileRejected, Table, check_upload, read_table
from .validation import Progress, RowError, Validation

log = logging.getLogger(__name__)

#: Errors kept on the job (the rejected-rows file is rebuilt from the file and these).
MAX_STORED_ERRORS = MAX_ROWS * 2


class ImportAborted(Exception):
    """The commit found the data changed since the dry run; nothing was written."""


def import_job_create(
    *,
    kind: str,
    uploaded_file: UploadedFile,
    user,
    as_of: date,
    employer: Employer | None = None,
    year: int | None = None,
) -> ImportJob:
    """Store an uploaded file as a new job. Raises :class:`FileRejected` for a file refused outright."""
    name = uploaded_file.name or "upload"
    check_upload(name, uploaded_file.size or 0)
    if kind == ImportKind.PAYROLL and employer is None:
        raise FileRejected("工资申报必须指定用人单位。")
    own = employer_id_of(user)
    if own is not None and (kind != ImportKind.PAYROLL or employer.pk != own):
        # An employer user imports only their own employer's payroll (enrollment.models.visible_to).
        raise PermissionDenied("单位经办员只能为本单位导入工资申报。")
    params: dict[str, Any] = {"as_of": as_of.isoformat()}
    if year is not None:
        params["year"] = year
    job = ImportJob(
        kind=kind,
        employer=employer,
        uploaded_by=user,
        original_name=name[:255],
        status=ImportStatus.UPLOADED,
        dry_run_summary={"params": params},
    )
    job.file.save(f"{kind}-{timezone.now():%Y%m%d-%H%M%S}-{_safe(name)}", uploaded_file, save=False)
    job.save()
    return job


def _safe(name: str) -> str:
    return re.sub(r"[^\w.\-]", "_", name)[-80:]


def _params(job: ImportJob) -> tuple[date, int | None]:
    params = job.dry_run_summary.get("params", {})
    return date.fromisoformat(params["as_of"]), params.get("year")


def _read_job_file(job: ImportJob) -> Table:
    with job.file.open("rb") as f:
        data = f.read()
    return read_table(data, job.original_name or job.file.name)


def _validate(job: ImportJob, table: Table, progress: Progress | None) -> Validation:
    as_of, year = _params(job)
    if job.kind == ImportKind.PAYROLL:
        # An employer user's file never tells whether a 身份证号 is registered elsewhere (issue #12 item 9).
        precise = employer_id_of(job.uploaded_by) is None
        return payroll_validate(
            table,
            employer=job.employer,
            as_of=as_of,
            job=job,
            default_year=year,
            progress=progress,
            precise_ids=precise,
        )
    return payment_validate(table, as_of=as_of, progress=progress)


class _ProgressWriter:
    """Writes ``processed_rows`` so other connections see it, even from inside a transaction.

    On PostgreSQL a second connection is used while a transaction is open; on SQLite a
    second writer would wait for the first, so the row is updated in the same
    connection (visible when the transaction ends).
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.side = None

    def __call__(self, processed: int) -> None:
        if connection.in_atomic_block and is_postgres():
            if self.side is None:
                self.side = connections.create_connection(DEFAULT_DB_ALIAS)
            with self.side.cursor() as cur:
                cur.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET processed_rows = %s WHERE id = %s", [processed, self.job_id]
                )
        else:
            ImportJob.objects.filter(pk=self.job_id).update(processed_rows=processed)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None


def _fail(job: ImportJob, message: str, *, errors: list[RowError] | None = None) -> ImportJob:
    job.status = ImportStatus.FAILED
    job.finished_at = timezone.now()
    job.dry_run_summary = {**job.dry_run_summary, "failure": message}
    fields = ["status", "finished_at", "dry_run_summary", "file"]
    # A failed job is final and has no rows to download: its file is not kept in MEDIA_ROOT.
    if job.file:
        job.file.delete(save=False)
    if job.kind == ImportKind.PAYROLL:
        payroll_unstage(job)
    if errors is not None:
        job.errors = [e.as_dict() for e in errors]
        job.error_rows = len({e.row for e in errors})
        fields += ["errors", "error_rows"]
    job.save(update_fields=fields)
    return job


def import_job_validate(job_id: int) -> ImportJob:
    """Dry run: read and check the file, record the errors and the summary. Writes no data rows."""
    job = ImportJob.objects.select_related("employer__jurisdiction", "uploaded_by").get(pk=job_id)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.VALIDATED, ImportStatus.VALIDATING):
        return job
    job.status, job.processed_rows = ImportStatus.VALIDATING, 0
    job.save(update_fields=["status", "processed_rows"])
    progress = _ProgressWriter(job.pk)
    try:
        table = _read_job_file(job)
        ImportJob.objects.filter(pk=job.pk).update(total_rows=len(table))
        job.total_rows = len(table)
        result = _validate(job, table, progress)
        staged = job.kind == ImportKind.PAYROLL  # the confirm writes from the staged rows: the file is read once
    except FileRejected as exc:
        return _fail(job, str(exc))
    except Exception as exc:  # never leave a job "校验中" for ever: say what went wrong
        log.exception("import job %s failed during validation", job_id)
        return _fail(job, f"校验失败：{type(exc).__name__}: {exc}")
    finally:
        progress.close()
    job.refresh_from_db(fields=["dry_run_summary"])
    job.status = ImportStatus.VALIDATED
    job.processed_rows = job.total_rows
    job.errors = [e.as_dict() for e in result.errors[:MAX_STORED_ERRORS]]
    job.error_rows = result.error_rows
    job.dry_run_summary = {"params": job.dry_run_summary.get("params", {}), **result.summary, "staged": staged}
    job.save(update_fields=["status", "processed_rows", "errors", "error_rows", "dry_run_summary"])
    return job


def _staged_result(job: ImportJob) -> Validation:
    """The dry run as recorded on the job (its errors and summary), for a confirm from staged rows."""
    result = Validation(total=job.total_rows)
    result.errors = [RowError(e["row"], e["field"], e["message"], e.get("code", "")) for e in job.errors]
    result.summary = {k: v for k, v in job.dry_run_summary.items() if k not in ("params", "commit_refused")}
    return result


def _commit_staged(
    job: ImportJob, result: Validation, *, skip_errors: bool, progress: Progress, rows: list[int] | None = None
) -> dict[str, int]:
    """Confirm a payroll from the rows its dry run staged: the references checked again in staging, then
    one set-wise upsert. Raises :class:`ImportAborted` (nothing written) as the file-reading confirm does."""
    as_of, _year = _params(job)
    valid = _valid_rows(job)
    moved = payroll_staged_check(job, employer=job.employer, as_of=as_of)
    if moved:
        result.errors = sorted([*result.errors, *moved], key=lambda e: e.row)
        result.summary = {**result.summary, "valid_rows": valid - len(moved), "error_rows": result.error_rows}
        raise ImportAborted(
            f"数据自试导入后已变化（有效行 {valid} → {valid - len(moved)}），未导入任何数据；"
            "请查看新的校验结果后重新确认。"
        )
    if not valid:
        raise ImportAborted("文件中没有可导入的有效行，未导入任何数据。")
    if result.error_rows and not skip_errors:
        raise ImportAborted(f"文件有 {result.error_rows} 行错误，未导入任何数据。")
    return payroll_write_staged(job, employer=job.employer, progress=progress, rows=rows)


def _valid_rows(job: ImportJob) -> int:
    return int(job.dry_run_summary.get("valid_rows") or 0)


def _lock_job(job_id: int) -> None:
    """Serialise two commits of one job (a task delivered twice) until the transaction ends.

    An advisory lock, not ``SELECT … FOR UPDATE`` on the job row: the progress writer updates
    that row from a second connection while this transaction runs. SQLite serialises writers anyway.
    """
    if is_postgres():
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, job_id])


_LOCK_NAMESPACE = 3_2024  # contributions import jobs


def import_job_commit(job_id: int, *, skip_errors: bool = False) -> ImportJob:
    """Confirm: validate again and write every valid row in ONE transaction — all or nothing.

    Without ``skip_errors`` a file with any bad row is refused. With it, the bad rows are
    left out (to be fixed and re-uploaded) and the others are written. If the data changed
    since the dry run (new errors), nothing is written and the job returns to 已校验
    with the new errors. Payments are applied to dues after the commit.
    """
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.VALIDATED).update(
        status=ImportStatus.IMPORTING, processed_rows=0
    )
    job = ImportJob.objects.select_related("employer__jurisdiction").get(pk=job_id)
    if not claimed and job.status != ImportStatus.IMPORTING:
        return job  # already done, failed, or not yet validated: nothing to do (idempotent)
    progress = _ProgressWriter(job.pk)
    try:
        with transaction.atomic():
            _lock_job(job_id)
            tune_transaction()
            if ImportJob.objects.filter(pk=job_id, status=ImportStatus.DONE).exists():
                return ImportJob.objects.get(pk=job_id)
            if job.kind == ImportKind.PAYROLL:
                rows = payroll_staged_rows(job) if job.dry_run_summary.get("staged") else None
                if rows is not None and len(rows) == _valid_rows(job):
                    result = _staged_result(job)
                else:  # validated before dry runs staged their rows, or its staged rows lost (the unlogged
                    # staging is emptied by a crash of PostgreSQL): validated and staged again now
                    result = _validate(job, _read_job_file(job), None)
                    _unchanged(job, int(result.summary["valid_rows"]))
                    rows = None
                counts = _commit_staged(job, result, skip_errors=skip_errors, progress=progress, rows=rows)
                _done(job, counts, result.error_rows)
                return job
            table = _read_job_file(job)
            result = _validate(job, table, None)
            if not result.valid:
                raise ImportAborted("文件中没有可导入的有效行，未导入任何数据。")
            if result.error_rows and not skip_errors:
                raise ImportAborted(f"文件有 {result.error_rows} 行错误，未导入任何数据。")
            _unchanged(job, len(result.valid))
            counts = payment_write(result, job=job, progress=progress)
            _done(job, counts, result.error_rows)
    except ImportAborted as exc:
        job.status, job.processed_rows = ImportStatus.VALIDATED, job.total_rows
        job.errors = [e.as_dict() for e in result.errors[:MAX_STORED_ERRORS]]
        job.error_rows = result.error_rows
        job.dry_run_summary = {
            "params": job.dry_run_summary.get("params", {}),
            **result.summary,
            "commit_refused": str(exc),
        }
        job.save(update_fields=["status", "processed_rows", "errors", "error_rows", "dry_run_summary"])
        if job.dry_run_summary.get("staged"):  # the rows found wrong now are no longer staged
            payroll_unstage(job, [e.row for e in result.errors])
        return job
    except FileRejected as exc:
        return _fail(job, str(exc))
    except Exception as exc:
        log.exception("import job %s failed during commit", job_id)
        return _fail(job, f"导入失败，未写入任何数据：{type(exc).__name__}: {exc}")
    finally:
        progress.close()
    if job.kind == ImportKind.PAYMENT:
        _apply_payments(job)
    return job


def _unchanged(job: ImportJob, valid: int) -> None:
    """Refuse the commit when validating again found another number of valid rows than the dry run."""
    if valid != job.dry_run_summary.get("valid_rows"):
        raise ImportAborted(
            f"数据自试导入后已变化（有效行 {job.dry_run_summary.get('valid_rows')} → {valid}），"
            "未导入任何数据；请查看新的校验结果后重新确认。"
        )


def _done(job: ImportJob, counts: dict[str, int], error_rows: int) -> None:
    job.status = ImportStatus.DONE
    job.processed_rows = job.total_rows
    job.finished_at = timezone.now()
    job.dry_run_summary = {**job.dry_run_summary, "committed": counts, "skipped_error_rows": error_rows}
    job.save(update_fields=["status", "processed_rows", "finished_at", "dry_run_summary"])


def _apply_payments(job: ImportJob) -> None:
    """Allocate the job's new payments (after the commit: the payments stay recorded if this fails)."""
    ids = list(Payment.objects.filter(import_job=job).values_list("id", flat=True))
    try:
        # the persons' fees, eligibility and account credits up to the day of the import, at once (issue #12)
        applied = apply_payment_ids(ids, recompute_as_of=timezone.localdate())
    except Exception as exc:  # the payments are recorded; applying can be retried from the admin
        log.exception("applying the payments of import job %s failed", job.pk)
        job.dry_run_summary = {**job.dry_run_summary, "apply_error": f"{type(exc).__name__}: {exc}"}
        job.save(update_fields=["dry_run_summary"])
        return
    job.dry_run_summary = {**job.dry_run_summary, "applied": _jsonable(applied)}
    job.save(update_fields=["dry_run_summary"])


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)
