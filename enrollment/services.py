"""Writes to the register. Each service validates, then writes in one transaction.

Bad input raises ``django.core.exceptions.ValidationError`` keyed by field, so the
admin and the API show the message next to the field, and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyError

from .calculations.enrolment_checks import (
    DUAL,
    AgeFactMissing,
    employer_registration_deadline,
    enrolment_age_refusal,
    registration_deadline,
    retiree_transfer_refusal,
    scheme_change_start,
)
from .calculations.resident_checks import scheme_clash
from .identifiers import parse_id_number, validate_credit_code
from .models import (
    Category,
    Employer,
    EnrolmentSpan,
    InsuranceStatus,
    InsuredPerson,
    Insutype,
    LifeEvent,
    LifeEventKind,
    ResidentKind,
)


def jurisdiction_get(code: str) -> Jurisdiction:
    try:
        return Jurisdiction.objects.get(code=code)
    except Jurisdiction.DoesNotExist:
        known = ", ".join(Jurisdiction.objects.values_list("code", flat=True))
        raise ValidationError({"jurisdiction": f"未知统筹区 {code!r}；可选：{known}"}) from None


def employer_register(*, credit_code: str, name: str, jurisdiction: str, registered_on: date, **fields) -> Employer:
    """用人单位参保登记."""
    credit_code = credit_code.strip().upper()
    try:
        validate_credit_code(credit_code)
    except ValidationError as exc:
        raise ValidationError({"credit_code": exc.messages}) from None
    employer = Employer(
        credit_code=credit_code,
        name=name,
        jurisdiction=jurisdiction_get(jurisdiction),
        registered_on=registered_on,
        **fields,
    )
    employer_deadline_fill(employer)
    employer.full_clean()
    employer.save()
    return employer


def employer_deadline_fill(employer: Employer) -> None:
    """单位登记时限: the deadline from the founding date (langfang 第七条, ``employers.registration_deadline_days``);
    none without a founding date or where no document sets one. Refuses a registration before the founding."""
    if employer.founded_on is None:
        employer.registration_deadline = None
        return
    if employer.registered_on is not None and employer.registered_on < employer.founded_on:
        raise ValidationError(
            {"registered_on": f"参保登记日期 {employer.registered_on} 早于单位成立日期 {employer.founded_on}。"}
        )
    policy = Policy(employer.jurisdiction.code, employer.founded_on)
    employer.registration_deadline = employer_registration_deadline(policy, employer.founded_on)


def person_derive(person: InsuredPerson) -> None:
    """Fill sex and birth date from the 身份证号; raise a field error if it is invalid."""
    person.id_number = (person.id_number or "").strip().upper()
    try:
        facts = parse_id_number(person.id_number)
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from None
    person.sex, person.birth_date = facts.sex, facts.birth_date


def person_register(*, id_number: str, name: str, **fields) -> InsuredPerson:
    """参保人员建档."""
    person = InsuredPerson(id_number=id_number, name=name, **fields)
    person_derive(person)
    person.full_clean()
    person.save()
    return person


def _is_new_enrolment(span: EnrolmentSpan) -> bool:
    """Whether saving ``span`` enrols someone: a new in-service span, or one whose person, place, category or
    start changed (an end date or a status set on an existing span is not an enrolment)."""
    if span.category == Category.RETIREE:
        return False
    if span.pk is None:
        return True
    fields = ("person_id", "jurisdiction_id", "category", "start")
    before = EnrolmentSpan.objects.filter(pk=span.pk).values(*fields).first()
    now = {
        "person_id": span.person_id,
        "jurisdiction_id": span.jurisdiction_id,
        "category": span.category,
        "start": span.start,
    }
    return before != now


def _age_refusal(span: EnrolmentSpan) -> str | None:
    person = span.person
    return enrolment_age_refusal(
        Policy(span.jurisdiction.code, span.start),
        category=span.category,
        birth_date=person.birth_date,
        sex=person.sex,
        female_role=person.female_role,
        on=span.start,
    )


def span_enrolment_check(span: EnrolmentSpan) -> None:
    """参保登记核查 on every enrolment, whatever the way in (span and life-event screens, employers' requests,
    services): the age rule (hunan 第十六条 with 第二十八条、第二十九条; langfang 第六条), in the words of
    :func:`enrollment.calculations.enrolment_checks.enrolment_age_refusal`, as a field error on ``start``
    (``person`` when a woman's 女干部/女工人 role decides it).

    Where the rule needs a value the document leaves to staff (langfang's legal retirement ages, D-X16) the
    check cannot be made: the enrolment is not refused on a guess, and :func:`enrolment_check_gap` names the
    missing key for the screens to show."""
    if not _is_new_enrolment(span) or span.start is None or span.person_id is None or span.jurisdiction_id is None:
        return
    try:
        refusal = _age_refusal(span)
    except AgeFactMissing as exc:
        raise ValidationError({"person": f"{span.person.name}：{exc}"}) from None
    except PolicyError:
        return
    if refusal:
        raise ValidationError({"start": f"{span.person.name}：{refusal}"})


def enrolment_check_gap(span: EnrolmentSpan) -> str | None:
    """Why the age rule could not be checked for this enrolment (the missing staff-entered key), or ``None``."""
    if span.category == Category.RETIREE:
        return None
    try:
        _age_refusal(span)
    except PolicyError as exc:
        return f"未能核查参保年龄：{exc}"
    except AgeFactMissing:
        return None
    return None


def _dual_rule(span: EnrolmentSpan) -> str:
    """The article forbidding employee and resident insurance at once (hunan 第十六条), where there is one."""
    policy = Policy(span.jurisdiction.code, span.start)
    if policy.value(DUAL, None):
        return f"（{policy.citation(DUAL)}）"
    return ""


def span_validate(span: EnrolmentSpan, *, enrolment: bool = True) -> None:
    """Field-level checks for a span, including the no-overlap rule (一人不得重复参加职工医保) and, for an
    enrolment, the age rule (:func:`span_enrolment_check`; ``enrolment=False`` for a span continuing one
    already open, e.g. the 统账结合 span after a scheme change)."""
    errors: dict[str, str] = {}
    if span.end is not None and span.start is not None and span.end <= span.start:
        errors["end"] = f"结束日期 {span.end} 应晚于开始日期 {span.start}。"
    if span.category == Category.EMPLOYEE and span.employer_id is None:
        errors["employer"] = "在职职工的参保关系必须指定用人单位。"
    if span.category != Category.EMPLOYEE and span.employer_id is not None and span.category != Category.RETIREE:
        errors["employer"] = f"{span.get_category_display()}不应挂靠用人单位。"
    if span.employer_id and span.jurisdiction_id and span.employer.jurisdiction_id != span.jurisdiction_id:
        errors["jurisdiction"] = "参保关系的统筹区应与用人单位所在统筹区一致。"
    resident = span.insutype == Insutype.RESIDENT
    if resident != (span.category == Category.RESIDENT):
        errors["category"] = "城乡居民的参保关系属险种 390，职工各类人员属险种 310。"
    elif resident and span.resident_kind not in ResidentKind.values:
        errors["resident_kind"] = f"须选择居民类型（{'、'.join(ResidentKind.labels)}）。"
    elif not resident and span.resident_kind:
        errors["resident_kind"] = "居民类型仅用于城乡居民（险种 390）。"
    if errors:
        raise ValidationError(errors)
    overlapping = EnrolmentSpan.objects.filter(person_id=span.person_id).exclude(pk=span.pk)
    overlapping = overlapping.filter(Q(end__isnull=True) | Q(end__gt=span.start))
    if span.end is not None:
        overlapping = overlapping.filter(start__lt=span.end)
    clash = overlapping.first()
    if clash is not None:
        period = f"{clash.start}–{clash.end or '至今'}"
        if clash.insutype != span.insutype:  # 一人不得同时参加职工医保和居民医保 (hunan 第十六条)
            message = scheme_clash(
                new_insutype=span.insutype,
                existing_insutype=clash.insutype,
                existing_start=clash.start,
                existing_end=clash.end,
            )
            raise ValidationError({"start": f"{message}{_dual_rule(span)}"})
        raise ValidationError({"start": f"与已有参保关系重叠：{clash.get_category_display()} {period}。"})
    if enrolment:
        span_enrolment_check(span)


@transaction.atomic
def span_open(
    *,
    person: InsuredPerson,
    jurisdiction: str | Jurisdiction,
    category: str,
    start: date,
    employer: Employer | None = None,
    scheme: str | None = None,
    end: date | None = None,
    resident_kind: str = "",
    enrolment: bool = True,
) -> EnrolmentSpan:
    """开始一段参保关系 (checked by :func:`span_validate`; ``enrolment=False``: continues a span, no age check).
    ``category="resident"`` opens a 城乡居民 span (险种 390) of ``resident_kind``."""
    jur = jurisdiction if isinstance(jurisdiction, Jurisdiction) else jurisdiction_get(jurisdiction)
    # Lock the person so two concurrent openings cannot both pass the overlap check.
    InsuredPerson.objects.select_for_update().filter(pk=person.pk).first()
    span = EnrolmentSpan(
        person=person,
        jurisdiction=jur,
        category=category,
        employer=employer,
        scheme=scheme or (employer.scheme if employer else "combined"),
        start=start,
        end=end,
        insutype=Insutype.RESIDENT if category == Category.RESIDENT else Insutype.EMPLOYEE,
        resident_kind=resident_kind,
    )
    span_validate(span, enrolment=enrolment)
    span.full_clean(validate_constraints=False)
    span.save()
    return span


@transaction.atomic
def span_close(*, span: EnrolmentSpan, end: date, status: str = InsuranceStatus.TERMINATED) -> EnrolmentSpan:
    """结束参保关系 (the end date is exclusive)."""
    if end <= span.start:
        raise ValidationError({"end": f"结束日期 {end} 应晚于开始日期 {span.start}。"})
    span.end, span.status = end, status
    span.save(update_fields=["end", "status"])
    return span


@contextmanager
def _as_event_fields() -> Iterator[None]:
    """A span's errors under the life event's fields: its ``start`` is the event's ``occurred_on``."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        names = {"start": "occurred_on", "category": "kind"}
        raise ValidationError({names.get(k, k): v for k, v in exc.message_dict.items()}) from None


def current_span(person: InsuredPerson, on: date) -> EnrolmentSpan | None:
    return (
        EnrolmentSpan.objects.filter(person=person, start__lte=on)
        .filter(Q(end__isnull=True) | Q(end__gt=on))
        .select_related("employer", "jurisdiction")
        .first()
    )


#: 下游重算接口 (a port): apps above the register (benefits: the eligibility timeline) register what they
#: recompute for persons whose spans changed, in their ``AppConfig.ready()``; ``fn(person_ids, as_of)``.
_span_change_listeners: list[Callable[[list[int], date], Mapping[str, int]]] = []


def span_change_listener_register(fn: Callable[[list[int], date], Mapping[str, int]]) -> None:
    if fn not in _span_change_listeners:
        _span_change_listeners.append(fn)


@transaction.atomic
def life_event_record(
    *,
    person: InsuredPerson,
    kind: str,
    occurred_on: date,
    jurisdiction: str | Jurisdiction,
    employer: Employer | None = None,
    months: int | None = None,
    other_region: str = "",
    note: str = "",
    user=None,
    recompute_as_of: date | None = None,
    reported_on: date | None = None,
) -> LifeEvent:
    """Record a life event and apply its effect on the enrolment spans.

    With ``recompute_as_of`` (a screen passes its day) what depends on the spans is recomputed for the
    person in the same transaction (the registered listeners: the eligibility timeline), so the why page
    and claims see the event at once (issue #12 item 7).

    - hire: opens an employee span at the employer from ``occurred_on``;
    - separation, transfer_out, death, imprisonment: close the open span on ``occurred_on``
      (langfang 第二十九条(一): imprisonment stops the relation);
    - retirement: closes the in-service span and opens a retiree span the same day;
    - transfer_in: records the months brought in (used by payment years);
    - deemed_months / military_months: set the person's counts (the event keeps the history);
    - transfer_out of a retiree: refused where the document says retirees do not transfer (hunan 第二十三条);
    - scheme_change: 单建统筹 → 统账结合 once, the new span from the next month (ziyang 第九条(八)).

    ``reported_on``: the day the change was reported (申报日期); a hire or separation then also records
    its registration deadline (hunan 第十七条, langfang 第十条, sanmenxia 第十六条), read by the
    late-registration list. Without it (history loaded from elsewhere) the event is not judged.
    """
    jur = jurisdiction if isinstance(jurisdiction, Jurisdiction) else jurisdiction_get(jurisdiction)
    if kind not in LifeEventKind.values:
        raise ValidationError({"kind": f"未知变动类型 {kind!r}"})
    if kind == LifeEventKind.HIRE and employer is None:
        raise ValidationError({"employer": "入职须指定用人单位。"})
    if (
        kind in (LifeEventKind.TRANSFER_IN, LifeEventKind.DEEMED_MONTHS, LifeEventKind.MILITARY_MONTHS)
        and months is None
    ):
        raise ValidationError({"months": "须填写月数。"})
    deadline = None
    if reported_on is not None and kind in (LifeEventKind.HIRE, LifeEventKind.SEPARATION):
        deadline = registration_deadline(Policy(jur.code, occurred_on), occurred_on)
    event = LifeEvent.objects.create(
        reported_on=reported_on,
        report_deadline=deadline,
        person=person,
        kind=kind,
        occurred_on=occurred_on,
        jurisdiction=jur,
        employer=employer,
        months=months,
        other_region=other_region,
        note=note,
        recorded_by=user if user is not None and user.is_authenticated else None,
    )
    open_span = current_span(person, occurred_on)
    if kind == LifeEventKind.HIRE:
        if open_span is not None and open_span.category != Category.EMPLOYEE:
            span_close(span=open_span, end=occurred_on)
        with _as_event_fields():
            span_open(person=person, jurisdiction=jur, category=Category.EMPLOYEE, start=occurred_on, employer=employer)
    elif kind == LifeEventKind.SCHEME_CHANGE:
        _scheme_change(person, event, open_span, jur, occurred_on)
    elif kind in (
        LifeEventKind.SEPARATION,
        LifeEventKind.TRANSFER_OUT,
        LifeEventKind.DEATH,
        LifeEventKind.IMPRISONMENT,
    ):
        if open_span is None:
            raise ValidationError({"occurred_on": f"{occurred_on} 该人员没有有效的参保关系。"})
        if occurred_on <= open_span.start:
            raise ValidationError({"occurred_on": f"变动日期应晚于参保开始日期 {open_span.start}。"})
        if kind == LifeEventKind.TRANSFER_OUT:
            try:
                refusal = retiree_transfer_refusal(
                    Policy(jur.code, occurred_on), category=open_span.category, on=occurred_on
                )
            except PolicyError as exc:
                raise ValidationError({"kind": str(exc)}) from None
            if refusal:
                raise ValidationError({"kind": refusal})
        span_close(span=open_span, end=occurred_on)
    elif kind == LifeEventKind.RETIREMENT:
        if open_span is not None and occurred_on > open_span.start:
            span_close(span=open_span, end=occurred_on)
        span_open(person=person, jurisdiction=jur, category=Category.RETIREE, start=occurred_on)
    elif kind == LifeEventKind.DEEMED_MONTHS:
        person.deemed_months = months
        person.save(update_fields=["deemed_months"])
    elif kind == LifeEventKind.MILITARY_MONTHS:
        person.military_months = months
        person.save(update_fields=["military_months"])
    if recompute_as_of is not None:
        for listener in _span_change_listeners:
            listener([person.pk], max(recompute_as_of, occurred_on))
    return event


def _scheme_change(person: InsuredPerson, event: LifeEvent, open_span, jur: Jurisdiction, on: date) -> None:
    """参保方式变更 (ziyang 第九条(八)): the 单建统筹 span ends at the end of the month and a 统账结合 span
    follows from the first of the next month; once only."""
    if open_span is None:
        raise ValidationError({"occurred_on": f"{on} 该人员没有有效的参保关系。"})
    changed_before = (
        LifeEvent.objects.filter(person=person, kind=LifeEventKind.SCHEME_CHANGE).exclude(pk=event.pk).exists()
    )
    try:
        start = scheme_change_start(
            Policy(jur.code, on), current=open_span.scheme, target="combined", changed_before=changed_before, on=on
        )
    except PolicyError as exc:
        raise ValidationError({"kind": str(exc)}) from None
    except ValueError as exc:
        raise ValidationError({"kind": str(exc)}) from None
    old_end = open_span.end
    if old_end is not None and old_end <= start:
        raise ValidationError({"occurred_on": f"参保关系于 {old_end} 结束，无需变更参保方式。"})
    span_close(span=open_span, end=start, status=InsuranceStatus.NORMAL)
    span_open(
        person=person,
        jurisdiction=jur,
        category=open_span.category,
        start=start,
        employer=open_span.employer,
        scheme="combined",
        end=old_end,
        enrolment=False,
    )
