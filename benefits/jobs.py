"""Nightly batch steps of the benefits side (run by :mod:`config.batch`, one chunk of person ids each).

* ``benefits.eligibility_refresh`` — 待遇享受状态 timelines (:func:`benefits.services.refresh`);
* ``benefits.nightly`` — the composite night run: for the same id range, contribF's
  ``contributions.arrears_accrue`` (欠费、滞纳金), then the eligibility refresh (which
  sees tonight's arrears), then the retirement clearance scan and the recomputation of
  pending clearance cases. Counts are prefixed by area; every step is idempotent, so a
  second run the same night reports zero in every change kind (:data:`CHANGE_KINDS`).
"""

from __future__ import annotations

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
    for key, n in (arrears_accrue(ctx) or {}).items():
        counts[f"arrears.{key}"] += int(n)
    counts += refresh(ctx.as_of, lo=ctx.lo, hi=ctx.hi, run_id=ctx.run.pk, evaluator=_shared_evaluator(ctx))
    counts += clearance_scan(ctx.as_of, lo=ctx.lo, hi=ctx.hi, run_id=ctx.run.pk)
    return {k: int(v) for k, v in counts.items()}
