"""Celery tasks for settlement files. Keyword-only arguments; ids, not objects."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from batch.tasks import start_run

from .imports import analyze_claims, settlement_file_discard, settlement_file_import
from .jobs import JOB
from .models import SettlementFile, SettlementFileStatus


@shared_task(name="claims.settlement_file_process", acks_late=True)
def settlement_file_process(*, file_id: int) -> dict[str, int]:
    """Read the file into draft claims, then start the chunked batch run that adjudicates them.

    Progress is the run's chunks (BatchRun.chunks_done / chunk_count) shown on the file's page;
    the run's ``finish`` marks the file done with the counts. A file with any error is read all or
    nothing: nothing is written, the file is marked failed with its errors and its upload deleted.
    """
    sfile = SettlementFile.objects.select_related("jurisdiction").get(pk=file_id)
    SettlementFile.objects.filter(pk=file_id).update(status=SettlementFileStatus.IMPORTING)
    try:
        counts = settlement_file_import(sfile, today=timezone.localdate())
        if counts["errors"]:
            settlement_file_discard(sfile)
            return counts
        analyze_claims()
        sfile.refresh_from_db()
        run = start_run(
            JOB,
            as_of=sfile.as_of,
            jurisdiction=sfile.jurisdiction.code,
            params={"file_id": file_id},
            user=sfile.uploaded_by,
        )
    except Exception as exc:
        SettlementFile.objects.filter(pk=file_id).update(
            status=SettlementFileStatus.FAILED,
            errors=[{"row": 0, "field": "", "message": f"{type(exc).__name__}: {exc}"}],
            finished_at=timezone.now(),
        )
        settlement_file_discard(sfile)
        raise
    SettlementFile.objects.filter(pk=file_id).exclude(status=SettlementFileStatus.DONE).update(
        status=SettlementFileStatus.SETTLING, run=run
    )
    SettlementFile.objects.filter(pk=file_id, run__isnull=True).update(run=run)
    return counts
