"""Batch jobs over the whole population, in chunks of person ids (ENGINEERING.md, "Batch jobs").

A job is a step function registered with :func:`batch_job`; it does set-based
SQL for the persons ``lo <= id < hi`` and returns counts of what it changed.
:func:`create_run` records a :class:`~batch.models.BatchRun` and splits the ids
the job names (each job declares its own source of ids, so this module knows no
domain model) into :class:`~batch.models.BatchChunk` rows;
:func:`batch.tasks.start_run` dispatches one Celery task per chunk and
:func:`run_in_process` runs them here. Each chunk is one transaction. Chunks are idempotent, so a chunk
re-run after a crash (:func:`resume_run`) or a whole run repeated changes
nothing that is already right. In preview mode every chunk is rolled back and
only its counts are kept.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from policy.models import Jurisdiction

from .models import BatchChunk, BatchRun, RunStatus

log = logging.getLogger(__name__)


@dataclass
class ChunkContext:
    run: BatchRun
    lo: int
    hi: int
    as_of: date
    jurisdiction: str | None
    params: dict[str, Any]
    preview: bool
    user_id: int | None


IdBounds = Callable[[], tuple[int | None, int | None]]


@dataclass(frozen=True)
class Job:
    name: str
    label: str
    step: Callable[[ChunkContext], dict[str, int]]
    ids: IdBounds
    finish: Callable[[BatchRun], None] | None = field(default=None)


JOBS: dict[str, Job] = {}


def batch_job(name: str, *, ids: IdBounds, label: str = "", finish: Callable[[BatchRun], None] | None = None):
    """Register ``step`` as the chunk step of job NAME.

    ``ids`` returns the smallest and largest id the job covers (usually insured persons'); the run is cut
    into ``lo <= id < hi`` ranges of it. ``finish`` runs once when all chunks are done.
    """

    def register(step):
        JOBS[name] = Job(name, label or name, step, ids, finish)
        return step

    return register


_discovered = False


def discover() -> dict[str, Job]:
    """Import every installed app's ``jobs`` module."""
    global _discovered
    if not _discovered:
        for app in apps.get_app_configs():
            try:
                importlib.import_module(f"{app.name}.jobs")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app.name}.jobs":
                    raise
        _discovered = True
    return JOBS


class _Rollback(Exception):
    pass


def _id_ranges(job: Job, chunk_size: int) -> list[tuple[int, int]]:
    first, last = job.ids()
    if first is None or last is None:
        return [(0, 1)]
    return [(lo, min(lo + chunk_size, last + 1)) for lo in range(first, last + 1, chunk_size)]


def create_run(
    job: str,
    *,
    as_of: date,
    jurisdiction: str | None = None,
    params: dict[str, Any] | None = None,
    user=None,
    preview: bool = False,
    chunk_size: int | None = None,
) -> BatchRun:
    """Record a run and its chunks without dispatching them."""
    if job not in discover():
        raise ValueError(f"未知批处理作业 (unknown batch job): {job}")
    jur = Jurisdiction.objects.get(code=jurisdiction) if jurisdiction else None
    ranges = _id_ranges(JOBS[job], chunk_size or settings.BATCH_CHUNK_SIZE)
    with transaction.atomic():
        run = BatchRun.objects.create(
            job=job,
            jurisdiction=jur,
            as_of=as_of,
            params=params or {},
            preview=preview,
            chunk_count=len(ranges),
            created_by=user if user is not None and getattr(user, "is_authenticated", False) else None,
        )
        BatchChunk.objects.bulk_create(BatchChunk(run=run, number=i, lo=lo, hi=hi) for i, (lo, hi) in enumerate(ranges))
    return run


def run_in_process(job: str, **kwargs) -> BatchRun:
    """Create a run and execute its chunks here, one after another (commands, tests, embedded mode)."""
    run = create_run(job, **kwargs)
    for chunk_id in run.chunks.values_list("id", flat=True):
        chunk_execute(chunk_id)
    run.refresh_from_db()
    return run


def chunk_execute(chunk_id: int) -> dict[str, int]:
    """Run one chunk in one transaction; a chunk already done is skipped."""
    job_chunk = BatchChunk.objects.select_related("run", "run__jurisdiction").get(pk=chunk_id)
    if job_chunk.status == RunStatus.DONE:
        return job_chunk.counts
    run = job_chunk.run
    job = discover()[run.job]
    now = timezone.now()
    BatchChunk.objects.filter(pk=chunk_id).update(
        status=RunStatus.RUNNING, attempts=F("attempts") + 1, started_at=now, error=""
    )
    BatchRun.objects.filter(pk=run.pk, started_at__isnull=True).update(started_at=now, status=RunStatus.RUNNING)
    ctx = ChunkContext(
        run=run,
        lo=job_chunk.lo,
        hi=job_chunk.hi,
        as_of=run.as_of,
        jurisdiction=run.jurisdiction.code if run.jurisdiction else None,
        params=run.params,
        preview=run.preview,
        user_id=run.created_by_id,
    )
    counts: dict[str, int] = {}
    try:
        with transaction.atomic():
            # Lock the chunk row: two workers given the same chunk cannot both run it.
            locked = BatchChunk.objects.select_for_update().get(pk=chunk_id)
            if locked.status == RunStatus.DONE:
                return locked.counts
            counts = {k: int(v) for k, v in (job.step(ctx) or {}).items()}
            if run.preview:
                raise _Rollback
            _chunk_done(chunk_id, counts)
    except _Rollback:
        _chunk_done(chunk_id, counts)
    except Exception as exc:
        BatchChunk.objects.filter(pk=chunk_id).update(status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        BatchRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
        log.exception("batch chunk %s of run %s failed", chunk_id, run.pk)
        raise
    _maybe_finish(run.pk)
    return counts


def _chunk_done(chunk_id: int, counts: dict[str, int]) -> None:
    BatchChunk.objects.filter(pk=chunk_id).update(status=RunStatus.DONE, counts=counts, finished_at=timezone.now())


def _maybe_finish(run_id: int) -> None:
    """When the last chunk is done, total the counts and close the run (exactly once)."""
    with transaction.atomic():
        run = BatchRun.objects.select_for_update().get(pk=run_id)
        chunks = list(run.chunks.values_list("status", "counts"))
        done = sum(1 for status, _ in chunks if status == RunStatus.DONE)
        run.chunks_done = done
        if done == len(chunks) and run.status != RunStatus.DONE:
            total: Counter[str] = Counter()
            for _, counts in chunks:
                total.update(counts)
            run.counts = dict(total)
            run.status = RunStatus.DONE
            run.finished_at = timezone.now()
            run.save()
            job = discover()[run.job]
            if job.finish is not None and not run.preview:
                job.finish(run)
        else:
            run.save(update_fields=["chunks_done"])


def _chunk_in_child(chunk_id: int) -> None:
    try:
        chunk_execute(chunk_id)
    finally:
        # a pool process ends without closing its connection: close it here, or its session outlives the run
        connection.close()


def execute_in_processes(run_id: int, processes: int) -> None:
    """Run the run's chunks that are not done in ``processes`` forked processes of this machine.

    What two Celery workers do, without a broker: each process takes the next chunk, one
    transaction per chunk; the chunk lock and the done mark of :func:`chunk_execute`
    keep a chunk from running twice. The processes open their own database connections.
    """
    ids = list(
        BatchChunk.objects.filter(run_id=run_id)
        .exclude(status=RunStatus.DONE)
        .order_by("number")
        .values_list("id", flat=True)
    )
    connections.close_all()  # a forked child must not share the parent's connection
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        for _ in pool.imap_unordered(_chunk_in_child, ids, chunksize=1):
            pass
