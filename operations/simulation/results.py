"""The figures of a simulation's result page and export (测算结果): per jurisdiction and in total, histogram,
breakdowns by category, hospital level and age band, the largest individual changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Abs

from batch.dates import months_between
from benefits.calculations._common import LEVEL_ZH
from enrollment.models import Category

from ..models import Simulation, SimulationLevelResult, SimulationPersonResult

ZERO = Decimal(0)
CENT = Decimal("0.01")
HISTOGRAM_BINS = 12
LARGEST = 20


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


NET = F("income_draft") - F("income_base") - (F("spending_draft") - F("spending_base"))
CHANGED = (
    ~Q(income_draft=F("income_base")) | ~Q(account_draft=F("account_base")) | ~Q(spending_draft=F("spending_base"))
)
MONEY = ("income_base", "income_draft", "account_base", "account_draft", "spending_base", "spending_draft")
# aggregate names differ from the fields' (an annotation may not shadow a field)
_SUMS = {
    **{f"sum_{name}": Sum(name) for name in MONEY},
    "persons": Count("id"),
    "affected": Count("id", filter=CHANGED),
}


@dataclass
class Figures:
    """基金收入、支出、个人账户划入 (基线 / 草案 / 变化), persons affected, months of spending."""

    label: str
    income_base: Decimal = ZERO
    income_draft: Decimal = ZERO
    account_base: Decimal = ZERO
    account_draft: Decimal = ZERO
    spending_base: Decimal = ZERO
    spending_draft: Decimal = ZERO
    persons: int = 0
    affected: int = 0
    months_base: Decimal | None = None
    months_draft: Decimal | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, label: str, row: dict[str, Any]) -> Figures:
        money = {k: _money(row.get(f"sum_{k}", row.get(k))) for k in MONEY}
        return cls(label, **money, persons=row.get("persons") or 0, affected=row.get("affected") or 0)

    @property
    def income_change(self) -> Decimal:
        return self.income_draft - self.income_base

    @property
    def account_change(self) -> Decimal:
        return self.account_draft - self.account_base

    @property
    def spending_change(self) -> Decimal:
        return self.spending_draft - self.spending_base

    @property
    def net_change(self) -> Decimal:
        """统筹基金净变化: more income, less spending."""
        return self.income_change - self.spending_change

    @property
    def months_change(self) -> Decimal | None:
        if self.months_base is None or self.months_draft is None:
            return None
        return self.months_draft - self.months_base


def _months_of_spending(fig: Figures, fund: dict[str, str], months: int) -> None:
    """可支付月数 at the period's end: balance ÷ average monthly spending; the draft moves the balance by the
    net change and the spending by the spending change (funds.health: balance ÷ average monthly spending)."""
    balance, spending = Decimal(fund.get("balance") or 0), Decimal(fund.get("spending") or 0)
    if months <= 0:
        return
    if spending > 0:
        fig.months_base = (balance / (spending / months)).quantize(CENT, rounding=ROUND_HALF_UP)
    draft_spending = spending + fig.spending_change
    if draft_spending > 0:
        fig.months_draft = ((balance + fig.net_change) / (draft_spending / months)).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
    fig.extra = {"balance": balance, "fund_spending": spending}


def by_jurisdiction(sim: Simulation) -> tuple[list[Figures], Figures]:
    """Each jurisdiction's figures and the total."""
    months = months_between(sim.period_start, sim.period_end)
    rows = {
        r["jurisdiction_code"]: r
        for r in sim.persons.values("jurisdiction_code").annotate(**_SUMS).order_by("jurisdiction_code")
    }
    out = []
    for code in sorted(set(rows) | set(sim.fund_balances or {})):
        fig = Figures.of(code, rows.get(code, {}))
        _months_of_spending(fig, (sim.fund_balances or {}).get(code, {}), months)
        out.append(fig)
    total = Figures.of("合计", sim.persons.aggregate(**_SUMS))
    funds = sim.fund_balances or {}
    combined = {
        "balance": str(sum((Decimal(f.get("balance") or 0) for f in funds.values()), ZERO)),
        "spending": str(sum((Decimal(f.get("spending") or 0) for f in funds.values()), ZERO)),
    }
    _months_of_spending(total, combined, months)
    return out, total


def breakdown(sim: Simulation, field_name: str, labels: dict[str, str] | None = None) -> list[Figures]:
    """The figures grouped by a person field (category, age band)."""
    rows = sim.persons.values(field_name).annotate(**_SUMS).order_by(field_name)
    return [Figures.of((labels or {}).get(r[field_name], r[field_name]) or "（未知）", r) for r in rows]


def by_category(sim: Simulation) -> list[Figures]:
    return breakdown(sim, "category", dict(Category.choices))


def by_age_band(sim: Simulation) -> list[Figures]:
    return breakdown(sim, "age_band")


def by_level(sim: Simulation) -> list[Figures]:
    """Claims' fund spending by hospital level (医疗机构等级)."""
    rows = (
        SimulationLevelResult.objects.filter(simulation=sim)
        .values("hospital_level")
        .annotate(
            sum_spending_base=Sum("spending_base"), sum_spending_draft=Sum("spending_draft"), n_claims=Sum("claims")
        )
        .order_by("hospital_level")
    )
    out = []
    for r in rows:
        fig = Figures.of(LEVEL_ZH.get(r["hospital_level"], r["hospital_level"]) or "（未注明）", r)
        fig.extra = {"claims": r["n_claims"]}
        out.append(fig)
    return out


def histogram(sim: Simulation, bins: int = HISTOGRAM_BINS) -> list[tuple[str, int]]:
    """The distribution of the per-person net change (affected persons only) in equal-width bins."""
    values = [Decimal(v) for v in sim.persons.filter(CHANGED).annotate(net=NET).values_list("net", flat=True)]
    if not values:
        return []
    low, high = min(values), max(values)
    if low == high:
        return [(f"{_money(low)}", len(values))]
    width = (high - low) / bins
    counts = [0] * bins
    for v in values:
        counts[min(int((v - low) / width), bins - 1)] += 1
    return [(f"{_money(low + width * i)}～{_money(low + width * (i + 1))}", counts[i]) for i in range(bins)]


def largest(sim: Simulation, n: int = LARGEST) -> list[SimulationPersonResult]:
    """The persons whose net change is largest (either way)."""
    return list(sim.persons.filter(CHANGED).annotate(net=NET, size=Abs(NET)).order_by("-size", "person_id")[:n])


def person_ids(rows: list[SimulationPersonResult]) -> dict[int, tuple[str, str]]:
    """Person id → (name, 身份证号) of the rows shown (masked by the caller for roles without PII)."""
    from enrollment.models import InsuredPerson

    return {
        pk: (name, idn)
        for pk, name, idn in InsuredPerson.objects.filter(pk__in=[r.person_id for r in rows]).values_list(
            "pk", "name", "id_number"
        )
    }


def summary_counts(sim: Simulation) -> dict[str, int]:
    return dict(
        SimulationPersonResult.objects.filter(simulation=sim).aggregate(
            persons=Count("id"), affected=Count("id", filter=CHANGED)
        )
    )
