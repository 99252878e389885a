"""Writes for claims: adjudicate one claim, reverse it, mark it paid.

:func:`claim_adjudicate` and the bulk job (:mod:`benefits.claims.jobs`) share
:func:`claim_facts` → :func:`evaluate` (which calls the pure
:func:`~benefits.claims.adjudication.decide`) and :func:`ledger_amounts`, so a claim
gets the same 2303 breakdown one at a time and in a file. Every adjudication
updates the year's accumulators in the same transaction, with an
:class:`AccumulatorAdjustment` row per year, and posts one journal entry through
fundsC's :func:`funds.posting.post_entry` (business key ``claim:<业务流水号>``):
pooled fund (and 生育津贴), the 大病/大额 layer account and the personal account are
debited, the fund's bank account pays the person. :func:`claim_reverse` reverses
that entry (:func:`funds.posting.entry_reverse`) and takes the deltas back out of
the accumulators with a ``reverse`` adjustment; the claim keeps its result and
becomes ``reversed`` (history kept by django-simple-history).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from benefits.calculations._common import cite
from benefits.calculations.resident import EMPLOYEE_INSUTYPE, RESIDENT_INSUTYPE
from benefits.calculations.scheme_switch import WAITING_KEY, waiting_payer
from benefits.institutions.audit import AuditFacts
from benefits.institutions.rules import RegisterFacts as InstitutionRegister
from benefits.institutions.selectors import registers_of
from benefits.registers.calculations.rules import RegisterFacts
from benefits.registers.selectors import register_facts
from funds.models import SCHEME_ACCOUNTS, AccountKind, EntryKind
from funds.posting import Leg, entry_reverse, fund_account, personal_account, post_entry
from policy.calculations import InputError, money
from policy.resolver import Policy, PolicyError

from .adjudication import Acc, ClaimFacts, Coverage, Decision, PersonFacts, decide
from .families.employer_liability import Interruption
from .items import item_from_row
from .models import (
    ACCUMULATOR_AMOUNTS,
    ACCUMULATOR_COUNTS,
    AUDIT_FACT_FIELDS,
    RESULT_FIELDS,
    RULE_FACT_FIELDS,
    AccumulatorAdjustment,
    AdjustmentKind,
    BenefitAccumulator,
    Claim,
    ClaimSource,
    ClaimStatus,
    CostPayer,
    EmployerLiabilityBill,
)
from .registers import with_register
from .selectors import (
    PersonContext,
    accumulators_of,
    balances_of,
    coverage_of,
    interruption_of,
    person_contexts,
    resident_coverage_of,
)

ZERO = Decimal(0)
LAYER_ACCOUNT = {"hifmi_pay": AccountKind.CRITICAL_ILLNESS, "hifob_pay": AccountKind.LARGE_AMOUNT}


class ClaimError(Exception):
    """A claim that cannot be adjudicated or reversed now (the message says why, in Chinese)."""


_LOAD: Any = object()


def claim_facts(
    claim: Claim,
    *,
    items: list[dict] | None = None,
    transfer: tuple[Decimal, str] | None = None,
    registers: RegisterFacts | None = None,
    institution: InstitutionRegister | None = _LOAD,
) -> ClaimFacts:
    """The typed facts of a claim row. ``transfer`` = (deductible borne, level) of the stay it continues.

    A claim naming its institution takes level, TCM, tier and location from the register on the service
    date (:func:`benefits.claims.registers.with_register`; ``institution`` preloaded by the bulk job, else read);
    ``registers``: the person's filings and certifications (benefits.registers), None when facts are stated.

    The deductible already borne in the stay is derived from the linked earlier claim
    (:func:`transfer_source`); the person's birth date, age and the year's pool payments
    (overall annual cap) come from the person and the accumulators in :func:`evaluate`.
    """
    classes = tuple(int(c) for c in str(claim.disease_classes or "").replace("，", ",").split(",") if c.strip())
    if claim.transfer_from_id and transfer is None:
        earlier = claim.transfer_from
        if earlier.status not in (ClaimStatus.ADJUDICATED, ClaimStatus.PAID) or earlier.person_id != claim.person_id:
            raise ClaimError("转院前的住院须为同一参保人已结算的申请")
        transfer = transfer_source(earlier.stay_deductible, earlier.act_pay_dedc, earlier.hospital_level)
    if not claim.institution_id and not claim.hospital_level:
        raise InputError("须选择定点医药机构或填写医疗机构等级")
    facts = ClaimFacts(
        jurisdiction=claim.jurisdiction.code,
        med_type=claim.med_type,
        start=claim.start_date,
        end=claim.end_date or claim.start_date,
        hospital_level=claim.hospital_level,
        medfee_sumamt=Decimal(claim.medfee_sumamt),
        inscp_scp_amt=Decimal(claim.inscp_scp_amt),
        fulamt_ownpay=Decimal(claim.fulamt_ownpay or 0),
        preselfpay=Decimal(claim.preselfpay or 0),
        tcm=claim.tcm,
        location=claim.location,
        first_year_amount=None if claim.first_year_amount is None else Decimal(claim.first_year_amount),
        special_kind=claim.special_kind or "chronic",
        disease_classes=classes,
        major_disease_tier=claim.major_disease_tier,
        major_disease_setting=claim.major_disease_setting,
        poverty=claim.poverty,
        supplementary_insured=claim.supplementary_insured,
        supplementary_renewed_on=claim.supplementary_renewed_on,
        maternity_event=claim.maternity_event,
        babies=claim.babies,
        continuous_months=claim.continuous_months,
        policy_extra_days=claim.policy_extra_days,
        pregnancy_months=claim.pregnancy_months,
        maternity_setting=claim.maternity_setting,
        spouse_insured=claim.spouse_insured,
        rare_complication=claim.rare_complication,
        employer_average_monthly_wage=claim.employer_average_monthly_wage,
        acct_pay_requested=Decimal(claim.acct_pay_requested or 0),
        transfer=transfer is not None,
        transfer_deductible=transfer[0] if transfer else ZERO,
        transfer_level=transfer[1] if transfer else "",
        items=tuple(item_from_row(r) for r in (items or [])),
        **{name: getattr(claim, name) for name in RULE_FACT_FIELDS},
        manual=claim.source == ClaimSource.MANUAL,
        registers=registers,
        audit=audit_facts(claim),
    )
    if claim.institution_id:
        if institution is _LOAD:
            institution = registers_of([claim.institution_id]).get(claim.institution_id)
        if institution is None:
            raise InputError("定点医药机构不在两定机构登记中")
        facts = with_register(facts, institution)
    return facts


def audit_facts(claim: Claim) -> AuditFacts:
    """住院审核规则的事实 of a claim row (``AUDIT_FACT_FIELDS``); cleared once a case worker reviewed it."""
    return AuditFacts(
        **{name: getattr(claim, name) for name in AUDIT_FACT_FIELDS},
        review_cleared=claim.review_cleared_by_id is not None,
    )


def transfer_source(stay_deductible: Decimal | None, act_pay_dedc: Decimal | None, level: str) -> tuple[Decimal, str]:
    """(deductible borne in the whole stay up to the earlier claim, its level): a chain of transfers adds up."""
    borne = stay_deductible if stay_deductible is not None else act_pay_dedc
    return (Decimal(borne or 0), level)


def evaluate(
    facts: ClaimFacts,
    ctx: PersonContext,
    accs: Mapping[int, Acc],
    balance: Decimal,
    *,
    interruption: Callable[[], Interruption | None] | None = None,
) -> Decision:
    """Coverage on the claim's dates, the person's facts on the first day (险种 of the span in force), then
    :func:`decide`; costs in the employee waiting period go to the resident scheme where a seed says so.

    ``interruption`` (the single-claim screen passes it): read, only when the claim is refused for its cover,
    the interruption the first day fell in, for the 费用承担 step (hunan 第二十条, langfang 第二十三条)."""
    person = ctx.facts_on(facts.jurisdiction, facts.start)
    if person is not None and person.insutype == RESIDENT_INSUTYPE:
        coverage = resident_coverage_of(ctx, facts.jurisdiction, facts.start, facts.end)
    else:
        coverage = coverage_of(ctx, facts.start, facts.end)
    coverage, person = waiting_with_resident_cover(facts, ctx, coverage, person)
    if coverage.ok and person is None:
        coverage = Coverage(False, f"{facts.start} 不在 {facts.jurisdiction} 的参保期间内：无职工医保待遇")
    if person is None:
        return decide(facts, _nobody(ctx), coverage=coverage, accs=accs, balance=balance)
    gap = interruption() if interruption is not None and not coverage.ok else None
    return decide(facts, person, coverage=coverage, accs=accs, balance=balance, interruption=gap)


def waiting_with_resident_cover(
    facts: ClaimFacts, ctx: PersonContext, coverage: Coverage, person: PersonFacts | None
) -> tuple[Coverage, PersonFacts | None]:
    """hunan 第六十条: a person with this year's resident cover who becomes an employee has the costs of the
    employee waiting period paid by the resident scheme, under the resident rules
    (``scheme_switch.waiting_costs_by_resident_scheme``; :func:`~benefits.calculations.scheme_switch.waiting_payer`)."""
    if coverage.ok or person is None or person.insutype != EMPLOYEE_INSUTYPE:
        return coverage, person
    policy = Policy(facts.jurisdiction, facts.start)
    resident_years = [
        (s.start, s.end) for s in ctx.spans if s.jurisdiction == facts.jurisdiction and s.insutype == RESIDENT_INSUTYPE
    ]
    payer, why = waiting_payer(policy, status=coverage.status, on=facts.start, resident_spans=resident_years)
    if payer != RESIDENT_INSUTYPE:
        return coverage, person
    return Coverage(True, why, cite(policy, WAITING_KEY)), replace(person, insutype=RESIDENT_INSUTYPE)


def _nobody(ctx: PersonContext):

    return PersonFacts(ctx.person_id, ctx.birth_date, ctx.sex, "employee", "combined", "enterprise")


def ledger_amounts(decision: Decision) -> dict[str, Decimal]:
    """What leaves which account: pooled fund (统筹 + 生育津贴), the layer, the personal account; the total paid out."""
    b = decision.breakdown
    pool = b.get("hifp_pay", ZERO) + b.get("maternity_allowance", ZERO) + b.get("one_off_grant", ZERO)
    layer = b.get("hifmi_pay", ZERO) + b.get("hifob_pay", ZERO)
    acct = b.get("acct_pay", ZERO)
    return {"pool": pool, "layer": layer, "acct": acct, "total": pool + layer + acct}


def _bill_employer(claim: Claim, decision: Decision, *, as_of: date) -> None:
    bill = liability_bill(claim, decision, as_of=as_of)
    if bill is not None:
        bill.save()


def liability_bill(claim: Claim, decision: Decision, *, as_of: date) -> EmployerLiabilityBill | None:
    """单位承担医疗费用通知单 (unsaved) for a refused claim whose costs the employer bears
    (hunan 第二十条, langfang 第二十三条); ``None`` otherwise."""
    extra = decision.extra
    if extra.get("cost_payer") != CostPayer.EMPLOYER or not extra.get("liable_employer_id"):
        return None
    return EmployerLiabilityBill(
        claim=claim,
        employer_id=extra["liable_employer_id"],
        person_id=claim.person_id,
        jurisdiction_id=claim.jurisdiction_id,
        amount=extra["employer_liability"],
        person_share=money(extra.get("person_share") or ZERO),
        interruption_months=extra.get("interruption_months") or 0,
        reason=extra.get("liability_reason") or "",
        citation=(extra.get("liability_citation") or "")[:255],
        issued_on=as_of,
    )


def apply_decision(claim: Claim, decision: Decision, *, as_of: date, user=None, run_id: int | None = None) -> None:
    """Copy a decision onto the claim (not saved)."""
    claim.status = decision.status
    claim.refusal_reason = decision.refusal_reason
    claim.error = ""
    claim.steps = decision.steps
    claim.effects = decision.effects
    for name in RESULT_FIELDS:
        setattr(claim, name, decision.breakdown.get(name) if decision.status == ClaimStatus.ADJUDICATED else None)
    for name, value in decision.amounts.items():
        setattr(claim, name, value)
    claim.third_party_advance = bool(decision.extra.get("third_party_advance"))
    claim.benefit_scope = decision.extra.get("benefit_scope") or ""
    claim.allowance_payee = decision.extra.get("allowance_payee") or ""
    claim.stay_deductible = decision.extra.get("stay_deductible")
    claim.cost_payer = decision.extra.get("cost_payer") or ""
    claim.employer_liability = decision.extra.get("employer_liability")
    claim.liable_employer_id = decision.extra.get("liable_employer_id")
    claim.adjudicated_on = as_of
    claim.adjudicated_at = timezone.now()
    claim.adjudicated_by_id = getattr(user, "pk", None) if user is not None else None
    if run_id is not None:
        claim.run_id = run_id


def _accumulate(claim: Claim, effects: Mapping[str, Any], *, sign: int) -> None:
    """Add (sign +1) or take back (−1) a claim's deltas, one adjustment row per year, rows locked."""
    for year, deltas in sorted(effects.items()):
        acc_row, _ = BenefitAccumulator.objects.select_for_update().get_or_create(
            person_id=claim.person_id, jurisdiction_id=claim.jurisdiction_id, year=int(year)
        )
        acc = Acc({f: getattr(acc_row, f) for f in _ACC_FIELDS}, acc_row.admissions_by_level)
        acc.apply(deltas, sign)
        for f in _ACC_FIELDS:
            setattr(acc_row, f, acc.values[f])
        acc_row.admissions_by_level = {k: v for k, v in acc.by_level.items() if v}
        acc_row.save()
        AccumulatorAdjustment.objects.create(
            accumulator=acc_row,
            claim=claim,
            kind=AdjustmentKind.SETTLE if sign > 0 else AdjustmentKind.REVERSE,
            deltas=deltas if sign > 0 else negate(deltas),
            run_id=claim.run_id if sign > 0 else None,
        )


def negate(deltas: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in deltas.items():
        if k == "admissions_by_level":
            out[k] = {lv: -int(n) for lv, n in v.items()}
        elif isinstance(v, int):
            out[k] = -v
        else:
            out[k] = str(-Decimal(v))
    return out


def _acc_fields() -> tuple[str, ...]:

    return (*ACCUMULATOR_AMOUNTS, *ACCUMULATOR_COUNTS)


_ACC_FIELDS = _acc_fields()


def claim_adjudicate(claim: Claim, *, as_of: date, user=None) -> Claim:
    """审核结算 one draft claim: refuse with the reason, or settle, accumulate and post — in one transaction.

    A value the seeds do not give, or an input the rules refuse, leaves the claim a
    draft with ``error`` set and raises :class:`ClaimError` with the message.
    """
    pk = claim.pk
    ctx = person_contexts([claim.person_id], as_of=as_of)[claim.person_id]
    try:
        with transaction.atomic():
            claim = Claim.objects.select_for_update().select_related("jurisdiction").get(pk=pk)
            if claim.status != ClaimStatus.DRAFT:
                raise ClaimError(
                    f"申请 {claim.business_key} 状态为“{claim.get_status_display()}”，只有待审核的申请可以审核结算"
                )
            pair = (claim.person_id, claim.jurisdiction_id)
            facts = claim_facts(
                claim, items=[i.as_row() for i in claim.items.all()], registers=register_facts([pair])[pair]
            )
            keys = {(claim.person_id, claim.jurisdiction_id, y) for y in facts.years}
            accs = {k[2]: a for k, a in accumulators_of(keys).items()}
            balance = balances_of([(claim.person_id, claim.jurisdiction_id)], lock=True)[
                (claim.person_id, claim.jurisdiction_id)
            ]
            decision = evaluate(
                facts,
                ctx,
                accs,
                balance,
                interruption=lambda: interruption_of(
                    claim.person_id, claim.jurisdiction_id, day=facts.start, as_of=as_of
                ),
            )
            apply_decision(claim, decision, as_of=as_of, user=user)
            if decision.status == ClaimStatus.ADJUDICATED:
                _accumulate(claim, decision.effects, sign=1)
                claim.journal_entry = _post(claim, decision, as_of=as_of, user=user)
            claim.save()
            _bill_employer(claim, decision, as_of=as_of)
    except (PolicyError, InputError, ValidationError) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        Claim.objects.filter(pk=pk, status=ClaimStatus.DRAFT).update(error=message)
        raise ClaimError(message) from exc
    return claim


def _post(claim: Claim, decision: Decision, *, as_of: date, user=None):
    """One journal entry per claim (business key ``claim:<业务流水号>``); none when nothing is paid."""
    amounts = ledger_amounts(decision)
    if not amounts["total"]:
        return None
    jur = claim.jurisdiction
    pooled, bank = fund_kinds(decision)
    legs = [Leg(fund_account(jur, pooled), -amounts["pool"])]
    if amounts["layer"]:
        legs.append(Leg(fund_account(jur, LAYER_ACCOUNT[decision.layer_field]), -amounts["layer"]))
    if amounts["acct"]:
        legs.append(Leg(personal_account(claim.person_id, jur, on=as_of), -amounts["acct"]))
    legs.append(Leg(fund_account(jur, bank), amounts["total"]))
    return post_entry(
        business_key=f"claim:{claim.business_key}",
        kind=EntryKind.BENEFIT_PAYMENT,
        jurisdiction=jur,
        effective_on=as_of,
        legs=legs,
        memo=f"{memo_prefix(decision)} {claim.business_key} {claim.get_med_type_display()}",
        person=claim.person_id,
        user=user,
    )


def fund_kinds(decision: Decision) -> tuple[str, str]:
    """(pooled fund, bank account) a decision pays from: the resident fund's own books for 险种 390, never mixed
    with the employee fund (xianning 办法 四(三); sanmenxia 第三十九条)."""
    return SCHEME_ACCOUNTS[decision.insutype]


def memo_prefix(decision: Decision) -> str:
    return "居民医保费用报销" if decision.insutype == RESIDENT_INSUTYPE else "费用报销"


def claim_reverse(claim: Claim, reason: str, *, on: date, user=None) -> Claim:
    """冲正: reverse the ledger entry and take the claim's deltas back out of the accumulators."""
    if not reason or not reason.strip():
        raise ClaimError("冲正须说明原因")
    with transaction.atomic():
        claim = (
            Claim.objects.select_for_update(of=("self",))
            .select_related("jurisdiction", "journal_entry")
            .get(pk=claim.pk)
        )
        if claim.status not in (ClaimStatus.ADJUDICATED, ClaimStatus.PAID):
            raise ClaimError(
                f"申请 {claim.business_key} 状态为“{claim.get_status_display()}”，只有已结算或已支付的申请可以冲正"
            )
        if claim.transfers.filter(status__in=(ClaimStatus.ADJUDICATED, ClaimStatus.PAID)).exists():
            raise ClaimError("该住院已有转院后的结算申请，须先冲正转院后的申请")
        if claim.journal_entry is not None:
            claim.reversal_entry = entry_reverse(claim.journal_entry, reason=reason, on=on, user=user)
        _accumulate(claim, claim.effects or {}, sign=-1)
        claim.status = ClaimStatus.REVERSED
        claim.reversal_reason = reason.strip()
        claim.reversed_at = timezone.now()
        claim.reversed_by_id = getattr(user, "pk", None) if user is not None else None
        claim.save()
    return claim


def claim_review_clear(claim: Claim, note: str, *, as_of: date, user=None) -> Claim:
    """复核通过: a claim the audit checks sent to review (待复核) is cleared by a case worker with a note, then
    adjudicated; the review flags become steps (住院审核: 经办人员已复核). A refusing check still refuses."""
    if not note or not note.strip():
        raise ClaimError("复核须填写复核意见")
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        if locked.status != ClaimStatus.REVIEW:
            raise ClaimError(
                f"申请 {locked.business_key} 状态为“{locked.get_status_display()}”，只有待复核的申请可以复核"
            )
        locked.status = ClaimStatus.DRAFT
        locked.review_note = note.strip()
        locked.review_cleared_by_id = getattr(user, "pk", None)
        if locked.review_cleared_by_id is None:
            raise ClaimError("复核须由经办人员办理")
        locked.save(update_fields=["status", "review_note", "review_cleared_by"])
    return claim_adjudicate(locked, as_of=as_of, user=user)


def claim_review_refuse(claim: Claim, note: str, *, as_of: date, user=None) -> Claim:
    """复核不予支付: a claim in review is refused with the audit reason and the case worker's note."""
    if not note or not note.strip():
        raise ClaimError("复核须填写复核意见")
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        if locked.status != ClaimStatus.REVIEW:
            raise ClaimError(
                f"申请 {locked.business_key} 状态为“{locked.get_status_display()}”，只有待复核的申请可以复核"
            )
        locked.status = ClaimStatus.REFUSED
        locked.review_note = note.strip()
        locked.refusal_reason = f"经复核不予支付：{locked.refusal_reason}；复核意见：{locked.review_note}"
        locked.adjudicated_on = as_of
        locked.adjudicated_at = timezone.now()
        locked.adjudicated_by_id = getattr(user, "pk", None)
        locked.save(
            update_fields=[
                "status",
                "review_note",
                "refusal_reason",
                "adjudicated_on",
                "adjudicated_at",
                "adjudicated_by",
            ]
        )
    return locked


def claim_mark_paid(claim: Claim, *, user=None) -> Claim:
    """已支付: the payout of an adjudicated claim has left the bank."""
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        if claim.status != ClaimStatus.ADJUDICATED:
            raise ClaimError("只有已结算的申请可以确认支付")
        claim.status = ClaimStatus.PAID
        claim.save(update_fields=["status"])
    return claim


def claim_business_key(on: date) -> str:
    """A new manual claim number (手工报销流水号): SG<yyyymmdd><the day's 6-digit sequence>. It carries no
    jurisdiction code (the claim's 统筹区 is its own field): what a case worker reads is a number, not a code."""
    prefix = f"SG{on:%Y%m%d}"
    n = Claim.objects.filter(business_key__startswith=prefix).count() + 1
    while Claim.objects.filter(business_key=f"{prefix}{n:06d}").exists():
        n += 1
    return f"{prefix}{n:06d}"
