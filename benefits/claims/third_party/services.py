"""第三人责任先行支付 services (hunan 第三十五条): each action validates with :mod:`.rules`, then writes the case,
its action row and the ledger entry in one transaction; a refusal raises ``ValidationError`` by field.

Ledger (贷正借负, :mod:`funds.posting`): the claim's own entry already paid the pooled fund's share out (pool →
bank). The advance books that share as owed by the third party — receivable (应收款) debited, pool credited —
so the pool does not bear it while it is being recovered; a recovery debits the bank and credits the
receivable; a write-off credits the receivable and debits the pool, which then bears it for good.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from enrollment.bounds import MAX_REASON_LENGTH, MIN_BUSINESS_DATE, text_in_bounds
from funds.models import AccountKind, EntryKind
from funds.posting import Leg, fund_account, post_entry
from policy.resolver import Policy, PolicyError

from ..models import Claim, ClaimStatus
from . import rules
from .models import ThirdPartyAction, ThirdPartyCase, ThirdPartyReason

MAX_NAME = 100


def _user(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _text(value: str, field: str, limit: int = MAX_REASON_LENGTH) -> str:
    value = (value or "").strip()
    text_in_bounds(value, field=field, max_length=limit)
    return value


def _not_before(on: date, earliest: date, *, field: str = "on", what: str = "上一步办理日期") -> None:
    """Dates run forward: an action is not dated before the step it follows (nor before 1950)."""
    if on < max(earliest, MIN_BUSINESS_DATE):
        raise ValidationError({field: f"日期 {on} 不能早于{what} {max(earliest, MIN_BUSINESS_DATE)}。"})


def _after_last(case: ThirdPartyCase, on: date) -> None:
    last = case.actions.order_by("-on").values_list("on", flat=True).first() or case.applied_on
    _not_before(on, last)


def _locked(case: ThirdPartyCase) -> ThirdPartyCase:
    return (
        ThirdPartyCase.objects.select_for_update(of=("self",)).select_related("claim", "jurisdiction").get(pk=case.pk)
    )


def _move(case: ThirdPartyCase, action: str) -> str | None:
    try:
        return rules.next_state(case.state, action)
    except ValueError as exc:
        raise ValidationError({"state": str(exc)}) from None


def _record(case, action: str, *, on: date, user, amount=None, note: str = "", reference: str = "", entry=None):
    return ThirdPartyAction.objects.create(
        case=case,
        action=action,
        on=on,
        amount=amount,
        state_after=case.state,
        note=note,
        reference=reference,
        journal_entry=entry,
        user=_user(user),
    )


@transaction.atomic
def case_apply(
    *, claim: Claim, applied_on: date, reason: str, cause: str, third_party: str = "", user=None
) -> ThirdPartyCase:
    """书面申请先行支付: the person applies, telling the cause and why the third party does not pay."""
    errors: dict[str, str] = {}
    if reason not in ThirdPartyReason.values:
        errors["reason"] = f"申请理由只能是：{'、'.join(ThirdPartyReason.labels)}。"
    try:
        _not_before(applied_on, claim.start_date, field="applied_on", what="入院/就诊日期")
        cause = _text(cause, "cause")
        third_party = _text(third_party, "third_party", MAX_NAME)
    except ValidationError as exc:
        raise ValidationError({**errors, **exc.message_dict}) from None
    if not cause:
        errors["cause"] = "请如实告知造成伤病的原因（第三十五条）。"
    if reason == ThirdPartyReason.NOT_PAYING and not third_party:
        errors["third_party"] = "第三人不支付的，请填写第三人；无法确定第三人的，请选择“无法确定第三人”。"
    if errors:
        raise ValidationError(errors)
    claim = Claim.objects.select_for_update().select_related("jurisdiction").get(pk=claim.pk)
    if ThirdPartyCase.objects.filter(claim=claim).exists():
        raise ValidationError({"claim": "该费用报销已有第三人责任案件。"})
    policy = Policy(claim.jurisdiction.code, applied_on)
    try:
        refusal = rules.advance_refusal(
            policy, excluded_cause=claim.excluded_cause, third_party_unpaid=claim.third_party_unpaid
        )
    except PolicyError as exc:
        raise ValidationError({"claim": str(exc)}) from None
    if refusal:
        raise ValidationError({"claim": refusal})
    case = ThirdPartyCase.objects.create(
        claim=claim,
        person_id=claim.person_id,
        jurisdiction=claim.jurisdiction,
        applied_on=applied_on,
        reason=reason,
        third_party=third_party,
        cause=cause,
        citation=policy.citation(rules.ADVANCE_KEY),
    )
    _record(case, "apply", on=applied_on, user=user, note=cause)
    return case


@transaction.atomic
def case_investigate(case: ThirdPartyCase, *, found_true: bool, finding: str, on: date, user=None) -> ThirdPartyCase:
    """调查: 属实 → the advance may be paid; 不属实 → closed, nothing advanced."""
    case = _locked(case)
    finding = _text(finding, "finding")
    if not finding:
        raise ValidationError({"finding": "请填写调查结论。"})
    _after_last(case, on)
    action = "investigate_true" if found_true else "investigate_false"
    case.state = _move(case, action)
    case.finding = finding
    if not found_true:
        case.closed_on = on
    case.save(update_fields=["state", "finding", "closed_on"])
    _record(case, action, on=on, user=user, note=finding)
    return case


@transaction.atomic
def case_advance(case: ThirdPartyCase, *, on: date, user=None) -> ThirdPartyCase:
    """先行支付: the claim, settled with 基金先行支付, paid the pooled fund's share (统筹基金支出); that share is
    booked as owed by the third party (应收款) and recovery starts."""
    case = _locked(case)
    target = _move(case, "advance")
    _after_last(case, on)
    claim = case.claim
    if claim.status not in (ClaimStatus.ADJUDICATED, ClaimStatus.PAID) or not claim.third_party_advance:
        raise ValidationError({"claim": "费用报销尚未按“基金先行支付”结算，结算后再办理先行支付。"})
    amount = claim.hifp_pay or Decimal(0)
    if bad := rules.money_refusal(amount, label="统筹基金先行支付金额"):
        raise ValidationError({"claim": bad})
    jur = case.jurisdiction
    entry = post_entry(
        business_key=f"third-party:{case.pk}:advance",
        kind=EntryKind.THIRD_PARTY_ADVANCE,
        jurisdiction=jur,
        effective_on=on,
        legs=[
            Leg(fund_account(jur, AccountKind.RECEIVABLE), -amount),
            Leg(fund_account(jur, AccountKind.POOLED), amount),
        ],
        memo=f"第三人责任先行支付 {claim.business_key}，应向第三人追偿",
        person=case.person_id,
        user=_user(user),
    )
    case.state, case.advanced = target, amount
    case.save(update_fields=["state", "advanced"])
    _record(case, "advance", on=on, user=user, amount=amount, entry=entry)
    return case


@transaction.atomic
def case_recover(case: ThirdPartyCase, *, amount: Decimal, on: date, reference: str, user=None) -> ThirdPartyCase:
    """追偿到账: money recovered from the third party (all or part)."""
    case = _locked(case)
    _move(case, "recover")
    _after_last(case, on)
    amount = Decimal(amount)
    if bad := rules.recovery_refusal(amount, left=case.outstanding):
        raise ValidationError({"amount": bad})
    reference = _text(reference, "reference", 64)
    if not reference:
        raise ValidationError({"reference": "请填写追偿到账的凭据号。"})
    n = case.actions.filter(action="recover").count() + 1
    jur = case.jurisdiction
    entry = post_entry(
        business_key=f"third-party:{case.pk}:recover:{n}",
        kind=EntryKind.THIRD_PARTY_RECOVERY,
        jurisdiction=jur,
        effective_on=on,
        legs=[
            Leg(fund_account(jur, AccountKind.BANK), -amount),
            Leg(fund_account(jur, AccountKind.RECEIVABLE), amount),
        ],
        memo=f"第三人责任追偿到账 {case.claim.business_key}（{reference}）",
        person=case.person_id,
        user=_user(user),
    )
    case.recovered += amount
    case.state = rules.state_after_recovery(case.outstanding)
    if case.state == rules.RECOVERED:
        case.closed_on = on
    case.save(update_fields=["recovered", "state", "closed_on"])
    _record(case, "recover", on=on, user=user, amount=amount, reference=reference, entry=entry)
    return case


@transaction.atomic
def case_request_write_off(case: ThirdPartyCase, *, reason: str, on: date, user=None) -> ThirdPartyCase:
    """申请核销: what is still outstanding cannot be recovered for an objective reason."""
    case = _locked(case)
    target = _move(case, "request_write_off")
    _after_last(case, on)
    reason = _text(reason, "write_off_reason")
    if bad := rules.write_off_refusal(reason, left=case.outstanding):
        raise ValidationError({"write_off_reason": bad})
    case.state, case.write_off_reason, case.write_off_requested_by = target, reason, _user(user)
    case.save(update_fields=["state", "write_off_reason", "write_off_requested_by"])
    _record(case, "request_write_off", on=on, user=user, amount=case.outstanding, note=reason)
    return case


@transaction.atomic
def case_decide_write_off(
    case: ThirdPartyCase, *, approve: bool, on: date, user=None, note: str = ""
) -> ThirdPartyCase:
    """审批核销 (按程序审批, by someone other than who asked): approved → the outstanding amount is written off
    and the pool bears it; rejected → back to recovery."""
    case = _locked(case)
    action = "approve_write_off" if approve else "reject_write_off"
    target = _move(case, action)
    _after_last(case, on)
    note = _text(note, "note")
    approver = _user(user)
    if bad := rules.approval_refusal(case.write_off_requested_by_id, approver.pk if approver else None):
        raise ValidationError({"state": bad})
    entry, amount = None, case.outstanding
    if approve:
        jur = case.jurisdiction
        entry = post_entry(
            business_key=f"third-party:{case.pk}:write-off",
            kind=EntryKind.THIRD_PARTY_WRITE_OFF,
            jurisdiction=jur,
            effective_on=on,
            legs=[
                Leg(fund_account(jur, AccountKind.POOLED), -amount),
                Leg(fund_account(jur, AccountKind.RECEIVABLE), amount),
            ],
            memo=f"第三人责任核销 {case.claim.business_key}：{case.write_off_reason}"[:255],
            person=case.person_id,
            user=approver,
        )
        case.written_off += amount
        case.closed_on = on
    case.state = target
    case.save(update_fields=["state", "written_off", "closed_on"])
    _record(case, action, on=on, user=user, amount=amount if approve else None, note=note, entry=entry)
    return case
