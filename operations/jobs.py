"""The composite night run (夜间批处理), one chunk of person ids at a time (:mod:`batch.runs`).

For the same id range: ``contributions.arrears_accrue`` (欠费、滞纳金), then the eligibility
refresh (which sees tonight's arrears; incremental: only the persons whose inputs changed or whose
stored answer reached its ``next_check`` date are evaluated; the run's params ``{"full": true}`` evaluate everybody:
see :func:`benefits.services.refresh`), then the retirement clearance scan and the
recomputation of pending clearance cases (incremental too: only the persons whose clearance inputs changed
or whom the date carries past a legal age or a dated fact; see
:func:`contributions.retirement.services.clearance_scan`). The late fees are one statement over the chunk's
unsettled dues (:func:`contributions.sql.fees_accrue_all`): a settled due is never read again.
Before the run is recorded, :func:`prepare_night` makes this year's and next year's partitions of the big
tables (PostgreSQL; :mod:`batch.partitioning`). Counts are prefixed by area; every step is idempotent, so a
second run the same night reports zero in every change kind (:data:`CHANGE_KINDS`).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

from batch.partitioning import ensure_current_partitions
from batch.runs import ChunkContext, batch_job
from benefits.jobs import evaluator_on, shared_evaluator
from benefits.services import CHANGE_KINDS as ELIGIBILITY_CHANGES
from benefits.services import refresh
from contributions.jobs import arrears_accrue, rates_on
from contributions.retirement.services import clearance_scan, scan_prepare
from enrollment.selectors import person_id_bounds

NIGHTLY = "operations.nightly"
# Count kinds that are changes (the others describe the population: persons, in_arrears, pending ...).
CHANGE_KINDS = ("arrears.accrued", *ELIGIBILITY_CHANGES, "clearance.opened", "clearance.updated")


def changes(counts: dict[str, int]) -> dict[str, int]:
    return {k: counts.get(k, 0) for k in CHANGE_KINDS}


def prepare_night(as_of: date) -> None:
    """Before the run is recorded: the year partitions the night writes into (PostgreSQL: this year's, next
    year's and the run date's), then what each chunk process would otherwise read once for itself (the late-fee
    rates of the night, the clearance scan's version and jurisdictions, the eligibility evaluator's digests) —
    read here, in the process that forks the chunk processes (``--processes``), they inherit it."""
    ensure_current_partitions(years=(as_of.year,))
    rates_on(as_of)
    scan_prepare()
    evaluator_on(as_of)


@batch_job(
    "operations.nightly",
    ids=person_id_bounds,
    label="夜间批处理（欠费滞纳金、待遇状态、退休清缴）",
    prepare=prepare_night,
)
def nightly_step(ctx: ChunkContext) -> dict[str, int]:
    counts: Counter = Counter()
    t0 = time.perf_counter()
    for key, n in (arrears_accrue(ctx) or {}).items():
        counts[f"arrears.{key}"] += int(n)
    t1 = time.perf_counter()
    counts += refresh(
        ctx.as_of,
        lo=ctx.lo,
        hi=ctx.hi,
        run_id=ctx.run.pk,
        evaluator=shared_evaluator(ctx),
        incremental=True,
        full=bool(ctx.params.get("full")),
    )
    t2 = time.perf_counter()
    counts += clearance_scan(
        ctx.as_of, lo=ctx.lo, hi=ctx.hi, run_id=ctx.run.pk, incremental=True, full=bool(ctx.params.get("full"))
    )
    t3 = time.perf_counter()
    # time spent per step, summed over the chunks (describes the run; not a change)
    counts["ms.arrears"] += round((t1 - t0) * 1000)
    counts["ms.eligibility"] += round((t2 - t1) * 1000)
    counts["ms.clearance"] += round((t3 - t2) * 1000)
    return {k: int(v) for k, v in counts.items()}


# 基金测算 (issue #18 item 5): its chunk step registers with the batch framework here.
from .simulation import jobs as simulation_jobs  # noqa: E402,F401
