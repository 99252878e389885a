"""用人单位变动与中断缴费费用承担: the rules, as plain functions over facts and dates (nothing here writes).

Each function reads its rule values from a :class:`policy.resolver.Policy` (dated, cited; keys in
``policy/policies/catalog/employers.yaml``) and returns a fact or a refusal naming the article. The services in
:mod:`contributions.employer_events.services` and the claim step in :mod:`benefits.claims.families.employer_liability`
call them.

- 单位登记时限 registration from the founding date (成立之日起30日内): langfang 第七条; change or termination
  (变更、终止之日起30日内): langfang 第八条;
- 欠费承继 successor liability for arrears and late fees on a transfer, merger or split (转让、兼并、合并、分立):
  langfang 第二十七条, sanmenxia 第二十条, ziyang 第三十六条(五);
- 破产关闭 bankruptcy or closure: settlement of arrears (hunan 第二十四条, langfang 第二十八条), retirees handed to a
  trustee unit (托管单位, langfang 第二十八条), the one-off reserve for ten years of retirees (一次性提留/缴纳10年
  职工医保费: hunan 第二十四条 for state-owned and collective firms; sanmenxia 第二十条 for every bankrupt or
  cancelled employer, 退职人员 counted as retirees);
- 中断缴费期间医疗费用的承担 who bears the cost of care during an interruption caused by the employer's arrears:
  hunan 第二十条 (any length; the person's own share stays with the person), langfang 第二十三条 (only when the
  interruption lasts more than 3 months; counted in unpaid months, D-X5).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from batch.dates import add_months
from enrollment.calculations.enrolment_checks import EMPLOYER_CHANGE_DEADLINE, employer_change_deadline
from enrollment.calculations.enrolment_checks import days_late as _days_late
from policy.calculations import money
from policy.resolver import Policy, PolicyMissing

SUCCESSOR = "employers.successor_takes_arrears"
TRUSTEE = "employers.retirees_to_trustee"
RESERVE_EMPLOYERS = "employers.closure_reserve_employers"
RESERVE_YEARS = "employers.closure_reserve_years"
RESERVE_BASIS = "employers.closure_reserve_basis"
RETIREE_MEDICAL_COST = "employers.retiree_average_medical_cost"
RESIGNED_AS_RETIREES = "employers.closure_reserve_resigned_as_retirees"
COSTS_ON_EMPLOYER = "employers.interruption_costs_on_employer"
COSTS_OVER_MONTHS = "employers.interruption_costs_over_months"
#: 单位变更、终止的办理时限 (langfang 第八条): the rule lives with the register's other deadlines.
CHANGE_DEADLINE = EMPLOYER_CHANGE_DEADLINE
__all__ = ["employer_change_deadline"]  # re-exported for the service

#: 经济类型 that hunan 第二十四条 names: 国有企业（含国有控股企业）、集体企业.
STATE_OR_COLLECTIVE = frozenset({"state", "state_controlled", "collective"})
MONTHS_PER_YEAR = 12


# --- 单位登记时限 (langfang 第七条、第八条): in enrollment.calculations.enrolment_checks -------------------


def days_late(deadline: date | None, reported_on: date | None) -> int:
    """Days the report came after the deadline (0 when on time, or with no deadline or no report date)."""
    return 0 if reported_on is None else _days_late(deadline, reported_on)


# --- 欠费承继 (langfang 第二十七条, sanmenxia 第二十条, ziyang 第三十六条(五)) ----------------------------------


def successor_takes_arrears(policy: Policy) -> bool:
    """Whether the successor takes over the predecessor's arrears and late fees; ``PolicyMissing`` naming
    ``employers.successor_takes_arrears`` where the document is silent (hunan, xianning: staff decide, D-X16)."""
    return bool(policy.value(SUCCESSOR))


def successor_refusal(
    *, predecessor_id: int, successor_id: int | None, successor_terminated: bool, same_jurisdiction: bool
) -> str | None:
    """Why a successor cannot take over (the message shown on the form), or ``None``."""
    if successor_id is None:
        return "合并、分立、转制须指定接收或继续经营的单位。"
    if successor_id == predecessor_id:
        return "接收单位不能是原单位本身。"
    if successor_terminated:
        return "接收单位已终止参保（已关闭注销或破产），不能承接原单位的医疗保险责任。"
    if not same_jurisdiction:
        return "接收单位须与原单位在同一统筹区（欠费与参保关系按统筹区管理）。"
    return None


def retirees_need_trustee(policy: Policy) -> bool:
    """Whether a bankrupt (or dissolved) employer's retirees must be handed to a trustee unit (langfang 第二十八条);
    ``False`` where no document says so (a trustee may still be named)."""
    return bool(policy.value(TRUSTEE, None))


# --- 一次性预留医保费 (hunan 第二十四条, sanmenxia 第二十条) -----------------------------------------------------


@dataclass(frozen=True)
class Reserve:
    """The one-off reserve for a closed or bankrupt employer's retirees (一次性提留/缴纳的职工医保费)."""

    applies: bool
    persons: int = 0  # retirees, plus 退职 persons where they count
    per_person: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)
    reason: str = ""
    citation: str = ""


def reserve_applies(policy: Policy, *, ownership: str) -> tuple[bool, str]:
    """(applies, reason): whether a closure or bankruptcy of an employer of this 经济类型 owes the reserve.

    hunan 第二十四条: only 国有企业（含国有控股企业）、集体企业; sanmenxia 第二十条: every bankrupt or cancelled
    employer. Where no document provides a reserve (langfang, ziyang, xianning) nothing is owed."""
    scope = policy.value(RESERVE_EMPLOYERS, None)
    if scope is None:
        return False, "文件未规定关闭破产单位为退休人员一次性预留医保费"
    if scope == "all":
        return True, "破产、撤销（注销）的用人单位为退休人员一次性缴纳医保费"
    if ownership in STATE_OR_COLLECTIVE:
        return True, "国有企业（含国有控股企业）、集体企业关闭或破产改制，为退休人员一次性提留医保费"
    return False, "非国有、集体企业，不适用一次性提留医保费"


def reserve_persons(policy: Policy, *, retirees: int, resigned: int) -> int:
    """Persons the reserve is owed for: the retirees, plus the 退职 persons where they are managed like retirees
    (sanmenxia 第二十条). With 退职 persons present and the document silent, ``PolicyMissing`` names the key."""
    if retirees < 0 or resigned < 0:
        raise ValueError("人数不能为负")
    if resigned == 0:
        return retirees
    return retirees + (resigned if policy.value(RESIGNED_AS_RETIREES) else 0)


def reserve_per_person(policy: Policy) -> Decimal:
    """One person's reserve (D-X12: rounded to the fen, it is a bill line).

    - ``reference_wage_employer_rate`` (hunan 第二十四条, H10): monthly 当年度缴费基准值 × 单位缴费率 × 12 × years;
    - ``retiree_average_medical_cost`` (sanmenxia 第二十条): 全市上年度退休人员人均医疗费 (per year, staff-entered)
      × years.
    """
    years = policy.decimal(RESERVE_YEARS)
    basis = policy.value(RESERVE_BASIS)
    if basis == "reference_wage_employer_rate":
        wage = policy.stat("reference_monthly_wage")
        rate = policy.percent("contribution.employer_rate_pct")
        return money(wage * rate * MONTHS_PER_YEAR * years)
    if basis == "retiree_average_medical_cost":
        return money(policy.decimal(RETIREE_MEDICAL_COST) * years)
    raise PolicyMissing(policy.jurisdiction, RESERVE_BASIS, policy.on, label="一次性预留医保费的计算口径")


def closure_reserve(policy: Policy, *, ownership: str, retirees: int, resigned: int) -> Reserve:
    """The reserve a closing or bankrupt employer owes on the closure date (``policy`` is bound to it)."""
    applies, reason = reserve_applies(policy, ownership=ownership)
    citation = policy.citation(RESERVE_EMPLOYERS)
    if not applies:
        return Reserve(False, reason=reason, citation=citation)
    persons = reserve_persons(policy, retirees=retirees, resigned=resigned)
    per_person = reserve_per_person(policy)
    years = policy.decimal(RESERVE_YEARS)
    text = f"{reason}：{persons} 人 × 每人 {per_person} 元（{years} 年）"
    return Reserve(True, persons, per_person, per_person * persons, text, citation)


# --- 中断缴费期间医疗费用的承担 (hunan 第二十条, langfang 第二十三条) ----------------------------------------------


@dataclass(frozen=True)
class DueFact:
    """One month's due of the person at the employer: when it fell due and when it was paid in full."""

    month: date
    due_date: date | None
    settled_on: date | None
    employer_id: int | None = None  # the employer the due is billed to now (a successor after a merger)


def _late(d: DueFact, as_of: date) -> bool:
    """In arrears at some point: past its due date (D-X5: from the day after) and not paid by then."""
    if d.due_date is None or d.due_date >= as_of:
        return False
    return d.settled_on is None or d.settled_on > d.due_date


def interruption_months(dues: Iterable[DueFact], *, day: date, as_of: date) -> int:
    """Unpaid months of the interruption that covers ``day`` (0 when ``day`` is in none), counted as D-X5 does:
    the consecutive months in arrears around ``day``, seen on ``as_of`` (the run ends at the make-up payment)."""
    return len(interruption_run(dues, day=day, as_of=as_of))


def interruption_run(dues: Iterable[DueFact], *, day: date, as_of: date) -> list[DueFact]:
    """The months in arrears of the interruption that covers ``day`` (empty when ``day`` is in none).

    ``day`` is inside the interruption from the day after the first month's due date until the day the arrears
    were made up (the make-up day included: langfang 第二十三条 "欠费期间及补缴当月"), or for good while unpaid.
    """
    late = sorted((d for d in dues if _late(d, as_of)), key=lambda d: d.month)
    runs: list[list[DueFact]] = []
    for d in late:
        if runs and add_months(runs[-1][-1].month, 1) == d.month:
            runs[-1].append(d)
        else:
            runs.append([d])
    for run in runs:
        first_late = run[0].due_date + timedelta(days=1)  # type: ignore[operator]
        settled = [d.settled_on for d in run]
        made_up = None if any(s is None for s in settled) else max(settled)  # type: ignore[type-var]
        if made_up is not None and made_up > as_of:
            made_up = None  # a payment after the evaluation date is not known yet
        last = add_months(made_up, 1) - timedelta(days=1) if made_up is not None else None  # 补缴当月 included
        if first_late <= day and (last is None or day <= last):
            return run
    return []


@dataclass(frozen=True)
class CostBearer:
    """Who bears the fund's part of a claim whose care fell in an interruption (费用承担方)."""

    payer: str  # employer | person | fund | ""
    employer_amount: Decimal
    reason: str
    citation: str = ""


def cost_bearer(
    policy: Policy, *, employer_caused: bool, months: int, fund_share: Decimal, person_share: Decimal
) -> CostBearer:
    """Who pays what the fund would have paid for care inside an interruption of cover.

    - ``employer_caused`` (the employer did not pay an employee's dues): where the document puts the costs on the
      employer (hunan 第二十条; langfang 第二十三条 only when the interruption is more than
      ``employers.interruption_costs_over_months`` months), the employer bears ``fund_share``; the person's own
      share (``person_share``: 起付线、自付、超限) stays with the person;
    - otherwise (the person's own arrears, e.g. a flexible worker; or an interruption of 3 months or less in
      langfang, which the fund pays once made up) nobody is billed: the claim is refused for the fund.
    """
    if months <= 0:
        return CostBearer("", Decimal(0), "该日不在中断缴费期间内")
    if not employer_caused:
        return CostBearer("person", Decimal(0), "因个人原因中断缴费，中断期间的医疗费用由个人承担")
    on_employer = policy.value(COSTS_ON_EMPLOYER, None)
    citation = policy.citation(COSTS_ON_EMPLOYER)
    if not on_employer:
        why = "文件未规定" if on_employer is None else "文件规定不"
        return CostBearer(
            "", Decimal(0), f"{why}由用人单位承担中断缴费期间的医疗费用（{COSTS_ON_EMPLOYER}），不计单位责任", citation
        )
    over = policy.value(COSTS_OVER_MONTHS, None)
    if over is not None and months <= int(over):
        return CostBearer(
            "fund",
            Decimal(0),
            f"单位中断缴费 {months} 个月，未超过 {int(over)} 个月：补缴欠费后由统筹基金按规定支付，不由单位承担",
            citation,
        )
    share, own = money(max(fund_share, Decimal(0))), money(max(person_share, Decimal(0)))
    length = f"单位中断缴费 {months} 个月" + (f"，超过 {int(over)} 个月" if over is not None else "")
    return CostBearer(
        "employer",
        share,
        f"{length}：应由基金支付的 {share} 元由用人单位承担，个人负担 {own} 元仍由个人承担",
        citation,
    )


def settlement_totals(unpaid: Sequence[tuple[Decimal, Decimal]]) -> tuple[Decimal, Decimal]:
    """(principal, late fee) still owed over the unsettled dues given as (unpaid principal, unpaid late fee) —
    the amounts a bankrupt or closing employer must settle (hunan 第二十四条, langfang 第二十八条)."""
    principal = sum((p for p, _ in unpaid), Decimal(0))
    fee = sum((f for _, f in unpaid), Decimal(0))
    return money(principal), money(fee)
