"""结算文件读入: a csv/xlsx settlement file → draft :class:`Claim` rows (one per row), with row errors.

Columns (header row, English names as below; Chinese headers in ``HEADERS_ZH`` are accepted too):
business_key, id_number, med_type, start_date, end_date, hospital_name, hospital_level, tcm,
location, medfee_sumamt, fulamt_ownpay, preselfpay, inscp_scp_amt, first_year_amount,
acct_pay_requested, poverty, special_kind, disease_classes, major_disease_tier,
major_disease_setting, maternity_event, babies, continuous_months, policy_extra_days,
pregnancy_months, maternity_setting, spouse_insured, rare_complication,
employer_average_monthly_wage, transfer_from (business key of the earlier claim of the stay).
Required: business_key, id_number, med_type, start_date, hospital_level, medfee_sumamt, inscp_scp_amt.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from benefits.calculations._common import HOSPITAL_LEVELS, LOCATIONS
from benefits.calculations.maternity import EVENTS
from enrollment.models import InsuredPerson

from .models import Claim, ClaimSource, MedType, SettlementFile, SpecialKind

COLUMNS = (
    "business_key",
    "id_number",
    "med_type",
    "start_date",
    "end_date",
    "hospital_name",
    "hospital_level",
    "tcm",
    "location",
    "medfee_sumamt",
    "fulamt_ownpay",
    "preselfpay",
    "inscp_scp_amt",
    "first_year_amount",
    "acct_pay_requested",
    "poverty",
    "special_kind",
    "disease_classes",
    "major_disease_tier",
    "major_disease_setting",
    "maternity_event",
    "babies",
    "continuous_months",
    "policy_extra_days",
    "pregnancy_months",
    "maternity_setting",
    "spouse_insured",
    "rare_complication",
    "employer_average_monthly_wage",
    "transfer_from",
)
REQUIRED = ("business_key", "id_number", "med_type", "start_date", "hospital_level", "medfee_sumamt", "inscp_scp_amt")
HEADERS_ZH = {
    "业务流水号": "business_key",
    "身份证号": "id_number",
    "医疗类别": "med_type",
    "入院/就诊日期": "start_date",
    "出院日期": "end_date",
    "医疗机构名称": "hospital_name",
    "医疗机构等级": "hospital_level",
    "医疗费总额": "medfee_sumamt",
    "全自费金额": "fulamt_ownpay",
    "先行自付金额": "preselfpay",
    "符合政策范围金额": "inscp_scp_amt",
}
DECIMALS = (
    "medfee_sumamt",
    "fulamt_ownpay",
    "preselfpay",
    "inscp_scp_amt",
    "first_year_amount",
    "acct_pay_requested",
    "employer_average_monthly_wage",
)
INTS = ("babies", "continuous_months", "policy_extra_days", "pregnancy_months")
BOOLS = ("tcm", "poverty", "spouse_insured", "rare_complication")
CHOICES = {
    "med_type": tuple(MedType.values),
    "hospital_level": HOSPITAL_LEVELS,
    "location": LOCATIONS,
    "special_kind": tuple(SpecialKind.values),
    "maternity_event": EVENTS,
    "major_disease_tier": ("county", "city", "provincial"),
    "major_disease_setting": ("inpatient", "outpatient", "peritoneal_dialysis"),
    "maternity_setting": ("outpatient", "inpatient"),
}
BATCH = 5000


class RowError(ValueError):
    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def read_rows(name: str, data: bytes) -> Iterator[dict[str, str]]:
    """Rows of a csv (UTF-8, with or without BOM) or xlsx file as dicts of column → text."""
    if name.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = wb.active.iter_rows(values_only=True)
        header = [_column(h) for h in next(rows, ())]
        for values in rows:
            if values and any(v not in (None, "") for v in values):
                yield {h: "" if v is None else str(v) for h, v in zip(header, values, strict=False) if h}
        wb.close()
        return
    text = io.StringIO(data.decode("utf-8-sig"))
    reader = csv.reader(text)
    header = [_column(h) for h in next(reader, [])]
    for values in reader:
        if any(v.strip() for v in values):
            yield {h: v for h, v in zip(header, values, strict=False) if h}


def _column(header: Any) -> str:
    text = str(header or "").strip()
    return HEADERS_ZH.get(text, text)


def parse_row(raw: dict[str, str]) -> dict[str, Any]:
    """Typed claim fields of one row (``RowError`` naming the field otherwise)."""
    out: dict[str, Any] = {}
    for col in REQUIRED:
        if not (raw.get(col) or "").strip():
            raise RowError(col, "必填")
    for col in COLUMNS:
        value = (raw.get(col) or "").strip()
        if col in DECIMALS:
            if value:
                try:
                    out[col] = Decimal(value)
                except InvalidOperation:
                    raise RowError(col, f"不是金额：{value!r}") from None
                if out[col] < 0:
                    raise RowError(col, "不能为负数")
        elif col in INTS:
            if value:
                try:
                    out[col] = int(value)
                except ValueError:
                    raise RowError(col, f"不是整数：{value!r}") from None
        elif col in BOOLS:
            out[col] = value.lower() in ("1", "true", "yes", "y", "是")
        elif col in ("start_date", "end_date"):
            if value:
                try:
                    out[col] = date.fromisoformat(value[:10])
                except ValueError:
                    raise RowError(col, f"日期格式应为 YYYY-MM-DD：{value!r}") from None
        else:
            if value and col in CHOICES and value not in CHOICES[col]:
                raise RowError(col, f"{value!r} 不在可选值 {', '.join(CHOICES[col])} 中")
            out[col] = value
    if out.get("end_date") and out["end_date"] < out["start_date"]:
        raise RowError("end_date", "出院日期早于入院日期")
    return out


def settlement_file_import(sfile: SettlementFile) -> dict[str, int]:
    """Read the file into draft claims (in batches); rows with errors are listed, not imported. Idempotent."""
    sfile.file.open("rb")
    try:
        data = sfile.file.read()
    finally:
        sfile.file.close()
    errors: list[dict[str, Any]] = []
    total = imported = 0
    existing = set(Claim.objects.filter(settlement_file=sfile).values_list("row_number", flat=True))
    batch: list[tuple[int, dict[str, Any]]] = []

    def flush() -> int:
        if not batch:
            return 0
        ids = {row["id_number"] for _, row in batch}
        persons = dict(InsuredPerson.objects.filter(id_number__in=ids).values_list("id_number", "pk"))
        keys = {row["transfer_from"] for _, row in batch if row.get("transfer_from")}
        earlier = dict(Claim.objects.filter(business_key__in=keys).values_list("business_key", "pk"))
        dupes = set(
            Claim.objects.filter(business_key__in=[r["business_key"] for _, r in batch]).values_list(
                "business_key", flat=True
            )
        )
        objs = []
        for number, row in batch:
            pid = persons.get(row["id_number"])
            if pid is None:
                errors.append({"row": number, "field": "id_number", "message": "查无此参保人员"})
                continue
            if row["business_key"] in dupes:
                errors.append({"row": number, "field": "business_key", "message": "业务流水号重复"})
                continue
            transfer = row.pop("transfer_from", "")
            if transfer and transfer not in earlier:
                errors.append(
                    {
                        "row": number,
                        "field": "transfer_from",
                        "message": "转院前的申请不存在（须在此前的行或已有申请中）",
                    }
                )
                continue
            dupes.add(row["business_key"])
            row.pop("id_number")
            objs.append(
                Claim(
                    **row,
                    person_id=pid,
                    jurisdiction_id=sfile.jurisdiction_id,
                    transfer_from_id=earlier.get(transfer),
                    source=ClaimSource.SETTLEMENT_FILE,
                    settlement_file=sfile,
                    row_number=number,
                    created_by_id=sfile.uploaded_by_id,
                )
            )
        Claim.objects.bulk_create(objs, batch_size=BATCH)
        batch.clear()
        return len(objs)

    with transaction.atomic():
        for number, raw in enumerate(read_rows(sfile.original_name or sfile.file.name, data), start=2):
            total += 1
            if number in existing:
                continue
            try:
                row = parse_row(raw)
            except RowError as exc:
                errors.append({"row": number, "field": exc.field, "message": str(exc)})
                continue
            row = {k: v for k, v in row.items() if v not in ("", None) or k in ("business_key", "id_number")}
            if row.get("transfer_from"):
                imported += flush()  # the stay it continues may be in a row just read
            batch.append((number, row))
            if len(batch) >= BATCH:
                imported += flush()
        imported += flush()
        sfile.total_rows = total
        sfile.imported_rows = len(existing) + imported
        sfile.error_rows = len(errors)
        sfile.errors = errors[:1000]
        sfile.save(update_fields=["total_rows", "imported_rows", "error_rows", "errors"])
    return {"rows": total, "imported": imported, "errors": len(errors)}
