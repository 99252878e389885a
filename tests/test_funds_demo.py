"""The quick start's ledger history (operations.demo.ledger): balanced, idempotent, and a statement to show."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest

from funds.models import AccountKind, EntryKind, FundAccount, JournalEntry, Posting
from funds.reconcile import reconcile
from funds.selectors import statement
from operations.demo.ledger import demo_ledger
from policy.calculations import money

from .test_funds_support import D, person, stat

pytestmark = pytest.mark.django_db


def test_demo_ledger_posts_a_balanced_history_once(settings):
    stat("hunan", "reference_monthly_wage", 7100)
    stat("sanmenxia", "reference_monthly_wage", 6100)
    stat("sanmenxia", "employer_average_base", 5000)
    worker = person("hunan", birth=date(1985, 3, 1))
    flexible = person("hunan", category="flexible", birth=date(1980, 3, 1))
    retiree = person("hunan", category="retiree", start=date(2020, 1, 1))
    older = person("sanmenxia", birth=date(1970, 3, 1))  # 54 in 2024: 2% + 1.5% (sanmenxia 第九条)
    totals = demo_ledger(first_month=date(2024, 1, 1), months=3)
    assert totals["contributions"] >= 6 and totals["retiree_credits"] >= 3 and totals["benefit_payments"] > 0
    assert reconcile(record=False).ok
    # hunan flexible workers have no account before retirement (第四十一条): the pool takes it all
    assert not FundAccount.objects.filter(person=flexible, kind=AccountKind.PERSONAL).exists()
    st = statement(FundAccount.objects.get(person=worker, kind=AccountKind.PERSONAL))
    kinds = [line.kind for line in st.lines]
    assert kinds.count(EntryKind.CONTRIBUTION) == 3 and EntryKind.ACCOUNT_PAYMENT in kinds
    assert st.lines[0].balance_after == st.balance > 0
    # the retiree: 75 a month from the pool (hunan 第四十二条), then 30% of the balance paid at a pharmacy
    credits = Posting.objects.filter(account__person=retiree, kind=EntryKind.RETIREE_CREDIT)
    assert sorted(p.amount for p in credits) == [D("75.00")] * 3
    lines = statement(FundAccount.objects.get(person=retiree, kind=AccountKind.PERSONAL)).lines[::-1]  # oldest first
    paid = [(before.balance_after, line.amount) for before, line in pairwise(lines) if line.kind == "account_payment"]
    assert paid and all(amount == -money(balance * D("0.3")) for balance, amount in paid)
    shares = {
        p.amount
        for p in Posting.objects.filter(account__person=older, account__kind=AccountKind.PERSONAL, kind="contribution")
    }
    assert len(shares) == 1 and next(iter(shares)) > 0
    before = JournalEntry.objects.count()
    assert demo_ledger(first_month=date(2024, 1, 1), months=3) == dict.fromkeys(totals, 0)
    assert JournalEntry.objects.count() == before  # a second run posts nothing
