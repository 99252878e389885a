"""Writes of the registers, in transactions: filings (record, change, cancel) and certifications
(apply → assess → approve, end, carry-over from resident insurance).

Every refusal is a ``ValidationError`` naming the field and the article (:class:`RegisterRefusal`); a rule
the document does not give raises ``PolicyMissing`` naming the key. Nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction

from enrollment.bounds import amount_in_bounds, text_in_bounds
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyMissing

from .calculations import rules
from .calculations.rules import FilingFact, RegisterRefusal
from .models import CertificationStatus, ChronicCertification, FilingKind, FilingStatus, OutOfAreaFiling

T = TypeVar("T")


def _refusals(fn: Callable[[], T]) -> T:
    """Run ``fn`` turning a rule's refusal into a field error (the form shows it on the row and field)."""
    try:
        return fn()
    except RegisterRefusal as exc:
        raise ValidationError({exc.field: str(exc)}) from exc


def _jurisdiction(jurisdiction: Jurisdiction | str) -> Jurisdiction:
    return jurisdiction if isinstance(jurisdiction, Jurisdiction) else Jurisdiction.objects.get(code=jurisdiction)


def _fact(f: OutOfAreaFiling) -> FilingFact:
    return FilingFact(f.kind, f.start, f.end, f.filed_on, f.status == FilingStatus.ACTIVE, f.place)


# --- 异地就医备案 ------------------------------------------------------------------------------------


def filing_record(
    *,
    person,
    jurisdiction: Jurisdiction | str,
    kind: str,
    place: str,
    filed_on: date,
    start: date,
    end: date | None = None,
    note: str = "",
    user=None,
) -> OutOfAreaFiling:
    """备案 (or, for a long-term filing while another is in force, 变更就医地).

    The kind must be one the document provides; a temporary filing's end follows its validity (langfang
    第六十七条); a start before the application is a retro-filing (langfang 第六十七条); a change of a
    long-term filing within the lock is refused (sanmenxia 第五十五条, langfang 第六十九条) — the earlier
    filing then ends the day the new one starts (状态 已变更).
    """
    if kind not in FilingKind.values:
        raise ValidationError({"kind": f"备案类别须为 {'、'.join(FilingKind.labels)} 之一"})
    place = text_in_bounds((place or "").strip(), field="place", max_length=100)
    note = text_in_bounds((note or "").strip(), field="note", max_length=200)
    if not place:
        raise ValidationError({"place": "请填写就医地"})
    if end is not None and end <= start:
        raise ValidationError({"end": "结束日期须晚于开始日期"})
    jur = _jurisdiction(jurisdiction)
    policy = Policy(jur.code, start)

    def checked() -> tuple[str, date | None, OutOfAreaFiling | None]:
        cite = rules.check_kind(policy, kind)
        last = rules.filing_end(policy, kind, start, end)
        retro = rules.check_retro(policy, filed_on=filed_on, start=start)
        current = None
        if kind == FilingKind.LONG_TERM:
            current = (
                OutOfAreaFiling.objects.select_for_update()
                .filter(person=person, jurisdiction=jur, kind=FilingKind.LONG_TERM, status=FilingStatus.ACTIVE)
                .order_by("-start")
                .first()
            )
            if current is not None:
                if current.start >= start:
                    raise RegisterRefusal(f"已有 {current.start} 起的异地长期居住备案：变更的开始日期须晚于它", "start")
                lock = rules.check_long_term_lock(policy, _fact(current), action="change", on=start)
                cite = f"{cite}；{lock}" if lock else cite
        return "；".join(x for x in (cite, retro) if x), last, current

    with transaction.atomic():
        cite, last, current = _refusals(checked)
        if current is not None:
            current.end = start if current.end is None or current.end > start else current.end
            current.status = FilingStatus.REPLACED
            current.save(update_fields=["end", "status"])
        return OutOfAreaFiling.objects.create(
            person=person,
            jurisdiction=jur,
            kind=kind,
            place=place,
            filed_on=filed_on,
            start=start,
            end=last,
            replaces=current,
            citation=cite[:255],
            note=note,
            created_by=user if getattr(user, "pk", None) else None,
        )


def filing_cancel(filing: OutOfAreaFiling, *, on: date, user=None) -> OutOfAreaFiling:
    """注销: the filing ends on ``on`` (returning home, langfang 第六十九条); a long-term filing within the
    lock is refused where the lock covers cancellation (sanmenxia 第五十五条 "一年内不能变更或终止")."""
    with transaction.atomic():
        filing = OutOfAreaFiling.objects.select_for_update().get(pk=filing.pk)
        if filing.status != FilingStatus.ACTIVE:
            raise ValidationError(f"备案状态为“{filing.get_status_display()}”，只有有效的备案可以注销")
        if on <= filing.start or (filing.end is not None and on >= filing.end):
            raise ValidationError(
                {"cancelled_on": f"注销日期须在备案开始之后、有效期内（{filing.start} 至 {filing.end or '长期'}）"}
            )
        policy = Policy(filing.jurisdiction.code, on)
        cite = _refusals(lambda: rules.check_long_term_lock(policy, _fact(filing), action="cancel", on=on))
        filing.status = FilingStatus.CANCELLED
        filing.cancelled_on = on
        filing.end = on  # in force until the day before the cancellation
        if cite:
            filing.citation = f"{filing.citation}；注销 {cite}"[:255]
        filing.save(update_fields=["status", "cancelled_on", "end", "citation"])
        return filing


# --- 门诊慢特病认定 -------------------------------------------------------------------------------------


def certification_apply(
    *,
    person,
    jurisdiction: Jurisdiction | str,
    disease_code: str,
    applied_on: date,
    disease_class: int | None = None,
    note: str = "",
    user=None,
) -> ChronicCertification:
    """申请: the disease must be in the jurisdiction's catalogue (staff-entered policy data) and its class one
    the document gives (ziyang 第十七条 1–3)."""
    jur = _jurisdiction(jurisdiction)
    policy = Policy(jur.code, applied_on)
    disease_code = text_in_bounds((disease_code or "").strip(), field="disease_code", max_length=32)
    note = text_in_bounds((note or "").strip(), field="note", max_length=200)

    def checked() -> tuple[dict, int | None]:
        entry = rules.catalogue_entry(policy, disease_code)
        cls = entry.get("class", disease_class)
        cls = None if cls in (None, "") else int(cls)
        rules.check_class(policy, cls)
        return entry, cls

    with transaction.atomic():
        entry, cls = _refusals(checked)
        return ChronicCertification.objects.create(
            person=person,
            jurisdiction=jur,
            disease_code=str(entry["code"]),
            disease_name=str(entry.get("name") or entry["code"])[:100],
            disease_class=cls,
            applied_on=applied_on,
            citation=policy.citation("registers.chronic_disease_catalogue")[:255],
            note=note,
            created_by=user if getattr(user, "pk", None) else None,
        )


def certification_assess(
    cert: ChronicCertification, *, on: date, passed: bool, opinion: str = ""
) -> ChronicCertification:
    """鉴定: an applied certification is assessed (passed → 已鉴定, else 鉴定未通过)."""
    with transaction.atomic():
        cert = ChronicCertification.objects.select_for_update().get(pk=cert.pk)
        if cert.status != CertificationStatus.APPLIED:
            raise ValidationError(f"状态为“{cert.get_status_display()}”，只有已申请的认定可以鉴定")
        if on < cert.applied_on:
            raise ValidationError({"assessed_on": "鉴定日期不得早于申请日期"})
        cert.assessed_on = on
        cert.assessment = opinion.strip()[:200]
        cert.status = CertificationStatus.ASSESSED if passed else CertificationStatus.REFUSED
        cert.save(update_fields=["assessed_on", "assessment", "status"])
        return cert


def certification_approve(
    cert: ChronicCertification, *, on: date, valid_from: date, valid_until: date | None, institution_code: str
) -> ChronicCertification:
    """核准: an assessed certification is approved with its validity period and designated institution
    (sanmenxia 第十四条 定点医疗)."""
    with transaction.atomic():
        cert = ChronicCertification.objects.select_for_update().get(pk=cert.pk)
        if cert.status != CertificationStatus.ASSESSED:
            raise ValidationError(f"状态为“{cert.get_status_display()}”，只有鉴定通过的认定可以核准")
        if cert.assessed_on is not None and on < cert.assessed_on:
            raise ValidationError({"approved_on": "核准日期不得早于鉴定日期"})
        if valid_until is not None and valid_until <= valid_from:
            raise ValidationError({"valid_until": "有效期结束须晚于有效期开始"})
        if not institution_code.strip():
            raise ValidationError({"institution_code": "请填写定点医疗机构编码"})
        cert.approved_on = on
        cert.valid_from = valid_from
        cert.valid_until = valid_until
        cert.institution_code = institution_code.strip()
        cert.status = CertificationStatus.APPROVED
        cert.save(update_fields=["approved_on", "valid_from", "valid_until", "institution_code", "status"])
        return cert


def certification_end(cert: ChronicCertification, *, on: date) -> ChronicCertification:
    """终止: an approved certification stops being valid from ``on``."""
    with transaction.atomic():
        cert = ChronicCertification.objects.select_for_update().get(pk=cert.pk)
        if cert.status != CertificationStatus.APPROVED or cert.valid_from is None:
            raise ValidationError("只有已核准的认定可以终止")
        if on <= cert.valid_from:
            raise ValidationError({"valid_until": "终止日期须晚于有效期开始"})
        if cert.valid_until is None or on < cert.valid_until:
            cert.valid_until = on
        cert.status = CertificationStatus.ENDED
        cert.save(update_fields=["valid_until", "status"])
        return cert


def certification_carry_over(
    *,
    person,
    jurisdiction: Jurisdiction | str,
    disease_code: str,
    approved_on: date,
    valid_from: date,
    valid_until: date | None,
    institution_code: str,
    paid_amount: Decimal,
    paid_year: int,
    disease_class: int | None = None,
    user=None,
) -> ChronicCertification:
    """由居民医保变更为职工医保: the approval carries over without a new application or assessment, and the
    amount already paid in resident insurance in ``paid_year`` counts against the year's cap (hunan 第六十一条,
    ``registers.chronic_carry_over_on_switch``; elsewhere the key is missing and the carry-over stops)."""
    jur = _jurisdiction(jurisdiction)
    policy = Policy(jur.code, valid_from)
    key = "registers.chronic_carry_over_on_switch"
    if not policy.value(key):
        raise PolicyMissing(jur.code, key, valid_from, label="居民医保转职工医保时门诊慢特病认定的承接")
    amount = amount_in_bounds(Decimal(paid_amount), field="carried_over_paid")
    if not (1900 <= int(paid_year) <= 2100):
        raise ValidationError({"carried_over_year": "年度须为四位数年份"})
    with transaction.atomic():
        cert = certification_apply(
            person=person,
            jurisdiction=jur,
            disease_code=disease_code,
            applied_on=approved_on,
            disease_class=disease_class,
            user=user,
        )
        cert.status = CertificationStatus.ASSESSED
        cert.assessed_on = approved_on
        cert.assessment = "居民医保期内已认定，不需重复申请、认定"
        cert.save(update_fields=["status", "assessed_on", "assessment"])
        cert = certification_approve(
            cert, on=approved_on, valid_from=valid_from, valid_until=valid_until, institution_code=institution_code
        )
        cert.carried_over = True
        cert.carried_over_year = int(paid_year)
        cert.carried_over_paid = amount
        cert.citation = policy.citation(key)[:255]
        cert.save(update_fields=["carried_over", "carried_over_year", "carried_over_paid", "citation"])
        return cert
