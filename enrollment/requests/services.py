"""单位增减员申请的办理: submit, 受理 → 审核 → 办结 (applied through the register's services) or 退回.

Every function validates first and writes in one transaction; bad input raises ``ValidationError`` keyed
by field, and nothing is written. The checks run when the employer submits and again, inside the approval's
transaction, when the case worker closes the request (the register may have changed meanwhile).

Requests of a kind the register cannot apply by itself (a wage change: contributions, above this app) are
applied by what the upper app registers with :func:`request_applier_register` in its ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from policy.resolver import Policy, PolicyError

from .. import services as register
from ..bounds import (
    ATTACHMENT_TYPES,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_MONTHLY_WAGE,
    MAX_REASON_LENGTH,
    amount_in_bounds,
    date_in_bounds,
    normalise_identifier,
    text_in_bounds,
)
from ..calculations.enrolment_checks import (
    AgeFactMissing,
    SpanFact,
    dual_enrolment,
    enrolment_age_refusal,
    registration_deadline,
)
from ..identifiers import parse_id_number
from ..models import Category, Employer, EnrolmentSpan, FemaleRole, InsuredPerson, LifeEventKind
from .models import OPEN_STATES, EmployerRequest, RequestAttachment, RequestKind, RequestSource, RequestState

#: Appliers registered by apps above the register: ``fn(request, user, on) -> None`` by request kind.
_appliers: dict[str, Callable[[EmployerRequest, object, date], None]] = {}


def request_applier_register(kind: str, fn: Callable[[EmployerRequest, object, date], None]) -> None:
    _appliers[kind] = fn


@dataclass
class RequestInput:
    """One request as typed on the screen or read from a file row (already parsed to Python values)."""

    kind: str
    id_number: str
    name: str
    occurred_on: date | None
    female_role: str = ""
    phone: str = ""
    monthly_wage: Decimal | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)


# --- checks ----------------------------------------------------------------------------------------------


def _span_at(person: InsuredPerson, on: date) -> EnrolmentSpan | None:
    return register.current_span(person, on)


def _open_or_later_spans(person: InsuredPerson, on: date):
    return person.spans.filter(Q(end__isnull=True) | Q(end__gt=on)).select_related("employer")


def request_check(employer: Employer, data: RequestInput, *, on: date, exclude_pk: int | None = None) -> dict:
    """Validate one request of ``employer`` reported on ``on``. Returns the facts the request keeps
    (``person``, ``id_number``, ``report_deadline``); raises ``ValidationError`` by field otherwise."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if data.kind not in RequestKind.values:
        raise ValidationError({"kind": f"未知申请类型 {data.kind!r}。"})
    id_number = normalise_identifier(data.id_number)
    try:
        facts = parse_id_number(id_number)
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from None
    name = (data.name or "").strip()
    if not name:
        add("name", "请填写姓名。")
    for fname, value, limit in (("name", name, 50), ("phone", data.phone, 20), ("note", data.note, MAX_REASON_LENGTH)):
        try:
            text_in_bounds(value or "", field=fname, max_length=limit)
        except ValidationError as exc:
            for k, v in exc.message_dict.items():
                add(k, v[0])
    if data.female_role and data.female_role not in FemaleRole.values:
        add("female_role", f"女职工身份只能是：{'、'.join(FemaleRole.labels)}。")
    if data.occurred_on is None:
        add("occurred_on", "请填写变动日期。")
    else:
        try:
            date_in_bounds(data.occurred_on, field="occurred_on", latest=on)
        except ValidationError as exc:
            add("occurred_on", exc.message_dict["occurred_on"][0])
    if data.monthly_wage is not None:
        try:
            amount_in_bounds(data.monthly_wage, field="monthly_wage", maximum=MAX_MONTHLY_WAGE, allow_zero=False)
        except ValidationError as exc:
            add("monthly_wage", exc.message_dict["monthly_wage"][0])
    if data.kind == RequestKind.WAGE_CHANGE and data.monthly_wage is None:
        add("monthly_wage", "工资变更须填写月工资。")
    if data.kind == RequestKind.CORRECTION and not (data.phone or data.female_role or name):
        add("note", "信息更正须填写更正后的姓名、联系电话或女职工身份。")
    if errors:
        raise ValidationError(errors)

    duplicate = EmployerRequest.objects.filter(
        employer=employer, kind=data.kind, id_number=id_number, state__in=OPEN_STATES
    ).exclude(pk=exclude_pk)
    first = duplicate.first()
    if first is not None:
        raise ValidationError({"id_number": f"该人员已有相同类型的待办申请（编号 {first.pk}），请勿重复申报。"})

    occurred = data.occurred_on
    person = InsuredPerson.objects.filter(id_number=id_number).first()
    if person is not None and person.name != name and data.kind != RequestKind.CORRECTION:
        add("name", "姓名与该身份证号登记的姓名不一致；如需更正请提交信息更正申请。")
    policy = Policy(employer.jurisdiction.code, occurred)
    if data.kind == RequestKind.HIRE:
        if person is not None:
            for span in _open_or_later_spans(person, occurred):
                if span.employer_id == employer.pk:
                    add("id_number", f"该人员已在本单位参保（自 {span.start} 起），无需重复增员。")
                elif span.category == Category.RETIREE:
                    add("id_number", "该人员为退休人员，不能作为在职职工增员。")
                else:
                    # the other employer is not named: an employer user sees only its own people
                    add("id_number", "该人员在变动日期已在其他单位或以其他身份参保，须先由原单位办理减员或转移。")
                break
        female_role = data.female_role or (person.female_role if person else "")
        try:
            refusal = enrolment_age_refusal(
                policy,
                category=Category.EMPLOYEE,
                birth_date=facts.birth_date,
                sex=facts.sex,
                female_role=female_role,
                on=occurred,
            )
        except AgeFactMissing as exc:
            add("female_role", str(exc))
            refusal = None
        except PolicyError as exc:
            add("occurred_on", str(exc))
            refusal = None
        if refusal:
            add("occurred_on", refusal)
    else:
        if person is None:
            raise ValidationError({"id_number": "该人员未在本系统参保登记，请先办理增员。"})
        span = _span_at(person, occurred)
        if span is None or span.employer_id != employer.pk:
            ever_here = person.spans.filter(employer=employer).exists()
            if not ever_here:
                add("id_number", "该人员不是本单位的参保职工，不能为其申报。")
            elif data.kind == RequestKind.SEPARATION:
                add("occurred_on", f"{occurred} 该人员不在本单位参保（停保日期早于增员或晚于已有的减员）。")
            else:
                add("occurred_on", f"{occurred} 该人员不在本单位参保。")
        elif data.kind == RequestKind.SEPARATION and occurred <= span.start:
            add("occurred_on", f"停保日期应晚于参保开始日期 {span.start}（不能在增员之前减员）。")
    if errors:
        raise ValidationError(errors)
    deadline = None
    if data.kind in (RequestKind.HIRE, RequestKind.SEPARATION):
        deadline = registration_deadline(policy, occurred)
    return {"person": person, "id_number": id_number, "name": name, "report_deadline": deadline}


def request_flags(req: EmployerRequest) -> list[str]:
    """核查提示 for the case worker: late report, employee and resident insurance at once (hunan 第十六条)."""
    flags = []
    if req.is_late:
        flags.append(f"逾期申报：登记时限 {req.report_deadline}，申报于 {req.submitted_on}。")
    person = req.person or InsuredPerson.objects.filter(id_number=req.id_number).first()
    if person is not None:
        spans = [SpanFact(s.insutype, s.start, s.end) for s in person.spans.all()]
        if req.kind == RequestKind.HIRE:
            spans.append(SpanFact("310", req.occurred_on, None))
        try:
            flag = dual_enrolment(Policy(req.jurisdiction.code, req.occurred_on), spans)
        except PolicyError:
            flag = None
        if flag:
            flags.append(flag)
    return flags


# --- submit ----------------------------------------------------------------------------------------------


@transaction.atomic
def request_submit(
    *,
    employer: Employer,
    data: RequestInput,
    on: date,
    user=None,
    source: str = RequestSource.SCREEN,
    attachments: list[UploadedFile] = (),
) -> EmployerRequest:
    """单位提交一笔增减员申请 on ``on`` (the day of submission, recorded as the day it was reported)."""
    facts = request_check(employer, data, on=on)
    for upload in attachments:
        attachment_check(upload)
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationError({"attachments": f"附件最多 {MAX_ATTACHMENTS} 个。"})
    req = EmployerRequest.objects.create(
        employer=employer,
        jurisdiction_id=employer.jurisdiction_id,
        kind=data.kind,
        id_number=facts["id_number"],
        name=facts["name"],
        female_role=data.female_role or "",
        phone=data.phone or "",
        occurred_on=data.occurred_on,
        monthly_wage=data.monthly_wage,
        note=data.note or "",
        person=facts["person"],
        source=source,
        submitted_on=on,
        submitted_at=timezone.now(),
        submitted_by=user if user is not None and user.is_authenticated else None,
        report_deadline=facts["report_deadline"],
    )
    for upload in attachments:
        attachment_add(req, upload, user=user)
    return req


def attachment_check(upload: UploadedFile) -> None:
    """Size and type bounds of an attachment: PDF, JPEG or PNG by name and by its first bytes."""
    name = Path(upload.name or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in ATTACHMENT_TYPES:
        raise ValidationError({"attachments": f"附件 {name} 的类型不允许：只接受 PDF、JPG、PNG。"})
    if upload.size is None or upload.size == 0:
        raise ValidationError({"attachments": f"附件 {name} 是空文件。"})
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"attachments": f"附件 {name} 超过 {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB。"})
    if len(name) > 120:
        raise ValidationError({"attachments": "附件文件名过长（不超过120个字符）。"})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not head.startswith(ATTACHMENT_TYPES[suffix]):
        raise ValidationError({"attachments": f"附件 {name} 的内容与扩展名 {suffix} 不符。"})


@transaction.atomic
def attachment_add(req: EmployerRequest, upload: UploadedFile, *, user=None) -> RequestAttachment:
    attachment_check(upload)
    if not req.is_open:
        raise ValidationError({"attachments": "申请已办结或退回，不能再添加附件。"})
    if req.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationError({"attachments": f"附件最多 {MAX_ATTACHMENTS} 个。"})
    name = Path(upload.name).name
    attachment = RequestAttachment(
        request=req,
        original_name=name,
        size=upload.size,
        uploaded_by=user if user is not None and user.is_authenticated else None,
    )
    attachment.file.save(name, upload, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment


# --- the queue ---------------------------------------------------------------------------------------------


def _move(req: EmployerRequest, allowed: tuple[str, ...], target: str, what: str) -> EmployerRequest:
    locked = EmployerRequest.objects.select_for_update().get(pk=req.pk)
    if locked.state not in allowed:
        raise ValidationError({"state": f"申请当前为“{locked.get_state_display()}”，不能{what}。"})
    return locked


@transaction.atomic
def request_accept(req: EmployerRequest, *, user) -> EmployerRequest:
    """受理."""
    req = _move(req, (RequestState.SUBMITTED,), RequestState.ACCEPTED, "受理")
    req.state, req.accepted_at, req.handled_by = RequestState.ACCEPTED, timezone.now(), user
    req.save(update_fields=["state", "accepted_at", "handled_by"])
    return req


@transaction.atomic
def request_review(req: EmployerRequest, *, user) -> EmployerRequest:
    """审核通过 (checked against the register again)."""
    req = _move(req, (RequestState.ACCEPTED,), RequestState.REVIEWED, "审核")
    request_check(req.employer, _input_of(req), on=req.submitted_on, exclude_pk=req.pk)
    req.state, req.reviewed_at, req.handled_by = RequestState.REVIEWED, timezone.now(), user
    req.save(update_fields=["state", "reviewed_at", "handled_by"])
    return req


@transaction.atomic
def request_return(req: EmployerRequest, *, user, reason: str) -> EmployerRequest:
    """退回 with the reason the employer sees."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"return_reason": "退回须填写原因。"})
    text_in_bounds(reason, field="return_reason", max_length=MAX_REASON_LENGTH)
    req = _move(req, OPEN_STATES, RequestState.RETURNED, "退回")
    req.state, req.return_reason, req.closed_at, req.handled_by = (
        RequestState.RETURNED,
        reason,
        timezone.now(),
        user,
    )
    req.save(update_fields=["state", "return_reason", "closed_at", "handled_by"])
    return req


def _input_of(req: EmployerRequest) -> RequestInput:
    return RequestInput(
        kind=req.kind,
        id_number=req.id_number,
        name=req.name,
        occurred_on=req.occurred_on,
        female_role=req.female_role,
        phone=req.phone,
        monthly_wage=req.monthly_wage,
        note=req.note,
    )


def _record(req: EmployerRequest, person: InsuredPerson, kind: str, jurisdiction, *, user, on: date):
    """The request's 参保/停保 as a life event through the register's service, reported on the submission date."""
    return register.life_event_record(
        person=person,
        kind=kind,
        occurred_on=req.occurred_on,
        jurisdiction=jurisdiction,
        employer=req.employer,
        note=f"增减员申请 {req.pk}",
        user=user,
        recompute_as_of=on,
        reported_on=req.submitted_on,
    )


@transaction.atomic
def request_approve(req: EmployerRequest, *, user, on: date) -> EmployerRequest:
    """办结: apply the request through the register's services in this one transaction.

    hire → 参保人员建档 (if new) and a 入职 life event (opens the span; wage, if given, declared by the
    registered applier); separation → a 离职 life event (closes the span); wage change → the registered
    applier (contributions: 工资申报); correction → the person's 姓名/电话/女职工身份 (history kept).
    """
    req = _move(req, (RequestState.REVIEWED,), RequestState.DONE, "办结")
    facts = request_check(req.employer, _input_of(req), on=req.submitted_on, exclude_pk=req.pk)
    person = facts["person"]
    event = None
    jurisdiction = req.employer.jurisdiction
    if req.kind == RequestKind.HIRE:
        if person is None:
            person = register.person_register(
                id_number=req.id_number, name=req.name, female_role=req.female_role, phone=req.phone
            )
        elif req.female_role and not person.female_role:
            person.female_role = req.female_role
            person.save(update_fields=["female_role"])
        req.person = person
        event = _record(req, person, LifeEventKind.HIRE, jurisdiction, user=user, on=on)
        if req.monthly_wage is not None and RequestKind.WAGE_CHANGE in _appliers:
            _appliers[RequestKind.WAGE_CHANGE](req, user, on)
    elif req.kind == RequestKind.SEPARATION:
        event = _record(req, person, LifeEventKind.SEPARATION, jurisdiction, user=user, on=on)
    elif req.kind == RequestKind.WAGE_CHANGE:
        applier = _appliers.get(RequestKind.WAGE_CHANGE)
        if applier is None:
            raise ValidationError({"kind": "工资变更的办理未启用（征缴模块未加载）。"})
        applier(req, user, on)
    elif req.kind == RequestKind.CORRECTION:
        changed = []
        for name in ("name", "phone", "female_role"):
            value = getattr(req, name)
            if value and getattr(person, name) != value:
                setattr(person, name, value)
                changed.append(name)
        if changed:
            person.full_clean(exclude=["id_number"])
            person.save(update_fields=changed)
    req.person = person
    req.state, req.closed_at, req.handled_by, req.event = RequestState.DONE, timezone.now(), user, event
    req.save(update_fields=["person", "state", "closed_at", "handled_by", "event"])
    return req


def parse_wage(value) -> Decimal | None:
    """A wage typed on a form or read from a cell, refused (not rounded) when it is not a number."""
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError({"monthly_wage": f"月工资 {value!r} 不是数字。"}) from None


class FileErrors(Exception):
    """The rows of a file that cannot be submitted, as row-and-field messages; nothing was submitted."""

    def __init__(self, errors: list):
        super().__init__(f"{len(errors)} 处错误")
        self.errors = errors


@transaction.atomic
def requests_submit_file(
    *, employer: Employer, data: bytes, name: str, on: date, user=None, source: str = RequestSource.FILE
) -> list[EmployerRequest]:
    """文件批量申报: every row checked; any bad row (or a row repeating another) and nothing is submitted.

    ``source``: 文件批量申报 (a file on the screen) or 接口申报 (the same rows posted to the API).
    Raises :class:`enrollment.requests.files.FileRejected` for a file that cannot be read and
    :class:`FileErrors` listing each bad row's field and message.
    """
    from .files import RowError, parse_row, read_rows

    rows = read_rows(data, name)
    errors: list[RowError] = []
    inputs: list[RequestInput] = []
    seen: dict[tuple[str, str], int] = {}
    for number, cells in rows:
        parsed, row_errors = parse_row(number, cells)
        errors += row_errors
        if parsed is None:
            continue
        try:
            request_check(employer, parsed, on=on)
        except ValidationError as exc:
            for fname, messages in exc.message_dict.items():
                errors += [RowError(number, fname, m) for m in messages]
            continue
        key = (parsed.kind, normalise_identifier(parsed.id_number))
        if key in seen:
            errors.append(RowError(number, "id_number", f"与第 {seen[key]} 行重复（同一人员、同一申请类型）。"))
            continue
        seen[key] = number
        inputs.append(parsed)
    if errors:
        raise FileErrors(errors)
    return [request_submit(employer=employer, data=d, on=on, user=user, source=source) for d in inputs]
