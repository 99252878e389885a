"""One person's monthly contribution (月缴费): base, the bill lines, the account credit.

POLICY-DIGEST §2b (bases), §2c (rates), §2i (account share). Every number comes
from ``policy/policies/<j>/contribution.yaml`` / ``accounts.yaml``; a value the
jurisdiction's document does not give raises ``PolicyMissing`` (D-X16), which is
how xianning (no base or rate at all, D-XN1) behaves until staff enter them.

Conventions of the outputs (SCENARIOS.md ``contribution``):

* ``base`` is the monthly base after floor and ceiling, not rounded (not a bill line).
* ``employer``, ``individual``, ``maternity``, ``critical_illness`` and
  ``personal_account`` are bill/ledger lines, each rounded half-up to 0.01 (D-X12);
  ``pool`` = employer + individual − personal_account of the rounded lines, so
  the ledger balances to the fen.
* flexible workers pay alone: their whole basic premium is ``individual`` and
  ``employer`` is 0; for the unemployed, ``individual`` is the whole premium the
  unemployment-insurance fund pays on their behalf (hunan 第十五条, langfang 第十五条,
  sanmenxia 第十八条) and ``employer`` is 0.
* ``maternity`` and ``critical_illness`` are ``None`` where the jurisdiction's
  document leaves the rate to another policy (hunan and langfang maternity,
  langfang 大额补充 premium, sanmenxia has no such layer): unknown, not zero. A
  stored ``null`` (the document says there is none, e.g. ziyang 大额 第二十六条)
  gives 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from policy.calculations import Field, InputError, calculation, money
from policy.resolver import Policy, PolicyError, PolicyMissing

from .personal_account import MONTHS_PER_YEAR, ZERO, monthly_account_credit, pct_or_zero
from .resident import yearly_amounts

CATEGORIES = ("employee", "flexible", "unemployed")
#: 城乡居民 (险种 390): the scenario ``contribution`` with ``category: resident`` (SCENARIOS.md, resident section).
RESIDENT = "resident"
EMPLOYER_KINDS = ("enterprise", "fiscal_institution", "difficult_enterprise")
SCHEMES = ("combined", "pool_only")


class MonthlyWageRequired(PolicyMissing):
    """The wage is unknown and the jurisdiction gives no default base for that case."""

    def __init__(self, jurisdiction: str, on: Any, label: str, cite: str):
        super().__init__(jurisdiction, "contribution.unknown_wage_base_pct", on, label=label)
        self.args = (
            f"输入 monthly_wage 未给出 (monthly_wage is required): {self.args[0]}"
            + (f"；本地规则要求按实际工资申报（{cite}）" if cite else ""),
        )


@dataclass(frozen=True)
class ContributionBreakdown:
    """One month's contribution of one person. Amounts in yuan; lines rounded to 0.01 (D-X12)."""

    base: Decimal  # 缴费基数 (after floor/ceiling; not rounded)
    employer: Decimal  # 单位缴纳 basic medical part, maternity excluded
    individual: Decimal  # 个人缴纳 (flexible: all of it; unemployed: paid by the unemployment fund)
    maternity: Decimal | None  # 生育保险 (None: rate left to another policy)
    critical_illness: Decimal | None  # 大病保险 monthly premium (None: amount left to another policy)
    personal_account: Decimal  # 划入个人账户
    pool: Decimal  # 计入统筹基金 = employer + individual − personal_account

    def as_dict(self) -> dict[str, Decimal | None]:
        return {
            "base": self.base,
            "employer": self.employer,
            "individual": self.individual,
            "maternity": self.maternity,
            "critical_illness": self.critical_illness,
            "personal_account": self.personal_account,
            "pool": self.pool,
        }


def _check(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InputError(f"{name}: {value!r} 不在 {', '.join(choices)} 中")


def _rate(policy: Policy, key: str) -> Decimal:
    """A rate that must exist; a stored null here means the scheme/category does not exist."""
    if policy.value(key) is None:
        raise PolicyError(
            f"{policy.jurisdiction} 无此缴费方式：{key} 为“不适用”（{policy.citation(key)}）"
            f" (not applicable in {policy.jurisdiction})"
        )
    return policy.percent(key)


def _optional_rate(policy: Policy, key: str) -> Decimal | None:
    """A rate the document may leave to another policy: absent → None (unknown); null → 0."""
    if not policy.has(key):
        return None
    return ZERO if policy.value(key) is None else policy.percent(key)


def _line(base: Decimal, rate: Decimal | None) -> Decimal | None:
    return None if rate is None else money(base * rate)


def reference_wage(policy: Policy) -> Decimal:
    # 缴费基准值 / 社平工资, monthly value (D-X6)
    return policy.stat("reference_monthly_wage")


def _floor_pct(policy: Policy, employer_kind: str) -> Decimal:
    if employer_kind == "difficult_enterprise":
        # langfang 第十六条 60%; silent elsewhere → PolicyMissing (D-X16)
        return policy.percent("contribution.difficult_enterprise_floor_pct")
    return policy.percent("contribution.base_floor_pct")


def individual_base(
    policy: Policy,
    *,
    category: str,
    monthly_wage: Decimal | None,
    employer_kind: str = "enterprise",
    scheme: str = "combined",
) -> Decimal:
    """个人缴费基数: the monthly base of one person (not rounded).

    employee: own wage clamped to floor…ceiling × reference wage (hunan 第十条, langfang
    第十二条 no ceiling D-L3, sanmenxia 第六条, ziyang 第九条(一)2–3 D-Z1); unknown wage →
    ``contribution.unknown_wage_base_pct`` (sanmenxia 第六条 100%), else an error asking
    for the wage. flexible: a fixed % of the reference wage or of the minimum base
    (ziyang 第九条(一)4). unemployed: a fixed % of the reference wage.
    """
    _check("category", category, CATEGORIES)
    _check("employer_kind", employer_kind, EMPLOYER_KINDS)
    _check("scheme", scheme, SCHEMES)
    if category == "flexible":
        pct = policy.percent("contribution.flexible_base_pct")
        of = policy.value("contribution.flexible_base_of")
        if of == "minimum_base":  # ziyang: 90% of the minimum base
            return pct * policy.percent("contribution.base_floor_pct") * reference_wage(policy)
        if of == "reference_wage":
            return pct * reference_wage(policy)
        raise PolicyError(f"{policy.jurisdiction} contribution.flexible_base_of 取值无效: {of!r}")
    if category == "unemployed":
        return policy.percent("contribution.unemployed_base_pct") * reference_wage(policy)

    floor_pct = _floor_pct(policy, employer_kind)
    ceiling = policy.value("contribution.base_ceiling_pct")  # null: no ceiling (langfang D-L3)
    if monthly_wage is None:
        if not policy.has("contribution.unknown_wage_base_pct"):
            rule = (
                policy.citation("contribution.new_employee_base_rule")
                if policy.has("contribution.new_employee_base_rule")
                else ""
            )
            raise MonthlyWageRequired(policy.jurisdiction, policy.on, "工资无法确定时的缴费基数", rule)
        wage = policy.percent("contribution.unknown_wage_base_pct") * reference_wage(policy)
    else:
        wage = monthly_wage
    reference = reference_wage(policy)
    base = max(wage, floor_pct * reference)
    if ceiling is not None:
        base = min(base, policy.percent("contribution.base_ceiling_pct") * reference)
    return base


def contribution_rates(
    policy: Policy, *, category: str, employer_kind: str, scheme: str
) -> tuple[Decimal, Decimal, Decimal | None]:
    """(employer, individual, maternity) rates as fractions for the person's case."""
    if category == "flexible":
        key = "contribution.pool_only_flexible_rate_pct" if scheme == "pool_only" else "contribution.flexible_rate_pct"
        # ziyang 第九条(二)2: both rates exclude maternity (null → 0); sanmenxia 第二十二条 1%
        return ZERO, _rate(policy, key), _optional_rate(policy, "contribution.flexible_maternity_rate_pct")
    if category == "unemployed":
        if scheme == "pool_only":
            raise PolicyError(
                f"{policy.jurisdiction} 未规定单建统筹的失业人员缴费 (no pool_only rule for the unemployed)"
            )
        return (
            ZERO,
            policy.percent("contribution.unemployed_rate_pct"),
            _optional_rate(policy, "contribution.unemployed_maternity_rate_pct"),
        )
    if scheme == "pool_only":
        # ziyang 第九条(二)1: 5.7% incl. 0.7% maternity, for every kind of unit; langfang 第七十八条 abolished
        employer = _rate(policy, "contribution.pool_only_employer_rate_pct")
        # ziyang 第九条(二)1 gives no individual rate for 单建统筹: a required value staff enter (D-X16);
        # a stored null (a jurisdiction stating "none") is 0.
        individual = pct_or_zero(policy, "contribution.pool_only_individual_rate_pct")
        return employer, individual, _optional_rate(policy, "contribution.pool_only_maternity_rate_pct")
    if employer_kind == "fiscal_institution":
        # ziyang 第九条(二)1 7.5% incl. 0.5%; sanmenxia 第七条, 第二十二条 0.5% maternity
        return (
            policy.percent("contribution.fiscal_employer_rate_pct"),
            policy.percent("contribution.individual_rate_pct"),
            _optional_rate(policy, "contribution.fiscal_maternity_rate_pct"),
        )
    return (
        policy.percent("contribution.employer_rate_pct"),
        policy.percent("contribution.individual_rate_pct"),
        _optional_rate(policy, "contribution.maternity_rate_pct"),
    )


def critical_illness_monthly(policy: Policy) -> Decimal | None:
    """Monthly 大病保险 premium: the annual premium ÷ 12 (hunan 180 → 15, 第五十三条, 第五十四条).

    hunan 第五十四条: in-service members pay monthly; flexible workers and retirees may
    prepay the year, which is the same 15 a month. It is due from every category,
    the unemployed included (paid by the unemployment fund, 第十五条, D-H13).
    Absent → None (amount set by another policy); null → 0 (no individual premium).
    """
    key = "contribution.critical_illness_premium_annual"
    if not policy.has(key):
        return None
    annual = policy.value(key)
    return ZERO if annual is None else money(policy.decimal(key) / MONTHS_PER_YEAR)


def contribution_breakdown(
    policy: Policy,
    *,
    category: str,
    monthly_wage: Decimal | None,
    employer_kind: str = "enterprise",
    scheme: str = "combined",
    age: int | None = None,
) -> ContributionBreakdown:
    """The month's contribution of one person (see the module docstring for the conventions)."""
    base = individual_base(
        policy, category=category, monthly_wage=monthly_wage, employer_kind=employer_kind, scheme=scheme
    )
    employer_rate, individual_rate, maternity_rate = contribution_rates(
        policy, category=category, employer_kind=employer_kind, scheme=scheme
    )
    employer = money(base * employer_rate)
    individual = money(base * individual_rate)
    account = monthly_account_credit(policy, category=category, base=base, age=age, scheme=scheme)
    return ContributionBreakdown(
        base=base,
        employer=employer,
        individual=individual,
        maternity=_line(base, maternity_rate),
        critical_illness=critical_illness_monthly(policy),
        personal_account=account,
        pool=employer + individual - account,
    )


@calculation(
    "contribution",
    inputs={
        "category": Field("str", default="employee", choices=(*CATEGORIES, RESIDENT)),
        "monthly_wage": Field("decimal", default=None),
        "employer_kind": Field("str", default="enterprise", choices=EMPLOYER_KINDS),
        "scheme": Field("str", default="combined", choices=SCHEMES),
        "age": Field("int", default=None),
    },
    outputs={
        "base": "money",
        "employer": "money",
        "individual": "money",
        "maternity": "money",
        "critical_illness": "money",
        "personal_account": "money",
        "pool": "money",
        "subsidy": "money",
    },
)
def contribution(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """月缴费: one person's monthly contribution, split into bill lines and account/pool shares.

    ``category: resident`` (城乡居民, 险种 390): the yearly 个人缴费 (``individual``) and the 财政补助 per person
    (``subsidy``) of sanmenxia 第三十条 — staff-entered each year; the other lines do not apply (``None``)."""
    if inputs["category"] == RESIDENT:
        return resident_contribution(policy)
    return {**contribution_breakdown(policy, **inputs).as_dict(), "subsidy": None}


def resident_contribution(policy: Policy) -> dict[str, Any]:
    """城乡居民医保年度缴费: ``individual`` and ``subsidy`` (:func:`.resident.yearly_amounts`)."""
    yearly = yearly_amounts(policy)
    lines = dict.fromkeys(("base", "employer", "maternity", "critical_illness", "personal_account"))
    return {**lines, "individual": yearly.individual, "subsidy": yearly.subsidy, "pool": yearly.total}
