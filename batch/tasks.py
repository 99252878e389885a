"""Celery tasks of the batch framework, and dispatching a run's chunks to them.

Keyword-only arguments; ids, not objects. With no broker configured the tasks run in-process (eager).
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from .models import BatchChunk, BatchRun, RunStatus
from .runs import chunk_execute, create_run, maybe_finish, retry_skips


@shared_task(name="batch.chunk_run", acks_late=True, max_retries=3)
def batch_chunk_run(*, chunk_id: int) -> dict[str, int]:
    """Run one chunk of a batch run (idempotent, so safe to deliver twice)."""
    return chunk_execute(chunk_id)


def chunk_queue(job: str) -> str:
    """The Celery queue of a job's chunk tasks: ``BATCH_JOB_QUEUES`` (the nightly run's chunks on ``nightly``,
    the fund simulation's on ``simulation``), else the default queue (docs/scale.md)."""
    return getattr(settings, "BATCH_JOB_QUEUES", {}).get(job, settings.CELERY_TASK_DEFAULT_QUEUE)


def dispatch_chunk(chunk_id: int, job: str) -> None:
    """Send one chunk task to its job's queue (run here when no broker is configured)."""
    batch_chunk_run.apply_async(kwargs={"chunk_id": chunk_id}, queue=chunk_queue(job))


def start_run(job: str, **kwargs) -> BatchRun:
    """Create a run and dispatch one Celery task per chunk (in-process when no broker is set)."""
    run = create_run(job, **kwargs)
    for chunk_id in run.chunks.values_list("id", flat=True):
        dispatch_chunk(chunk_id, job)
    run.refresh_from_db()
    return run


def resume_run(run_id: int, *, in_process: bool = False) -> BatchRun:
    """Dispatch again every chunk of the run that is not done (after a worker was killed).

    When every chunk is done: retry the skipped persons one by one (after the data was fixed) and the
    finishing step, then close the run — a run never stays "running" with all its chunks done.
    """
    pending = list(BatchChunk.objects.filter(run_id=run_id).exclude(status=RunStatus.DONE).values_list("id", flat=True))
    job = BatchRun.objects.values_list("job", flat=True).get(pk=run_id) if pending and not in_process else ""
    for chunk_id in pending:
        if in_process:
            chunk_execute(chunk_id)
        else:
            dispatch_chunk(chunk_id, job)
    if not pending:
        retry_skips(run_id)
        maybe_finish(run_id)
    return BatchRun.objects.get(pk=run_id)
