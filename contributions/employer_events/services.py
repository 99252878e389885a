"""用人单位变动的办理: one event applied in one transaction (合并、分立、转制、破产、关闭注销).

:func:`employer_event_apply` checks the event (bad inputs are refused with a field message and change nothing),
then, set-wise:

- 合并、转制 (merger, transfer): every employee of the predecessor moves to the successor (the span at the
  predecessor ends on the event date, a span at the successor starts that day), the predecessor's unpaid dues and
  late fees are re-attributed to the successor in one UPDATE, each move kept in ``EmployerEventDueMove`` (the
  audit trail; the late fee keeps accruing on the same due rows, now the successor's), and the predecessor's
  registration ends (langfang 第二十七条, sanmenxia 第二十条, ziyang 第三十六条(五));
- 分立 (split): the same for the persons named, the predecessor continues;
- 破产、关闭注销 (bankruptcy, closure): the arrears still owed are recorded for settlement (hunan 第二十四条,
  langfang 第二十八条), the employees' spans end, the retirees are handed to the trustee unit (langfang 第二十八条;
  required there), and the one-off reserve for ten years of retirees is billed (hunan 第二十四条 for state-owned
  and collective firms, sanmenxia 第二十条 with 退职 persons counted) and posted to the ledger through the poster
  the funds app plugs in (:func:`ledger_poster_register`, no upward import).

Whatever depends on spans and dues (the eligibility timeline) sees the change through the database triggers
(``benefits_eligibilityinputchange``) and the registered span listeners.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from batch.bulk import insert_dicts
from batch.history import history_record
from enrollment.models import Category, Employer, EmployerStatus, EnrolmentSpan, InsuranceStatus, InsuredPerson
from enrollment.services import _span_change_listeners
from policy.resolver import Policy, PolicyError

from ..models import MonthlyDue
from . import calculations as rules
from .models import (
    SUCCESSION_KINDS,
    EmployerEvent,
    EmployerEventDueMove,
    EmployerEventKind,
    ReserveStatus,
)

#: 记账接口: the funds app registers its poster in ``FundsConfig.ready`` — ``poster(event, paid_on=None, user=None)``
#: returns the journal entry.
_ledger_poster: Callable[..., object] | None = None


def ledger_poster_register(poster: Callable[..., object]) -> None:
    global _ledger_poster
    _ledger_poster = poster


def _refuse(field: str | None, message: str) -> ValidationError:
    return ValidationError({field: message} if field else message)


def _policy_value(fn: Callable[[], object], field: str | None = "kind"):
    """Run a rule; a value no document gives is a form message naming the key (D-X16), never a 500."""
    try:
        return fn()
    except PolicyError as exc:
        raise _refuse(field, str(exc)) from None


# --- who is affected ---------------------------------------------------------------------------------------


def _open_on(qs, day: date):
    return qs.filter(start__lte=day).filter(Q(end__isnull=True) | Q(end__gt=day))


def employee_spans(employer: Employer, day: date, persons: Iterable[int] | None = None):
    """The employer's employee spans open on ``day`` (of ``persons`` when given)."""
    qs = _open_on(EnrolmentSpan.objects.filter(employer=employer, category=Category.EMPLOYEE), day)
    return qs if persons is None else qs.filter(person_id__in=list(persons))


def retiree_spans(employer: Employer, day: date):
    """Retiree spans open on ``day`` of the employer's retirees: the span names the employer, or the person's
    employee span at the employer ended the day the retiree span began (retirement from that employer)."""
    retired_here = EnrolmentSpan.objects.filter(
        employer=employer, category=Category.EMPLOYEE, person_id=OuterRef("person_id"), end=OuterRef("start")
    )
    qs = _open_on(EnrolmentSpan.objects.filter(category=Category.RETIREE), day)
    return qs.filter(Q(employer=employer) | (Q(employer__isnull=True) & Exists(retired_here)))


def _owed(dues):
    """Dues with principal or late fee still owed (not those of a break no longer made up: ziyang 第十三条)."""
    owed = Q(settled_on__isnull=True, makeup_closed_on__isnull=True) | Q(late_fee__gt=F("late_fee_paid"))
    return dues.filter(owed)


# --- checks ------------------------------------------------------------------------------------------------


def _check(
    *,
    employer: Employer,
    kind: str,
    occurred_on: date,
    reported_on: date | None,
    successor: Employer | None,
    trustee: Employer | None,
    moved: Sequence[int],
    resigned_count: int,
    as_of: date,
) -> None:
    if kind not in EmployerEventKind.values:
        raise _refuse("kind", f"未知变动类型 {kind!r}")
    if employer.status == EmployerStatus.TERMINATED:
        raise _refuse("employer", f"{employer} 已终止参保，不能再办理合并、分立、转制、破产或关闭。")
    founded = employer.founded_on or employer.registered_on
    if occurred_on < founded:
        what = "成立日期" if employer.founded_on else "参保登记日期"
        raise _refuse("occurred_on", f"变动日期 {occurred_on} 早于单位{what} {founded}。")
    if occurred_on > as_of:
        raise _refuse("occurred_on", f"变动日期 {occurred_on} 晚于办理日期 {as_of}：变动发生后再办理。")
    if reported_on is not None and not (occurred_on <= reported_on <= as_of):
        raise _refuse("reported_on", f"申报日期应在变动日期 {occurred_on} 与办理日期 {as_of} 之间。")
    if resigned_count < 0:
        raise _refuse("resigned_count", "退职人员人数不能为负。")
    if kind in SUCCESSION_KINDS:
        refusal = rules.successor_refusal(
            predecessor_id=employer.pk,
            successor_id=successor.pk if successor else None,
            successor_terminated=bool(successor and successor.status == EmployerStatus.TERMINATED),
            same_jurisdiction=bool(successor and successor.jurisdiction_id == employer.jurisdiction_id),
        )
        if refusal:
            raise _refuse("successor", refusal)
        if trustee is not None:
            raise _refuse("trustee", "托管单位只在破产、关闭时指定。")
        if kind == EmployerEventKind.SPLIT:
            if not moved:
                raise _refuse("moved_persons", "分立须选择随分立部分转入接收单位的职工。")
            found = set(employee_spans(employer, occurred_on, moved).values_list("person_id", flat=True))
            missing = [pid for pid in moved if pid not in found]
            if missing:
                names = "、".join(InsuredPerson.objects.filter(pk__in=missing[:5]).values_list("name", flat=True))
                raise _refuse("moved_persons", f"{names} 在 {occurred_on} 不是 {employer} 的在职职工。")
        elif moved:
            raise _refuse("moved_persons", "合并、转制时原单位全部职工转入接收单位，无需选择人员。")
    else:
        if successor is not None:
            raise _refuse("successor", "破产、关闭注销不指定接收单位；退休人员移交托管单位。")
        if moved:
            raise _refuse("moved_persons", "破产、关闭注销时职工的参保关系终止，无需选择人员。")
        starting = EnrolmentSpan.objects.filter(employer=employer, category=Category.EMPLOYEE, start__gte=occurred_on)
        if starting.exists():
            raise _refuse(
                "occurred_on",
                f"有 {starting.count()} 名职工在 {employer} 的参保关系自 {occurred_on} 或之后才开始："
                "先办理其停保或更正。",
            )
        if trustee is not None:
            if trustee.pk == employer.pk:
                raise _refuse("trustee", "托管单位不能是破产、关闭的单位本身。")
            if trustee.status == EmployerStatus.TERMINATED:
                raise _refuse("trustee", f"托管单位 {trustee} 已终止参保。")
            if trustee.jurisdiction_id != employer.jurisdiction_id:
                raise _refuse("trustee", "托管单位须与原单位在同一统筹区。")


# --- the writes --------------------------------------------------------------------------------------------


def _ids_sql(ids: Sequence[int]) -> str:
    return ", ".join(str(int(i)) for i in ids) or "NULL"


def _move_spans(span_ids: Sequence[int], *, to: Employer | None, day: date, user_id: int | None, reason: str) -> int:
    """End the spans on ``day`` and continue each at ``to`` from ``day`` (a span that starts on ``day`` just
    changes employer), set-wise, with history rows. ``to`` None: the spans end (终止参保)."""
    if not span_ids:
        return 0
    now = timezone.now()
    spans = EnrolmentSpan.objects.filter(pk__in=span_ids)
    same_day = list(spans.filter(start=day).values_list("pk", flat=True))
    earlier = list(
        spans.filter(start__lt=day).values("pk", "person_id", "jurisdiction_id", "category", "scheme", "end")
    )
    if to is not None and same_day:
        EnrolmentSpan.objects.filter(pk__in=same_day).update(employer=to)
        history_record(
            EnrolmentSpan, f"id IN ({_ids_sql(same_day)})", [], when=now, reason=reason, user_id=user_id, kind="~"
        )
    if earlier:
        EnrolmentSpan.objects.filter(pk__in=[r["pk"] for r in earlier]).update(
            end=day, status=InsuranceStatus.TERMINATED
        )
        history_record(
            EnrolmentSpan,
            f"id IN ({_ids_sql([r['pk'] for r in earlier])})",
            [],
            when=now,
            reason=reason,
            user_id=user_id,
            kind="~",
        )
    if to is not None and earlier:
        insert_dicts(
            EnrolmentSpan,
            [
                {
                    "person_id": r["person_id"],
                    "jurisdiction_id": r["jurisdiction_id"],
                    "category": r["category"],
                    "employer_id": to.pk,
                    "scheme": r["scheme"],
                    "start": day,
                    "end": r["end"],
                    "status": InsuranceStatus.NORMAL,
                }
                for r in earlier
            ],
        )
        persons = _ids_sql([r["person_id"] for r in earlier])
        q = connection.ops.quote_name
        history_record(
            EnrolmentSpan,
            f"employer_id = %s AND {q('start')} = %s AND person_id IN ({persons})",
            [to.pk, day],
            when=now,
            reason=reason,
            user_id=user_id,
            kind="+",
        )
    return len(span_ids)


def _move_dues(event: EmployerEvent, dues) -> tuple[int, Decimal, Decimal]:
    """Re-attribute the owed dues to the successor (one INSERT … SELECT for the trail, one UPDATE)."""
    owed = _owed(dues)
    totals = owed.aggregate(
        n=Count("pk"), principal=Sum(F("total") - F("paid_principal")), fee=Sum(F("late_fee") - F("late_fee_paid"))
    )
    moves, due = EmployerEventDueMove._meta, MonthlyDue._meta
    sql, params = owed.values("pk").query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO {moves.db_table} (event_id, due_id, from_employer_id, to_employer_id,
                    unpaid_principal, unpaid_late_fee)
                SELECT %s, d.id, d.employer_id, %s, d.total - d.paid_principal, d.late_fee - d.late_fee_paid
                FROM {due.db_table} d WHERE d.id IN ({sql})""",
            [event.pk, event.successor_id, *params],
        )
        n = cur.rowcount
    MonthlyDue.objects.filter(pk__in=EmployerEventDueMove.objects.filter(event=event).values("due_id")).update(
        employer_id=event.successor_id
    )
    return n, totals["principal"] or Decimal(0), totals["fee"] or Decimal(0)


@transaction.atomic
def employer_event_apply(
    *,
    employer: Employer,
    kind: str,
    occurred_on: date,
    as_of: date,
    reported_on: date | None = None,
    successor: Employer | None = None,
    trustee: Employer | None = None,
    moved_persons: Sequence[InsuredPerson] = (),
    resigned_count: int = 0,
    note: str = "",
    user=None,
) -> EmployerEvent:
    """Record and apply one employer event (see the module docstring). Raises ``ValidationError`` naming the
    field (or the missing policy key) and writes nothing when the event cannot be applied."""
    employer = Employer.objects.select_for_update().get(pk=employer.pk)
    for other in (successor, trustee):
        if other is not None:
            Employer.objects.select_for_update().filter(pk=other.pk).first()
    moved = [p.pk for p in moved_persons]
    _check(
        employer=employer,
        kind=kind,
        occurred_on=occurred_on,
        reported_on=reported_on,
        successor=successor,
        trustee=trustee,
        moved=moved,
        resigned_count=resigned_count,
        as_of=as_of,
    )
    jur = employer.jurisdiction
    policy = Policy(jur.code, occurred_on)
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    steps: list[str] = []
    event = EmployerEvent(
        employer=employer,
        jurisdiction=jur,
        kind=kind,
        occurred_on=occurred_on,
        reported_on=reported_on,
        report_deadline=rules.employer_change_deadline(policy, occurred_on),
        successor=successor,
        trustee=trustee,
        resigned_count=resigned_count,
        note=note,
        recorded_by_id=user_id,
    )
    late = rules.days_late(event.report_deadline, reported_on)
    if event.report_deadline is not None:
        when = f"逾期 {late} 日" if late else "按期"
        steps.append(f"办理时限：{event.report_deadline}（{policy.citation(rules.CHANGE_DEADLINE)}），{when}申报")
    reason = f"单位变动：{employer} {EmployerEventKind(kind).label} {occurred_on}"
    if kind in SUCCESSION_KINDS:
        takes = _policy_value(lambda: rules.successor_takes_arrears(policy))
        cite = policy.citation(rules.SUCCESSOR)
        event.save()
        event.moved_persons.set(moved)
        persons = moved if kind == EmployerEventKind.SPLIT else None
        span_ids = list(employee_spans(employer, occurred_on, persons).values_list("pk", flat=True))
        affected = list(EnrolmentSpan.objects.filter(pk__in=span_ids).values_list("person_id", flat=True))
        event.spans_moved = _move_spans(span_ids, to=successor, day=occurred_on, user_id=user_id, reason=reason)
        steps.append(f"{event.spans_moved} 名职工自 {occurred_on} 起转入 {successor} 参保（{cite}）")
        if takes:
            dues = MonthlyDue.objects.filter(employer=employer)
            if persons is not None:
                dues = dues.filter(person_id__in=persons)
            n, principal, fee = _move_dues(event, dues)
            event.dues_moved, event.moved_principal, event.moved_late_fee = n, principal, fee
            steps.append(
                f"原单位欠费 {n} 个月（本金 {principal} 元、滞纳金 {fee} 元）由 {successor} 承担，"
                f"滞纳金在接收单位名下继续计收（{cite}）"
            )
        else:
            steps.append(f"文件规定欠费不由接收单位承担，欠费仍由原单位缴纳（{cite}）")
        if kind != EmployerEventKind.SPLIT:
            _terminate(employer, reason, user)
            steps.append(f"{employer} 终止参保")
    else:
        need_trustee = rules.retirees_need_trustee(policy)
        retirees = list(retiree_spans(employer, occurred_on).values_list("pk", flat=True))
        if need_trustee and retirees and trustee is None:
            raise _refuse(
                "trustee",
                f"{employer} 有 {len(retirees)} 名退休人员，须指定托管单位或主管部门"
                f"（{policy.citation(rules.TRUSTEE)}）。",
            )
        reserve = _policy_value(
            lambda: rules.closure_reserve(
                policy, ownership=employer.ownership, retirees=len(retirees), resigned=resigned_count
            )
        )
        owed = _owed(MonthlyDue.objects.filter(employer=employer)).values_list(
            F("total") - F("paid_principal"), F("late_fee") - F("late_fee_paid")
        )
        event.arrears_principal, event.arrears_late_fee = rules.settlement_totals(list(owed))
        event.save()
        steps.append(
            f"应依法清偿欠缴的医保费本金 {event.arrears_principal} 元及滞纳金 {event.arrears_late_fee} 元"
            "（hunan 第二十四条；langfang 第二十八条）"
        )
        span_ids = list(employee_spans(employer, occurred_on).values_list("pk", flat=True))
        affected = list(EnrolmentSpan.objects.filter(pk__in=span_ids + retirees).values_list("person_id", flat=True))
        event.spans_closed = _move_spans(span_ids, to=None, day=occurred_on, user_id=user_id, reason=reason)
        steps.append(f"{event.spans_closed} 名在职职工的参保关系于 {occurred_on} 终止")
        if trustee is not None and retirees:
            event.retirees_handed = _move_spans(retirees, to=trustee, day=occurred_on, user_id=user_id, reason=reason)
            steps.append(
                f"{event.retirees_handed} 名退休人员的医保事务移交 {trustee}"
                f"（{policy.citation(rules.TRUSTEE) or '经办指定'}）"
            )
        event.reserve_persons = reserve.persons
        event.reserve_per_person = reserve.per_person
        event.reserve_amount = reserve.amount
        steps.append(f"一次性预留医保费：{reserve.reason}（{reserve.citation or '文件未规定'}）")
        if reserve.applies and reserve.amount > 0:
            event.reserve_status = ReserveStatus.BILLED
            _post(event, user=user)
        _terminate(employer, reason, user)
        steps.append(f"{employer} 终止参保")
    event.rules = "\n".join(steps)
    event.save()
    for listener in _span_change_listeners:
        if affected:
            listener(sorted(set(affected)), max(as_of, occurred_on))
    return event


def _terminate(employer: Employer, reason: str, user) -> None:
    employer.status = EmployerStatus.TERMINATED
    employer._change_reason = reason
    employer.save(update_fields=["status"])


def _post(event: EmployerEvent, *, paid_on: date | None = None, user=None) -> None:
    if _ledger_poster is None:
        event.ledger_note = "未接入基金账簿，未记账"
        return
    entry = _ledger_poster(event, paid_on=paid_on, user=user)
    event.ledger_entry_id = getattr(entry, "pk", None)
    event.ledger_note = getattr(entry, "memo", "")[:255]


@transaction.atomic
def closure_reserve_paid(event: EmployerEvent, *, paid_on: date, as_of: date, user=None) -> EmployerEvent:
    """预留医保费到账: the billed reserve is paid (bank ← receivable), once."""
    event = EmployerEvent.objects.select_for_update().get(pk=event.pk)
    if event.reserve_status != ReserveStatus.BILLED:
        raise ValidationError(f"{event} 的预留医保费状态为“{event.get_reserve_status_display()}”，不能登记缴纳。")
    if not (event.occurred_on <= paid_on <= as_of):
        raise ValidationError(f"缴纳日期应在变动日期 {event.occurred_on} 与今天 {as_of} 之间。")
    _post(event, paid_on=paid_on, user=user)
    event.reserve_status, event.reserve_paid_on = ReserveStatus.PAID, paid_on
    event.save(update_fields=["reserve_status", "reserve_paid_on", "ledger_entry_id", "ledger_note"])
    return event
