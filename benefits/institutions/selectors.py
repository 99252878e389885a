"""Reads of the register: the facts :func:`benefits.institutions.rules.institution_on` takes, for a set of ids."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from .models import Agreement, Institution, InstitutionRating
from .rules import AgreementFacts, RatingFacts, RegisterFacts


def registers_of(institution_ids: Iterable[int]) -> dict[int, RegisterFacts]:
    """Institution id → its register facts (ratings and agreements): three queries for any number of ids."""
    ids = sorted({i for i in institution_ids if i})
    if not ids:
        return {}
    ratings: dict[int, list[RatingFacts]] = defaultdict(list)
    for row in InstitutionRating.objects.filter(institution_id__in=ids):
        ratings[row.institution_id].append(RatingFacts.of(row))
    agreements: dict[int, list[AgreementFacts]] = defaultdict(list)
    for row in Agreement.objects.filter(institution_id__in=ids):
        agreements[row.institution_id].append(AgreementFacts.of(row))
    return {
        inst.pk: RegisterFacts(
            inst.fixmedins_code, inst.name, inst.kind, tuple(ratings[inst.pk]), tuple(agreements[inst.pk])
        )
        for inst in Institution.objects.filter(pk__in=ids).only("pk", "fixmedins_code", "name", "kind")
    }


def ids_by_code(codes: Iterable[str]) -> dict[str, int]:
    """定点医药机构编码 → institution id, for the codes the register knows."""
    return dict(Institution.objects.filter(fixmedins_code__in=set(codes)).values_list("fixmedins_code", "pk"))
