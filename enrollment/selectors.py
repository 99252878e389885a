"""Reads of the register shared by other apps and by batch jobs."""

from __future__ import annotations

from django.db.models import Max, Min

from .models import InsuredPerson


def person_id_bounds() -> tuple[int | None, int | None]:
    """Smallest and largest 参保人员 id: the id source of every batch job that works per person."""
    bounds = InsuredPerson.objects.aggregate(lo=Min("id"), hi=Max("id"))
    return bounds["lo"], bounds["hi"]


# 单位增减员申请 (issue #14): the home page's tiles read these two counts, scoped to the user.
from .requests.selectors import late_registrations_count, open_requests_count  # noqa: E402

__all__ = ["late_registrations_count", "open_requests_count", "person_id_bounds"]
