"""城乡居民医保基金 (险种 390): its own books in the ledger, never mixed with the employee fund.

xianning 办法 四(三): 职工医保基金和城乡居民医保基金分别建账、分账核算、分别计息、专款专用，不得相互挤占和调剂.
The resident fund has its own pooled account (``resident_pooled``) and bank account (``resident_bank``):

- a resident's yearly contribution (居民个人缴费, sanmenxia 第三十条、第三十一条) is posted when the payment is
  applied to the year's bill (:func:`post_resident_contribution`, plugged into the contributions app by
  ``funds/apps.py``);
- fiscal subsidies (财政补助) and the fund's interest (利息) are entered by staff as receipts
  (:func:`receipt_record`);
- benefits paid for residents leave it through :func:`funds.posting.post_benefit_payment` with
  ``insutype="390"``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from contributions.models import ResidentAllocation
from enrollment.bounds import amount_in_bounds, date_in_bounds, text_in_bounds
from policy.models import Jurisdiction

from .ledger_sql import post_entries_bulk
from .models import EntryKind, ResidentFundReceipt, ResidentReceiptKind
from .posting import post_resident_income, scheme_accounts

#: 年度 bounds of a receipt (a product bound, not policy: outside it the year is a typing error).
MIN_YEAR, MAX_YEAR_AHEAD = 2000, 1


def post_resident_allocations(allocation_ids: list[int]) -> dict[str, int]:
    """居民个人缴费收入, set-wise: each resident allocation (a payment applied to a yearly bill) becomes one entry
    ``resident-contribution:<id>`` — the resident bank account debited, the resident pooled fund credited — effective
    on the payment date (the contributions app calls this through its port, in its transaction; posted ones are
    skipped)."""
    if not allocation_ids:
        return {"entries": 0, "postings": 0}
    rows = list(
        ResidentAllocation.objects.filter(pk__in=allocation_ids)
        .values_list("pk", "amount", "payment__paid_on", "due__jurisdiction_id", "due__person_id", "due__benefit_year")
        .order_by("pk")
    )
    accounts: dict[int, tuple[int, int]] = {}
    specs = []
    for pk, amount, paid_on, jurisdiction_id, person_id, year in rows:
        if jurisdiction_id not in accounts:
            pool, bank = scheme_accounts(Jurisdiction.objects.get(pk=jurisdiction_id), "390", on=paid_on)
            accounts[jurisdiction_id] = (pool.pk, bank.pk)
        pool_id, bank_id = accounts[jurisdiction_id]
        specs.append(
            {
                "business_key": f"resident-contribution:{pk}",
                "kind": EntryKind.RESIDENT_CONTRIBUTION,
                "jurisdiction_id": jurisdiction_id,
                "person_id": person_id,
                "effective_on": paid_on,
                "memo": f"{year} 年度城乡居民医保个人缴费 {amount}",
                "legs": [(bank_id, -amount), (pool_id, amount)],
            }
        )
    return post_entries_bulk(specs, recorded_at=timezone.now())


def _receipt_entry_kind(kind: str) -> str:
    return EntryKind.FUND_INTEREST if kind == ResidentReceiptKind.INTEREST else EntryKind.RESIDENT_SUBSIDY


@transaction.atomic
def receipt_record(
    *,
    jurisdiction: Jurisdiction,
    kind: str,
    year: int,
    amount: Decimal,
    received_on: date,
    reference: str,
    note: str = "",
    user=None,
    today: date | None = None,
) -> ResidentFundReceipt:
    """登记财政补助或利息到账, and post it to the resident fund in the same transaction."""
    today = today or timezone.localdate()
    if kind not in ResidentReceiptKind.values:
        raise ValidationError({"kind": f"未知收入类型 {kind!r}"})
    amount_in_bounds(Decimal(amount), field="amount", allow_zero=False)
    date_in_bounds(received_on, field="received_on", latest=today)
    if not MIN_YEAR <= int(year) <= today.year + MAX_YEAR_AHEAD:
        raise ValidationError({"year": f"所属年度应在 {MIN_YEAR}–{today.year + MAX_YEAR_AHEAD} 之间。"})
    reference = text_in_bounds((reference or "").strip(), field="reference", max_length=64)
    if not reference:
        raise ValidationError({"reference": "须填写拨款文号或凭证号。"})
    if ResidentFundReceipt.objects.filter(reference=reference).exists():
        raise ValidationError({"reference": f"凭证号 {reference} 已登记，不能重复入账。"})
    label = ResidentReceiptKind(kind).label
    entry = post_resident_income(
        jurisdiction=jurisdiction,
        kind=_receipt_entry_kind(kind),
        amount=amount,
        on=received_on,
        business_key=f"resident-receipt:{reference}",
        memo=f"{year} 年度 {label}（{reference}）",
        user=user,
    )
    return ResidentFundReceipt.objects.create(
        jurisdiction=jurisdiction,
        kind=kind,
        year=year,
        amount=amount,
        received_on=received_on,
        reference=reference,
        note=note,
        entry=entry,
        created_by=user if user is not None and getattr(user, "is_authenticated", False) else None,
    )
