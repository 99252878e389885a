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
3. for inpatient care, the layer above the pool on the year's cumulative
   policy-range self-pay where the seed defines one (hunan 大病保险 → ``hifmi_pay``,
   ziyang 大额医疗费用补助 → ``hifob_pay``; ``claims.layer_payment_field``);
4. the personal account pays what the person asks, at most the person's share
   and the balance; the rest is cash.

A stay spanning two years is split by year (``first_year_amount``) with one
deductible (D-X15): the second year's part is settled with
``deductible_paid_this_stay`` = the deductible borne in the first. A transfer
(``transfer_from``) is the same stay: it pays only the difference in deductible
and is not a new admission (D-H6, D-L20, D-Z12). Policy in force: the last day
of care (discharge; 31 December for the first part of a cross-year stay); age on
the first day (D-X7).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from benefits.calculations._common import ZERO, Step, fmt
from benefits.calculations.critical_illness import settle_critical_illness
from benefits.calculations.inpatient import settle_inpatient
from benefits.calculations.maternity import maternity_benefit
from benefits.calculations.outpatient import settle_outpatient
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
_ABSENT = object()


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
    if med == "21":
        _inpatient(facts, person, accs, inscp, book, parts)
    elif med == "11":
        _outpatient(facts, person, accs, inscp, book, parts)
    elif med == "14":
        _special(facts, person, accs, inscp, book, parts)
    elif med in ("51", "52", "53"):
        refusal = _maternity(facts, person, accs, inscp, book, parts)
        if refusal:
            return Decision(
                "refused", refusal_reason=refusal, steps=book.steps, amounts=_amounts(medfee, own, pre, inscp)
            )
    else:
        raise InputError(f"医疗类别 {med!r} 不在可选值 11、14、21、51、52、53 中")

    fund = parts.hifp + parts.hifmi + parts.hifob
    share = max(medfee - fund, ZERO)
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
        "acct_pay": money(acct),
        "psn_cash_pay": money(cash),
        "fund_pay_sumamt": money(fund),
        "maternity_allowance": money(parts.allowance),
    }
    book.step("结算", "基金支付总额（统筹 + 大病/大额）", "", breakdown["fund_pay_sumamt"])
    book.step("结算", "个人账户支出", "", breakdown["acct_pay"])
    book.step("结算", "个人现金支出（医疗费总额 − 基金支付 − 个人账户）", "", breakdown["psn_cash_pay"])
    if parts.allowance:
        book.step("结算", "生育津贴（另行支付）", "", breakdown["maternity_allowance"])
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
    )


def _amounts(medfee: Decimal, own: Decimal, pre: Decimal, inscp: Decimal) -> dict[str, Decimal]:
    return {"medfee_sumamt": medfee, "fulamt_ownpay": own, "preselfpay": pre, "inscp_scp_amt": inscp}


@dataclass
class _Parts:
    deductible: Decimal = ZERO
    hifp: Decimal = ZERO
    prop_selfpay: Decimal = ZERO
    hifmi: Decimal = ZERO
    hifob: Decimal = ZERO
    allowance: Decimal = ZERO
    layer_field: str | None = None


def _acc(accs: Mapping[int, Acc], year: int) -> Acc:
    return accs.get(year) or Acc()


def _cap_paid(policy: Policy, acc: Acc) -> Decimal:
    """Pool paid this year under the benefits counted against the inpatient cap (claims.inpatient_cap_counts)."""
    counted = policy.value("claims.inpatient_cap_counts")
    return sum((Decimal(acc.get(POOL_FIELDS[b])) for b in counted), ZERO)


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
        result = settle_inpatient(
            policy,
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
        paid_this_stay += result.deductible
        parts.deductible += result.deductible
        parts.hifp += result.pool_pay
        parts.prop_selfpay += part_amount - result.deductible - result.pool_pay
        book.delta(year, "inpatient_deductibles", result.deductible)
        book.delta(year, "inpatient_pool_paid", result.pool_pay)
        if new_admission:
            book.delta(year, "inpatient_admissions", 1)
            book.delta(year, "admissions_by_level", {level: 1})
        _layer(facts, policy, acc, year, result.self_pay, book, parts)


def _layer(
    facts: ClaimFacts, policy: Policy, acc: Acc, year: int, self_pay: Decimal, book: _Book, parts: _Parts
) -> None:
    """大病保险 / 大额医疗费用补助 on the year's cumulative inpatient self-pay, where the seed defines the layer."""
    target = policy.value("claims.layer_payment_field", default=_ABSENT)
    stage = "大病/大额"
    if target is _ABSENT:
        book.step(
            stage,
            f"{policy.name}的大病/大额补充层由另行文件规定，数值未提供（D-X16），本次不结算该层",
            "",
        )
        return
    if target is None:
        return
    if target not in LAYER_FIELDS:
        raise InputError(f"参数 claims.layer_payment_field 取值无效: {target!r}")
    burden = Decimal(acc.get("layer_burden")) + self_pay
    result = settle_critical_illness(
        policy,
        self_pay_this_year=burden,
        paid_this_year=acc.get("layer_paid"),
        poverty=facts.poverty,
        location=facts.location,
    )
    book.add("大病保险" if target == "hifmi_pay" else "大额医疗费用补助", result.steps)
    parts.layer_field = target
    if target == "hifmi_pay":
        parts.hifmi += result.pay
    else:
        parts.hifob += result.pay
    book.delta(year, "layer_burden", self_pay)
    book.delta(year, "layer_paid", result.pay)


def _outpatient(
    facts: ClaimFacts, person: PersonFacts, accs: Mapping[int, Acc], amount: Decimal, book: _Book, parts: _Parts
) -> None:
    year = facts.end.year
    policy = _policy(facts, facts.end)
    acc = _acc(accs, year)
    result = settle_outpatient(
        policy,
        hospital_level=facts.hospital_level,
        amount=amount,
        person_type=person.person_type,
        age=person.age_on(facts.start),
        location=facts.location,
        deductible_used_this_year=acc.get("outpatient_deductible_used"),
        pool_paid_this_year=acc.get("outpatient_pool_paid"),
        scheme=person.scheme,
        birth_date=person.birth_date,
    )
    book.add("普通门诊统筹", result.steps)
    parts.deductible += result.deductible
    parts.hifp += result.pool_pay
    parts.prop_selfpay += amount - result.deductible - result.pool_pay
    book.delta(year, "outpatient_deductible_used", result.deductible)
    book.delta(year, "outpatient_pool_paid", result.pool_pay)


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
        result = single_payment_drug(policy, amount=amount, paid_this_year=acc.get("single_drug_pool_paid"))
        book.add("单行支付药品", result.steps)
        benefit = "single_drug_pool_paid"
    else:
        raise InputError(f"慢特病类别 {kind!r} 无效")
    parts.deductible += result.deductible
    parts.hifp += result.pool_pay
    parts.prop_selfpay += amount - result.deductible - result.pool_pay
    book.delta(year, benefit, result.pool_pay)


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
    )
    book.add("生育保险", result.steps)
    if not result.eligible:
        last = next((s.description for s in reversed(result.steps)), "不符合生育保险待遇条件")
        return f"不符合生育保险待遇条件：{last}"
    parts.hifp += result.medical_payment
    parts.allowance += result.allowance
    book.delta(year, "maternity_paid", result.medical_payment + result.allowance)
    if result.settle_as_inpatient and facts.maternity_event == "rare_complication":
        _inpatient(facts, person, accs, amount, book, parts)
    return ""
