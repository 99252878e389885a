"""Audit history (django-simple-history) for rows written set-wise.

Rows inserted or updated by one SQL statement over a chunk bypass ``save()``, so
simple-history's signal does not see them. :func:`history_record` writes their
historical rows the same way — one ``INSERT … SELECT`` copying the current rows — so that
every change can still be traced to when, by whom (``user_id``; none for a batch run) and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models

HISTORY_FIELDS = ("history_id", "history_date", "history_change_reason", "history_type", "history_user")


def history_record(
    model: type[models.Model],
    where: str,
    params: Sequence[Any],
    *,
    when: datetime,
    reason: str,
    user_id: int | None = None,
    kind: str = "+",
) -> int:
    """Historical rows (``kind``: ``+`` created, ``~`` changed) for the rows of ``model`` matching ``where``."""
    history = model.history.model  # type: ignore[attr-defined]
    q = connection.ops.quote_name
    columns = [q(f.column) for f in history._meta.concrete_fields if f.name not in HISTORY_FIELDS]
    cols = ", ".join(columns)
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO {history._meta.db_table}
                    ({cols}, history_date, history_change_reason, history_type, history_user_id)
                SELECT {cols}, %s, %s, %s, %s FROM {model._meta.db_table} WHERE {where}""",
            [when, reason, kind, user_id, *params],
        )
        return cur.rowcount
