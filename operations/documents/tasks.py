"""批量出具 in the background: one PDF per person of an employer, written into one ZIP, with progress."""

from __future__ import annotations

import logging
import tempfile
import zipfile

from celery import shared_task
from django.core.files import File
from django.db.models import Q
from django.utils import timezone

from enrollment.models import EnrolmentSpan

from ..models import BatchStatus, DocumentBatch, DocumentKind
from . import services
from .content import DocumentUnavailable

log = logging.getLogger(__name__)


def bulk_persons(batch: DocumentBatch) -> list:
    """The employer's people for the run: enrolled there on the day (参保证明) or in the period (缴费明细).

    Spans are half-open; a span that began in the period's last month counts."""
    spans = EnrolmentSpan.objects.filter(employer=batch.employer)
    if batch.kind == DocumentKind.CONTRIBUTIONS:
        spans = spans.filter(start__lt=batch.period_end).filter(Q(end__isnull=True) | Q(end__gt=batch.period_start))
    else:
        spans = spans.filter(start__lte=batch.as_of).filter(Q(end__isnull=True) | Q(end__gt=batch.as_of))
    ids = spans.values_list("person_id", flat=True).distinct()
    return list(services.persons_for(batch.requested_by).filter(pk__in=ids).order_by("name", "pk"))


@shared_task(name="operations.documents_bulk", acks_late=True)
def documents_bulk(*, batch_id: int) -> int:
    """Run one bulk batch (once: a batch no longer queued is left alone). Returns the number of PDFs."""
    claimed = DocumentBatch.objects.filter(pk=batch_id, status=BatchStatus.QUEUED).update(status=BatchStatus.RUNNING)
    if not claimed:
        return 0
    batch = DocumentBatch.objects.select_related("employer", "requested_by").get(pk=batch_id)
    user = batch.requested_by
    try:
        persons = bulk_persons(batch)
        DocumentBatch.objects.filter(pk=batch.pk).update(total=len(persons))
        skipped: list[str] = []
        with tempfile.TemporaryFile() as tmp:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for n, person in enumerate(persons, 1):
                    subject = {"person": person}
                    if batch.kind == DocumentKind.CONTRIBUTIONS:
                        subject |= {"start": batch.period_start, "end": batch.period_end}
                    try:
                        content = services.build(batch.kind, user=user, as_of=batch.as_of, **subject)
                    except DocumentUnavailable as exc:
                        skipped.append(f"{person.name}：{exc}")
                        continue
                    issued = services.issue(content, user=user, base_url=batch.base_url, batch=batch)
                    zf.writestr(f"{n:05d}_{services.filename(content, issued.document.code)}", issued.pdf)
                    DocumentBatch.objects.filter(pk=batch.pk).update(done=n)
                if skipped:
                    zf.writestr("未出具名单.txt", "\n".join(skipped))
            tmp.seek(0)
            batch.refresh_from_db()
            batch.file.save(f"batch-{batch.pk}.zip", File(tmp), save=False)
        batch.status, batch.done, batch.finished_at = BatchStatus.DONE, len(persons), timezone.now()
        batch.error = "\n".join(skipped)
        batch.save(update_fields=["file", "status", "done", "finished_at", "error"])
        return len(persons) - len(skipped)
    except Exception as exc:
        # marked failed with its reason, nothing half-kept; not raised again: run in-process, the error would
        # reach the page that started the run as an HTTP 500
        log.exception("批量出具 %s 失败", batch.pk)
        batch.documents.all().delete()
        DocumentBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        return 0
