"""Batch jobs over the whole population, in chunks of person ids (ENGINEERING.md, "Batch jobs").

A job is a step function registered with :func:`batch_job`; it does set-based
SQL for the persons ``lo <= id < hi`` and returns counts of what it changed.
:func:`create_run` records a :class:`~batch.models.BatchRun` and splits the ids
the job names (each job declares its own source of ids, so this module knows no
domain model) into :class:`~batch.models.BatchChunk` rows — fixed ranges of ids, or the
ranges the job cuts itself (``ranges``: e.g. about as many claims of a file in each);
:func:`batch.tasks.start_run` dispatches one Celery task per chunk and
:func:`run_in_process` runs them here. Each chunk is one transaction. Chunks are idempotent, so a chunk
re-run after a crash (:func:`batch.tasks.resume_run`) or a whole run repeated changes
nothing that is already right. In preview mode every chunk is rolled back and
only its counts are kept.

Bad data does not stop a run (issue #12, item 5): when a chunk's step fails, the
chunk is rolled back to a savepoint and its id range is bisected until the
persons whose rows cannot be computed are isolated; they are recorded as
:class:`~batch.models.BatchSkip` with the reason and everyone else is written.
A step may also report a person it refused itself (:meth:`ChunkContext.skip`).
The finishing step runs in a savepoint too. A run with skips ends
``DONE_WITH_ERRORS``; :func:`batch.tasks.resume_run` retries only the skipped persons (and the
finishing step) and always closes a run whose chunks are all done. Isolation only
happens on failure, so the set-based speed is kept.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from multiprocessing import util
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from policy.models import Jurisdiction
from policy.resolver import snapshot

from .models import BatchChunk, BatchRun, BatchSkip, RunStatus

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
    #: persons the step refused itself (a value out of bounds …): (person_id, reason)
    skips: list[tuple[int, str]] = field(default_factory=list)

    def skip(self, person_id: int, reason: str) -> None:
        """Record that ``person_id`` was not computed by this step, and why (listed in the run's report)."""
        self.skips.append((int(person_id), reason))


#: Errors of the connection or the server, not of a person's data: the chunk fails and is retried whole.
INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError)
FINISHED = (RunStatus.DONE, RunStatus.DONE_WITH_ERRORS)


IdBounds = Callable[[], tuple[int | None, int | None]]
#: ``(params, chunk_size)`` → the run's ``(lo, hi)`` id ranges, or ``None`` for fixed ranges of ``ids``
Ranges = Callable[[dict[str, Any], int | None], list[tuple[int, int]] | None]


@dataclass(frozen=True)
class Job:
    name: str
    label: str
    step: Callable[[ChunkContext], dict[str, int]]
    ids: IdBounds
    finish: Callable[[BatchRun], None] | None = field(default=None)
    #: runs before the run is recorded, with its business date (e.g. the year partitions the run writes into)
    prepare: Callable[[date], None] | None = field(default=None)
    #: cuts the run into id ranges from its params (e.g. ranges holding about as much work each), instead of
    #: fixed ranges of ``chunk_size`` ids
    ranges: Ranges | None = field(default=None)


JOBS: dict[str, Job] = {}


def batch_job(
    name: str,
    *,
    ids: IdBounds,
    label: str = "",
    finish: Callable[[BatchRun], None] | None = None,
    prepare: Callable[[date], None] | None = None,
    ranges: Ranges | None = None,
):
    """Register ``step`` as the chunk step of job NAME.

    ``ids`` returns the smallest and largest id the job covers (usually insured persons'); the run is cut
    into ``lo <= id < hi`` ranges of it. ``finish`` runs once when all chunks are done; ``prepare(as_of)`` once
    before the run is recorded. ``ranges(params, chunk_size)``, when given, cuts the run itself (``chunk_size``
    is the one the run was asked for, or ``None``): sorted, disjoint ``(lo, hi)`` ranges, at least one; ``None``
    for the fixed ranges of ``ids``.
    """

    def register(step):
        JOBS[name] = Job(name, label or name, step, ids, finish, prepare, ranges)
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


def job_chunk_size(job: str) -> int:
    """Person ids per chunk of JOB's runs: its own size in ``BATCH_JOB_CHUNK_SIZES``, else ``BATCH_CHUNK_SIZE``."""
    return getattr(settings, "BATCH_JOB_CHUNK_SIZES", {}).get(job) or settings.BATCH_CHUNK_SIZE


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
    if JOBS[job].prepare is not None:
        JOBS[job].prepare(as_of)
    ranges = JOBS[job].ranges(params or {}, chunk_size) if JOBS[job].ranges is not None else None
    if ranges is None:
        ranges = _id_ranges(JOBS[job], chunk_size or job_chunk_size(job))
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


def run_in_process(job: str, *, processes: int = 1, **kwargs) -> BatchRun:
    """Create a run and execute its chunks on this machine (commands, tests, embedded mode): here, one after
    another, or with ``processes`` > 1 in that many forked processes (:func:`execute_in_processes`)."""
    run = create_run(job, **kwargs)
    if processes > 1:
        execute_in_processes(run.pk, processes)
    else:
        for chunk_id in run.chunks.values_list("id", flat=True):
            chunk_execute(chunk_id)
    run.refresh_from_db()
    return run


def retry_skips(run_id: int) -> dict[str, int]:
    """Run the step again for each skipped person alone; a person that now computes loses its skip record.

    Only what is missing is done: the other persons of the run are not touched. The finishing step's
    skips are cleared and the run reopened, so :func:`_maybe_finish` runs the finishing step again.
    """
    run = BatchRun.objects.select_related("jurisdiction").get(pk=run_id)
    job = discover()[run.job]
    total: Counter[str] = Counter()
    cleared = 0
    for skip in BatchSkip.objects.filter(run=run, step=run.job, person_id__isnull=False).select_related("chunk"):
        ctx = _context(run, skip.person_id, skip.person_id + 1)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    counts = {k: int(v) for k, v in (job.step(ctx) or {}).items()}
                    if ctx.skips:
                        raise _Refused("; ".join(reason for _, reason in ctx.skips))
                    if run.preview:
                        raise _Rollback
            except _Rollback:
                pass
            except INFRASTRUCTURE_ERRORS:
                raise
            except Exception as exc:
                BatchSkip.objects.filter(pk=skip.pk).update(reason=_reason(exc))
                continue
            skip.delete()
            cleared += 1
            if skip.chunk_id is not None:
                chunk = BatchChunk.objects.select_for_update().get(pk=skip.chunk_id)
                merged = Counter(chunk.counts)
                merged.update(counts)
                merged["retried"] += 1
                merged["skipped"] -= 1
                BatchChunk.objects.filter(pk=chunk.pk).update(counts=dict(merged))
            total.update(counts)
    finish_skips = BatchSkip.objects.filter(run=run, step="finish")
    if finish_skips.exists() or run.status not in FINISHED or cleared:
        with transaction.atomic():
            finish_skips.delete()
            BatchRun.objects.filter(pk=run_id).update(status=RunStatus.RUNNING)
    total["retried"] = cleared
    return dict(total)


class _Refused(Exception):
    """The step refused the person itself (:meth:`ChunkContext.skip`)."""


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _context(run: BatchRun, lo: int, hi: int) -> ChunkContext:
    return ChunkContext(
        run=run,
        lo=lo,
        hi=hi,
        as_of=run.as_of,
        jurisdiction=run.jurisdiction.code if run.jurisdiction else None,
        params=run.params,
        preview=run.preview,
        user_id=run.created_by_id,
    )


def run_step_isolating(job: Job, ctx: ChunkContext) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """Run the step for the chunk; on failure bisect its id range to skip only the ids that fail.

    Each attempt runs in a savepoint, so a failed statement leaves nothing behind. Returns the summed
    counts and the skipped persons ``(person_id, reason)``. More than ``BATCH_SKIP_LIMIT`` failing persons
    in one chunk is not bad data but a broken step: the chunk fails with the first error. The range is
    halved as numbers (this module knows no domain model): ranges without a person simply succeed.
    """
    limit = getattr(settings, "BATCH_SKIP_LIMIT", 100)
    try:
        with transaction.atomic():
            counts = {k: int(v) for k, v in (job.step(ctx) or {}).items()}
        return counts, list(ctx.skips)
    except INFRASTRUCTURE_ERRORS:
        raise
    except Exception as exc:
        first = exc
        log.warning("batch run %s chunk %s–%s failed (%s); isolating the persons", ctx.run.pk, ctx.lo, ctx.hi, first)
    total: Counter[str] = Counter()
    skipped: list[tuple[int, str]] = []

    def attempt(lo: int, hi: int) -> None:
        sub = replace(ctx, lo=lo, hi=hi, skips=[])
        try:
            with transaction.atomic():
                counts = job.step(sub) or {}
            total.update({k: int(v) for k, v in counts.items()})
            skipped.extend(sub.skips)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as exc:
            if hi - lo == 1:
                skipped.append((lo, _reason(exc)))
                if len(skipped) > limit:
                    raise first from exc
                return
            mid = (lo + hi) // 2
            attempt(lo, mid)
            attempt(mid, hi)

    if ctx.hi - ctx.lo == 1:
        skipped.append((ctx.lo, _reason(first)))
    else:  # the whole chunk just failed: start with its halves
        mid = (ctx.lo + ctx.hi) // 2
        attempt(ctx.lo, mid)
        attempt(mid, ctx.hi)
    return dict(total), skipped


def chunk_execute(chunk_id: int) -> dict[str, int]:
    """Run one chunk in one transaction; a chunk already done is skipped."""
    job_chunk = BatchChunk.objects.select_related("run", "run__jurisdiction").get(pk=chunk_id)
    if job_chunk.status == RunStatus.DONE:
        maybe_finish(job_chunk.run_id)  # a redelivered task closes a run whose finish was interrupted
        return job_chunk.counts
    run = job_chunk.run
    job = discover()[run.job]
    now = timezone.now()
    BatchChunk.objects.filter(pk=chunk_id).update(
        status=RunStatus.RUNNING, attempts=F("attempts") + 1, started_at=now, error=""
    )
    if run.started_at is None:  # the first chunk of the run (a second worker's update then changes nothing)
        BatchRun.objects.filter(pk=run.pk, started_at__isnull=True).update(started_at=now, status=RunStatus.RUNNING)
    ctx = _context(run, job_chunk.lo, job_chunk.hi)
    retried = job_chunk.attempts > 0  # only a chunk run before can have skip records to replace
    counts: dict[str, int] = {}
    skips: list[tuple[int, str]] = []
    try:
        with transaction.atomic():
            # Lock the chunk row: two workers given the same chunk cannot both run it.
            locked = BatchChunk.objects.select_for_update().get(pk=chunk_id)
            if locked.status == RunStatus.DONE:
                return locked.counts
            counts, skips = run_step_isolating(job, ctx)
            if run.preview:
                raise _Rollback
            _chunk_done(chunk_id, counts, skips, step=run.job, run_id=run.pk, retried=retried)
    except _Rollback:
        _chunk_done(chunk_id, counts, skips, step=run.job, run_id=run.pk, retried=retried)
    except Exception as exc:
        BatchChunk.objects.filter(pk=chunk_id).update(status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        BatchRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
        log.exception("batch chunk %s of run %s failed", chunk_id, run.pk)
        raise
    maybe_finish(run.pk)
    return counts


def _chunk_done(
    chunk_id: int, counts: dict[str, int], skips: list[tuple[int, str]], *, step: str, run_id: int, retried: bool = True
) -> None:
    if skips:
        counts = {**counts, "skipped": len(skips)}
    BatchChunk.objects.filter(pk=chunk_id).update(status=RunStatus.DONE, counts=counts, finished_at=timezone.now())
    if retried:
        BatchSkip.objects.filter(chunk_id=chunk_id).delete()
    BatchSkip.objects.bulk_create(
        BatchSkip(run_id=run_id, chunk_id=chunk_id, step=step, person_id=pid, reason=reason[:2000])
        for pid, reason in skips
    )


def skip_lines(run: BatchRun, limit: int = 50) -> list[str]:
    """The run's skipped persons in lines for a command's output (the admin page lists them all)."""
    skips = list(run.skips.all()[: limit + 1])
    lines = [f"skipped {s.step} person={s.person_id or '-'} employer={s.employer_id or '-'}: {s.reason}" for s in skips]
    lines = lines[:limit]
    if len(skips) > limit:
        lines.append(f"… more in the admin page of run #{run.pk}")
    return lines


def record_skip(run: BatchRun, reason: str, *, employer_id: int | None = None, person_id: int | None = None) -> None:
    """For a finishing step: record what it could not compute (an employer …); the run ends with errors."""
    BatchSkip.objects.create(run=run, step="finish", employer_id=employer_id, person_id=person_id, reason=reason)


def maybe_finish(run_id: int) -> None:
    """When the last chunk is done, total the counts and close the run (exactly once).

    The progress (``chunks_done``) is one UPDATE; only when every chunk is done is the run locked and its
    counts totalled (a run of many chunks does not read every chunk's counts after each of them)."""
    run_t, chunk_t = BatchRun._meta.db_table, BatchChunk._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"""UPDATE {run_t} SET chunks_done = (
                    SELECT CASE WHEN COUNT(*) > {run_t}.chunks_done THEN COUNT(*) ELSE {run_t}.chunks_done END
                    FROM {chunk_t} WHERE run_id = %s AND status = %s)
                WHERE id = %s RETURNING chunks_done, chunk_count, status""",
            [run_id, RunStatus.DONE, run_id],
        )
        row = cur.fetchone()
    if row is None or row[0] < row[1] or row[2] in FINISHED:
        return
    with transaction.atomic():
        run = BatchRun.objects.select_for_update().get(pk=run_id)
        chunks = list(run.chunks.values_list("status", "counts"))
        done = sum(1 for status, _ in chunks if status == RunStatus.DONE)
        run.chunks_done = done
        if done == len(chunks) and run.status not in FINISHED:
            total: Counter[str] = Counter()
            for _, counts in chunks:
                total.update(counts)
            run.counts = dict(total)
            run.finished_at = timezone.now()
            job = discover()[run.job]
            if job.finish is not None and not run.preview:
                # The finishing step in a savepoint: its failure is recorded, and the run is closed anyway.
                try:
                    with transaction.atomic():
                        job.finish(run)
                except INFRASTRUCTURE_ERRORS:
                    raise
                except Exception as exc:
                    log.exception("finishing step of batch run %s failed", run_id)
                    run.counts = dict(total)
                    record_skip(run, _reason(exc))
            run.status = RunStatus.DONE_WITH_ERRORS if run.skips.exists() else RunStatus.DONE
            run.save()
        else:
            run.save(update_fields=["chunks_done"])


def _child_start() -> None:
    """A chunk process keeps one database connection for all its chunks (a new session per chunk costs the
    connection and a cold catalog cache: the first plans over the partitioned tables read it again) and closes it
    when the pool ends it (a finaliser run at the process's exit), or its session would outlive the run.

    Its commits do not wait for the WAL flush (PostgreSQL ``synchronous_commit = off``, as each chunk's own
    transaction already does: :func:`contributions.sql.tune`): the bookkeeping around a chunk (its running mark,
    the run's progress) is two commits of its own, ~7 ms each when waited for. A crash loses at most the last
    commits, whole: a chunk not marked done runs again (chunks are idempotent), the progress is recounted and a
    run whose chunks are all done is closed by :func:`batch.tasks.resume_run`."""
    util.Finalize(None, connection.close, exitpriority=10)
    if connection.vendor == "postgresql":
        try:
            with connection.cursor() as cur:
                cur.execute("SET synchronous_commit = off")
        except INFRASTRUCTURE_ERRORS:  # no database now: the first chunk fails and says so (a pool initialiser
            pass  # that raises would only be started again, for ever)


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
    # what every chunk reads first, read once here and inherited by the forked children: the job modules and
    # the policy snapshot (its catalog is parsed from YAML; rebuilt in each child it costs ~1 s per process)
    discover()
    snapshot()
    connections.close_all()  # a forked child must not share the parent's connection
    pool = multiprocessing.get_context("fork").Pool(processes, initializer=_child_start)
    try:
        for _ in pool.imap_unordered(chunk_execute, ids, chunksize=1):
            pass
        pool.close()  # the processes end normally: their finalisers close their connections
        pool.join()
    finally:
        pool.terminate()
