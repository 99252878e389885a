"""Celery tasks of the ledger (keyword-only, ids and dates as strings; scheduled by django-celery-beat).

The schedule is created by migration 0003: monthly retiree credits, yearly
interest, nightly posting of contributions received and reconciliation.
Each task starts one batch run per jurisdiction (queue: the default one), so a jurisdiction that lacks a
value (``PolicyMissing``) fails on its own and the others go on.
"""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.utils import timezone

from batch.tasks import start_run
from policy.models import Jurisdiction
from policy.resolver import Policy

from .reconcile import reconcile

log = logging.getLogger(__name__)


def _today() -> date:
    return timezone.localdate()


def _codes(jurisdiction: str | None) -> list[str]:
    return (
        [jurisdiction] if jurisdiction else list(Jurisdiction.objects.order_by("code").values_list("code", flat=True))
    )


@shared_task(name="funds.retiree_credits_month")
def retiree_credits_month(*, month: str | None = None, jurisdiction: str | None = None) -> dict[str, int]:
    """Start the month's retiree credits (default: the current month) in every jurisdiction."""
    today = _today()
    month = month or f"{today:%Y-%m}"
    runs = {}
    for code in _codes(jurisdiction):
        try:
            runs[code] = start_run("funds.retiree_credits", as_of=today, jurisdiction=code, params={"month": month}).pk
        except Exception:  # one jurisdiction's failure must not stop the others; the run records it
            log.exception("retiree credits %s %s failed", code, month)
    return runs


@shared_task(name="funds.interest_year")
def interest_year(*, year: int | None = None, jurisdiction: str | None = None) -> dict[str, int]:
    """Post last year's interest (default) where staff entered the year's rate; others are skipped."""
    today = _today()
    year = int(year or today.year - 1)
    runs = {}
    for code in _codes(jurisdiction):
        if not Policy(code, date(year, 12, 31)).has("funds.personal_account_interest_pct"):
            log.warning("interest %s %s skipped: funds.personal_account_interest_pct not entered", code, year)
            continue
        try:
            runs[code] = start_run("funds.interest_post", as_of=today, jurisdiction=code, params={"year": year}).pk
        except Exception:
            log.exception("interest %s %s failed", code, year)
    return runs


@shared_task(name="funds.contributions_post_nightly")
def contributions_post_nightly() -> int:
    """Post every payment allocation not yet in the ledger."""
    return start_run("funds.contributions_post", as_of=_today()).pk


@shared_task(name="funds.reconcile_nightly")
def reconcile_nightly() -> dict:
    """Check every invariant; the result is kept as a Reconciliation row (and logged when broken)."""

    result = reconcile()
    if not result.ok:
        log.error("funds reconciliation found breaks: %s", result.checks)
    return {"ok": result.ok, "checks": result.checks}
