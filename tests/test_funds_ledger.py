"""The funds ledger (issue 5): double entry, business keys, no overdraft, reversal, postings, reconciliation.

Expected figures are worked out by hand from the seeds; the arithmetic is in the comments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from funds import death, posting
from funds.models import AccountBalance, AccountKind, AccountMonthTotal, EntryKind, FundAccount, JournalEntry, Posting
from funds.posting import DuplicatePosting, InsufficientBalance, Leg, UnbalancedEntry
from funds.receipts import post_contribution_received, split_principal
from funds.reconcile import reconcile
from funds.selectors import statement
from policy.resolver import PolicyMissing

from .test_funds_support import D, due, employer, fresh_policy, pay, person, stat  # noqa: F401

pytestmark = pytest.mark.django_db


def bal(account: FundAccount) -> Decimal:
    return AccountBalance.objects.get(account=account).balance


def credit(p, jurisdiction: str, amount, key: str, on=date(2024, 1, 10)) -> JournalEntry:
    """Put money into a personal account from the pool (a plain two-leg entry)."""
    acct = posting.personal_account(p, jurisdiction, on=on)
    return posting.post_entry(
        business_key=key,
        kind=EntryKind.RETIREE_CREDIT,
        jurisdiction=jurisdiction,
        effective_on=on,
        legs=[Leg(acct, D(str(amount))), Leg(posting.fund_account(jurisdiction, AccountKind.POOLED), -D(str(amount)))],
        person=p,
    )


# --- double entry, business keys ---------------------------------------------------------


def test_entry_postings_sum_to_zero_and_move_balances():
    p = person("hunan", category="retiree", start=date(2023, 3, 15))
    entry = credit(p, "hunan", "75.00", "t:1")
    assert sum(entry.postings.values_list("amount", flat=True)) == 0
    assert sorted(entry.postings.values_list("amount", flat=True)) == [D("-75.00"), D("75.00")]
    acct = posting.personal_account(p, "hunan", on=date(2024, 1, 1))
    assert bal(acct) == D("75.00")
    assert bal(posting.fund_account("hunan", AccountKind.POOLED)) == D("-75.00")
    # the postings carry the entry's date and kind (the statement index reads them)
    assert set(entry.postings.values_list("effective_on", "kind")) == {(date(2024, 1, 10), "retiree_credit")}


def test_unbalanced_or_one_legged_entries_are_refused():
    p = person("hunan", category="retiree")
    acct = posting.personal_account(p, "hunan", on=date(2024, 1, 1))
    pool = posting.fund_account("hunan", AccountKind.POOLED)
    with pytest.raises(UnbalancedEntry):
        posting.post_entry(
            business_key="u:1",
            kind="opening",
            jurisdiction="hunan",
            effective_on=date(2024, 1, 1),
            legs=[Leg(acct, D("10")), Leg(pool, D("-9.99"))],
        )
    with pytest.raises(UnbalancedEntry):  # legs on one account only
        posting.post_entry(
            business_key="u:2",
            kind="opening",
            jurisdiction="hunan",
            effective_on=date(2024, 1, 1),
            legs=[Leg(acct, D("10")), Leg(acct, D("-10"))],
        )
    with pytest.raises(UnbalancedEntry):  # fractions of a fen
        posting.post_entry(
            business_key="u:3",
            kind="opening",
            jurisdiction="hunan",
            effective_on=date(2024, 1, 1),
            legs=[Leg(acct, D("0.005")), Leg(pool, D("-0.005"))],
        )
    assert not JournalEntry.objects.exists() and not Posting.objects.exists()


def test_a_posting_submitted_twice_is_refused_by_its_business_key():
    p = person("hunan", category="retiree")
    credit(p, "hunan", "75.00", "retiree-credit:x:2024-01")
    with pytest.raises(DuplicatePosting):
        credit(p, "hunan", "75.00", "retiree-credit:x:2024-01")
    assert JournalEntry.objects.filter(business_key="retiree-credit:x:2024-01").count() == 1
    assert bal(posting.personal_account(p, "hunan", on=date(2024, 1, 1))) == D("75.00")  # not 150
    # the database itself refuses the key, whatever the code path
    with pytest.raises(IntegrityError), transaction.atomic():
        e = JournalEntry.objects.first()
        JournalEntry.objects.create(
            business_key=e.business_key,
            kind=e.kind,
            jurisdiction=e.jurisdiction,
            effective_on=e.effective_on,
            recorded_at=e.recorded_at,
        )


# --- no overdraft --------------------------------------------------------------------------


def test_a_withdrawal_larger_than_the_balance_is_refused():
    p = person("hunan", category="retiree")
    credit(p, "hunan", "150.00", "t:1")
    with pytest.raises(InsufficientBalance):
        posting.post_account_payment(
            person=p, jurisdiction="hunan", amount=D("150.01"), on=date(2024, 2, 1), business_key="pay:1"
        )
    acct = posting.personal_account(p, "hunan", on=date(2024, 1, 1))
    assert bal(acct) == D("150.00")
    assert not JournalEntry.objects.filter(business_key="pay:1").exists()
    # 150.00 exactly is allowed and leaves 0.00
    posting.post_account_payment(
        person=p, jurisdiction="hunan", amount=D("150.00"), on=date(2024, 2, 1), business_key="pay:2"
    )
    assert bal(acct) == D("0.00")
    with pytest.raises(InsufficientBalance):
        posting.post_account_payment(
            person=p, jurisdiction="hunan", amount=D("0.01"), on=date(2024, 2, 2), business_key="pay:3"
        )


def test_the_bulk_path_refuses_a_withdrawal_larger_than_the_balance_too():
    # claims and the demo pay through post_entries_bulk: the whole batch is refused, nothing moves
    from django.utils import timezone

    from funds.ledger_sql import post_entries_bulk

    p = person("hunan", category="retiree")
    credit(p, "hunan", "40.00", "t:1")
    acct = posting.personal_account(p, "hunan", on=date(2024, 1, 1))
    bank = posting.fund_account("hunan", AccountKind.BANK)
    jid = acct.jurisdiction_id

    def spec(key, amount):
        return {
            "business_key": key,
            "kind": EntryKind.ACCOUNT_PAYMENT,
            "jurisdiction_id": jid,
            "person_id": p.pk,
            "effective_on": date(2024, 2, 1),
            "memo": "",
            "legs": [(acct.pk, -D(amount)), (bank.pk, D(amount))],
        }

    with pytest.raises(InsufficientBalance), transaction.atomic():
        post_entries_bulk([spec("b:1", "25.00"), spec("b:2", "15.01")], recorded_at=timezone.now())
    assert bal(acct) == D("40.00") and not JournalEntry.objects.filter(business_key__startswith="b:").exists()
    with transaction.atomic():
        assert (
            post_entries_bulk([spec("b:1", "25.00"), spec("b:2", "15.00")], recorded_at=timezone.now())["entries"] == 2
        )
    assert bal(acct) == D("0.00")


def test_the_bulk_path_gives_the_new_entries_ids_and_skips_keys_posted_before():
    # the claims batch links each claim to its entry from these ids instead of reading 50 000 keys back
    from django.utils import timezone

    from funds.ledger_sql import post_entries_bulk

    p = person("hunan", category="retiree")
    pool = posting.fund_account("hunan", AccountKind.POOLED)
    bank = posting.fund_account("hunan", AccountKind.BANK)

    def spec(key, amount):
        return {
            "business_key": key,
            "kind": EntryKind.BENEFIT_PAYMENT,
            "jurisdiction_id": pool.jurisdiction_id,
            "person_id": p.pk,
            "effective_on": date(2024, 2, 1),
            "memo": f"memo {key}",
            "legs": [(pool.pk, -D(amount)), (bank.pk, D(amount))],
        }

    ids: dict[str, int] = {}
    first = post_entries_bulk(
        [spec("i:1", "10.00"), spec("i:2", "20.00")], recorded_at=timezone.now(), before_balances=ids.update
    )
    stored = dict(JournalEntry.objects.filter(business_key__startswith="i:").values_list("business_key", "pk"))
    assert first == {"entries": 2, "postings": 4} and ids == stored
    new: dict[str, int] = {}
    again = post_entries_bulk(
        [spec("i:2", "20.00"), spec("i:3", "5.00")], recorded_at=timezone.now(), before_balances=new.update
    )
    assert again["entries"] == 1 and new == {"i:3": JournalEntry.objects.get(business_key="i:3").pk}
    assert JournalEntry.objects.get(business_key="i:1").memo == "memo i:1"
    assert bal(pool) == D("-35.00") and bal(bank) == D("35.00")


def test_the_bulk_path_lets_the_caller_write_before_the_shared_balances_move():
    # the claims batch writes its claims, accumulators and bills there, so that the pooled fund's and the bank's
    # balance rows, shared by every chunk, stay locked only for the last statements and the commit
    from django.utils import timezone

    from funds.ledger_sql import post_entries_bulk

    p = person("hunan", category="retiree")
    pool = posting.fund_account("hunan", AccountKind.POOLED)
    bank = posting.fund_account("hunan", AccountKind.BANK)
    seen = []

    def before(ids):
        seen.append((dict(ids), bal(pool), bal(bank), AccountMonthTotal.objects.filter(account=pool).exists()))

    spec = {
        "business_key": "w:1",
        "kind": EntryKind.BENEFIT_PAYMENT,
        "jurisdiction_id": pool.jurisdiction_id,
        "person_id": p.pk,
        "effective_on": date(2024, 2, 1),
        "memo": "",
        "legs": [(pool.pk, -D("12.34")), (bank.pk, D("12.34"))],
    }
    with transaction.atomic():
        result = post_entries_bulk([spec], recorded_at=timezone.now(), before_balances=before)
    entry = JournalEntry.objects.get(business_key="w:1")
    assert seen == [({"w:1": entry.pk}, D("0.00"), D("0.00"), False)]  # the entry written, no balance moved yet
    assert result == {"entries": 1, "postings": 2}
    assert bal(pool) == D("-12.34") and bal(bank) == D("12.34")
    assert AccountMonthTotal.objects.get(account=pool).amount == D("-12.34")


def test_the_database_refuses_a_negative_personal_balance():
    p = person("hunan", category="retiree")
    acct = posting.personal_account(p, "hunan", on=date(2024, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountBalance.objects.filter(account=acct).update(balance=D("-0.01"))
    # the pooled fund may run a deficit
    pool = posting.fund_account("hunan", AccountKind.POOLED)
    AccountBalance.objects.filter(account=pool).update(balance=D("-5"))


def test_no_account_means_nothing_to_pay_from():
    p = person("hunan", category="retiree")
    with pytest.raises(InsufficientBalance):
        posting.post_account_payment(
            person=p, jurisdiction="hunan", amount=D("1"), on=date(2024, 2, 1), business_key="pay:1"
        )


# --- reversal ------------------------------------------------------------------------------


def test_reversal_negates_an_entry_once_and_leaves_it_untouched():
    p = person("hunan", category="retiree")
    entry = credit(p, "hunan", "75.00", "t:1")
    pool = posting.fund_account("hunan", AccountKind.POOLED)
    acct = posting.personal_account(p, "hunan", on=date(2024, 1, 1))
    rev = posting.entry_reverse(entry, reason="重复划入", on=date(2024, 1, 20))
    assert rev.reverses == entry and rev.kind == entry.kind and rev.business_key == f"reversal:{entry.pk}"
    assert sorted(rev.postings.values_list("amount", flat=True)) == [D("-75.00"), D("75.00")]
    assert bal(acct) == D("0.00") and bal(pool) == D("0.00")
    assert entry.postings.count() == 2  # the original stays as it was
    with pytest.raises(DuplicatePosting):
        posting.entry_reverse(entry, reason="再次", on=date(2024, 1, 21))
    with pytest.raises(ValidationError):
        posting.entry_reverse(rev, reason="  ", on=date(2024, 1, 21))


def test_reversing_a_credit_already_spent_is_refused():
    p = person("hunan", category="retiree")
    entry = credit(p, "hunan", "75.00", "t:1")
    posting.post_account_payment(
        person=p, jurisdiction="hunan", amount=D("50"), on=date(2024, 1, 15), business_key="pay:1"
    )
    with pytest.raises(InsufficientBalance):  # 25.00 left, 75.00 to take back
        posting.entry_reverse(entry, reason="错划", on=date(2024, 1, 20))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_postgres_ledger_is_append_only_and_balanced_at_commit():
    p = person("hunan", category="retiree")
    entry = credit(p, "hunan", "75.00", "t:1")
    with pytest.raises(Exception, match="只能追加"), transaction.atomic():
        Posting.objects.filter(entry=entry).update(amount=D("1"))
    with pytest.raises(Exception, match="只能追加"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM funds_journalentry WHERE id = %s", [entry.pk])
    # an extra posting that unbalances the entry is refused when constraints are checked (at commit)
    acct = posting.personal_account(p, "hunan", on=date(2024, 1, 1))
    with pytest.raises(Exception, match="借贷不平"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO funds_posting (entry_id, account_id, amount, effective_on, kind) VALUES (%s, %s, 5, %s, %s)",
            [entry.pk, acct.pk, entry.effective_on, entry.kind],
        )
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")


# --- person events -------------------------------------------------------------------------


def test_death_pays_heirs_or_goes_to_the_pool_where_the_seed_says_so():
    # ziyang 第十一条(一)3: heirs inherit; none → pool. The month of death is still credited (2.8% of 3000 = 84):
    # the payout posts March's credit first when the month's run has not
    stat("ziyang", "average_pension_monthly", 3000)
    a = person("ziyang", category="retiree")
    b = person("ziyang", category="retiree")
    credit(a, "ziyang", "84.00", "t:a")
    credit(b, "ziyang", "84.00", "t:b")
    pool = posting.fund_account("ziyang", AccountKind.POOLED)
    bank = posting.fund_account("ziyang", AccountKind.BANK)
    e1 = death.post_death(person=a, jurisdiction="ziyang", on=date(2024, 3, 5), heirs=True)
    assert e1.kind == EntryKind.DEATH_INHERITANCE and bal(bank) == D("168.00")  # bank credited: money out
    e2 = death.post_death(person=b, jurisdiction="ziyang", on=date(2024, 3, 5), heirs=False)
    assert e2.kind == EntryKind.DEATH_TO_POOL
    assert bal(pool) == D("-336.00") + D("168.00")  # four credits out, one balance back
    assert death.post_death(person=b, jurisdiction="ziyang", on=date(2024, 3, 6), heirs=False) is None  # empty now


def test_death_without_heirs_where_the_seed_is_silent_needs_a_value():
    # hunan 第四十四条 says only "依法继承": no rule for a balance without heirs (D-X16)
    p = person("hunan", category="retiree")
    credit(p, "hunan", "75.00", "t:1")
    with pytest.raises(PolicyMissing, match=r"funds\.death_without_heirs"):
        death.post_death(person=p, jurisdiction="hunan", on=date(2024, 3, 5), heirs=False)


def test_transfer_out_follows_each_seed():
    h = person("hunan", category="retiree")
    credit(h, "hunan", "75.00", "t:h")
    # hunan 第四十四条: within the province the account stays usable, nothing moves
    assert (
        posting.post_transfer_out(person=h, jurisdiction="hunan", on=date(2024, 5, 1), destination="in_province")
        is None
    )
    e = posting.post_transfer_out(
        person=h, jurisdiction="hunan", on=date(2024, 5, 1), destination="out_of_province", region="广东省"
    )
    assert e.kind == EntryKind.TRANSFER_OUT
    assert bal(posting.personal_account(h, "hunan", on=date(2024, 1, 1))) == D("0.00")
    # langfang 第四十三条: may also be paid to the holder
    lf = person("langfang", category="retiree", start=date(2024, 1, 1))
    credit(lf, "langfang", "70.00", "t:l")
    e = posting.post_transfer_out(
        person=lf, jurisdiction="langfang", on=date(2024, 5, 1), destination="in_province", mode="pay_holder"
    )
    assert e.kind == EntryKind.HOLDER_PAYOUT
    # ziyang 第十一条(一)2: moves with the person only
    z = person("ziyang", category="retiree")
    credit(z, "ziyang", "84.00", "t:z")
    with pytest.raises(ValidationError):
        posting.post_transfer_out(
            person=z, jurisdiction="ziyang", on=date(2024, 5, 1), destination="out_of_province", mode="pay_holder"
        )
    # xianning is silent (D-X16)
    x = person("xianning", category="retiree")
    with pytest.raises(PolicyMissing):
        posting.post_transfer_out(person=x, jurisdiction="xianning", on=date(2024, 5, 1), destination="out_of_province")


def test_retirement_lump_sum_split():
    # ziyang 第九条(五): in-service credit of the clearance month (2% × 5000 = 100) per month bought
    # lump 5000 × 9.7% × 24 = 11640.00 → account 100 × 24 = 2400.00, pool 9240.00
    z = person("ziyang", category="retiree")
    e = posting.post_retirement_clearance(
        person=z, jurisdiction="ziyang", on=date(2024, 6, 3), lump_sum=D("11640.00"), base=D("5000"), months=24
    )
    amounts = {p.account.kind: p.amount for p in e.postings.select_related("account")}
    assert amounts == {"bank": D("-11640.00"), "personal": D("2400.00"), "pooled": D("9240.00")}
    # langfang 第三十四条: 市社平工资 6000 × 8% × 12 = 5760.00; "按在职职工比例" 2% × 6000 × 12 = 1440.00
    lf = person("langfang", category="retiree", start=date(2024, 1, 1))
    e = posting.post_retirement_clearance(
        person=lf, jurisdiction="langfang", on=date(2024, 6, 3), lump_sum=D("5760.00"), base=D("6000"), months=12
    )
    amounts = {p.account.kind: p.amount for p in e.postings.select_related("account")}
    assert amounts == {"bank": D("-5760.00"), "personal": D("1440.00"), "pooled": D("4320.00")}
    # sanmenxia 第八条: never-enrolled retirees' payment all to the pool
    s = person("sanmenxia", category="retiree")
    e = posting.post_retirement_clearance(
        person=s,
        jurisdiction="sanmenxia",
        on=date(2024, 6, 3),
        lump_sum=D("8000.00"),
        base=D("4000"),
        months=20,
        never_enrolled=True,
    )
    assert {p.account.kind for p in e.postings.select_related("account")} == {"bank", "pooled"}
    # hunan: the seed does not say where the lump sum goes (D-X16)
    h = person("hunan", category="retiree")
    with pytest.raises(PolicyMissing):
        posting.post_retirement_clearance(
            person=h, jurisdiction="hunan", on=date(2024, 6, 3), lump_sum=D("100"), base=D("5000"), months=1
        )


# --- contributions received ----------------------------------------------------------------


def test_split_principal_is_exact_over_partial_payments():
    lines = {"personal_account": D("100"), "pool": D("400"), "maternity": D("0"), "critical_illness": D("15")}
    # 206 of 515 paid: personal 100 × 206/515 = 40.00, critical 15 × 206/515 = 6.00, pool 206 − 46 = 160.00
    first = split_principal(lines, total=D("515"), paid_before=D("0"), principal=D("206"))
    assert first == {
        "personal_account": D("40.00"),
        "pool": D("160.00"),
        "maternity": D("0.00"),
        "critical_illness": D("6.00"),
    }
    # the remaining 309: full lines minus what was taken → 60, 240, 0, 9
    second = split_principal(lines, total=D("515"), paid_before=D("206"), principal=D("309"))
    assert second == {"personal_account": D("60"), "pool": D("240.00"), "maternity": D("0"), "critical_illness": D("9")}
    # 1/3 of 100 personal: 33.33 then 33.34 then 33.33 — never a fen lost
    lines = {"personal_account": D("100"), "pool": D("200"), "maternity": D("0"), "critical_illness": D("0")}
    a = split_principal(lines, total=D("300"), paid_before=D("0"), principal=D("100"))
    b = split_principal(lines, total=D("300"), paid_before=D("100"), principal=D("100"))
    c = split_principal(lines, total=D("300"), paid_before=D("200"), principal=D("100"))
    assert (a["personal_account"], b["personal_account"], c["personal_account"]) == (D("33.33"), D("33.34"), D("33.33"))


def test_contribution_received_is_split_between_pool_account_and_layer():
    # hunan 第十一条, 第四十一条, 第五十三条: base 5000 → employer 8% 400, individual 2% 100 (all to the
    # account), 大病 180/12 = 15. Total 515; paid 2024-03-20 with a late fee of 2.58 (to the pool, F-C4).
    emp = employer("hunan")
    p = person("hunan", employer_obj=emp, birth=date(1985, 1, 1))
    d = due(
        p,
        jurisdiction="hunan",
        month=date(2024, 2, 1),
        employer_obj=emp,
        employer_amount=400,
        individual_amount=100,
        critical_illness_amount=15,
        personal_account_amount=100,
        pool_amount=400,
    )
    alloc = pay(p, d, principal="515.00", late_fee="2.58", paid_on=date(2024, 3, 20))
    assert post_contribution_received(alloc) == {"entries": 1, "postings": 4}
    e = JournalEntry.objects.get(business_key=f"contribution:{alloc.pk}")
    legs = {pp.account.kind: pp.amount for pp in e.postings.select_related("account")}
    assert legs == {
        "bank": D("-517.58"),
        "pooled": D("402.58"),
        "personal": D("100.00"),
        "critical_illness": D("15.00"),
    }
    assert e.effective_on == date(2024, 3, 20)
    assert post_contribution_received(alloc) == {"entries": 0, "postings": 0}  # twice: nothing more
    assert reconcile(record=False).ok


def test_prepaid_contribution_takes_effect_in_its_month():
    # F-C2 (hunan 第六十五条 leaves prepaid contributions out of the balance): paid 2023-12-20 for 2024-01
    p = person("hunan", category="flexible", birth=date(1985, 1, 1))
    d = due(p, jurisdiction="hunan", month=date(2024, 1, 1), individual_amount=240, pool_amount=240)
    alloc = pay(p, d, principal="240.00", paid_on=date(2023, 12, 20))
    post_contribution_received([alloc])
    assert JournalEntry.objects.get(business_key=f"contribution:{alloc.pk}").effective_on == date(2024, 1, 1)
    # no personal account for a hunan flexible worker (第四十一条): the pool takes it all
    assert not FundAccount.objects.filter(person=p).exists()


def test_sanmenxia_employer_arrears_hold_credits_in_suspense_until_paid():
    # sanmenxia 第十九条: the employer refuses to pay → account credits suspended, restored once paid
    emp = employer("sanmenxia")
    p = person("sanmenxia", employer_obj=emp, birth=date(1985, 1, 1))
    suspension = posting.suspension_open(employer=emp, start=date(2024, 1, 1))
    # base 5000: individual 2% 100 + employer share 1.0% (under 45) 50 = 150 to the account (第九条)
    d = due(
        p,
        jurisdiction="sanmenxia",
        month=date(2024, 1, 1),
        employer_obj=emp,
        employer_amount=350,
        individual_amount=100,
        maternity_amount=50,
        personal_account_amount=150,
        pool_amount=300,
    )
    alloc = pay(p, d, principal="500.00", paid_on=date(2024, 2, 10))
    post_contribution_received(alloc)
    suspense = FundAccount.objects.get(person=p, kind=AccountKind.SUSPENSE)
    assert bal(suspense) == D("150.00")
    # maternity is merged into the pool (第二条): 300 + 50
    assert bal(posting.fund_account("sanmenxia", AccountKind.POOLED)) == D("350.00")
    assert not FundAccount.objects.filter(person=p, kind=AccountKind.PERSONAL).exists()
    assert posting.suspension_release(suspension, on=date(2024, 4, 1)) == 1
    assert bal(suspense) == D("0.00")
    assert bal(FundAccount.objects.get(person=p, kind=AccountKind.PERSONAL)) == D("150.00")
    assert posting.suspension_release(suspension, on=date(2024, 4, 2)) == 0  # nothing left: no entry
    assert reconcile(record=False).ok


def test_suspension_only_where_the_seed_has_it():
    with pytest.raises(ValidationError):
        posting.suspension_open(employer=employer("hunan"), start=date(2024, 1, 1))


# --- statement -----------------------------------------------------------------------------


def test_statement_shows_each_posting_with_the_balance_after_it():
    p = person("hunan", category="retiree")
    credit(p, "hunan", "75.00", "t:1", on=date(2024, 1, 1))
    credit(p, "hunan", "75.00", "t:2", on=date(2024, 2, 1))
    posting.post_account_payment(
        person=p, jurisdiction="hunan", amount=D("30.50"), on=date(2024, 2, 15), business_key="pay:1"
    )
    credit(p, "hunan", "75.00", "t:3", on=date(2024, 3, 1))
    acct = posting.personal_account(p, "hunan", on=date(2024, 1, 1))
    st = statement(acct, page=1, per_page=2)
    assert st.count == 4 and st.pages == 2 and st.balance == D("194.50")  # 75 × 3 − 30.50
    assert [(x.amount, x.balance_after) for x in st.lines] == [(D("75.00"), D("194.50")), (D("-30.50"), D("119.50"))]
    st2 = statement(acct, page=2, per_page=2)
    assert [(x.amount, x.balance_after) for x in st2.lines] == [(D("75.00"), D("150.00")), (D("75.00"), D("75.00"))]


# --- reconciliation ------------------------------------------------------------------------


def test_reconciliation_detects_a_tampered_balance():
    p = person("hunan", category="retiree")
    entry = credit(p, "hunan", "75.00", "t:1")
    assert reconcile(record=False).ok
    acct = posting.personal_account(p, "hunan", on=date(2024, 1, 1))
    AccountBalance.objects.filter(account=acct).update(balance=D("750.00"))
    result = reconcile()
    assert not result.ok and result.checks["balances_match"] == 1
    brk = next(b for b in result.breaks if b.check == "balances_match")
    assert brk.account == acct.pk and entry.pk in brk.entries and "675.00" in brk.detail  # 750 − 75
    with pytest.raises(SystemExit) as exc:
        call_command("funds_reconcile")
    assert exc.value.code == 1


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the trigger forbids writing the break at all")
def test_reconciliation_detects_an_unbalanced_entry():
    p = person("hunan", category="retiree")
    entry = credit(p, "hunan", "75.00", "t:1")
    Posting.objects.filter(entry=entry, amount__lt=0).update(amount=D("-70.00"))
    AccountBalance.objects.filter(account=posting.fund_account("hunan", AccountKind.POOLED)).update(balance=D("-70"))
    result = reconcile(record=False)
    assert result.checks["entries_balanced"] == 1
    assert next(b for b in result.breaks if b.check == "entries_balanced").entries == [entry.pk]


def test_reconciliation_detects_a_contribution_not_posted():
    p = person("hunan", category="flexible", birth=date(1985, 1, 1))
    d = due(p, jurisdiction="hunan", month=date(2024, 1, 1), individual_amount=240, pool_amount=240)
    alloc = pay(p, d, principal="240.00", paid_on=date(2024, 1, 20))
    result = reconcile(record=False)
    assert result.checks["contributions_posted"] == 1
    assert f"缴费冲抵 {alloc.pk}" in next(b for b in result.breaks if b.check == "contributions_posted").detail
    post_contribution_received(alloc)
    assert reconcile(record=False).ok


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the triggers refuse an orphan posting outright")
def test_reconciliation_detects_postings_without_entry_or_account():
    p = person("hunan", category="retiree")
    entry = credit(p, "hunan", "75.00", "t:1")
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO funds_posting (entry_id, account_id, amount, effective_on, kind) VALUES (%s, %s, 1, %s, %s)",
            [entry.pk + 999, 999999, "2024-01-10", "opening"],
        )
    result = reconcile(record=False)
    assert result.checks["entries_balanced"] == 1 and result.checks["balances_match"] == 1
    assert "不存在的凭证" in next(b for b in result.breaks if b.check == "entries_balanced").detail


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_postgres_refuses_orphan_postings_and_deleting_used_accounts():
    p = person("hunan", category="retiree")
    entry = credit(p, "hunan", "75.00", "t:1")
    acct = posting.personal_account(p, "hunan", on=date(2024, 1, 1))
    with pytest.raises(Exception, match="不存在的账户"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO funds_posting (entry_id, account_id, amount, effective_on, kind) "
            "VALUES (%s, 999999, 1, %s, %s), (%s, %s, -1, %s, %s)",
            [entry.pk, entry.effective_on, entry.kind, entry.pk, acct.pk, entry.effective_on, entry.kind],
        )
    with pytest.raises(Exception, match="已有分录"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM funds_fundaccount WHERE id = %s", [acct.pk])


def test_statement_in_the_admin_lists_every_posting_with_its_running_balance(admin_user):
    # issue #5 item 3: "a person's statement in a browser" — the admin account page
    import re

    from django.test import Client
    from django.urls import reverse

    p = person("hunan", category="retiree")
    credit(p, "hunan", "75.00", "t:1", on=date(2024, 1, 1))
    credit(p, "hunan", "75.00", "t:2", on=date(2024, 2, 1))
    posting.post_account_payment(
        person=p, jurisdiction="hunan", amount=D("30.50"), on=date(2024, 2, 15), business_key="pay:1"
    )
    acct = posting.personal_account(p, "hunan", on=date(2024, 1, 1))
    client = Client()
    client.force_login(admin_user)
    html = client.get(reverse("admin:funds_fundaccount_change", args=[acct.pk])).content.decode()
    assert re.search(r'id="balance">119\.50<', html)
    body = html[html.index('id="statement"') :]
    cell = r'right">(-?[\d.]+)</td>'
    rows = re.findall(r"<tr>\s*<td>(\d{4}-\d\d-\d\d)</td>.*?" + cell + ".*?" + cell, body, re.S)
    # newest first: each line's amount and the balance after it
    assert rows == [
        ("2024-02-15", "-30.50", "119.50"),
        ("2024-02-01", "75.00", "150.00"),
        ("2024-01-01", "75.00", "75.00"),
    ]
    for key in ("t:1", "t:2", "pay:1"):
        entry = JournalEntry.objects.get(business_key=key)
        assert reverse("admin:funds_journalentry_change", args=[entry.pk]) in body


@pytest.mark.skipif(connection.vendor != "sqlite", reason="forces a negative balance past the CHECK (SQLite pragma)")
def test_reconciliation_reports_a_negative_personal_account_with_its_entries():
    p = person("hunan", category="retiree")
    credit(p, "hunan", "10.00", "t:1")
    pay_entry = posting.post_account_payment(
        person=p, jurisdiction="hunan", amount=D("10.00"), on=date(2024, 2, 1), business_key="pay:1"
    )
    acct = posting.personal_account(p, "hunan", on=date(2024, 1, 1))
    with connection.cursor() as cur:
        cur.execute("PRAGMA ignore_check_constraints = ON")
        try:
            AccountBalance.objects.filter(account=acct).update(balance=D("-5.00"))
        finally:
            cur.execute("PRAGMA ignore_check_constraints = OFF")
    result = reconcile(record=False)
    assert not result.ok and result.checks["no_negative_personal"] == 1
    brk = next(b for b in result.breaks if b.check == "no_negative_personal")
    assert brk.account == acct.pk and pay_entry.pk in brk.entries and "-5.00" in brk.detail


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL statistics and triggers")
def test_the_bulk_path_plans_its_joins_on_the_entries_ids():
    # the joins of legs to entries "WHERE entry_id IS NOT NULL" are planned on statistics taken after the entries
    # got their ids (taken before, with every id NULL, they estimate one entry: a nested loop legs × entries)
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from funds.ledger_sql import TMP_ENTRY, TMP_LEG, post_entries_bulk

    pool = posting.fund_account("hunan", AccountKind.POOLED)
    bank = posting.fund_account("hunan", AccountKind.BANK)
    specs = [
        {
            "business_key": f"plan:{i}",
            "kind": EntryKind.BENEFIT_PAYMENT,
            "jurisdiction_id": pool.jurisdiction_id,
            "effective_on": date(2024, 2, 1),
            "memo": "",
            "legs": [(pool.pk, -D("1.00")), (bank.pk, D("1.00"))],
        }
        for i in range(3)
    ]
    with CaptureQueriesContext(connection) as ctx:
        assert post_entries_bulk(specs, recorded_at=timezone.now())["entries"] == 3
    sql = [q["sql"] for q in ctx.captured_queries]
    ids_set = next(i for i, q in enumerate(sql) if q.startswith("WITH ins AS"))
    postings = next(i for i, q in enumerate(sql) if q.lstrip().startswith("INSERT INTO funds_posting"))
    between = sql[ids_set + 1 : postings]
    assert f"ANALYZE {TMP_ENTRY}" in between and f"ANALYZE {TMP_LEG}" in between


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_the_statement_check_of_postings_never_scans_the_ledger():
    # planned once per session, at its first INSERT (an empty ledger looks cheaper to scan than to probe): the
    # function is set to probe funds_posting by its entry_id index only (funds 0022)
    with connection.cursor() as cur:
        cur.execute("SELECT proconfig FROM pg_proc WHERE proname = 'funds_check_statement_entries'")
        (config,) = cur.fetchone()
    assert {"enable_seqscan=off", "enable_hashjoin=off", "enable_mergejoin=off"} <= set(config)
