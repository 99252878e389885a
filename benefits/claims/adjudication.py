"""审核结算 — one claim settled from plain facts (no database): the rule the screen and the bulk file share.

:func:`decide` takes the claim's facts, the person's facts (from the enrolment
span in force on the first day of care), the coverage verdict, the year's
accumulators and the personal-account balance, and returns a :class:`Decision`:
the 2303 breakdown, every step with its citation, and the accumulator deltas.
It calls the committed rule functions unchanged, in the order the seeds give:

1. amounts from the lines where lines are entered (:mod:`benefits.claims.items`);
2. the basic pool by medical type — 住院 :func:`settle_inpatient` (21; and ziyang's
   class-1 special disease, 视同住院), 普通门诊 :func:`settle_outpatient` (11), 门诊慢特病
   :func:`special_disease_outpatient` / :func:`major_disease` / :func:`single_payment_drug`
   (14), 生育 :func:`maternity_benefit` (51, 52, 53);
3. for inpatient care, the layer above the pool (``claims.layer_payment_field``):
   hunan 大病保险 → ``hifmi_pay`` and ziyang 大额医疗费用补助 → ``hifob_pay`` on the year's
   cumulative policy-range self-pay; langfang 大额补充 → ``hifob_pay`` on the costs above
   the basic pool's annual maximum (its ratios are staff-entered: a claim above the
   cap fails naming the missing key); xianning 大额补助 → ``hifob_pay``, every value
   staff-entered; sanmenxia none (a step says so);
4. ziyang 商业健康补充医疗保险 for persons insured in it (第二十八条–第三十一条) →
   ``oth_pay`` (2303 其他支出). Decision, from the seed: 第二十八条 has commercial insurers
   "设计、运营、承保" the product, 第二十九条/第三十条 have its premium paid by employers or persons
   to the insurer, and 第三十一条 speaks of 赔付 (an insurer's payout), not of 基金支付; the
   document gives the bureau no fund or account for it. So ``oth_pay`` is paid by the insurer:
   it is not in ``fund_pay_sumamt``, it reduces the person's own share (``psn_cash_pay`` =
   total − funds − ``oth_pay`` − account), and it is not posted to the funds' ledger
   (:func:`benefits.claims.services.ledger_amounts`) — no ledger account is invented without a
   seed basis. The step and the result label say who pays it (``OTH_PAY_PAYER``);
5. the personal account pays what the person asks, at most the person's share
   and the balance; the rest is cash.

Care outside a stay that a jurisdiction counts as inpatient (``counted_as_inpatient``: 院前急诊,
院前检查, 急诊留观, 日间手术, 急诊抢救死亡的门诊费用; table ``inpatient.counted_as_inpatient``,
langfang 第四十七条(一)1/3, xianning 细则 第二十三条, ziyang 第十八条(三)) is entered under
med_type 11 or 21 and settled as a stay; when the table's conditions are not met the claim is
refused with the reason (the costs fall under the outpatient rules), and a kind the table does
not give stops on the missing value.

A stay spanning two years is split by year (``first_year_amount``) with one
deductible (D-X15): the second year's part is settled as ``continued_stay``
``cross_year`` with ``deductible_paid_this_stay`` = the deductible borne in the
first. A transfer (``transfer_from``, direction ``continued_stay``) is the same stay
and not a new admission: ``inpatient.continued_stay_rules`` says whether it bears the
difference or nothing (hunan 第三十六条 downward: waived; D-H6, D-L20, D-Z12; sanmenxia
stops on the missing value), the deductible borne in the whole stay so far coming from
the linked claim (``stay_deductible``). Every benefit counted toward the pool's overall
annual cap (``claims.inpatient_cap_counts``) is given what the pool already paid under
all of them this year (langfang D-L9, ziyang 第十二条(四)); langfang's 大额 pays the cost
above that cap for outpatient pooling and 门诊慢特病 too. A manual claim past
``claims.manual_claim_deadline`` (langfang 第七十三条; xianning 细则 第二十五条) is refused. Policy in
force: the last day of care (discharge; 31 December for the first part of a cross-year stay); age on
the first day (D-X7).

The steps by benefit family live in :mod:`benefits.claims.families`; this module keeps the facts, the
order of the steps and the 2303 breakdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from batch.dates import months_later
from benefits.calculations._common import ZERO, cite, fmt
from benefits.calculations.inpatient import COUNTED_ZH
from benefits.calculations.resident import EMPLOYEE_INSUTYPE, RESIDENT_INSUTYPE
from policy.calculations import InputError, money
from policy.resolver import PolicyError

from .facts import ClaimFacts, Coverage, PersonFacts
from .families.base import LAYER_FIELDS, POOL_FIELDS, Acc, Book, Parts
from .families.base import policy_for as _policy
from .families.consultation import pay_consultation_apart
from .families.employer_liability import Interruption, bear_costs
from .families.inpatient import pay_inpatient
from .families.layers import above_cap
from .families.maternity import pay_maternity
from .families.outpatient import pay_outpatient
from .families.previous_level import pay_previous_level
from .families.registers import check_registers
from .families.resident import pay_resident
from .families.special import pay_special
from .items import items_total
from .registers import audit_gate, institution_gate

__all__ = [
    "COUNTED_AS_INPATIENT_MED_TYPES",
    "LAYER_FIELDS",
    "OTH_PAY_PAYER",
    "POOL_FIELDS",
    "SUPPLEMENTARY_FIELD",
    "Acc",
    "ClaimFacts",
    "Coverage",
    "Decision",
    "PersonFacts",
    "above_cap",
    "deadline_last_day",
    "decide",
]

SUPPLEMENTARY_FIELD = "oth_pay"  # 2303 其他支出: ziyang 商业健康补充医疗保险
#: Who pays ``oth_pay`` (shown with the result): the insurer, not a medical-insurance fund (ziyang 第二十八条).
OTH_PAY_PAYER = "由承保的商业保险机构赔付，不属医保基金支付，不计入基金支付总额，不记入医保基金账"
#: Medical types under which care outside a stay may be entered as counted as inpatient:
#: 11 (急诊留观, 日间手术, 急诊抢救死亡的门诊费用) or 21 (院前急诊/院前检查 included in the stay).
COUNTED_AS_INPATIENT_MED_TYPES = ("11", "21")


@dataclass
class Decision:
    status: str  # adjudicated | refused | review (住院审核: to a case worker's queue with the reason)
    refusal_reason: str = ""
    breakdown: dict[str, Decimal] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    effects: dict[str, dict[str, Any]] = field(default_factory=dict)  # str(year) → deltas
    layer_field: str | None = None
    amounts: dict[str, Decimal] = field(default_factory=dict)  # the claim's amounts (computed from lines)
    # The rules' other outputs (models.EXTRA_RESULT_FIELDS) and the deductible borne in the whole stay.
    extra: dict[str, Any] = field(default_factory=dict)
    insutype: str = EMPLOYEE_INSUTYPE  # the scheme whose fund pays (390: the resident fund's accounts)


def decide(
    facts: ClaimFacts,
    person: PersonFacts,
    *,
    coverage: Coverage,
    accs: Mapping[int, Acc],
    balance: Decimal,
    interruption: Interruption | None = None,
) -> Decision:
    """Settle one claim. Raises ``PolicyError`` (a value the seed does not give) or ``InputError``.

    Steps: 待遇资格 and 申请期限 (:func:`_deadline`), 费用 (:func:`_costs`), the benefit by medical type
    (:func:`_pay_benefit`), 个人账户 and cash (:func:`_breakdown`), 结算 (:func:`_settlement_steps`).
    A claim refused because its first day fell in an interruption of cover (``interruption``) gets the step
    费用承担 (:func:`benefits.claims.families.employer_liability.bear_costs`: hunan 第二十条, langfang 第二十三条):
    it stays refused for the fund, and the employer's liability is computed.
    """
    book = Book()
    book.step("待遇资格", coverage.reason, coverage.citation)
    if not coverage.ok:
        refused = Decision("refused", refusal_reason=coverage.reason, steps=book.steps)
        if interruption is not None:
            steps, extra = bear_costs(
                facts,
                person,
                interruption,
                settle=lambda cover: decide(facts, person, coverage=cover, accs=accs, balance=balance),
            )
            refused.steps.extend(steps)
            refused.extra.update(extra)
        return refused
    facts, accs, unregistered = check_registers(facts, accs, book)  # 就医登记 (benefits.registers)
    if unregistered:
        return Decision("refused", refusal_reason=unregistered, steps=book.steps)
    late = _deadline(facts, book)
    if late:
        return Decision("refused", refusal_reason=late, steps=book.steps)
    # 两定机构 and 住院审核 (benefits.claims.registers): the agreement in force, then the audit checks.
    not_designated = institution_gate(facts, book)
    if not_designated:
        return Decision("refused", refusal_reason=not_designated, steps=book.steps)
    action, reason = audit_gate(facts, book)
    if action:
        return Decision("refused" if action == "refuse" else "review", refusal_reason=reason, steps=book.steps)
    amounts = _costs(facts, book)
    parts = Parts()
    scheme, fund = _scheme_step(facts, person, coverage, book)
    if scheme == RESIDENT_INSUTYPE:
        refusal = pay_resident(facts, person, accs, amounts["inscp_scp_amt"], book, parts)
    elif coverage.benefit_level == "previous_scheme":  # ziyang 第十四条: never at employee values
        pay_previous_level(facts, accs, amounts["inscp_scp_amt"], book, parts, citation=coverage.citation)
        refusal = ""
    else:
        refusal = _pay_benefit(facts, person, accs, amounts["inscp_scp_amt"], book, parts)
    if refusal:
        return Decision(
            "refused", refusal_reason=refusal, steps=book.steps, amounts=amounts, extra=_extra(facts, parts)
        )
    breakdown = _breakdown(facts, person, amounts["medfee_sumamt"], balance, book, parts, fund)
    _settlement_steps(breakdown, book, parts)
    for year in {facts.end.year}:
        book.delta(year, "claims_count", 1)
        book.delta(year, "acct_paid", breakdown["acct_pay"])
    return Decision(
        "adjudicated",
        breakdown=breakdown,
        steps=book.steps,
        effects=book.effects,
        layer_field=parts.layer_field,
        amounts=amounts,
        extra=_extra(facts, parts),
        insutype=fund,
    )


def _scheme_step(facts: ClaimFacts, person: PersonFacts, coverage: Coverage, book: Book) -> tuple[str, str]:
    """险种: (whose rules settle the claim, whose fund pays it). The scheme of the span in force on the first day
    of care (hunan 第六十条's waiting-period costs come here as 390 from the claim services); ziyang's 原档次待遇
    (第十四条) at the resident scheme's values where the jurisdiction has them, paid by the employee fund the
    person now contributes to (else the staff-entered ``claims.previous_level_values``)."""
    if person.insutype == RESIDENT_INSUTYPE:
        book.step("险种", "就医日参保险种：城乡居民基本医疗保险（390），按居民医保待遇结算", coverage.citation)
        return RESIDENT_INSUTYPE, RESIDENT_INSUTYPE
    if coverage.benefit_level == "previous_scheme":
        policy = _policy(facts, facts.end)
        if policy.has("resident_benefits.annual_cap"):
            book.step(
                "险种",
                "缴费当月起享受原档次待遇期间：按城乡居民基本医疗保险（390）待遇结算",
                f"{coverage.citation}；{cite(policy, 'resident_benefits.annual_cap')}".strip("；"),
            )
            return RESIDENT_INSUTYPE, EMPLOYEE_INSUTYPE
    return EMPLOYEE_INSUTYPE, EMPLOYEE_INSUTYPE


def _costs(facts: ClaimFacts, book: Book) -> dict[str, Decimal]:
    """费用: the claim's amounts (from its item lines where entered), checked for consistency."""
    medfee, own, pre, inscp = facts.medfee_sumamt, facts.fulamt_ownpay, facts.preselfpay, facts.inscp_scp_amt
    if facts.items:
        totals = items_total(_policy(facts, facts.end), facts.items, hospital_level=facts.hospital_level)
        book.add("费用明细", totals.steps)
        medfee, own, pre, inscp = totals.medfee_sumamt, totals.fulamt_ownpay, totals.preselfpay, totals.inscp_scp_amt
    if min(medfee, own, pre, inscp) < 0 or own + pre + inscp > medfee:
        raise InputError(f"费用金额不一致：全自费 {own} + 先行自付 {pre} + 政策范围 {inscp} 超过医疗费总额 {medfee}")
    book.step("费用", f"医疗费总额 {fmt(medfee)} 元，全自费 {fmt(own)} 元，先行自付 {fmt(pre)} 元", "", medfee)
    book.step("费用", "符合政策范围金额", "", inscp)
    return _amounts(medfee, own, pre, inscp)


def _pay_benefit(
    facts: ClaimFacts, person: PersonFacts, accs: Mapping[int, Acc], inscp: Decimal, book: Book, parts: Parts
) -> str:
    """The basic pool and the layers above it by medical type; the refusal reason when nothing is payable."""
    med = facts.med_type
    if facts.counted_as_inpatient and med not in COUNTED_AS_INPATIENT_MED_TYPES:
        raise InputError(
            f"按住院结算的门急诊费用（{COUNTED_ZH.get(facts.counted_as_inpatient, facts.counted_as_inpatient)}）"
            "只用于医疗类别 11 普通门诊或 21 普通住院"
        )
    if med == "21" or facts.counted_as_inpatient:
        pay_inpatient(facts, person, accs, inscp, book, parts)
        return parts.refusal
    if med == "11":
        apart = pay_consultation_apart(facts, inscp, book, parts)  # langfang 第四十九条(二)
        pay_outpatient(facts, person, accs, inscp - apart, book, parts)
        return ""
    if med == "14":
        pay_special(facts, person, accs, inscp, book, parts)
        return ""
    if med in ("51", "52", "53"):
        return pay_maternity(facts, person, accs, inscp, book, parts)
    raise InputError(f"医疗类别 {med!r} 不在可选值 11、14、21、51、52、53 中")


def _breakdown(
    facts: ClaimFacts,
    person: PersonFacts,
    medfee: Decimal,
    balance: Decimal,
    book: Book,
    parts: Parts,
    scheme: str = "310",
) -> dict[str, Decimal]:
    """The 2303 amounts: the personal account pays what the person asks, at most the person's share and the
    balance; the rest is cash."""
    fund = parts.hifp + parts.hifmi + parts.hifob
    share = max(medfee - fund - parts.oth, ZERO)
    acct = min(facts.acct_pay_requested, share, max(balance, ZERO))
    if facts.acct_pay_requested:
        if scheme == RESIDENT_INSUTYPE:
            acct = ZERO
            book.step("个人账户", "城乡居民基本医疗保险基金全部为统筹基金，无个人账户", "", ZERO)
        elif person.scheme == "pool_only":
            acct = ZERO
            book.step("个人账户", "单建统筹参保人员无个人账户，个人账户不支付", "", ZERO)
        else:
            book.step(
                "个人账户",
                f"申请个人账户支付 {fmt(facts.acct_pay_requested)} 元；个人负担 {fmt(share)} 元，"
                f"账户余额 {fmt(balance)} 元：账户支付三者中最小者",
                "",
                acct,
            )
    cash = share - acct
    return {
        "act_pay_dedc": money(parts.deductible),
        "hifp_pay": money(parts.hifp),
        "pool_prop_selfpay": money(parts.prop_selfpay),
        "hifmi_pay": money(parts.hifmi),
        "hifob_pay": money(parts.hifob),
        "oth_pay": money(parts.oth),
        "acct_pay": money(acct),
        "psn_cash_pay": money(cash),
        "fund_pay_sumamt": money(fund),
        "maternity_allowance": money(parts.allowance),
        "one_off_grant": money(parts.one_off_grant),
    }


def _settlement_steps(breakdown: dict[str, Decimal], book: Book, parts: Parts) -> None:
    """结算: the funds, the insurer's part, the account, the cash and what is paid besides."""
    book.step("结算", "基金支付总额（统筹 + 大病/大额）", "", breakdown["fund_pay_sumamt"])
    if parts.oth:
        book.step(
            "结算",
            f"其他支出：商业健康补充医疗保险赔付，{OTH_PAY_PAYER}",
            "ziyang 第二十八条 第三十一条",
            breakdown["oth_pay"],
        )
    book.step("结算", "个人账户支出", "", breakdown["acct_pay"])
    book.step(
        "结算",
        "个人现金支出（医疗费总额 − 基金支付 − 其他支出 − 个人账户）"
        if parts.oth
        else "个人现金支出（医疗费总额 − 基金支付 − 个人账户）",
        "",
        breakdown["psn_cash_pay"],
    )
    if parts.allowance:
        payee = {"employer": "，拨付用人单位"}.get(parts.allowance_payee or "", "")
        book.step("结算", f"生育津贴（另行支付{payee}）", "", breakdown["maternity_allowance"])
    if parts.one_off_grant:
        book.step("结算", "一次性生育补助金（另行支付）", "sanmenxia 第二十三条", breakdown["one_off_grant"])
    if parts.third_party_advance:
        book.step(
            "结算",
            "应由第三人负担的费用：统筹基金先行支付，经办机构有权向第三人追偿",
            "hunan 第三十五条；ziyang 第十二条(三)",
        )


def _extra(facts: ClaimFacts, parts: Parts) -> dict[str, Any]:
    """The results beyond the 2303 amounts; ``stay_deductible`` = deductible borne in the stay so far."""
    return {
        "third_party_advance": parts.third_party_advance,
        "benefit_scope": parts.benefit_scope,
        "allowance_payee": parts.allowance_payee or "",
        "stay_deductible": money(parts.deductible + (facts.transfer_deductible if facts.transfer else ZERO))
        if facts.med_type == "21" or facts.counted_as_inpatient
        else None,
    }


def _deadline(facts: ClaimFacts, book: Book) -> str:
    """手工报销的申请期限 (``claims.manual_claim_deadline``): the refusal reason when the claim came too late.

    Two shapes (the catalog's ``until``): ``months_after_end`` — langfang 第七十三条: care outside the
    area that could not be settled directly is claimed within 6 months of discharge; and
    ``end_of_following_year`` — xianning 细则 第二十五条: "最迟于次年底前", by 31 December of the year
    after the care ended. hunan 第六十九条, ziyang 第三十三条(二) and sanmenxia set no deadline: the step
    says so (for every claim, so that a claim gives the same steps entered or in a file).
    Settlement-file claims (direct settlement) are not manual claims.
    """
    key = "claims.manual_claim_deadline"
    policy = _policy(facts, facts.end)
    rule = policy.value(key)
    source = cite(policy, key)
    if rule is None:
        book.step("申请期限", "文件未规定手工报销的申请期限，不作期限校验", source)
        return ""
    applies = facts.med_type in [str(m) for m in rule.get("med_types") or [facts.med_type]] and not (
        rule.get("out_of_area_only") and facts.location == "local"
    )
    if not applies:
        book.step("申请期限", "本类报销不适用手工报销申请期限", source)
        return ""
    if not facts.manual:
        book.step("申请期限", "医疗机构直接结算（结算文件），不适用手工报销申请期限", source)
        return ""
    if facts.submitted_on is None:
        raise InputError(f"手工报销须填写申请受理日期（校验报销期限，{source}）")
    last, within = deadline_last_day(rule, facts.end, key)
    if facts.submitted_on > last:
        reason = f"超过报销期限：{within}（{last} 前）申请，申请受理日期 {facts.submitted_on}，不予受理（{source}）"
        book.step("申请期限", reason, source)
        return reason
    book.step("申请期限", f"{within}申请（{last} 前），申请受理日期 {facts.submitted_on}", source)
    return ""


def deadline_last_day(
    rule: Mapping[str, Any], end: date, key: str = "claims.manual_claim_deadline"
) -> tuple[date, str]:
    """The last day to claim for care that ended on ``end``, and the rule in words.

    ``until: months_after_end`` (the default when only ``months`` is given; langfang 第七十三条) →
    the same day ``months`` later; ``until: end_of_following_year`` (xianning 细则 第二十五条
    "最迟于次年底前") → 31 December of the following year.
    """
    until = rule.get("until") or ("months_after_end" if rule.get("months") is not None else None)
    if until == "end_of_following_year":
        return date(end.year + 1, 12, 31), "最迟于次年底前"
    if until == "months_after_end":
        if rule.get("months") is None:
            raise PolicyError(f"{key}: until months_after_end 须给出 months（月数）")
        months = int(rule["months"])
        return months_later(end, months), f"出院（就诊）后 {months} 个月内"
    raise PolicyError(f"{key}: 未知的申请期限口径 until={until!r}（months_after_end / end_of_following_year）")


def _amounts(medfee: Decimal, own: Decimal, pre: Decimal, inscp: Decimal) -> dict[str, Decimal]:
    return {"medfee_sumamt": medfee, "fulamt_ownpay": own, "preselfpay": pre, "inscp_scp_amt": inscp}
