"""两定机构 on a date — plain functions over the register's facts and the date (no database).

:func:`institution_on` answers, for a claim's service date: which level, tier, TCM status and location the
register gives (the :class:`InstitutionRating` row in force), and whether a 服务协议 was in force
(:func:`agreement_in_force`). The claims read it through :mod:`benefits.claims.registers`; the refusal
cites ``institutions.agreement_required`` (the article that makes payment a matter of 定点协议管理).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

AREA_ZH = {"pooling_area": "统筹区内", "province": "省内统筹区外", "outside_province": "省外"}
STATUS_ZH = {"signed": "已签订", "suspended": "中止", "ended": "解除/终止"}


@dataclass(frozen=True)
class RatingFacts:
    """One dated row of level and attributes, ``[start, end)``; ``end`` None: open."""

    start: date
    end: date | None
    hospital_level: str
    tcm: bool = False
    tier: str = ""
    area: str = "pooling_area"

    @classmethod
    def of(cls, row: Any) -> RatingFacts:
        return cls(row.valid_from, row.valid_until, row.hospital_level, row.tcm, row.tier, row.area)


@dataclass(frozen=True)
class AgreementFacts:
    """One 服务协议: period ``[start, end)``, status, and the day a 中止/解除 took effect (and a 中止 ended)."""

    start: date
    end: date | None
    status: str = "signed"
    status_since: date | None = None
    suspended_until: date | None = None
    number: str = ""

    @classmethod
    def of(cls, row: Any) -> AgreementFacts:
        return cls(row.start, row.end, row.status, row.status_since, row.suspended_until, row.number)


@dataclass(frozen=True)
class RegisterFacts:
    """What the register holds about one institution."""

    code: str
    name: str
    kind: str
    ratings: tuple[RatingFacts, ...] = ()
    agreements: tuple[AgreementFacts, ...] = ()


@dataclass(frozen=True)
class InstitutionOnDate:
    """The register read on one day: attributes (None when no rating is in force) and the agreement."""

    code: str
    name: str
    kind: str
    day: date
    rating: RatingFacts | None
    agreement: AgreementFacts | None  # the agreement in force, None: none
    why_not: str  # why no agreement is in force ("" when one is)

    @property
    def designated(self) -> bool:
        return self.agreement is not None


def _within(day: date, start: date, end: date | None) -> bool:
    return start <= day and (end is None or day < end)


def agreement_in_force(agreement: AgreementFacts, day: date) -> bool:
    """In its period, and not 解除 from ``status_since`` nor 中止 in ``[status_since, suspended_until)``."""
    if not _within(day, agreement.start, agreement.end):
        return False
    if agreement.status == "ended" and agreement.status_since is not None and day >= agreement.status_since:
        return False
    if agreement.status == "suspended" and agreement.status_since is not None:
        return not _within(day, agreement.status_since, agreement.suspended_until)
    return True


def rating_on(ratings: Iterable[RatingFacts], day: date) -> RatingFacts | None:
    """The rating row in force on the day (the latest start when rows overlap)."""
    rows = [r for r in ratings if _within(day, r.start, r.end)]
    return max(rows, key=lambda r: r.start) if rows else None


def _why_not(agreements: tuple[AgreementFacts, ...], day: date) -> str:
    """Why none of the agreements is in force on the day, in words."""
    if not agreements:
        return "未与医保经办机构签订服务协议"
    covering = [a for a in agreements if _within(day, a.start, a.end)]
    if covering:
        a = max(covering, key=lambda a: a.start)
        return f"服务协议{a.number and ' ' + a.number}自 {a.status_since} 起{STATUS_ZH.get(a.status, a.status)}"
    before = [a for a in agreements if a.end is not None and a.end <= day]
    if before:
        last = max(before, key=lambda a: a.end or day)
        return f"服务协议{last.number and ' ' + last.number}已于 {last.end} 期满终止"
    first = min(agreements, key=lambda a: a.start)
    return f"服务协议{first.number and ' ' + first.number}自 {first.start} 起生效，就医时尚未生效"


def institution_on(register: RegisterFacts, day: date) -> InstitutionOnDate:
    """The institution on the service date: the rating in force and the agreement in force (or why none)."""
    in_force = [a for a in register.agreements if agreement_in_force(a, day)]
    agreement = max(in_force, key=lambda a: a.start) if in_force else None
    return InstitutionOnDate(
        code=register.code,
        name=register.name,
        kind=register.kind,
        day=day,
        rating=rating_on(register.ratings, day),
        agreement=agreement,
        why_not="" if agreement else _why_not(register.agreements, day),
    )


def location_for(area: str, entered: str) -> str:
    """就医地点 from where the institution lies: 统筹区内 → ``local``; 省内统筹区外 → ``in_province`` unless an
    out-of-area category was entered (转诊, 急诊, 备案…); 省外 keeps the out-of-area category entered (the filings
    decide it), and ``local``/``in_province`` are refused by the caller."""
    if area == "pooling_area":
        return "local"
    if area == "province" and entered == "local":
        return "in_province"
    return entered
