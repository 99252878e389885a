"""Reads for the requests queue and the late-registration list, scoped by the one rule (``visible_to``).

The home page shows :func:`open_requests_count` and :func:`late_registrations_count` as tiles.
"""

from __future__ import annotations

from django.db.models import Count, F, QuerySet

from ..access import scope_queryset
from ..models import LifeEvent, LifeEventKind
from .models import OPEN_STATES, EmployerRequest


def requests_visible(user) -> QuerySet[EmployerRequest]:
    return EmployerRequest.objects.visible_to(user)


def open_requests_count(user) -> int:
    """待办增减员申请: submitted, accepted or reviewed, of the employers the user may see."""
    return requests_visible(user).filter(state__in=OPEN_STATES).count()


def requests_by_state(user) -> dict[str, int]:
    """Counts of the user's visible requests by state (the queue's header)."""
    rows = requests_visible(user).order_by().values("state").annotate(n=Count("id"))
    return {r["state"]: r["n"] for r in rows}


def late_registrations(user) -> QuerySet[LifeEvent]:
    """逾期登记: hires and separations reported after their deadline (hunan 第十七条, langfang 第十条,
    sanmenxia 第十六条; the deadline recorded with the event from ``enrollment.registration_deadline_days``)."""
    events = LifeEvent.objects.filter(
        kind__in=(LifeEventKind.HIRE, LifeEventKind.SEPARATION),
        report_deadline__isnull=False,
        reported_on__gt=F("report_deadline"),
    )
    return scope_queryset(user, events, employer_path="employer_id")


def late_registrations_count(user) -> int:
    return late_registrations(user).count()
