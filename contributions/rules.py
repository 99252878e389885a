"""The scalar contribution rules, resolved into constants that set-based SQL can apply.

For one jurisdiction and date every rule of :mod:`contributions.calculations.contribution`
reduces to a handful of numbers: the base is ``clamp(wage, floor, ceiling)`` or a fixed
amount, and each bill line is ``money(base × rate)``. This module asks the scalar
functions themselves for those numbers (never the parameters directly), so the
batch SQL and a case worker's screen evaluate the same rule; ``tests/
test_contributions_engine.py`` checks the two agree person by person.

Amounts travel to SQL as integers, so SQLite and PostgreSQL compute alike and exactly:
bases in units of 0.0001 yuan (``BASE_SCALE``), money in fen, rates in millionths
(``RATE_SCALE``). A value the policy does not give is reported by its key (D-X16).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from policy.resolver import Policy, PolicyError, PolicyMissing

from .calculations import contribution as rules
from .calculations import late_fee as fees
from .calculations import personal_account as accounts
from .periods import base_year_bounds, birth_threshold

BASE_SCALE = 10_000  # bases in 0.0001 yuan
BASE_Q = Decimal("0.0001")
RATE_SCALE = 1_000_000  # rates as millionths
CENTS = 100
PROBE_WAGE = Decimal(10) ** 9  # above any ceiling: probing with it yields the ceiling
PROBE_BASE = Decimal(10) ** 6  # a base on which every rate (≤ 4 decimals in %) gives an exact fen amount

CATEGORIES = ("employee", "flexible", "unemployed")
SCHEMES = ("combined", "pool_only")


class NotExact(PolicyError):
    """A policy value that the integer SQL cannot represent exactly."""


def missing_key(exc: Exception) -> str:
    """The count key under which a failure is reported in a run (``missing:<parameter>``)."""
    if isinstance(exc, PolicyMissing):
        return f"missing:{exc.key}"
    return f"invalid:{type(exc).__name__}"


def to_base_units(value: Decimal) -> int:
    scaled = value * BASE_SCALE
    if scaled != scaled.to_integral_value():
        raise NotExact(f"基数 {value} 超过4位小数 (base not exact to 0.0001)")
    return int(scaled)


def to_rate_units(fraction: Decimal) -> int:
    scaled = fraction * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise NotExact(f"费率 {fraction} 超过百万分之一精度 (rate not exact to 1e-6)")
    return int(scaled)


def quantize_base(value: Decimal) -> Decimal:
    """A derived monthly wage (total ÷ 12, base × 1.1) kept to 4 places, half-up."""
    return value.quantize(BASE_Q, rounding=ROUND_HALF_UP)


def monthly_wage_of(monthly_wage: Decimal | None, annual_wage_total: Decimal | None) -> Decimal | None:
    """The declared monthly wage: as declared, or last year's total ÷ 12 (D-X6), to 4 places."""
    if monthly_wage is not None:
        return monthly_wage
    if annual_wage_total is not None:
        return quantize_base(annual_wage_total / 12)
    return None


def uplifted(previous_base: Decimal, uplift: Decimal) -> Decimal:
    """langfang 第二十一条, D-L19: previous base raised by the missed-audit uplift, to 4 places."""
    return quantize_base(previous_base * (1 + uplift))


def _try(fn, missing: dict[str, str], what: str):
    try:
        return fn()
    except PolicyError as exc:
        missing[what] = missing_key(exc)
        return None


@dataclass(frozen=True)
class BaseConstants:
    """Everything the base rule needs for one jurisdiction and contribution year (units: 0.0001 yuan)."""

    jurisdiction: str
    year_start: date
    year_end: date
    floor: int | None
    difficult_floor: int | None
    ceiling: int | None  # None: no ceiling (langfang, D-L3) or unknown (see ``missing``)
    unknown: int | None  # base when no wage is known (sanmenxia 第六条); None: the wage is required
    flexible: int | None
    unemployed: int | None
    uplift: int | None  # (1 + missed-audit uplift) in millionths; None: no such rule
    missing: dict[str, str] = field(default_factory=dict)  # what -> count key

    @property
    def year(self) -> int:
        return self.year_start.year

    @property
    def employee_error(self) -> str:
        """Why employees' bases cannot be computed ("" when they can)."""
        return self.missing.get("floor") or self.missing.get("ceiling") or ""


def base_constants(jurisdiction: str, on: date, *, stats: dict | None = None) -> BaseConstants:
    """The constants of :func:`rules.individual_base` for the base year containing ``on``.

    Evaluated on the policy and reference wage in force on the first day of that year.
    """
    year_start, year_end = base_year_bounds(Policy(jurisdiction, on, stats=stats), on)
    policy = Policy(jurisdiction, year_start, stats=stats)
    missing: dict[str, str] = {}

    def probe(what: str, **kw) -> int | None:
        value = _try(lambda: rules.individual_base(policy, **kw), missing, what)
        return None if value is None else to_base_units(value)

    floor = probe("floor", category="employee", monthly_wage=Decimal(0))
    difficult = probe(
        "difficult_floor", category="employee", monthly_wage=Decimal(0), employer_kind="difficult_enterprise"
    )
    top = probe("ceiling", category="employee", monthly_wage=PROBE_WAGE)
    ceiling = None if top is None or top == to_base_units(PROBE_WAGE) else top
    unknown = probe("unknown", category="employee", monthly_wage=None)
    uplift = None
    if policy.has("contribution.missed_audit_uplift_pct"):
        uplift = to_rate_units(1 + policy.percent("contribution.missed_audit_uplift_pct"))
    return BaseConstants(
        jurisdiction=jurisdiction,
        year_start=year_start,
        year_end=year_end,
        floor=floor,
        difficult_floor=difficult,
        ceiling=ceiling,
        unknown=unknown,
        flexible=probe("flexible", category="flexible", monthly_wage=None),
        unemployed=probe("unemployed", category="unemployed", monthly_wage=None),
        uplift=uplift,
        missing=missing,
    )


@dataclass(frozen=True)
class RateRow:
    """Rates of one (category, fiscal employer?, scheme) case in millionths; ``error`` if it cannot be billed."""

    category: str
    fiscal: int
    scheme: str
    employer: int = 0
    individual: int = 0
    maternity: int | None = None  # None: rate left to another policy (unknown)
    account: tuple[int, ...] = ()  # per age band, youngest first
    error: str = ""


@dataclass(frozen=True)
class MonthConstants:
    """Rates and fixed amounts for billing one month in one jurisdiction."""

    jurisdiction: str
    month: date
    rows: tuple[RateRow, ...]
    band_thresholds: tuple[date, ...]  # birth on or before threshold[i] → band i + 1
    critical_illness_cents: int | None  # monthly 大病 premium; None: unknown
    critical_illness_error: str = ""


def _account_rate(policy: Policy, *, category: str, scheme: str, age: int | None) -> int:
    credit = accounts.monthly_account_credit(policy, category=category, base=PROBE_BASE, age=age, scheme=scheme)
    return to_rate_units(credit / PROBE_BASE)


def month_constants(jurisdiction: str, month: date, *, stats: dict | None = None) -> MonthConstants:
    """Rates of :func:`rules.contribution_breakdown` for every case, on the policy in force in ``month``."""
    policy = Policy(jurisdiction, month, stats=stats)
    bands_value = _try(lambda: policy.value("accounts.employer_share_by_age", None), {}, "bands") or []
    band_ages = sorted({int(Decimal(str(b["from_age"]))) for b in bands_value})
    probe_ages: list[int | None] = band_ages or [None]
    rows = []
    for category in CATEGORIES:
        for fiscal in (0, 1):
            for scheme in SCHEMES:
                kind = "fiscal_institution" if fiscal else "enterprise"
                try:
                    er, ir, mr = rules.contribution_rates(policy, category=category, employer_kind=kind, scheme=scheme)
                    acct = tuple(_account_rate(policy, category=category, scheme=scheme, age=a) for a in probe_ages)
                    rows.append(
                        RateRow(
                            category,
                            fiscal,
                            scheme,
                            to_rate_units(er),
                            to_rate_units(ir),
                            None if mr is None else to_rate_units(mr),
                            acct,
                        )
                    )
                except PolicyError as exc:
                    rows.append(RateRow(category, fiscal, scheme, error=missing_key(exc)))
    crit_error = ""
    try:
        crit = rules.critical_illness_monthly(policy)
        crit_cents = None if crit is None else int(crit * CENTS)
    except PolicyError as exc:
        crit_cents, crit_error = None, missing_key(exc)
    thresholds = tuple(birth_threshold(month, a) for a in band_ages[1:]) if band_ages else ()
    return MonthConstants(jurisdiction, month, tuple(rows), thresholds, crit_cents, crit_error)


def late_fee_rate(jurisdiction: str, on: date) -> int | None:
    """滞纳金 daily rate in millionths (万分之五 → 500; D-X14), from the scalar ``late_fee_amount``.

    ``None`` where the policy gives no rate (xianning, D-XN1): such dues accrue nothing and
    the run reports ``missing:contribution.late_fee_daily_pct``.
    """
    policy = Policy(jurisdiction, on)
    try:
        days, fee = fees.late_fee_amount(policy, amount=PROBE_BASE, due_date=on, paid_on=on + timedelta(days=1))
    except PolicyError:
        return None
    return to_rate_units(fee / PROBE_BASE / days)
