"""Shared printing of a batch run's outcome for the contribution commands."""

from __future__ import annotations

from batch.models import BatchRun


def run_report(run: BatchRun) -> str:
    lines = [
        f"run #{run.pk} {run.job} as_of={run.as_of} jurisdiction={run.jurisdiction.code if run.jurisdiction else 'all'}"
        f"{' (preview: nothing kept)' if run.preview else ''}: {run.status}, "
        f"{run.chunks_done}/{run.chunk_count} chunks"
        + (f" in {run.duration_seconds:.2f} s" if run.duration_seconds is not None else "")
    ]
    lines += [f"  {key}: {value}" for key, value in sorted(run.counts.items())]
    return "\n".join(lines)
