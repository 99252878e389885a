"""Set-based posting for batch jobs: many two-leg entries in a handful of SQL statements.

A job fills the temporary table ``funds_tmp_post`` with one row per entry to
write (the person's account, the counter account, the amount and the business
key), then :meth:`SetPoster.post` inserts the entries with ``ON CONFLICT DO
NOTHING`` (a key posted before is skipped: idempotent), their two postings, and
moves the balances — all inside the caller's transaction (one chunk). Works on
PostgreSQL and SQLite; PostgreSQL gets a data-modifying CTE for the entry ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from batch.dialect import is_postgres

from .errors import InsufficientBalance, UnbalancedEntry
from .models import NON_NEGATIVE, PER_PERSON

TMP = "funds_tmp_post"

_COLUMNS = """
    person_id bigint NOT NULL,
    jurisdiction_id bigint NOT NULL,
    employer_id bigint NULL,
    scheme varchar(16) NULL,
    target_kind varchar(16) NOT NULL DEFAULT 'personal',
    amount numeric(14, 2) NULL,
    account_id bigint NULL,
    counter_id bigint NULL,
    business_key varchar(120) NULL,
    entry_id bigint NULL,
    flag varchar(16) NULL
"""


PER_PERSON_SQL = ", ".join(f"'{k}'" for k in sorted(PER_PERSON))


def month_expr(column: str, vendor: str | None = None) -> str:
    """SQL for the first day of the month of a date column."""
    if (vendor or connection.vendor) == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def month_totals_upsert(cursor, select_sql: str, params: Sequence[Any] = ()) -> None:
    """Add ``select_sql``'s rows (account_id, month, kind, amount, postings) to the month totals."""
    cursor.execute(
        f"""INSERT INTO funds_accountmonthtotal (account_id, month, kind, amount, postings) {select_sql}
        ON CONFLICT (account_id, month, kind) DO UPDATE
        SET amount = ROUND(funds_accountmonthtotal.amount + excluded.amount, 2),
            postings = funds_accountmonthtotal.postings + excluded.postings""",
        list(params),
    )


def month_totals_from_postings_sql(vendor: str | None = None) -> str:
    """SELECT of every fund-level account's month totals (account_id, month, kind, total, n) from its postings."""
    month = month_expr("p.effective_on", vendor)
    return f"""
        SELECT p.account_id, {month} AS month, p.kind, SUM(p.amount) AS total, COUNT(*) AS n
        FROM funds_posting p JOIN funds_fundaccount a ON a.id = p.account_id
        WHERE a.kind NOT IN ({PER_PERSON_SQL})
        GROUP BY p.account_id, {month}, p.kind
    """


def month_totals_rebuild_sql(vendor: str) -> str:
    """Month totals of every fund-level account from its postings (benchmark load)."""
    return (
        "INSERT INTO funds_accountmonthtotal (account_id, month, kind, amount, postings)"
        + month_totals_from_postings_sql(vendor)
    )


class SetPoster:
    """One batch of person-account credits with a counter leg, posted set-wise. Use as a context manager."""

    def __init__(self) -> None:
        self.cursor = connection.cursor()

    def __enter__(self) -> SetPoster:
        if is_postgres():
            self.execute("SET LOCAL jit = off")  # short set-based statements: compiling them costs more than it saves
        self.execute(f"DROP TABLE IF EXISTS {TMP}")
        self.execute(f"CREATE TEMPORARY TABLE {TMP} ({_COLUMNS})")
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.execute(f"DROP TABLE IF EXISTS {TMP}")
        finally:
            self.cursor.close()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        self.cursor.execute(sql, params or ())
        return self.cursor.rowcount

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        self.cursor.execute(sql, params or ())
        return self.cursor.fetchall()

    def open_accounts(self, opened_on: date) -> int:
        """Fill in the accounts still missing on rows to post, opening them (and their balance rows) first.

        Returns how many accounts were opened.
        """
        opened = self.execute(
            f"""
            INSERT INTO funds_fundaccount (jurisdiction_id, kind, person_id, code, opened_on)
            SELECT DISTINCT t.jurisdiction_id, t.target_kind, t.person_id,
                   j.code || ':' || t.target_kind || ':' || CAST(t.person_id AS varchar(20)), %s
            FROM {TMP} t JOIN policy_jurisdiction j ON j.id = t.jurisdiction_id
            WHERE t.amount > 0 AND t.account_id IS NULL AND NOT EXISTS (
                SELECT 1 FROM funds_fundaccount a
                WHERE a.person_id = t.person_id AND a.jurisdiction_id = t.jurisdiction_id AND a.kind = t.target_kind
            )
            ON CONFLICT DO NOTHING
            """,
            [connection.ops.adapt_datefield_value(opened_on)],
        )
        if opened:
            self.execute(
                f"""
                INSERT INTO funds_accountbalance (account_id, balance, non_negative)
                SELECT a.id, 0, %s FROM funds_fundaccount a
                WHERE a.kind IN ({", ".join(["%s"] * len(NON_NEGATIVE))})
                  AND a.person_id IN (SELECT person_id FROM {TMP} WHERE account_id IS NULL)
                  AND NOT EXISTS (SELECT 1 FROM funds_accountbalance b WHERE b.account_id = a.id)
                """,
                [True, *sorted(NON_NEGATIVE)],
            )
        self.execute(
            f"""
            UPDATE {TMP} SET account_id = a.id FROM funds_fundaccount a
            WHERE {TMP}.account_id IS NULL AND {TMP}.amount > 0
              AND a.person_id = {TMP}.person_id AND a.jurisdiction_id = {TMP}.jurisdiction_id
              AND a.kind = {TMP}.target_kind
            """
        )
        return max(opened, 0)

    def post(
        self,
        *,
        kind: str,
        effective_on: date,
        memo: str,
        recorded_at: datetime,
        run_id: int | None,
        user_id: int | None,
        direction: int = 1,
    ) -> dict[str, int]:
        """Write the entries, postings and balances for every row with ``amount > 0`` and a business key.

        ``direction`` +1 credits the person's account and debits the counter account;
        −1 would do the reverse (not used by the jobs: money leaving a person goes
        through :func:`funds.posting.post_entry`, which checks the balance).
        Returns counts of what changed: ``entries``, ``suspense`` and ``amount_fen``.
        """
        if is_postgres():
            self.execute(f"ANALYZE {TMP}")
        insert = f"""
            INSERT INTO funds_journalentry
                (business_key, kind, jurisdiction_id, person_id, effective_on, recorded_at, memo,
                 reverses_id, run_id, created_by_id)
            SELECT t.business_key, %s, t.jurisdiction_id, t.person_id, %s, %s,
                   CASE WHEN t.target_kind = 'suspense' THEN %s ELSE %s END, NULL, %s, %s
            FROM {TMP} t
            WHERE t.amount > 0 AND t.business_key IS NOT NULL AND t.account_id IS NOT NULL
            ON CONFLICT DO NOTHING
        """
        ops = connection.ops
        day, stamp = ops.adapt_datefield_value(effective_on), ops.adapt_datetimefield_value(recorded_at)
        params = [kind, day, stamp, f"{memo}（暂停划入，挂账）"[:255], memo[:255], run_id, user_id]
        if is_postgres():
            self.execute(
                f"WITH ins AS ({insert} RETURNING id, business_key) "
                f"UPDATE {TMP} SET entry_id = ins.id FROM ins WHERE ins.business_key = {TMP}.business_key",
                params,
            )
        else:
            # Rows whose key exists already are marked first, so only entries inserted now get postings.
            self.execute(
                f"UPDATE {TMP} SET entry_id = -1 WHERE EXISTS "
                f"(SELECT 1 FROM funds_journalentry e WHERE e.business_key = {TMP}.business_key)"
            )
            self.execute(insert.replace("WHERE t.amount > 0", "WHERE t.entry_id IS NULL AND t.amount > 0"), params)
            self.execute(
                f"UPDATE {TMP} SET entry_id = (SELECT e.id FROM funds_journalentry e "
                f"WHERE e.business_key = {TMP}.business_key) WHERE entry_id IS NULL"
            )
            self.execute(f"UPDATE {TMP} SET entry_id = NULL WHERE entry_id = -1")
        sign = "" if direction > 0 else "-"
        counter_sign = "-" if direction > 0 else ""
        self.execute(
            f"""
            INSERT INTO funds_posting (entry_id, account_id, amount, effective_on, kind)
            SELECT entry_id, account_id, {sign}amount, %s, %s FROM {TMP} WHERE entry_id IS NOT NULL
            UNION ALL
            SELECT entry_id, counter_id, {counter_sign}amount, %s, %s FROM {TMP} WHERE entry_id IS NOT NULL
            """,
            [day, kind, day, kind],
        )
        if is_postgres():
            # one index probe per account: a hash join would read the whole balance table for every chunk
            self.execute("SET LOCAL enable_hashjoin = off")
            self.execute("SET LOCAL enable_mergejoin = off")
        self.execute(
            f"""
            UPDATE funds_accountbalance SET balance = ROUND(balance + {sign}t.amount, 2)
            FROM {TMP} t WHERE t.entry_id IS NOT NULL AND funds_accountbalance.account_id = t.account_id
            """
        )
        if is_postgres():
            self.execute("SET LOCAL enable_hashjoin = on")
            self.execute("SET LOCAL enable_mergejoin = on")
        if is_postgres():
            # Run the deferred checks now, so the hot counter-account rows (the pooled fund's balance
            # and month total) are locked only for the last two statements and the commit.
            self.execute("SET CONSTRAINTS ALL IMMEDIATE")
        month_totals_upsert(
            self.cursor,
            f"""SELECT counter_id, %s, %s, {counter_sign}SUM(amount), COUNT(*) FROM {TMP}
            WHERE entry_id IS NOT NULL GROUP BY counter_id""",
            [ops.adapt_datefield_value(effective_on.replace(day=1)), kind],
        )
        self.execute(
            f"""
            UPDATE funds_accountbalance SET balance = ROUND(balance + {counter_sign}s.total, 2)
            FROM (SELECT counter_id, SUM(amount) AS total FROM {TMP} WHERE entry_id IS NOT NULL GROUP BY counter_id) s
            WHERE funds_accountbalance.account_id = s.counter_id
            """
        )
        if is_postgres():
            self.execute("SET CONSTRAINTS ALL DEFERRED")  # back to every constraint's declared (deferred) mode
        entries, suspense, cents = self.fetchall(
            f"""
            SELECT COUNT(*), COALESCE(SUM(CASE WHEN target_kind = 'suspense' THEN 1 ELSE 0 END), 0),
                   COALESCE(SUM(CAST(ROUND(amount * 100) AS BIGINT)), 0)
            FROM {TMP} WHERE entry_id IS NOT NULL
            """
        )[0]
        return {"entries": int(entries), "suspense": int(suspense), "amount_fen": int(cents)}


# ---------------------------------------------------------------------------
# Multi-leg entries in bulk (contributions received)


TMP_ENTRY, TMP_LEG = "funds_tmp_entry", "funds_tmp_leg"


def _fill(cur, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Rows into a temporary table: one COPY on PostgreSQL (a chunk's 50 000 entries in one round trip),
    an executemany elsewhere."""
    if is_postgres():
        with cur.connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(columns))
    cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", list(rows))


def post_entries_bulk(
    specs: Sequence[dict[str, Any]],
    *,
    recorded_at: datetime,
    run_id: int | None = None,
    user_id: int | None = None,
    before_balances: Callable[[dict[str, int]], None] | None = None,
) -> dict[str, Any]:
    """Post many balanced entries at once; an entry whose business key exists is skipped.

    ``specs``: dicts with business_key, kind, jurisdiction_id, person_id, effective_on,
    memo and legs = [(account_id, amount), …] summing to zero (checked here, and by
    the trigger on PostgreSQL). Balances move in one UPDATE. Returns ``entries`` (new ones) and ``postings``.
    Runs in the caller's transaction.

    The balances and month totals of the fund-level accounts (统筹基金, 银行存款 …) are rows every chunk of a
    run shares, locked from their UPDATE to the caller's commit: they move last. ``before_balances(ids)`` (the
    new entries' ids by business key) is the caller's chance to write the rest of its transaction before that;
    on PostgreSQL the transaction's deferred checks run then too, not while the rows are held.
    """
    for spec in specs:
        if sum((Decimal(a) for _, a in spec["legs"]), Decimal(0)) != 0 or len(spec["legs"]) < 2:
            raise UnbalancedEntry(f"凭证 {spec['business_key']} 借贷不平")
    if not specs:
        return {"entries": 0, "postings": 0}
    ops = connection.ops
    with connection.cursor() as cur:
        if is_postgres():
            cur.execute("SET LOCAL jit = off")
        cur.execute(f"DROP TABLE IF EXISTS {TMP_ENTRY}")
        cur.execute(f"DROP TABLE IF EXISTS {TMP_LEG}")
        cur.execute(
            f"""CREATE TEMPORARY TABLE {TMP_ENTRY} (business_key varchar(120) NOT NULL, kind varchar(24) NOT NULL,
                jurisdiction_id bigint NOT NULL, person_id bigint NULL, effective_on date NOT NULL,
                memo varchar(255) NOT NULL, entry_id bigint NULL)"""
        )
        cur.execute(
            f"CREATE TEMPORARY TABLE {TMP_LEG} (business_key varchar(120) NOT NULL, account_id bigint NOT NULL,"
            " amount numeric(14, 2) NOT NULL)"
        )
        _fill(
            cur,
            TMP_ENTRY,
            ("business_key", "kind", "jurisdiction_id", "person_id", "effective_on", "memo"),
            (
                (
                    s["business_key"],
                    s["kind"],
                    s["jurisdiction_id"],
                    s.get("person_id"),
                    ops.adapt_datefield_value(s["effective_on"]),
                    (s.get("memo") or "")[:255],
                )
                for s in specs
            ),
        )
        _fill(
            cur,
            TMP_LEG,
            ("business_key", "account_id", "amount"),
            ((s["business_key"], acc, str(amt)) for s in specs for acc, amt in s["legs"] if Decimal(amt) != 0),
        )
        insert = f"""
            INSERT INTO funds_journalentry
                (business_key, kind, jurisdiction_id, person_id, effective_on, recorded_at, memo,
                 reverses_id, run_id, created_by_id)
            SELECT t.business_key, t.kind, t.jurisdiction_id, t.person_id, t.effective_on, %s, t.memo, NULL, %s, %s
            FROM {TMP_ENTRY} t WHERE t.entry_id IS NULL
            ON CONFLICT DO NOTHING
        """
        params = [ops.adapt_datetimefield_value(recorded_at), run_id, user_id]
        if is_postgres():
            cur.execute(f"ANALYZE {TMP_ENTRY}")
            cur.execute(
                f"WITH ins AS ({insert} RETURNING id, business_key) UPDATE {TMP_ENTRY} SET entry_id = ins.id "
                f"FROM ins WHERE ins.business_key = {TMP_ENTRY}.business_key",
                params,
            )
            # The statistics again, now that the new entries have their ids, and the legs': the statements below
            # join legs to entries "WHERE entry_id IS NOT NULL", which the first ANALYZE (every id still NULL)
            # estimates at one row — a nested loop over legs × entries (5,000 claims: 10 s; 50,000: minutes).
            cur.execute(f"ANALYZE {TMP_ENTRY}")
            cur.execute(f"ANALYZE {TMP_LEG}")
        else:
            cur.execute(
                f"UPDATE {TMP_ENTRY} SET entry_id = -1 WHERE EXISTS "
                f"(SELECT 1 FROM funds_journalentry e WHERE e.business_key = {TMP_ENTRY}.business_key)"
            )
            cur.execute(insert, params)
            cur.execute(
                f"UPDATE {TMP_ENTRY} SET entry_id = (SELECT e.id FROM funds_journalentry e "
                f"WHERE e.business_key = {TMP_ENTRY}.business_key) WHERE entry_id IS NULL"
            )
            cur.execute(f"UPDATE {TMP_ENTRY} SET entry_id = NULL WHERE entry_id = -1")
        cur.execute(
            f"""INSERT INTO funds_posting (entry_id, account_id, amount, effective_on, kind)
            SELECT e.entry_id, l.account_id, l.amount, e.effective_on, e.kind
            FROM {TMP_LEG} l JOIN {TMP_ENTRY} e ON e.business_key = l.business_key
            WHERE e.entry_id IS NOT NULL"""
        )
        postings = cur.rowcount
        cur.execute(f"SELECT business_key, entry_id FROM {TMP_ENTRY} WHERE entry_id IS NOT NULL")
        ids = dict(cur.fetchall())
        if before_balances is not None:
            before_balances(ids)
        if is_postgres():
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the pending deferred checks, before the shared rows
        deltas = f"""SELECT l.account_id, SUM(l.amount) AS total FROM {TMP_LEG} l
                  JOIN {TMP_ENTRY} e ON e.business_key = l.business_key
                  WHERE e.entry_id IS NOT NULL GROUP BY l.account_id"""
        cur.execute(
            f"""SELECT b.account_id, b.balance, s.total FROM funds_accountbalance b JOIN ({deltas}) s
            ON s.account_id = b.account_id WHERE b.non_negative AND s.total < 0 AND ROUND(b.balance + s.total, 2) < 0"""
        )
        short = cur.fetchone()
        if short is not None:
            raise InsufficientBalance(short[0], -Decimal(str(short[2])), Decimal(str(short[1])))
        cur.execute(
            f"""UPDATE funds_accountbalance SET balance = ROUND(balance + s.total, 2)
            FROM (SELECT l.account_id, SUM(l.amount) AS total FROM {TMP_LEG} l
                  JOIN {TMP_ENTRY} e ON e.business_key = l.business_key
                  WHERE e.entry_id IS NOT NULL GROUP BY l.account_id) s
            WHERE funds_accountbalance.account_id = s.account_id"""
        )
        month = month_expr("e.effective_on")
        month_totals_upsert(
            cur,
            f"""SELECT l.account_id, {month}, e.kind, SUM(l.amount), COUNT(*)
            FROM {TMP_LEG} l JOIN {TMP_ENTRY} e ON e.business_key = l.business_key
            JOIN funds_fundaccount a ON a.id = l.account_id
            WHERE e.entry_id IS NOT NULL AND a.kind NOT IN ({PER_PERSON_SQL})
            GROUP BY l.account_id, {month}, e.kind""",
        )
        if is_postgres():
            cur.execute("SET CONSTRAINTS ALL DEFERRED")  # as declared again (every deferrable check is deferred)
        cur.execute(f"DROP TABLE IF EXISTS {TMP_ENTRY}")
        cur.execute(f"DROP TABLE IF EXISTS {TMP_LEG}")
    return {"entries": len(ids), "postings": max(postings, 0)}
