"""Contribution history for a generated population (演示数据): declarations, bases, months of dues, payments.

Builds on :mod:`operations.demo.population` (``manage.py demo_population``). Everything is set-based:
declarations by one INSERT … SELECT per year, bases and dues by the engine's own batch jobs,
payments as one UPDATE. The reference wage, where none is stored, is a demo statistic flagged
``is_demo`` (演示用数值，并非官方公布数): the seeds give none.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from enrollment.models import Employer, EnrolmentSpan, InsuredPerson
from policy.models import Jurisdiction, ReferenceStatistic
from policy.resolver import Policy, PolicyMissing, invalidate

from . import services, sql
from .models import ContributionBase, MonthlyDue, Payment, PaymentAllocation, WageDeclaration
from .periods import add_months, base_year_start

DEMO_REFERENCE_WAGE = Decimal("7000.00")  # demo only, flagged is_demo


@dataclass
class HistoryReport:
    declarations: int = 0
    dues: int = 0
    settled: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def demo_reference_wage(code: str, on: date) -> bool:
    """Store a demo 缴费基准值 in force on ``on`` unless a statistic is already there. True if added."""
    try:
        Policy(code, on).stat("reference_monthly_wage")
        return False
    except PolicyMissing:
        pass
    ReferenceStatistic.objects.create(
        jurisdiction=Jurisdiction.objects.get(code=code),
        key="reference_monthly_wage",
        effective_from=date(on.year - 1, 1, 1),
        period_label="演示",
        value=DEMO_REFERENCE_WAGE,
        is_demo=True,
        source="contributions.history（演示数据）",
    )
    invalidate()
    return True


def declarations_generate(code: str, year: int, *, raise_pct: int = 0) -> int:
    """One declaration per employee with an open span: a wage spread 1500–30000 by person id (+raise_pct %)."""
    S, D = sql.t(EnrolmentSpan), sql.t(WageDeclaration)
    wage = f"(1500 + ((s.person_id * 7919) %% 2850000) / 100.0) * {100 + raise_pct} / 100.0"
    with transaction.atomic():
        return sql.execute(
            f"""INSERT INTO {D} (person_id, employer_id, year, monthly_wage, annual_wage_total, first_pay_month,
                    import_job_id, declared_by_id, declared_at)
            SELECT s.person_id, s.employer_id, %s, ROUND({wage}, 2), NULL, NULL, NULL, NULL, %s
            FROM {S} s
            WHERE s.jurisdiction_id = %s AND s.category = 'employee' AND s.{sql.q("end")} IS NULL
            ON CONFLICT (person_id, employer_id, year) DO NOTHING""",
            [year, sql.tparam(timezone.now()), sql.jurisdiction_id(code)],
        )


def payments_simulate(code: str, *, arrears_per_mille: int) -> int:
    """Mark dues paid in full on their due date (or the month's end), except for about
    ``arrears_per_mille`` persons in a thousand, who stay in arrears (set-based; demo only)."""
    DU = sql.t(MonthlyDue)
    with transaction.atomic():
        return sql.execute(
            f"""UPDATE {DU} SET paid_principal = total, settled_on = COALESCE(due_date, month)
            WHERE jurisdiction_id = %s AND settled_on IS NULL AND (person_id * 7) %% 1000 >= %s""",
            [sql.jurisdiction_id(code), arrears_per_mille],
        )


def history_generate(
    *, jurisdiction: str, first_month: date, months: int, arrears_per_mille: int = 50
) -> HistoryReport:
    """Declarations and bases for the base years covered, ``months`` months of dues, payments."""
    report = HistoryReport()
    demo_reference_wage(jurisdiction, first_month)
    sql.analyze(EnrolmentSpan, InsuredPerson, Employer)
    policy = Policy(jurisdiction, first_month)
    years = sorted({base_year_start(policy, add_months(first_month, i)) for i in range(months)})
    for ys in years:
        t0 = time.perf_counter()
        report.declarations += declarations_generate(jurisdiction, ys.year)
        sql.analyze(WageDeclaration)
        services.base_reset(jurisdiction=jurisdiction, on=ys, in_process=True)
        sql.analyze(ContributionBase)
        report.timings[f"declarations+bases {ys}"] = time.perf_counter() - t0
    for i in range(months):
        month = add_months(first_month, i)
        t0 = time.perf_counter()
        run = services.dues_generate(month=month, jurisdiction=jurisdiction, in_process=True)
        report.dues += run.counts.get("generated", 0) + run.counts.get("generated_retiree_premium", 0)
        sql.analyze(MonthlyDue, ContributionBase, Payment, PaymentAllocation)
        report.timings[f"dues {month:%Y-%m}"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    report.settled = payments_simulate(jurisdiction, arrears_per_mille=arrears_per_mille)
    sql.analyze(MonthlyDue)
    report.timings["payments"] = time.perf_counter() - t0
    return report
