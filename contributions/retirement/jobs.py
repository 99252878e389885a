"""Batch step ``retirement.clearance_scan`` (退休清缴，每日): see :func:`.services.clearance_scan`."""

from __future__ import annotations

from config.batch import ChunkContext, batch_job

from .services import clearance_scan


@batch_job("retirement.clearance_scan", label="退休清缴（达到法定退休年龄）")
def clearance_scan_step(ctx: ChunkContext) -> dict[str, int]:
    return {k: int(v) for k, v in clearance_scan(ctx.as_of, lo=ctx.lo, hi=ctx.hi, run_id=ctx.run.pk).items()}
