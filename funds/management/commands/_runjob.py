"""Shared helper: run a batch job in-process and print its counts and timing."""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import CommandError

from batch.models import RunStatus
from batch.runs import run_in_process, skip_lines


def run_job(
    command, job: str, *, as_of: date, jurisdiction: str | None, params: dict, preview: bool, chunk_size: int | None
):
    t0 = time.perf_counter()
    try:
        run = run_in_process(
            job, as_of=as_of, jurisdiction=jurisdiction, params=params, preview=preview, chunk_size=chunk_size
        )
    except Exception as exc:
        raise CommandError(f"{job} 失败：{exc}") from exc
    dt = time.perf_counter() - t0
    counts = ", ".join(f"{k}={v}" for k, v in sorted(run.counts.items())) or "no changes"
    command.stdout.write(
        f"{job} run #{run.pk} {'(preview) ' if preview else ''}{run.status}: {counts}; "
        f"{run.chunk_count} chunks in {dt:.2f} s"
    )
    for line in skip_lines(run):
        command.stdout.write(line)
    if run.status != RunStatus.DONE:
        raise CommandError(f"run #{run.pk} ended {run.status}")
    return run
