"""Reads of the register shared by other apps and by batch jobs."""

from __future__ import annotations

from datetime import date

from django.db.models import Max, Min, Q

from .models import EnrolmentSpan, InsuredPerson


def person_id_bounds() -> tuple[int | None, int | None]:
    """Smallest and largest 参保人员 id: the id source of every batch job that works per person."""
    bounds = InsuredPerson.objects.aggregate(lo=Min("id"), hi=Max("id"))
    return bounds["lo"], bounds["hi"]


def scheme_on(person_id: int, on: date) -> str | None:
    """险种 of the person's cover on ``on``: ``"310"`` 职工基本医疗保险, ``"390"`` 城乡居民基本医疗保险, or
    ``None`` when no span covers the day. Spans are half-open ``[start, end)`` and never overlap (one person
    is never in both schemes at once: migration 0002 on PostgreSQL, :func:`enrollment.services.span_validate`
    everywhere), so at most one span answers. Claims choose their rules by it (issue #15)."""
    span = (
        EnrolmentSpan.objects.filter(person_id=person_id, start__lte=on)
        .filter(Q(end__isnull=True) | Q(end__gt=on))
        .order_by("-start")
        .values_list("insutype", flat=True)
        .first()
    )
    return span


# 单位增减员申请 (issue #14): the home page's tiles read these two counts, scoped to the user.
from .requests.selectors import late_registrations_count, open_requests_count  # noqa: E402

__all__ = ["late_registrations_count", "open_requests_count", "person_id_bounds", "scheme_on"]
