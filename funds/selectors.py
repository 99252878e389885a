"""Reads of the ledger: balances and statements (账户余额、明细账).

A statement lists the account's postings newest first, a page at a time, with the
balance after each one. The running balance is a window function over the index
(account, effective date, id): the balance now minus everything newer, so a page
reads only as many index entries as it shows plus those before it — fast for a
personal account (a few dozen postings) and for the first pages of a fund account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Sum

from .models import AccountBalance, AccountKind, FundAccount, JournalEntry, Posting

ZERO = Decimal("0")
CENT = Decimal("0.01")
COUNT_CAP = 100_000


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT) if value is not None else ZERO.quantize(CENT)


def personal_account_of(person, jurisdiction=None) -> FundAccount | None:
    """The person's personal account (in the jurisdiction, or the most recently opened one)."""
    qs = FundAccount.objects.filter(person=person, kind=AccountKind.PERSONAL).select_related("jurisdiction")
    if jurisdiction is not None:
        qs = qs.filter(jurisdiction__code=getattr(jurisdiction, "code", jurisdiction))
    return qs.order_by("-opened_on", "-id").first()


def balance(account: FundAccount) -> Decimal:
    """The account's balance the natural way round (assets positive too)."""
    raw = AccountBalance.objects.filter(account=account).values_list("balance", flat=True).first()
    return _money(raw) * account.side


def balance_as_of(account: FundAccount, on: date) -> Decimal:
    """Balance at the end of ON (postings effective on or before it)."""
    raw = Posting.objects.filter(account=account, effective_on__lte=on).aggregate(s=Sum("amount"))["s"]
    return _money(raw) * account.side


@dataclass
class StatementLine:
    posting_id: int
    entry_id: int
    effective_on: date
    kind: str
    kind_label: str
    amount: Decimal  # natural sign: + in, − out
    balance_after: Decimal
    business_key: str
    memo: str
    recorded_at: datetime | None
    reverses_id: int | None
    reversed: bool


@dataclass
class Statement:
    account: FundAccount
    balance: Decimal
    lines: list[StatementLine]
    page: int
    per_page: int
    count: int

    @property
    def count_capped(self) -> bool:
        return self.count > COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def statement(account: FundAccount, *, page: int = 1, per_page: int = 50) -> Statement:
    """明细账: one page of the account's postings, newest first, each with the balance after it."""
    page = max(1, int(page))
    raw_balance = AccountBalance.objects.filter(account=account).values_list("balance", flat=True).first()
    raw_balance = _money(raw_balance)
    with connection.cursor() as cur:
        # counted up to a cap: a fund account may hold millions of postings
        cur.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM funds_posting WHERE account_id = %s LIMIT %s) x",
            [account.pk, COUNT_CAP + 1],
        )
        count = int(cur.fetchone()[0])
        cur.execute(
            """
            SELECT p.id, p.entry_id, p.effective_on, p.kind, p.amount,
                   SUM(p.amount) OVER (ORDER BY p.effective_on DESC, p.id DESC
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS newer
            FROM funds_posting p
            WHERE p.account_id = %s
            ORDER BY p.effective_on DESC, p.id DESC
            LIMIT %s OFFSET %s
            """,
            [account.pk, per_page, (page - 1) * per_page],
        )
        rows = cur.fetchall()
    entries = {
        e.pk: e
        for e in JournalEntry.objects.filter(pk__in=[r[1] for r in rows]).only(
            "business_key", "memo", "recorded_at", "reverses_id"
        )
    }
    reversed_ids = set(JournalEntry.objects.filter(reverses_id__in=list(entries)).values_list("reverses_id", flat=True))
    labels = dict(Posting._meta.get_field("kind").choices)
    side = account.side
    lines = []
    for pid, eid, eff, kind, amount, newer in rows:
        amount, newer = _money(amount), _money(newer)
        entry = entries.get(eid)
        lines.append(
            StatementLine(
                posting_id=pid,
                entry_id=eid,
                effective_on=eff if isinstance(eff, date) else date.fromisoformat(str(eff)),
                kind=kind,
                kind_label=labels.get(kind, kind),
                amount=amount * side,
                balance_after=(raw_balance - newer + amount) * side,
                business_key=entry.business_key if entry else "",
                memo=entry.memo if entry else "",
                recorded_at=entry.recorded_at if entry else None,
                reverses_id=entry.reverses_id if entry else None,
                reversed=eid in reversed_ids,
            )
        )
    return Statement(account, raw_balance * side, lines, page, per_page, count)
