"""Portable SQL fragments for SQLite and PostgreSQL, and statement execution in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Model

from batch.dialect import is_postgres

from ..rules import BASE_SCALE, CENTS, RATE_SCALE

# 1e-4 yuan × 1e-6 = 1e-10 yuan; one fen is 1e8 of those.
BASE_RATE_TO_CENTS = BASE_SCALE * RATE_SCALE // CENTS
PAYING_CATEGORIES = ("employee", "flexible", "unemployed")


# --- portable SQL fragments -------------------------------------------------------------------


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def t(model: type[Model]) -> str:
    return q(model._meta.db_table)


def day_number(expr: str) -> str:
    """A date as an integer day number equal to Python's ``date.toordinal()``."""
    if is_postgres():
        return f"(({expr}) - DATE '0001-01-01' + 1)"
    return f"(CAST(julianday({expr}) AS INTEGER) - 1721424)"


def greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if is_postgres() else f"MAX({a}, {b})"


def least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if is_postgres() else f"MIN({a}, {b})"


def to_int(expr: str) -> str:
    return f"CAST(ROUND({expr}) AS BIGINT)"


def cents(expr: str) -> str:
    return to_int(f"({expr}) * {CENTS}")


def base_units(expr: str) -> str:
    return to_int(f"({expr}) * {BASE_SCALE}")


def div_half_up(num: str, den: int) -> str:
    """Integer division rounded half-up, for non-negative ``num``."""
    return f"((({num}) + {den // 2}) / {den})"


def from_cents(expr: str) -> str:
    return f"(({expr}) / {CENTS}.0)"


def from_base_units(expr: str) -> str:
    return f"(({expr}) / {BASE_SCALE}.0)"


def lit(value: int | None) -> str:
    return "CAST(NULL AS BIGINT)" if value is None else str(int(value))


def text_lit(value: str | None) -> str:
    if value is None:
        return "CAST(NULL AS VARCHAR(80))"
    return "'" + value.replace("'", "''") + "'"


def dparam(value: date | None) -> Any:
    return connection.ops.adapt_datefield_value(value)


def tparam(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def execute(sql: str, params: Sequence[Any] = ()) -> int:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def fetchall(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def tune() -> None:
    """Per-transaction settings for a batch chunk on PostgreSQL.

    ``jit = off``: each chunk statement is estimated expensive enough to be JIT-compiled, which
    costs ~80 ms per statement and buys nothing on 10 000-person chunks.
    ``synchronous_commit = off``: the chunk's commit does not wait for the WAL flush. A crash can
    lose the last chunks committed, but only whole: their data and their "done" mark are in the
    same transaction, so :func:`batch.runs.resume_run` runs them again (chunks are idempotent).
    """
    if is_postgres():  # one round trip (set_config(..., true) is SET LOCAL)
        execute("SELECT set_config('jit', 'off', true), set_config('synchronous_commit', 'off', true)")


def analyze(*models: type[Model]) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load (autovacuum lags behind batch work)."""
    if is_postgres():
        for model in models:
            execute(f"ANALYZE {t(model)}")


def _named(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """Turn ``%(name)s`` placeholders into positional ``%s`` (Django's cursor takes both, SQLite only one)."""
    out: list[Any] = []
    parts = sql.split("%(")
    text = parts[0]
    for part in parts[1:]:
        name, rest = part.split(")s", 1)
        out.append(params[name])
        text += "%s" + rest
    return text, out
