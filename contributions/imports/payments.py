"""Payment import (实缴): validate a tax-bureau file, insert the payments, apply them to dues."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from batch.dialect import is_postgres
from enrollment.models import EnrolmentSpan, Insutype

from .. import inputs, services
from ..models import ImportJob, Payment, PaymentSource
from .cells import _text, parse_date_cell, parse_id_cell, parse_money, parse_name_cell
from .columns import PAYMENT_COLUMNS, map_headers
from .readers import Table
from .validation import (
    LOOKUP_BATCH,
    PROGRESS_EVERY,
    Progress,
    Validation,
    _cells,
    _check_name,
    _chunks,
    _duplicates,
    _keys,
    _normalise,
    _require,
    persons_by_id_number,
)
from .writing import COMMIT_BATCH, _write_all, _Writer


def references_imported(references: Iterable[str]) -> set[str]:
    """The 电子税票号 among ``references`` already recorded as payments: one query per batch."""
    refs = sorted(set(references))
    if is_postgres():
        with connection.cursor() as cur:
            cur.execute(f"SELECT reference FROM {Payment._meta.db_table} WHERE reference = ANY(%s)", [refs])
            return {r for (r,) in cur.fetchall()}
    found: set[str] = set()
    for chunk in _chunks(refs, LOOKUP_BATCH):
        found.update(Payment.objects.filter(reference__in=chunk).values_list("reference", flat=True))
    return found


#: 险种 cell → code: the national codes, or the scheme's name.
INSUTYPE_WORDS = {
    "310": "310",
    "390": "390",
    "职工": "310",
    "职工医保": "310",
    "职工基本医疗保险": "310",
    "居民": "390",
    "居民医保": "390",
    "城乡居民": "390",
    "城乡居民基本医疗保险": "390",
}


def parse_insutype(value: Any) -> str:
    """险种 of a payment row: empty → 310; 310/390 or the scheme's name; anything else a row message."""
    text = _text(value).strip()
    if text.endswith(".0"):  # a number cell read as a float
        text = text[:-2]
    if not text:
        return Insutype.EMPLOYEE
    if text not in INSUTYPE_WORDS:
        raise ValueError(f"险种“{text[:20]}”无效：应为 310（职工）或 390（城乡居民）。")
    return INSUTYPE_WORDS[text]


def resident_person_ids(person_ids: Iterable[int]) -> set[int]:
    """Among ``person_ids``, those with a resident span (险种 390): one query per batch."""
    ids = sorted(set(person_ids))
    found: set[int] = set()
    for chunk in _chunks(ids, LOOKUP_BATCH):
        found.update(
            EnrolmentSpan.objects.filter(person_id__in=chunk, insutype=Insutype.RESIDENT).values_list(
                "person_id", flat=True
            )
        )
    return found


def payment_validate(table: Table, *, as_of: date, progress: Progress | None = None) -> Validation:
    """Check a tax-bureau payment file (dry run). A reference already imported is "已导入"."""
    index = map_headers(table.headers, PAYMENT_COLUMNS)
    result = Validation(total=len(table))

    def reference(value: Any) -> str:
        try:  # empty, too long, or a formula / spaces inside (issue #12 item 7)
            return inputs.payment_reference(_text(value))
        except ValidationError as exc:
            raise ValueError(exc.message_dict["reference"][0]) from None

    def paid_on(value: Any) -> date:
        day = parse_date_cell(value, label="缴款日期")
        if day is None:
            raise ValueError("缴款日期未填写。")
        if day > as_of:
            raise ValueError(f"缴款日期 {day} 晚于导入日期 {as_of}。")
        try:  # 1900-01-01 and the like
            return inputs.business_date(day, field="paid_on", latest=as_of)
        except ValidationError as exc:
            raise ValueError("缴款日期" + exc.message_dict["paid_on"][0]) from None

    parsers = {
        "reference": reference,
        "id_number": parse_id_cell,
        "amount": lambda v: _require(parse_money(v, label="金额", positive=True), "金额未填写。"),
        "paid_on": paid_on,
        "name": parse_name_cell,
        "insutype": parse_insutype,
    }
    parsed: dict[int, dict[str, Any]] = {}
    for i, (number, cells) in enumerate(table.rows, start=1):
        parsed[number] = _normalise(result, number, _cells(cells, index), parsers)
        if progress and i % PROGRESS_EVERY == 0:
            progress(i // 2)

    _duplicates(result, parsed, _keys("reference"), "reference", "电子税票号")
    already = references_imported(r["reference"] for r in result.valid.values())
    persons = persons_by_id_number(r["id_number"] for r in result.valid.values())
    if progress:
        progress(len(table) * 3 // 4)
    for number, row in list(result.valid.items()):
        if row["reference"] in already:
            result.add(number, "reference", "已导入：该电子税票号已经导入过，不能重复入账。")
            continue
        person = persons.get(row["id_number"])
        if person is None:
            result.add(number, "id_number", "未找到该身份证号的参保登记。")
            continue
        _check_name(result, number, row["name"], person[1])
        row["person_id"] = person[0]
    residents = resident_person_ids(
        r["person_id"] for r in result.valid.values() if r.get("insutype") == Insutype.RESIDENT and "person_id" in r
    )
    for number, row in list(result.valid.items()):
        if row.get("insutype") == Insutype.RESIDENT and row.get("person_id") not in residents:
            result.add(number, "insutype", "该人员没有城乡居民医保参保登记（险种 390），不能按居民缴费入账。")
    result.errors.sort(key=lambda e: e.row)
    result.summary = {
        "valid_rows": len(result.valid),
        "error_rows": result.error_rows,
        "to_create": len(result.valid),
        "amount_total": str(sum((r["amount"] for r in result.valid.values()), Decimal("0.00"))),
    }
    if progress:
        progress(len(table))
    return result


class _PaymentWriter(_Writer):
    """Insert of Payment (a reference already present fails the whole commit: unique constraint)."""

    COLUMNS = (
        "person_id",
        "amount",
        "paid_on",
        "source",
        "reference",
        "insutype",
        "unapplied_amount",
        "import_job_id",
        "recorded_by_id",
        "recorded_at",
    )

    def write(self, rows: list[tuple]) -> None:
        full = [
            (
                p,
                amount,
                paid_on,
                PaymentSource.TAX_FILE,
                ref,
                ins,
                amount,
                self.job.pk,
                self.job.uploaded_by_id,
                self.now,
            )
            for p, amount, paid_on, ref, ins in rows
        ]
        if self.pg:
            self._copy(Payment._meta.db_table, self.COLUMNS, full)
        else:
            Payment.objects.bulk_create(
                [Payment(**dict(zip(self.COLUMNS, r, strict=True))) for r in full], batch_size=COMMIT_BATCH
            )


def payment_write(validation: Validation, *, job: ImportJob, progress: Progress | None = None) -> dict[str, int]:
    """Insert the valid rows as Payment (source 税务缴费文件, nothing applied yet)."""
    rows = [
        (r["person_id"], r["amount"], r["paid_on"], r["reference"], r.get("insutype") or Insutype.EMPLOYEE)
        for r in validation.valid.values()
    ]
    _write_all(_PaymentWriter(job, timezone.now()), rows, progress)
    return {"created": len(rows)}


def apply_payment_ids(payment_ids: Iterable[int], *, recompute_as_of: date | None = None) -> dict[str, Any]:
    """Apply payments to the oldest unpaid dues, in groups of whole persons.

    ``contributions.services.payments_apply`` allocates each person's payments oldest
    first and is idempotent; calling it per group of at most :data:`LOOKUP_BATCH`
    payments keeps the SQL small, and never splits one person's payments across groups.
    """

    ids = sorted(set(payment_ids))
    owner: list[tuple[int, int]] = []
    for chunk in _chunks(ids, LOOKUP_BATCH):
        owner += list(Payment.objects.filter(id__in=chunk).values_list("person_id", "id"))
    owner.sort()
    totals: dict[str, Any] = defaultdict(int)
    group: list[int] = []
    for i, (person_id, payment_id) in enumerate(owner):
        group.append(payment_id)
        last_of_person = i + 1 == len(owner) or owner[i + 1][0] != person_id
        if last_of_person and (len(group) >= LOOKUP_BATCH or i + 1 == len(owner)):
            for k, v in (services.payments_apply(group, recompute_as_of=recompute_as_of) or {}).items():
                totals[k] += v if isinstance(v, int) else 0
            group = []
    return dict(totals)
