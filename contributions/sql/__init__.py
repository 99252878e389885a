"""Set-based statements of the contribution engine, for SQLite and PostgreSQL alike.

Each function works on the persons ``lo <= id < hi`` of one jurisdiction, in the caller's
transaction, and returns counts by kind. The rules' numbers come from :mod:`contributions.rules`
(which asks the scalar rule functions for them); here they are applied to whole sets:

* :func:`bases_upsert` — 个人缴费基数 for a base year (annual reset, and bases for people who
  joined or moved during the year): ``clamp(wage, floor, ceiling)`` or a fixed base;
* :func:`dues_insert` — 应缴 for one month: ``money(base × rate)`` per bill line;
* :func:`fees_accrue` — 滞纳金: ``money(unpaid × daily rate × days past due outside deferrals)``;
* :func:`payments_allocate` — 冲抵: payments to the oldest unpaid dues, principal with its fee.

Arithmetic is done in integers so both databases compute exactly the same amounts:
bases in 0.0001 yuan, money in fen, rates in millionths; rounding is half-up (D-X12).

This package holds them by statement family: :mod:`.dialect` (portable SQL fragments, execute),
:mod:`.spans` (the span a person is billed on), :mod:`.bases`, :mod:`.dues`, :mod:`.fees`,
:mod:`.allocation` and :mod:`.employer_bases`. The public names are re-exported here.
"""

from .allocation import payments_allocate
from .bases import MAX_WAGE_U, STAGE, WAGE_OUT_OF_BOUNDS, bases_upsert
from .dialect import (
    BASE_RATE_TO_CENTS,
    PAYING_CATEGORIES,
    analyze,
    base_units,
    cents,
    day_number,
    div_half_up,
    dparam,
    execute,
    fetchall,
    from_base_units,
    from_cents,
    greatest,
    is_postgres,
    least,
    lit,
    q,
    t,
    text_lit,
    to_int,
    tparam,
    tune,
)
from .dues import dues_insert, retiree_premiums_insert
from .employer_bases import employer_bases_upsert, employer_wages_out_of_bounds
from .fees import deferral_employers, deferred_sql, fee_cents_sql, fee_days_sql, fees_accrue, fees_accrue_all
from .spans import jurisdiction_id, jurisdictions_in_range

__all__ = [
    "BASE_RATE_TO_CENTS",
    "MAX_WAGE_U",
    "PAYING_CATEGORIES",
    "STAGE",
    "WAGE_OUT_OF_BOUNDS",
    "analyze",
    "base_units",
    "bases_upsert",
    "cents",
    "day_number",
    "deferral_employers",
    "deferred_sql",
    "div_half_up",
    "dparam",
    "dues_insert",
    "employer_bases_upsert",
    "employer_wages_out_of_bounds",
    "execute",
    "fee_cents_sql",
    "fee_days_sql",
    "fees_accrue",
    "fees_accrue_all",
    "fetchall",
    "from_base_units",
    "from_cents",
    "greatest",
    "is_postgres",
    "jurisdiction_id",
    "jurisdictions_in_range",
    "least",
    "lit",
    "payments_allocate",
    "q",
    "retiree_premiums_insert",
    "t",
    "text_lit",
    "to_int",
    "tparam",
    "tune",
]
