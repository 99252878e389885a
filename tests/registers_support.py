"""Test support: register rows a claim is checked against (issue #17), written directly."""

from __future__ import annotations

from datetime import date

from benefits.registers.models import CertificationStatus, ChronicCertification
from policy.models import Jurisdiction


def certify(
    person, jurisdiction: str, disease_class: int | None = None, *, valid_from=date(2023, 1, 1), valid_until=None
) -> ChronicCertification:
    """An approved 门诊慢特病 certification (鉴定、核准 done) valid over ``[valid_from, valid_until)``."""
    return ChronicCertification.objects.create(
        person=person,
        jurisdiction=Jurisdiction.objects.get(code=jurisdiction),
        disease_code=f"T{disease_class or 0}",
        disease_name=f"测试病种{disease_class or ''}",
        disease_class=disease_class,
        applied_on=valid_from,
        assessed_on=valid_from,
        approved_on=valid_from,
        valid_from=valid_from,
        valid_until=valid_until,
        institution_code="H00000000001",
        status=CertificationStatus.APPROVED,
    )
