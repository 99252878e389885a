"""Celery task of the nightly run, scheduled by django-celery-beat (migration benefits 0002)."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from config.batch import start_run


@shared_task(name="benefits.nightly")
def nightly(*, as_of: str | None = None) -> int:
    """Start tonight's ``benefits.nightly`` run (one Celery task per chunk of persons); returns the run id."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    return start_run("benefits.nightly", as_of=day).pk
