"""Fund health (基金运行分析): pure rules over figures, and the selector that reads them from the ledger.

- :func:`monthly_series` — income, spending and balance per month of one fund account;
- :func:`months_of_spending` — balance ÷ trailing average monthly spending (D-S25);
- :func:`balance_levels` — the seeds' levels: hunan 第六十五条 (6–9 target, > 15 too
  much, < 3 too little), sanmenxia 第四十九条 (6–9 target, a warning after 3
  consecutive months under 6, under 3 a report to the city government);
- :func:`risk_reserve_extraction` — xianning 办法 四(三)4(3) 5% of the year's budgeted
  income, sanmenxia 第四十八条 10% of last year's pooled income;
- :func:`deficit_waterfall` — who fills a county's gap (xianning 办法 四(三)4(1)/(4),
  sanmenxia 第四十八条).

Every threshold, percentage and order is a ``funds.*`` parameter; a jurisdiction
whose seed is silent gets ``PolicyMissing`` (D-X16) or, for display, no level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from policy.calculations import money
from policy.resolver import Policy, PolicyMissing

from .models import (
    PER_PERSON,
    POOL_INCOME_KINDS,
    POOL_SPENDING_KINDS,
    POOLED_KINDS,
    SCHEME_ACCOUNTS,
    AccountMonthTotal,
    FundAccount,
)

ZERO = Decimal("0")


# ---------------------------------------------------------------------------
# Monthly series (selector)


@dataclass
class Month:
    month: date
    income: Decimal
    spending: Decimal
    other: Decimal  # internal moves (reserve extraction, …)
    balance: Decimal  # closing balance of the month
    months_of_spending: Decimal | None = None
    levels: list[str] = field(default_factory=list)


def monthly_series(account: FundAccount, *, start: date | None = None, end: date | None = None) -> list[Month]:
    """Income, spending, other moves and closing balance per month (months with no posting included).

    Read from the month totals (:class:`AccountMonthTotal`, kept with the postings), so a
    fund with millions of postings answers at once. For the pooled fund income and spending
    are classified by the entry kind (a reversal keeps its entry's kind, so it nets out);
    for other accounts each kind's net counts as income when positive and spending when
    negative. Balances are shown the natural way round (assets too).
    """
    if account.kind in PER_PERSON:
        raise ValueError("fund health is kept for fund-level accounts, not personal ones")
    totals = AccountMonthTotal.objects.filter(account=account)
    opening = ZERO
    if start is not None:
        opening = totals.filter(month__lt=start).aggregate(s=Sum("amount"))["s"] or ZERO
        totals = totals.filter(month__gte=start)
    if end is not None:
        totals = totals.filter(month__lt=end)
    by_month: dict[date, dict[str, Decimal]] = {}
    for month, kind, amount in totals.values_list("month", "kind", "amount"):
        row = by_month.setdefault(month, {"income": ZERO, "spending": ZERO, "net": ZERO})
        amount = _dec(amount)
        row["net"] += amount
        if account.kind in POOLED_KINDS:
            if kind in POOL_INCOME_KINDS:
                row["income"] += amount
            elif kind in POOL_SPENDING_KINDS:
                row["spending"] -= amount
        elif amount > 0:
            row["income"] += amount
        else:
            row["spending"] -= amount
    if not by_month:
        return []
    side = account.side
    out, balance = [], _dec(opening)
    for m in _month_range(min(by_month), max(by_month)):
        r = by_month.get(m, {"income": ZERO, "spending": ZERO, "net": ZERO})
        balance += r["net"]
        out.append(
            Month(
                month=m,
                income=money(r["income"] * side),
                spending=money(r["spending"] * side),
                other=money((r["net"] - r["income"] + r["spending"]) * side),
                balance=money(balance * side),
            )
        )
    return out


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else ZERO


def _month_range(first: date, last: date) -> list[date]:
    out, m = [], first.replace(day=1)
    while m <= last:
        out.append(m)
        m = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return out


# ---------------------------------------------------------------------------
# Levels (pure)


def months_of_spending(balances: Sequence[Decimal], spendings: Sequence[Decimal], window: int) -> list[Decimal | None]:
    """Balance ÷ the average monthly spending of the last WINDOW months up to and including each month.

    D-S25 (trailing 12-month average). With fewer months of history the average runs
    over the months there are (decision F-C6); no spending → None. Rounded to 0.01 month.
    """
    out: list[Decimal | None] = []
    for i, balance in enumerate(balances):
        recent = spendings[max(0, i - window + 1) : i + 1]
        average = sum(recent, ZERO) / len(recent) if recent else ZERO
        out.append(money(Decimal(balance) / average) if average > 0 else None)
    return out


@dataclass(frozen=True)
class Thresholds:
    target_min: Decimal | None = None
    target_max: Decimal | None = None
    excess: Decimal | None = None
    insufficient: Decimal | None = None
    warning_below: Decimal | None = None
    warning_consecutive: int | None = None
    window: int | None = None
    citations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, policy: Policy) -> Thresholds:
        target = policy.value("funds.balance_target_months", default=None) or {}
        get = lambda k: policy.value(k, default=None)  # noqa: E731
        cites = {
            k: policy.citation(k)
            for k in (
                "funds.balance_target_months",
                "funds.balance_excess_months",
                "funds.balance_insufficient_months",
                "funds.balance_warning_months",
                "funds.spending_average_months",
            )
            if policy.has(k)
        }
        consecutive = get("funds.balance_warning_consecutive")
        window = get("funds.spending_average_months")
        return cls(
            target_min=target.get("min"),
            target_max=target.get("max"),
            excess=get("funds.balance_excess_months"),
            insufficient=get("funds.balance_insufficient_months"),
            warning_below=get("funds.balance_warning_months"),
            warning_consecutive=int(consecutive) if consecutive is not None else None,
            window=int(window) if window is not None else None,
            citations=cites,
        )

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.target_min, self.excess, self.insufficient, self.warning_below))


LEVEL_LABELS = {
    "excess": "结余过多",
    "above_target": "高于控制目标",
    "target": "在控制目标内",
    "below_target": "低于控制目标",
    "insufficient": "结余不足",
    "warning": "基金风险预警",
}


def balance_levels(months: Sequence[Decimal | None], t: Thresholds) -> list[list[str]]:
    """The levels of each month (see :data:`LEVEL_LABELS`); empty where nothing applies.

    hunan 第六十五条: > excess → excess; < insufficient → insufficient; inside the
    target → target. sanmenxia 第四十九条: the warning is raised in the month that
    completes ``warning_consecutive`` consecutive months under ``warning_below``
    and in every further such month; under ``insufficient`` → insufficient.
    """
    out: list[list[str]] = []
    run = 0
    for m in months:
        levels: list[str] = []
        if m is None:
            run = 0
            out.append(levels)
            continue
        if t.excess is not None and m > t.excess:
            levels.append("excess")
        elif t.insufficient is not None and m < t.insufficient:
            levels.append("insufficient")
        if t.target_min is not None and t.target_max is not None:
            if m < t.target_min:
                if "insufficient" not in levels:
                    levels.append("below_target")
            elif m > t.target_max:
                if "excess" not in levels:
                    levels.append("above_target")
            else:
                levels.append("target")
        if t.warning_below is not None and t.warning_consecutive:
            run = run + 1 if m < t.warning_below else 0
            if run >= t.warning_consecutive:
                levels.append("warning")
        out.append(levels)
    return out


def pooled_fund(jurisdiction_id: int, insutype: str = "310") -> FundAccount | None:
    """The pooled fund of a 险种 in a jurisdiction (职工 310 or 城乡居民 390: separate books, xianning 办法
    四(三)); ``None`` before its first posting. An unknown 险种 raises ``ValueError``."""
    if insutype not in SCHEME_ACCOUNTS:
        raise ValueError(f"未知险种 {insutype!r}（可选：{', '.join(SCHEME_ACCOUNTS)}）")
    pooled, _bank = SCHEME_ACCOUNTS[insutype]
    return FundAccount.objects.filter(jurisdiction_id=jurisdiction_id, kind=pooled, person__isnull=True).first()


def fund_health(account: FundAccount, *, on: date, start: date | None = None) -> dict[str, Any]:
    """The series with months of spending and levels, for the fund page."""
    policy = Policy(account.jurisdiction.code, on)
    thresholds = Thresholds.of(policy)
    series = monthly_series(account, start=start)
    if thresholds.window:
        ratios = months_of_spending([m.balance for m in series], [m.spending for m in series], thresholds.window)
        for m, r, lv in zip(series, ratios, balance_levels(ratios, thresholds), strict=True):
            m.months_of_spending, m.levels = r, lv
    standby = None
    if policy.has("funds.standby_fund_months") and thresholds.window and series:
        recent = [m.spending for m in series[-thresholds.window :]]
        standby = money(sum(recent, ZERO) / len(recent) * policy.decimal("funds.standby_fund_months"))
    return {
        "series": series,
        "thresholds": thresholds,
        "standby_fund": standby,
        "standby_cite": policy.citation("funds.standby_fund_months"),
    }


# ---------------------------------------------------------------------------
# Risk reserve and deficit waterfall (pure, figures in)


def risk_reserve_extraction(
    policy: Policy, *, budget_income: Decimal | None = None, last_year_pool_income: Decimal | None = None
) -> Decimal:
    """风险储备金提取额 for the year.

    xianning 办法 四(三)4(3): 5% × the year's budgeted basic-medical-insurance fund
    income (each fund separately, D-XN3); sanmenxia 第四十八条: 10% × last year's
    pooled-fund income (employee pooling income, D-S24).
    """
    base_kind = policy.value("funds.risk_reserve_base")
    pct = policy.percent("funds.risk_reserve_pct")
    base = {"budget_income_current_year": budget_income, "pool_income_previous_year": last_year_pool_income}.get(
        base_kind
    )
    if base is None:
        name = "budget_income" if base_kind == "budget_income_current_year" else "last_year_pool_income"
        raise ValueError(f"{policy.jurisdiction} 风险储备金按 {base_kind} 提取，需给出 {name}")
    return money(Decimal(base) * pct)


WATERFALL_OUTPUTS = (
    "county_government",
    "from_county_prepooling_balance",
    "from_city_pooled_balance",
    "from_risk_reserve",
    "from_area_balance",
    "from_risk_reserve_support",
    "share_city",
    "share_county",
    "share_risk_reserve",
    "share_finance",
    "government_subsidy",
)

#: 基金缺口分担 outputs as staff read them.
WATERFALL_LABELS = {
    "county_government": "县级政府弥补（地方责任造成的缺口）",
    "from_county_prepooling_balance": "县统筹前历年累计结余弥补",
    "from_city_pooled_balance": "市级统筹累计结余弥补",
    "from_risk_reserve": "风险储备金弥补",
    "from_area_balance": "本级累计结余弥补",
    "from_risk_reserve_support": "市级风险储备金调剂",
    "share_city": "市级分担",
    "share_county": "县（市、区）分担",
    "share_risk_reserve": "市级风险储备金分担",
    "share_finance": "市财政或县（市、区）财政分担",
    "government_subsidy": "政府补贴（储备金不足）",
}


def deficit_waterfall(
    policy: Policy,
    *,
    gap: Decimal,
    plan_met: bool,
    local_fault_gap: Decimal = ZERO,
    county_prepooling_balance: Decimal = ZERO,
    city_pooled_balance: Decimal = ZERO,
    area_balance: Decimal = ZERO,
    risk_reserve_balance: Decimal = ZERO,
    reserve_drawn_this_year: Decimal = ZERO,
) -> dict[str, Decimal]:
    """Who fills a county's (area's) gap of the year, step by step (基金缺口分担).

    1. The part caused by the county's own failures goes to ``funds.deficit_local_fault_bearer``
       (xianning 办法 四(三)4(1): the county government).
    2. The rest is taken from ``funds.deficit_sources`` in order, each up to what it holds:
       xianning: county pre-pooling balance → city pooled balance → risk reserve (4(4));
       sanmenxia: the area's accumulated balance → risk-reserve support capped at
       ``funds.reserve_support_multiple`` × the reserve drawn from the area this year (第四十八条).
    3. What is still missing is shared by ``funds.deficit_shares_plan_met`` / ``_plan_missed``
       (xianning city 5 / county 95; sanmenxia reserve : finance 5:5 or 2:8). The last party
       takes the rounding. sanmenxia: a reserve share beyond what is left in the reserve is
       a government subsidy (第四十八条 "市级风险储备金不足时…给予补贴").
    A seed without a rule for the case raises ``PolicyMissing`` (xianning gives no sharing
    when the plan was missed).
    """
    gap, local_fault_gap = Decimal(gap), Decimal(local_fault_gap)
    if gap < 0 or local_fault_gap < 0 or local_fault_gap > gap:
        raise ValueError("缺口金额应为非负数，且地方责任部分不超过缺口")
    share_key = "funds.deficit_shares_plan_met" if plan_met else "funds.deficit_shares_plan_missed"
    if not policy.has(share_key):
        raise PolicyMissing(policy.jurisdiction, share_key, policy.on, label="缺口分担比例")
    out = dict.fromkeys(WATERFALL_OUTPUTS, ZERO)
    remaining = gap
    if local_fault_gap:
        bearer = policy.value("funds.deficit_local_fault_bearer")
        out[bearer] = money(local_fault_gap)
        remaining -= local_fault_gap
    available = {
        "county_prepooling_balance": Decimal(county_prepooling_balance),
        "city_pooled_balance": Decimal(city_pooled_balance),
        "risk_reserve": Decimal(risk_reserve_balance),
        "area_balance": Decimal(area_balance),
    }
    reserve_used = ZERO
    for source in policy.value("funds.deficit_sources"):
        if source == "risk_reserve_support":
            cap = policy.decimal("funds.reserve_support_multiple") * Decimal(reserve_drawn_this_year)
            can = min(Decimal(risk_reserve_balance), cap)
        else:
            can = available[source]
        take = min(remaining, max(can, ZERO))
        out[f"from_{source}"] = money(take)
        remaining -= take
        if source in ("risk_reserve", "risk_reserve_support"):
            reserve_used += take
    shares: dict[str, Any] = policy.value(share_key)
    parties = sorted(shares)  # fixed order whatever the storage; the last party takes the rounding
    left = money(remaining)
    for party in parties[:-1]:
        out[f"share_{party}"] = money(remaining * Decimal(shares[party]) / 100)
        left -= out[f"share_{party}"]
    out[f"share_{parties[-1]}"] = left
    if "risk_reserve" in shares:
        reserve_left = max(Decimal(risk_reserve_balance) - reserve_used, ZERO)
        if out["share_risk_reserve"] > reserve_left:
            out["government_subsidy"] = money(out["share_risk_reserve"] - reserve_left)
            out["share_risk_reserve"] = money(reserve_left)
    return out
