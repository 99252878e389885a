"""Nightly batch steps of the benefits side (run by :mod:`config.batch`, one chunk of person ids each).

* ``benefits.eligibility_refresh`` — 待遇享受状态 timelines (:func:`benefits.services.refresh`);
* ``benefits.nightly`` — the composite night run: for the same id range, contribF's
  ``contributions.arrears_accrue`` (欠费、滞纳金), then the eligibility refresh (which
  sees tonight's arrears), then the retirement clearance scan and the recomputation of
  pending clearance cases. Counts are prefixed by area; every step is idempotent, so a
  second run the same night reports zero in every change kind (:data:`CHANGE_KINDS`).
"""

from __future__ import annotations

import time
from collections import Counter

from config.batch import ChunkContext, batch_job

from .services import CHANGE_KINDS as ELIGIBILITY_CHANGES
from .services import Evaluator, refresh

# Count kinds that are changes (the others describe the population: persons, in_arrears, pending ...).
CHANGE_KINDS = ("arrears.accrued", *ELIGIBILITY_CHANGES, "clearance.opened", "clearance.updated")

_evaluator: Evaluator | None = None


def _shared_evaluator(ctx: ChunkContext) -> Evaluator:
    """One memo per worker process and night: chunks of the same run reuse each other's evaluations."""
    global _evaluator
    if _evaluator is None or _evaluator.as_of != ctx.as_of or _evaluator.snap is not _snapshot():
        _evaluator = Evaluator(ctx.as_of)
    return _evaluator


def _snapshot():
    from config.policy import snapshot

    return snapshot()


def changes(counts: dict[str, int]) -> dict[str, int]:
    return {k: counts.get(k, 0) for k in CHANGE_KINDS}


@batch_job("benefits.eligibility_refresh", label="待遇享受状态重算")
def eligibility_refresh_step(ctx: ChunkContext) -> dict[str, int]:
    counts = refresh(ctx.as_of, lo=ctx.lo, hi=ctx.hi, run_id=ctx.run.pk, evaluator=_shared_evaluator(ctx))
    return {k: int(v) for k, v in counts.items()}


@batch_job("benefits.nightly", label="夜间批处理（欠费滞纳金、待遇状态、退休清缴）")
def nightly_step(ctx: ChunkContext) -> dict[str, int]:
    from contributions.jobs import arrears_accrue
    from contributions.retirement.services import clearance_scan

    counts: Counter = Counter()
    t0 = time.perf_counter()
    for key, n in (arrears_accrue(ctx) or {}).items():
        counts[f"arrears.{key}"] += int(n)
    t1 = time.perf_counter()
    counts += refresh(ctx.as_of, lo=ctx.lo, hi=ctx.hi, run_id=ctx.run.pk, evaluator=_shared_evaluator(ctx))
    t2 = time.perf_counter()
    counts += clearance_scan(ctx.as_of, lo=ctx.lo, hi=ctx.hi, run_id=ctx.run.pk)
    t3 = time.perf_counter()
    # time spent per step, summed over the chunks (describes the run; not a change)
    counts["ms.arrears"] += round((t1 - t0) * 1000)
    counts["ms.eligibility"] += round((t2 - t1) * 1000)
    counts["ms.clearance"] += round((t3 - t2) * 1000)
    return {k: int(v) for k, v in counts.items()}


def _chunk_in_child(chunk_id: int) -> None:
    from django.db import connection

    from config.batch import chunk_execute

    try:
        chunk_execute(chunk_id)
    finally:
        # a pool process ends without closing its connection: close it here, or its session outlives the run
        connection.close()


def execute_in_processes(run_id: int, processes: int) -> None:
    """Run the run's chunks that are not done in ``processes`` forked processes of this machine.

    What two Celery workers do, without a broker: each process takes the next chunk, one
    transaction per chunk; the chunk lock and the done mark of :func:`config.batch.chunk_execute`
    keep a chunk from running twice. The processes open their own database connections.
    """
    import multiprocessing

    from django.db import connections

    from config.models import BatchChunk, RunStatus

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
