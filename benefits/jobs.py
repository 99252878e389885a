"""Batch steps of the benefits side (run by :mod:`batch.runs`, one chunk of person ids each).

* ``benefits.eligibility_refresh`` — 待遇享受状态 timelines (:func:`benefits.services.refresh`).

The composite night run that also accrues arrears and scans for retirement is
:mod:`operations.jobs` (``operations.nightly``): it spans the domains.
"""

from __future__ import annotations

from datetime import date

from batch.runs import ChunkContext, batch_job
from enrollment.selectors import person_id_bounds
from policy.resolver import snapshot

from .services import Evaluator, refresh

_evaluator: Evaluator | None = None


def shared_evaluator(ctx: ChunkContext) -> Evaluator:
    """One memo per worker process and night: chunks of the same run reuse each other's evaluations."""
    return evaluator_on(ctx.as_of)


def evaluator_on(as_of: date) -> Evaluator:
    """The evaluator of the night ``as_of`` in this process (made before the chunk processes are forked, they
    inherit it and do not each compute its policy and code digests again)."""
    global _evaluator
    if _evaluator is None or _evaluator.as_of != as_of or _evaluator.snap is not snapshot():
        _evaluator = Evaluator(as_of)
    return _evaluator


@batch_job("benefits.eligibility_refresh", ids=person_id_bounds, label="待遇享受状态重算")
def eligibility_refresh_step(ctx: ChunkContext) -> dict[str, int]:
    counts = refresh(ctx.as_of, lo=ctx.lo, hi=ctx.hi, run_id=ctx.run.pk, evaluator=shared_evaluator(ctx))
    return {k: int(v) for k, v in counts.items()}
