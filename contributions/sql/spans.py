"""Which jurisdictions a chunk holds, and the span a person is billed on in a window."""

from __future__ import annotations

from enrollment.models import EnrolmentSpan
from policy.models import Jurisdiction

from .dialect import (
    q,
    t,
)


def jurisdiction_id(code: str) -> int:
    return Jurisdiction.objects.values_list("pk", flat=True).get(code=code)


def jurisdictions_in_range(lo: int, hi: int) -> list[str]:
    """Codes of the jurisdictions that have enrolment spans of persons in ``[lo, hi)``."""
    ids = (
        EnrolmentSpan.objects.filter(person_id__gte=lo, person_id__lt=hi)
        .order_by()  # the model's ordering would make DISTINCT return one row per span
        .values_list("jurisdiction_id", flat=True)
        .distinct()
    )
    return list(Jurisdiction.objects.filter(pk__in=list(ids)).order_by("code").values_list("code", flat=True))


# --- the span a person is billed on ----------------------------------------------------------


def _latest_span_sql(w_from: str, w_to: str) -> str:
    """Spans of the chunk that overlap ``[w_from, w_to)`` and are the person's latest starting one there."""
    S = t(EnrolmentSpan)
    start, end = q("start"), q("end")
    return f"""
        s.person_id >= %(lo)s AND s.person_id < %(hi)s
        AND s.{start} < {w_to} AND (s.{end} IS NULL OR s.{end} > {w_from})
        AND NOT EXISTS (
            SELECT 1 FROM {S} s2
            WHERE s2.person_id = s.person_id AND s2.person_id >= %(lo)s AND s2.person_id < %(hi)s
              AND s2.{start} < {w_to} AND (s2.{end} IS NULL OR s2.{end} > {w_from})
              AND (s2.{start} > s.{start} OR (s2.{start} = s.{start} AND s2.id > s.id))
        )"""
