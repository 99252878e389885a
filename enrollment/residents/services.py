"""城乡居民参保登记 (险种 390): writes in one transaction each; refusals are field errors, nothing half-written.

- :func:`household_register` — a resident registers a household and is enrolled as its head;
- :func:`member_add` — a family member enrolled in the household (sanmenxia 第二十九条: 农村居民、城镇非从业居民、
  全日制学生 (in the place of study)、学龄前儿童、其他人员);
- :func:`newborn_register` — a newborn covered in the birth year with a parent (sanmenxia 第三十八条).

Every cover is a resident :class:`enrollment.models.EnrolmentSpan` (险种 390); one person is never in both schemes at
once (:func:`enrollment.services.span_validate` and the database constraint of migration 0002).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyError

from .. import services
from ..bounds import date_in_bounds, text_in_bounds
from ..calculations.resident_checks import newborn_cover, student_place_refusal
from ..identifiers import parse_id_number
from ..models import Category, EnrolmentSpan, InsuredPerson, ResidentKind
from .models import Household, HouseholdMember, Relation

#: How far ahead a resident span may start (a product bound: the next benefit year at most).
YEARS_AHEAD = 1


def _person(id_number: str, name: str, *, phone: str = "") -> InsuredPerson:
    """The person of the 身份证号, registered when new; an existing one must carry the same name."""
    id_number = (id_number or "").strip().upper()
    name = text_in_bounds((name or "").strip(), field="name", max_length=50)
    if not name:
        raise ValidationError({"name": "须填写姓名。"})
    existing = InsuredPerson.objects.filter(id_number=id_number).first()
    if existing is not None:
        if existing.name != name:
            raise ValidationError({"name": f"身份证号已登记为“{existing.name}”，与填写的姓名“{name}”不一致。"})
        return existing
    return services.person_register(id_number=id_number, name=name, phone=phone)


def _start_in_bounds(start: date, today: date) -> date:
    return date_in_bounds(start, field="start", latest=date(today.year + YEARS_AHEAD, 12, 31))


def resident_enrol(
    *,
    person: InsuredPerson,
    jurisdiction: Jurisdiction,
    kind: str,
    start: date,
    end: date | None = None,
    study_jurisdiction: str | None = None,
) -> EnrolmentSpan:
    """One resident span (险种 390) after the resident checks: the kind, a student's place of study (第二十九条)."""
    if kind not in ResidentKind.values:
        raise ValidationError({"kind": f"未知居民类型 {kind!r}"})
    try:
        refusal = student_place_refusal(
            Policy(jurisdiction.code, start),
            kind=kind,
            jurisdiction=jurisdiction.code,
            study_jurisdiction=study_jurisdiction,
        )
    except PolicyError as exc:
        raise ValidationError({"kind": str(exc)}) from None
    if refusal:
        raise ValidationError({"study_jurisdiction": refusal})
    return services.span_open(
        person=person, jurisdiction=jurisdiction, category=Category.RESIDENT, start=start, end=end, resident_kind=kind
    )


def _membership(household: Household, person: InsuredPerson, relation: str, joined_on: date) -> HouseholdMember:
    if relation not in Relation.values:
        raise ValidationError({"relation": f"未知关系 {relation!r}"})
    other = HouseholdMember.objects.filter(person=person).select_related("household__head").first()
    if other is not None:
        raise ValidationError({"id_number": f"{person.name} 已是{other.household}的成员，不能重复登记。"})
    return HouseholdMember.objects.create(household=household, person=person, relation=relation, joined_on=joined_on)


@transaction.atomic
def household_register(
    *,
    jurisdiction: Jurisdiction,
    head_id_number: str,
    head_name: str,
    kind: str,
    start: date,
    registered_on: date,
    address: str = "",
    phone: str = "",
    study_jurisdiction: str | None = None,
    user=None,
    today: date | None = None,
) -> Household:
    """居民参保户登记: the head's person record, the household, and the head's resident span from ``start``."""
    today = today or timezone.localdate()
    date_in_bounds(registered_on, field="registered_on", latest=today)
    _start_in_bounds(start, today)
    head = _person(head_id_number, head_name, phone=phone)
    if Household.objects.filter(head=head).exists():
        raise ValidationError({"head_id_number": f"{head.name} 已登记为户主。"})
    household = Household.objects.create(
        jurisdiction=jurisdiction,
        head=head,
        address=text_in_bounds(address or "", field="address", max_length=200),
        registered_on=registered_on,
        created_by=user if user is not None and getattr(user, "is_authenticated", False) else None,
    )
    _membership(household, head, Relation.HEAD, registered_on)
    resident_enrol(
        person=head, jurisdiction=jurisdiction, kind=kind, start=start, study_jurisdiction=study_jurisdiction
    )
    return household


@transaction.atomic
def member_add(
    *,
    household: Household,
    id_number: str,
    name: str,
    relation: str,
    kind: str,
    start: date,
    joined_on: date,
    study_jurisdiction: str | None = None,
    today: date | None = None,
) -> HouseholdMember:
    """户内成员参保登记: a family member's person record, membership and resident span."""
    today = today or timezone.localdate()
    date_in_bounds(joined_on, field="joined_on", latest=today)
    _start_in_bounds(start, today)
    if relation == Relation.HEAD:
        raise ValidationError({"relation": "户主已登记；成员请选择与户主的关系。"})
    person = _person(id_number, name)
    member = _membership(household, person, relation, joined_on)
    resident_enrol(
        person=person,
        jurisdiction=household.jurisdiction,
        kind=kind,
        start=start,
        study_jurisdiction=study_jurisdiction,
    )
    return member


@transaction.atomic
def newborn_register(
    *,
    household: Household,
    id_number: str,
    name: str,
    parents_insured: str,
    registered_on: date,
    today: date | None = None,
) -> HouseholdMember:
    """新生儿参保登记 (sanmenxia 第三十八条): covered from birth to the end of the birth year when the rule allows;
    refused with the article's reason otherwise (the child is then enrolled as a 学龄前儿童 like any member)."""
    today = today or timezone.localdate()
    date_in_bounds(registered_on, field="registered_on", latest=today)
    try:
        birth = parse_id_number((id_number or "").strip().upper()).birth_date
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from None
    if birth > registered_on:
        raise ValidationError({"id_number": f"出生日期 {birth} 晚于登记日期 {registered_on}。"})
    jur = household.jurisdiction
    try:
        decision = newborn_cover(
            Policy(jur.code, birth), birth_date=birth, parents_insured=parents_insured, registered_on=registered_on
        )
    except PolicyError as exc:
        raise ValidationError({"parents_insured": str(exc)}) from None
    except ValueError as exc:
        raise ValidationError({"parents_insured": str(exc)}) from None
    if not decision.covered:
        raise ValidationError({"parents_insured": decision.reason})
    person = _person(id_number, name)
    member = _membership(household, person, Relation.CHILD, registered_on)
    services.span_open(
        person=person,
        jurisdiction=jur,
        category=Category.RESIDENT,
        start=decision.start,
        end=decision.end,
        resident_kind=ResidentKind.NEWBORN,
    )
    return member
