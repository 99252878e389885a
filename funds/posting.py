"""Posting services: the only way money enters the ledger (记账).

Every function writes one or more balanced journal entries in one transaction,
keeps :class:`~funds.models.AccountBalance` in step, and has no update path:
a mistake is undone by :func:`entry_reverse`. Dates are passed in, never taken
from the clock (the recording timestamp is the only exception).

- :func:`post_entry` — the primitive: legs summing to zero, a unique business key.
- :func:`post_contribution_received` — contributions paid, split pool / account.
- :func:`post_retirement_clearance` — 退休清缴 lump sum split (ziyang 第九条(五), langfang 第三十四条).
- :func:`post_account_payment` — the account pays (refused beyond the balance).
- :func:`funds.death.post_death` — balance to heirs, or to the pool when there are none.
- :func:`post_transfer_out` — the balance follows the person, or is paid to them.
- :func:`post_interest` — one account's yearly interest (the batch does the population).
- :func:`post_reserve_extraction`, :func:`post_benefit_payment` — fund-level moves.
- :func:`suspension_open` / :func:`suspension_release` — sanmenxia 第十九条.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils import timezone

from batch.dialect import is_postgres
from contributions.calculations.personal_account import monthly_account_credit
from enrollment.models import EnrolmentSpan
from policy.calculations import money
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyMissing

from .errors import DuplicatePosting, InsufficientBalance, LedgerError, UnbalancedEntry
from .ledger_sql import month_totals_upsert
from .models import (
    NON_NEGATIVE,
    PER_PERSON,
    SCHEME_ACCOUNTS,
    AccountBalance,
    AccountKind,
    CreditSuspension,
    EntryKind,
    FundAccount,
    JournalEntry,
    Posting,
)

ZERO = Decimal("0")


@dataclass(frozen=True)
class Leg:
    """One line to post: ``amount > 0`` credits the account, ``< 0`` debits it."""

    account: FundAccount
    amount: Decimal


# ---------------------------------------------------------------------------
# Accounts


def jurisdiction_of(jurisdiction: str | Jurisdiction) -> Jurisdiction:
    return jurisdiction if isinstance(jurisdiction, Jurisdiction) else Jurisdiction.objects.get(code=jurisdiction)


def account_code(jurisdiction_code: str, kind: str, person_id: int | None = None) -> str:
    return f"{jurisdiction_code}:{kind}" + (f":{person_id}" if person_id is not None else "")


def _account_get_or_open(jur: Jurisdiction, kind: str, person_id: int | None, on: date) -> FundAccount:
    lookup = {"jurisdiction": jur, "kind": kind, "person_id": person_id}
    account = FundAccount.objects.filter(**lookup).first()
    if account is not None:
        return account
    with transaction.atomic():
        try:
            with transaction.atomic():
                account = FundAccount.objects.create(
                    **lookup, code=account_code(jur.code, kind, person_id), opened_on=on
                )
        except IntegrityError:  # opened concurrently
            return FundAccount.objects.get(**lookup)
        AccountBalance.objects.create(account=account, balance=ZERO, non_negative=kind in NON_NEGATIVE)
    return account


def fund_account(jurisdiction: str | Jurisdiction, kind: str, *, on: date | None = None) -> FundAccount:
    """The jurisdiction's fund-level account of KIND (统筹基金, 风险储备金, 财政专户 …), opened on first use."""
    if kind in (AccountKind.PERSONAL, AccountKind.SUSPENSE):
        raise ValueError("personal and suspense accounts belong to a person: use personal_account()")
    return _account_get_or_open(jurisdiction_of(jurisdiction), kind, None, on or date(2000, 1, 1))


def personal_account(person, jurisdiction: str | Jurisdiction, *, on: date) -> FundAccount:
    """个人账户 of the person in the jurisdiction, opened on first use."""
    return _account_get_or_open(jurisdiction_of(jurisdiction), AccountKind.PERSONAL, pk_of(person), on)


def suspense_account(person, jurisdiction: str | Jurisdiction, *, on: date) -> FundAccount:
    """The person's suspense account: credits held while their employer's credits are suspended."""
    return _account_get_or_open(jurisdiction_of(jurisdiction), AccountKind.SUSPENSE, pk_of(person), on)


def pk_of(obj) -> int:
    return obj if isinstance(obj, int) else obj.pk


def balance_of(account: FundAccount | int) -> Decimal:
    """Current raw balance (贷正借负) from :class:`AccountBalance`."""
    return AccountBalance.objects.filter(account_id=pk_of(account)).values_list("balance", flat=True).first() or ZERO


# ---------------------------------------------------------------------------
# The primitive


def _merge(legs: Iterable[Leg]) -> list[tuple[FundAccount, Decimal]]:
    by_account: dict[int, Decimal] = defaultdict(Decimal)
    accounts: dict[int, FundAccount] = {}
    for leg in legs:
        amount = Decimal(leg.amount)
        if amount != money(amount):
            raise UnbalancedEntry(f"金额须精确到分: {amount}")
        by_account[leg.account.pk] += amount
        accounts[leg.account.pk] = leg.account
    return [(accounts[pk], amt) for pk, amt in sorted(by_account.items()) if amt != 0]


def post_entry(
    *,
    business_key: str,
    kind: str,
    jurisdiction: str | Jurisdiction,
    effective_on: date,
    legs: Sequence[Leg],
    memo: str = "",
    person=None,
    user=None,
    run=None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Write one balanced entry and move the balances, in one transaction.

    Raises :class:`UnbalancedEntry` unless the legs sum to zero (and touch two
    accounts at least), :class:`DuplicatePosting` when the business key exists
    (the unique constraint decides, so two concurrent posters cannot both win),
    :class:`InsufficientBalance` when a personal or suspense account would go below
    zero — checked in the same UPDATE that moves the money.
    """
    merged = _merge(legs)
    total = sum((amt for _, amt in merged), ZERO)
    if total != 0 or len(merged) < 2:
        raise UnbalancedEntry(f"凭证 {business_key} 借贷不平或分录不足两行：合计 {total}，{len(merged)} 个账户")
    jur = jurisdiction_of(jurisdiction)
    with transaction.atomic():
        try:
            with transaction.atomic():
                entry = JournalEntry.objects.create(
                    business_key=business_key,
                    kind=kind,
                    jurisdiction=jur,
                    person_id=pk_of(person) if person is not None else None,
                    effective_on=effective_on,
                    recorded_at=timezone.now(),
                    memo=memo[:255],
                    reverses=reverses,
                    run=run,
                    created_by=user if user is not None and getattr(user, "is_authenticated", False) else None,
                )
        except IntegrityError:
            if JournalEntry.objects.filter(business_key=business_key).exists():
                raise DuplicatePosting(business_key) from None
            if reverses is not None and JournalEntry.objects.filter(reverses=reverses).exists():
                raise DuplicatePosting(f"reversal of {reverses.business_key}") from None
            raise
        Posting.objects.bulk_create(
            Posting(entry=entry, account=account, amount=amount, effective_on=effective_on, kind=kind)
            for account, amount in merged
        )
        _apply_balances(merged)
        _add_month_totals(merged, effective_on, kind)
    return entry


def _apply_balances(merged: list[tuple[FundAccount, Decimal]]) -> None:
    """Move each balance; money leaving a non-negative account moves only if it is there."""
    for account, amount in merged:  # sorted by account id: a fixed lock order, no deadlocks
        rows = AccountBalance.objects.filter(account_id=account.pk)
        if amount < 0:
            rows = rows.filter(Q(non_negative=False) | Q(balance__gte=-amount))
        if rows.update(balance=Round(F("balance") + amount, 2)) == 1:
            continue
        available = balance_of(account)
        if not AccountBalance.objects.filter(account_id=account.pk).exists():
            raise LedgerError(f"账户 {account} 没有余额记录")
        raise InsufficientBalance(account, -amount, available)


def _add_month_totals(merged: list[tuple[FundAccount, Decimal]], effective_on: date, kind: str) -> None:
    """Keep the fund-level accounts' month totals (:class:`AccountMonthTotal`) in step."""

    rows = [(a.pk, amount) for a, amount in merged if a.kind not in PER_PERSON]
    if not rows:
        return
    month = connection.ops.adapt_datefield_value(effective_on.replace(day=1))
    one = (
        "SELECT CAST(%s AS bigint), CAST(%s AS date), CAST(%s AS varchar(24)), CAST(%s AS numeric(18, 2)), 1"
        if is_postgres()
        else "SELECT %s, %s, %s, %s, 1"
    )
    values = " UNION ALL ".join([one] * len(rows))
    with connection.cursor() as cur:
        month_totals_upsert(
            cur,
            f"SELECT * FROM ({values}) v WHERE 1 = 1",
            [x for pk, amount in rows for x in (pk, month, kind, str(amount))],
        )


def entry_reverse(entry: JournalEntry, *, reason: str, on: date, user=None) -> JournalEntry:
    """冲销: a new entry with every posting negated, effective ON. An entry is reversed once at most.

    Reversing a credit already spent is refused like any withdrawal beyond the balance.
    """
    if not reason.strip():
        raise ValidationError({"reason": "冲销须说明原因。"})
    legs = [Leg(p.account, -p.amount) for p in entry.postings.select_related("account")]
    return post_entry(
        business_key=f"reversal:{entry.pk}",
        kind=entry.kind,
        jurisdiction=entry.jurisdiction,
        effective_on=on,
        legs=legs,
        memo=f"冲销 {entry.business_key}：{reason}",
        person=entry.person_id,
        user=user,
        reverses=entry,
    )


# ---------------------------------------------------------------------------
# Person-level postings


def post_retirement_clearance(
    *,
    person,
    jurisdiction: str | Jurisdiction,
    on: date,
    lump_sum: Decimal,
    base: Decimal,
    months: int,
    age: int | None = None,
    category: str = "employee",
    never_enrolled: bool = False,
    business_key: str | None = None,
    user=None,
) -> JournalEntry:
    """退休清缴 received: split between the personal account and the pool.

    ``funds.clearance_account_share`` decides: ``in_service_credit`` credits the
    account with the in-service monthly credit on BASE (calcA's
    ``monthly_account_credit``, the standard in force in the clearance month) for
    each of the MONTHS bought, the rest to the pool (ziyang 第九条(五); langfang
    第三十四条 "按在职职工比例"); ``pool_only`` sends it all to the pool (sanmenxia
    第八条 for never-enrolled retirees). Silent seeds raise ``PolicyMissing``.
    """

    jur = jurisdiction_of(jurisdiction)
    policy = Policy(jur.code, on)
    key = "funds.clearance_never_enrolled_account_share" if never_enrolled else "funds.clearance_account_share"
    rule = policy.value(key)
    lump_sum = money(Decimal(lump_sum))
    if rule == "in_service_credit":
        monthly = monthly_account_credit(policy, category=category, base=Decimal(base), age=age)
        to_account = min(money(monthly * months), lump_sum)
    elif rule == "pool_only":
        to_account = ZERO
    else:
        raise PolicyMissing(jur.code, key, on, label="退休清缴费用划入个人账户的方式")
    legs = [
        Leg(fund_account(jur, AccountKind.BANK), -lump_sum),
        Leg(fund_account(jur, AccountKind.POOLED), lump_sum - to_account),
    ]
    if to_account:
        legs.append(Leg(personal_account(person, jur, on=on), to_account))
    return post_entry(
        business_key=business_key or f"clearance:{pk_of(person)}:{on.isoformat()}",
        kind=EntryKind.CLEARANCE,
        jurisdiction=jur,
        effective_on=on,
        legs=legs,
        memo=f"退休清缴 {months} 个月，划入个人账户 {to_account}（{policy.citation(key)}）",
        person=person,
        user=user,
    )


def post_account_payment(
    *,
    person,
    jurisdiction: str | Jurisdiction,
    amount: Decimal,
    on: date,
    business_key: str,
    memo: str = "个人账户支付",
    user=None,
) -> JournalEntry:
    """The personal account pays (medical costs, family members' premiums …). Refused beyond the balance."""
    jur = jurisdiction_of(jurisdiction)
    amount = Decimal(amount)
    if amount <= 0:
        raise ValidationError({"amount": "支付金额须大于零。"})
    account = FundAccount.objects.filter(jurisdiction=jur, kind=AccountKind.PERSONAL, person_id=pk_of(person)).first()
    if account is None:
        raise InsufficientBalance(f"{jur.code}:personal:{pk_of(person)}", amount, ZERO)
    return post_entry(
        business_key=business_key,
        kind=EntryKind.ACCOUNT_PAYMENT,
        jurisdiction=jur,
        effective_on=on,
        legs=[Leg(account, -amount), Leg(fund_account(jur, AccountKind.BANK), amount)],
        memo=memo,
        person=person,
        user=user,
    )


def personal_account_or_none(person, jur: Jurisdiction) -> FundAccount | None:
    return FundAccount.objects.filter(jurisdiction=jur, kind=AccountKind.PERSONAL, person_id=pk_of(person)).first()


TRANSFER_DESTINATIONS = ("out_of_province", "in_province")
TRANSFER_MODES = ("transfer", "pay_holder")


def post_transfer_out(
    *,
    person,
    jurisdiction: str | Jurisdiction,
    on: date,
    destination: str,
    mode: str = "transfer",
    region: str = "",
    user=None,
) -> JournalEntry | None:
    """关系转出: the balance moves to the receiving region, or is paid to the holder in one sum.

    ``funds.transfer_out_modes`` maps the destination to the modes the seed allows:
    hunan 第四十四条 (other provinces: moves; within the province it stays usable and
    nothing is posted), langfang 第四十三条 (moves or paid to the holder), ziyang
    第十一条(一)2 (moves). Returns None when nothing is to be posted.
    """
    if destination not in TRANSFER_DESTINATIONS or mode not in TRANSFER_MODES:
        raise ValidationError({"destination": f"转出去向 {destination!r} / 方式 {mode!r} 无效"})
    jur = jurisdiction_of(jurisdiction)
    policy = Policy(jur.code, on)
    allowed = policy.value("funds.transfer_out_modes")
    modes = allowed.get(destination) if isinstance(allowed, dict) else None
    if modes is None:
        raise PolicyMissing(jur.code, "funds.transfer_out_modes", on, label="个人账户转出方式")
    if mode not in modes:
        if not modes:
            return None  # the balance stays usable here (hunan 第四十四条: 省内不划转、不提现)
        cite = policy.citation("funds.transfer_out_modes")
        raise ValidationError({"mode": f"{jur.name} {destination} 转出只允许 {', '.join(modes)}（{cite}）"})
    account = personal_account_or_none(person, jur)
    if account is None:
        return None
    with transaction.atomic():
        amount = AccountBalance.objects.select_for_update().get(account=account).balance
        if amount <= 0:
            return None
        kind = EntryKind.TRANSFER_OUT if mode == "transfer" else EntryKind.HOLDER_PAYOUT
        return post_entry(
            business_key=f"transfer-out:{account.pk}:{on.isoformat()}",
            kind=kind,
            jurisdiction=jur,
            effective_on=on,
            legs=[Leg(account, -amount), Leg(fund_account(jur, AccountKind.BANK), amount)],
            memo=f"{'划转至' if mode == 'transfer' else '一次性支付本人，转往'} {region}".strip(),
            person=person,
            user=user,
        )


def post_interest(*, account: FundAccount, year: int, amount: Decimal, user=None, run=None) -> JournalEntry | None:
    """One account's interest for YEAR, effective 31 December (the batch job computes the amounts)."""
    amount = money(Decimal(amount))
    if amount <= 0:
        return None
    return post_entry(
        business_key=f"interest:{account.pk}:{year}",
        kind=EntryKind.INTEREST,
        jurisdiction=account.jurisdiction,
        effective_on=date(year, 12, 31),
        legs=[Leg(account, amount), Leg(fund_account(account.jurisdiction, AccountKind.BANK), -amount)],
        memo=f"{year} 年度个人账户利息",
        person=account.person_id,
        user=user,
        run=run,
    )


# ---------------------------------------------------------------------------
# Fund-level postings


def scheme_accounts(jurisdiction: str | Jurisdiction, insutype: str, *, on: date | None = None):
    """(pooled fund, bank account) of the 险种: 310 职工医保, 390 城乡居民医保 — two sets of books never mixed
    (xianning 办法 四(三) 分别建账、分账核算、分别计息). An unknown 险种 raises ``ValueError``."""
    if insutype not in SCHEME_ACCOUNTS:
        raise ValueError(f"未知险种 {insutype!r}（可选：{', '.join(SCHEME_ACCOUNTS)}）")
    pooled, bank = SCHEME_ACCOUNTS[insutype]
    jur = jurisdiction_of(jurisdiction)
    return fund_account(jur, pooled, on=on), fund_account(jur, bank, on=on)


def post_benefit_payment(
    *,
    jurisdiction: str | Jurisdiction,
    amount: Decimal,
    on: date,
    business_key: str,
    memo: str = "",
    person=None,
    insutype: str = "310",
) -> JournalEntry:
    """统筹基金支付 (claims settled): pool → bank, in the books of the claim's 险种 (310 or 390)."""
    jur = jurisdiction_of(jurisdiction)
    amount = Decimal(amount)
    pool, bank = scheme_accounts(jur, insutype)
    return post_entry(
        business_key=business_key,
        kind=EntryKind.BENEFIT_PAYMENT,
        jurisdiction=jur,
        effective_on=on,
        legs=[Leg(pool, -amount), Leg(bank, amount)],
        memo=memo or ("城乡居民医保统筹基金待遇支付" if insutype == "390" else "统筹基金待遇支付"),
        person=person,
    )


#: 居民医保基金收入 kinds a resident-fund posting may carry (income into the 390 pooled fund).
RESIDENT_INCOME_KINDS = frozenset(
    {EntryKind.RESIDENT_CONTRIBUTION, EntryKind.RESIDENT_SUBSIDY, EntryKind.FUND_INTEREST}
)


def post_resident_income(
    *,
    jurisdiction: str | Jurisdiction,
    kind: str,
    amount: Decimal,
    on: date,
    business_key: str,
    memo: str = "",
    person=None,
    user=None,
    run=None,
) -> JournalEntry:
    """城乡居民医保基金收入: a resident's yearly contribution, a fiscal subsidy or the fund's interest, into the
    resident pooled fund (险种 390) and its own bank account, never the employee fund (xianning 办法 四(三))."""
    if kind not in RESIDENT_INCOME_KINDS:
        raise ValueError(f"不是居民医保基金收入类型：{kind!r}")
    amount = money(Decimal(amount))
    if amount <= 0:
        raise UnbalancedEntry(f"居民医保基金收入金额应大于 0：{amount}")
    jur = jurisdiction_of(jurisdiction)
    pool, bank = scheme_accounts(jur, "390", on=on)
    return post_entry(
        business_key=business_key,
        kind=kind,
        jurisdiction=jur,
        effective_on=on,
        legs=[Leg(pool, amount), Leg(bank, -amount)],
        memo=memo or EntryKind(kind).label,
        person=person,
        user=user,
        run=run,
    )


def post_reserve_extraction(
    *, jurisdiction: str | Jurisdiction, year: int, amount: Decimal, on: date, user=None
) -> JournalEntry:
    """提取风险储备金 for YEAR: pool → risk reserve (xianning 办法 四(三)4(3); sanmenxia 第四十八条)."""
    jur = jurisdiction_of(jurisdiction)
    amount = money(Decimal(amount))
    return post_entry(
        business_key=f"reserve-extraction:{jur.code}:{year}",
        kind=EntryKind.RESERVE_EXTRACTION,
        jurisdiction=jur,
        effective_on=on,
        legs=[
            Leg(fund_account(jur, AccountKind.POOLED), -amount),
            Leg(fund_account(jur, AccountKind.RISK_RESERVE), amount),
        ],
        memo=f"{year} 年度提取风险储备金",
        user=user,
    )


def post_closure_reserve(event, *, paid_on: date | None = None, user=None) -> JournalEntry:
    """关闭破产单位退休人员一次性预留医保费 (hunan 第二十四条, sanmenxia 第二十条).

    Billed (``paid_on`` None): receivable → pooled fund (the fund's income, owed by the employer); paid: bank →
    receivable. One entry each (business keys ``closure-reserve:<id>`` and ``closure-reserve-paid:<id>``)."""
    jur = jurisdiction_of(event.jurisdiction)
    amount = money(Decimal(event.reserve_amount))
    receivable, who = fund_account(jur, AccountKind.RECEIVABLE), f"{event.employer} 退休人员一次性预留医保费"
    if paid_on is None:
        legs = [Leg(receivable, -amount), Leg(fund_account(jur, AccountKind.POOLED), amount)]
        key, on, memo = f"closure-reserve:{event.pk}", event.occurred_on, f"{who}（应收）"
    else:
        legs = [Leg(fund_account(jur, AccountKind.BANK), -amount), Leg(receivable, amount)]
        key, on, memo = f"closure-reserve-paid:{event.pk}", paid_on, f"{who}到账"
    return post_entry(
        business_key=key,
        kind=EntryKind.CLOSURE_RESERVE,
        jurisdiction=jur,
        effective_on=on,
        legs=legs,
        memo=memo,
        user=user,
    )


# ---------------------------------------------------------------------------
# sanmenxia 第十九条: suspended credits


def suspension_open(*, employer, start: date, note: str = "", user=None) -> CreditSuspension:
    """暂停个人账户划入 for an employer refusing to pay, where ``funds.arrears_suspend_credits`` is true."""
    policy = Policy(employer.jurisdiction.code, start)
    if not policy.value("funds.arrears_suspend_credits", default=None):
        name = employer.jurisdiction.name
        raise ValidationError(
            {"employer": f"{name} 的政策没有“欠费暂停个人账户划入”的规定（funds.arrears_suspend_credits）。"}
        )
    if CreditSuspension.objects.filter(employer=employer).filter(Q(end__isnull=True) | Q(end__gt=start)).exists():
        raise ValidationError({"start": "该单位已有未结束的暂停划入。"})
    return CreditSuspension.objects.create(
        employer=employer,
        start=start,
        note=note,
        citation=policy.citation("funds.arrears_suspend_credits"),
        created_by=user if user is not None and getattr(user, "is_authenticated", False) else None,
    )


def suspension_release(suspension: CreditSuspension, *, on: date, user=None) -> int:
    """Arrears and late fees paid: end the suspension and move every held credit to its personal account.

    Returns the number of accounts released. Idempotent: an empty suspense account posts nothing.
    """

    with transaction.atomic():
        if suspension.end is None:
            CreditSuspension.objects.filter(pk=suspension.pk).update(end=max(on, suspension.start + timedelta(days=1)))
            suspension.refresh_from_db()
        persons = EnrolmentSpan.objects.filter(employer_id=suspension.employer_id).values("person_id")
        held = (
            AccountBalance.objects.filter(
                account__kind=AccountKind.SUSPENSE, account__person_id__in=persons, balance__gt=0
            )
            .select_related("account", "account__jurisdiction")
            .order_by("account_id")
        )
        released = 0
        for row in held:
            account = row.account
            target = personal_account(account.person_id, account.jurisdiction, on=on)
            post_entry(
                business_key=f"suspension-release:{suspension.pk}:{account.pk}",
                kind=EntryKind.SUSPENSION_RELEASE,
                jurisdiction=account.jurisdiction,
                effective_on=on,
                legs=[Leg(account, -row.balance), Leg(target, row.balance)],
                memo=f"补足欠费及滞纳金，恢复暂停期间的个人账户划入（{suspension.citation}）",
                person=account.person_id,
                user=user,
            )
            released += 1
    return released
