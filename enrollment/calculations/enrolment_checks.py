"""参保登记核查: registration deadlines and the enrolment checks, as plain functions over facts and dates.

Each function reads its rule values from a :class:`policy.resolver.Policy` (dated, cited) and returns a
fact or the refusal message citing the article; nothing here writes. Services and screens call them:
:mod:`enrollment.requests.services` (增减员申请), :func:`enrollment.services.life_event_record` (登记时限),
:func:`enrollment.services.span_enrolment_check` (the age rule on every enrolment: the span and life-event
screens, the requests, any service opening a span).

- 登记时限 registration deadline: hunan 第十七条, langfang 第十条 (第七条、第八条), sanmenxia 第十六条;
- 参保年龄 age: hunan 第十六条 (非劳动年龄段不得参加, 上限为第二十八条、第二十九条的法定退休年龄);
  langfang 第六条 (超过法定退休年龄的灵活就业人员不予参保);
- 职工医保与居民医保同时参保 dual enrolment: hunan 第十六条;
- 退休人员不办理转出 retiree transfers: hunan 第二十三条;
- 单建统筹 → 统账结合 once, from the next month: ziyang 第九条(八);
- 断保一年以上不再补缴 make-up limit: ziyang 第十三条.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from batch.dates import add_months, age_on, first_of_next_month
from policy.resolver import Policy

DEADLINE = "enrollment.registration_deadline_days"
AGE_RULE = "enrollment.age_rule"
DUAL = "enrollment.no_employee_and_resident_at_once"
RETIREE_TRANSFER = "enrollment.retiree_transfer_out_allowed"
SCHEME_CHANGE = "enrollment.scheme_change_rule"
MAKEUP_LIMIT = "enrollment.makeup_break_limit_months"
EMPLOYER_REGISTRATION_DEADLINE = "employers.registration_deadline_days"
EMPLOYER_CHANGE_DEADLINE = "employers.change_deadline_days"

#: 险种: 310 职工基本医疗保险, 390 城乡居民基本医疗保险 (national platform codes).
EMPLOYEE_INSUTYPE, RESIDENT_INSUTYPE = "310", "390"


# --- 登记时限 ------------------------------------------------------------------------------------------


def registration_deadline(policy: Policy, occurred_on: date) -> date | None:
    """Last day to report a hire or separation that occurred on ``occurred_on``; ``None`` where no document
    sets a deadline (the event is then not judged late). Day 1 is the day after the change (30日内)."""
    days = policy.at(occurred_on).value(DEADLINE, None)
    if days is None:
        return None
    return occurred_on + timedelta(days=int(days))


def employer_registration_deadline(policy: Policy, founded_on: date) -> date | None:
    """Last day for an employer founded on ``founded_on`` to apply for registration (langfang 第七条
    "自成立之日起30日内": day 1 is the day after founding); ``None`` where no document sets a deadline."""
    days = policy.at(founded_on).value(EMPLOYER_REGISTRATION_DEADLINE, None)
    if days is None:
        return None
    return founded_on + timedelta(days=int(days))


def employer_change_deadline(policy: Policy, occurred_on: date) -> date | None:
    """Last day to report a change or the termination of an employer (langfang 第八条 "自变更或者终止之日起30日内");
    ``None`` where no document sets one."""
    days = policy.at(occurred_on).value(EMPLOYER_CHANGE_DEADLINE, None)
    if days is None:
        return None
    return occurred_on + timedelta(days=int(days))


def days_late(deadline: date | None, reported_on: date) -> int:
    """Days the report came after the deadline (0 when on time or when there is no deadline)."""
    if deadline is None or reported_on <= deadline:
        return 0
    return (reported_on - deadline).days


# --- 参保年龄 ------------------------------------------------------------------------------------------


def retirement_age(policy: Policy, *, sex: str, female_role: str, category: str) -> int:
    """法定退休年龄 from the jurisdiction's keys (hunan 第二十八条; flexible workers 第二十九条).

    Raises the resolver's missing-value error where the document gives none (langfang: staff enter it).
    """
    flexible = category == "flexible"
    if sex == "1":
        key = (
            "retirement.flexible_age_male"
            if flexible and policy.has("retirement.flexible_age_male")
            else ("retirement.age_male")
        )
        return int(policy.value(key))
    if flexible and policy.has("retirement.flexible_age_female"):
        return int(policy.value("retirement.flexible_age_female"))
    if female_role == "cadre":
        return int(policy.value("retirement.age_female_cadre"))
    if female_role == "worker":
        return int(policy.value("retirement.age_female_worker"))
    raise AgeFactMissing("女职工须登记女职工身份（女干部/女工人），据此确定法定退休年龄。")


def female_age_bounds(policy: Policy) -> tuple[int, int]:
    """The lower and the higher of the female workers' and cadres' retirement ages (hunan 第二十八条: 50, 55)."""
    ages = (int(policy.value("retirement.age_female_worker")), int(policy.value("retirement.age_female_cadre")))
    return min(ages), max(ages)


class AgeFactMissing(ValueError):
    """A fact the age rule needs is not in the register (a woman's 女干部/女工人 role)."""


def enrolment_age_refusal(
    policy: Policy, *, category: str, birth_date: date, sex: str, female_role: str, on: date
) -> str | None:
    """The refusal (citing the article) when a person of this age may not enrol on ``on``, else ``None``.

    working_age (hunan 第十六条): at or past the legal retirement age an in-service or flexible enrolment
    is refused (retirees and make-up payments are not enrolments). flexible_not_over_retirement_age
    (langfang 第六条): only flexible workers are refused. No key: no age rule in the document. A woman
    without a registered 女干部/女工人 role is judged when both ages give the same answer (under the lower:
    admitted; at or over the higher: refused); between them :class:`AgeFactMissing` asks for the role.
    """
    policy = policy.at(on)
    rule = policy.value(AGE_RULE, None)
    if rule is None or category == "retiree":
        return None
    if rule == "flexible_not_over_retirement_age" and category != "flexible":
        return None
    age = age_on(birth_date, on)
    try:
        limit = retirement_age(policy, sex=sex, female_role=female_role, category=category)
    except AgeFactMissing:
        # a woman whose 女干部/女工人 role is not registered: the role matters only between the two ages
        low, high = female_age_bounds(policy)
        if age < low:
            return None
        if age < high:
            raise
        limit = high
    if age < limit:
        return None
    cite = policy.citation(AGE_RULE)
    if rule == "working_age":
        return f"{on} 时年满 {age} 周岁，已达法定退休年龄 {limit} 周岁（非劳动年龄段），不得参加职工医保（{cite}）。"
    return f"{on} 时年满 {age} 周岁，已超过法定退休年龄 {limit} 周岁，不列入灵活就业人员参保范围（{cite}）。"


# --- 职工医保与居民医保同时参保 ------------------------------------------------------------------------


@dataclass(frozen=True)
class SpanFact:
    """One enrolment span as the dual-enrolment check sees it: 险种 and the half-open period."""

    insutype: str
    start: date
    end: date | None


def overlaps(a: SpanFact, b: SpanFact) -> bool:
    return (a.end is None or b.start < a.end) and (b.end is None or a.start < b.end)


def dual_enrolment(policy: Policy, spans: Iterable[SpanFact]) -> str | None:
    """The flag (citing the article) when a person is in employee (310) and resident (390) insurance over
    the same period, else ``None``; jurisdictions whose documents are silent raise no flag."""
    if not policy.value(DUAL, None):
        return None
    spans = list(spans)
    employee = [s for s in spans if s.insutype == EMPLOYEE_INSUTYPE]
    resident = [s for s in spans if s.insutype == RESIDENT_INSUTYPE]
    for e in employee:
        for r in resident:
            if overlaps(e, r):
                start = max(e.start, r.start)
                return f"自 {start} 起同时参加职工医保和居民医保（{policy.citation(DUAL)}）。"
    return None


# --- 退休人员转出 --------------------------------------------------------------------------------------


def retiree_transfer_refusal(policy: Policy, *, category: str, on: date) -> str | None:
    """Refusal of a transfer out for a retiree where the document says retirees do not transfer (hunan
    第二十三条); in-service persons always may. A retiree elsewhere needs the value (missing → error)."""
    if category != "retiree":
        return None
    policy = policy.at(on)
    if policy.value(RETIREE_TRANSFER):
        return None
    return f"退休人员原则上不办理医保关系转移接续（{policy.citation(RETIREE_TRANSFER)}）。"


# --- 参保方式变更 ----------------------------------------------------------------------------------------


def scheme_change_start(policy: Policy, *, current: str, target: str, changed_before: bool, on: date) -> date:
    """First day of the new 参保方式 for a change applied for on ``on`` (ziyang 第九条(八)): only 单建统筹 →
    统账结合, only once, from the next month. Raises ``ValueError`` with the refusal; the resolver's
    missing-value error where the document has no such rule."""
    policy = policy.at(on)
    policy.value(SCHEME_CHANGE)  # once_pool_to_combined_next_month is the only rule a document gives
    cite = policy.citation(SCHEME_CHANGE)
    if changed_before:
        raise ValueError(f"参保方式已变更过一次，不得再次变更（{cite}）。")
    if current != "pool_only" or target != "combined":
        raise ValueError(f"只能由单建统筹变更为统账结合，不得变更回单建统筹（{cite}）。")
    return first_of_next_month(on)


# --- 断保补缴时限 ------------------------------------------------------------------------------------------


def makeup_refusal(policy: Policy, *, break_start: date, resumed_on: date) -> str | None:
    """Refusal to make up a break in payment (首个欠缴月 ``break_start`` to the resumption ``resumed_on``)
    longer than the limit (ziyang 第十三条: 断保一年以上不再补缴; the years before still count)."""
    policy = policy.at(resumed_on)
    limit = policy.value(MAKEUP_LIMIT, None)
    if limit is None:
        return None
    if resumed_on <= add_months(break_start, int(limit)):
        return None
    return (
        f"中断缴费自 {break_start} 起已超过 {int(limit)} 个月，中断期间不再补缴；原有缴费年限合并计算"
        f"（{policy.citation(MAKEUP_LIMIT)}）。"
    )


def makeup_closed_before(policy: Policy, on: date) -> date | None:
    """The latest 断保起始月 whose break can no longer be made up on ``on`` (ziyang 第十三条: 断保一年以上
    不再补缴断保期间基本医疗保险费); ``None`` where no document sets a limit (every break may be made up).

    Step of :func:`makeup_refusal` read backwards: a break starting on the 1st ``break_start`` is closed on
    ``on`` when ``on > break_start + limit months``, i.e. when ``break_start + limit`` is a 1st strictly
    before ``on``. The answer is that 1st minus the limit, so the allocation SQL compares one date.
    """
    policy = policy.at(on)
    limit = policy.value(MAKEUP_LIMIT, None)
    if limit is None:
        return None
    latest_first = on.replace(day=1) if on.day > 1 else add_months(on.replace(day=1), -1)
    return add_months(latest_first, -int(limit))


def break_runs(unpaid: Iterable[date], paid: Iterable[date]) -> list[list[date]]:
    """断保期间: the unpaid months (1sts) cut into runs; a paid month between two unpaid ones ends a run.

    Months with no due at all (not enrolled) do not end a run: the break is counted from its first unpaid
    month to the resumption, as :func:`makeup_refusal` reads it.
    """
    paid_sorted = sorted(set(paid))
    runs: list[list[date]] = []
    for month in sorted(set(unpaid)):
        if runs and not any(runs[-1][-1] < p < month for p in paid_sorted):
            runs[-1].append(month)
        else:
            runs.append([month])
    return runs


def makeup_closed_months(policy: Policy, *, unpaid: Iterable[date], paid: Iterable[date], on: date) -> list[date]:
    """不再补缴的月份: the unpaid months before the month of ``on`` (the payment or evaluation date) that lie
    in a break begun more than ``enrollment.makeup_break_limit_months`` before ``on`` (ziyang 第十三条:
    断保一年以上不再补缴断保期间基本医疗保险费, 原有缴费年限合并计算). The month of ``on`` and later months are
    the resumption (重新续保缴费当月) and stay payable. Empty where no document sets a limit.

    Steps: :func:`break_runs` (the runs of unpaid months), :func:`makeup_closed_before` (the cut-off),
    then every month before ``on``'s month of a run starting on or before the cut-off.
    """
    cutoff = makeup_closed_before(policy, on)
    if cutoff is None:
        return []
    current = on.replace(day=1)
    closed: list[date] = []
    for run in break_runs((m for m in unpaid if m < current), paid):
        if run[0] <= cutoff:
            closed.extend(run)
    return closed
