"""The one place that asks which SQL dialect the database speaks (PostgreSQL in production, SQLite embedded)."""

from __future__ import annotations

from django.db import connection


def is_postgres() -> bool:
    """True on PostgreSQL; the embedded default (SQLite) gets the portable statements."""
    return connection.vendor == "postgresql"


class _TriggerEditor:
    """The two things a trigger migration's functions use of a schema editor (``connection``, ``execute``)."""

    def __init__(self, conn) -> None:
        self.connection = conn

    def execute(self, sql: str, params=None) -> None:
        with self.connection.cursor() as cur:
            cur.execute(sql, params)


def sqlite_triggers_reinstaller(app_label: str, last_migration: str, *steps: str):
    """A ``post_migrate`` receiver that puts an app's triggers back on SQLite.

    SQLite rebuilds a table (create, copy, drop, rename) when a later migration alters it, and the rebuild drops
    the table's triggers; PostgreSQL keeps them. After every ``migrate`` that left ``last_migration`` applied, the
    receiver runs each step — ``"module:function"`` of the trigger migrations, in order — as the last migration
    left them. A step's function takes ``(apps, schema_editor)`` and must be repeatable (DROP … IF EXISTS first).
    """

    def receiver(sender, using: str = "default", **kwargs) -> None:
        from importlib import import_module

        from django.db import connections
        from django.db.migrations.recorder import MigrationRecorder

        conn = connections[using]
        if conn.vendor != "sqlite" or (app_label, last_migration) not in MigrationRecorder(conn).applied_migrations():
            return
        editor = _TriggerEditor(conn)
        for step in steps:
            module, function = step.split(":")
            getattr(import_module(module), function)(None, editor)

    return receiver
