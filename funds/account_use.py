"""个人账户的使用 — writes in transactions: family bindings (家庭共济), payments from the account (paid or
refused with the article, each recorded), and payout of the balance to the holder's own bank account.

The rules are :mod:`funds.calculations.account_use`; the money moves through :mod:`funds.posting`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from enrollment.bounds import amount_in_bounds, text_in_bounds
from enrollment.identifiers import parse_id_number
from policy.resolver import Policy

from .calculations.account_use import payout_ground_check, relationship_check, use_verdict
from .errors import InsufficientBalance
from .models import (
    AccountBalance,
    AccountKind,
    AccountPayout,
    AccountUse,
    AccountUsePurpose,
    AccountUseStatus,
    EntryKind,
    FamilyBinding,
    PayoutGround,
    Relationship,
)
from .posting import Leg, fund_account, jurisdiction_of, personal_account_or_none, post_account_payment, post_entry


def binding_create(
    *,
    holder,
    jurisdiction,
    member_name: str,
    member_id_number: str,
    relationship: str,
    proof: str,
    start: date,
    user=None,
) -> FamilyBinding:
    """绑定家庭成员: relationship listed by the document and agreeing with the 身份证号 birth dates."""
    jur = jurisdiction_of(jurisdiction)
    if relationship not in Relationship.values:
        raise ValidationError({"relationship": "关系须为配偶、父母或子女"})
    member_id = (member_id_number or "").strip().upper()
    try:
        member = parse_id_number(member_id)
    except ValidationError as exc:
        raise ValidationError({"member_id_number": exc.messages}) from exc
    if member_id == holder.id_number:
        raise ValidationError({"member_id_number": "家庭成员不能是账户持有人本人"})
    if not (proof or "").strip():
        raise ValidationError({"proof": "请填写关系证明"})
    policy = Policy(jur.code, start)
    refusal, cite = relationship_check(
        policy, relationship, holder_birth=holder.birth_date, member_birth=member.birth_date
    )
    if refusal:
        raise ValidationError({"relationship": refusal})
    with transaction.atomic():
        if FamilyBinding.objects.filter(
            holder=holder, jurisdiction=jur, member_id_number=member_id, end__isnull=True
        ).exists():
            raise ValidationError({"member_id_number": "该家庭成员已绑定"})
        return FamilyBinding.objects.create(
            holder=holder,
            jurisdiction=jur,
            member_name=text_in_bounds(member_name.strip(), field="member_name", max_length=50),
            member_id_number=member_id,
            relationship=relationship,
            proof=text_in_bounds(proof.strip(), field="proof", max_length=100),
            start=start,
            citation=cite[:255],
            created_by=user if getattr(user, "pk", None) else None,
        )


def binding_end(binding: FamilyBinding, *, on: date) -> FamilyBinding:
    """解除绑定 from ``on``."""
    with transaction.atomic():
        binding = FamilyBinding.objects.select_for_update().get(pk=binding.pk)
        if binding.end is not None:
            raise ValidationError("该绑定已解除")
        if on <= binding.start:
            raise ValidationError({"end": "解除日期须晚于绑定日期"})
        binding.end = on
        binding.save(update_fields=["end"])
        return binding


def account_use(
    *,
    holder,
    jurisdiction,
    purpose: str,
    amount: Decimal,
    on: date,
    binding: FamilyBinding | None = None,
    user=None,
) -> AccountUse:
    """个人账户支付: checked against the jurisdiction's list; paid (posted) or refused with the article —
    either way recorded. A family member must be bound (家庭共济) and the binding in force on ``on``."""
    jur = jurisdiction_of(jurisdiction)
    if purpose not in AccountUsePurpose.values:
        raise ValidationError({"purpose": "未知的用途"})
    amount = amount_in_bounds(Decimal(amount), field="amount", allow_zero=False)
    if binding is not None:
        binding = FamilyBinding.objects.get(pk=binding.pk)  # as stored now (it may have been ended)
    if binding is not None and (binding.holder_id != holder.pk or binding.jurisdiction_id != jur.pk):
        raise ValidationError({"binding": "所选家庭成员不是该账户持有人在本统筹区绑定的家庭成员"})
    policy = Policy(jur.code, on)
    verdict = use_verdict(policy, purpose, "family" if binding else "self", AccountUsePurpose(purpose).label)
    reason, ok = verdict.reason, verdict.ok
    if ok and binding is not None and not binding.in_force(on):
        ok, reason = False, f"{on} 家庭共济绑定不在有效期内（{binding.start} 至 {binding.end or '长期'}）"
    with transaction.atomic():
        use = AccountUse(
            holder=holder,
            jurisdiction=jur,
            purpose=purpose,
            binding=binding,
            amount=amount,
            used_on=on,
            status=AccountUseStatus.PAID if ok else AccountUseStatus.REFUSED,
            reason=reason[:255],
            citation=verdict.citation[:255],
            created_by=user if getattr(user, "pk", None) else None,
        )
        if ok:
            use.save()
            who = f"为{binding.get_relationship_display()}{binding.member_name}" if binding else ""
            try:
                use.entry = post_account_payment(
                    person=holder,
                    jurisdiction=jur,
                    amount=amount,
                    on=on,
                    business_key=f"account-use:{use.pk}",
                    memo=f"个人账户{who}支付{use.get_purpose_display()}（{verdict.citation}）",
                    user=user,
                )
            except InsufficientBalance as exc:
                raise ValidationError({"amount": f"个人账户余额不足：可用 {exc.available or 0} 元"}) from exc
        use.save()
        return use


def account_payout(
    *, holder, jurisdiction, ground: str, bank_name: str, bank_account: str, on: date, user=None
) -> AccountPayout:
    """余额支付本人: the whole balance to the holder's own bank account, where the document allows it on
    this ground (hunan 第四十四条; xianning 细则 第十三条); one ledger entry in the same transaction."""
    jur = jurisdiction_of(jurisdiction)
    if ground not in PayoutGround.values:
        raise ValidationError({"ground": "未知的情形"})
    account_no = (bank_account or "").replace(" ", "")
    if not (account_no.isdigit() and 8 <= len(account_no) <= 32):
        raise ValidationError({"bank_account": "本人银行账号须为 8 至 32 位数字"})
    if not (bank_name or "").strip():
        raise ValidationError({"bank_name": "请填写开户银行"})
    policy = Policy(jur.code, on)
    refusal, cite = payout_ground_check(policy, ground, PayoutGround(ground).label)
    if refusal:
        raise ValidationError({"ground": refusal})
    account = personal_account_or_none(holder, jur)
    if account is None:
        raise ValidationError({"holder": "该人员在本统筹区没有个人账户"})
    with transaction.atomic():
        amount = AccountBalance.objects.select_for_update().get(account=account).balance
        if amount <= 0:
            raise ValidationError({"holder": "个人账户余额为零，无可支付金额"})
        entry = post_entry(
            business_key=f"holder-payout:{account.pk}:{on}",
            kind=EntryKind.HOLDER_PAYOUT,
            jurisdiction=jur,
            effective_on=on,
            legs=[Leg(account, -amount), Leg(fund_account(jur, AccountKind.BANK), amount)],
            memo=f"个人账户余额支付本人银行账户（{PayoutGround(ground).label}；{cite}）",
            person=holder,
            user=user,
        )
        return AccountPayout.objects.create(
            holder=holder,
            jurisdiction=jur,
            ground=ground,
            bank_name=bank_name.strip()[:100],
            bank_account=account_no,
            paid_on=on,
            amount=amount,
            citation=cite[:255],
            entry=entry,
            created_by=user if getattr(user, "pk", None) else None,
        )
