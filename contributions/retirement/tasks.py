"""Celery task of the daily clearance scan (keyword-only; dates as ISO strings)."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from batch.tasks import start_run


@shared_task(name="retirement.clearance_scan_daily")
def clearance_scan_daily(*, as_of: str | None = None) -> int:
    """Start the day's scan over the whole population (one task per chunk); returns the run id."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    return start_run("retirement.clearance_scan", as_of=day).pk
