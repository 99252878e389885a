"""Celery tasks of the contribution engine. Keyword-only arguments: ids and ISO dates, never objects.

Each task starts a batch run (:mod:`batch.runs`), which dispatches one task per chunk of
persons; the run record holds the counts. Scheduled in django-celery-beat (migration
``0002_beat_schedule``; ``manage.py contributions_schedules`` re-reads the reset dates from
the policy): the annual base reset per jurisdiction on its reset date, the monthly dues on
the 1st, the late-fee accrual every night. Staff actions in the admin enqueue the same tasks.
"""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from . import services
from .import_tasks import import_commit, import_validate  # noqa: F401  (registered with Celery here)


def _day(value: str | None) -> date:
    # The schedule's "today" is read here, at the edge; services and rules get the date passed in.
    return date.fromisoformat(value) if value else timezone.localdate()


def _user(user_id: int | None):
    return get_user_model().objects.filter(pk=user_id).first() if user_id else None


@shared_task(name="contributions.base_reset", acks_late=True)
def base_reset(*, jurisdiction: str, on: str | None = None, preview: bool = False, user_id: int | None = None) -> int:
    """年度缴费基数核定 of one jurisdiction for the base year containing ``on`` (default: today). Returns the run id."""
    run = services.base_reset(jurisdiction=jurisdiction, on=_day(on), preview=preview, user=_user(user_id))
    return run.pk


@shared_task(name="contributions.dues_generate", acks_late=True)
def dues_generate(
    *, month: str | None = None, jurisdiction: str | None = None, preview: bool = False, user_id: int | None = None
) -> int:
    """生成月度应缴 for ``month`` (YYYY-MM; default: this month). Returns the run id."""
    day = date.fromisoformat(f"{month}-01") if month else timezone.localdate()
    run = services.dues_generate(month=day, jurisdiction=jurisdiction, preview=preview, user=_user(user_id))
    return run.pk


@shared_task(name="contributions.arrears_accrue", acks_late=True)
def arrears_accrue(
    *, on: str | None = None, jurisdiction: str | None = None, preview: bool = False, user_id: int | None = None
) -> int:
    """欠费滞纳金计提 as of ``on`` (default: today), nightly. Returns the run id."""
    run = services.arrears_accrue(on=_day(on), jurisdiction=jurisdiction, preview=preview, user=_user(user_id))
    return run.pk


@shared_task(name="contributions.payments_apply", acks_late=True)
def payments_apply(*, payment_ids: list[int]) -> dict[str, int]:
    """Apply recorded payments to dues (idempotent: applied money is consumed)."""
    return dict(services.payments_apply(payment_ids, recompute_as_of=timezone.localdate()))


@shared_task(name="contributions.resident_billing", acks_late=True)
def resident_billing(
    *, on: str | None = None, jurisdiction: str | None = None, preview: bool = False, user_id: int | None = None
) -> int:
    """生成居民年度应缴 for the collection year of ``on`` (default: this year). Returns the run id."""
    run = services.resident_billing(on=_day(on), jurisdiction=jurisdiction, preview=preview, user=_user(user_id))
    return run.pk
