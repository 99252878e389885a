"""Batch step ``retirement.clearance_scan`` (退休清缴，每日): see :func:`.services.clearance_scan`."""

from __future__ import annotations

from batch.runs import ChunkContext, batch_job
from enrollment.selectors import person_id_bounds

from .services import clearance_scan


@batch_job("retirement.clearance_scan", ids=person_id_bounds, label="退休清缴（达到法定退休年龄）")
def clearance_scan_step(ctx: ChunkContext) -> dict[str, int]:
    return {k: int(v) for k, v in clearance_scan(ctx.as_of, lo=ctx.lo, hi=ctx.hi, run_id=ctx.run.pk).items()}
