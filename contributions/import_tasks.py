"""Celery tasks of the file imports (工资申报, 实缴). Keyword-only arguments; the ImportJob id, never objects.

Both tasks are idempotent: validating again recomputes the same result, and a commit
claims the job (已校验 → 导入中) before writing and checks it is not already done
inside its transaction, so a task delivered twice writes once.
"""

from celery import shared_task

from . import imports


@shared_task(name="contributions.import_validate", acks_late=True)
def import_validate(*, job_id: int) -> dict:
    """Dry run of an uploaded file: row errors and a summary on the job."""
    job = imports.import_job_validate(job_id)
    return {"status": job.status, "error_rows": job.error_rows}


@shared_task(name="contributions.import_commit", acks_late=True)
def import_commit(*, job_id: int, skip_errors: bool = False) -> dict:
    """Write the validated rows in one transaction (all or nothing); apply payments afterwards."""
    job = imports.import_job_commit(job_id, skip_errors=skip_errors)
    return {"status": job.status, "summary": job.dry_run_summary.get("committed")}
