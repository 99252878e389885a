"""Reads for the requests queue and the late-registration list, scoped by the one rule (``visible_to``).

The home page shows :func:`open_requests_count` and :func:`late_registrations_count` as tiles.
"""

from __future__ import annotations

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from ..access import scope_queryset
from ..calculations.enrolment_checks import EMPLOYEE_INSUTYPE, RESIDENT_INSUTYPE
from ..models import EnrolmentSpan, LifeEvent, LifeEventKind
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


def dual_enrolments(user, *, jurisdictions: list[str]) -> QuerySet[EnrolmentSpan]:
    """同时参加职工医保和居民医保 (hunan 第十六条): employee spans (险种 310) overlapping a resident span (390) of
    the same person, in the jurisdictions whose document forbids it (``enrollment.no_employee_and_resident_at_once``).
    Resident insurance has no spans yet; the check reads the spans' 险种 so it works once it does."""
    resident = EnrolmentSpan.objects.filter(person_id=OuterRef("person_id"), insutype=RESIDENT_INSUTYPE).filter(
        Q(end__isnull=True) | Q(end__gt=OuterRef("start"))
    )
    spans = EnrolmentSpan.objects.filter(insutype=EMPLOYEE_INSUTYPE, jurisdiction__code__in=jurisdictions)
    spans = spans.filter((Q(end__isnull=True) & Exists(resident)) | Exists(resident.filter(start__lt=OuterRef("end"))))
    return scope_queryset(user, spans, employer_path="employer_id")
