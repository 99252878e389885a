"""Reads of resident collection (险种 390) for the screens and for benefits (resident cover needs the year paid)."""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from enrollment.models import EnrolmentSpan, Insutype, ResidentKind

from .models import ResidentDue


def resident_paid_for(person_id: int, benefit_year: int) -> bool:
    """Whether the yearly contribution for ``benefit_year`` is paid in full (缴费次年享受, sanmenxia 第三十一条)."""
    return ResidentDue.objects.filter(person_id=person_id, benefit_year=benefit_year, settled_on__isnull=False).exists()


def resident_covered_on(person_id: int, on: date) -> bool:
    """居民医保待遇 on ``on``: a resident span (险种 390) covers the day and either it is a newborn's birth-year cover
    (第三十八条, no contribution) or the year's contribution is paid."""
    span = (
        EnrolmentSpan.objects.filter(person_id=person_id, insutype=Insutype.RESIDENT, start__lte=on)
        .filter(Q(end__isnull=True) | Q(end__gt=on))
        .values_list("resident_kind", flat=True)
        .first()
    )
    if span is None:
        return False
    return span == ResidentKind.NEWBORN or resident_paid_for(person_id, on.year)
