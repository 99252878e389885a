"""Benchmark data for the ledger: personal accounts and months of history for a generated population.

PostgreSQL only (the numbers asked for are PostgreSQL's). History is written as
set-based SQL with explicit ids (one statement per month and kind), the way an
initial migration from the old system would load it: during the load the
ledger's own triggers are disabled and the big indexes dropped, then rebuilt —
after which :func:`funds.reconcile.reconcile` must find the book balanced.

Per month of history and person (ids ``1..N`` contiguous or not):
- in-service (employee, flexible, unemployed): a contribution entry of three legs —
  bank −10% of the base, pool +8%, personal account +2% (base 3000–7900 by person);
- retirees: a credit from the pool of 75.00 (two legs);
- everyone, every month: a personal-account payment of 9.00 (two legs), so each
  account has two postings a month and the ledger ~4.5 postings per person-month.
"""

from __future__ import annotations

import time
from datetime import date

from django.db import connection, transaction

from batch.dialect import is_postgres
from funds.credits import month_start, next_month
from funds.ledger_sql import month_totals_rebuild_sql
from funds.posting import fund_account
from policy.models import Jurisdiction

STEP = 10**10  # entry ids: kind_code × STEP + month_index × 10**8 + person_id


def _exec(cur, sql: str, params=None) -> int:
    cur.execute(sql, params or [])
    return cur.rowcount


def open_all_accounts(jurisdiction_id: int, on: date) -> int:
    """A personal account and its balance row for every person with a span in the jurisdiction."""
    with transaction.atomic(), connection.cursor() as cur:
        n = _exec(
            cur,
            """
            INSERT INTO funds_fundaccount (jurisdiction_id, kind, person_id, code, opened_on)
            SELECT x.jurisdiction_id, 'personal', x.person_id, x.code, %s
            FROM (SELECT DISTINCT s.jurisdiction_id, s.person_id, j.code || ':personal:' || s.person_id::text AS code
                  FROM enrollment_enrolmentspan s JOIN policy_jurisdiction j ON j.id = s.jurisdiction_id
                  WHERE s.jurisdiction_id = %s) x
            -- in the order persons were registered, as accounts are opened in life (and by a migration
            -- of the old system's accounts): account ids follow person ids, not a hash order
            ORDER BY x.person_id
            ON CONFLICT DO NOTHING
            """,
            [on, jurisdiction_id],
        )
        _exec(
            cur,
            """
            INSERT INTO funds_accountbalance (account_id, balance, non_negative)
            SELECT a.id, 0, a.kind IN ('personal', 'suspense') FROM funds_fundaccount a
            WHERE NOT EXISTS (SELECT 1 FROM funds_accountbalance b WHERE b.account_id = a.id)
            ORDER BY a.id
            """,
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE funds_fundaccount")
        cur.execute("ANALYZE funds_accountbalance")
    return n


_DROP = [
    "ALTER TABLE funds_posting DISABLE TRIGGER ALL",
    "ALTER TABLE funds_journalentry DISABLE TRIGGER ALL",
    "DROP INDEX IF EXISTS funds_posting_acct_eff_id",
]
_RESTORE = [
    "CREATE INDEX IF NOT EXISTS funds_posting_acct_eff_id ON funds_posting (account_id, effective_on, id) "
    "INCLUDE (amount, kind)",
    "ALTER TABLE funds_posting ENABLE TRIGGER ALL",
    "ALTER TABLE funds_journalentry ENABLE TRIGGER ALL",
    "SELECT setval(pg_get_serial_sequence('funds_journalentry', 'id'), (SELECT MAX(id) FROM funds_journalentry))",
    "SELECT setval(pg_get_serial_sequence('funds_posting', 'id'), (SELECT MAX(id) FROM funds_posting))",
    # VACUUM, not just ANALYZE: it sets the visibility map, without which the statement's and the
    # interest job's index-only scans fetch every heap row (this server runs with autovacuum off).
    "VACUUM (ANALYZE) funds_journalentry",
    "VACUUM (ANALYZE) funds_posting",
    "VACUUM (ANALYZE) funds_fundaccount",
    "VACUUM (ANALYZE) funds_accountbalance",
    "VACUUM (ANALYZE) funds_accountmonthtotal",
]


def load_history(
    *, jurisdiction_id: int, first_month: date, months: int, log=print, finish: bool = True
) -> dict[str, float]:
    """Write MONTHS months of history from FIRST_MONTH; returns counts and seconds.

    ``finish=False`` leaves the balances, month totals, index and triggers for a later call (several
    jurisdictions loaded one after the other finish once)."""
    if not is_postgres():
        raise RuntimeError("bench history is PostgreSQL only")

    jur = Jurisdiction.objects.get(pk=jurisdiction_id)
    pool = fund_account(jur, "pooled").pk
    bank = fund_account(jur, "bank").pk
    t0 = time.perf_counter()
    entries = postings = 0
    with connection.cursor() as cur:
        for sql in _DROP:
            _exec(cur, sql)
        month = month_start(first_month)
        for i in range(months):
            mt = time.perf_counter()
            with transaction.atomic():
                ne, np = _load_month(cur, jurisdiction_id, pool, bank, month, i)
            entries += ne
            postings += np
            log(f"  history {month:%Y-%m}: {ne} entries, {np} postings in {time.perf_counter() - mt:.1f} s")
            month = next_month(month)
        if not finish:
            return {"entries": entries, "postings": postings, "seconds": time.perf_counter() - t0}
        bt = time.perf_counter()
        with transaction.atomic():
            _exec(
                cur,
                """
                UPDATE funds_accountbalance b SET balance = s.total
                FROM (SELECT account_id, SUM(amount) AS total FROM funds_posting GROUP BY account_id) s
                WHERE b.account_id = s.account_id AND b.balance <> s.total
                """,
            )
            _exec(cur, "DELETE FROM funds_accountmonthtotal")
            _exec(cur, month_totals_rebuild_sql("postgresql"))
        log(f"  balances and month totals in {time.perf_counter() - bt:.1f} s")
        it = time.perf_counter()
        for sql in _RESTORE:
            cur.execute(sql)
        log(f"  indexes and statistics in {time.perf_counter() - it:.1f} s")
    return {"entries": entries, "postings": postings, "seconds": time.perf_counter() - t0}


def _load_month(cur, jid: int, pool: int, bank: int, month: date, i: int) -> tuple[int, int]:
    after = next_month(month)
    eff_contrib = month.replace(day=20)
    eff_pay = month.replace(day=25)
    tag = f"{month:%Y-%m}"
    base_c, base_r, base_p = 1 * STEP + i * 10**8, 2 * STEP + i * 10**8, 3 * STEP + i * 10**8
    # in-service: contribution of the month (3 legs)
    ne = _exec(
        cur,
        f"""
        INSERT INTO funds_journalentry (id, business_key, kind, jurisdiction_id, person_id, effective_on,
                                        recorded_at, memo, reverses_id, run_id, created_by_id)
        SELECT {base_c} + s.person_id, 'bench-contribution:' || s.person_id || ':{tag}', 'contribution', %s,
               s.person_id, %s, now(), '{tag} 缴费到账（基准测试）', NULL, NULL, NULL
        FROM enrollment_enrolmentspan s
        WHERE s.jurisdiction_id = %s AND s.category <> 'retiree' AND s.start < %s
          AND (s."end" IS NULL OR s."end" > %s)
        """,
        [jid, eff_contrib, jid, after, month],
    )
    _exec(cur, "ANALYZE funds_journalentry")  # fresh statistics: the joins below must hash, not loop
    np = _exec(
        cur,
        f"""
        INSERT INTO funds_posting (entry_id, account_id, amount, effective_on, kind)
        SELECT e.id, x.account_id, x.amount, e.effective_on, 'contribution'
        FROM funds_journalentry e
        JOIN funds_fundaccount a ON a.person_id = e.person_id AND a.kind = 'personal' AND a.jurisdiction_id = %s
        CROSS JOIN LATERAL (VALUES
            (%s::bigint, -((3000 + (e.person_id %% 50) * 100) * 0.10)::numeric(14, 2)),
            (%s::bigint, ((3000 + (e.person_id %% 50) * 100) * 0.08)::numeric(14, 2)),
            (a.id, ((3000 + (e.person_id %% 50) * 100) * 0.02)::numeric(14, 2))
        ) AS x(account_id, amount)
        WHERE e.id >= {base_c} AND e.id < {base_c + 10**8}
        """,
        [jid, bank, pool],
    )
    # retirees: monthly credit from the pool (2 legs), from the month after retirement
    ne += _exec(
        cur,
        f"""
        INSERT INTO funds_journalentry (id, business_key, kind, jurisdiction_id, person_id, effective_on,
                                        recorded_at, memo, reverses_id, run_id, created_by_id)
        SELECT {base_r} + s.person_id, 'retiree-credit:' || s.person_id || ':{tag}', 'retiree_credit', %s,
               s.person_id, %s, now(), '{tag} 退休人员个人账户划入', NULL, NULL, NULL
        FROM enrollment_enrolmentspan s
        WHERE s.jurisdiction_id = %s AND s.category = 'retiree' AND s.start < %s
          AND (s."end" IS NULL OR s."end" > %s)
        """,
        [jid, month, jid, month, month],
    )
    _exec(cur, "ANALYZE funds_journalentry")
    np += _exec(
        cur,
        f"""
        INSERT INTO funds_posting (entry_id, account_id, amount, effective_on, kind)
        SELECT e.id, x.account_id, x.amount, e.effective_on, 'retiree_credit'
        FROM funds_journalentry e
        JOIN funds_fundaccount a ON a.person_id = e.person_id AND a.kind = 'personal' AND a.jurisdiction_id = %s
        CROSS JOIN LATERAL (VALUES (%s::bigint, -75.00::numeric(14, 2)), (a.id, 75.00::numeric(14, 2)))
            AS x(account_id, amount)
        WHERE e.id >= {base_r} AND e.id < {base_r + 10**8}
        """,
        [jid, pool],
    )
    # everyone with money in the account: a payment of 9.00 at a pharmacy (2 legs)
    ne += _exec(
        cur,
        f"""
        INSERT INTO funds_journalentry (id, business_key, kind, jurisdiction_id, person_id, effective_on,
                                        recorded_at, memo, reverses_id, run_id, created_by_id)
        SELECT {base_p} + e.person_id, 'bench-payment:' || e.person_id || ':{tag}', 'account_payment', %s,
               e.person_id, %s, now(), '定点药店购药（基准测试）', NULL, NULL, NULL
        FROM funds_journalentry e
        WHERE ((e.id >= {base_c} AND e.id < {base_c + 10**8}) OR (e.id >= {base_r} AND e.id < {base_r + 10**8}))
          AND e.jurisdiction_id = %s
        """,
        [jid, eff_pay, jid],
    )
    _exec(cur, "ANALYZE funds_journalentry")
    np += _exec(
        cur,
        f"""
        INSERT INTO funds_posting (entry_id, account_id, amount, effective_on, kind)
        SELECT e.id, x.account_id, x.amount, e.effective_on, 'account_payment'
        FROM funds_journalentry e
        JOIN funds_fundaccount a ON a.person_id = e.person_id AND a.kind = 'personal' AND a.jurisdiction_id = %s
        CROSS JOIN LATERAL (VALUES (a.id, -9.00::numeric(14, 2)), (%s::bigint, 9.00::numeric(14, 2)))
            AS x(account_id, amount)
        WHERE e.id >= {base_p} AND e.id < {base_p + 10**8}
        """,
        [jid, bank],
    )
    return ne, np
