"""A demo history current to the machine's date (演示数据，截至今天), made with the real batch services.

``setup_demo`` passes ``today`` in (``timezone.localdate()``); nothing here reads the clock. For every
jurisdiction, step by step:

1. :func:`staff_values` — where a document leaves a value to staff and the demo needs it (hunan's and
   sanmenxia's 每月缴费截止日, xianning's rates …), a plausible value entered as a STAFF entry
   (``PolicyParameter.origin = staff``, note 演示数据), never into the policy files;
2. :func:`wages` — a declared monthly wage (月平均工资申报) for every employee and base year;
3. :func:`bases_and_dues` — 年度缴费基数核定 (``base_reset``) for each base year and 生成月度应缴
   (``dues_generate``) for the last :data:`MONTHS` months up to the current month;
4. :func:`payments` — most persons pay each month before the due day (set-based: payments inserted,
   then :func:`contributions.services.payments_apply`); per jurisdiction one person owes the last
   months (欠费 → 暂停享受待遇), one owed five months and made them up a few days ago (断保, a new
   waiting period where the rule says so), and in hunan the persons of one employer with an
   approved 缓缴 (第二十二条) have not paid the deferred months;
5. the nightly run (欠费滞纳金、待遇状态、退休清缴) as of today.

Idempotent: a jurisdiction whose persons already have dues is left alone; staff values and wage
declarations are created only where absent. The wages are made up (deterministic by person id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models import Q, Sum

from batch.runs import run_in_process
from benefits.models import EligibilityPeriod, EligibilityStatus
from contributions.models import Deferral, MonthlyDue, Payment, PaymentSource, WageDeclaration
from contributions.periods import base_year_start
from contributions.services import base_reset, deferral_approve, dues_generate, payments_apply
from enrollment.models import EnrolmentSpan, InsuredPerson
from operations.jobs import NIGHTLY
from policy import resolver
from policy.catalog import jsonable, read_yaml, validate_value
from policy.models import Jurisdiction, ParameterOrigin, PolicyParameter
from policy.resolver import Policy

STAFF_VALUES = Path(__file__).resolve().parent / "staff_values.yaml"
STAFF_NOTE = "演示数据"
STAFF_CITATION = "演示数据（非政策文件）"
MONTHS = 18  # monthly dues for the last 18 months, the current one included
ARREARS_MONTHS = 3  # the arrears person has not paid the last 3 months (the current one included)
LAPSE_MONTHS = 5  # the lapsed person owed 5 months and made them up a few days ago
DEFERRAL_JURISDICTION = "hunan"  # 缓缴 by national plan or provincial approval, benefits unaffected (第二十二条)
DEFERRAL_CITATION = "演示数据：湖南 第二十二条 缓缴（非真实批准文号）"
LATE_MARGIN = Decimal("0.1")  # a late payer brings enough for the 滞纳金 as well (the rest is held as 预缴)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def demo_wage(person_id: int) -> Decimal:
    """月平均工资 (演示): 3,000–11,999, deterministic by person id."""
    return Decimal(3000 + (person_id * 7919) % 9000)


def showcase(today: date) -> dict[str, list[str]]:
    """People worth opening, by jurisdiction name: name, what happened, 待遇享受状态 today (no database ids).

    Found from the data, so a second run names them too: the first person suspended today (欠费), the
    person who made up months late (``DEMO-LAPSE-`` payment), one person of the deferred employer.
    """
    current = EligibilityPeriod.objects.filter(start__lte=today).filter(Q(end__isnull=True) | Q(end__gt=today))
    out: dict[str, list[str]] = {}
    for jur in Jurisdiction.objects.order_by("code"):
        suspended = (
            current.filter(jurisdiction=jur, status=EligibilityStatus.SUSPENDED)
            .order_by("person_id")
            .values_list("person_id", flat=True)
            .first()
        )
        lapsed = (
            Payment.objects.filter(reference__startswith="DEMO-LAPSE-", person__spans__jurisdiction=jur)
            .values_list("person_id", flat=True)
            .first()
        )
        deferred = (
            MonthlyDue.objects.filter(jurisdiction=jur, deferred=True, settled_on__isnull=True)
            .exclude(person_id__in=[p for p in (suspended, lapsed) if p is not None])
            .order_by("person_id")
            .values_list("person_id", flat=True)
            .first()
        )
        picks = [
            (suspended, "欠费未缴"),
            (lapsed, f"欠费{LAPSE_MONTHS}个月后补缴"),
            (deferred, "所在单位经批准缓缴，缓缴月份未缴"),
        ]
        ids = [p for p, _ in picks if p is not None]
        names = dict(InsuredPerson.objects.filter(pk__in=ids).values_list("pk", "name"))
        status = dict(current.filter(person_id__in=ids).values_list("person_id", "status"))
        seen: set[int] = set()
        for person_id, story in picks:
            if person_id is None or person_id in seen:
                continue
            seen.add(person_id)
            today_is = EligibilityStatus(status[person_id]).label if person_id in status else "尚无待遇状态"
            out.setdefault(jur.name, []).append(f"{names[person_id]}（{story}，今天：{today_is}）")
    return out


# --- 1. staff values ------------------------------------------------------------------------------


def staff_values(first_month: date) -> int:
    """Enter the demo's staff values (STAFF_VALUES) that are missing; returns how many were entered.

    A key with any value in force from ``first_month`` (file or staff) is left alone.
    """
    created = 0
    jurisdictions = {j.code: j for j in Jurisdiction.objects.all()}
    for row in read_yaml(STAFF_VALUES):
        jur = jurisdictions.get(row["jurisdiction"])
        if jur is None or Policy(jur.code, first_month).has(row["key"]):
            continue
        _, made = PolicyParameter.objects.get_or_create(
            jurisdiction=jur,
            key=row["key"],
            effective_from=row["effective_from"],
            defaults={
                "value": jsonable(validate_value(row["key"], row["value"])),  # the catalog's type and unit
                "citation": STAFF_CITATION,
                "note": f"{STAFF_NOTE}：{row.get('why', '文件未规定，由经办人员录入')}",
                "origin": ParameterOrigin.STAFF,
            },
        )
        created += made
    if created:
        resolver.invalidate()
    return created


# --- 2. wages -------------------------------------------------------------------------------------


def _spans(code: str, first_month: date):
    return EnrolmentSpan.objects.filter(jurisdiction__code=code).filter(Q(end__isnull=True) | Q(end__gt=first_month))


def wages(code: str, year_starts: list[date]) -> int:
    """A declared wage for every employee of the jurisdiction, for each base year (演示)."""
    rows = []
    employees = _spans(code, year_starts[0]).filter(category="employee").values_list("person_id", "employer_id")
    for year_start in year_starts:
        have = set(
            WageDeclaration.objects.filter(year=year_start.year, person__spans__jurisdiction__code=code).values_list(
                "person_id", "employer_id"
            )
        )
        rows += [
            WageDeclaration(person_id=p, employer_id=e, year=year_start.year, monthly_wage=demo_wage(p))
            for p, e in employees
            if (p, e) not in have
        ]
    WageDeclaration.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- 3. bases and dues ----------------------------------------------------------------------------


def base_years(code: str, months: list[date]) -> list[date]:
    return sorted({base_year_start(Policy(code, m), m) for m in months})


def bases_and_dues(code: str, year_starts: list[date], months: list[date]) -> tuple[int, int]:
    """年度缴费基数核定 for each base year, then 生成月度应缴 month by month (the real batch jobs)."""
    bases = dues = 0
    for year_start in year_starts:
        run = base_reset(jurisdiction=code, on=year_start, in_process=True)
        bases += int(run.counts.get("assigned", 0) or run.counts.get("bases", 0) or 0)
    for month in months:
        dues_generate(month=month, jurisdiction=code, in_process=True)
    dues = MonthlyDue.objects.filter(jurisdiction__code=code).count()
    return bases, dues


# --- 4. payments ----------------------------------------------------------------------------------


def _pay_before_due(due: MonthlyDue) -> date:
    """Paid in time: a few days before the due date (or on the 10th of the month when none is set)."""
    if due.due_date is not None:
        return max(due.month, due.due_date - timedelta(days=5))
    return due.month.replace(day=10)


def payments(code: str, months: list[date], today: date) -> int:
    """Most persons pay every month in time; one owes the last months; one made up five months late."""
    current = months[-1]
    deferral = _deferral(code, current, today)
    deferred_employer = deferral.employer_id if deferral else None
    people = list(  # two employees paying since the first month, not of the deferred employer
        MonthlyDue.objects.filter(jurisdiction__code=code, month=months[0], person__spans__category="employee")
        .exclude(employer_id=deferred_employer or 0)
        .order_by("person_id")
        .values_list("person_id", flat=True)
        .distinct()[:2]
    )
    arrears_person, lapsed_person = [*people, None, None][:2]
    unpaid: dict[int, date] = {}  # person -> first month left unpaid
    if arrears_person:
        unpaid[arrears_person] = add_months(current, 1 - ARREARS_MONTHS)
    if lapsed_person:
        unpaid[lapsed_person] = add_months(current, -LAPSE_MONTHS - 1)
    made = 0
    for month in months:
        dues = MonthlyDue.objects.filter(jurisdiction__code=code, month=month, settled_on__isnull=True)
        batch = []
        for due in dues:
            stop = unpaid.get(due.person_id)
            if stop is not None and month >= stop:
                continue
            if deferred_employer and due.employer_id == deferred_employer and month >= deferral.start.replace(day=1):
                continue
            paid_on = _pay_before_due(due)
            if paid_on > today:
                continue  # not yet due: this month's money comes later
            batch.append(
                Payment(
                    person_id=due.person_id,
                    amount=due.total,
                    paid_on=paid_on,
                    source=PaymentSource.MANUAL,
                    reference=f"DEMO-{due.pk}",
                    unapplied_amount=due.total,
                )
            )
        made += _insert_and_apply(batch)
    if lapsed_person:  # the five months made up a few days ago, late fees included (断保)
        owed = MonthlyDue.objects.filter(person_id=lapsed_person, settled_on__isnull=True, month__lt=current)
        amount = owed.aggregate(s=Sum("total"))["s"]
        paid_on = max(today - timedelta(days=3), current)
        if amount:
            amount += (amount * LATE_MARGIN).quantize(Decimal("0.01"))
            ref = f"DEMO-LAPSE-{lapsed_person}-{paid_on:%Y%m%d}"
            made += _insert_and_apply(
                [
                    Payment(
                        person_id=lapsed_person,
                        amount=amount,
                        paid_on=paid_on,
                        source=PaymentSource.MANUAL,
                        reference=ref,
                        unapplied_amount=amount,
                    )
                ]
            )
    return made


def _insert_and_apply(batch: list[Payment]) -> int:
    if not batch:
        return 0
    refs = [p.reference for p in batch]
    existing = set(Payment.objects.filter(reference__in=refs).values_list("reference", flat=True))
    Payment.objects.bulk_create([p for p in batch if p.reference not in existing])
    ids = list(Payment.objects.filter(reference__in=refs).values_list("pk", flat=True))
    payments_apply(ids)
    return len(batch) - len(existing)


def _deferral(code: str, current: date, today: date) -> Deferral | None:
    """缓缴 for one employer of DEFERRAL_JURISDICTION: from two months ago, for six months."""
    if code != DEFERRAL_JURISDICTION:
        return None
    span = _spans(code, current).filter(category="employee", employer__isnull=False).order_by("employer_id").first()
    if span is None:
        return None
    found = Deferral.objects.filter(employer_id=span.employer_id).first()
    if found:
        return found
    start = add_months(current, -2)
    return deferral_approve(
        employer=span.employer,
        start=start,
        end=add_months(start, 6),
        approved_on=start - timedelta(days=10),
        citation=DEFERRAL_CITATION,
        note=STAFF_NOTE,
    )


# --- the whole -----------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    staff_values: int = 0
    wages: int = 0
    dues: int = 0
    payments: int = 0
    status_today: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def demo_current(today: date, *, log: Callable[[str], None] = lambda line: None) -> DemoSummary:
    """Build the demo history up to ``today`` in every jurisdiction, then the nightly run as of today."""
    summary = DemoSummary()
    current = today.replace(day=1)
    months = [add_months(current, -i) for i in range(MONTHS - 1, -1, -1)]
    summary.staff_values = staff_values(months[0])
    if summary.staff_values:
        log(f"  录入演示用经办参数 {summary.staff_values} 项（标注“演示数据”，非政策文件取值）")
    for jur in Jurisdiction.objects.order_by("code"):
        code = jur.code
        if MonthlyDue.objects.filter(jurisdiction=jur).exists():
            summary.skipped.append(jur.name)
            continue
        with transaction.atomic():
            years = base_years(code, months)
            summary.wages += wages(code, years)
            _, dues = bases_and_dues(code, years, months)
            paid = payments(code, months, today)
        summary.dues += dues
        summary.payments += paid
        log(f"  {jur.name}：生成 {months[0]:%Y年%-m月}至 {current:%Y年%-m月} 的月度应缴 {dues} 笔，登记缴费 {paid} 笔")
    if summary.skipped:
        log(f"  {'、'.join(summary.skipped)}已有缴费记录，未改动")
    run = run_in_process(NIGHTLY, as_of=today)
    summary.status_today = status_counts(today)
    log(f"  夜间批处理已按 {today:%Y年%-m月%-d日} 运行（第 {run.pk} 次批处理）")
    return summary


def status_counts(today: date) -> dict[str, int]:
    """How many persons are in each 待遇享受状态 today (labels in words)."""
    rows = (
        EligibilityPeriod.objects.filter(start__lte=today)
        .filter(Q(end__isnull=True) | Q(end__gt=today))
        .values_list("status", flat=True)
    )
    counts: dict[str, int] = {}
    for status in rows:
        label = EligibilityStatus(status).label
        counts[label] = counts.get(label, 0) + 1
    return counts
