"""Eligibility timeline (待遇享受资格时间轴): waiting periods, suspension for arrears, retroactive cover.

:func:`eligibility_timeline` turns the facts of one enrolment — category, the
contribution months with their payment dates (到账日) and deferrals (缓缴), and
the previous coverage for a re-enrolment (接续) or a switch from resident
insurance (居民医保转职工医保) — into a dated timeline: contiguous half-open
periods ``[start, end)`` with a status (covered 享受待遇 | waiting 等待期 |
suspended 暂停 | none 无待遇), a reason a case worker can read and the articles
behind it. :func:`status_on` answers "what on this day". The nightly batch and
the case worker's "why" screen use the same two functions; the scenario
calculation ``eligibility`` is a thin wrapper.

Everything is "as known on ``as_of``": payments dated after ``as_of`` are
ignored, a month is in arrears only once its due date has passed (D-X5), and a
make-up payment that falls inside the retroactive window turns the earlier
suspended days covered. Every window, anchor and variant is a policy parameter
(``eligibility.*`` with its citation, see policy/policies/catalog/eligibility.yaml);
a jurisdiction whose documents are silent (xianning) fails with
``PolicyMissing`` naming the key (D-X16).

Conventions taken here where the digest is silent (listed in the module's report):

* ``previous_end`` is the last day of the previous coverage. The interruption
  (中断) is the calendar months strictly between its month and the month of the
  first payment of the new enrolment (the payment month itself is the month
  coverage resumes, 缴费当月); gap months count as made up (补缴) when they are
  listed and paid.
* Suspension for arrears starts on the day after the missed due date where a seed does not name the
  start (ziyang 第十五条, langfang 第二十三条–第二十四条: D-X18); hunan and sanmenxia keep "the month
  after". langfang 第二十四条 "从补缴费用的次月起": the make-up month itself is not covered even when the
  arrears are retroactively covered (``within_window_from_next_month``, D-X18).
* sanmenxia 第十七条 "解除劳动关系后3个月内" runs in calendar time from the day after ``previous_end``
  (D-X19), not in unpaid months.
* A retiree may have no contribution months (retirees pay nothing, ziyang 第十五条): covered throughout,
  ``covered_from`` unknown (None).
* A month's due date is ``contribution.due_day`` of that same month. It is read
  only when a result depends on it (a make-up paid in a month whose own
  contribution is still unpaid, or the current month being unpaid on
  ``as_of``); where it is not given (hunan, sanmenxia) that raises
  ``PolicyMissing``.
* Arrears at a make-up are the months overdue and unpaid just before the
  payment that clears the last of them (D-X5, literally).
* A payment made on the first day of a suspension is late (every due date lies
  before it): where cover resumes only the day after payment (hunan 第十九条,
  D-H4), that day is suspended.
* Unemployment-benefit recipients follow the employee rules: the unemployment
  insurance agency pays for them as an employer would (hunan 第十五条,
  langfang 第十五条, sanmenxia 第十八条).
* A break that is never made up is a new enrolment: give its months with
  ``previous_end``. Within one enrolment, arrears last until every overdue month
  is paid.
* A deferred month (缓缴) is never in arrears while its deferral runs. Its end is
  the month's ``deferred_until`` (last day of the deferral; an input added to
  SCENARIOS.md's month fields); without it the deferral is taken as still running.
  Once it has ended unpaid, ``eligibility.deferral_lapse_rule`` decides (langfang
  第二十六条: suspended from the day after, back from the month after the make-up,
  never retroactive); hunan 第二十二条 is silent on a lapse, so the key is missing there.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from batch.dates import add_months, month_start, months_later
from policy.calculations import Field, InputError, calculation, parse_value
from policy.resolver import Policy, PolicyError, PolicyMissing

COVERED, WAITING, SUSPENDED, NONE = "covered", "waiting", "suspended", "none"
STATUSES = (COVERED, WAITING, SUSPENDED, NONE)
STATUS_ZH = {COVERED: "享受待遇", WAITING: "等待期", SUSPENDED: "暂停享受待遇", NONE: "无职工医保待遇"}
CATEGORIES = ("employee", "flexible", "unemployed", "retiree")
PREVIOUS_SCHEMES = ("employee", "resident")
DUE_DAY_KEY = "contribution.due_day"
PREVIOUS_SCHEME_LEVEL = "previous_scheme"  # Period.benefit_level: 原档次待遇 (ziyang 第十四条)
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """One half-open period ``[start, end)`` of the timeline; ``end`` None means open-ended."""

    start: date
    end: date | None
    status: str
    reason: str
    citation: str
    # "" (the scheme's own benefits) | previous_scheme: 原档次待遇 (ziyang 第十四条; D-Z10): covered, but a
    # claim is settled at the previous scheme's values (benefits.claims.families.previous_level)
    benefit_level: str = ""

    def __contains__(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True)
class ContributionMonth:
    """One contribution month (缴费月份) of the enrolment: its first day, payment date (到账日), deferral.

    ``deferred_until`` is the last day of the approved deferral (缓缴期满日, inclusive; a
    :class:`contributions.models.Deferral` ends the day before its exclusive ``end``); None while
    the end is not known, in which case the deferral is taken as still running on ``as_of``.
    """

    month: date
    paid_on: date | None = None
    deferred: bool = False
    deferred_until: date | None = None

    @property
    def label(self) -> str:
        return f"{self.month.year}-{self.month.month:02d}"


# --- dates -----------------------------------------------------------------------------------------


def _label(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def _labels(months: Iterable[date]) -> str:
    return "、".join(_label(m) for m in sorted(months))


class _DueDates:
    """Due dates of contribution months (缴费截止日), read from ``contribution.due_day`` only when needed."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self._day: int | None = None

    def due(self, month: date) -> date:
        if self._day is None:
            try:
                self._day = int(self.policy.decimal(DUE_DAY_KEY))
            except PolicyMissing as exc:  # hunan, sanmenxia, xianning: the documents give no due day (D-X16)
                raise PolicyMissing(
                    exc.jurisdiction,
                    exc.key,
                    exc.on,
                    label=f"每月缴费截止日；判断 {_label(month)} 的缴费是否逾期、欠费是否超过追溯期限需要此值（D-X5）",
                ) from exc
        last = calendar.monthrange(month.year, month.month)[1]
        return month.replace(day=min(self._day, last))

    def overdue(self, month: date, on: date) -> bool:
        """Is ``month`` in arrears on ``on``? From the day after its due date, which lies in the month (D-X5)."""
        current = month_start(on)
        if current > month:
            return True
        if current < month or on.day == 1:
            return False
        return on > self.due(month)


def next_change(policy: Policy, months: Iterable[ContributionMonth], as_of: date) -> date | None:
    """The first day after ``as_of`` on which the timeline of the same inputs may read differently; None: never.

    The timeline depends on the evaluation date only through what is known on it: a payment dated after
    ``as_of`` is not known yet (it becomes known on its date), an unpaid month is in arrears only from the
    day after its due date (D-X5: :meth:`_DueDates.overdue`), a deferral lapses the day after it ends
    (langfang 第二十六条: :func:`_lapsed`). The nightly run stores this date and re-evaluates a person whose
    facts did not change only once it is reached. Where the due day is missing (D-X16), whether an unpaid month
    is overdue cannot be told from its 2nd day to its last (:meth:`_DueDates.overdue` raises the same
    ``PolicyMissing`` on each of them) and is certain from the 1st of the next month: the answer may change on
    the 2nd and on the 1st of the next month only. Early is safe (the same answer is found again).
    """
    due = _DueDates(policy)
    best: date | None = None

    def keep(day: date) -> None:
        nonlocal best
        if day > as_of and (best is None or day < best):
            best = day

    for m in months:
        if m.paid_on is not None and m.paid_on > as_of:
            keep(m.paid_on)
        if m.deferred and m.deferred_until is not None:
            keep(m.deferred_until + ONE_DAY)
        if m.paid_on is not None and m.paid_on <= as_of:
            continue
        following = add_months(m.month, 1)
        if as_of >= following:
            continue  # overdue already, whatever the due day
        try:
            if due.overdue(m.month, as_of):
                continue
            keep(min(max(due.due(m.month) + ONE_DAY, m.month + ONE_DAY), following))
        except PolicyMissing:  # no due day (D-X16): unknown from the 2nd, overdue from the next month
            keep(m.month + ONE_DAY if as_of <= m.month else following)
    return best


# --- the policy, as this rule reads it -----------------------------------------------------------


class _Rules:
    """The ``eligibility.*`` parameters for one category; ``cite`` gives the articles of the keys read."""

    def __init__(self, policy: Policy, category: str):
        self.policy = policy
        # 领取失业保险金人员 follow the employee rules: the agency pays as an employer (hunan 第十五条 ...).
        self.group = "flexible" if category == "flexible" else "employee"

    def key(self, name: str) -> str:
        return f"eligibility.{name}"

    def gkey(self, name: str) -> str:
        return f"eligibility.{self.group}_{name}"

    def value(self, name: str) -> Any:
        return self.policy.value(self.key(name))

    def grouped(self, name: str) -> Any:
        return self.policy.value(self.gkey(name))

    def number(self, full_key: str) -> int:
        return int(self.policy.decimal(full_key))

    def cite(self, *full_keys: str) -> str:
        return _join(*(self.policy.used.get(key) or self.policy.citation(key) for key in full_keys))


def _join(*citations: str) -> str:
    """Citations joined with "; ", each article once."""
    parts: list[str] = []
    for text in citations:
        for part in (text or "").split("; "):
            if part and part not in parts:
                parts.append(part)
    return "; ".join(parts)


# --- the canvas the timeline is painted on --------------------------------------------------------


class _Canvas:
    """Contiguous periods from a start date onwards; later paint covers earlier paint."""

    def __init__(self, start: date, status: str, reason: str, citation: str = ""):
        self.periods = [Period(start, None, status, reason, citation)]

    def paint(
        self,
        start: date,
        end: date | None,
        status: str,
        reason: str,
        citation: str,
        *,
        floor: date | None = None,
        benefit_level: str = "",
    ) -> None:
        start = max(start, self.periods[0].start, floor or start)
        if end is not None and end <= start:
            return
        out: list[Period] = []
        for p in self.periods:
            if p.start < start:
                left_end = start if p.end is None else min(p.end, start)
                out.append(replace(p, end=left_end))
            if end is not None and (p.end is None or p.end > end):
                right_start = max(p.start, end)
                out.append(replace(p, start=right_start))
        out.append(Period(start, end, status, reason, citation, benefit_level))
        self.periods = sorted((p for p in out if p.end is None or p.start < p.end), key=lambda p: p.start)

    def result(self) -> list[Period]:
        merged: list[Period] = []
        for p in self.periods:
            last = merged[-1] if merged else None
            if last and (last.status, last.reason, last.citation, last.benefit_level) == (
                p.status,
                p.reason,
                p.citation,
                p.benefit_level,
            ):
                merged[-1] = replace(last, end=p.end)
            else:
                merged.append(p)
        return merged


# --- waiting periods --------------------------------------------------------------------------------


def _consecutive_paid(months: Sequence[ContributionMonth], n: int, from_month: date) -> date | None:
    """D-X3: n consecutive months paid → 1st of the month after the last, or the day after the completing payment."""
    paid = {m.month: m.paid_on for m in months if m.paid_on is not None and m.month >= from_month}
    best: date | None = None
    for first in sorted(paid):
        run = [add_months(first, i) for i in range(n)]
        if all(m in paid for m in run):
            completed = max(paid[m] for m in run)  # type: ignore[type-var]
            cover = max(add_months(run[-1], 1), completed + ONE_DAY)
            best = cover if best is None else min(best, cover)
    return best


def _wait_cover(
    rule: str, n: int | None, *, payment: date | None, months: Sequence[ContributionMonth], first_month: date
) -> tuple[date | None, str]:
    """First covered day under a waiting-period rule, and the reason in Chinese."""
    if payment is None:
        return None, "尚无缴费到账记录"
    if rule == "days_after_payment":  # hunan 第十七条; D-X1, D-X2
        assert n is not None
        return payment + timedelta(days=n + 1), f"{payment} 缴费到账，到账日不计，满{n}日后次日起享受（D-X2）"
    if rule == "consecutive_paid_months":  # langfang 第二十二条, 第二十四条; sanmenxia 第十七条; D-X3
        assert n is not None
        cover = _consecutive_paid(months, n, first_month)
        if cover is None:
            return None, f"自 {_label(first_month)} 起尚未连续缴费满{n}个月（D-X3）"
        return cover, f"连续缴费满{n}个月后享受，自 {cover} 起（D-X3）"
    if rule == "month_after_first_month":  # sanmenxia 第十六条; D-S22, D-X1
        cover = max(add_months(first_month, 1), add_months(payment, 1))
        return cover, f"首个缴费月 {_label(first_month)}、首次到账 {payment}，次月起享受（D-S22）"
    if rule == "months_from_payment_month":  # ziyang 第十三条; D-X4
        assert n is not None
        cover = add_months(payment, n)
        return cover, f"缴费当月（{_label(payment)}）为第1个月，{n}个月后自 {cover} 起享受（D-X4）"
    if rule == "from_payment_month":  # ziyang 第十三条 招录人员除外; D-Z8
        return month_start(payment), f"不设等待期，缴费当月（{_label(payment)}）起享受（D-Z8）"
    raise PolicyError(f"未知的等待期规则 (unknown waiting-period rule): {rule!r}")


WAIT_LENGTH = {
    "days_after_payment": "wait_days",
    "consecutive_paid_months": "wait_months",
    "months_from_payment_month": "wait_months",
}


def _group_wait(
    rules: _Rules, *, payment: date | None, months: Sequence[ContributionMonth], first_month: date
) -> tuple[date | None, str, str]:
    """The category's new-enrolment waiting period: (cover from, reason, citation)."""
    rule = rules.grouped("wait_rule")
    keys = [rules.gkey("wait_rule")]
    n = None
    if rule in WAIT_LENGTH:
        keys.append(rules.gkey(WAIT_LENGTH[rule]))
        n = rules.number(keys[-1])
    cover, why = _wait_cover(rule, n, payment=payment, months=months, first_month=first_month)
    if cover is not None:
        cover = max(cover, first_month)
    return cover, why, rules.cite(*keys)


# --- interruption (中断) before a re-enrolment or a switch ---------------------------------------


@dataclass(frozen=True)
class _Gap:
    months: tuple[date, ...]  # calendar months strictly between previous_end's month and the resumption month
    known: bool  # False when previous_end or the first payment is unknown
    made_up: bool  # every gap month listed and paid
    made_up_on: date | None  # the last make-up payment

    @property
    def count(self) -> int | None:
        return len(self.months) if self.known else None

    def within(self, limit: int) -> bool:
        return self.known and len(self.months) <= limit


def _gap(previous_end: date | None, months: Sequence[ContributionMonth], first_payment: date | None) -> _Gap:
    if previous_end is None or first_payment is None:
        return _Gap((), False, False, None)
    gap: list[date] = []
    m = add_months(previous_end, 1)
    while m < month_start(first_payment):
        gap.append(m)
        m = add_months(m, 1)
    by_month = {c.month: c for c in months}
    made_up = all(g in by_month and by_month[g].paid_on is not None for g in gap)
    made_up_on = max((by_month[g].paid_on for g in gap), default=None) if made_up else None  # type: ignore[type-var]
    return _Gap(tuple(gap), True, made_up, made_up_on)


# --- the timeline ------------------------------------------------------------------------------------


def eligibility_timeline(
    policy: Policy,
    *,
    category: str,
    months: Iterable[ContributionMonth | Mapping[str, Any]],
    as_of: date,
    first_enrolment: bool = True,
    previous_end: date | None = None,
    previous_scheme: str | None = None,
    previous_continuous_years: Any = None,
) -> list[Period]:
    """The eligibility timeline of one enrolment as known on ``as_of`` (contiguous, half-open, last one open)."""
    if category not in CATEGORIES:
        raise InputError(f"category: {category!r} 不在可选值 {', '.join(CATEGORIES)} 中")
    if previous_scheme is not None and previous_scheme not in PREVIOUS_SCHEMES:
        raise InputError(f"previous_scheme: {previous_scheme!r} 不在可选值 {', '.join(PREVIOUS_SCHEMES)} 中")
    facts = _known_months(months, as_of, allow_none=category == "retiree")
    if not facts:
        # ziyang 第十五条 (and every seed's retirees): a retiree owes nothing, so a retiree with no contribution
        # months is valid input — covered as a retiree throughout; the start of the enrolment is not known.
        retiree = _Rules(policy, category)
        cite = retiree.cite(retiree.key("retiree_arrears_exempt"))
        return [Period(date.min, None, COVERED, "退休人员，不缴纳基本医疗保险费，享受退休人员职工医保待遇", cite)]
    first = facts[0].month
    if previous_end is not None and previous_end >= first:
        raise InputError(f"previous_end {previous_end} 应早于本次参保首个缴费月 {_label(first)}")
    rules = _Rules(policy, category)
    due = _DueDates(policy)
    payments = [m.paid_on for m in facts if m.paid_on is not None]
    first_payment = min(payments) if payments else None

    origin = previous_end + ONE_DAY if previous_end else first
    canvas = _Canvas(origin, NONE, "不在本次参保期间，或中断期间未补缴：无职工医保待遇")

    if category == "retiree":
        exempt = rules.value("retiree_arrears_exempt")
        cite = rules.cite(rules.key("retiree_arrears_exempt"))
        reason = "退休人员，享受退休人员职工医保待遇" + ("，不因欠费暂停统筹基金待遇" if exempt else "")
        canvas.paint(first, None, COVERED, reason, cite)
        if not exempt:
            _paint_arrears(canvas, rules, due, facts, as_of=as_of, cover_from=first, from_month=first)
        return canvas.result()

    resume = month_start(first_payment) if first_payment else first
    if previous_scheme == "resident":
        cover = _switch(canvas, rules, facts, previous_end, first_payment, previous_continuous_years)
    elif previous_end is not None or not first_enrolment:
        cover = _rejoin(canvas, rules, facts, previous_end, first_payment)
    else:
        cover, why, cite = _group_wait(rules, payment=first_payment, months=facts, first_month=first)
        canvas.paint(first, None, WAITING, f"新参保等待期：{why}", cite)
        if cover is not None:
            canvas.paint(max(cover, first), None, COVERED, "等待期满，享受职工医保待遇", cite)
        resume = first
    if cover is not None:
        _paint_arrears(canvas, rules, due, facts, as_of=as_of, cover_from=cover, from_month=resume)
    return canvas.result()


def _known_months(
    months: Iterable[ContributionMonth | Mapping[str, Any]], as_of: date, *, allow_none: bool = False
) -> list[ContributionMonth]:
    """Parse, sort and check the months; payments dated after ``as_of`` are not known yet."""
    out: list[ContributionMonth] = []
    for i, raw in enumerate(months, start=1):
        item = raw if isinstance(raw, ContributionMonth) else _parse_month(i, raw)
        if item.paid_on is not None and item.paid_on > as_of:
            item = replace(item, paid_on=None)
        out.append(item)
    if not out and not allow_none:
        raise InputError("months: 至少需要一个缴费月份 (at least one contribution month)")
    out.sort(key=lambda m: m.month)
    seen = [m.month for m in out]
    if len(set(seen)) != len(seen):
        raise InputError("months: 同一缴费月份出现两次 (a month is listed twice)")
    return out


def _parse_month(i: int, raw: Any) -> ContributionMonth:
    if not isinstance(raw, Mapping) or "month" not in raw:
        raise InputError(f"months 第{i}项应为 {{month, paid_on, deferred}} 映射")
    unknown = set(raw) - {"month", "paid_on", "deferred", "deferred_until"}
    if unknown:
        raise InputError(f"months 第{i}项: 未知字段 {', '.join(sorted(map(str, unknown)))}")
    try:
        deferred = parse_value("bool", raw.get("deferred", False))
        until = parse_value("date", raw.get("deferred_until"))
        month = parse_value("month", raw["month"])
    except (ValueError, TypeError) as exc:
        raise InputError(f"months 第{i}项: {exc}") from exc
    if until is not None and not deferred:
        raise InputError(f"months 第{i}项: deferred_until 只用于缓缴月份（deferred: true）")
    if until is not None and until < month:
        raise InputError(f"months 第{i}项: 缓缴期满日 {until} 早于缴费月份 {_label(month)}")
    return ContributionMonth(month, parse_value("date", raw.get("paid_on")), deferred, until)


def _retro_paint(canvas: _Canvas, gap: _Gap, reason: str, cite: str) -> None:
    for m in gap.months:
        canvas.paint(m, add_months(m, 1), COVERED, reason, cite)


def _rejoin(
    canvas: _Canvas,
    rules: _Rules,
    facts: Sequence[ContributionMonth],
    previous_end: date | None,
    first_payment: date | None,
) -> date | None:
    """Re-enrolment after a break (中断后再参保 / 转移接续); paints and returns the first covered day."""
    rule = rules.grouped("rejoin_rule")
    rule_key = rules.gkey("rejoin_rule")
    gap = _gap(previous_end, facts, first_payment)
    resume = month_start(first_payment) if first_payment else facts[0].month
    start = max(resume, facts[0].month)
    window_key = rules.key("rejoin_window_months")
    window = rules.number(window_key) if rule != "new_enrolment" else 0  # sanmenxia 第十六条 has no window
    cite = rules.cite(rule_key, window_key) if rule != "new_enrolment" else rules.cite(rule_key)
    gap_zh = f"中断{gap.count}个月" if gap.known else "中断时长不明"

    def new_enrolment(prefix: str) -> date | None:
        cover, why, wcite = _group_wait(rules, payment=first_payment, months=facts, first_month=start)
        both = _join(cite, wcite)
        canvas.paint(start, None, WAITING, f"{prefix}，按新参保：{why}", both)
        if cover is not None:
            canvas.paint(max(cover, start), None, COVERED, "等待期满，享受职工医保待遇", both)
        return cover

    if rule != "new_enrolment" and gap.known and gap.count == 0:
        canvas.paint(facts[0].month, None, COVERED, "接续参保，无中断，连续享受待遇", cite)
        return facts[0].month

    if rule == "transfer":  # hunan 第五十九条
        if gap.within(window):
            canvas.paint(
                start, None, COVERED, f"转移接续，{gap_zh}（不超过{window}个月），不设等待期，缴费当月起享受", cite
            )
            made_up = [m for m in gap.months if any(f.month == m and f.paid_on for f in facts)]
            for m in made_up:
                canvas.paint(m, add_months(m, 1), COVERED, "中断期间已补缴，待遇追溯享受", cite)
            return start
        return new_enrolment(f"转移接续，{gap_zh}（超过{window}个月），中断期间待遇不予追补")

    if rule == "makeup_choice":  # langfang 第二十四条
        if gap.known and gap.made_up:
            assert gap.made_up_on is not None
            cover = add_months(gap.made_up_on, 1)
            canvas.paint(start, None, WAITING, f"{gap_zh}，{gap.made_up_on} 补缴中断期间费用，补缴次月起享受", cite)
            canvas.paint(cover, None, COVERED, "补缴次月起享受统筹基金报销待遇", cite)
            if gap.within(window):
                _retro_paint(canvas, gap, f"中断不超过{window}个月且已补缴：中断期间门诊慢特病、住院医疗费可报销", cite)
            return cover
        n = rules.number(rules.key("rejoin_wait_months"))
        wcite = rules.cite(rule_key, rules.key("rejoin_wait_months"))
        cover, why = _wait_cover("consecutive_paid_months", n, payment=first_payment, months=facts, first_month=start)
        canvas.paint(start, None, WAITING, f"{gap_zh}，未补缴中断期间费用，设{n}个月待保期：{why}", wcite)
        if cover is not None:
            canvas.paint(cover, None, COVERED, "待保期满，享受统筹基金报销待遇", wcite)
        return cover

    if rule == "month_after_payment_within_window":  # sanmenxia 第十七条
        # D-X19: "解除劳动关系后3个月内" runs in calendar time from the day after the previous span ended
        # (the separation), not in unpaid months: 2024-01-31 → within until 2024-04-30, 2024-05-01 is late.
        if previous_end is not None and first_payment is not None:
            last = months_later(previous_end + ONE_DAY, window) - ONE_DAY
            if first_payment <= last:
                cover = add_months(resume, 1)
                why = f"解除劳动关系后{window}个月内（{last} 前）于 {first_payment} 接续，缴费次月起享受（D-X19）"
                canvas.paint(start, None, WAITING, why, cite)
                canvas.paint(cover, None, COVERED, "缴费次月起享受统筹基金支付待遇", cite)
                return cover
            return new_enrolment(f"解除劳动关系超过{window}个月（{last} 后）于 {first_payment} 接续（D-X19）")
        return new_enrolment(f"{gap_zh}，解除劳动关系后{window}个月内接续无从确认（D-X19）")

    if rule == "continuous_if_made_up":  # ziyang 第十三条; D-Z9
        if gap.within(window) and gap.made_up:
            canvas.paint(start, None, COVERED, f"{gap_zh}（不超过{window}个月）已补缴，连续享受待遇", cite)
            _retro_paint(canvas, gap, "中断期间已补缴，待遇追溯享受", cite)
            return start
        why = "断保" if not gap.within(window) else "中断期间未补缴"
        return new_enrolment(f"{gap_zh}，{why}，中断期间待遇不追溯")

    if rule == "new_enrolment":  # sanmenxia 第十六条
        return new_enrolment("再参保")

    raise PolicyError(f"未知的再参保规则 (unknown rejoin rule): {rule!r}")


def _switch(
    canvas: _Canvas,
    rules: _Rules,
    facts: Sequence[ContributionMonth],
    previous_end: date | None,
    first_payment: date | None,
    previous_years: Any,
) -> date | None:
    """Switch from resident insurance (居民医保转职工医保); paints and returns the first covered day."""
    rule = rules.value("switch_rule")
    gap = _gap(previous_end, facts, first_payment)
    resume = month_start(first_payment) if first_payment else facts[0].month
    start = max(resume, facts[0].month)
    cite = rules.cite(rules.key("switch_rule"))

    def new_enrolment(prefix: str) -> date | None:
        cover, why, wcite = _group_wait(rules, payment=first_payment, months=facts, first_month=start)
        both = _join(cite, wcite)
        canvas.paint(start, None, WAITING, f"{prefix}：{why}", both)
        if cover is not None:
            canvas.paint(max(cover, start), None, COVERED, "等待期满，享受职工医保待遇", both)
        return cover

    if rule == "new_enrolment":  # hunan 第六十条
        return new_enrolment("居民医保转职工医保，职工医保等待期内费用由居民医保按居民政策报销")

    min_years = rules.number(rules.key("switch_min_continuous_years"))
    limit = rules.number(rules.key("switch_gap_months"))
    cite = rules.cite(
        rules.key("switch_rule"), rules.key("switch_min_continuous_years"), rules.key("switch_gap_months")
    )
    years = parse_value("decimal", previous_years) if previous_years is not None else None
    long_enough = years is not None and years >= min_years
    gap_zh = f"中断{gap.count}个月" if gap.known else "中断时长不明"

    if rule == "continuous_years":  # langfang 第二十五条; D-L12
        if long_enough and gap.within(limit) and gap.made_up and first_payment is not None:
            cover = max(gap.made_up_on or first_payment, start)
            canvas.paint(start, None, WAITING, "居民医保转职工医保，待补缴", cite)
            canvas.paint(
                cover, None, COVERED, f"连续参保满{min_years}年、{gap_zh}（不超过{limit}个月），补缴后即享受", cite
            )
            return cover
        return new_enrolment(f"居民医保转职工医保，未同时满足连续{min_years}年、中断不超过{limit}个月并补缴")

    if rule == "continuous_years_or_resident_level":  # ziyang 第十四条; D-Z10
        if gap.within(limit) and first_payment is not None:
            canvas.paint(start, None, WAITING, "居民医保转职工医保，待缴费", cite)
            cover = max(first_payment, start)
            if long_enough:
                canvas.paint(cover, None, COVERED, f"连续参保满{min_years}年、{gap_zh}，缴费后即享受", cite)
                return cover
            n = rules.number(rules.key("switch_resident_level_months"))
            rcite = rules.cite(rules.key("switch_rule"), rules.key("switch_resident_level_months"))
            level_end = add_months(first_payment, n)
            canvas.paint(cover, None, COVERED, "享受职工医保待遇", rcite)
            canvas.paint(
                cover,
                level_end,
                COVERED,
                f"连续参保不足{min_years}年、{gap_zh}：缴费当月起{n}个月内享受原档次（居民医保）待遇，"
                "按原档次结算、不按职工医保待遇（D-Z10）",
                rcite,
                benefit_level=PREVIOUS_SCHEME_LEVEL,
            )
            return cover
        return new_enrolment(f"居民医保转职工医保，{gap_zh}（超过{limit}个月），视为断保")

    raise PolicyError(f"未知的居民医保转职工医保规则 (unknown switch rule): {rule!r}")


# --- arrears ----------------------------------------------------------------------------------------


@dataclass
class _Episode:
    start: date  # first suspended day
    end: date | None  # the payment that cleared the last overdue month; None while unpaid
    months: list[ContributionMonth]


def _paint_arrears(
    canvas: _Canvas,
    rules: _Rules,
    due: _DueDates,
    facts: Sequence[ContributionMonth],
    *,
    as_of: date,
    cover_from: date,
    from_month: date,
) -> None:
    """Suspension for unpaid months from the month after their due date, and what a make-up restores."""
    candidates = [m for m in facts if m.month >= from_month]
    lapsed: list[ContributionMonth] = []
    if any(m.deferred for m in candidates) and rules.value("deferral_keeps_cover"):
        # hunan 第二十二条; langfang 第二十六条: 缓缴期间不影响待遇
        lapsed = [m for m in candidates if m.deferred and _lapsed(m, as_of)]
        candidates = [m for m in candidates if not m.deferred]
    _paint_ordinary_arrears(canvas, rules, due, candidates, as_of=as_of, cover_from=cover_from)
    if lapsed:  # painted last: a lapsed deferral's suspension is not undone by another make-up's retroactivity
        _paint_lapsed_deferrals(canvas, rules, lapsed, cover_from=cover_from)


def _lapsed(m: ContributionMonth, as_of: date) -> bool:
    """A deferred month whose deferral ended, on ``as_of``, without its contribution paid within it."""
    if m.deferred_until is None or as_of <= m.deferred_until:
        return False
    return m.paid_on is None or m.paid_on > m.deferred_until


def _paint_lapsed_deferrals(
    canvas: _Canvas, rules: _Rules, lapsed: Sequence[ContributionMonth], *, cover_from: date
) -> None:
    """缓缴期满未补缴 / 逾期补缴 (langfang 第二十六条): arrears from the day after the deferral ends.

    ``month_after_payment``: the days from the end of the deferral to the end of the month of the
    make-up are not covered ("补缴当月及以前欠费期间（不含缓缴期）发生的医疗费用不予报销"), cover
    resumes on the 1st of the month after the make-up ("从补缴的次月起"), whatever the number of
    months. Where a document says nothing on a lapsed deferral (hunan 第二十二条 only keeps cover
    during it) the key is missing and the case cannot be decided (D-X16).
    """
    key = rules.key("deferral_lapse_rule")
    rule = rules.value("deferral_lapse_rule")
    if rule != "month_after_payment":
        raise PolicyError(f"未知的缓缴期满规则 (unknown deferral lapse rule): {rule!r}")
    cite = rules.cite(rules.key("deferral_keeps_cover"), key)
    by_end: dict[date, list[ContributionMonth]] = {}
    for m in lapsed:
        assert m.deferred_until is not None
        by_end.setdefault(m.deferred_until, []).append(m)
    for until, months in sorted(by_end.items()):
        start = until + ONE_DAY
        labels = _labels(m.month for m in months)
        if any(m.paid_on is None for m in months):
            reason = f"缓缴期满（{until}）仍未补缴 {labels}：自 {start} 起暂停享受医保报销待遇"
            canvas.paint(start, None, SUSPENDED, reason, cite, floor=cover_from)
            continue
        paid = max(m.paid_on for m in months if m.paid_on is not None)
        back = add_months(paid, 1)
        reason = (
            f"缓缴期满（{until}）后于 {paid} 逾期补缴 {labels}：补缴当月及以前欠费期间（不含缓缴期）不予报销，"
            f"自补缴次月（{back}）起享受"
        )
        canvas.paint(start, back, SUSPENDED, reason, cite, floor=cover_from)


def _paint_ordinary_arrears(
    canvas: _Canvas,
    rules: _Rules,
    due: _DueDates,
    candidates: Sequence[ContributionMonth],
    *,
    as_of: date,
    cover_from: date,
) -> None:
    """Arrears of months not deferred: suspension, make-up, retroactivity (hunan 第十八条 ...)."""
    if not candidates:
        return
    start_rule = rules.value("suspension_start")
    intervals: list[tuple[date, date | None, ContributionMonth]] = []
    for m in candidates:
        if start_rule == "month_after_due":
            start = add_months(m.month, 1)
        elif start_rule == "day_after_due":
            start = due.due(m.month) + ONE_DAY
        else:
            raise PolicyError(f"未知的暂停起始规则 (unknown suspension start): {start_rule!r}")
        if m.paid_on is not None and m.paid_on < start:
            continue  # paid before the suspension would start (a payment on that day is already late)
        if m.paid_on is None and not due.overdue(m.month, as_of):
            continue  # not in arrears yet on as_of (D-X5)
        intervals.append((start, m.paid_on, m))
    episodes: list[_Episode] = []
    for start, end, m in sorted(intervals, key=lambda x: (x[0], x[2].month)):
        ep = episodes[-1] if episodes else None
        if ep and (ep.end is None or start < ep.end):
            ep.end = None if end is None or ep.end is None else max(ep.end, end)
            ep.months.append(m)
        else:
            episodes.append(_Episode(start, end, [m]))
    for ep in episodes:
        _paint_episode(canvas, rules, due, candidates, ep, cover_from=cover_from)


def _arrears_at(
    due: _DueDates, candidates: Sequence[ContributionMonth], paid: date, window: int | None
) -> tuple[list[date], bool]:
    """Months overdue and unpaid just before the make-up payment (D-X5): (months, exact).

    Months before the payment's month are overdue for certain; the payment month's own contribution
    only after its due day, which is read only when the outcome depends on it (``window`` None: always)
    or it is on file.
    """
    certain: list[date] = []
    maybe = False
    for m in candidates:
        if m.paid_on is not None and m.paid_on < paid:
            continue
        if m.month < month_start(paid):
            certain.append(m.month)
        elif m.month == month_start(paid) and paid.day > 1:
            maybe = True
    if not maybe:
        return certain, True
    if window is None or len(certain) == window or due.policy.has(DUE_DAY_KEY):
        return certain + ([month_start(paid)] if due.overdue(month_start(paid), paid) else []), True
    return certain, False


def _paint_episode(
    canvas: _Canvas,
    rules: _Rules,
    due: _DueDates,
    candidates: Sequence[ContributionMonth],
    ep: _Episode,
    *,
    cover_from: date,
) -> None:
    unpaid = _labels(m.month for m in ep.months)
    susp_cite = rules.cite(rules.key("suspension_start"))
    if ep.end is None:
        canvas.paint(ep.start, None, SUSPENDED, f"欠费暂停：{unpaid} 未缴", susp_cite, floor=cover_from)
        return
    paid = ep.end
    retro = rules.grouped("retroactive")
    retro_key = rules.gkey("retroactive")
    if retro == "always":  # sanmenxia 第十九条
        reason = f"欠费（{unpaid}）已于 {paid} 补足，欠缴期间暂停的待遇予以恢复"
        canvas.paint(ep.start, paid, COVERED, reason, rules.cite(retro_key), floor=cover_from)
        return
    if retro in ("within_window", "within_window_from_next_month"):
        window_key = rules.key("arrears_retroactive_window_months")
        window = rules.number(window_key)
        counted, exact = _arrears_at(due, candidates, paid, window)
        count = len(counted)
        unpaid = _labels(counted) or unpaid
        months_zh = f"{count}个月" if exact else f"{count}至{count + 1}个月"
        cite = rules.cite(retro_key, window_key)
        if count <= window:
            reason = f"补缴到账时欠费{months_zh}（不超过{window}个月），{paid} 补足后欠费期间待遇追溯（D-X5）"
            canvas.paint(ep.start, paid, COVERED, reason, cite, floor=cover_from)
            if retro == "within_window_from_next_month":
                # langfang 第二十四条 "从补缴费用的次月起享受": the make-up month itself is not covered (D-X18);
                # days before the suspension began stay covered.
                back = add_months(paid, 1)
                reason = (
                    f"{paid} 补缴欠费（{unpaid}）：中断期间待遇追溯，补缴当月不享受，"
                    f"自补缴次月（{back}）起享受（D-X18）"
                )
                canvas.paint(max(month_start(paid), ep.start), back, SUSPENDED, reason, cite, floor=cover_from)
            return
        what = f"补缴到账时欠费{months_zh}（超过{window}个月），欠费期间待遇不追溯"
    elif retro == "never":  # hunan 第十九条; D-H4
        cite = rules.cite(retro_key)
        what = "灵活就业人员补缴后欠费期间待遇不追溯"
    else:
        raise PolicyError(f"未知的追溯规则 (unknown retroactivity rule): {retro!r}")

    restore = rules.grouped("restore")
    cite = _join(cite, rules.cite(rules.gkey("restore")), susp_cite)
    if restore in ("on_payment", "day_after_payment", "month_after_payment"):
        back = {
            "on_payment": paid,
            "day_after_payment": paid + ONE_DAY,
            "month_after_payment": add_months(paid, 1),
        }[restore]
        zh = {"on_payment": "到账当日", "day_after_payment": "缴费次日", "month_after_payment": "补缴次月"}[restore]
        reason = f"欠费暂停（{unpaid}）：{what}，{paid} 补足后自{zh}（{back}）起恢复"
        canvas.paint(ep.start, back, SUSPENDED, reason, cite, floor=cover_from)
        return
    if restore == "new_enrolment":  # sanmenxia 第十七条; ziyang 第十三条, D-Z9
        counted, _ = _arrears_at(due, candidates, paid, None)
        clear = add_months(max([m.month for m in ep.months] + counted), 1)  # the month after the last in arrears
        after = clear
        if rules.grouped("wait_rule") == "from_payment_month":
            # ziyang 招录人员 (D-Z8): cover from the payment month even when that month was itself in arrears
            after = min(after, month_start(paid))
        cover, why, wcite = _group_wait(rules, payment=paid, months=candidates, first_month=after)
        both = _join(cite, wcite)
        canvas.paint(ep.start, paid, SUSPENDED, f"欠费暂停（{unpaid}）：{what}", both, floor=cover_from)
        canvas.paint(paid, None, WAITING, f"欠费超过期限，按新参保重新计算等待期：{why}", both, floor=cover_from)
        if cover is not None:
            # ziyang 第十三条 "从…重新续保缴费当月起", D-Z8: a payment month that was not itself in arrears is
            # covered from its 1st; one that was (its due day had passed) only from the payment (中断期间不追溯).
            start = cover if cover >= clear else max(cover, paid)
            canvas.paint(start, None, COVERED, "重新计算的等待期满，享受待遇", both, floor=cover_from)
        return
    raise PolicyError(f"未知的恢复待遇规则 (unknown restore rule): {restore!r}")


# --- answers ---------------------------------------------------------------------------------------------


def status_on(timeline: Sequence[Period], day: date) -> Period:
    """The period of ``timeline`` that contains ``day`` (a ``none`` period before the timeline starts)."""
    if not timeline or day < timeline[0].start:
        end = timeline[0].start if timeline else None
        return Period(date.min, end, NONE, "本次参保开始之前：无职工医保待遇", "")
    for period in timeline:
        if day in period:
            return period
    raise ValueError(f"timeline does not cover {day}")  # cannot happen: the last period is open-ended


def covered_from(timeline: Sequence[Period]) -> date | None:
    """First covered day of the enrolment (retroactively covered gap months included); None when not known
    (a retiree with no contribution months: covered throughout, the start of the enrolment not given)."""
    first = next((p.start for p in timeline if p.status == COVERED), None)
    return None if first == date.min else first


@calculation(
    "eligibility",
    inputs={
        "category": Field("str", choices=CATEGORIES),
        "months": Field("list", default=()),
        "first_enrolment": Field("bool", default=True),
        "previous_end": Field("date", default=None),
        "previous_scheme": Field("str", default=None, choices=PREVIOUS_SCHEMES),
        "previous_continuous_years": Field("decimal", default=None),
        "ask": Field("list", default=()),
    },
    outputs={"status": "map", "covered_from": "date", "benefit_level": "map"},
)
def eligibility(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """待遇享受资格：按 on 日所知的缴费情况，逐日回答享受待遇 / 等待期 / 暂停 / 无待遇。"""
    timeline = eligibility_timeline(
        policy,
        category=inputs["category"],
        months=inputs["months"],
        as_of=policy.on,
        first_enrolment=inputs["first_enrolment"],
        previous_end=inputs["previous_end"],
        previous_scheme=inputs["previous_scheme"],
        previous_continuous_years=inputs["previous_continuous_years"],
    )
    try:
        asks = [parse_value("date", d) for d in inputs["ask"]]
    except (ValueError, TypeError) as exc:
        raise InputError(f"ask: {exc}") from exc
    return {
        "status": {day: status_on(timeline, day).status for day in asks},
        "covered_from": covered_from(timeline),
        # 待遇档次: employee (the scheme's own benefits) | previous_scheme (原档次待遇, ziyang 第十四条)
        "benefit_level": {day: status_on(timeline, day).benefit_level or "employee" for day in asks},
    }
