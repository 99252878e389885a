"""Reads of the registers, set-wise: the facts a chunk of claims is checked against, in two queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from .calculations.rules import CertificationFact, FilingFact, RegisterFacts
from .models import CertificationStatus, ChronicCertification, OutOfAreaFiling


def register_facts(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], RegisterFacts]:
    """(person_id, jurisdiction_id) → the person's filings (not cancelled before they started) and approved
    certifications in that jurisdiction; every pair asked for is in the answer (empty registers)."""
    pairs = set(pairs)
    filings: dict[tuple[int, int], list[FilingFact]] = defaultdict(list)
    certs: dict[tuple[int, int], list[CertificationFact]] = defaultdict(list)
    persons = {p for p, _ in pairs}
    if persons:
        for row in (
            OutOfAreaFiling.objects.filter(person_id__in=persons)
            .order_by("person_id", "start", "id")
            .values("person_id", "jurisdiction_id", "kind", "start", "end", "filed_on", "place")
        ):
            key = (row["person_id"], row["jurisdiction_id"])
            if key in pairs:
                # a replaced or cancelled filing was in force until its end (set on the change or cancellation)
                filings[key].append(
                    FilingFact(row["kind"], row["start"], row["end"], row["filed_on"], True, row["place"])
                )
        for c in ChronicCertification.objects.filter(
            person_id__in=persons, status=CertificationStatus.APPROVED, valid_from__isnull=False
        ).order_by("person_id", "valid_from", "id"):
            key = (c.person_id, c.jurisdiction_id)
            if key in pairs:
                certs[key].append(
                    CertificationFact(
                        c.disease_code,
                        c.disease_name,
                        c.disease_class,
                        c.valid_from,
                        c.valid_until,
                        c.institution_code,
                        c.carried_over_year,
                        c.carried_over_paid,
                    )
                )
    return {k: RegisterFacts(tuple(filings[k]), tuple(certs[k])) for k in pairs}
