"""``python manage.py run_nightly --date YYYY-MM-DD``: tonight's chunks, in-process, then the run record."""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from batch.models import BatchRun, RunStatus
from batch.runs import create_run, execute_in_processes, run_in_process, skip_lines
from batch.tasks import resume_run
from operations.jobs import CHANGE_KINDS, NIGHTLY


def describe(run: BatchRun, seconds: float | None = None) -> list[str]:
    """The run record in a few lines: chunks, persons, changes by kind, duration."""
    counts = run.counts or {}
    dur = seconds if seconds is not None else run.duration_seconds
    persons = counts.get("eligibility.persons", 0)
    lines = [
        f"run #{run.pk} {run.job} as_of={run.as_of} status={run.status} "
        f"chunks={run.chunks_done}/{run.chunk_count} persons={persons} duration={dur or 0:.2f}s"
        + (f" ({persons / dur:,.0f} persons/s)" if dur and persons else ""),
        "changes: " + ", ".join(f"{k}={counts.get(k, 0)}" for k in CHANGE_KINDS),
    ]
    other = {k: v for k, v in sorted(counts.items()) if k not in CHANGE_KINDS}
    if other:
        lines.append("state: " + ", ".join(f"{k}={v}" for k, v in other.items()))
    return lines


class Command(BaseCommand):
    help = "夜间批处理（欠费滞纳金、待遇享受状态、退休清缴），在本进程内逐块执行 (run the nightly chunks in-process)."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=date.fromisoformat, required=True, help="业务日期 YYYY-MM-DD")
        parser.add_argument("--jurisdiction", default=None)
        parser.add_argument("--chunk-size", type=int, default=None)
        parser.add_argument("--preview", action="store_true", help="只统计，不提交")
        parser.add_argument(
            "--full", action="store_true", help="全量重算：读取每个人的全部事实（默认只重算事实或日期边界有变化的人员）"
        )
        parser.add_argument("--resume", type=int, default=None, help="续跑未完成的运行（run id）")
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="本机并行进程数（PostgreSQL；每个进程逐块执行，与多个 Celery worker 相同）",
        )

    def handle(self, *args, date, jurisdiction, chunk_size, preview, resume, processes, full, **options):
        params = {"full": True} if full else None
        t0 = time.perf_counter()
        try:
            if processes > 1:
                run = BatchRun.objects.get(pk=resume) if resume else None
                run = run or create_run(
                    NIGHTLY,
                    as_of=date,
                    jurisdiction=jurisdiction,
                    preview=preview,
                    chunk_size=chunk_size,
                    params=params,
                )
                execute_in_processes(run.pk, processes)
            elif resume:
                run = resume_run(resume, in_process=True)
            else:
                run = run_in_process(
                    NIGHTLY,
                    as_of=date,
                    jurisdiction=jurisdiction,
                    preview=preview,
                    chunk_size=chunk_size,
                    params=params,
                )
        except Exception as exc:
            raise CommandError(f"夜间批处理失败：{exc}") from exc
        run.refresh_from_db()
        for line in describe(run, time.perf_counter() - t0):
            self.stdout.write(line)
        for line in skip_lines(run):
            self.stdout.write(line)
        if run.status != RunStatus.DONE:
            raise CommandError(f"run #{run.pk} ended {run.status}")
