"""Personal-account credits (个人账户划入), POLICY-DIGEST §2i.

In-service members are credited from their own contribution (a % of their own
base, 2% in every document) plus, in sanmenxia only, an age-banded share of the
employer contribution (第九条: 1.0% under 45, 1.5% from 45, D-S5/D-X7).
Retirees are credited from the pool: a fixed monthly amount (hunan 75 第四十二条),
a fixed yearly amount credited monthly (xianning 840 → 70, D-XN8), or a % of a
reference statistic (langfang 2% and ziyang 2.8% of the average pension,
sanmenxia 3.8% of the employer's average base).

Every figure is a policy parameter in ``policy/policies/<j>/accounts.yaml``.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from typing import Any

from policy.calculations import Field, InputError, calculation, money
from policy.resolver import Policy, PolicyError, PolicyMissing

ZERO = Decimal("0")
MONTHS_PER_YEAR = 12

CATEGORIES = ("employee", "flexible", "unemployed", "retiree")
# 单位类型 (enrollment.EmployerKind) and "none" for a retiree without an employer
EMPLOYER_KINDS = (
    "enterprise",
    "fiscal_institution",
    "other_institution",
    "individual_business",
    "social_organisation",
    "none",
)
SCHEMES = ("combined", "pool_only")


def age_on(birth_date: date, on: date) -> int:
    """Whole years of age (周岁) on a date."""
    years = on.year - birth_date.year
    return years - ((on.month, on.day) < (birth_date.month, birth_date.day))


def age_in_month(birth_date: date, month: date) -> int:
    """Age that counts for a month's account credit: age on the month's last day.

    sanmenxia's 1.5% share applies from the month the person turns 45 (D-S5, D-X7),
    so the ledger passes this value as ``age`` when it credits a month.
    """
    last_day = date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
    return age_on(birth_date, last_day)


def pct_or_zero(policy: Policy, key: str) -> Decimal:
    """A ``*_pct`` parameter as a fraction; a stored null ("no such credit here") is 0."""
    value = policy.value(key)
    return ZERO if value is None else policy.percent(key)


def employer_share_pct(policy: Policy, *, age: int | None) -> Decimal:
    """Share of the employer contribution credited to the account, as a fraction of the base.

    ``accounts.employer_share_by_age`` is null where all of the employer's
    contribution goes to the pool (hunan 第四十一条, langfang 第三十六条(一), …);
    in sanmenxia it is a table of age bands (第九条; from the month turning 45, D-S5).
    """
    bands: Any = policy.value("accounts.employer_share_by_age")
    if not bands:
        return ZERO
    if age is None:
        raise InputError(
            f"输入 age: {policy.jurisdiction} 单位缴费划入个人账户的比例按年龄分段"
            f"（{policy.citation('accounts.employer_share_by_age')}），需给出年龄 (age is required)"
        )
    pct = None
    for band in sorted(bands, key=lambda b: Decimal(b["from_age"])):
        if age >= Decimal(band["from_age"]):
            pct = Decimal(band["pct"])
    if pct is None:
        raise PolicyError(f"{policy.jurisdiction} accounts.employer_share_by_age 没有适用于 {age} 周岁的分段")
    return pct / 100


def _in_service_credit(policy: Policy, *, base: Decimal, age: int | None) -> Decimal:
    # own contribution share + employer share (sanmenxia 第九条; others 0)
    rate = policy.percent("accounts.employee_credit_pct") + employer_share_pct(policy, age=age)
    return base * rate


def _pool_only_has_account(policy: Policy) -> bool:
    value = policy.value("accounts.pool_only_has_account")
    if value is None:
        raise PolicyError(
            f"{policy.jurisdiction} 没有单建统筹参保方式（{policy.citation('accounts.pool_only_has_account')}）"
            " (scheme pool_only does not exist here)"
        )
    return bool(value)


RETIREE_FORMER_CATEGORIES = ("employee", "flexible", "unemployed")


def retiree_credit_stat(policy: Policy, *, employer_kind: str | None = None) -> str:
    """The statistic a retiree's % credit multiplies (``accounts.retiree_credit_stat``).

    langfang 第三十六条(二) distinguishes two average pensions by the retiree's group:
    ``accounts.retiree_credit_stat_by_employer_kind`` maps the employer's kind (单位类型)
    to the statistic, ``default`` for enterprises, other employers and retirees without
    one (灵活就业). Without ``employer_kind`` the generic statistic is used: the figure
    the caller (or a scenario case) gives as the one applicable to this retiree.
    """
    by_kind: Any = policy.value("accounts.retiree_credit_stat_by_employer_kind", default=None)
    if by_kind and employer_kind is not None:
        return str(by_kind.get(employer_kind or "none", by_kind["default"]))
    return str(policy.value("accounts.retiree_credit_stat"))


def retiree_not_entitled(policy: Policy, *, former_category: str | None, shortfall_paid: bool | None) -> bool:
    """True for a retiree who gets no account credit although retired (sanmenxia 第十七条).

    sanmenxia: flexible workers have no account; one who retired as a flexible worker gets
    one after retirement only if the shortfall against current standards was made up
    (``accounts.flexible_retiree_needs_shortfall_paid``). Elsewhere the key is absent: no such rule.
    """
    if former_category != "flexible":
        return False
    return bool(policy.value("accounts.flexible_retiree_needs_shortfall_paid", default=False)) and not shortfall_paid


def retiree_credit(policy: Policy, *, employer_kind: str | None = None) -> tuple[Decimal, Decimal]:
    """(monthly, annual) credit of a retiree's account from the pool.

    Which form applies is data: a fixed monthly amount, a fixed yearly amount with
    its crediting schedule, or a % of a reference statistic. The annual figure is
    what the year's credits add up to (12 rounded monthly credits, or the fixed
    yearly amount). ``employer_kind`` picks langfang's average pension (第三十六条(二)).
    """
    if policy.has("accounts.retiree_monthly_credit"):
        monthly = policy.decimal("accounts.retiree_monthly_credit")  # hunan 第四十二条
        return monthly, monthly * MONTHS_PER_YEAR
    if policy.has("accounts.retiree_annual_credit"):
        annual = policy.decimal("accounts.retiree_annual_credit")  # xianning 细则 第十一条
        schedule = policy.value("accounts.retiree_credit_schedule")
        if schedule == "monthly":  # D-XN8: 840 a year credited as 70 a month
            return annual / MONTHS_PER_YEAR, annual
        if schedule == "yearly":
            return ZERO, annual
        raise PolicyError(f"{policy.jurisdiction} accounts.retiree_credit_schedule 取值无效: {schedule!r}")
    if policy.has("accounts.retiree_credit_pct"):
        # langfang 第三十六条(二), ziyang 第十条: average pension; sanmenxia 第九条: employer average base
        monthly = money(
            policy.percent("accounts.retiree_credit_pct")
            * policy.stat(retiree_credit_stat(policy, employer_kind=employer_kind))
        )
        return monthly, monthly * MONTHS_PER_YEAR
    raise PolicyMissing(
        policy.jurisdiction,
        "accounts.retiree_monthly_credit",
        policy.on,
        label="退休人员个人账户划入标准",
    )


def monthly_account_credit(
    policy: Policy,
    *,
    category: str,
    base: Decimal | None,
    age: int | None,
    scheme: str = "combined",
    employer_kind: str | None = None,
    former_category: str | None = None,
    shortfall_paid: bool | None = None,
) -> Decimal:
    """Monthly credit to the personal account (个人账户月划入额), rounded half-up to 0.01 (D-X12).

    ``category``: employee | flexible | unemployed | retiree. ``base`` is the
    person's monthly contribution base (ignored for retirees); ``age`` whole years
    in the month credited (see :func:`age_in_month`), needed where the share is
    age-banded (sanmenxia). Retirees only: ``employer_kind`` (langfang's two average
    pensions), ``former_category`` and ``shortfall_paid`` (sanmenxia 第十七条).
    The funds ledger posts this amount.
    """
    if category not in CATEGORIES:
        raise InputError(f"category: {category!r} 不在 {', '.join(CATEGORIES)} 中")
    if scheme not in SCHEMES:
        raise InputError(f"scheme: {scheme!r} 不在 {', '.join(SCHEMES)} 中")
    if scheme == "pool_only" and not _pool_only_has_account(policy):
        return money(ZERO)  # 单建统筹不建立个人账户: ziyang 第十条; hunan retirees 第四十二条
    if category == "retiree":
        if retiree_not_entitled(policy, former_category=former_category, shortfall_paid=shortfall_paid):
            return money(ZERO)
        return money(retiree_credit(policy, employer_kind=employer_kind)[0])
    if base is None:
        raise InputError(f"缺少输入项 base: {category} 的个人账户按本人缴费基数计算 (base is required)")
    if category == "employee":
        return money(_in_service_credit(policy, base=base, age=age))
    if category == "flexible":
        # hunan 第四十一条 / sanmenxia 第十七条: none; langfang D-L5, xianning 细则 第十一条, ziyang D-Z24: 2%
        return money(base * pct_or_zero(policy, "accounts.flexible_credit_pct"))
    # unemployed: as in-service where the data says so (C-A1)
    if policy.value("accounts.unemployed_as_employee"):
        return money(_in_service_credit(policy, base=base, age=age))
    return money(ZERO)


@calculation(
    "personal_account",
    inputs={
        "category": Field("str", default="employee", choices=("employee", "flexible", "retiree")),
        "base": Field("decimal", default=None),
        "age": Field("int", default=None),
        "scheme": Field("str", default="combined", choices=SCHEMES),
        # retirees: the employer's kind (langfang 第三十六条(二); "none" for retirees without one)
        "employer_kind": Field("str", default=None, choices=EMPLOYER_KINDS),
        # retirees: category before retirement and the shortfall made up (sanmenxia 第十七条)
        "former_category": Field("str", default=None, choices=RETIREE_FORMER_CATEGORIES),
        "shortfall_paid": Field("bool", default=None),
    },
    outputs={"monthly_credit": "money", "annual_credit": "money"},
)
def personal_account(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """个人账户划入: monthly credit and the year's total (12 monthly credits, or the fixed yearly amount)."""
    category, scheme = inputs["category"], inputs["scheme"]
    if category == "retiree" and retiree_not_entitled(
        policy, former_category=inputs["former_category"], shortfall_paid=inputs["shortfall_paid"]
    ):
        return {"monthly_credit": money(ZERO), "annual_credit": money(ZERO)}
    if category == "retiree" and not (scheme == "pool_only" and not _pool_only_has_account(policy)):
        monthly, annual = retiree_credit(policy, employer_kind=inputs["employer_kind"])
        return {"monthly_credit": money(monthly), "annual_credit": money(annual)}
    monthly = monthly_account_credit(policy, category=category, base=inputs["base"], age=inputs["age"], scheme=scheme)
    return {"monthly_credit": monthly, "annual_credit": monthly * MONTHS_PER_YEAR}
