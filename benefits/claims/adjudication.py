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
``claims.manual_claim_deadline`` (langfang 第七十三条) is refused. Policy in force: the last day
of care (discharge; 31 December for the first part of a cross-year stay); age on
the first day (D-X7).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from benefits.calculations._common import ZERO, Step, cite, fmt, months_later
from benefits.calculations.critical_illness import (
    settle_critical_illness,
    settle_supplementary,
    settle_supplementary_special_disease,
    supplementary_entitled,
)
from benefits.calculations.inpatient import COUNTED_ZH, InpatientFacts, settle_inpatient
from benefits.calculations.maternity import MaternityFacts, maternity_benefit
from benefits.calculations.outpatient import OutpatientFacts, settle_outpatient
from benefits.calculations.special_disease import major_disease, single_payment_drug, special_disease_outpatient
from config.calculations import InputError, money
from config.policy import Policy

from .items import ItemFacts, items_total

#: Benefit → the accumulator field holding what the pool paid under it this year.
POOL_FIELDS = {
    "inpatient": "inpatient_pool_paid",
    "outpatient": "outpatient_pool_paid",
    "special_disease": "special_disease_pool_paid",
    "single_payment_drug": "single_drug_pool_paid",
    "major_disease": "major_disease_pool_paid",
}
LAYER_FIELDS = ("hifmi_pay", "hifob_pay")
SUPPLEMENTARY_FIELD = "oth_pay"  # 2303 其他支出: ziyang 商业健康补充医疗保险
#: Who pays ``oth_pay`` (shown with the result): the insurer, not a medical-insurance fund (ziyang 第二十八条).
OTH_PAY_PAYER = "由承保的商业保险机构赔付，不属医保基金支付，不计入基金支付总额，不记入医保基金账"
#: Medical types under which care outside a stay may be entered as counted as inpatient:
#: 11 (急诊留观, 日间手术, 急诊抢救死亡的门诊费用) or 21 (院前急诊/院前检查 included in the stay).
COUNTED_AS_INPATIENT_MED_TYPES = ("11", "21")


@dataclass(frozen=True)
class PersonFacts:
    """What the claim needs to know about the person on the first day of care."""

    person_id: int
    birth_date: date
    sex: str  # female | male
    category: str  # employee | flexible | unemployed | retiree
    scheme: str  # combined | pool_only
    employer_kind: str  # enterprise | fiscal_institution | difficult_enterprise

    @property
    def person_type(self) -> str:
        return "retired" if self.category == "retiree" else "in_service"

    def age_on(self, day: date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


@dataclass(frozen=True)
class Coverage:
    """Was the person covered on the claim's dates (and why not)?"""

    ok: bool
    reason: str
    citation: str = ""


@dataclass(frozen=True)
class ClaimFacts:
    """A claim as entered (Claim row or file row), typed."""

    jurisdiction: str
    med_type: str
    start: date
    end: date
    hospital_level: str
    medfee_sumamt: Decimal
    inscp_scp_amt: Decimal
    fulamt_ownpay: Decimal = ZERO
    preselfpay: Decimal = ZERO
    tcm: bool = False
    location: str = "local"
    first_year_amount: Decimal | None = None
    special_kind: str = "chronic"
    disease_classes: tuple[int, ...] = ()
    major_disease_tier: str = ""
    major_disease_setting: str = ""
    poverty: bool = False
    supplementary_insured: bool = False
    supplementary_renewed_on: date | None = None
    maternity_event: str = ""
    babies: int = 1
    continuous_months: int | None = None
    policy_extra_days: int = 0
    pregnancy_months: int | None = None
    maternity_setting: str = ""
    spouse_insured: bool = False
    rare_complication: bool = False
    employer_average_monthly_wage: Decimal | None = None
    acct_pay_requested: Decimal = ZERO
    transfer: bool = False
    transfer_deductible: Decimal = ZERO  # deductible borne earlier in the same continuous stay
    transfer_level: str = ""
    items: tuple[ItemFacts, ...] = ()
    # Facts the rules take as entered (models.RULE_FACT_FIELDS); "" / None: not given.
    continued_stay: str = ""  # transfer_upward | transfer_downward | cross_year (with transfer_from)
    honoured_group: bool = False  # langfang 第七十九条
    out_of_province: bool = False  # sanmenxia 第十三条(一)
    aids: bool = False  # ziyang 第十八条(一)5
    non_designated: bool = False  # hunan 第四十条
    emergency_rescue: bool = False
    external_service: str = ""  # langfang 第四十七条(一)2 外检外购
    external_service_filed: bool = True
    high_value_drug: str = ""  # ziyang 第二十条(二)
    excluded_cause: str = ""  # hunan 第三十五条, ziyang 第十二条(三)
    third_party_unpaid: bool = False
    origin_level: str = ""  # xianning 细则 第十八条, 第十九条
    arrears_months: int = 0
    arrears_made_up: bool = False
    separated_on: date | None = None
    maternity_insured_months: int | None = None
    new_employer: bool = False
    claim_one_off_grant: bool = False  # sanmenxia 第二十三条
    maternity_excluded_item: str = ""
    policy_compliant: bool = True  # births and surgery outside family-planning policy are not paid
    free_service: bool = False  # ziyang 第二十五条
    appraised_amount: Decimal | None = None  # ziyang 第二十五条 技术鉴定组核定
    disabled_soldier_grade: int | None = None  # langfang 第八十条
    # Care outside a stay counted as inpatient (inpatient.counted_as_inpatient; langfang 第四十七条(一)1/3,
    # xianning 细则 第二十三条, ziyang 第十八条(三)) and the facts its table's conditions read.
    counted_as_inpatient: str = ""
    dates_continuous: bool = True  # 院前急诊: dates continuous with the admission
    died_in_rescue: bool = False  # 院前急诊: died in the ambulance or the emergency rescue
    days_before_admission: int | None = None  # 院前检查: days between the test and the admission
    same_hospital: bool = True  # 院前急诊 / 院前检查: at the hospital of the stay
    observation_days: int | None = None  # 急诊留观: days under observation
    submitted_on: date | None = None  # 手工报销 申请受理日期 (deadline check)
    manual: bool = False  # 手工报销 (not a hospital's settlement file)

    @property
    def years(self) -> list[int]:
        return sorted({self.start.year, self.end.year})


class Acc:
    """One year's accumulator as the rule sees it: amounts, counts and admissions per level."""

    def __init__(self, values: Mapping[str, Any] | None = None, by_level: Mapping[str, int] | None = None):
        self.values: dict[str, Any] = dict(values or {})
        self.by_level: dict[str, int] = dict(by_level or {})

    def get(self, name: str) -> Any:
        return self.values.get(name, 0)

    def apply(self, deltas: Mapping[str, Any], sign: int = 1) -> None:
        for k, v in deltas.items():
            if k == "admissions_by_level":
                for level, n in v.items():
                    self.by_level[level] = self.by_level.get(level, 0) + sign * int(n)
            elif k in ("inpatient_admissions", "claims_count"):
                self.values[k] = int(self.values.get(k, 0)) + sign * int(v)
            else:
                self.values[k] = Decimal(self.values.get(k, 0)) + sign * Decimal(v)


@dataclass
class Decision:
    status: str  # adjudicated | refused
    refusal_reason: str = ""
    breakdown: dict[str, Decimal] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    effects: dict[str, dict[str, Any]] = field(default_factory=dict)  # str(year) → deltas
    layer_field: str | None = None
    amounts: dict[str, Decimal] = field(default_factory=dict)  # the claim's amounts (computed from lines)
    # The rules' other outputs (models.EXTRA_RESULT_FIELDS) and the deductible borne in the whole stay.
    extra: dict[str, Any] = field(default_factory=dict)


class _Book:
    """Collects steps and accumulator deltas while a claim is settled."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.effects: dict[str, dict[str, Any]] = {}

    def add(self, stage: str, steps: list[Step] | tuple[Step, ...]) -> None:
        for s in steps:
            self.step(stage, s.description, s.citation, s.amount)

    def step(self, stage: str, description: str, citation: str = "", amount: Decimal | None = None) -> None:
        self.steps.append(
            {
                "stage": stage,
                "description": description,
                "citation": citation,
                "amount": None if amount is None else str(money(amount)),
            }
        )

    def delta(self, year: int, name: str, value: Any) -> None:
        if not value:
            return
        d = self.effects.setdefault(str(year), {})
        if name == "admissions_by_level":
            lv = d.setdefault(name, {})
            for k, n in value.items():
                lv[k] = lv.get(k, 0) + n
        elif name in ("inpatient_admissions", "claims_count"):
            d[name] = d.get(name, 0) + int(value)
        else:
            d[name] = str(Decimal(d.get(name, "0")) + Decimal(value))


def _policy(facts: ClaimFacts, on: date) -> Policy:
    stats = {}
    if facts.employer_average_monthly_wage is not None:
        stats["employer_average_monthly_wage"] = facts.employer_average_monthly_wage
    return Policy(facts.jurisdiction, on, stats=stats)


def decide(
    facts: ClaimFacts,
    person: PersonFacts,
    *,
    coverage: Coverage,
    accs: Mapping[int, Acc],
    balance: Decimal,
) -> Decision:
    """Settle one claim. Raises ``PolicyError`` (a value the seed does not give) or ``InputError``."""
    book = _Book()
    if not coverage.ok:
        book.step("待遇资格", coverage.reason, coverage.citation)
        return Decision("refused", refusal_reason=coverage.reason, steps=book.steps)
    book.step("待遇资格", coverage.reason, coverage.citation)
    late = _deadline(facts, book)
    if late:
        return Decision("refused", refusal_reason=late, steps=book.steps)

    medfee, own, pre, inscp = facts.medfee_sumamt, facts.fulamt_ownpay, facts.preselfpay, facts.inscp_scp_amt
    if facts.items:
        totals = items_total(_policy(facts, facts.end), facts.items, hospital_level=facts.hospital_level)
        book.add("费用明细", totals.steps)
        medfee, own, pre, inscp = totals.medfee_sumamt, totals.fulamt_ownpay, totals.preselfpay, totals.inscp_scp_amt
    if min(medfee, own, pre, inscp) < 0 or own + pre + inscp > medfee:
        raise InputError(f"费用金额不一致：全自费 {own} + 先行自付 {pre} + 政策范围 {inscp} 超过医疗费总额 {medfee}")
    book.step("费用", f"医疗费总额 {fmt(medfee)} 元，全自费 {fmt(own)} 元，先行自付 {fmt(pre)} 元", "", medfee)
    book.step("费用", "符合政策范围金额", "", inscp)

    parts = _Parts()
    med = facts.med_type
    if facts.counted_as_inpatient and med not in COUNTED_AS_INPATIENT_MED_TYPES:
        raise InputError(
            f"按住院结算的门急诊费用（{COUNTED_ZH.get(facts.counted_as_inpatient, facts.counted_as_inpatient)}）"
            "只用于医疗类别 11 普通门诊或 21 普通住院"
        )
    if med == "21" or facts.counted_as_inpatient:
        _inpatient(facts, person, accs, inscp, book, parts)
        if parts.refusal:
            return Decision(
                "refused",
                refusal_reason=parts.refusal,
                steps=book.steps,
                amounts=_amounts(medfee, own, pre, inscp),
                extra=_extra(facts, parts),
            )
    elif med == "11":
        _outpatient(facts, person, accs, inscp, book, parts)
    elif med == "14":
        _special(facts, person, accs, inscp, book, parts)
    elif med in ("51", "52", "53"):
        refusal = _maternity(facts, person, accs, inscp, book, parts)
        if refusal:
            return Decision(
                "refused",
                refusal_reason=refusal,
                steps=book.steps,
                amounts=_amounts(medfee, own, pre, inscp),
                extra=_extra(facts, parts),
            )
    else:
        raise InputError(f"医疗类别 {med!r} 不在可选值 11、14、21、51、52、53 中")

    fund = parts.hifp + parts.hifmi + parts.hifob
    share = max(medfee - fund - parts.oth, ZERO)
    acct = min(facts.acct_pay_requested, share, max(balance, ZERO))
    if facts.acct_pay_requested:
        if person.scheme == "pool_only":
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
    breakdown = {
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
    for year in {facts.end.year}:
        book.delta(year, "claims_count", 1)
        book.delta(year, "acct_paid", breakdown["acct_pay"])
    return Decision(
        "adjudicated",
        breakdown=breakdown,
        steps=book.steps,
        effects=book.effects,
        layer_field=parts.layer_field,
        amounts=_amounts(medfee, own, pre, inscp),
        extra=_extra(facts, parts),
    )


def _extra(facts: ClaimFacts, parts: _Parts) -> dict[str, Any]:
    """The results beyond the 2303 amounts; ``stay_deductible`` = deductible borne in the stay so far."""
    return {
        "third_party_advance": parts.third_party_advance,
        "benefit_scope": parts.benefit_scope,
        "allowance_payee": parts.allowance_payee or "",
        "stay_deductible": money(parts.deductible + (facts.transfer_deductible if facts.transfer else ZERO))
        if facts.med_type == "21" or facts.counted_as_inpatient
        else None,
    }


def _deadline(facts: ClaimFacts, book: _Book) -> str:
    """手工报销的申请期限 (``claims.manual_claim_deadline``): the refusal reason when the claim came too late.

    langfang 第七十三条: care outside the area that could not be settled directly is claimed within 6
    months of discharge. hunan 第六十九条, ziyang 第三十三条(二), xianning and sanmenxia set no deadline:
    the step says so (for every claim, so that a claim gives the same steps entered or in a file).
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
    last = months_later(facts.end, int(rule["months"]))
    if facts.submitted_on > last:
        reason = (
            f"超过报销期限：出院后 {rule['months']} 个月内（{last} 前）申请，"
            f"申请受理日期 {facts.submitted_on}，不予受理（{source}）"
        )
        book.step("申请期限", reason, source)
        return reason
    book.step("申请期限", f"出院后 {rule['months']} 个月内申请（{last} 前），申请受理日期 {facts.submitted_on}", source)
    return ""


def _amounts(medfee: Decimal, own: Decimal, pre: Decimal, inscp: Decimal) -> dict[str, Decimal]:
    return {"medfee_sumamt": medfee, "fulamt_ownpay": own, "preselfpay": pre, "inscp_scp_amt": inscp}


@dataclass
class _Parts:
    deductible: Decimal = ZERO
    hifp: Decimal = ZERO
    prop_selfpay: Decimal = ZERO
    hifmi: Decimal = ZERO
    hifob: Decimal = ZERO
    oth: Decimal = ZERO
    allowance: Decimal = ZERO
    one_off_grant: Decimal = ZERO
    layer_field: str | None = None
    third_party_advance: bool = False
    benefit_scope: str = ""
    allowance_payee: str | None = None
    refusal: str = ""  # nothing payable under this benefit: the reason (the claim is refused)


def _acc(accs: Mapping[int, Acc], year: int) -> Acc:
    return accs.get(year) or Acc()


def _cap_paid(policy: Policy, acc: Acc) -> Decimal:
    """Pool paid this year under the benefits counted against the overall annual cap (claims.inpatient_cap_counts).

    langfang 第四十九条(四) D-L9 (inpatient, 门诊慢特病 and outpatient pooling together, 350 000); ziyang
    第十二条(四) (6 × the average wage): the accumulators hold what the pool paid per benefit.
    """
    counted = policy.value("claims.inpatient_cap_counts")
    return sum((Decimal(acc.get(POOL_FIELDS[b])) for b in counted), ZERO)


def _opt(value: str) -> str | None:
    return value or None


def _inpatient(
    facts: ClaimFacts,
    person: PersonFacts,
    accs: Mapping[int, Acc],
    amount: Decimal,
    book: _Book,
    parts: _Parts,
    *,
    special_disease_class: int | None = None,
    no_deductible: str = "",
) -> None:
    """住院 (or 视同住院): the pool by year part, then the layer above it."""
    if facts.start.year != facts.end.year:
        if facts.end.year - facts.start.year > 1:
            raise InputError("住院跨越两个以上年度：请分段录入")
        if facts.first_year_amount is None or not ZERO <= facts.first_year_amount <= amount:
            raise InputError("跨年度住院须录入入院年度的政策范围金额（0 ≤ 金额 ≤ 符合政策范围金额；D-X15）")
        segments = [
            (facts.start.year, date(facts.start.year, 12, 31), facts.first_year_amount),
            (facts.end.year, facts.end, amount - facts.first_year_amount),
        ]
        book.step(
            "住院",
            f"跨年度住院按年度拆分：{facts.start.year} 年 {fmt(segments[0][2])} 元，"
            f"{facts.end.year} 年 {fmt(segments[1][2])} 元，只计算一次起付标准",
            "langfang 第四十七条(五), D-X15",
        )
    else:
        segments = [(facts.end.year, facts.end, amount)]
    age = person.age_on(facts.start)
    level = facts.hospital_level
    if facts.transfer and not facts.continued_stay:
        raise InputError("转院（同一次连续住院）须选择连续住院类型：向上转诊、向下转诊或跨年度住院的次年部分")
    if facts.continued_stay and not facts.transfer:
        raise InputError("连续住院类型只用于有“转院前住院”的申请（跨年度住院在同一申请内按年度拆分）")
    paid_this_stay = facts.transfer_deductible if facts.transfer else ZERO
    if no_deductible:
        paid_this_stay = amount  # 视同住院、不设起付线: nothing left of any deductible
    for i, (year, on, part_amount) in enumerate(segments):
        policy = _policy(facts, on)
        acc = _acc(accs, year)
        same_level = bool(policy.value("inpatient.repeat_counts_same_level_only"))
        count = acc.by_level.get(level, 0) if same_level else int(acc.get("inpatient_admissions"))
        new_admission = i == 0 and not facts.transfer
        if new_admission:
            number = count + 1
        elif i == 0 and same_level and facts.transfer_level != level:
            number = count + 1  # the earlier part of the stay was at another level
        else:
            number = max(count, 1)
        # The part continuing an earlier one: the transfer (first part), the second year of a stay (D-X15).
        continued = (facts.continued_stay or None) if i == 0 else "cross_year"
        if no_deductible:
            continued = None
        result = settle_inpatient(
            policy,
            InpatientFacts(
                hospital_level=level,
                policy_amount=part_amount,
                person_type=person.person_type,
                age=age,
                tcm=facts.tcm,
                location=facts.location,
                admission_number=number,
                deductibles_this_year=acc.get("inpatient_deductibles"),
                pool_paid_this_year=_cap_paid(policy, acc),
                special_disease_class=special_disease_class,
                deductible_paid_this_stay=paid_this_stay,
                continued_stay=continued,
                honoured_group=facts.honoured_group,
                disabled_soldier_grade=facts.disabled_soldier_grade,
                out_of_province=facts.out_of_province,
                aids=facts.aids,
                designated=not facts.non_designated,
                emergency_rescue=facts.emergency_rescue,
                external_service=_opt(facts.external_service),
                external_service_filed=facts.external_service_filed,
                high_value_drug=_opt(facts.high_value_drug),
                excluded_cause=_opt(facts.excluded_cause),
                third_party_unpaid=facts.third_party_unpaid,
                **_counted_facts(facts),
            ),
        )
        stage = f"住院统筹（{year} 年）" if len(segments) > 1 else "住院统筹"
        if facts.transfer and i == 0:
            book.step(
                stage,
                "转院：与转出医院的住院为同一次连续住院，不计新的住院次数",
                "hunan 第三十六条 D-H6；langfang 第四十七条(一)1 D-L20；ziyang 第十八条(一)6 D-Z12",
            )
        steps = result.steps
        if no_deductible:
            steps = [
                Step(no_deductible, s.citation, s.amount)
                if s.description.startswith("同一次连续住院已负担起付标准")
                else s
                for s in steps
            ]
        book.add(stage, steps)
        if result.not_counted:
            # Not counted as inpatient (the table's conditions not met): refused with the reason; the
            # costs may be claimed under the outpatient rules (langfang 第四十七条(一)1).
            parts.refusal = f"{result.not_counted}；可按门诊规定另行申请"
            return
        parts.third_party_advance = parts.third_party_advance or result.third_party_advance
        paid_this_stay += result.deductible
        parts.deductible += result.deductible
        parts.hifp += result.pool_pay
        parts.prop_selfpay += part_amount - result.deductible - result.pool_pay
        book.delta(year, "inpatient_deductibles", result.deductible)
        book.delta(year, "inpatient_pool_paid", result.pool_pay)
        if new_admission:
            book.delta(year, "inpatient_admissions", 1)
            book.delta(year, "admissions_by_level", {level: 1})
        if not result.ratio:
            # 不予支付 (excluded cause, non-designated, unfiled 外检外购): no layer above a pool that paid nothing.
            book.step(stage, "统筹基金不予支付的费用，不计入大病/大额及补充医疗保险", "")
            continue
        above = above_cap(part_amount, result.deductible, result.ratio, result.pool_pay)
        layer_pay = _layer(facts, policy, acc, year, result.self_pay, above, result.pool_pay, book, parts)
        if facts.supplementary_insured:
            _supplementary(facts, policy, acc, year, result.self_pay, result.deductible, layer_pay, book, parts)


def _counted_facts(facts: ClaimFacts) -> dict[str, Any]:
    """The ``counted_as_inpatient`` inputs of :func:`settle_inpatient` (none when the care is a stay)."""
    if not facts.counted_as_inpatient:
        return {}
    return {
        "counted_as_inpatient": facts.counted_as_inpatient,
        "dates_continuous": facts.dates_continuous,
        "died_in_rescue": facts.died_in_rescue,
        "days_before_admission": facts.days_before_admission,
        "same_hospital": facts.same_hospital,
        "observation_days": facts.observation_days,
    }


def above_cap(amount: Decimal, deductible: Decimal, ratio: Decimal | None, pool_pay: Decimal) -> Decimal:
    """The policy-range cost the pool left unpaid because its annual limit was reached (0 when it was not).

    Without the limit the pool pays (amount − deductible) × ratio; when it paid less, the
    cost it covered is pool_pay ÷ ratio and the rest lies above the limit.
    """
    if not ratio:
        return ZERO
    base = amount - deductible
    if money(base * ratio / 100) <= pool_pay:
        return ZERO
    return money(max(base - pool_pay * 100 / ratio, ZERO))


_LAYER_STAGE = {"hifmi_pay": "大病保险", "hifob_pay": "大额医疗费用补助"}


def _layer(
    facts: ClaimFacts,
    policy: Policy,
    acc: Acc,
    year: int,
    self_pay: Decimal,
    above: Decimal,
    pool_pay: Decimal,
    book: _Book,
    parts: _Parts,
) -> Decimal:
    """The layer above the pool on the year's cumulative measure; returns what it pays on this claim.

    Every jurisdiction's seed either defines the layer (possibly with staff-entered
    figures, which raise ``PolicyMissing`` naming the key when needed) or has none
    (``claims.layer_payment_field`` null): nothing is skipped silently.
    """
    target = policy.value("claims.layer_payment_field")
    if target is None:
        book.step(
            "大病/大额", "该统筹区办法未设职工大病保险或大额医疗费用补助", cite(policy, "claims.layer_payment_field")
        )
        return ZERO
    if target not in LAYER_FIELDS:
        raise InputError(f"参数 claims.layer_payment_field 取值无效: {target!r}")
    basis = policy.value("critical_illness.basis")
    measure = above if basis == "above_pool_cap" else self_pay
    result = settle_critical_illness(
        policy,
        self_pay_this_year=Decimal(acc.get("layer_burden")) + measure,
        above_cap_this_year=Decimal(acc.get("layer_burden")) + measure,
        paid_this_year=acc.get("layer_paid"),
        pool_paid_this_year=_cap_paid(policy, acc) + pool_pay,
        poverty=facts.poverty,
        location=facts.location,
    )
    book.add("大额补充医疗保险" if basis == "above_pool_cap" else _LAYER_STAGE[target], result.steps)
    parts.layer_field = target
    if target == "hifmi_pay":
        parts.hifmi += result.pay
    else:
        parts.hifob += result.pay
    book.delta(year, "layer_burden", measure)
    book.delta(year, "layer_paid", result.pay)
    return result.pay


def _supplementary(
    facts: ClaimFacts,
    policy: Policy,
    acc: Acc,
    year: int,
    self_pay: Decimal,
    deductible: Decimal,
    layer_pay: Decimal,
    book: _Book,
    parts: _Parts,
) -> None:
    """ziyang 商业健康补充医疗保险, 住院 (第三十一条(二)) → oth_pay."""
    stage = "商业健康补充医疗保险"
    ok, step = supplementary_entitled(policy, insured=True, renewed_on=facts.supplementary_renewed_on, day=facts.start)
    book.add(stage, [step])
    if not ok:
        return
    result = settle_supplementary(
        policy,
        self_pay_this_year=Decimal(acc.get("layer_burden")) + self_pay,
        deductibles_this_year=Decimal(acc.get("inpatient_deductibles")) + deductible,
        layer_paid_this_year=Decimal(acc.get("layer_paid")) + layer_pay,
        paid_this_year=acc.get("supplementary_paid"),
        location=facts.location,
    )
    book.add(stage, result.steps)
    parts.oth += result.pay
    book.delta(year, "supplementary_paid", result.pay)


def _outpatient(
    facts: ClaimFacts, person: PersonFacts, accs: Mapping[int, Acc], amount: Decimal, book: _Book, parts: _Parts
) -> None:
    year = facts.end.year
    policy = _policy(facts, facts.end)
    acc = _acc(accs, year)
    inputs: dict[str, Any] = {
        "hospital_level": facts.hospital_level,
        "amount": amount,
        "person_type": person.person_type,
        "age": person.age_on(facts.start),
        "location": facts.location,
        "deductible_used_this_year": acc.get("outpatient_deductible_used"),
        "pool_paid_this_year": acc.get("outpatient_pool_paid"),
        "scheme": person.scheme,
        "birth_date": person.birth_date,
        "designated": not facts.non_designated,
        "emergency_rescue": facts.emergency_rescue,
        "origin_level": _opt(facts.origin_level),
    }
    result = settle_outpatient(policy, OutpatientFacts(overall_pool_paid_this_year=_cap_paid(policy, acc), **inputs))
    book.add("普通门诊统筹", result.steps)
    parts.deductible += result.deductible
    parts.hifp += result.pool_pay
    parts.prop_selfpay += amount - result.deductible - result.pool_pay
    book.delta(year, "outpatient_deductible_used", result.deductible)
    book.delta(year, "outpatient_pool_paid", result.pool_pay)
    if result.ratio and _layer_above_overall_cap(policy, "outpatient"):
        # the same visit without the overall cap
        uncapped = settle_outpatient(policy, OutpatientFacts(**inputs)).pool_pay
        _layer_above(facts, policy, acc, year, result.ratio, uncapped, result.pool_pay, book, parts)


def _layer_above_overall_cap(policy: Policy, benefit: str) -> bool:
    """Does the layer above the pool's overall annual cap cover this (non-inpatient) benefit too?

    langfang 第五十二条 (D-L16): 大额补充 pays the costs above the basic pool's annual maximum, which
    counts inpatient, 门诊慢特病 and outpatient pooling together (第四十九条(四), 第五十一条, D-L9).
    Elsewhere the layer measures the inpatient burden only (``critical_illness.basis`` burden).
    """
    if policy.value("claims.layer_payment_field") is None:
        return False
    if policy.value("critical_illness.basis") != "above_pool_cap":
        return False
    return benefit in (policy.value("claims.inpatient_cap_counts") or [])


def _layer_above(
    facts: ClaimFacts,
    policy: Policy,
    acc: Acc,
    year: int,
    ratio: Decimal,
    uncapped: Decimal,
    pool_pay: Decimal,
    book: _Book,
    parts: _Parts,
) -> None:
    """The layer on the cost the overall cap left unpaid: (what the pool would pay − what it paid) ÷ ratio."""
    if uncapped <= pool_pay:
        return
    above = money((uncapped - pool_pay) * 100 / ratio)
    book.step(
        "大额补充医疗保险",
        f"超过统筹基金年度最高支付限额（各项待遇合并计算）的政策范围内费用 {fmt(above)} 元",
        cite(policy, "claims.inpatient_cap_counts"),
        above,
    )
    _layer(facts, policy, acc, year, ZERO, above, pool_pay, book, parts)


def _special(
    facts: ClaimFacts, person: PersonFacts, accs: Mapping[int, Acc], amount: Decimal, book: _Book, parts: _Parts
) -> None:
    year = facts.end.year
    policy = _policy(facts, facts.end)
    acc = _acc(accs, year)
    kind = facts.special_kind or "chronic"
    if kind == "chronic":
        result = special_disease_outpatient(
            policy,
            person_type=person.person_type,
            disease_classes=list(facts.disease_classes) or None,
            amount=amount,
            paid_this_year=acc.get("special_disease_pool_paid"),
            overall_pool_paid_this_year=_cap_paid(policy, acc),
        )
        book.add("门诊慢特病", result.steps)
        if result.settle_as_inpatient:
            _inpatient(
                facts,
                person,
                accs,
                amount,
                book,
                parts,
                special_disease_class=min(facts.disease_classes),
                no_deductible="第一类门诊特殊疾病视同住院，不设起付线（ziyang 第十七条(一)）",
            )
            return
        benefit = "special_disease_pool_paid"
    elif kind == "major_disease":
        result = major_disease(
            policy,
            tier=facts.major_disease_tier or None,
            setting=facts.major_disease_setting or "inpatient",
            amount=amount,
        )
        book.add("重特大疾病", result.steps)
        benefit = "major_disease_pool_paid"
    elif kind == "single_payment_drug":
        result = single_payment_drug(
            policy,
            amount=amount,
            paid_this_year=acc.get("single_drug_pool_paid"),
            overall_pool_paid_this_year=_cap_paid(policy, acc),
        )
        book.add("单行支付药品", result.steps)
        benefit = "single_drug_pool_paid"
    else:
        raise InputError(f"慢特病类别 {kind!r} 无效")
    parts.deductible += result.deductible
    parts.hifp += result.pool_pay
    parts.prop_selfpay += amount - result.deductible - result.pool_pay
    book.delta(year, benefit, result.pool_pay)
    if kind == "chronic" and result.ratio and _layer_above_overall_cap(policy, "special_disease"):
        uncapped = special_disease_outpatient(
            policy,
            person_type=person.person_type,
            disease_classes=list(facts.disease_classes) or None,
            amount=amount,
            paid_this_year=acc.get("special_disease_pool_paid"),
        ).pool_pay
        _layer_above(facts, policy, acc, year, result.ratio, uncapped, result.pool_pay, book, parts)
    if facts.supplementary_insured and kind == "chronic":
        # ziyang 第三十一条(一): class-2/3 costs above the pool's outpatient limit × 60%, ≤ 1000 a year.
        stage = "商业健康补充医疗保险"
        ok, step = supplementary_entitled(
            policy, insured=True, renewed_on=facts.supplementary_renewed_on, day=facts.start
        )
        book.add(stage, [step])
        if ok:
            above = above_cap(amount, result.deductible, result.ratio, result.pool_pay)
            sup = settle_supplementary_special_disease(
                policy, above_cap_amount=above, paid_this_year=acc.get("supplementary_sd_paid")
            )
            book.add(stage, sup.steps)
            parts.oth += sup.pay
            book.delta(year, "supplementary_sd_paid", sup.pay)


def _maternity(
    facts: ClaimFacts, person: PersonFacts, accs: Mapping[int, Acc], amount: Decimal, book: _Book, parts: _Parts
) -> str:
    """生育: medical payment (+ allowance). Returns the refusal reason when nothing is payable."""
    if not facts.maternity_event:
        raise InputError("生育类报销须填写生育/计划生育事件")
    year = facts.end.year
    policy = _policy(facts, facts.end)
    employer_kind = person.employer_kind
    result = maternity_benefit(
        policy,
        MaternityFacts(
            event=facts.maternity_event,
            babies=facts.babies,
            category=person.category,
            continuous_months=facts.continuous_months,
            sex=person.sex,
            policy_extra_days=facts.policy_extra_days,
            actual_cost=amount,
            employer_kind=employer_kind,
            spouse_insured=facts.spouse_insured,
            rare_complication=facts.rare_complication,
            setting=facts.maternity_setting or None,
            pregnancy_months=facts.pregnancy_months,
            arrears_months=facts.arrears_months,
            arrears_made_up=facts.arrears_made_up,
            separated_on=facts.separated_on,
            maternity_insured_months=facts.maternity_insured_months,
            new_employer=facts.new_employer,
            claim_one_off_grant=facts.claim_one_off_grant,
            excluded_item=_opt(facts.maternity_excluded_item),
            event_on=facts.start,
            policy_compliant=facts.policy_compliant,
            free_service=facts.free_service,
            appraised_amount=None if facts.appraised_amount is None else Decimal(facts.appraised_amount),
        ),
    )
    book.add("生育保险", result.steps)
    parts.benefit_scope = result.scope
    parts.allowance_payee = result.allowance_payee
    if not result.eligible:
        last = next((s.description for s in reversed(result.steps)), "不符合生育保险待遇条件")
        return f"不符合生育保险待遇条件：{last}"
    parts.hifp += result.medical_payment
    parts.allowance += result.allowance
    parts.one_off_grant += result.one_off_grant
    book.delta(year, "maternity_paid", result.medical_payment + result.allowance + result.one_off_grant)
    if result.settle_as_inpatient and facts.maternity_event == "rare_complication":
        _inpatient(facts, person, accs, amount, book, parts)
    return ""
