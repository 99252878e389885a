"""Contributions received (征缴收入): postings from the payment allocations of the contributions app.

Each :class:`contributions.models.PaymentAllocation` (a payment applied to one
monthly due: principal + late fee) becomes one entry, business key
``contribution:<allocation id>``:

- bank (财政专户) debited with principal + late fee;
- the personal account credited with the due's ``personal_account_amount`` share
  (the suspense account instead while the employer's credits are suspended,
  sanmenxia 第十九条);
- the pooled fund credited with the due's ``pool_amount`` share, the maternity
  share where maternity is merged into the pool (``funds.maternity_in_pool``),
  and the late fee (滞纳金并入基金, decision F-C4);
- the critical-illness layer credited with the ``critical_illness_amount`` share (hunan 第五十二条).

The split amounts are the due's (calcA's rules wrote them); a partial payment
takes each line in proportion, so that the allocations of a due add up exactly to
its lines once it is paid in full (decision F-C5, :func:`split_principal`).
An allocation for a month not yet begun (prepaid) takes effect on the 1st of that
month (decision F-C2: hunan 第六十五条 leaves prepaid contributions out of the balance).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from contributions.models import PaymentAllocation
from policy.calculations import money
from policy.models import Jurisdiction
from policy.resolver import Policy

from .ledger_sql import post_entries_bulk
from .models import NON_NEGATIVE, AccountBalance, AccountKind, CreditSuspension, EntryKind, FundAccount, JournalEntry
from .posting import LedgerError, account_code, fund_account

ZERO = Decimal("0")
LINES = ("personal_account", "pool", "maternity", "critical_illness")


def due_lines(due) -> dict[str, Decimal]:
    """The due's lines that the principal pays, in a fixed order (unknown lines are 0)."""
    return {
        "personal_account": due.personal_account_amount or ZERO,
        "pool": due.pool_amount or ZERO,
        "maternity": due.maternity_amount or ZERO,
        "critical_illness": due.critical_illness_amount or ZERO,
    }


def _cumulative_split(lines: dict[str, Decimal], total: Decimal, paid: Decimal) -> dict[str, Decimal]:
    if total <= 0:
        return dict.fromkeys(lines, ZERO)
    paid = min(paid, total)
    parts = {k: (v if paid == total else money(v * paid / total)) for k, v in lines.items() if k != "pool"}
    parts["pool"] = paid - sum(parts.values(), ZERO)  # the pool takes the rounding
    return parts


def split_principal(
    lines: dict[str, Decimal], *, total: Decimal, paid_before: Decimal, principal: Decimal
) -> dict[str, Decimal]:
    """This allocation's share of each line: split(paid before + principal) − split(paid before).

    Each line's cumulative share is rounded half-up (D-X12) and the pool takes the
    difference, so the shares of all allocations of a due add up to its lines exactly.
    """
    after = _cumulative_split(lines, total, paid_before + principal)
    before = _cumulative_split(lines, total, paid_before)
    return {k: after[k] - before[k] for k in lines}


def _suspended_employers(employer_ids: set[int], months: set[date]) -> set[tuple[int, date]]:
    if not employer_ids:
        return set()
    out = set()
    rows = CreditSuspension.objects.filter(employer_id__in=employer_ids).values_list("employer_id", "start", "end")
    for employer_id, start, end in rows:
        for m in months:
            after = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
            if start < after and (end is None or end > m):
                out.add((employer_id, m))
    return out


def person_accounts(needed: set[tuple[int, int, str]], on: date) -> dict[tuple[int, int, str], int]:
    """Account ids for (person, jurisdiction, kind), opening the missing ones (with their balance rows)."""
    if not needed:
        return {}
    persons = {p for p, _, _ in needed}
    found = {
        (p, j, k): pk
        for pk, p, j, k in FundAccount.objects.filter(person_id__in=persons).values_list(
            "pk", "person_id", "jurisdiction_id", "kind"
        )
    }
    missing = needed - set(found)
    if missing:
        codes = dict(Jurisdiction.objects.values_list("pk", "code"))
        FundAccount.objects.bulk_create(
            [
                FundAccount(jurisdiction_id=j, kind=k, person_id=p, code=account_code(codes[j], k, p), opened_on=on)
                for p, j, k in missing
            ],
            ignore_conflicts=True,
        )
        fresh = FundAccount.objects.filter(person_id__in={p for p, _, _ in missing}).values_list(
            "pk", "person_id", "jurisdiction_id", "kind"
        )
        found.update({(p, j, k): pk for pk, p, j, k in fresh})
        AccountBalance.objects.bulk_create(
            [
                AccountBalance(account_id=found[key], balance=ZERO, non_negative=key[2] in NON_NEGATIVE)
                for key in missing
            ],
            ignore_conflicts=True,
        )
    return found


def _fund_accounts(jurisdiction_id: int, on: date, cache: dict) -> dict[str, int]:
    if jurisdiction_id not in cache:
        jur = Jurisdiction.objects.get(pk=jurisdiction_id)
        policy = Policy(jur.code, on)
        layers = policy.value("funds.layer_accounts", default=None) or []
        cache[jurisdiction_id] = {
            "bank": fund_account(jur, AccountKind.BANK).pk,
            "pool": fund_account(jur, AccountKind.POOLED).pk,
            "maternity": fund_account(jur, AccountKind.POOLED).pk
            if policy.value("funds.maternity_in_pool", default=None)
            else None,
            "critical_illness": fund_account(jur, AccountKind.CRITICAL_ILLNESS).pk
            if AccountKind.CRITICAL_ILLNESS in layers
            else None,
            "code": jur.code,
        }
    return cache[jurisdiction_id]


def contribution_specs(allocations: list) -> list[dict]:
    """The entries (as specs for :func:`post_entries_bulk`) that these allocations produce."""

    if not allocations:
        return []
    due_ids = {a.due_id for a in allocations}
    # Principal already applied to each due by earlier allocations (by id), for the cumulative split.
    earlier: dict[int, list[tuple[int, Decimal]]] = {}
    for pk, due_id, principal in PaymentAllocation.objects.filter(due_id__in=due_ids).values_list(
        "pk", "due_id", "principal"
    ):
        earlier.setdefault(due_id, []).append((pk, principal))
    months = {a.due.month for a in allocations}
    suspended = _suspended_employers({a.due.employer_id for a in allocations if a.due.employer_id}, months)
    funds_cache: dict = {}
    needed: set[tuple[int, int, str]] = set()
    staged = []
    for a in allocations:
        due, payment = a.due, a.payment
        effective_on = max(payment.paid_on, due.month)  # F-C2: prepaid months take effect when they begin
        paid_before = sum((p for pk, p in earlier.get(due.pk, []) if pk < a.pk), ZERO)
        shares = split_principal(due_lines(due), total=due.total, paid_before=paid_before, principal=a.principal)
        accounts = _fund_accounts(due.jurisdiction_id, effective_on, funds_cache)
        target = AccountKind.SUSPENSE if (due.employer_id, due.month) in suspended else AccountKind.PERSONAL
        if shares["personal_account"]:
            needed.add((due.person_id, due.jurisdiction_id, target))
        staged.append((a, due, effective_on, shares, accounts, target))
    person_ids = person_accounts(needed, min(s[2] for s in staged))
    specs = []
    for a, due, effective_on, shares, accounts, target in staged:
        received = a.principal + a.late_fee
        lines = [
            (accounts["bank"], -received, "bank"),
            (accounts["pool"], shares["pool"] + a.late_fee, "pool"),
            (accounts["maternity"], shares["maternity"], "maternity"),
            (accounts["critical_illness"], shares["critical_illness"], "critical_illness"),
        ]
        if shares["personal_account"]:
            lines.append(
                (person_ids[(due.person_id, due.jurisdiction_id, target)], shares["personal_account"], "personal")
            )
        legs: dict[int, Decimal] = {}
        for account_id, amount, line in lines:
            if not amount:
                continue
            if account_id is None:
                raise LedgerError(
                    f"缴费 {a.pk} 的 {line} 部分 {amount} 无对应基金账户（{accounts['code']} 未设该险种账户）"
                )
            legs[account_id] = legs.get(account_id, ZERO) + amount
        memo = f"{due.month:%Y-%m} 缴费到账 {received}（本金 {a.principal}，滞纳金 {a.late_fee}）"
        if target == AccountKind.SUSPENSE:
            memo += "；单位欠费，个人账户划入暂停挂账"
        specs.append(
            {
                "business_key": f"contribution:{a.pk}",
                "kind": EntryKind.CONTRIBUTION,
                "jurisdiction_id": due.jurisdiction_id,
                "person_id": due.person_id,
                "effective_on": effective_on,
                "memo": memo,
                "legs": [(acc, amt) for acc, amt in sorted(legs.items()) if amt],
            }
        )
    return specs


def post_contribution_received(allocations, *, run_id: int | None = None, user=None) -> dict[str, int]:
    """Post one allocation, a list of them, or a queryset; allocations posted before are skipped.

    Returns ``{"entries": new entries, "postings": …}``. One transaction; batches of 2 000.
    """

    if isinstance(allocations, PaymentAllocation):
        allocations = [allocations]
    ids = [a.pk if hasattr(a, "pk") else int(a) for a in allocations]
    totals = {"entries": 0, "postings": 0}
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        for i in range(0, len(ids), 2000):
            batch = list(
                PaymentAllocation.objects.filter(pk__in=ids[i : i + 2000])
                .select_related("due", "payment")
                .order_by("pk")
            )
            counts = post_entries_bulk(
                contribution_specs(batch), recorded_at=timezone.now(), run_id=run_id, user_id=user_id
            )
            for k in totals:
                totals[k] += counts[k]
    return totals


def unposted_allocations(lo: int, hi: int, jurisdiction: str | None = None, only: list[int] | None = None):
    """Allocations of persons ``lo <= id < hi`` (of those, ``only`` these) with no ``contribution:<id>`` entry."""

    qs = PaymentAllocation.objects.filter(due__person_id__gte=lo, due__person_id__lt=hi)
    if only is not None:
        qs = qs.filter(due__person_id__in=only)
    if jurisdiction:
        qs = qs.filter(due__jurisdiction__code=jurisdiction)
    key = Concat(Value("contribution:"), Cast(OuterRef("pk"), output_field=_char()))
    return qs.filter(~Exists(JournalEntry.objects.filter(business_key=key))).filter(~Q(principal=0, late_fee=0))


def _char():

    return CharField(max_length=20)


def post_unposted_contributions(
    *,
    lo: int,
    hi: int,
    jurisdiction: str | None,
    run_id: int | None,
    user_id: int | None,
    only: list[int] | None = None,
) -> dict[str, int]:
    """Batch step: post every allocation of the chunk (or of ``only`` these persons) not posted yet (idempotent)."""

    ids = list(unposted_allocations(lo, hi, jurisdiction, only).values_list("pk", flat=True))
    totals = {"entries": 0, "postings": 0}
    for i in range(0, len(ids), 2000):
        batch = list(
            PaymentAllocation.objects.filter(pk__in=ids[i : i + 2000]).select_related("due", "payment").order_by("pk")
        )
        counts = post_entries_bulk(
            contribution_specs(batch), recorded_at=timezone.now(), run_id=run_id, user_id=user_id
        )
        for k in totals:
            totals[k] += counts[k]
    return {"posted": totals["entries"], "postings": totals["postings"]}


def credits_for_persons(person_ids: list[int], as_of: date) -> Counter:
    """The account credits of these persons' allocations not yet posted (after a payment is recorded)."""
    if not person_ids:
        return Counter()
    ids = sorted(person_ids)
    return Counter(
        post_unposted_contributions(lo=ids[0], hi=ids[-1] + 1, jurisdiction=None, run_id=None, user_id=None, only=ids)
    )
