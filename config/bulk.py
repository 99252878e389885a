"""Bulk writes for generated populations and batch jobs: COPY on PostgreSQL, bulk_create elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def copy_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], *, batch: int = 5000
) -> int:
    """Insert rows (tuples in ``columns`` order, using column names) as fast as the database allows."""
    table = model._meta.db_table
    n = 0
    if connection.vendor == "postgresql":
        cols = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cur, cur.connection.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        return n
    by_column = {f.column: f.attname for f in model._meta.concrete_fields}
    buf: list[models.Model] = []
    for row in rows:
        buf.append(model(**{by_column[c]: v for c, v in zip(columns, row, strict=True)}))
        n += 1
        if len(buf) >= batch:
            model.objects.bulk_create(buf)
            buf.clear()
    if buf:
        model.objects.bulk_create(buf)
    return n
