"""演示报销: claims of every kind for the demo's insured persons in the last three months (issue #19 item 7).

Each jurisdiction gets inpatient stays at its registered hospitals (两定机构), outpatient visits and a
birth, entered as a case worker would and put through the same adjudication as any claim
(:func:`benefits.claims.services.claim_adjudicate`): what the rules settle is settled and posted, what they
refuse is refused with the article, and where a value is still to be entered by staff the claim stays a
draft naming it — a trainee sees all three.

Residents (城乡居民医保, 险种 390; issue #15) get their claims after their households and yearly contributions
exist (:func:`demo_resident_claims`): the same adjudication picks the resident rules by the person's scheme on
the first day of care and posts to the resident fund's own accounts (xianning 办法 四(三)).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from benefits.claims.models import Claim, ClaimStatus, MedType
from benefits.claims.services import ClaimError, claim_adjudicate, claim_business_key
from benefits.institutions.models import Institution
from enrollment.models import Household, HouseholdMember, InsuredPerson, Sex
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


def _adjudicate(claims: list[Claim], today: date, counts: Counter) -> None:
    """Each claim through the ordinary 审核结算; a value staff must enter leaves it a draft naming the key."""
    for claim in claims:
        try:
            claim = claim_adjudicate(claim, as_of=today)
        except ClaimError:
            claim.refresh_from_db()
        counts[claim.status] += 1


def _words(counts: Counter) -> str:
    labels = dict(ClaimStatus.choices)
    return "，".join(f"{labels.get(status, status)} {n} 笔" for status, n in sorted(counts.items()))


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
        _adjudicate(claims, today, counts)
    log(f"  演示报销（住院、门诊、生育）：{_words(counts)}")
    return counts


#: The resident claims (险种 390): sanmenxia, whose chapter 4 gives the figures (第三十三条 住院, 第三十七条 住院分娩),
#: settles them; hunan gives no resident figures, so its stay stays a draft naming the key staff must enter.
#: (jurisdiction, relation to the head in 居民甲's household, med_type, institution code, days, total, scope,
#: maternity event)
RESIDENT_CLAIMS = (
    ("sanmenxia", "head", MedType.INPATIENT, "H41120200002", 7, Decimal("10850.00"), Decimal("9600.00"), ""),
    ("sanmenxia", "spouse", MedType.MATERNITY_INPATIENT, "H41120200001", 5, Decimal("5200.00"), Decimal("4860.00"),
     "caesarean"),
    ("hunan", "head", MedType.INPATIENT, "H43010200001", 6, Decimal("8300.00"), Decimal("7420.00"), ""),
)  # fmt: skip
RESIDENT_HEAD = "居民甲"


def _span_in_one_year(end: date, days: int) -> tuple[date, date]:
    """[start, end] of a stay ending on ``end``, cut at 1 January: a resident's stay is entered per year."""
    return max(end - timedelta(days=days), date(end.year, 1, 1)), end


def demo_resident_claims(today: date, log: Callable[[str], None] = print) -> Counter:
    """Enter and adjudicate the residents' demo claims (a stay and a birth in sanmenxia, a stay in hunan that
    names the missing resident value) once the households exist; only when no resident has a claim yet."""
    counts: Counter = Counter()
    if Claim.objects.filter(person__household_membership__isnull=False).exists():
        return counts
    claims = []
    for n, (code, who, med_type, inst_code, days, total, scope, event) in enumerate(RESIDENT_CLAIMS):
        household = Household.objects.filter(jurisdiction__code=code, head__name=RESIDENT_HEAD).first()
        institution = Institution.objects.filter(fixmedins_code=inst_code).first()
        member = HouseholdMember.objects.filter(household=household, relation=who).select_related("person").first()
        if member is None or institution is None:
            continue
        start, end = _span_in_one_year(today - timedelta(days=25 + 11 * n), days)
        claims.append(
            Claim.objects.create(
                business_key=claim_business_key(start),
                person=member.person,
                jurisdiction=household.jurisdiction,
                med_type=med_type,
                start_date=start,
                end_date=end,
                institution=institution,
                hospital_level="",
                medfee_sumamt=total,
                inscp_scp_amt=scope,
                maternity_event=event,
            )
        )
    _adjudicate(claims, today, counts)
    if counts:
        log(f"  演示居民报销（住院、住院分娩，居民医保基金支付）：{_words(counts)}")
    return counts
