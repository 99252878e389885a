"""Batch steps of the contribution engine (run by :mod:`batch.runs`, one chunk of persons each).

* ``contributions.base_reset`` — 年度缴费基数核定: every person's base for the new base year,
  then (once the run is done) every employer's base;
* ``contributions.dues_generate`` — 生成月度应缴 (params ``{"month": "YYYY-MM"}``);
* ``contributions.arrears_accrue`` — 欠费滞纳金计提 (nightly, ``as_of``).

Each step is set-based SQL (:mod:`contributions.sql`) and idempotent: a second run with the
same arguments reports zero changes.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from django.utils import timezone

from batch.models import BatchRun
from batch.runs import ChunkContext, batch_job, record_skip
from enrollment.selectors import person_id_bounds
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyError, snapshot

from . import sql
from .calculations.new_employer import KEY as KEY_NEW_EMPLOYER
from .calculations.new_employer import new_employer_base
from .models import (
    ContributionBase,
    EmployerBase,
    EmployerBaseBasis,
    MonthlyDue,
    Payment,
    PaymentAllocation,
    WageDeclaration,
)
from .periods import MONTHLY, add_months, allowed_frequencies, due_date, month_start, period_months
from .rules import base_constants, late_fee_rate, missing_key, month_constants


def _codes(ctx: ChunkContext) -> list[str]:
    return [ctx.jurisdiction] if ctx.jurisdiction else sql.jurisdictions_in_range(ctx.lo, ctx.hi)


def _plain(counts: Counter) -> dict[str, int]:
    return {k: int(v) for k, v in counts.items()}


# --- annual base reset ------------------------------------------------------------------------


def new_employer_bases_apply(code: str, year_start: date, year: int, *, exclude=()) -> int:
    """New employers' bases (langfang 第十三条, ``contribution.new_employer_base_rule``): those founded in the
    contribution year get the wage bill of the current month (their declared monthly wages) as their base."""
    policy = Policy(code, year_start)
    if policy.value(KEY_NEW_EMPLOYER, None) is None:
        return 0
    rows = (
        EmployerBase.objects.filter(
            year_start=year_start, employer__jurisdiction__code=code, employer__registered_on__gte=year_start
        )
        .exclude(employer_id__in=list(exclude))
        .select_related("employer")
    )
    changed = 0
    for row in rows:
        wages = WageDeclaration.objects.filter(employer_id=row.employer_id, year=year).values_list(
            "monthly_wage", flat=True
        )
        base, _ = new_employer_base(
            policy, registered_on=row.employer.registered_on, year_start=year_start, monthly_wages=wages
        )
        if base is not None and (row.base != base or row.basis != EmployerBaseBasis.WAGE_BILL):
            row.base, row.basis, row.audited = base, EmployerBaseBasis.WAGE_BILL, True
            row.save(update_fields=["base", "basis", "audited"])
            changed += 1
    return changed


def _employer_bases(run: BatchRun) -> None:
    """After all chunks: the employers' bases of the year (they add up persons across chunks)."""
    codes = [run.jurisdiction.code] if run.jurisdiction else sql.jurisdictions_in_range(0, 2**62)
    sql.tune()
    sql.analyze(ContributionBase, EmployerBase)  # a year of rows was just written
    total: Counter = Counter()
    now = timezone.now()
    for code in codes:
        c = base_constants(code, run.as_of)
        rule = Policy(code, c.year_start).value("contribution.employer_base_rule", None)
        if rule is None:
            total["employer_bases_missing:contribution.employer_base_rule"] += 1
        # A declared wage out of bounds would overflow the employer's wage bill: that employer is skipped.
        poisoned = sql.employer_wages_out_of_bounds(c)
        for employer_id, person_id, wage in poisoned:
            record_skip(
                run,
                f"{sql.WAGE_OUT_OF_BOUNDS}: 人员ID {person_id} 的申报月工资 {wage:,.2f} 超出合理范围，"
                "该单位缴费基数未核定",
                employer_id=employer_id,
                person_id=person_id,
            )
        if poisoned:
            total["employer_bases_skipped"] += len({e for e, _, _ in poisoned})
        exclude = sorted({e for e, _, _ in poisoned})
        total += sql.employer_bases_upsert(c, rule=rule, run_id=run.pk, now=now, exclude=exclude)
        total["new_employer_bases"] += new_employer_bases_apply(code, c.year_start, c.year, exclude=exclude)
    run.counts = {**run.counts, **_plain(total)}
    run.save(update_fields=["counts"])


@batch_job("contributions.base_reset", ids=person_id_bounds, label="年度缴费基数核定", finish=_employer_bases)
def base_reset(ctx: ChunkContext) -> dict[str, int]:
    """Recompute the base of the base year containing ``as_of`` for everyone paying in it.

    hunan 第九条–第十条, langfang 第十二条–第十七条 and 第二十一条 (D-L19), sanmenxia 第六条,
    ziyang 第九条(一). Counts: recomputed, unchanged, raised_by_penalty, clamped_floor,
    clamped_ceiling, missing_wage, missing:<parameter>, wage_out_of_bounds (those persons are
    listed as skipped in the run).
    """
    sql.tune()
    counts: Counter = Counter()
    now = timezone.now()
    for code in _codes(ctx):
        c = base_constants(code, ctx.as_of)
        counts += sql.bases_upsert(
            c,
            lo=ctx.lo,
            hi=ctx.hi,
            window=(c.year_start, c.year_end),
            run_id=ctx.run.pk,
            now=now,
            refused=ctx.skips,
        )
    return _plain(counts)


# --- monthly dues -----------------------------------------------------------------------------


def _month_param(ctx: ChunkContext) -> date:
    raw = ctx.params.get("month")
    if not raw:
        return month_start(ctx.as_of)
    year, month = str(raw).split("-")[:2]
    return date(int(year), int(month), 1)


def _frequency_filter(frequency: str, allowed: tuple[str, ...]) -> str:
    """SQL on ``e`` (the employer) choosing who is billed under ``frequency`` (langfang 第十八条)."""
    if frequency == MONTHLY:
        others = [f for f in allowed if f != MONTHLY]
        if not others:
            return "1 = 1"
        listed = ", ".join(sql.text_lit(f) for f in others)
        return f"(e.id IS NULL OR e.payment_frequency NOT IN ({listed}))"
    return f"e.payment_frequency = {sql.text_lit(frequency)}"


def dues_for_month(code: str, month: date, *, lo: int, hi: int, run_id: int | None) -> Counter:
    """Dues of ``month`` (and, for quarterly / half-yearly / yearly payers, the rest of their period)."""
    counts: Counter = Counter()
    now = timezone.now()
    policy = Policy(code, month)
    try:
        frequencies = allowed_frequencies(policy)
    except PolicyError as exc:
        counts[missing_key(exc)] += 1
        return counts
    for frequency in frequencies:
        months = period_months(policy, month, frequency)
        deadline = due_date(policy, months[0])
        where = _frequency_filter(frequency, frequencies)
        for m in months:
            c = base_constants(code, m)
            window = (m, add_months(m, 1))
            for key, n in sql.bases_upsert(
                c, lo=lo, hi=hi, window=window, run_id=run_id, now=now, only_stale=True
            ).items():
                counts[f"base_{key}"] += n
            mc = month_constants(code, m)
            counts += sql.dues_insert(
                mc, lo=lo, hi=hi, frequency_filter=where, due_date=deadline, run_id=run_id, now=now
            )
    mc = month_constants(code, month)
    if mc.critical_illness_cents:
        counts += sql.retiree_premiums_insert(
            mc, lo=lo, hi=hi, due_date=due_date(policy, month), run_id=run_id, now=now
        )
    if not policy.has("contribution.due_day") and counts.get("generated"):
        counts["missing:contribution.due_day"] += counts["generated"]
    return counts


def _dues_finish(run: BatchRun) -> None:
    """Fresh planner statistics after a month of dues was written (the next run plans with them)."""
    sql.analyze(MonthlyDue, ContributionBase, Payment, PaymentAllocation)


@batch_job("contributions.dues_generate", ids=person_id_bounds, label="生成月度应缴", finish=_dues_finish)
def dues_generate(ctx: ChunkContext) -> dict[str, int]:
    """Bill the month (params ``month``; default: the month of ``as_of``), then apply held payments.

    Counts: generated, existing, no_base, base_* (bases of people who joined or
    moved during the year), missing:<parameter>, and the payment counts of
    :func:`contributions.sql.payments_allocate`.
    """
    sql.tune()
    month = _month_param(ctx)
    counts: Counter = Counter()
    for code in _codes(ctx):
        counts += dues_for_month(code, month, lo=ctx.lo, hi=ctx.hi, run_id=ctx.run.pk)
    counts += sql.payments_allocate(person_range=(ctx.lo, ctx.hi), rates=late_fee_rates(month), now=timezone.now())
    return _plain(counts)


def late_fee_rates(on: date) -> dict[int, int]:
    """Jurisdiction id → daily late-fee rate (millionths) in force on ``on``; jurisdictions without one are left out."""

    rates = {}
    for pk, code in Jurisdiction.objects.values_list("pk", "code"):
        rate = late_fee_rate(code, on)
        if rate is not None:
            rates[pk] = rate
    return rates


# --- nightly arrears and late fees ------------------------------------------------------------


@batch_job("contributions.arrears_accrue", ids=person_id_bounds, label="欠费滞纳金计提")
def arrears_accrue(ctx: ChunkContext) -> dict[str, int]:
    """滞纳金 on every unsettled due past its due date, recomputed as of ``as_of`` (D-X14).

    Counts: accrued (dues whose fee or deferral flag changed), in_arrears,
    missing:contribution.late_fee_daily_pct.
    """
    sql.tune()
    rates = rates_on(ctx.as_of)
    if ctx.jurisdiction:
        rates = {jid: r for jid, r in rates.items() if jid == sql.jurisdiction_id(ctx.jurisdiction)}
    # one count and one UPDATE over the chunk's unsettled dues, every jurisdiction at once (issue #13)
    return _plain(sql.fees_accrue_all(rates, lo=ctx.lo, hi=ctx.hi, as_of=ctx.as_of))


_RATES: dict[tuple[date, float], dict[int, int | None]] = {}


def rates_on(on: date) -> dict[int, int | None]:
    """Jurisdiction id → daily late-fee rate on ``on`` (None where none is in force), kept per worker process for
    the policy snapshot it was read from (a policy change builds a new snapshot and so new rates)."""
    key = (on, snapshot().built_at)
    rates = _RATES.get(key)
    if rates is None:
        _RATES.clear()
        rates = _RATES[key] = {
            pk: late_fee_rate(code, on) for pk, code in Jurisdiction.objects.values_list("pk", "code")
        }
    return rates


# 城乡居民医保年度应缴 (issue #15): registered from its own module.
from .residents import jobs as _resident_jobs  # noqa: E402, F401
