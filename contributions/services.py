"""Writes of the contribution engine. Each service validates, then writes in one transaction.

Bad input raises ``django.core.exceptions.ValidationError`` keyed by field (the admin and the
import screens show it next to the field); a value the policy does not give raises
``policy.resolver.PolicyMissing`` (D-X16). Dates are always passed in: nothing here reads the clock
except to stamp when a row was written.

* bases: :func:`base_for` (one person, the scalar rule), :func:`base_assign`;
* runs: :func:`base_reset`, :func:`dues_generate`, :func:`arrears_accrue` (batch jobs);
* payments: :func:`payment_record`, :func:`payments_apply`;
* :func:`deferral_approve` (缓缴), :func:`back_payment_bill_issue` (补缴).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from batch.models import BatchRun
from batch.runs import run_in_process
from batch.tasks import start_run
from enrollment.calculations.enrolment_checks import makeup_closed_months, makeup_refusal
from enrollment.models import Employer, EnrolmentSpan, InsuredPerson, Insutype
from policy.calculations import money
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyError

from . import inputs, sql
from .calculations import contribution as rules
from .calculations.personal_account import age_in_month, monthly_account_credit
from .jobs import late_fee_rates
from .models import (
    BackPaymentBill,
    BaseBasis,
    BillStatus,
    ContributionBase,
    Deferral,
    MonthlyDue,
    Payment,
    PaymentSource,
    WageDeclaration,
)
from .periods import add_months, base_year_bounds, base_year_start, month_start, months_between
from .residents.services import resident_payments_apply
from .rules import late_fee_rate, monthly_wage_of, uplifted

PAYING = ("employee", "flexible", "unemployed")

# --- bases ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseSelection:
    """The base of one person for one base year, and how it was arrived at."""

    person_id: int
    jurisdiction: str
    year_start: date
    category: str
    employer_id: int | None
    wage: Decimal | None  # the monthly wage the rule was given (None: fixed base or unknown wage)
    base: Decimal
    basis: str
    raised_by_penalty: bool = False


def _latest_span(person_id: int, w_from: date, w_to: date) -> EnrolmentSpan | None:
    return (
        EnrolmentSpan.objects.filter(person_id=person_id, start__lt=w_to)
        .filter(Q(end__isnull=True) | Q(end__gt=w_from))
        .select_related("jurisdiction", "employer")
        .order_by("-start", "-id")
        .first()
    )


def employer_kind_for_base(employer: Employer | None, on: date) -> str:
    """calcA's ``employer_kind`` for the base rule: a certified difficult enterprise (langfang 第十六条)."""
    if employer is None:
        return "enterprise"
    if employer.is_difficult and (employer.difficult_from is None or employer.difficult_from <= on):
        if employer.difficult_until is None or employer.difficult_until > on:
            return "difficult_enterprise"
    return "fiscal_institution" if employer.kind == "fiscal_institution" else "enterprise"


def base_for(
    person_id: int, on: date, *, window: tuple[date, date] | None = None, stats: dict | None = None
) -> BaseSelection | None:
    """个人缴费基数 of a person for the base year containing ``on`` (the scalar rule, one person).

    The enrolment billed is the person's latest-starting span overlapping ``window`` (default:
    the base year). None if that span is not a paying one (retirees pay no basic contribution).
    Employees: the declared wage (hunan 第九条, langfang 第十二条, sanmenxia 第六条, ziyang
    第九条(一)3; a year's total ÷ 12, D-X6), the first pay month's wage of a new employee
    (hunan 第九条, sanmenxia 第十六条), or — langfang 第二十一条, D-L19 — last year's base raised
    10% when the employer made no declaration for the year; no declaration at all falls to
    :func:`rules.individual_base`'s unknown-wage rule. Raises ``PolicyError`` where it does.
    """
    anchor = (
        EnrolmentSpan.objects.filter(person_id=person_id, start__lte=on).order_by("-start", "-id").first()
        or EnrolmentSpan.objects.filter(person_id=person_id).order_by("start", "id").first()
    )
    if anchor is None:
        return None
    code = anchor.jurisdiction.code
    year_start, year_end = base_year_bounds(Policy(code, on, stats=stats), on)
    span = _latest_span(person_id, *(window or (year_start, year_end)))
    if span is None or span.category not in PAYING or span.jurisdiction.code != code:
        return None
    policy = Policy(code, year_start, stats=stats)
    kind = employer_kind_for_base(span.employer, year_start)
    wage: Decimal | None = None
    source = span.category
    raised = False
    if span.category == "employee":
        declaration = WageDeclaration.objects.filter(
            person_id=person_id, employer_id=span.employer_id, year=year_start.year
        ).first()
        audited = WageDeclaration.objects.filter(employer_id=span.employer_id, year=year_start.year).exists()
        previous = ContributionBase.objects.filter(
            person_id=person_id,
            year_start=date(year_start.year - 1, year_start.month, year_start.day),
            category="employee",
            employer_id=span.employer_id,
        ).first()
        if policy.has("contribution.missed_audit_uplift_pct") and not audited and previous is not None:
            wage = uplifted(previous.base, policy.percent("contribution.missed_audit_uplift_pct"))
            source, raised = BaseBasis.PENALTY_UPLIFT, True
        elif declaration is not None:
            wage = monthly_wage_of(declaration.monthly_wage, declaration.annual_wage_total)
            source = BaseBasis.FIRST_MONTH if declaration.first_pay_month else BaseBasis.DECLARED
        else:
            source = BaseBasis.DEFAULT_UNKNOWN
    base = rules.individual_base(policy, category=span.category, monthly_wage=wage, employer_kind=kind)
    basis = source
    if source == BaseBasis.DEFAULT_UNKNOWN:
        # the base the rule gives an unknown wage (sanmenxia 第六条), recorded as the wage
        wage = rules.individual_base(policy, category="employee", monthly_wage=None)
    if span.category == "employee" and not raised and wage is not None:
        if base > wage:
            basis = BaseBasis.FLOOR
        elif base < wage:
            basis = BaseBasis.CEILING
    return BaseSelection(
        person_id=person_id,
        jurisdiction=code,
        year_start=year_start,
        category=span.category,
        employer_id=span.employer_id,
        wage=wage,
        base=base,
        basis=str(basis),
        raised_by_penalty=raised,
    )


def base_assign(person_id: int, on: date, *, run: BatchRun | None = None) -> ContributionBase | None:
    """Compute and store one person's base (the case worker's path; the batch path is the reset job)."""
    selection = base_for(person_id, on)
    if selection is None:
        return None
    obj, _ = ContributionBase.objects.update_or_create(
        person_id=person_id,
        year_start=selection.year_start,
        defaults={
            "jurisdiction": Jurisdiction.objects.get(code=selection.jurisdiction),
            "category": selection.category,
            "employer_id": selection.employer_id,
            "wage": selection.wage,
            "base": selection.base,
            "basis": selection.basis,
            "run": run,
            "updated_at": timezone.now(),
        },
    )
    return obj


# --- runs -------------------------------------------------------------------------------------


def _run(job: str, *, in_process: bool, chunk_size: int | None = None, **kwargs) -> BatchRun:
    if chunk_size:
        kwargs["chunk_size"] = chunk_size
    return (run_in_process if in_process else start_run)(job, **kwargs)


def base_reset(
    *,
    jurisdiction: str,
    on: date,
    user=None,
    preview: bool = False,
    in_process: bool = False,
    chunk_size: int | None = None,
) -> BatchRun:
    """年度缴费基数核定 for the base year containing ``on`` (preview: counts only, nothing kept)."""
    return _run(
        "contributions.base_reset",
        in_process=in_process,
        chunk_size=chunk_size,
        as_of=on,
        jurisdiction=jurisdiction,
        user=user,
        preview=preview,
    )


def resident_billing(
    *,
    on: date,
    jurisdiction: str | None = None,
    user=None,
    preview: bool = False,
    in_process: bool = False,
    chunk_size: int | None = None,
) -> BatchRun:
    """生成居民年度应缴: the residents' yearly bills collected in the year of ``on`` (for the next benefit year where
    the document says 缴费次年享受, sanmenxia 第三十一条), set-based per chunk (:mod:`contributions.residents.jobs`)."""
    return _run(
        "contributions.resident_billing",
        in_process=in_process,
        chunk_size=chunk_size,
        as_of=on,
        jurisdiction=jurisdiction,
        params={"collection_year": on.year},
        user=user,
        preview=preview,
    )


def dues_generate(
    *,
    month: date,
    jurisdiction: str | None = None,
    user=None,
    preview: bool = False,
    in_process: bool = False,
    chunk_size: int | None = None,
) -> BatchRun:
    """生成月度应缴 for ``month`` (one jurisdiction or all)."""
    month = month_start(month)
    return _run(
        "contributions.dues_generate",
        in_process=in_process,
        chunk_size=chunk_size,
        as_of=month,
        jurisdiction=jurisdiction,
        params={"month": f"{month:%Y-%m}"},
        user=user,
        preview=preview,
    )


def arrears_accrue(
    *,
    on: date,
    jurisdiction: str | None = None,
    user=None,
    preview: bool = False,
    in_process: bool = False,
    chunk_size: int | None = None,
) -> BatchRun:
    """欠费滞纳金计提 as of ``on`` (nightly)."""
    return _run(
        "contributions.arrears_accrue",
        in_process=in_process,
        chunk_size=chunk_size,
        as_of=on,
        jurisdiction=jurisdiction,
        user=user,
        preview=preview,
    )


# --- payments ---------------------------------------------------------------------------------


def payment_record(
    *,
    person: InsuredPerson | int,
    amount: Decimal,
    paid_on: date,
    reference: str,
    source: str = PaymentSource.MANUAL,
    recorded_by=None,
    import_job=None,
    apply: bool = True,
    recompute_as_of: date | None = None,
    insutype: str = "310",
    for_month: date | None = None,
) -> Payment:
    """实缴登记: record money received for a person and apply it to the oldest unpaid dues.

    ``insutype`` 险种: 310 pays the monthly dues, 390 a resident's yearly bills (:mod:`contributions.residents`).

    ``reference`` (电子税票号) is the business key: a reference already recorded is refused, so
    the same payment can never be applied twice. ``recompute_as_of`` (the day of entry, given by the
    screen, import or API): the person's fees, eligibility and account credits are brought up to that
    day in the same transaction (:func:`persons_recompute`), so the why page and claims see it at once.

    ``for_month`` (费款所属期, optional): the month the payer means to pay; a month of a break that can no longer
    be made up on ``paid_on`` (ziyang 第十三条 断保一年以上不再补缴) is refused with the article, instead of the
    money being silently applied elsewhere (:func:`makeup_closed_message`).
    """
    reference = (reference or "").strip()
    errors = {}
    if not reference:
        errors["reference"] = "请填写电子税票号。"
    elif bad := _input_error(inputs.payment_reference, reference):
        errors["reference"] = bad  # too long, a formula, spaces inside (issue #12 item 7)
    elif Payment.objects.filter(reference=reference).exists():
        errors["reference"] = f"电子税票号 {reference} 已登记，不能重复入账。"
    amount = Decimal(amount)
    if amount <= 0:
        errors["amount"] = "金额应大于0。"
    elif amount != money(amount):
        errors["amount"] = "金额最多两位小数。"
    elif bad := _input_error(inputs.payment_amount, amount):
        errors["amount"] = bad  # above the product bound (enrollment.bounds.MAX_AMOUNT)
    if bad := _input_error(inputs.business_date, paid_on, field="paid_on"):
        errors["paid_on"] = bad  # before enrollment.bounds.MIN_BUSINESS_DATE
    if source not in PaymentSource.values:
        errors["source"] = f"来源应为 {', '.join(PaymentSource.values)}。"
    if insutype not in Insutype.values:
        errors["insutype"] = f"险种应为 {', '.join(Insutype.values)}。"
    person_id = person if isinstance(person, int) else person.pk
    if (
        for_month is not None
        and "paid_on" not in errors
        and (bad := makeup_closed_message(person_id, for_month, paid_on))
    ):
        errors["for_month"] = bad
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                person_id=person_id,
                amount=amount,
                paid_on=paid_on,
                source=source,
                reference=reference,
                insutype=insutype,
                unapplied_amount=amount,
                recorded_by=recorded_by,
                import_job=import_job,
            )
            if apply:
                payments_apply([payment.pk], recompute_as_of=recompute_as_of)
    except IntegrityError as exc:  # a concurrent recording of the same reference
        raise ValidationError({"reference": f"电子税票号 {reference} 已登记，不能重复入账。"}) from exc
    payment.refresh_from_db()
    return payment


def makeup_closed_message(person_id: int, month: date, on: date) -> str | None:
    """Why ``month`` of this person can no longer be paid on ``on``, or ``None``: it was waived already
    (``makeup_closed_on``) or lies in a break begun more than the limit before ``on``
    (:func:`enrollment.calculations.enrolment_checks.makeup_closed_months`, ziyang 第十三条)."""
    month = month_start(month)
    due = MonthlyDue.objects.filter(person_id=person_id, month=month).select_related("jurisdiction").first()
    if due is None or due.settled_on is not None:
        return None
    policy = Policy(due.jurisdiction.code, on)
    rows = MonthlyDue.objects.filter(person_id=person_id, jurisdiction_id=due.jurisdiction_id, makeup_closed_on=None)
    unpaid = [m for m, settled in rows.values_list("month", "settled_on") if settled is None]
    paid = list(rows.filter(settled_on__isnull=False).values_list("month", flat=True))
    if due.makeup_closed_on is None and month not in makeup_closed_months(policy, unpaid=unpaid, paid=paid, on=on):
        return None
    limit_key = "enrollment.makeup_break_limit_months"
    return (
        f"{month:%Y-%m} 属于中断缴费超过 {policy.value(limit_key)} 个月的断保期间，不再补缴（"
        f"{policy.citation(limit_key)}：断保一年以上不再补缴断保期间基本医疗保险费，原有缴费年限合并计算）；"
        "本笔缴费只能用于续保当月及以后的应缴。"
    )


def _input_error(check, value, *, field: str | None = None) -> str | None:
    """The message of an :mod:`contributions.inputs` check, or ``None`` when the value passes."""
    try:
        check(value) if field is None else check(value, field=field)
    except ValidationError as exc:
        return next(iter(exc.message_dict.values()))[0]
    return None


def payments_apply(payment_ids: Iterable[int], *, recompute_as_of: date | None = None) -> Counter:
    """冲抵: apply the payments' unapplied money to their payers' oldest unsettled dues, set-based.

    Idempotent: a payment's money is consumed as it is applied, so applying it again only
    reaches dues generated since (an overpayment held in ``unapplied_amount``).
    """
    ids = list(payment_ids)
    if not ids:
        return Counter()
    last = Payment.objects.filter(pk__in=ids).aggregate(m=Max("paid_on"))["m"]
    if last is None:
        return Counter()
    with transaction.atomic():
        sql.tune()
        counts = sql.payments_allocate(ids, rates=late_fee_rates(last), now=timezone.now())
        counts += resident_payments_apply(ids)  # 险种 390: the residents' yearly bills
        counts["bills_paid"] += bills_mark_paid()
        if recompute_as_of is not None:
            persons = Payment.objects.filter(pk__in=ids).values_list("person_id", flat=True)
            counts += persons_recompute(persons, recompute_as_of)
    return counts


_T = TypeVar("_T")


class _DryRun(Exception):
    pass


def _fees_as_of(person_ids: Iterable[int], as_of: date) -> Counter:
    """The nightly fee statement (:func:`contributions.sql.fees_accrue`) for these persons only."""
    counts: Counter = Counter()
    pairs = (
        MonthlyDue.objects.filter(person_id__in=list(person_ids), settled_on__isnull=True)
        .values_list("person_id", "jurisdiction__code")
        .distinct()
    )
    by_jurisdiction: dict[str, list[int]] = {}
    for person_id, code in set(pairs):
        by_jurisdiction.setdefault(code, []).append(person_id)
    for code, ids in sorted(by_jurisdiction.items()):  # one statement per jurisdiction for all its persons
        ids.sort()
        rate = late_fee_rate(code, as_of)
        counts += sql.fees_accrue(code, lo=ids[0], hi=ids[-1] + 1, as_of=as_of, rate=rate, only=ids)
    return counts


def read_as_of(person_ids: Iterable[int], as_of: date, read: Callable[[], _T]) -> _T:
    """``read()`` on the dues as they stand on ``as_of`` (a screen's "today"): the nightly job's own fee
    statement and rate (D-X14) for these persons, inside a savepoint that is always rolled back — nothing
    is written; the stored ``late_fee`` stays what the last batch run accrued."""
    result: Any = None
    try:
        with transaction.atomic():
            _fees_as_of(person_ids, as_of)
            result = read()
            raise _DryRun
    except _DryRun:
        pass
    return result


def late_fees_as_of(person_id: int, as_of: date) -> dict[int, Decimal]:
    """Due id → 滞纳金 as of ``as_of``, for display (:func:`read_as_of`)."""
    return read_as_of(
        [person_id], as_of, lambda: dict(MonthlyDue.objects.filter(person_id=person_id).values_list("id", "late_fee"))
    )


def employer_owing_persons(employer_id: int) -> list[int]:
    """Persons with an unsettled due at the employer: whose late fee moves with the day."""
    rows = MonthlyDue.objects.filter(employer_id=employer_id, settled_on__isnull=True).values_list("person_id")
    return sorted({pid for (pid,) in rows.distinct()})


#: 下游重算接口 (a port): the apps above contributions register what they recompute for persons whose
#: payments changed — funds the account credits of new allocations, benefits the eligibility timeline —
#: in their ``AppConfig.ready()``, so that this module never imports them. ``fn(person_ids, as_of)``
#: returns counts, prefixed here with the name.
_downstream: list[tuple[str, Callable[[list[int], date], Mapping[str, int]]]] = []


def downstream_recompute_register(name: str, fn: Callable[[list[int], date], Mapping[str, int]]) -> None:
    if all(existing != name for existing, _ in _downstream):
        _downstream.append((name, fn))


def persons_recompute(person_ids: Iterable[int], as_of: date) -> Counter:
    """After a payment or an approved deferral: bring these persons up to ``as_of`` at once.

    The same steps as the nightly run, for these persons only and in the caller's transaction:
    late fees (:func:`contributions.sql.fees_accrue`), then what the apps above registered
    (:func:`funds.receipts.post_unposted_contributions`, :func:`benefits.services.eligibility_refresh`).
    """

    ids = sorted(set(int(i) for i in person_ids))
    counts: Counter = Counter()
    if not ids:
        return counts
    with transaction.atomic():
        for key, n in _fees_as_of(ids, as_of).items():
            counts[f"fees.{key}"] += n
        for name, fn in _downstream:
            for key, n in fn(ids, as_of).items():
                counts[f"{name}.{key}"] += n
    return counts


def bills_mark_paid() -> int:
    """补缴单 whose dues are all settled become paid."""
    return (
        BackPaymentBill.objects.filter(status=BillStatus.ISSUED)
        .exclude(dues__settled_on__isnull=True)
        .filter(dues__isnull=False)
        .update(status=BillStatus.PAID)
    )


# --- deferrals ------------------------------------------------------------------------------


def deferral_approve(
    *,
    employer: Employer,
    start: date,
    end: date,
    approved_on: date,
    citation: str,
    approved_by=None,
    note: str = "",
    recompute_as_of: date | None = None,
) -> Deferral:
    """缓缴: approve a period ``[start, end)`` in which the employer's arrears carry no late fee.

    hunan 第二十二条 (by national plan or provincial approval; benefits unaffected), langfang
    第二十六条 (force majeure, approved by the 医疗保障部门, "一般不超过半年" — longer is possible
    by approval, D-L21). Periods of one employer may not overlap. Dues falling due inside the
    period are marked ``deferred`` at once; fees are recomputed by the nightly accrual.
    """
    errors = {}
    if end <= start:
        errors["end"] = f"截止日 {end} 应晚于起始日 {start}。"
    if not (citation or "").strip():
        errors["citation"] = "请填写缓缴依据（条款、批准文号）。"
    if not errors and Deferral.objects.filter(employer=employer, start__lt=end, end__gt=start).exists():
        errors["start"] = "与该单位已批准的缓缴期间重叠。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        deferral = Deferral.objects.create(
            employer=employer,
            start=start,
            end=end,
            approved_on=approved_on,
            approved_by=approved_by,
            citation=citation.strip(),
            note=note,
        )
        MonthlyDue.objects.filter(
            employer=employer, settled_on__isnull=True, due_date__gte=start, due_date__lt=end
        ).update(deferred=True)
        if recompute_as_of is not None:  # the employer's persons with open dues: fees and status at once
            persons_recompute(
                MonthlyDue.objects.filter(employer=employer, settled_on__isnull=True).values_list(
                    "person_id", flat=True
                ),
                recompute_as_of,
            )
    return deferral


# --- back-payment bills -----------------------------------------------------------------------


def _bill_month_lines(
    *, policy_rates: Policy, base: Decimal, category: str, employer: Employer | None, scheme: str, age: int | None
) -> tuple[Decimal, Decimal, Decimal]:
    kind = "fiscal_institution" if employer is not None and employer.kind == "fiscal_institution" else "enterprise"
    er, ir, _ = rules.contribution_rates(policy_rates, category=category, employer_kind=kind, scheme=scheme)
    account = monthly_account_credit(policy_rates, category=category, base=base, age=age, scheme=scheme)
    return money(base * er), money(base * ir), account


def back_payment_bill_issue(
    *,
    person: InsuredPerson,
    jurisdiction: str,
    start_month: date,
    end_month: date,
    issued_on: date,
    due_date: date,
    employer: Employer | None = None,
    category: str = "employee",
    scheme: str = "combined",
    issued_by=None,
    note: str = "",
) -> BackPaymentBill:
    """补缴单 for the months ``[start_month, end_month)`` of an interruption.

    A break longer than ``enrollment.makeup_break_limit_months`` is refused (ziyang 第十三条).

    ``contribution.makeup_base_rule``: ``current_reference_wage`` — hunan 第二十一条: the base is
    the 缴费基准值 in force on ``issued_on`` (当年度) and the rates are the current employer +
    individual rates (``contribution.makeup_rate_rule``), the account is back-credited;
    ``not_below_current_minimum_base`` — langfang 第二十三条: each month's own base, but not
    below the minimum base of the contribution year current on ``issued_on``, at that month's
    rates. Elsewhere the rule is missing and the bill is refused (D-X16).

    The bill creates the missing :class:`MonthlyDue` rows (months already billed are left as they
    are and counted in ``months_already_due``); payments settle them like any due.
    """
    start_month, end_month = month_start(start_month), month_start(end_month)
    if end_month <= start_month:
        raise ValidationError({"end_month": "截止月应晚于起始月。"})
    if category not in PAYING:
        raise ValidationError({"category": f"人员类别应为 {', '.join(PAYING)}。"})
    now_policy = Policy(jurisdiction, issued_on)
    refusal = makeup_refusal(now_policy, break_start=start_month, resumed_on=issued_on)  # ziyang 第十三条
    if refusal:
        raise ValidationError({"start_month": refusal})
    rule = now_policy.value("contribution.makeup_base_rule")
    rate_rule = now_policy.value("contribution.makeup_rate_rule", None)
    kind = employer_kind_for_base(employer, issued_on)
    if rule == "current_reference_wage":
        current_base = rules.reference_wage(now_policy)
    elif rule == "not_below_current_minimum_base":
        current_base = rules.individual_base(
            now_policy, category="employee", monthly_wage=Decimal(0), employer_kind=kind
        )
    else:
        raise PolicyError(f"{jurisdiction} contribution.makeup_base_rule 取值无效: {rule!r}")
    citation = now_policy.citation("contribution.makeup_base_rule")
    months = [add_months(start_month, i) for i in range(months_between(start_month, end_month))]
    existing = set(MonthlyDue.objects.filter(person=person, month__in=months).values_list("month", flat=True))
    jur = Jurisdiction.objects.get(code=jurisdiction)
    now = timezone.now()
    dues: list[MonthlyDue] = []
    for m in months:
        if m in existing:
            continue
        if rule == "not_below_current_minimum_base":
            own = ContributionBase.objects.filter(
                person=person, year_start=base_year_start(Policy(jurisdiction, m), m)
            ).first()
            base = max(own.base, current_base) if own is not None else current_base
        else:
            base = current_base
        policy_rates = now_policy if rate_rule == "current_employer_plus_individual" else Policy(jurisdiction, m)
        er, ir, account = _bill_month_lines(
            policy_rates=policy_rates,
            base=base,
            category=category,
            employer=employer,
            scheme=scheme,
            age=age_in_month(person.birth_date, m),
        )
        dues.append(
            MonthlyDue(
                person=person,
                employer=employer,
                jurisdiction=jur,
                month=m,
                category=category,
                scheme=scheme,
                base=base,
                employer_amount=er,
                individual_amount=ir,
                maternity_amount=None,
                critical_illness_amount=None,
                personal_account_amount=account,
                pool_amount=er + ir - account,
                total=er + ir,
                due_date=due_date,
                created_at=now,
            )
        )
    if not dues:
        raise ValidationError({"start_month": "所列月份均已有应缴记录，无需补缴。"})
    with transaction.atomic():
        bill = BackPaymentBill.objects.create(
            person=person,
            employer=employer,
            jurisdiction=jur,
            category=category,
            start_month=start_month,
            end_month=end_month,
            months=len(dues),
            rule=str(rule),
            base=dues[0].base,
            employer_amount=sum((d.employer_amount for d in dues), Decimal(0)),
            individual_amount=sum((d.individual_amount for d in dues), Decimal(0)),
            personal_account_amount=sum((d.personal_account_amount for d in dues), Decimal(0)),
            total=sum((d.total for d in dues), Decimal(0)),
            months_already_due=len(existing),
            citation=citation,
            issued_on=issued_on,
            due_date=due_date,
            issued_by=issued_by,
            note=note,
        )
        for d in dues:
            d.back_payment_bill = bill
        MonthlyDue.objects.bulk_create(dues)
        held = list(Payment.objects.filter(person=person, unapplied_amount__gt=0).values_list("pk", flat=True))
        if held:
            payments_apply(held)
    return bill
