"""Reads of the eligibility timeline (待遇享受状态) and of a person's contribution years (缴费年限)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q

from enrollment.models import InsuredPerson
from policy.resolver import snapshot

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


def benefit_period_start(person: InsuredPerson | int, jurisdiction: str) -> date | None:
    """待遇享受期开始日: the first day of the stored timeline on which the person was covered in the
    jurisdiction (None: never yet). ziyang 第九条(三) refuses a refund once it has begun."""
    pid = person if isinstance(person, int) else person.pk
    return (
        EligibilityPeriod.objects.filter(
            person_id=pid, jurisdiction__code=jurisdiction, status=EligibilityStatus.COVERED
        )
        .order_by("start")
        .values_list("start", flat=True)
        .first()
    )


def claim_allowed(person: InsuredPerson | int, day: date) -> tuple[bool, str]:
    """A claim for a date the person was not covered is refused, with the reason."""
    answer = status_on(person, day)
    if answer.covered:
        return True, answer.reason
    return False, f"{day} {answer.status_zh}：{answer.reason}（{answer.citation}）".replace("（）", "")
