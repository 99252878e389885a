"""测算引擎: one chunk of persons recomputed under production and under "production + draft".

Nothing of production is changed. Contributions reuse the billing itself (:func:`contributions.jobs.dues_for_month`,
its set-based SQL and the bases it recomputes) inside a savepoint that is always rolled back: the period's dues
and bases of the chunk are set aside, billed again, summed, and the savepoint undoes it all. Claims go through
the same :func:`benefits.claims.services.evaluate` as the settlement run, in memory, with the year's
accumulators rebuilt from the first claim of the year. Each side (基线 / 草案) runs the same code, so a draft
equal to the policy in force gives exactly zero difference (tests/test_simulation.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum

from batch.dates import add_months, months_between
from benefits.claims.families.base import Acc
from benefits.claims.jobs import items_of
from benefits.claims.models import Claim, ClaimStatus
from benefits.claims.selectors import balances_of, person_contexts
from benefits.claims.services import ClaimError, claim_facts, evaluate, ledger_amounts, transfer_source
from contributions.jobs import dues_for_month
from contributions.models import ContributionBase, MonthlyDue
from contributions.periods import base_year_start
from enrollment.models import EnrolmentSpan, InsuredPerson
from funds.credits import credit_retirees
from policy.calculations import InputError
from policy.models import Jurisdiction
from policy.resolver import Overlay, Policy, PolicyError, draft_overlay

ZERO = Decimal(0)
SIDES = ("base", "draft")
#: 年龄段 (a presentation of the results, not a rule): lower bounds of the bands, in years.
AGE_BANDS = (0, 30, 40, 50, 60, 70)


def age_band(birth: date | None, on: date) -> str:
    """The band of the person's age on ``on`` (e.g. ``40-49``; the last band ``70+``)."""
    if birth is None:
        return ""
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    low = max(b for b in AGE_BANDS if b <= max(age, 0))
    i = AGE_BANDS.index(low)
    return f"{low}+" if i == len(AGE_BANDS) - 1 else f"{low}-{AGE_BANDS[i + 1] - 1}"


def period_months(start: date, end: date) -> list[date]:
    """The months (first days) of the half-open period [start, end)."""
    return [add_months(start, i) for i in range(months_between(start, end))]


@dataclass
class PersonFigures:
    """One person's figures in one jurisdiction, per side."""

    income: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(SIDES, ZERO))
    account: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(SIDES, ZERO))
    spending: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(SIDES, ZERO))
    category: str = ""
    claims: int = 0


@dataclass
class ChunkFigures:
    persons: dict[tuple[int, str], PersonFigures] = field(default_factory=lambda: defaultdict(PersonFigures))
    #: (jurisdiction, hospital level) → [claims, spending base, spending draft]
    levels: dict[tuple[str, str], list] = field(default_factory=lambda: defaultdict(lambda: [0, ZERO, ZERO]))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class _Undo(Exception):
    """Raised to roll the savepoint back: the recomputed dues were only read."""


# --- contributions: bases and dues ------------------------------------------------------------------------


def _set_aside(codes: list[str], months: list[date], lo: int, hi: int) -> None:
    """Inside the savepoint: the chunk's dues of the period and bases of its base years are removed, so
    billing recomputes them (the savepoint is rolled back afterwards; foreign keys are checked at commit)."""
    jids = list(Jurisdiction.objects.filter(code__in=codes).values_list("pk", flat=True))
    base_years = sorted({base_year_start(Policy(code, m), m) for code in codes for m in months})
    ops = connection.ops
    marks = ", ".join(["%s"] * len(jids))
    with connection.cursor() as cur:
        cur.execute(
            f"DELETE FROM {MonthlyDue._meta.db_table} WHERE person_id >= %s AND person_id < %s "
            f"AND month >= %s AND month < %s AND jurisdiction_id IN ({marks})",
            [lo, hi, ops.adapt_datefield_value(months[0]), ops.adapt_datefield_value(add_months(months[-1], 1)), *jids],
        )
        years = ", ".join(["%s"] * len(base_years))
        cur.execute(
            f"DELETE FROM {ContributionBase._meta.db_table} WHERE person_id >= %s AND person_id < %s "
            f"AND jurisdiction_id IN ({marks}) AND year_start IN ({years})",
            [lo, hi, *jids, *(ops.adapt_datefield_value(y) for y in base_years)],
        )


def dues_side(codes: list[str], months: list[date], lo: int, hi: int, overlay: Overlay | None) -> dict:
    """(person, jurisdiction) → (fund income, account credits, category) of the period's dues, billed again."""
    out: dict[tuple[int, str], tuple[Decimal, Decimal, str]] = {}
    try:
        with transaction.atomic():
            with draft_overlay(overlay):
                _set_aside(codes, months, lo, hi)
                for code in codes:
                    for m in months:
                        dues_for_month(code, m, lo=lo, hi=hi, run_id=None)
            rows = (
                MonthlyDue.objects.filter(
                    person_id__gte=lo,
                    person_id__lt=hi,
                    month__gte=months[0],
                    month__lt=add_months(months[-1], 1),
                    jurisdiction__code__in=codes,
                )
                .values("person_id", "jurisdiction__code", "category")
                .annotate(total=Sum("total"), account=Sum("personal_account_amount"))
            )
            for r in rows:
                key = (r["person_id"], r["jurisdiction__code"])
                income, account, _cat = out.get(key, (ZERO, ZERO, ""))
                acct = Decimal(r["account"] or 0)
                out[key] = (income + Decimal(r["total"] or 0) - acct, account + acct, r["category"])
            raise _Undo
    except _Undo:
        pass
    return out


def contributions_chunk(figures: ChunkFigures, codes: list[str], start: date, end: date, lo: int, hi: int, overlay):
    months = period_months(start, end)
    if not months:
        return
    for side, layer in (("base", None), ("draft", overlay)):
        for key, (income, account, category) in dues_side(codes, months, lo, hi, layer).items():
            f = figures.persons[key]
            f.income[side] += income
            f.account[side] += account
            f.category = f.category or category


# --- accounts: retirees' monthly credits from the pool ---------------------------------------------------


def retiree_credits_side(codes: list[str], months: list[date], lo: int, hi: int, overlay: Overlay | None) -> dict:
    """(person, jurisdiction id) → the period's retiree credits (funds.credits, nothing posted; savepoint undone)."""
    out: dict[tuple[int, int], Decimal] = {}
    try:
        with transaction.atomic():
            with draft_overlay(overlay):
                for code in codes:
                    for m in months:
                        credit_retirees(
                            lo=lo, hi=hi, month=m, jurisdiction=code, run_id=None, user_id=None, capture=out
                        )
            raise _Undo
    except _Undo:
        pass
    return out


def accounts_chunk(figures: ChunkFigures, codes: list[str], start: date, end: date, lo: int, hi: int, overlay):
    """退休人员个人账户划入: from the pooled fund (fund spending, funds.models POOL_SPENDING_KINDS) to accounts."""
    months = period_months(start, end)
    if not months:
        return
    code_of = dict(Jurisdiction.objects.filter(code__in=codes).values_list("pk", "code"))
    for side, layer in (("base", None), ("draft", overlay)):
        for (pid, jid), amount in retiree_credits_side(codes, months, lo, hi, layer).items():
            f = figures.persons[(pid, code_of[jid])]
            f.account[side] += amount
            f.spending[side] += amount
            f.category = f.category or "retiree"


# --- benefits: the period's claims ------------------------------------------------------------------------


def _claims(codes: list[str], start: date, end: date, lo: int, hi: int) -> list[Claim]:
    """Settled claims of the chunk from the first day of the period's first year (the year's accumulators)."""
    return list(
        Claim.objects.filter(
            person_id__gte=lo,
            person_id__lt=hi,
            status__in=(ClaimStatus.ADJUDICATED, ClaimStatus.PAID),
            jurisdiction__code__in=codes,
            start_date__gte=date(start.year, 1, 1),
            start_date__lt=end,
        )
        .select_related("jurisdiction")
        .order_by("person_id", "start_date", "row_number", "id")
    )


def claims_chunk(figures: ChunkFigures, codes: list[str], start: date, end: date, lo: int, hi: int, overlay):
    """Each settled claim decided again under both sides; pooled fund + layer payments are fund spending."""
    claims = _claims(codes, start, end, lo, hi)
    if not claims:
        return
    contexts = person_contexts({c.person_id for c in claims}, as_of=end - timedelta(days=1), refresh_missing=False)
    lines = items_of([c.pk for c in claims])
    opening = balances_of({(c.person_id, c.jurisdiction_id) for c in claims})
    for side, layer in (("base", None), ("draft", overlay)):
        accs: dict[tuple[int, int, int], Acc] = defaultdict(Acc)
        balances = defaultdict(Decimal, opening)
        earlier: dict[int, tuple[Decimal, str]] = {}
        with draft_overlay(layer):
            for claim in claims:
                counted = claim.start_date >= start
                key = (claim.person_id, claim.jurisdiction_id)
                try:
                    transfer = earlier.get(claim.transfer_from_id) if claim.transfer_from_id else None
                    facts = claim_facts(claim, items=lines.get(claim.pk), transfer=transfer)
                    year_accs = {y: accs[(claim.person_id, claim.jurisdiction_id, y)] for y in facts.years}
                    decision = evaluate(facts, contexts[claim.person_id], year_accs, balances[key])
                except (PolicyError, InputError, ClaimError) as exc:
                    figures.errors[f"claims_error_{side}:{type(exc).__name__}"] += 1
                    continue
                if decision.status != ClaimStatus.ADJUDICATED:
                    if counted:
                        figures.errors[f"claims_refused_{side}"] += 1
                    continue
                for year, deltas in decision.effects.items():
                    accs[(claim.person_id, claim.jurisdiction_id, int(year))].apply(deltas)
                balances[key] -= decision.breakdown["acct_pay"]
                earlier[claim.pk] = transfer_source(
                    decision.extra.get("stay_deductible"), decision.breakdown["act_pay_dedc"], claim.hospital_level
                )
                if not counted:
                    continue
                amounts = ledger_amounts(decision)
                paid = amounts["pool"] + amounts["layer"]
                f = figures.persons[(claim.person_id, claim.jurisdiction.code)]
                f.spending[side] += paid
                level = figures.levels[(claim.jurisdiction.code, claim.hospital_level or "")]
                level[1 if side == "base" else 2] += paid
                if side == "base":
                    f.claims += 1
                    level[0] += 1


# --- the chunk ---------------------------------------------------------------------------------------------


def person_facts(ids: Iterable[int], lo: int, hi: int, end: date) -> tuple[dict[int, date], dict[tuple[int, str], str]]:
    """Birth dates, and each person's latest category per jurisdiction before the period's end."""
    births = dict(InsuredPerson.objects.filter(pk__in=set(ids)).values_list("pk", "birth_date"))
    categories: dict[tuple[int, str], str] = {}
    for pid, code, category in (
        EnrolmentSpan.objects.filter(person_id__gte=lo, person_id__lt=hi, person_id__in=set(ids), start__lt=end)
        .order_by("person_id", "start")
        .values_list("person_id", "jurisdiction__code", "category")
    ):
        categories[(pid, code)] = category
    return births, categories


def simulate_chunk(
    *, codes: list[str], start: date, end: date, lo: int, hi: int, overlay: Overlay, areas: set[str]
) -> ChunkFigures:
    """Both sides' figures of the chunk's persons for the areas the draft touches."""
    figures = ChunkFigures()
    if "contributions" in areas or "accounts" in areas:
        contributions_chunk(figures, codes, start, end, lo, hi, overlay)
    if "accounts" in areas:
        accounts_chunk(figures, codes, start, end, lo, hi, overlay)
    if "benefits" in areas:
        claims_chunk(figures, codes, start, end, lo, hi, overlay)
    return figures
