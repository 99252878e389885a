"""Writes of the register: the checks every way in shares (admin forms, the file import), in transactions.

- :func:`agreement_check` — an agreement's period and deposit against the policy of the institution's
  pooling area on its start: with no end date the end follows ``institutions.agreement_term_months`` where a
  seed sets one (sanmenxia 第五十二条: 一般为1年); a 服务质量保证金 only where a seed sets one and at most its
  ``institutions.quality_deposit_max_pct`` (hunan 第六十六条: 不超过10%).
- :func:`rating_check` — a rating's period, and a pharmacy's level only for a pharmacy.
- :func:`register_row` — one row of the register file: the institution, its rating from a date, and its
  agreement, each checked, written together.

Errors are :class:`~django.core.exceptions.ValidationError` keyed by field (row-and-field messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from batch.dates import months_later
from policy.resolver import Policy

from .models import Agreement, AgreementStatus, Institution, InstitutionKind, InstitutionRating

PHARMACY_KINDS = (InstitutionKind.PHARMACY, InstitutionKind.DUAL_CHANNEL)


def agreement_check(
    jurisdiction_code: str,
    *,
    start: date,
    end: date | None,
    status: str,
    status_since: date | None,
    suspended_until: date | None,
    deposit_pct: Decimal | None,
) -> date | None:
    """The agreement's end (given, or from the policy's term); ``ValidationError`` by field otherwise."""
    policy = Policy(jurisdiction_code, start)
    errors: dict[str, str] = {}
    if end is None:
        term = policy.value("institutions.agreement_term_months", default=None)
        if term:
            end = months_later(start, int(term))
    if end is not None and end <= start:
        errors["end"] = "协议截止日须晚于起始日"
    if status != AgreementStatus.SIGNED and status_since is None:
        errors["status_since"] = "协议中止或解除的，须填写生效日"
    if status_since is not None and (status_since < start or (end is not None and status_since > end)):
        errors["status_since"] = "中止/解除生效日须在协议期间内"
    if suspended_until is not None:
        if status != AgreementStatus.SUSPENDED:
            errors["suspended_until"] = "只有中止的协议填写中止截止日"
        elif status_since is not None and suspended_until <= status_since:
            errors["suspended_until"] = "中止截止日须晚于中止生效日"
    if deposit_pct is not None:
        cap = policy.value("institutions.quality_deposit_max_pct", default=None)
        where = policy.citation("institutions.quality_deposit_max_pct") or jurisdiction_code
        if cap is None:
            errors["deposit_pct"] = f"本统筹区文件未设服务质量保证金（{where}），预留比例须留空"
        elif not Decimal(0) <= deposit_pct <= Decimal(cap):
            errors["deposit_pct"] = f"服务质量保证金预留比例须在 0–{cap}% 之间（{where}）"
    if errors:
        raise ValidationError(errors)
    return end


def rating_check(kind: str, *, hospital_level: str, valid_from: date, valid_until: date | None) -> None:
    """A pharmacy is rated ``pharmacy`` and nothing else is; the period is ordered."""
    errors: dict[str, str] = {}
    if (kind in PHARMACY_KINDS) != (hospital_level == "pharmacy"):
        errors["hospital_level"] = "定点零售药店（含双通道药店）的等级为“定点零售药店”，医疗机构不能选此等级"
    if valid_until is not None and valid_until <= valid_from:
        errors["valid_until"] = "截止日须晚于起始日"
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True)
class RegisterRow:
    """One row of the register file, typed (the institution's own fields are on the model instance)."""

    hospital_level: str = ""
    tcm: bool = False
    tier: str = ""
    area: str = "pooling_area"
    rated_from: date | None = None
    agreement_number: str = ""
    agreement_start: date | None = None
    agreement_end: date | None = None
    agreement_status: str = AgreementStatus.SIGNED
    agreement_status_since: date | None = None
    deposit_pct: Decimal | None = None


def register_row_check(institution: Institution, row: RegisterRow) -> date | None:
    """Check a register row before anything is written: ``ValidationError`` by field; the agreement's end."""
    errors: dict[str, list[str]] = {}
    if row.hospital_level:
        if row.rated_from is None:
            errors["rated_from"] = ["填写医疗机构等级时须填写等级起始日"]
        else:
            try:
                rating_check(
                    institution.kind, hospital_level=row.hospital_level, valid_from=row.rated_from, valid_until=None
                )
            except ValidationError as exc:
                errors.update(exc.message_dict)
    end = None
    if row.agreement_start is not None:
        try:
            end = agreement_check(
                institution.jurisdiction.code,
                start=row.agreement_start,
                end=row.agreement_end,
                status=row.agreement_status,
                status_since=row.agreement_status_since,
                suspended_until=None,
                deposit_pct=row.deposit_pct,
            )
        except ValidationError as exc:
            errors.update(
                {f"agreement_{k}" if not k.startswith("deposit") else k: v for k, v in exc.message_dict.items()}
            )
    elif row.agreement_number or row.agreement_end:
        errors["agreement_start"] = ["填写协议时须填写协议起始日"]
    if errors:
        raise ValidationError(errors)
    return end


@transaction.atomic
def register_row(institution: Institution, row: RegisterRow, *, agreement_end: date | None) -> None:
    """Write the row's rating (from ``rated_from``; the open row before it is closed that day) and agreement
    (by number, or by start) of an institution already saved."""
    if row.hospital_level and row.rated_from is not None:
        InstitutionRating.objects.filter(
            institution=institution, valid_from__lt=row.rated_from, valid_until__isnull=True
        ).update(valid_until=row.rated_from)
        InstitutionRating.objects.update_or_create(
            institution=institution,
            valid_from=row.rated_from,
            defaults={"hospital_level": row.hospital_level, "tcm": row.tcm, "tier": row.tier, "area": row.area},
        )
    if row.agreement_start is not None:
        lookup = {"number": row.agreement_number} if row.agreement_number else {"start": row.agreement_start}
        Agreement.objects.update_or_create(
            institution=institution,
            **lookup,
            defaults={
                "start": row.agreement_start,
                "end": agreement_end,
                "status": row.agreement_status,
                "status_since": row.agreement_status_since,
                "deposit_pct": row.deposit_pct,
            },
        )
