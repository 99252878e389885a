"""Reconciliation (对账): every invariant of the ledger, checked over the whole book.

1. ``entries_balanced`` — each entry has two postings at least and they sum to zero;
   each posting repeats its entry's date and kind; no posting points to a missing entry.
2. ``balances_match`` — every account's :class:`AccountBalance` equals the sum of its postings;
   no posting points to a missing account; ``month_totals`` — every fund-level account's
   :class:`AccountMonthTotal` rows equal its postings by month and kind.
3. ``no_negative_personal`` — no personal or suspense account is below zero.
4. ``contributions_posted`` — every payment allocation produced its entry, and the
   money its entry took into the bank is the allocation's principal + late fee
   (reversals counted); no contribution entry points to a missing allocation.
5. ``contribution_split`` — for every due paid in full, the credits its allocations
   made to the personal (or suspense) account equal the due's ``personal_account_amount``.

Each break names the entries (or account, allocation, due) involved.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from batch.dialect import is_postgres

from .ledger_sql import month_totals_from_postings_sql
from .models import Reconciliation

SAMPLE = 50  # breaks listed per check (all are counted)


@dataclass
class Break:
    check: str
    detail: str
    entries: list[int] = field(default_factory=list)
    account: int | None = None


@dataclass
class Result:
    ok: bool
    checks: dict[str, int]
    breaks: list[Break]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": self.checks,
            "breaks": [asdict(b) for b in self.breaks],
            "seconds": self.seconds,
        }


def _rows(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall()


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else Decimal("0.00")


def _count_and_sample(check: str, sql: str, make, params: list | None = None) -> tuple[int, list[Break]]:
    rows = _rows(sql, params)
    return len(rows), [make(r) for r in rows[:SAMPLE]]


#: each entry's postings: their sum, count, and first/last date and kind (both variants below)
_POSTINGS_BY_ENTRY = """
    SELECT entry_id, SUM(amount) AS total, COUNT(*) AS legs,
           MIN(effective_on) AS first_day, MAX(effective_on) AS last_day,
           MIN(kind) AS first_kind, MAX(kind) AS last_kind
    FROM funds_posting GROUP BY entry_id
"""

_ENTRIES_BALANCED_PG = f"""
    SELECT COALESCE(e.id, s.entry_id), COALESCE(s.total, 0), COALESCE(s.legs, 0),
           CASE WHEN e.id IS NULL THEN 1 ELSE 0 END AS orphan,
           CASE WHEN s.legs > 0 AND (s.first_day <> e.effective_on OR s.last_day <> e.effective_on
                                     OR s.first_kind <> e.kind OR s.last_kind <> e.kind) THEN 1 ELSE 0 END
    FROM funds_journalentry e
    FULL OUTER JOIN ({_POSTINGS_BY_ENTRY}) s ON s.entry_id = e.id
    WHERE e.id IS NULL OR s.entry_id IS NULL OR ROUND(s.total, 2) <> 0 OR s.legs < 2
       OR s.first_day <> e.effective_on OR s.last_day <> e.effective_on
       OR s.first_kind <> e.kind OR s.last_kind <> e.kind
    ORDER BY 1
"""

_ENTRIES_BALANCED_SQLITE = f"""
    SELECT e.id, COALESCE(s.total, 0), COALESCE(s.legs, 0), 0 AS orphan,
           CASE WHEN s.legs > 0 AND (s.first_day <> e.effective_on OR s.last_day <> e.effective_on
                                     OR s.first_kind <> e.kind OR s.last_kind <> e.kind) THEN 1 ELSE 0 END
    FROM funds_journalentry e
    LEFT JOIN ({_POSTINGS_BY_ENTRY}) s ON s.entry_id = e.id
    WHERE s.entry_id IS NULL OR ROUND(s.total, 2) <> 0 OR s.legs < 2
       OR s.first_day <> e.effective_on OR s.last_day <> e.effective_on
       OR s.first_kind <> e.kind OR s.last_kind <> e.kind
    UNION ALL
    SELECT p.entry_id, SUM(p.amount), COUNT(*), 1, 0
    FROM funds_posting p
    WHERE NOT EXISTS (SELECT 1 FROM funds_journalentry e WHERE e.id = p.entry_id)
    GROUP BY p.entry_id
    ORDER BY 1
"""


def check_entries_balanced() -> tuple[int, list[Break]]:
    """Each entry: two legs at least, summing to zero, carrying its date and kind; no posting without an entry."""
    if is_postgres():
        sql = _ENTRIES_BALANCED_PG
    else:
        # Two halves rather than a FULL OUTER JOIN (which SQLite evaluates without an index, in
        # quadratic time): every entry with its postings' sums, then the postings whose entry is missing.
        sql = _ENTRIES_BALANCED_SQLITE

    def make(r) -> Break:
        if r[3]:
            return Break("entries_balanced", f"分录指向不存在的凭证 {r[0]}（{r[2]} 行，合计 {_money(r[1])}）", [r[0]])
        detail = f"凭证 {r[0]}：分录 {r[2]} 行，合计 {_money(r[1])}" + ("，分录的日期/类型与凭证不符" if r[4] else "")
        return Break("entries_balanced", detail, entries=[r[0]])

    return _count_and_sample("entries_balanced", sql, make)


def check_balances_match() -> tuple[int, list[Break]]:
    """Every account's balance row equals the sum of its postings; no posting without an account."""
    sql = """
        SELECT COALESCE(a.id, s.account_id), COALESCE(a.code, '（不存在的账户）'), b.balance, COALESCE(s.total, 0)
        FROM funds_fundaccount a
        LEFT JOIN funds_accountbalance b ON b.account_id = a.id
        FULL OUTER JOIN (SELECT account_id, SUM(amount) AS total FROM funds_posting GROUP BY account_id) s
               ON s.account_id = a.id
        WHERE a.id IS NULL OR b.account_id IS NULL OR ROUND(b.balance, 2) <> ROUND(COALESCE(s.total, 0), 2)
        ORDER BY 1
    """
    count, breaks = _count_and_sample(
        "balances_match",
        sql,
        lambda r: Break(
            "balances_match",
            f"账户 {r[1]}：余额表 {_money(r[2]) if r[2] is not None else '缺失'}，分录合计 {_money(r[3])}"
            + (f"，差额 {_money(r[2]) - _money(r[3])}" if r[2] is not None else ""),
            account=r[0],
        ),
    )
    for b in breaks:  # the entries involved: the account's latest ones
        b.entries = [
            r[0]
            for r in _rows(
                "SELECT entry_id FROM funds_posting WHERE account_id = %s ORDER BY effective_on DESC, id DESC LIMIT 10",
                [b.account],
            )
        ]
    return count, breaks


def check_no_negative_personal() -> tuple[int, list[Break]]:
    sql = """
        SELECT a.id, a.code, b.balance FROM funds_fundaccount a JOIN funds_accountbalance b ON b.account_id = a.id
        WHERE a.kind IN ('personal', 'suspense') AND ROUND(b.balance, 2) < 0 ORDER BY a.id
    """
    count, breaks = _count_and_sample(
        "no_negative_personal",
        sql,
        lambda r: Break("no_negative_personal", f"个人账户 {r[1]} 余额为负：{_money(r[2])}", account=r[0]),
    )
    for b in breaks:
        b.entries = [
            r[0]
            for r in _rows(
                "SELECT entry_id FROM funds_posting WHERE account_id = %s AND amount < 0 "
                "ORDER BY effective_on DESC, id DESC LIMIT 10",
                [b.account],
            )
        ]
    return count, breaks


def _has_table(name: str) -> bool:
    return name in connection.introspection.table_names()


# Entries produced by payment allocations (``contribution:<allocation id>``) and their reversals.
_ALLOC_OF_ENTRY = """
    SELECT k.entry_id,
           CASE WHEN k.key LIKE 'contribution:%%' THEN CAST(substr(k.key, 14) AS BIGINT) END AS allocation_id
    FROM (
        SELECT e.id AS entry_id, COALESCE(o.business_key, e.business_key) AS key
        FROM funds_journalentry e LEFT JOIN funds_journalentry o ON o.id = e.reverses_id
        WHERE e.kind = 'contribution'
    ) k
    WHERE k.key LIKE 'contribution:%%'
"""


def check_contributions_posted() -> tuple[int, list[Break]]:
    if not _has_table("contributions_paymentallocation"):
        return 0, []
    sql = f"""
        SELECT a.id, a.principal + a.late_fee, x.posted, x.entries
        FROM contributions_paymentallocation a
        LEFT JOIN (
            SELECT m.allocation_id, -SUM(p.amount) AS posted, MIN(m.entry_id) AS entries
            FROM ({_ALLOC_OF_ENTRY}) m
            JOIN funds_posting p ON p.entry_id = m.entry_id
            JOIN funds_fundaccount acc ON acc.id = p.account_id AND acc.kind = 'bank'
            GROUP BY m.allocation_id
        ) x ON x.allocation_id = a.id
        WHERE (a.principal <> 0 OR a.late_fee <> 0)
          AND (x.posted IS NULL OR ROUND(x.posted, 2) <> ROUND(a.principal + a.late_fee, 2))
        ORDER BY a.id
    """
    count, breaks = _count_and_sample(
        "contributions_posted",
        sql,
        lambda r: Break(
            "contributions_posted",
            f"缴费冲抵 {r[0]}：到账 {_money(r[1])}，" + ("未记账" if r[2] is None else f"记账 {_money(r[2])}"),
            entries=[r[3]] if r[3] else [],
        ),
    )
    orphans = _rows(
        f"""SELECT m.entry_id, m.allocation_id FROM ({_ALLOC_OF_ENTRY}) m
        WHERE NOT EXISTS (SELECT 1 FROM contributions_paymentallocation a WHERE a.id = m.allocation_id)
        ORDER BY m.entry_id"""
    )
    breaks += [
        Break("contributions_posted", f"缴费凭证 {e} 指向不存在的冲抵记录 {a}", entries=[e])
        for e, a in orphans[:SAMPLE]
    ]
    return count + len(orphans), breaks


def check_contribution_split() -> tuple[int, list[Break]]:
    if not _has_table("contributions_monthlydue"):
        return 0, []
    sql = f"""
        SELECT d.id, d.personal_account_amount, COALESCE(x.credited, 0)
        FROM contributions_monthlydue d
        LEFT JOIN (
            SELECT al.due_id, SUM(p.amount) AS credited
            FROM ({_ALLOC_OF_ENTRY}) m
            JOIN contributions_paymentallocation al ON al.id = m.allocation_id
            JOIN funds_posting p ON p.entry_id = m.entry_id
            JOIN funds_fundaccount acc ON acc.id = p.account_id AND acc.kind IN ('personal', 'suspense')
            GROUP BY al.due_id
        ) x ON x.due_id = d.id
        WHERE d.settled_on IS NOT NULL
          AND ROUND(d.personal_account_amount, 2) <> ROUND(COALESCE(x.credited, 0), 2)
          AND EXISTS (SELECT 1 FROM contributions_paymentallocation al2 WHERE al2.due_id = d.id)
        ORDER BY d.id
    """

    def make(r) -> Break:
        entries = [
            row[0]
            for row in _rows(
                f"SELECT m.entry_id FROM ({_ALLOC_OF_ENTRY}) m JOIN contributions_paymentallocation al "
                "ON al.id = m.allocation_id WHERE al.due_id = %s",
                [r[0]],
            )
        ]
        return Break(
            "contribution_split",
            f"应缴 {r[0]}：应划入个人账户 {_money(r[1])}，实际记入 {_money(r[2])}",
            entries=entries,
        )

    return _count_and_sample("contribution_split", sql, make)


def check_month_totals() -> tuple[int, list[Break]]:
    """The fund-level accounts' month totals equal their postings by month and kind."""

    sql = f"""
        SELECT COALESCE(t.account_id, s.account_id), COALESCE(t.month, s.month), COALESCE(t.kind, s.kind),
               t.amount, s.total, t.postings, s.n
        FROM funds_accountmonthtotal t
        FULL OUTER JOIN ({month_totals_from_postings_sql()}) s
            ON s.account_id = t.account_id AND s.month = t.month AND s.kind = t.kind
        WHERE t.account_id IS NULL OR s.account_id IS NULL
           OR ROUND(t.amount, 2) <> ROUND(s.total, 2) OR t.postings <> s.n
    """
    return _count_and_sample(
        "month_totals",
        sql,
        lambda r: Break(
            "month_totals",
            f"账户 {r[0]} {str(r[1])[:7]} {r[2]}：月度发生额 {_money(r[3]) if r[3] is not None else '缺失'}"
            f"（{r[5] or 0} 笔），分录合计 {_money(r[4])}（{r[6] or 0} 笔）",
            account=r[0],
        ),
    )


CHECKS = {
    "entries_balanced": check_entries_balanced,
    "balances_match": check_balances_match,
    "month_totals": check_month_totals,
    "no_negative_personal": check_no_negative_personal,
    "contributions_posted": check_contributions_posted,
    "contribution_split": check_contribution_split,
}


def reconcile(*, record: bool = True) -> Result:
    """Run every check; record the result (a :class:`Reconciliation` row) unless told not to."""
    started = time.perf_counter()
    checks: dict[str, int] = {}
    breaks: list[Break] = []
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if is_postgres() and outermost:
            with connection.cursor() as cur:  # big aggregates in memory, one consistent snapshot
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cur.execute("SET LOCAL work_mem = '256MB'")
        for name, check in CHECKS.items():
            count, found = check()
            checks[name] = count
            breaks += found
    result = Result(ok=not any(checks.values()), checks=checks, breaks=breaks, seconds=time.perf_counter() - started)
    if record:
        Reconciliation.objects.create(
            ran_at=timezone.now(),
            ok=result.ok,
            checks=checks,
            breaks=[asdict(b) for b in breaks],
            seconds=result.seconds,
        )
    return result
