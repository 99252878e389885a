"""Reads of the eligibility timeline (待遇享受状态) and of a person's contribution years (缴费年限)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from contributions.calculations.payment_years import PaymentMonths, count_payment_months
from contributions.models import MonthlyDue
from enrollment.models import EnrolmentSpan, InsuredPerson, LifeEvent, LifeEventKind
from policy.resolver import Policy, snapshot

from .models import EligibilityPeriod, EligibilityState, EligibilityStatus

FACT_ORDER = (
    "统筹区",
    "人员类别",
    "缴费月份",
    "已到账月数",
    "首次到账日",
    "最近到账日",
    "未缴月份",
    "逾期到账",
    "缓缴月份",
    "缓缴期满日",
    "缴费记录",
    "首次参保",
    "上一段参保截止日",
    "转入",
    "转入缴费月数",
    "居民医保连续参保月数",
    "说明",
    "判定依据截至",
)


def citation_display(text: str) -> str:
    """A rule's citations as a case worker reads them: each jurisdiction once, its articles once, in order,
    then the product decisions (D-…) once. ``"ziyang 第十三条, D-Z9; ziyang 第十三条, 第十五条"`` →
    ``"资阳 第十三条、第十五条（产品决定 D-Z9）"``.
    """
    names = snapshot().jurisdictions
    articles: dict[str, list[str]] = {}
    decisions: list[str] = []
    for part in (text or "").split(";"):
        where = ""
        for token in (t.strip() for t in part.split(",")):
            if not token:
                continue
            code, _, rest = token.partition(" ")
            if code in names and rest:
                where, token = code, rest.strip()
            if token.startswith("D-"):
                if token not in decisions:
                    decisions.append(token)
                continue
            items = articles.setdefault(where, [])
            if token not in items:
                items.append(token)
    text_parts = [f"{names.get(code, code)} {'、'.join(items)}".strip() for code, items in articles.items() if items]
    out = "；".join(text_parts)
    if decisions:
        out += f"（产品决定 {'、'.join(decisions)}）"
    return out


@dataclass(frozen=True)
class StatusAnswer:
    """The status on one day, the rule that decided it and the facts it used."""

    day: date
    status: str
    status_zh: str
    reason: str
    citation: str
    facts: dict = field(default_factory=dict)
    period: EligibilityPeriod | None = None

    @property
    def covered(self) -> bool:
        return self.status == EligibilityStatus.COVERED

    @property
    def citation_zh(self) -> str:
        return citation_display(self.citation)

    @property
    def fact_items(self) -> list[tuple[str, Any]]:
        """The facts in the order a case worker reads them (the database keeps JSON keys in its own order)."""
        rank = {key: n for n, key in enumerate(FACT_ORDER)}
        return sorted(self.facts.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def timeline(person: InsuredPerson | int) -> list[EligibilityPeriod]:
    """The stored periods, each with ``citation_zh`` (:func:`citation_display`) for the screens."""
    pid = person if isinstance(person, int) else person.pk
    periods = list(EligibilityPeriod.objects.filter(person_id=pid).select_related("jurisdiction").order_by("start"))
    for p in periods:
        p.citation_zh = citation_display(p.citation)
    return periods


def status_on(person: InsuredPerson | int, day: date) -> StatusAnswer:
    """待遇享受状态 on ``day``, from the stored timeline. Claims refuse a day that is not ``covered``."""
    pid = person if isinstance(person, int) else person.pk
    period = (
        EligibilityPeriod.objects.filter(person_id=pid, start__lte=day)
        .filter(Q(end__isnull=True) | Q(end__gt=day))
        .order_by("-start")
        .first()
    )
    if period is not None:
        return StatusAnswer(
            day, period.status, period.get_status_display(), period.reason, period.citation, period.facts, period
        )
    state = EligibilityState.objects.filter(person_id=pid).first()
    if state is not None and state.error:
        reason = f"待遇状态无法计算：{state.error}"
    elif state is None:
        reason = "尚未计算待遇享受状态"
    else:
        reason = "该日不在任何参保期间内：无职工医保待遇"
    return StatusAnswer(day, EligibilityStatus.NONE, EligibilityStatus.NONE.label, reason, "")


def claim_allowed(person: InsuredPerson | int, day: date) -> tuple[bool, str]:
    """A claim for a date the person was not covered is refused, with the reason."""
    answer = status_on(person, day)
    if answer.covered:
        return True, answer.reason
    return False, f"{day} {answer.status_zh}：{answer.reason}（{answer.citation}）".replace("（）", "")


# --- payment years (缴费年限) -------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentYears:
    """Months by kind as stored, and as the jurisdiction counts them (calcB's ``count_payment_months``)."""

    jurisdiction: str
    kinds: dict[str, Decimal]
    counted: PaymentMonths

    @property
    def actual_months(self) -> Decimal:
        """Months actually paid (local and brought in by transfer)."""
        return self.kinds["local_months"] + self.kinds["other_region_months"]


def months_by_kind(person_ids: list[int], on: date) -> dict[int, dict[str, Decimal]]:
    """Set-based: each person's months by kind on ``on``.

    deemed (InsuredPerson.deemed_months), military (military_months), local actual (paid
    MonthlyDue months of in-service categories, in the jurisdiction of the person's latest span),
    other-region actual (months brought by transfer_in life events).
    """
    out: dict[int, dict[str, Decimal]] = {}
    for pid, deemed, military in InsuredPerson.objects.filter(pk__in=person_ids).values_list(
        "pk", "deemed_months", "military_months"
    ):
        out[pid] = {
            "deemed_months": Decimal(deemed),
            "military_months": Decimal(military),
            "local_months": Decimal(0),
            "other_region_months": Decimal(0),
        }
    latest = _latest_jurisdictions(person_ids, on)
    paid = (
        MonthlyDue.objects.filter(person_id__in=person_ids, settled_on__isnull=False, settled_on__lte=on)
        .exclude(category="retiree")
        .values_list("person_id", "jurisdiction_id")
        .annotate(n=Count("id"))
    )
    for pid, jid, n in paid:
        if latest.get(pid, (None, None))[1] == jid:
            out[pid]["local_months"] += n
    transfers = (
        LifeEvent.objects.filter(person_id__in=person_ids, kind=LifeEventKind.TRANSFER_IN, occurred_on__lte=on)
        .values_list("person_id")
        .annotate(n=Sum("months"))
    )
    for pid, n in transfers:
        out[pid]["other_region_months"] += Decimal(n or 0)
    return out


def _latest_jurisdictions(person_ids: list[int], on: date) -> dict[int, tuple[str, int]]:
    latest: dict[int, tuple[str, int]] = {}
    for pid, code, jid in (
        EnrolmentSpan.objects.filter(person_id__in=person_ids, start__lte=on)
        .order_by("person_id", "start", "id")
        .values_list("person_id", "jurisdiction__code", "jurisdiction_id")
    ):
        latest[pid] = (code, jid)
    return latest


def payment_years(person: InsuredPerson | int, on: date) -> PaymentYears:
    """缴费年限 of one person on ``on``, counted as the jurisdiction of their latest span counts it."""
    pid = person if isinstance(person, int) else person.pk
    kinds = months_by_kind([pid], on)[pid]
    code = _latest_jurisdictions([pid], on).get(pid, (None, None))[0]
    if code is None:
        raise ValueError(f"参保人员 {pid} 在 {on} 之前没有参保关系")
    counted = count_payment_months(Policy(code, on), **kinds)
    return PaymentYears(code, kinds, counted)
