"""Celery task of the nightly run, scheduled by django-celery-beat (migrations benefits 0002, operations 0001)."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from batch.tasks import start_run

from .api_exports import export_run  # noqa: F401  (registered with Celery here)
from .documents.tasks import documents_bulk  # noqa: F401  (registered with Celery here)
from .jobs import NIGHTLY


@shared_task(name="operations.nightly")
def nightly(*, as_of: str | None = None) -> int:
    """Start tonight's ``operations.nightly`` run (one Celery task per chunk of persons); returns the run id."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    return start_run(NIGHTLY, as_of=day).pk
