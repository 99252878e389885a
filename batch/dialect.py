"""The one place that asks which SQL dialect the database speaks (PostgreSQL in production, SQLite embedded)."""

from __future__ import annotations

from django.db import connection


def is_postgres() -> bool:
    """True on PostgreSQL; the embedded default (SQLite) gets the portable statements."""
    return connection.vendor == "postgresql"
