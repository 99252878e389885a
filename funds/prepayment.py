"""Prepayment and refunds (预缴与退费): services that bill, record the money and post to the ledger.

Rules in :mod:`contributions.calculations.prepayment`; each service checks the case, then writes in one
transaction (nothing half-written) and refuses with a field message (``ValidationError``) or a missing policy
value (``PolicyMissing``, D-X16).

* :func:`flexible_prepay` — hunan 第十三条: a flexible worker prepays next year's dues by the end of December.
* :func:`critical_illness_prepay` — hunan 第五十四条: 大病保险费 for next year (flexible workers, retirees), or
  once as 当年度筹资标准 × ceil(全国人均预期寿命 − 实际年龄); from the bank or the personal account.
* :func:`prepayment_refund` — hunan 第十三条: the prepaid fees of the remaining months, on employment, death …
* :func:`benefit_period_refund` — ziyang 第九条(三): contributions paid before the benefit period began.

How the money moves. A prepayment is a :class:`contributions.models.Payment` that holds the money (未冲抵)
until the monthly billing bills each month and applies it; the ledger books each month's contribution when the
month begins (decision F-C2, :mod:`funds.receipts`). A 大病 premium paid from the personal account is posted at
once (personal account → bank, :attr:`EntryKind.PREMIUM_FROM_ACCOUNT`) before it is held like any payment. A
refund of a prepayment gives back held money that was never booked: the payment's ``refunded_amount`` grows and
no entry is needed. A refund before the benefit period gives back booked contributions: one
:attr:`EntryKind.CONTRIBUTION_REFUND` entry debits the pool and the personal account by the shares the dues
credited, the bank pays out, and the dues are marked ``refunded_on`` (they no longer count as paid months).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q

from batch.dates import add_months
from contributions.calculations import prepayment as rules
from contributions.calculations.contribution import contribution_breakdown, critical_illness_monthly
from contributions.calculations.personal_account import MONTHS_PER_YEAR
from contributions.models import MonthlyDue, Payment, PaymentSource
from contributions.services import payment_record, persons_recompute
from enrollment.models import EnrolmentSpan, InsuredPerson
from policy.calculations import money
from policy.models import Jurisdiction
from policy.resolver import Policy

from .calculations.account_use import use_verdict
from .errors import InsufficientBalance
from .models import (
    AccountKind,
    AccountUsePurpose,
    ContributionRefund,
    EntryKind,
    FundAccount,
    PaidFrom,
    Prepayment,
    PrepaymentKind,
    RefundKind,
)
from .posting import Leg, fund_account, jurisdiction_of, personal_account_or_none, post_entry
from .receipts import _fund_accounts, due_lines

ZERO = Decimal("0")
CRITICAL_KINDS = (PrepaymentKind.CRITICAL_ILLNESS_ANNUAL, PrepaymentKind.CRITICAL_ILLNESS_LUMP_SUM)

#: 待遇享受期开始日 (a port): benefits plugs in ``fn(person_id, jurisdiction_code) -> first covered day | None``
#: in its ``AppConfig.ready()``, so that the ledger never imports the eligibility app above it.
_benefit_start: list[Callable[[int, str], date | None]] = []


def benefit_start_register(fn: Callable[[int, str], date | None]) -> None:
    _benefit_start[:] = [fn]


def _user(user):
    return user if getattr(user, "pk", None) else None


def _span_on(person: InsuredPerson, jur: Jurisdiction, on: date) -> EnrolmentSpan | None:
    return (
        EnrolmentSpan.objects.filter(person=person, jurisdiction=jur, start__lte=on)
        .filter(Q(end__isnull=True) | Q(end__gt=on))
        .order_by("-start", "-id")
        .first()
    )


def _refuse(field: str, message: str | None) -> None:
    if message:
        raise ValidationError({field: message})


def _no_open_dues(person: InsuredPerson) -> None:
    """Prepaid money is held for the months ahead: it must not be swallowed by older unpaid dues."""
    # dues of a break no longer made up (ziyang 第十三条, makeup_closed_on) are owed no more
    open_dues = MonthlyDue.objects.filter(person=person, settled_on__isnull=True, makeup_closed_on__isnull=True)
    open_dues = open_dues.order_by("month")
    n = open_dues.count()
    if n:
        first = open_dues.first()
        raise ValidationError(
            {
                "person": f"该人员有 {n} 个月应缴未缴清（最早 {first.month:%Y-%m}），"
                "请先缴清再预缴，否则预缴款将先冲抵欠费。"
            }
        )


def _no_overlap(person: InsuredPerson, kinds, start: date, months: int) -> None:
    end = add_months(start, months)
    for other in Prepayment.objects.filter(person=person, kind__in=list(kinds)):
        if other.start_month < end and add_months(other.start_month, other.months) > start:
            raise ValidationError(
                {
                    "person": f"与已登记的预缴重叠：{other.get_kind_display()} "
                    f"{other.start_month:%Y-%m} 起 {other.months} 个月。"
                }
            )


def _record(
    *,
    person: InsuredPerson,
    jur: Jurisdiction,
    kind: str,
    start_month: date,
    months: int,
    monthly: Decimal,
    monthly_refundable: Decimal,
    total: Decimal,
    paid_on: date,
    reference: str,
    paid_from: str,
    citation: str,
    detail: dict,
    ground: str = "",
    user=None,
) -> Prepayment:
    """In one transaction: the account deduction (if any), the held payment, the prepayment row."""
    if paid_from not in PaidFrom.values:
        raise ValidationError({"paid_from": f"缴费方式应为：{'、'.join(PaidFrom.labels)}。"})
    with transaction.atomic():
        entry = None
        if paid_from == PaidFrom.PERSONAL_ACCOUNT:
            policy = Policy(jur.code, paid_on)
            verdict = use_verdict(
                policy,
                AccountUsePurpose.CRITICAL_ILLNESS_PREMIUM,
                "self",
                AccountUsePurpose.CRITICAL_ILLNESS_PREMIUM.label,
            )
            _refuse("paid_from", None if verdict.ok else verdict.reason)
            if kind not in CRITICAL_KINDS:
                raise ValidationError(
                    {"paid_from": "个人账户只代扣大病保险费（hunan 第五十四条）；次年职工医保费由本人缴纳。"}
                )
            account = personal_account_or_none(person, jur)
            if account is None:
                raise ValidationError({"paid_from": f"该人员在本统筹区没有个人账户，不能代扣 {total} 元。"})
            try:
                entry = post_entry(
                    business_key=f"premium-from-account:{person.pk}:{kind}:{start_month.isoformat()}",
                    kind=EntryKind.PREMIUM_FROM_ACCOUNT,
                    jurisdiction=jur,
                    effective_on=paid_on,
                    legs=[Leg(account, -total), Leg(fund_account(jur, AccountKind.BANK), total)],
                    memo=f"个人账户代扣{PrepaymentKind(kind).label} {total}（{citation}；{verdict.citation}）",
                    person=person,
                    user=user,
                )
            except InsufficientBalance as exc:
                raise ValidationError(
                    {"paid_from": f"个人账户余额不足：应扣 {total} 元，可用 {exc.available or 0} 元。"}
                ) from exc
            reference = reference or f"ZHKK-{entry.pk}"
        payment = payment_record(
            person=person,
            amount=total,
            paid_on=paid_on,
            reference=reference,
            source=PaymentSource.MANUAL,
            recorded_by=_user(user),
        )
        return Prepayment.objects.create(
            person=person,
            jurisdiction=jur,
            kind=kind,
            ground=ground,
            start_month=start_month,
            months=months,
            monthly_amount=monthly,
            monthly_refundable=monthly_refundable,
            total=total,
            paid_on=paid_on,
            paid_from=paid_from,
            payment=payment,
            entry=entry,
            citation=citation[:255],
            detail=detail,
            created_by=_user(user),
        )


# --- hunan 第十三条: 灵活就业人员次年预缴 ---------------------------------------------------------------------


def flexible_prepay(
    *, person: InsuredPerson, jurisdiction, year: int, paid_on: date, reference: str, user=None
) -> Prepayment:
    """次年预缴: bill next year's twelve months on today's figures (D-H25) and hold the money paid for them."""
    jur = jurisdiction_of(jurisdiction)
    policy = Policy(jur.code, paid_on)
    key = "contribution.flexible_payment_frequencies"
    _refuse("year", rules.annual_prepayment_refusal(policy.value(key), policy.citation(key)))
    deadline_key = "contribution.flexible_prepayment_deadline"
    _refuse(
        "year",
        rules.prepayment_year_refusal(
            year=year,
            paid_on=paid_on,
            deadline_md=policy.value(deadline_key),
            citation=policy.citation(deadline_key),
        ),
    )
    span = _span_on(person, jur, paid_on)
    if span is None or span.category != "flexible":
        raise ValidationError(
            {"person": f"{paid_on} 该人员不是本统筹区参保的灵活就业人员，不能预缴（{policy.citation(key)}）。"}
        )
    _no_open_dues(person)
    _no_overlap(person, [PrepaymentKind.FLEXIBLE_ANNUAL], date(year, 1, 1), MONTHS_PER_YEAR)
    lines = contribution_breakdown(policy, category="flexible", monthly_wage=None, scheme=span.scheme)
    basic = lines.employer + lines.individual + (lines.maternity or ZERO)
    refundable_key = "contribution.critical_illness_premium_refundable"
    bill = rules.prepayment_bill(
        year=year,
        monthly_basic=basic,
        monthly_critical_illness=lines.critical_illness,
        critical_illness_refundable=bool(policy.value(refundable_key, default=False)),
        months_in_year=MONTHS_PER_YEAR,
    )
    return _record(
        person=person,
        jur=jur,
        kind=PrepaymentKind.FLEXIBLE_ANNUAL,
        start_month=bill.start_month,
        months=bill.months,
        monthly=bill.monthly,
        monthly_refundable=bill.monthly_refundable,
        total=bill.total,
        paid_on=paid_on,
        reference=reference,
        paid_from=PaidFrom.BANK,
        citation=policy.citation(key),
        detail={
            "base": str(lines.base),
            "basic": str(bill.monthly_basic),
            "critical_illness": str(bill.monthly_critical_illness),
            "refundable": str(bill.monthly_refundable),
            "figures_of": paid_on.isoformat(),
        },
        user=user,
    )


# --- hunan 第五十四条: 大病保险费按年、一次性缴纳 ---------------------------------------------------------------


def critical_illness_prepay(
    *,
    person: InsuredPerson,
    jurisdiction,
    kind: str,
    paid_on: date,
    reference: str = "",
    paid_from: str = PaidFrom.BANK,
    year: int | None = None,
    ground: str = "",
    user=None,
) -> Prepayment:
    """大病保险费: next year's twelve months (``critical_illness_annual``) or the lump sum (``…_lump_sum``)."""
    jur = jurisdiction_of(jurisdiction)
    policy = Policy(jur.code, paid_on)
    if kind not in CRITICAL_KINDS:
        raise ValidationError({"kind": "预缴类型应为按年或一次性缴纳大病保险费。"})
    span = _span_on(person, jur, paid_on)
    if span is None:
        raise ValidationError({"person": f"{paid_on} 该人员不在本统筹区参保。"})
    monthly = critical_illness_monthly(policy)
    premium_key = "contribution.critical_illness_premium_annual"
    if not monthly:
        raise ValidationError({"kind": f"本统筹区个人不缴纳大病保险费（{policy.citation(premium_key)}）。"})
    annual = policy.decimal(premium_key)
    _no_open_dues(person)
    if kind == PrepaymentKind.CRITICAL_ILLNESS_ANNUAL:
        cat_key, deadline_key = (
            "contribution.critical_illness_annual_categories",
            "contribution.critical_illness_prepayment_deadline",
        )
        _refuse(
            "person",
            rules.annual_premium_refusal(
                category=span.category, categories=policy.value(cat_key), citation=policy.citation(cat_key)
            ),
        )
        if span.category == "flexible":
            # A flexible worker's monthly due carries the basic contribution and the 大病 premium together: money
            # held for the premium alone would be applied to whole dues. Their yearly prepayment (第十三条) includes
            # the premium; a premium-only yearly payment is not offered.
            raise ValidationError(
                {"kind": "灵活就业人员请办理次年预缴（含大病保险费，hunan 第十三条）；单独按年缴纳大病保险费暂不办理。"}
            )
        if year is None:
            raise ValidationError({"year": "请填写预缴年度。"})
        _refuse(
            "year",
            rules.prepayment_year_refusal(
                year=year,
                paid_on=paid_on,
                deadline_md=policy.value(deadline_key),
                citation=policy.citation(deadline_key),
            ),
        )
        start, months, total, detail = date(year, 1, 1), MONTHS_PER_YEAR, monthly * MONTHS_PER_YEAR, {}
        citation = policy.citation(cat_key)
    else:
        grounds_key = "contribution.critical_illness_lump_sum_grounds"
        result = rules.critical_illness_lump_sum(
            annual_premium=annual,
            life_expectancy=policy.stat("national_life_expectancy"),
            birth=person.birth_date,
            paid_on=paid_on,
            ground=ground,
            grounds=policy.value(grounds_key),
            months_in_year=MONTHS_PER_YEAR,
            citation=policy.citation(grounds_key),
        )
        if isinstance(result, str):
            raise ValidationError({"ground": result})
        start, months, total = result.start_month, result.months, result.total
        citation = policy.citation(grounds_key)
        detail = {
            "age": str(money(result.age)),
            "life_expectancy": str(policy.stat("national_life_expectancy")),
            "years": result.years,
            "annual_premium": str(annual),
        }
    _no_overlap(person, CRITICAL_KINDS, start, months)
    return _record(
        person=person,
        jur=jur,
        kind=kind,
        start_month=start,
        months=months,
        monthly=monthly,
        monthly_refundable=ZERO,  # 第五十四条: not refunded on transfer or death
        total=total,
        paid_on=paid_on,
        reference=reference,
        paid_from=paid_from,
        citation=citation,
        detail=detail,
        ground=ground,
        user=user,
    )


# --- hunan 第十三条: 预缴费用退还当年剩余月份 -----------------------------------------------------------------


def prepayment_refund(
    *, prepayment: Prepayment, ground: str, event_on: date, refunded_on: date, user=None
) -> ContributionRefund:
    """退还预缴: the refundable part of the months after the event's month, out of what is still held."""
    jur = prepayment.jurisdiction
    policy = Policy(jur.code, refunded_on)
    if event_on > refunded_on:
        raise ValidationError({"event_on": "事由发生日期不能晚于退费日期。"})
    if prepayment.kind in CRITICAL_KINDS:
        key = "contribution.critical_illness_premium_refundable"
        _refuse(
            "prepayment",
            rules.premium_refund_refusal(refundable=bool(policy.value(key)), citation=policy.citation(key)),
        )
    key = "contribution.flexible_prepayment_refundable"
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=prepayment.payment_id)
        remaining = rules.remaining_months(
            start_month=prepayment.start_month, months=prepayment.months, event_on=event_on
        )
        amount = rules.prepayment_refund_amount(
            remaining=remaining, monthly_refundable=prepayment.monthly_refundable, held=payment.unapplied_amount
        )
        _refuse(
            "event_on",
            rules.prepayment_refund_refusal(
                refundable=bool(policy.value(key)),
                citation=policy.citation(key),
                ground=ground,
                remaining=remaining,
                amount=amount,
            ),
        )
        Payment.objects.filter(pk=payment.pk).update(
            refunded_amount=F("refunded_amount") + amount, unapplied_amount=F("unapplied_amount") - amount
        )
        return ContributionRefund.objects.create(
            person=prepayment.person,
            jurisdiction=jur,
            kind=RefundKind.PREPAID_REMAINDER,
            ground=ground,
            event_on=event_on,
            refunded_on=refunded_on,
            prepayment=prepayment,
            months=remaining,
            amount=amount,
            citation=policy.citation(key)[:255],
            detail={
                "monthly_refundable": str(prepayment.monthly_refundable),
                "held_before": str(payment.unapplied_amount),
                "reference": payment.reference,
            },
            created_by=_user(user),
        )


# --- ziyang 第九条(三): 进入待遇享受期前退费 --------------------------------------------------------------------


def benefit_period_refund(
    *, person: InsuredPerson, jurisdiction, ground: str, event_on: date, refunded_on: date, user=None
) -> ContributionRefund:
    """退费: every contribution paid and booked here, given back when the event came before benefits began."""
    jur = jurisdiction_of(jurisdiction)
    policy = Policy(jur.code, refunded_on)
    key = "contribution.refund_before_benefit_period_only"
    flag = policy.value(key)
    if event_on > refunded_on:
        raise ValidationError({"event_on": "事由发生日期不能晚于退费日期。"})
    if not _benefit_start:
        raise ValidationError({"person": "待遇享受状态不可用：无法判断是否已进入待遇享受期。"})
    with transaction.atomic():
        persons_recompute([person.pk], refunded_on)  # the timeline as of today, in this transaction
        start = _benefit_start[0](person.pk, jur.code)
        _refuse(
            "event_on",
            rules.benefit_period_refund_refusal(
                before_benefit_period_only=bool(flag),
                benefit_start=start,
                event_on=event_on,
                ground=ground,
                citation=policy.citation(key),
            ),
        )
        dues = list(
            MonthlyDue.objects.select_for_update()
            .filter(person=person, jurisdiction=jur, settled_on__isnull=False, refunded_on__isnull=True)
            .exclude(total=0)
            .order_by("month")
        )
        if not dues:
            raise ValidationError({"person": "没有已缴清、未退费的缴费记录。"})
        accounts = _fund_accounts(jur.pk, refunded_on, {})
        legs: dict[int, Decimal] = {}
        to_account = ZERO
        for due in dues:
            lines = due_lines(due)
            for line in ("pool", "maternity", "critical_illness"):
                if lines[line]:
                    if accounts[line] is None:
                        raise ValidationError({"person": f"{due.month:%Y-%m} 的 {line} 部分无对应基金账户。"})
                    legs[accounts[line]] = legs.get(accounts[line], ZERO) - lines[line]
            to_account += lines["personal_account"]
        amount = sum((d.total for d in dues), ZERO)
        by_id = {a.pk: a for a in FundAccount.objects.filter(pk__in=list(legs))}
        entry_legs = [Leg(by_id[pk], amt) for pk, amt in legs.items() if amt]
        entry_legs.append(Leg(fund_account(jur, AccountKind.BANK), amount))
        if to_account:
            account = personal_account_or_none(person, jur)
            if account is None:
                raise ValidationError({"person": "个人账户不存在，无法扣回已划入的部分。"})
            entry_legs.append(Leg(account, -to_account))
        refund = ContributionRefund.objects.create(
            person=person,
            jurisdiction=jur,
            kind=RefundKind.BEFORE_BENEFIT_PERIOD,
            ground=ground,
            event_on=event_on,
            refunded_on=refunded_on,
            months=len(dues),
            amount=amount,
            citation=policy.citation(key)[:255],
            detail={
                "benefit_start": start.isoformat() if start else None,
                "first_month": f"{dues[0].month:%Y-%m}",
                "last_month": f"{dues[-1].month:%Y-%m}",
                "personal_account": str(to_account),
            },
            created_by=_user(user),
        )
        try:
            refund.entry = post_entry(
                business_key=f"contribution-refund:{refund.pk}",
                kind=EntryKind.CONTRIBUTION_REFUND,
                jurisdiction=jur,
                effective_on=refunded_on,
                legs=entry_legs,
                memo=f"待遇享受期前退费 {len(dues)} 个月 {amount}（{refund.citation}）",
                person=person,
                user=user,
            )
        except InsufficientBalance as exc:
            raise ValidationError(
                {"person": f"个人账户已划入 {to_account} 元，现余额 {exc.available or 0} 元，不足以扣回，不能退费。"}
            ) from exc
        refund.save(update_fields=["entry"])
        MonthlyDue.objects.filter(pk__in=[d.pk for d in dues]).update(refunded_on=refunded_on)
        return refund
