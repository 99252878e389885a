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
两定机构: fixmedins_code (定点医药机构编码) names the institution in the register (an unknown code is an
error of the row and field); level, TCM, tier and location then come from the register on the service date
(:mod:`benefits.claims.registers`). 住院审核 facts (``AUDIT_FACT_FIELDS``, langfang 第六十条–第六十四条):
identity_verified, admission_registered_hours, injury, injury_registered_on, costs_unrecorded, bed_hanging,
discharge_drug_days, chronic_condition (an empty cell: not checked).
Required: business_key, id_number, med_type, start_date; hospital_level unless fixmedins_code is given; and
medfee_sumamt, inscp_scp_amt unless the claim has item lines.

Item lines (费用明细, where the rules need them: ziyang's banded 先行自付 for class-B drugs,
part-paid items and materials, bed-fee limits — 第十二条(一)(二)): rows with ``item_kind``
filled, right after their claim's row and with the same business_key, with columns
item_kind (``ITEM_KINDS``), item_name, quantity (days for a bed fee), unit_price,
price_limit, bed_type. The claim's amounts are then computed from its lines exactly as
for lines entered in the admin (:func:`benefits.claims.items.items_total`); a
medfee_sumamt given on the claim row must equal the lines' total. An error in any line
leaves the whole claim out (each error named by row and field).
The file is read in one transaction, all or nothing: every error is listed by row and field (or as a
whole-file problem: :mod:`benefits.claims.upload`) and then nothing of the file is written. Amounts, counts,
dates and texts are checked against the product bounds (:mod:`enrollment.bounds`) and their columns;
身份证号 are normalised (full-width digits, spaces) before they are looked up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import compress
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from batch.bulk import gc_paused, insert_dicts
from batch.dialect import is_postgres
from batch.forked import can_fork, forked
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
from benefits.institutions.models import Institution
from benefits.institutions.selectors import ids_by_code
from enrollment.bounds import (
    MAX_AMOUNT,
    MAX_MONTHLY_WAGE,
    amount_in_bounds,
    amount_plainly_in_bounds,
    date_in_bounds,
    normalise_identifier,
    text_in_bounds,
)
from enrollment.identifiers import parse_id_number
from enrollment.models import EnrolmentSpan, InsuredPerson
from policy.calculations import money

from .adjudication import COUNTED_AS_INPATIENT_MED_TYPES
from .items import BED_TYPES, ITEM_KINDS
from .models import (
    AUDIT_FACT_FIELDS,
    RULE_FACT_FIELDS,
    Claim,
    ClaimItem,
    ClaimSource,
    MedType,
    SettlementFile,
    SettlementFileStatus,
    SpecialKind,
)
from .selectors import claim_ids_by_key
from .upload import FileRejected, check_name_and_size, table_rows

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
    "fixmedins_code",
    *AUDIT_FACT_FIELDS,
)
ITEM_COLUMNS = ("item_kind", "item_name", "quantity", "unit_price", "price_limit", "bed_type")
REQUIRED = ("business_key", "id_number", "med_type", "start_date")
#: One of these names where the care was given: the register's code, or the level as a fact.
WHERE = ("fixmedins_code", "hospital_level")
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
    "admission_registered_hours",
    "discharge_drug_days",
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
    "injury",
    "chronic_condition",
)
#: Yes/no facts where an empty cell means "not stated" (the audit check is not made).
BOOLS_OPTIONAL = ("identity_verified", "costs_unrecorded", "bed_hanging")
BOOLS_DEFAULT_TRUE = (
    "external_service_filed",
    "policy_compliant",
    "dates_continuous",
    "same_hospital",
)  # an empty cell keeps the model's default
TRUE_WORDS = ("1", "true", "yes", "y", "是")
FALSE_WORDS = ("0", "false", "no", "n", "否")
DATES = ("start_date", "end_date", "supplementary_renewed_on", "separated_on", "submitted_on", "injury_registered_on")
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
#: A file of this many bytes or more (csv: ~13,000 claims) is parsed in a forked child process while this one
#: checks each parsed batch against the registers and writes it (:func:`_read_forked`); a smaller one in one process.
FORKED_READ_BYTES = 2_000_000
FIXMEDINS_CODE_MAX = Institution._meta.get_field("fixmedins_code").max_length


#: 文件中没有数据行: a header-only (or empty) file is refused as a whole.
NO_ROWS = "文件中没有数据行（只有列名或为空）。"
#: Errors kept on the file's page (their count is always complete).
MAX_ERRORS = 1000
#: Integer columns: the largest value the column holds (PositiveSmallIntegerField).
_INT_MAX = {"PositiveSmallIntegerField": 32767, "PositiveIntegerField": 2147483647}
_UNSET = object()


class RowError(ValueError):
    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


# --- reading: whole-file checks, then rows of text ----------------------------------------------------------


def read_rows(name: str, data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, column → text of its filled cells) of each non-empty data row of a csv or xlsx file; the
    header is row 1.

    Every whole-file check of :mod:`benefits.claims.upload` runs before the first row is given, and the
    header must name the required columns; :class:`FileRejected` otherwise.
    """
    rows = table_rows(name, data)
    header = [_column(h) for h in next(rows, [])]
    missing = [c for c in REQUIRED if c not in header]
    if not any(c in header for c in WHERE):
        missing.append(" 或 ".join(WHERE))
    if missing:
        raise FileRejected(f"首行应为列名，缺少必填列：{', '.join(missing)}。")
    # Only the filled cells (every reader takes a missing column as an empty cell): for a wide file, most of a
    # row. With the header's names unique the row is built at C speed (``compress`` keeps the cells with text).
    unique = len(set(header)) == len(header)
    for number, values in enumerate(rows, start=2):
        if any(v.strip() for v in values):
            if unique:
                cells = dict(compress(zip(header, values, strict=False), values))
                cells.pop("", None)
            else:  # a name given twice: its last cell counts, even an empty one
                cells = {h: v for h, v in zip(header, values, strict=False) if h}
                cells = {h: v for h, v in cells.items() if v}
            yield number, cells


def check_upload(name: str, data: bytes) -> None:
    """The whole-file checks of an upload before it is stored (size, type, encoding, zip size, rows, header,
    at least one data row). Raises :class:`FileRejected`."""
    if next(read_rows(name, data), None) is None:
        raise FileRejected(NO_ROWS)


def _column(header: Any) -> str:
    text = str(header or "").strip()
    return HEADERS_ZH.get(text, text)


# --- one row: typed fields within the columns and the product bounds -------------------------------------


def parse_row(raw: dict[str, str], *, latest: date | None = None) -> dict[str, Any]:
    """Typed claim fields of one row (``RowError`` naming the field otherwise).

    ``latest``: the last date a claim of the file may carry (its 结算日期, or the day of reading if earlier);
    without it only the earliest business date is checked.
    """
    return _parse(raw, latest, dict(_empty_values()), drop_empty=False)


def _parse(raw: dict[str, str], latest: date | None, out: dict[str, Any], *, drop_empty: bool) -> dict[str, Any]:
    """:func:`parse_row` over ``out``, the empty cells' values; with ``drop_empty`` a filled cell typed as
    empty text or ``None`` is left out of ``out`` (see :func:`_kept_empty_values`)."""
    for col in REQUIRED:
        if not (raw.get(col) or "").strip():
            raise RowError(col, "必填")
    if not any((raw.get(col) or "").strip() for col in WHERE):
        raise RowError("hospital_level", "必填（未填定点医药机构编码 fixmedins_code 时）")
    # An empty cell always reads the same (worked out once); only the filled cells are typed, in the columns'
    # order (the first bad one is the error), not every column of every row.
    filled = sorted(
        (_ORDER[col], col, text) for col, text in raw.items() if text and col in _ORDER and not text.isspace()
    )
    for _, col, text in filled:
        value = _cell(col, text.strip(), latest)
        if drop_empty and (value == "" or value is None) and col not in _KEEP_EMPTY:
            out.pop(col, None)
        else:
            out[col] = value
    if out.get("end_date") and out["end_date"] < out["start_date"]:
        raise RowError("end_date", "出院日期早于入院日期")
    if out.get("counted_as_inpatient") and out["med_type"] not in COUNTED_AS_INPATIENT_MED_TYPES:
        raise RowError(
            "counted_as_inpatient", f"按住院结算的门急诊费用只用于医疗类别 11 或 21，本行为 {out['med_type']}"
        )
    return out


_EMPTY: dict[str, Any] = {}
_ORDER = {col: i for i, col in enumerate(COLUMNS)}


def _empty_values() -> dict[str, Any]:
    """What each column reads from an empty cell, where that is a value (not ``_UNSET``: the model's default
    applies), worked out once."""
    if not _EMPTY:
        _EMPTY.update({col: v for col in COLUMNS if (v := _cell(col, "", None)) is not _UNSET})
    return _EMPTY


#: Columns kept in an imported row even when empty (the register is looked up by them).
_KEEP_EMPTY = ("business_key", "id_number")
_KEPT: dict[str, Any] = {}


def _kept_empty_values() -> dict[str, Any]:
    """The empty cells' values an imported row keeps: not empty text or ``None`` (the model's default, the
    same value, applies to those columns), worked out once."""
    if not _KEPT:
        _KEPT.update({k: v for k, v in _empty_values().items() if not (v == "" or v is None) or k in _KEEP_EMPTY})
    return _KEPT


_NUMBER, _BOOL, _DATE, _CODE, _ID, _TEXT = range(6)
#: column → (kind, the longest text it takes): looked up once per column, not per cell
_KINDS: dict[str, tuple[int, int | None]] = {}


def _kind(col: str) -> tuple[int, int | None]:
    kind = _KINDS.get(col)
    if kind is None:
        if col in DECIMALS or col in INTS:
            kind = (_NUMBER, None)
        elif col in BOOLS or col in BOOLS_OPTIONAL:
            kind = (_BOOL, None)
        elif col in DATES:
            kind = (_DATE, None)
        elif col == "fixmedins_code":
            kind = (_CODE, FIXMEDINS_CODE_MAX)
        elif col == "id_number":
            kind = (_ID, InsuredPerson._meta.get_field("id_number").max_length)
        else:
            kind = (_TEXT, Claim._meta.get_field("business_key" if col == "transfer_from" else col).max_length)
        _KINDS[col] = kind
    return kind


def _cell(col: str, value: str, latest: date | None) -> Any:
    """One cell typed by its column; ``_UNSET`` for an empty number or date (the model's default applies)."""
    kind, max_length = _kind(col)
    if kind == _TEXT:
        if value and col in CHOICES and value not in CHOICES[col]:
            raise RowError(col, f"{value!r} 不在可选值 {', '.join(CHOICES[col])} 中")
        return _bounded_text(col, value, max_length)
    if kind == _NUMBER:
        return _number(col, value) if value else _UNSET
    if kind == _BOOL:
        if not value:
            return _UNSET if col in BOOLS_OPTIONAL else col in BOOLS_DEFAULT_TRUE  # an empty cell: the default
        if value.lower() in TRUE_WORDS:
            return True
        if value.lower() in FALSE_WORDS:
            return False
        raise RowError(col, f"应为 是/否（1/0、true/false）：{value!r}")
    if kind == _DATE:
        return _date(col, value, latest) if value else _UNSET
    return _bounded_text(col, normalise_identifier(value), max_length)  # 定点机构编码, 身份证号


def _bounded_text(col: str, value: str, max_length: int | None) -> str:
    """Text within its column's length (the model field's ``max_length``), refused otherwise, never cut."""
    if max_length is not None and len(value) > max_length:
        _within(text_in_bounds, value, field=col, max_length=max_length)
    return value


def _within(check: Any, value: Any, **kwargs: Any) -> Any:
    """Run an :mod:`enrollment.bounds` check, its ``ValidationError`` as a :class:`RowError` of the field."""
    try:
        return check(value, **kwargs)
    except ValidationError as exc:
        field = kwargs["field"]
        raise RowError(field, exc.message_dict[field][0]) from None


def _number(col: str, value: str) -> Decimal | int:
    """An amount (``DECIMALS``: within :data:`MAX_AMOUNT`, at most two decimals) or a count (``INTS``: within
    its column); never negative, never rounded."""
    try:
        number: Decimal | int = int(value) if col in INTS else Decimal(value)
    except (ValueError, InvalidOperation):
        raise RowError(col, f"{'不是整数' if col in INTS else '不是金额'}：{value!r}") from None
    if isinstance(number, Decimal):
        if not number.is_finite():
            raise RowError(col, f"不是金额：{value!r}")
        limit = MAX_MONTHLY_WAGE if col == "employer_average_monthly_wage" else MAX_AMOUNT
        if amount_plainly_in_bounds(number, limit):
            return number  # the usual amount, without the error-raising check's call
        return _within(amount_in_bounds, number, field=col, maximum=limit)
    if number < 0:
        raise RowError(col, "不能为负数")
    top = _int_max(col)
    if number > top:
        raise RowError(col, f"超出范围（不超过 {top}）：{value!r}")
    return number


_INT_TOPS: dict[str, int] = {}


def _int_max(col: str) -> int:
    """The largest value the integer column holds (looked up once per column)."""
    if col not in _INT_TOPS:
        _INT_TOPS[col] = _INT_MAX[Claim._meta.get_field(col).get_internal_type()]
    return _INT_TOPS[col]


def _date(col: str, value: str, latest: date | None) -> date:
    """A date (YYYY-MM-DD) from the earliest business date to ``latest``: a claim dated after the file's
    结算日期 or in the future is refused."""
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise RowError(col, f"日期格式应为 YYYY-MM-DD：{value!r}") from None
    _within(date_in_bounds, day, field=col, latest=latest or date.max)
    return day


def parse_item(raw: dict[str, str]) -> dict[str, Any]:
    """Typed fields of one item line (``RowError`` naming the field otherwise)."""
    kind = (raw.get("item_kind") or "").strip()
    if kind not in ITEM_KINDS:
        raise RowError("item_kind", f"{kind!r} 不在可选值 {', '.join(ITEM_KINDS)} 中")
    name = (raw.get("item_name") or "").strip()
    out: dict[str, Any] = {
        "kind": kind,
        "name": _bounded_text("item_name", name, ClaimItem._meta.get_field("name").max_length),
    }
    for col, required in (("quantity", False), ("unit_price", True), ("price_limit", False)):
        value = (raw.get(col) or "").strip()
        if not value:
            if required:
                raise RowError(col, "必填")
            out[col] = Decimal(1) if col == "quantity" else None
            continue
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise RowError(col, f"不是数字：{value!r}") from None
        if number.is_finite() and number < 0:
            raise RowError(col, "不能为负数")
        # 数量 is no amount, but its column holds two decimals as well: the same bounds apply
        out[col] = _within(amount_in_bounds, number, field=col, maximum=_column_max(ClaimItem, col))
    bed = (raw.get("bed_type") or "").strip()
    if kind == "bed_fee":
        bed = bed or "general"
        if bed not in BED_TYPES:
            raise RowError("bed_type", f"{bed!r} 不在可选值 {', '.join(BED_TYPES)} 中")
    out["bed_type"] = bed
    return out


def _column_max(model: Any, col: str) -> Decimal:
    """The smaller of :data:`MAX_AMOUNT` and the largest value the decimal column holds."""
    field = model._meta.get_field(col)
    return min(MAX_AMOUNT, Decimal(10) ** (field.max_digits - field.decimal_places) - Decimal("0.01"))


def items_medfee(items: list[dict[str, Any]]) -> Decimal:
    """医疗费总额 of item lines: Σ quantity × unit price, to the fen (as :func:`items_total`)."""

    return money(sum((i["quantity"] * i["unit_price"] for i in items), Decimal(0)))


# --- the file: named steps over one reading context ---------------------------------------------------------


@dataclass
class _Pending:
    """A claim row being read: its row number and key, typed fields (``None``: an error, or read before),
    its item lines and the row numbers of bad item lines."""

    number: int
    key: str
    row: dict[str, Any] | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    bad_items: list[int] = field(default_factory=list)


@dataclass
class _Reading:
    """读入上下文: the file, the last date its claims may carry, and what has been read so far."""

    sfile: SettlementFile
    latest: date
    existing: set[int]
    errors: list[dict[str, Any]] = field(default_factory=list)
    batch: list[_Pending] = field(default_factory=list)
    current: _Pending | None = None
    total: int = 0
    imported: int = 0
    #: what a full batch goes to: :func:`_flush` (checked and written), or the pipe of :func:`_read_forked`
    flush: Callable[[_Reading], None] | None = None

    def error(self, row: int, field: str, message: str) -> None:
        self.errors.append({"row": row, "field": field, "message": message})


def settlement_file_import(sfile: SettlementFile, *, today: date) -> dict[str, int]:
    """Read the file into draft claims (in batches), all or nothing: with any row or file error nothing is
    written and every error is listed (row and field, or the file). Idempotent (rows read before are skipped).

    ``today``: the day of reading; claims dated after it or after the file's 结算日期 are refused.
    """
    reading = _Reading(
        sfile,
        latest=min(sfile.as_of, today),
        existing=set(Claim.objects.filter(settlement_file=sfile).values_list("row_number", flat=True)),
    )
    try:
        with transaction.atomic(), gc_paused():
            name, data = sfile.original_name or sfile.file.name, _file_bytes(sfile)
            if len(data) >= FORKED_READ_BYTES and can_fork():
                _read_forked(reading, name, data)
            else:
                _parse_file(reading, name, data)
            _flush(reading)
            if not reading.total:
                raise FileRejected(NO_ROWS)
            if reading.errors:
                transaction.set_rollback(True)  # all or nothing: the batches written before an error go too
    except FileRejected as exc:
        reading.errors = [{"row": 0, "field": "file", "message": str(exc)}]
    return _record(reading)


def _file_bytes(sfile: SettlementFile) -> bytes:
    """The stored upload, its name and size checked before it is read."""
    try:
        check_name_and_size(sfile.original_name or sfile.file.name, sfile.file.size)
        sfile.file.open("rb")
        try:
            return sfile.file.read()
        finally:
            sfile.file.close()
    except (OSError, ValueError) as exc:
        if isinstance(exc, FileRejected):
            raise
        raise FileRejected(f"无法读取已上传的文件：{type(exc).__name__}") from None


def _parse_file(reading: _Reading, name: str, data: bytes) -> None:
    """Every row of the file read in order (full batches go to ``reading.flush``), then its last claim closed."""
    for number, raw in read_rows(name, data):
        _read_line(reading, number, raw)
    _close_claim(reading)


def _read_forked(reading: _Reading, name: str, data: bytes) -> None:
    """:func:`_parse_file` in a forked child process (:func:`batch.forked.forked`), with this process checking
    and writing each batch as the child sends it: the child's ``flush`` sends the batch with the row errors
    found since the last one, and here they are added and the batch flushed, so that the batches, the database
    each is checked against (a transfer's earlier stay written first) and the errors' order are those of one
    process. The child's last message carries the rest and the count of rows. Parsing a 100,000-claim file
    (~4 s of its ~7 s) then runs beside the checks and writes on the other core (issue #13)."""

    def produce(send: Callable[[tuple], None]) -> None:
        def flush(child: _Reading) -> None:
            send((child.errors[:], child.batch[:], None))
            child.errors.clear()
            child.batch.clear()

        reading.flush = flush
        _parse_file(reading, name, data)
        send((reading.errors, reading.batch, reading.total))

    with closing(forked(produce)) as parsed:
        for errors, batch, total in parsed:
            reading.errors.extend(errors)
            reading.batch = batch
            _flush(reading)
            if total is not None:
                reading.total = total


def _read_line(reading: _Reading, number: int, raw: dict[str, str]) -> None:
    """A claim row closes the claim before it and opens its own; an item line joins the open claim."""
    reading.total += 1
    if (raw.get("item_kind") or "").strip():
        _read_item(reading, number, raw)
        return
    _close_claim(reading)
    _open_claim(reading, number, raw)


def _read_item(reading: _Reading, number: int, raw: dict[str, str]) -> None:
    key = (raw.get("business_key") or "").strip()
    current = reading.current
    if current is None or key != current.key:
        reading.error(number, "business_key", "费用明细行须紧随其报销申请行，且业务流水号相同")
        return
    if current.row is None:
        return  # the claim row itself has an error or was imported before
    try:
        current.items.append(parse_item(raw))
    except RowError as exc:
        reading.error(number, exc.field, str(exc))
        current.bad_items.append(number)


def _open_claim(reading: _Reading, number: int, raw: dict[str, str]) -> None:
    reading.current = pending = _Pending(number, (raw.get("business_key") or "").strip())
    if number in reading.existing:
        return
    try:  # parse_row's values without the empty ones (the model's defaults), not filtered per row
        pending.row = _parse(raw, reading.latest, dict(_kept_empty_values()), drop_empty=True)
    except RowError as exc:
        reading.error(number, exc.field, str(exc))


def _close_claim(reading: _Reading) -> None:
    """The claim row and its item lines are complete: queue the claim (or record why not)."""
    pending, reading.current = reading.current, None
    if pending is None or pending.row is None:
        return
    problem = _claim_amounts(pending)
    if problem:
        reading.error(pending.number, *problem)
        return
    flush = reading.flush or _flush
    if pending.row.get("transfer_from"):
        flush(reading)  # the stay it continues may be in a row just read
    reading.batch.append(pending)
    if len(reading.batch) >= BATCH:
        flush(reading)


def _claim_amounts(pending: _Pending) -> tuple[str, str] | None:
    """The claim's amounts from its item lines (医疗费总额 given on the row must equal their total), or the
    row's own; (field, message) of what is wrong otherwise."""
    row = pending.row
    assert row is not None
    if pending.bad_items:
        return "item_kind", f"费用明细第 {', '.join(map(str, pending.bad_items))} 行有错误，整笔未读入"
    if pending.items:
        medfee = items_medfee(pending.items)
        if "medfee_sumamt" in row and row["medfee_sumamt"] != medfee:
            return "medfee_sumamt", f"医疗费总额 {row['medfee_sumamt']} 与明细合计 {medfee} 不符"
        if medfee > MAX_AMOUNT:
            return "medfee_sumamt", f"明细合计 {medfee} 超出合理范围（不超过 {MAX_AMOUNT:,}）。"
        row.setdefault("medfee_sumamt", medfee)
        row.setdefault("inscp_scp_amt", Decimal(0))  # computed from the lines at adjudication
        return None
    missing = [c for c in AMOUNTS if c not in row]
    return (missing[0], "必填（无费用明细时）") if missing else None


def _flush(reading: _Reading) -> None:
    """Check the queued claims against the register, write those that pass."""
    if not reading.batch:
        return
    ready = _resolve(reading)
    reading.imported += _write(reading.sfile, ready)
    reading.batch.clear()


def _resolve(reading: _Reading) -> list[tuple[_Pending, int, int | None]]:
    """Each queued claim's person (insured in the file's jurisdiction), the claim its stay continues, and a
    business key not used before: one query each for the batch; errors by row and field."""
    rows = [p.row for p in reading.batch if p.row is not None]
    persons = dict(
        InsuredPerson.objects.filter(id_number__in={r["id_number"] for r in rows}).values_list("id_number", "pk")
    )
    insured_here = set(
        EnrolmentSpan.objects.filter(
            person_id__in=persons.values(), jurisdiction_id=reading.sfile.jurisdiction_id
        ).values_list("person_id", flat=True)
    )
    earlier = claim_ids_by_key(r["transfer_from"] for r in rows if r.get("transfer_from"))
    dupes = set(claim_ids_by_key(r["business_key"] for r in rows))
    institutions = ids_by_code(r["fixmedins_code"] for r in rows if r.get("fixmedins_code"))
    ready = []
    for pending in reading.batch:
        row = pending.row
        assert row is not None
        pid = persons.get(row["id_number"])
        problem = _register_problem(row, pid, insured_here, earlier, dupes)
        code = row.get("fixmedins_code")
        if not problem and code:
            row["institution_id"] = institutions.get(code)
            if row["institution_id"] is None:
                problem = ("fixmedins_code", f"查无此定点医药机构编码 {code}（两定机构登记）")
        if problem:
            reading.error(pending.number, *problem)
            continue
        dupes.add(row["business_key"])
        ready.append((pending, pid, earlier.get(row.get("transfer_from", ""))))
    return ready


def _register_problem(
    row: dict[str, Any], pid: int | None, insured_here: set[int], earlier: dict[str, int], dupes: set[str]
) -> tuple[str, str] | None:
    """Why the register refuses the row: an unknown person, a person not insured in this jurisdiction, a
    business key used before, a transfer whose earlier claim is unknown."""
    if pid is None:
        try:
            parse_id_number(row["id_number"])
        except ValidationError as exc:
            return "id_number", exc.messages[0]
        return "id_number", "查无此参保人员"
    if pid not in insured_here:
        return "id_number", "该参保人员在此统筹区没有参保关系"
    if row["business_key"] in dupes:
        return "business_key", "业务流水号重复"
    transfer = row.get("transfer_from", "")
    if transfer and transfer not in earlier:
        return "transfer_from", "转院前的申请不存在（须在此前的行或已有申请中）"
    return None


def _write(sfile: SettlementFile, ready: list[tuple[_Pending, int, int | None]]) -> int:
    """The claims (one insert) and their item lines (one insert), straight from the rows read: no model
    instance per claim (:func:`batch.bulk.insert_dicts`; the columns not in a row take their defaults)."""
    common = {
        "jurisdiction_id": sfile.jurisdiction_id,
        "source": ClaimSource.SETTLEMENT_FILE,
        "settlement_file_id": sfile.pk,
        "created_by_id": sfile.uploaded_by_id,
    }
    rows = []
    for pending, pid, transfer_id in ready:
        if pending.row is None:
            continue
        row = dict(pending.row)
        for key in ("id_number", "transfer_from", "fixmedins_code"):
            row.pop(key, None)
        row.update(common)
        row["person_id"], row["transfer_from_id"], row["row_number"] = pid, transfer_id, pending.number
        rows.append(row)
    insert_dicts(Claim, rows)
    with_items = [(row, pending.items) for row, (pending, _, _) in zip(rows, ready, strict=True) if pending.items]
    if with_items:
        pks = claim_ids_by_key(r["business_key"] for r, _ in with_items)
        lines = [{**item, "claim_id": pks[row["business_key"]]} for row, items in with_items for item in items]
        insert_dicts(ClaimItem, lines)
    return len(rows)


def _record(reading: _Reading) -> dict[str, int]:
    """The file's counts and errors (kept whether or not anything was written)."""
    sfile = reading.sfile
    imported = 0 if reading.errors else reading.imported
    sfile.total_rows = reading.total
    sfile.imported_rows = len(reading.existing) + imported
    sfile.error_rows = len(reading.errors)
    sfile.errors = reading.errors[:MAX_ERRORS]
    sfile.save(update_fields=["total_rows", "imported_rows", "error_rows", "errors"])
    return {"rows": reading.total, "imported": imported, "errors": len(reading.errors)}


def settlement_file_discard(sfile: SettlementFile) -> None:
    """A file not read (any error: nothing of it was written): marked failed and its stored upload deleted,
    so a refused upload leaves no file behind in MEDIA_ROOT."""
    if sfile.file:
        sfile.file.delete(save=False)
    SettlementFile.objects.filter(pk=sfile.pk).update(
        status=SettlementFileStatus.FAILED, file="", finished_at=timezone.now()
    )


def analyze_claims() -> None:
    """Refresh the planner's statistics after a big import (PostgreSQL), so chunks read by index."""
    if is_postgres():
        with connection.cursor() as cur:
            # the columns the bulk run's queries select by (the jsonb steps are the costly ones to sample)
            cur.execute(
                f"ANALYZE {Claim._meta.db_table} (id, settlement_file_id, status, person_id, business_key), "
                f"{ClaimItem._meta.db_table}"
            )
