"""Demo postings for the quick start (演示数据): a few months of ledger history for the demo population.

Called by ``setup_demo`` when the ledger is empty, so a person's 个人账户明细 and the fund
health page have something to show. Everything goes through the ledger's own services:

- contributions received for every in-service employee and flexible worker, split by the
  ``contribution`` rule (calcA) — in-service 2% to the account, sanmenxia's age share,
  no account for hunan / sanmenxia flexible workers or 单建统筹; a jurisdiction whose rates
  the seed does not give (xianning, D-XN1) gets none. Business key ``demo-contribution:…``,
  so the reconciliation's check of real payment allocations is not concerned;
- the month's retiree credits by the batch job itself (``funds.retiree_credits``);
- an opening balance of the pool (期初余额) of a few months' turnover;
- a pharmacy payment from each account in two months, and each month's benefit payments
  from the pool (a demo share of the month's income), so the fund's balance moves both ways.

The wages are made up (deterministic by person id) and flagged in the memos as 演示.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from batch.runs import run_in_process
from contributions.calculations.personal_account import age_in_month
from enrollment.models import EnrolmentSpan
from funds.credits import month_start, next_month
from funds.ledger_sql import post_entries_bulk
from funds.models import AccountBalance, AccountKind, EntryKind
from funds.posting import fund_account
from funds.receipts import _fund_accounts, person_accounts
from policy.calculations import InputError, discover, money
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyError, PolicyMissing

ZERO = Decimal("0")
#: share of each month's pool income paid out in benefits (demo only: a balance that moves)
SPENDING_SHARE = (Decimal("0.55"), Decimal("0.62"), Decimal("0.70"), Decimal("0.85"), Decimal("0.78"), Decimal("0.92"))


def _demo_wage(person_id: int) -> Decimal:
    return Decimal(3000 + (person_id * 7919) % 9000)


def _age(birth: date, month: date) -> int:

    return age_in_month(birth, month)


def _contribution_specs(code: str, month: date) -> tuple[list[dict], Decimal]:
    """The month's demo contributions of the jurisdiction, and what they bring into the pool."""
    calc = discover()["contribution"]
    policy = Policy(code, month)
    effective_on = month.replace(day=20)
    spans = (
        EnrolmentSpan.objects.filter(
            jurisdiction__code=code, category__in=("employee", "flexible"), start__lt=next_month(month)
        )
        .exclude(end__lte=month)
        .select_related("person")
        .order_by("person_id")
    )
    rows = []
    for s in spans:
        try:
            out = calc.run(
                policy,
                {
                    "category": s.category,
                    "monthly_wage": _demo_wage(s.person_id),
                    "scheme": s.scheme or "combined",
                    "age": _age(s.person.birth_date, month),
                },
            )
        except (PolicyMissing, PolicyError, InputError):
            return [], ZERO  # the seed does not give the rates (xianning): no demo contributions
        rows.append((s, {k: (v or ZERO) for k, v in out.items()}))
    if not rows:
        return [], ZERO
    jur_id = rows[0][0].jurisdiction_id
    funds = _fund_accounts(jur_id, effective_on, {})
    target = {(s.person_id, jur_id, AccountKind.PERSONAL) for s, out in rows if out["personal_account"]}
    accounts = person_accounts(target, effective_on)
    specs, pool_income = [], ZERO
    for s, out in rows:
        lines = {funds["pool"]: out["pool"]}
        if out["maternity"] and funds["maternity"]:
            lines[funds["maternity"]] = lines.get(funds["maternity"], ZERO) + out["maternity"]
        if out["critical_illness"] and funds["critical_illness"]:
            lines[funds["critical_illness"]] = out["critical_illness"]
        if out["personal_account"]:
            lines[accounts[(s.person_id, jur_id, AccountKind.PERSONAL)]] = out["personal_account"]
        received = sum(lines.values(), ZERO)
        pool_income += out["pool"] + out["maternity"]
        specs.append(
            {
                "business_key": f"demo-contribution:{s.person_id}:{month:%Y-%m}",
                "kind": EntryKind.CONTRIBUTION,
                "jurisdiction_id": jur_id,
                "person_id": s.person_id,
                "effective_on": effective_on,
                "memo": f"{month:%Y-%m} 缴费到账 {received}（演示数据）",
                "legs": [(funds["bank"], -received), *((acc, amt) for acc, amt in sorted(lines.items()) if amt)],
            }
        )
    return specs, pool_income


def _payment_specs(jur_id: int, bank_id: int, on: date, share: Decimal) -> list[dict]:
    """One pharmacy payment per account with money in it: SHARE of its balance (演示)."""
    specs = []
    rows = AccountBalance.objects.filter(
        account__jurisdiction_id=jur_id, account__kind=AccountKind.PERSONAL, balance__gt=0
    ).values_list("account_id", "account__person_id", "balance")
    for account_id, person_id, balance in rows:
        amount = money(Decimal(balance) * share)
        if amount > 0:
            specs.append(
                {
                    "business_key": f"demo-payment:{account_id}:{on.isoformat()}",
                    "kind": EntryKind.ACCOUNT_PAYMENT,
                    "jurisdiction_id": jur_id,
                    "person_id": person_id,
                    "effective_on": on,
                    "memo": "定点药店购药（演示数据）",
                    "legs": [(account_id, -amount), (bank_id, amount)],
                }
            )
    return specs


def demo_ledger(*, first_month: date = date(2024, 1, 1), months: int = 6, log=None) -> dict[str, int]:
    """Post MONTHS months of demo history from FIRST_MONTH in every jurisdiction. Idempotent (business keys)."""
    totals = {"contributions": 0, "retiree_credits": 0, "payments": 0, "benefit_payments": 0}
    for jur in Jurisdiction.objects.order_by("code"):
        bank, pool = fund_account(jur, AccountKind.BANK), fund_account(jur, AccountKind.POOLED)
        month = month_start(first_month)
        for i in range(months):
            with transaction.atomic():
                specs, pool_income = _contribution_specs(jur.code, month)
                totals["contributions"] += post_entries_bulk(specs, recorded_at=timezone.now())["entries"]
            try:
                run = run_in_process(
                    "funds.retiree_credits", as_of=month, jurisdiction=jur.code, params={"month": f"{month:%Y-%m}"}
                )
                totals["retiree_credits"] += int(run.counts.get("credited", 0))
                credited = Decimal(int(run.counts.get("amount_fen", 0))) / 100
            except Exception as exc:  # a missing statistic: the demo goes on without that jurisdiction's credits
                credited = ZERO
                if log:
                    log(f"  {jur.name} {month:%Y年%-m月} 退休人员个人账户划入未执行：{exc}")
            if i == 0:  # an opening balance of a few months' turnover (期初余额, 演示), the day before
                opening = money(pool_income * 5 if pool_income else credited * 24)
                if opening > 0:
                    with transaction.atomic():
                        post_entries_bulk(
                            [
                                {
                                    "business_key": f"demo-opening:{jur.code}",
                                    "kind": EntryKind.OPENING,
                                    "jurisdiction_id": jur.pk,
                                    "person_id": None,
                                    "effective_on": month - timedelta(days=1),
                                    "memo": "统筹基金期初余额（演示数据）",
                                    "legs": [(pool.pk, opening), (bank.pk, -opening)],
                                }
                            ],
                            recorded_at=timezone.now(),
                        )
            # benefits paid by the pool: a share of the month's income, less what the retirees took
            benefits = money(pool_income * SPENDING_SHARE[i % len(SPENDING_SHARE)]) - credited
            with transaction.atomic():
                if benefits > 0:
                    totals["benefit_payments"] += post_entries_bulk(
                        [
                            {
                                "business_key": f"demo-benefit:{jur.code}:{month:%Y-%m}",
                                "kind": EntryKind.BENEFIT_PAYMENT,
                                "jurisdiction_id": jur.pk,
                                "person_id": None,
                                "effective_on": month.replace(day=28),
                                "memo": f"{month:%Y-%m} 统筹基金待遇支付（演示数据）",
                                "legs": [(pool.pk, -benefits), (bank.pk, benefits)],
                            }
                        ],
                        recorded_at=timezone.now(),
                    )["entries"]
                if i % 3 == 1:
                    totals["payments"] += post_entries_bulk(
                        _payment_specs(jur.pk, bank.pk, month.replace(day=25), Decimal("0.3")),
                        recorded_at=timezone.now(),
                    )["entries"]
            month = next_month(month)
    return totals
