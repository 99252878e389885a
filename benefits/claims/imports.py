"""结算文件读入: a csv/xlsx settlement file → draft :class:`Claim` rows (one per row), with row errors.

Columns (header row, English names as below; Chinese headers in ``HEADERS_ZH`` are accepted too):
business_key, id_number, med_type, start_date, end_date, hospital_name, hospital_level, tcm,
location, medfee_sumamt, fulamt_ownpay, preselfpay, inscp_scp_amt, first_year_amount,
acct_pay_requested, poverty, special_kind, disease_classes, major_disease_tier,
major_disease_setting, maternity_event, babies, continuous_months, policy_extra_days,
pregnancy_months, maternity_setting, spouse_insured, rare_complication,
employer_average_monthly_wage, transfer_from (business key of the earlier claim of the stay),
supplementary_insured, supplementary_renewed_on (ziyang 商业健康补充医疗保险);
the rules' further facts under the claim's field names (``RULE_FACT_FIELDS``): continued_stay
(with transfer_from), honoured_group, out_of_province, aids, non_designated, emergency_rescue,
external_service, external_service_filed (default yes), high_value_drug, excluded_cause,
third_party_unpaid, origin_level, arrears_months, arrears_made_up, separated_on,
maternity_insured_months, new_employer, claim_one_off_grant, maternity_excluded_item,
policy_compliant (default yes), free_service, appraised_amount, disabled_soldier_grade, submitted_on,
counted_as_inpatient (``COUNTED_AS_INPATIENT``: care outside a stay settled as inpatient) with the
facts its conditions read: dates_continuous (default yes), died_in_rescue, days_before_admission,
same_hospital (default yes), observation_days.
Required: business_key, id_number, med_type, start_date, hospital_level; and medfee_sumamt,
inscp_scp_amt unless the claim has item lines.

Item lines (费用明细, where the rules need them: ziyang's banded 先行自付 for class-B drugs,
part-paid items and materials, bed-fee limits — 第十二条(一)(二)): rows with ``item_kind``
filled, right after their claim's row and with the same business_key, with columns
item_kind (``ITEM_KINDS``), item_name, quantity (days for a bed fee), unit_price,
price_limit, bed_type. The claim's amounts are then computed from its lines exactly as
for lines entered in the admin (:func:`benefits.claims.items.items_total`); a
medfee_sumamt given on the claim row must equal the lines' total. An error in any line
leaves the whole claim out (each error named by row and field).
The file is read in one transaction; rows with errors are listed and the others imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction

from batch.bulk import insert_objects
from benefits.calculations._common import LOCATIONS
from benefits.calculations.inpatient import (
    CONTINUED_STAYS,
    COUNTED_AS_INPATIENT,
    EXCLUDED_CAUSES,
    EXTERNAL_SERVICES,
    HIGH_VALUE_DRUG_USES,
)
from benefits.calculations.maternity import EVENTS, EXCLUDED_ITEMS
from benefits.calculations.outpatient import OUTPATIENT_LEVELS
from enrollment.models import InsuredPerson

from .adjudication import COUNTED_AS_INPATIENT_MED_TYPES
from .items import BED_TYPES, ITEM_KINDS
from .models import RULE_FACT_FIELDS, Claim, ClaimItem, ClaimSource, MedType, SettlementFile, SpecialKind

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
    "supplementary_insured",
    "supplementary_renewed_on",
    *RULE_FACT_FIELDS,
)
ITEM_COLUMNS = ("item_kind", "item_name", "quantity", "unit_price", "price_limit", "bed_type")
REQUIRED = ("business_key", "id_number", "med_type", "start_date", "hospital_level")
AMOUNTS = ("medfee_sumamt", "inscp_scp_amt")  # required when the claim has no item lines
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
    "费用类别": "item_kind",
    "项目名称": "item_name",
    "数量": "quantity",
    "单价": "unit_price",
    "限价": "price_limit",
    "床位类型": "bed_type",
}
DECIMALS = (
    "medfee_sumamt",
    "fulamt_ownpay",
    "preselfpay",
    "inscp_scp_amt",
    "first_year_amount",
    "acct_pay_requested",
    "employer_average_monthly_wage",
    "appraised_amount",
)
INTS = (
    "babies",
    "continuous_months",
    "policy_extra_days",
    "pregnancy_months",
    "arrears_months",
    "maternity_insured_months",
    "disabled_soldier_grade",
    "days_before_admission",
    "observation_days",
)
BOOLS = (
    "tcm",
    "poverty",
    "spouse_insured",
    "rare_complication",
    "supplementary_insured",
    "honoured_group",
    "out_of_province",
    "aids",
    "non_designated",
    "emergency_rescue",
    "external_service_filed",
    "third_party_unpaid",
    "arrears_made_up",
    "new_employer",
    "claim_one_off_grant",
    "policy_compliant",
    "free_service",
    "dates_continuous",
    "died_in_rescue",
    "same_hospital",
)
BOOLS_DEFAULT_TRUE = (
    "external_service_filed",
    "policy_compliant",
    "dates_continuous",
    "same_hospital",
)  # an empty cell keeps the model's default
TRUE_WORDS = ("1", "true", "yes", "y", "是")
FALSE_WORDS = ("0", "false", "no", "n", "否")
DATES = ("start_date", "end_date", "supplementary_renewed_on", "separated_on", "submitted_on")
CHOICES = {
    "med_type": tuple(MedType.values),
    "hospital_level": OUTPATIENT_LEVELS,
    "origin_level": OUTPATIENT_LEVELS,
    "continued_stay": CONTINUED_STAYS,
    "external_service": EXTERNAL_SERVICES,
    "high_value_drug": HIGH_VALUE_DRUG_USES,
    "excluded_cause": EXCLUDED_CAUSES,
    "counted_as_inpatient": COUNTED_AS_INPATIENT,
    "maternity_excluded_item": EXCLUDED_ITEMS,
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
        if col in DECIMALS or col in INTS:
            if value:
                out[col] = _number(col, value)
        elif col in BOOLS:
            if not value:
                out[col] = col in BOOLS_DEFAULT_TRUE  # an empty cell: the model's default
            elif value.lower() in TRUE_WORDS:
                out[col] = True
            elif value.lower() in FALSE_WORDS:
                out[col] = False
            else:
                raise RowError(col, f"应为 是/否（1/0、true/false）：{value!r}")
        elif col in DATES:
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
    if out.get("counted_as_inpatient") and out["med_type"] not in COUNTED_AS_INPATIENT_MED_TYPES:
        raise RowError(
            "counted_as_inpatient", f"按住院结算的门急诊费用只用于医疗类别 11 或 21，本行为 {out['med_type']}"
        )
    return out


def _number(col: str, value: str) -> Decimal | int:
    """An amount (``DECIMALS``) or a count (``INTS``) from a cell; never negative."""
    try:
        number: Decimal | int = int(value) if col in INTS else Decimal(value)
    except (ValueError, InvalidOperation):
        raise RowError(col, f"{'不是整数' if col in INTS else '不是金额'}：{value!r}") from None
    if isinstance(number, Decimal) and not number.is_finite():
        raise RowError(col, f"不是金额：{value!r}")
    if number < 0:
        raise RowError(col, "不能为负数")
    return number


def parse_item(raw: dict[str, str]) -> dict[str, Any]:
    """Typed fields of one item line (``RowError`` naming the field otherwise)."""
    kind = (raw.get("item_kind") or "").strip()
    if kind not in ITEM_KINDS:
        raise RowError("item_kind", f"{kind!r} 不在可选值 {', '.join(ITEM_KINDS)} 中")
    out: dict[str, Any] = {"kind": kind, "name": (raw.get("item_name") or "").strip()[:200]}
    for col, name, required in (
        ("quantity", "quantity", False),
        ("unit_price", "unit_price", True),
        ("price_limit", "price_limit", False),
    ):
        value = (raw.get(col) or "").strip()
        if not value:
            if required:
                raise RowError(col, "必填")
            out[name] = Decimal(1) if col == "quantity" else None
            continue
        try:
            out[name] = Decimal(value)
        except InvalidOperation:
            raise RowError(col, f"不是数字：{value!r}") from None
        if out[name] < 0:
            raise RowError(col, "不能为负数")
    bed = (raw.get("bed_type") or "").strip()
    if kind == "bed_fee":
        bed = bed or "general"
        if bed not in BED_TYPES:
            raise RowError("bed_type", f"{bed!r} 不在可选值 {', '.join(BED_TYPES)} 中")
    out["bed_type"] = bed
    return out


def items_medfee(items: list[dict[str, Any]]) -> Decimal:
    """医疗费总额 of item lines: Σ quantity × unit price, to the fen (as :func:`items_total`)."""
    from policy.calculations import money

    return money(sum((i["quantity"] * i["unit_price"] for i in items), Decimal(0)))


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
    batch: list[tuple[int, dict[str, Any], list[dict[str, Any]]]] = []

    def flush() -> int:
        if not batch:
            return 0
        ids = {row["id_number"] for _, row, _ in batch}
        persons = dict(InsuredPerson.objects.filter(id_number__in=ids).values_list("id_number", "pk"))
        keys = {row["transfer_from"] for _, row, _ in batch if row.get("transfer_from")}
        earlier = dict(Claim.objects.filter(business_key__in=keys).values_list("business_key", "pk"))
        dupes = set(
            Claim.objects.filter(business_key__in=[r["business_key"] for _, r, _ in batch]).values_list(
                "business_key", flat=True
            )
        )
        objs, lines = [], []
        for number, row, items in batch:
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
            lines.append(items)
        insert_objects(Claim, objs)
        if any(lines):
            pks = dict(
                Claim.objects.filter(
                    business_key__in=[o.business_key for o, items in zip(objs, lines, strict=True) if items]
                ).values_list("business_key", "pk")
            )
            insert_objects(
                ClaimItem,
                [
                    ClaimItem(claim_id=pks[obj.business_key], **item)
                    for obj, items in zip(objs, lines, strict=True)
                    for item in items
                ],
            )
        batch.clear()
        return len(objs)

    # The claim being read: [row number, typed row or None (error / already imported), item lines,
    # row numbers of bad item lines, business_key].
    current: list[Any] | None = None

    def close() -> int:
        """The claim row and its item lines are complete: queue the claim (or record why not)."""
        nonlocal current
        if current is None or current[1] is None:
            current = None
            return 0
        number, row, items, bad, _ = current
        current = None
        if bad:
            errors.append(
                {
                    "row": number,
                    "field": "item_kind",
                    "message": f"费用明细第 {', '.join(map(str, bad))} 行有错误，整笔未读入",
                }
            )
            return 0
        if items:
            medfee = items_medfee(items)
            if "medfee_sumamt" in row and row["medfee_sumamt"] != medfee:
                errors.append(
                    {
                        "row": number,
                        "field": "medfee_sumamt",
                        "message": f"医疗费总额 {row['medfee_sumamt']} 与明细合计 {medfee} 不符",
                    }
                )
                return 0
            row.setdefault("medfee_sumamt", medfee)
            row.setdefault("inscp_scp_amt", Decimal(0))  # computed from the lines at adjudication
        else:
            missing = [c for c in AMOUNTS if c not in row]
            if missing:
                errors.append({"row": number, "field": missing[0], "message": "必填（无费用明细时）"})
                return 0
        done = 0
        if row.get("transfer_from"):
            done += flush()  # the stay it continues may be in a row just read
        batch.append((number, row, items))
        if len(batch) >= BATCH:
            done += flush()
        return done

    with transaction.atomic():
        for number, raw in enumerate(read_rows(sfile.original_name or sfile.file.name, data), start=2):
            total += 1
            if (raw.get("item_kind") or "").strip():
                key = (raw.get("business_key") or "").strip()
                if current is None or key != current[4]:
                    errors.append(
                        {
                            "row": number,
                            "field": "business_key",
                            "message": "费用明细行须紧随其报销申请行，且业务流水号相同",
                        }
                    )
                    continue
                if current[1] is None:
                    continue  # the claim row itself has an error or was imported before
                try:
                    current[2].append(parse_item(raw))
                except RowError as exc:
                    errors.append({"row": number, "field": exc.field, "message": str(exc)})
                    current[3].append(number)
                continue
            imported += close()
            key = (raw.get("business_key") or "").strip()
            if number in existing:
                current = [number, None, [], [], key]
                continue
            try:
                row = parse_row(raw)
            except RowError as exc:
                errors.append({"row": number, "field": exc.field, "message": str(exc)})
                current = [number, None, [], [], key]
                continue
            row = {k: v for k, v in row.items() if v not in ("", None) or k in ("business_key", "id_number")}
            current = [number, row, [], [], key]
        imported += close()
        imported += flush()
        sfile.total_rows = total
        sfile.imported_rows = len(existing) + imported
        sfile.error_rows = len(errors)
        sfile.errors = errors[:1000]
        sfile.save(update_fields=["total_rows", "imported_rows", "error_rows", "errors"])
    return {"rows": total, "imported": imported, "errors": len(errors)}


def analyze_claims() -> None:
    """Refresh the planner's statistics after a big import (PostgreSQL), so chunks read by index."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {Claim._meta.db_table}, {ClaimItem._meta.db_table}")
