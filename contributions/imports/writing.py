"""Writing the valid rows of a commit in batches, inside the commit's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection

from batch.dialect import is_postgres

from ..models import ImportJob
from .validation import Progress, _chunks

#: Rows per INSERT in the commit.
COMMIT_BATCH = 5_000


class _Writer:
    """Writes the rows of one commit in batches, inside the commit's transaction.

    PostgreSQL: ``COPY`` (into a temporary table for an upsert); elsewhere ``bulk_create``.
    """

    def __init__(self, job: ImportJob, now: datetime):
        self.job, self.now = job, now
        self.pg = is_postgres()

    def write(self, rows: list[tuple]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass

    def _copy(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        cols = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cur, cur.connection.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def write_batch(writer: _Writer, rows: list[tuple]) -> None:
    """Write one batch (a seam for tests that inject a failure mid-commit)."""
    writer.write(rows)


def _write_all(writer: _Writer, rows: list[tuple], progress: Progress | None) -> None:
    written = 0
    for batch in _chunks(rows, COMMIT_BATCH):
        write_batch(writer, list(batch))
        written += len(batch)
        if progress:
            progress(written)
    writer.finish()
