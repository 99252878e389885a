"""Rules of the registers (就医登记规则): plain functions over facts and dates, no database.

- 异地就医备案: which filing kinds a jurisdiction knows (``registers.filing_kinds``), the lock on changing or
  cancelling a long-term filing (``registers.long_term_lock``: sanmenxia 第五十五条 one year, change and
  cancellation; langfang 第六十九条 half a year, change only), the validity of a temporary filing
  (``registers.temporary_valid_months``: langfang 第六十七条), retro-filing (``registers.retro_filing``:
  langfang 第六十七条), emergency care treated as filed (``registers.emergency_location``).
- :func:`claim_location` — a claim's location derived from the filings in force on the admission date.
- 门诊慢特病: the catalogue (``registers.chronic_disease_catalogue``, staff-entered), the certification
  required for a claim (``registers.chronic_certification_required``: hunan 第四十八条, sanmenxia 第十四条,
  ziyang 第十七条(三)), and carry-over from resident insurance (hunan 第六十一条).

Where a document is silent the key is absent and the rule that needs it raises ``PolicyMissing`` naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from batch.dates import months_later
from policy.resolver import Policy

LONG_TERM, TEMPORARY, REFERRAL = "long_term", "temporary", "referral"
KIND_ZH = {LONG_TERM: "异地长期居住", TEMPORARY: "临时外出就医", REFERRAL: "转诊转院"}
#: Locations a claim may state (SCENARIOS.md "Locations"); the out-of-area ones are derived from the filings.
LOCAL_LOCATIONS = frozenset({"local", "in_province"})
OUT_OF_AREA_LOCATIONS = frozenset({"referral", "emergency", "registered_remote", "unregistered"})
LOCATION_ZH = {
    "local": "统筹区内",
    "in_province": "省内异地",
    "referral": "转诊转院",
    "emergency": "急诊抢救",
    "registered_remote": "已备案异地就医",
    "unregistered": "未备案异地就医",
}


class RegisterRefusal(ValueError):
    """A filing or certification the rules refuse; the message names the article."""

    def __init__(self, message: str, field: str = "__all__"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class FilingFact:
    """One filing as the rules see it: kind, half-open period ``[start, end)``, date applied, in force?"""

    kind: str
    start: date
    end: date | None
    filed_on: date
    active: bool = True
    place: str = ""

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True)
class CertificationFact:
    """One approved 门诊慢特病 certification: disease, class, validity ``[valid_from, valid_until)``."""

    disease_code: str
    disease_name: str
    disease_class: int | None
    valid_from: date
    valid_until: date | None
    institution_code: str = ""
    carried_over_year: int | None = None
    carried_over_paid: Decimal | None = None

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)


@dataclass(frozen=True)
class RegisterFacts:
    """What the registers hold for one person in one jurisdiction (the claim is checked against it)."""

    filings: tuple[FilingFact, ...] = ()
    certifications: tuple[CertificationFact, ...] = ()


# --- 异地就医备案 ------------------------------------------------------------------------------------


def check_kind(policy: Policy, kind: str) -> str:
    """The kind is one the jurisdiction's document provides; returns the citation."""
    kinds = [str(k) for k in policy.value("registers.filing_kinds") or []]
    cite = policy.citation("registers.filing_kinds")
    if kind not in kinds:
        known = "、".join(KIND_ZH.get(k, k) for k in kinds) or "无"
        raise RegisterRefusal(f"本统筹区文件未设“{KIND_ZH.get(kind, kind)}”备案（可办理：{known}；{cite}）", "kind")
    return cite


def filing_end(policy: Policy, kind: str, start: date, end: date | None) -> date | None:
    """The filing's end: a temporary filing is valid ``registers.temporary_valid_months`` (langfang 第六十七条);
    where the document gives no validity, the end staff enter from the application is required."""
    if kind != TEMPORARY:
        return end
    months = policy.value("registers.temporary_valid_months", None)
    if months is None:
        if end is None:
            raise RegisterRefusal("文件未规定临时外出就医备案的有效期：请填写结束日期（按备案申请）", "end")
        return end
    last = months_later(start, int(months))
    cite = policy.citation("registers.temporary_valid_months")
    if end is None:
        return last
    if end > last:
        raise RegisterRefusal(f"临时外出就医备案有效期为 {int(months)} 个月，结束日期不得晚于 {last}（{cite}）", "end")
    return end


def check_retro(policy: Policy, *, filed_on: date, start: date) -> str:
    """补办备案: a filing that starts before it was applied for needs ``registers.retro_filing`` (langfang
    第六十七条); returns the step's words ("" when not a retro-filing)."""
    if start >= filed_on:
        return ""
    rule = policy.value("registers.retro_filing")
    cite = policy.citation("registers.retro_filing")
    if not rule or not (rule.get("before_discharge") or rule.get("after_discharge_manual")):
        raise RegisterRefusal(f"本统筹区不办理补办备案：开始日期不得早于申请日期 {filed_on}（{cite}）", "start")
    return f"补办备案（{cite}）"


def check_long_term_lock(policy: Policy, current: FilingFact | None, *, action: str, on: date) -> str:
    """Changing (``change``) or cancelling (``cancel``) a long-term filing within the lock is refused.

    sanmenxia 第五十五条: "一年内不能变更或终止"; langfang 第六十九条: "半年内不得再次变更就医地", while a
    person returning home may always cancel. Returns the citation; a document silent on changes → missing.
    """
    if current is None or current.kind != LONG_TERM:
        return ""
    rule = policy.value("registers.long_term_lock")
    cite = policy.citation("registers.long_term_lock")
    if not rule:
        return cite
    covers = [str(c) for c in rule.get("covers") or []]
    if action not in covers:
        return cite
    months = int(rule["months"])
    free_from = months_later(current.start, months)
    if on < free_from:
        what = "变更就医地" if action == "change" else "注销"
        raise RegisterRefusal(
            f"异地长期居住备案自 {current.start} 起 {months} 个月内不得{what}（{free_from} 起方可办理；{cite}）",
            "start" if action == "change" else "__all__",
        )
    return cite


def active_long_term(filings: Iterable[FilingFact], on: date) -> FilingFact | None:
    """The long-term filing in force on ``on`` (or open from before it), if any."""
    found = [f for f in filings if f.active and f.kind == LONG_TERM and f.start <= on and (f.end is None or on < f.end)]
    return max(found, key=lambda f: f.start) if found else None


def claim_location(
    policy: Policy,
    stated: str,
    filings: Sequence[FilingFact],
    *,
    admission: date,
    discharge: date,
    emergency: bool,
    manual: bool,
) -> tuple[str, str, str]:
    """The claim's location (SCENARIOS.md "Locations"), its reason and citation.

    Care inside the pooling area or elsewhere in the province (``local``, ``in_province``) keeps the stated
    place. For care outside the area the filing status is derived, never typed: a filing in force on the
    admission date — a referral → ``referral``; long-term or temporary → ``registered_remote`` (a temporary
    filing valid on admission covers the whole stay, langfang 第六十七条); a filing applied after discharge
    counts only for a manual claim (langfang 第六十七条 补备案并手工报销); no filing but emergency rescue →
    ``registers.emergency_location`` (langfang 第六十七条 视同已备案; hunan 第四十条, sanmenxia 第五十三条,
    ziyang 第三十四条(二)); otherwise ``unregistered``.
    """
    if stated in LOCAL_LOCATIONS:
        return stated, f"就医地：{LOCATION_ZH[stated]}，不需异地就医备案", ""
    kinds_cite = policy.citation("registers.filing_kinds")
    in_force = [f for f in filings if f.active and f.covers(admission)]
    usable = [f for f in in_force if f.filed_on <= discharge or manual]
    for kind, location in ((REFERRAL, "referral"), (LONG_TERM, "registered_remote"), (TEMPORARY, "registered_remote")):
        hit = next((f for f in usable if f.kind == kind), None)
        if hit is not None:
            words = f"入院日 {admission} 有{KIND_ZH[kind]}备案（{hit.place or '就医地'}，{hit.start} 起"
            words += f"，申请日 {hit.filed_on}）" if hit.filed_on > hit.start else "）"
            return location, f"{words}：按{LOCATION_ZH[location]}结算", kinds_cite
    late = [f for f in in_force if f not in usable]
    if emergency:
        location = policy.value("registers.emergency_location")
        cite = policy.citation("registers.emergency_location")
        return location, f"统筹区外急诊抢救住院，未备案：按{LOCATION_ZH[location]}结算", cite
    if late:
        return (
            "unregistered",
            f"备案于出院后（{late[0].filed_on}）补办，只适用于回参保地手工报销；本次直接结算按未备案结算",
            policy.citation("registers.retro_filing") or kinds_cite,
        )
    return "unregistered", f"入院日 {admission} 无有效的异地就医备案：按未备案异地就医结算", kinds_cite


# --- 门诊慢特病 -----------------------------------------------------------------------------------------


def catalogue_entry(policy: Policy, code: str) -> dict[str, Any]:
    """The disease of the jurisdiction's catalogue (staff-entered; missing → ``PolicyMissing``)."""
    catalogue = policy.value("registers.chronic_disease_catalogue") or []
    for entry in catalogue:
        if str(entry.get("code")) == code:
            return dict(entry)
    cite = policy.citation("registers.chronic_disease_catalogue")
    raise RegisterRefusal(f"病种编码 {code} 不在本统筹区门诊慢特病病种目录中（{cite}）", "disease_code")


def check_class(policy: Policy, disease_class: int | None) -> None:
    """The class is one the document gives (ziyang 第十七条 1–3; hunan, sanmenxia: no classes)."""
    classes = policy.value("registers.chronic_disease_classes")
    cite = policy.citation("registers.chronic_disease_classes")
    if classes is None:
        if disease_class is not None:
            raise RegisterRefusal(f"本统筹区门诊慢特病不分类别（{cite}）", "disease_class")
        return
    if disease_class not in [int(c) for c in classes]:
        allowed = "、".join(str(c) for c in classes)
        raise RegisterRefusal(f"病种类别须为 {allowed} 之一（{cite}）", "disease_class")


@dataclass(frozen=True)
class ChronicCheck:
    """Outcome of the certification check of a 门诊慢特病 claim."""

    refusal: str
    reason: str
    citation: str
    classes: tuple[int, ...] = ()
    carried_over_paid: Decimal = Decimal(0)


def chronic_check(
    policy: Policy, certifications: Sequence[CertificationFact], *, service_date: date, classes: Sequence[int]
) -> ChronicCheck:
    """A 门诊慢特病 claim is paid only under a certification valid on the service date.

    The classes of the valid certifications are the claim's classes (ziyang 第十七条); a class the claim
    states without a certification for it is refused. The amount already paid in resident insurance for the
    claim's year (hunan 第六十一条) is returned to be counted against the year's cap.
    """
    key = "registers.chronic_certification_required"
    required = policy.value(key)
    cite = policy.citation(key)
    if not required:
        return ChronicCheck("", "文件未要求门诊慢特病认定", cite, tuple(classes))
    valid = [c for c in certifications if c.valid_on(service_date)]
    if not valid:
        refusal = f"就诊日 {service_date} 无有效的门诊慢特病认定（未认定或不在有效期内），统筹基金不予支付（{cite}）"
        return ChronicCheck(refusal, refusal, cite)
    certified = sorted({c.disease_class for c in valid if c.disease_class is not None})
    missing = [c for c in classes if c not in certified]
    if missing:
        refusal = (
            f"就诊日 {service_date} 无第{'、'.join(map(str, missing))}类门诊特殊疾病的有效认定，不予支付（{cite}）"
        )
        return ChronicCheck(refusal, refusal, cite)
    year = service_date.year
    carried = sum((c.carried_over_paid or Decimal(0) for c in valid if c.carried_over_year == year), Decimal(0))
    names = "、".join(f"{c.disease_name}（{c.valid_from} 至 {c.valid_until or '长期'}）" for c in valid)
    return ChronicCheck("", f"门诊慢特病认定有效：{names}", cite, tuple(classes) or tuple(certified), carried)
