"""机构接口结算 (issue #16 item 3): a 定点医药机构 submits one settlement in the national platform's field names
(国家医保信息平台 2303: ``mdtrt_id``, ``setl_id``, ``psn_no``, ``medfee_sumamt``, ``inscp_scp_amt`` …); it becomes
a claim through the SAME typed reading as a settlement file row (:func:`benefits.claims.imports.parse_row`) and
is adjudicated by the SAME service as on the screens (:func:`benefits.claims.services.claim_adjudicate` →
:func:`benefits.claims.adjudication.decide`: accumulators and the ledger posting in one transaction). 冲正 goes
through :func:`benefits.claims.services.claim_reverse` (the ledger entry reversed, the accumulators taken back).

Idempotent by business key (机构, ``setl_id``): the same body again answers the claim it became; a different body
under the same key raises :class:`SettlementConflict`. A reversal repeated with the same reason answers the
reversed claim; with another reason it is a conflict.

人员编号 ``psn_no``: this system numbers persons by their 公民身份号码, so ``psn_no`` carries it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from benefits.institutions.models import Institution
from enrollment.bounds import MAX_REASON_LENGTH, text_in_bounds
from enrollment.models import EnrolmentSpan, InsuredPerson

from .imports import COLUMNS, RowError, parse_row
from .models import ApiSettlement, Claim, ClaimSource, ClaimStatus
from .services import ClaimError, claim_adjudicate, claim_reverse

#: National name → the claim's (and the settlement file's) column.
NATIONAL_IN = {
    "psn_no": "id_number",
    "med_type": "med_type",
    "begndate": "start_date",
    "enddate": "end_date",
    "medfee_sumamt": "medfee_sumamt",
    "inscp_scp_amt": "inscp_scp_amt",
    "fulamt_ownpay_amt": "fulamt_ownpay",
    "preselfpay_amt": "preselfpay",
    "acct_pay_requested": "acct_pay_requested",
}
COLUMN_TO_NATIONAL = {column: national for national, column in NATIONAL_IN.items()}
#: Further facts the rules read, under the settlement file's column names (``extra``); the ones the register or
#: the submission itself sets are not taken from the body.
NOT_EXTRA = {"business_key", "id_number", "fixmedins_code", "hospital_level", "hospital_name", "transfer_from"}
EXTRA_COLUMNS = tuple(c for c in COLUMNS if c not in NOT_EXTRA and c not in COLUMN_TO_NATIONAL)


class SettlementConflict(Exception):
    """The business key is taken by a different body, or the claim is not in a state for the request."""


def body_digest(body: dict[str, Any]) -> str:
    """SHA-256 of the body as canonical JSON (keys sorted, values as text): equal bodies, equal digests."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def claim_business_key(institution: Institution, setl_id: str) -> str:
    """业务流水号 of a claim submitted by API: 机构编码:结算ID (unique as the pair is)."""
    return f"{institution.fixmedins_code}:{setl_id}"


def settlement_row(institution: Institution, body: dict[str, Any], *, today: date) -> dict[str, Any]:
    """The claim's typed fields from the national names (``ValidationError`` keyed by the national name)."""
    raw = {column: str(body.get(national) or "") for national, column in NATIONAL_IN.items()}
    for column, value in (body.get("extra") or {}).items():
        raw[column] = str(value if value is not None else "")
    raw.update(
        business_key=claim_business_key(institution, body["setl_id"]),
        fixmedins_code=institution.fixmedins_code,
    )
    try:
        row = parse_row(raw, latest=today)
    except RowError as exc:
        name = COLUMN_TO_NATIONAL.get(exc.field, exc.field if exc.field not in EXTRA_COLUMNS else f"extra.{exc.field}")
        raise ValidationError({name: str(exc)}) from None
    return row


def _person(institution: Institution, id_number: str) -> InsuredPerson:
    person = InsuredPerson.objects.filter(id_number=id_number).first()
    if person is None:
        raise ValidationError({"psn_no": "查无此参保人员"})
    if not EnrolmentSpan.objects.filter(person=person, jurisdiction_id=institution.jurisdiction_id).exists():
        raise ValidationError({"psn_no": "该参保人员在本机构所在统筹区没有参保关系"})
    return person


def settlement_submit(
    *, institution: Institution, body: dict[str, Any], today: date, user=None
) -> tuple[ApiSettlement, bool]:
    """Record and adjudicate one settlement; (record, created). A repeat of the same body: (the record, False).

    Raises ``ValidationError`` (by national field name; nothing written) or :class:`SettlementConflict`.
    A claim the rules cannot settle yet (a value the documents leave to staff) stays 待审核 with its reason.
    """
    digest = body_digest(body)
    existing = ApiSettlement.objects.filter(institution=institution, setl_id=body["setl_id"]).first()
    if existing is not None:
        return _repeat(existing, digest), False
    row = settlement_row(institution, body, today=today)
    person = _person(institution, row["id_number"])
    if Claim.objects.filter(business_key=row["business_key"]).exists():
        raise ValidationError({"setl_id": f"业务流水号 {row['business_key']} 已被其他方式登记的报销使用"})
    fields = {k: v for k, v in row.items() if k not in NOT_EXTRA and v not in ("", None)}
    fields["business_key"] = row["business_key"]
    try:
        with transaction.atomic():
            claim = Claim.objects.create(
                **fields,
                person=person,
                jurisdiction_id=institution.jurisdiction_id,
                institution=institution,
                hospital_name=institution.name,
                source=ClaimSource.API,
                created_by=user if getattr(user, "is_authenticated", False) else None,
            )
            record = ApiSettlement.objects.create(
                institution=institution,
                setl_id=body["setl_id"],
                mdtrt_id=body["mdtrt_id"],
                claim=claim,
                digest=digest,
                body=json.loads(json.dumps(body, default=str)),
                submitted_by=user if getattr(user, "is_authenticated", False) else None,
            )
    except IntegrityError:
        # submitted concurrently under the same key: answer as a repeat
        existing = ApiSettlement.objects.filter(institution=institution, setl_id=body["setl_id"]).first()
        if existing is None:
            raise
        return _repeat(existing, digest), False
    try:
        claim_adjudicate(claim, as_of=today, user=user)
    except ClaimError:
        pass  # left 待审核 with ``error`` naming what is missing; the answer shows it
    record.refresh_from_db()
    return record, True


def _repeat(existing: ApiSettlement, digest: str) -> ApiSettlement:
    if existing.digest != digest:
        raise SettlementConflict(f"结算ID {existing.setl_id} 已提交，报文内容不同；如需更正请先冲正。")
    return existing


def settlement_reverse(record: ApiSettlement, *, reason: str, on: date, user=None) -> tuple[ApiSettlement, bool]:
    """冲正 a settled claim submitted by API, in one transaction (ledger entry reversed, accumulators taken back);
    (record, changed). The same reversal again: (record, False); another reason: :class:`SettlementConflict`."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "冲正须说明原因"})
    text_in_bounds(reason, field="reason", max_length=MAX_REASON_LENGTH)
    with transaction.atomic():
        record = ApiSettlement.objects.select_for_update().select_related("claim").get(pk=record.pk)
        claim = record.claim
        if claim.status == ClaimStatus.REVERSED:
            if record.reversal_reason == reason:
                return record, False
            raise SettlementConflict(
                f"结算ID {record.setl_id} 已冲正（原因：{record.reversal_reason}），不能以其他原因再冲正。"
            )
        if claim.status not in (ClaimStatus.ADJUDICATED, ClaimStatus.PAID):
            raise SettlementConflict(
                f"结算ID {record.setl_id} 状态为“{claim.get_status_display()}”，只有已结算或已支付的可以冲正。"
            )
        try:
            claim_reverse(claim, reason, on=on, user=user)
        except ClaimError as exc:
            raise SettlementConflict(str(exc)) from None
        record.reversal_reason = reason
        record.save(update_fields=["reversal_reason"])
        record.claim.refresh_from_db()
    return record, True
