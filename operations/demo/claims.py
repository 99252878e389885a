"""演示报销: claims of every kind for the demo's insured persons in the last three months (issue #19 item 7).

Each jurisdiction gets inpatient stays at its registered hospitals (两定机构), outpatient visits and a
birth, entered as a case worker would and put through the same adjudication as any claim
(:func:`benefits.claims.services.claim_adjudicate`): what the rules settle is settled and posted, what they
refuse is refused with the article, and where a value is still to be entered by staff the claim stays a
draft naming it — a trainee sees all three.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from benefits.claims.models import Claim, ClaimStatus, MedType
from benefits.claims.services import ClaimError, claim_adjudicate, claim_business_key
from benefits.institutions.models import Institution
from enrollment.models import InsuredPerson, Sex
from policy.models import Jurisdiction

#: (med_type, days in hospital or None for a visit, total, within the policy scope) — plausible demo amounts.
STAYS = (
    (MedType.INPATIENT, 8, Decimal("12800.00"), Decimal("11350.00")),
    (MedType.INPATIENT, 5, Decimal("6420.50"), Decimal("5980.00")),
    (MedType.INPATIENT, 14, Decimal("38600.00"), Decimal("33120.00")),
    (MedType.OUTPATIENT, None, Decimal("386.40"), Decimal("352.00")),
    (MedType.OUTPATIENT, None, Decimal("1250.00"), Decimal("1108.00")),
)


def _persons(jur: Jurisdiction, n: int, *, female: bool = False) -> list[InsuredPerson]:
    persons = InsuredPerson.objects.filter(spans__jurisdiction=jur, spans__end__isnull=True)
    if female:
        persons = persons.filter(sex=Sex.FEMALE)
    return list(persons.distinct().order_by("id")[:n])


def demo_claims(today: date, log: Callable[[str], None] = print) -> Counter:
    """Enter and adjudicate the demo's claims (only when there are none); returns counts by status."""
    counts: Counter = Counter()
    if Claim.objects.exists():
        return counts
    for jur in Jurisdiction.objects.order_by("code"):
        hospitals = list(
            Institution.objects.filter(jurisdiction=jur, kind__in=("hospital", "grassroots")).order_by("fixmedins_code")
        )
        claims = []
        people = _persons(jur, len(STAYS))
        for i, (person, (med_type, days, total, scope)) in enumerate(zip(people, STAYS, strict=False)):
            start = today - timedelta(days=20 + 13 * i)
            hospital = hospitals[i % len(hospitals)] if hospitals else None
            claims.append(
                Claim.objects.create(
                    business_key=claim_business_key(start),
                    person=person,
                    jurisdiction=jur,
                    med_type=med_type,
                    start_date=start,
                    end_date=start + timedelta(days=days) if days else None,
                    institution=hospital,
                    hospital_level="" if hospital else "level2",
                    medfee_sumamt=total,
                    inscp_scp_amt=scope,
                )
            )
        for person in _persons(jur, 1, female=True):  # a birth (natural delivery)
            start = today - timedelta(days=35)
            claims.append(
                Claim.objects.create(
                    business_key=claim_business_key(start),
                    person=person,
                    jurisdiction=jur,
                    med_type=MedType.MATERNITY_INPATIENT,
                    start_date=start,
                    end_date=start + timedelta(days=3),
                    institution=hospitals[0] if hospitals else None,
                    hospital_level="" if hospitals else "level2",
                    medfee_sumamt=Decimal("4680.00"),
                    inscp_scp_amt=Decimal("4310.00"),
                    maternity_event="natural",
                    babies=1,
                )
            )
        for claim in claims:
            try:
                claim = claim_adjudicate(claim, as_of=today)
            except ClaimError:
                claim.refresh_from_db()
            counts[claim.status] += 1
    labels = dict(ClaimStatus.choices)
    words = "，".join(f"{labels.get(status, status)} {n} 笔" for status, n in sorted(counts.items()))
    log(f"  演示报销（住院、门诊、生育）：{words}")
    return counts
