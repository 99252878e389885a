"""普通门诊统筹 — one outpatient visit settled by the pool (POLICY-DIGEST §2k).

Figures come from ``policy/policies/<j>/outpatient.yaml``:

- 起付标准: a yearly amount per person type (langfang 100, xianning 400/200, ziyang
  200/150) of which this visit bears what is left; or, in hunan, a per-visit amount
  by level (二级 200, 三级 300) with the year's deductibles together at most 300
  (第五十条, D-H7). ziyang 单建统筹 uses ``outpatient.pool_only_annual_deductible``
  (D-Z15 Reading A: the same 200/150) and its own caps 800/1000.
- 支付比例 by person group and level; retirees from their own table (hunan D-H8 same
  ratios, xianning, langfang) or in-service + increment (ziyang +10 points). A place
  of care may take another level's ratio (xianning: 三级 for care outside the city,
  D-XN6); a place the document does not settle is a missing parameter.
- 年度最高支付限额 per person group, against ``pool_paid_this_year`` (this year's
  outpatient-pooling payments).

langfang's in-service age band (45) changes "从次年起" (第四十九条(三), D-X7, D-L8): the
band is decided by the age on 31 December of the previous year. Given a
``birth_date`` (claims screen, or the scenario input) it is computed exactly; from the scenario input
``age`` (age on ``on``) it is taken as ``age − 1`` — the age the person surely had
reached by the end of last year if this year's birthday has passed — so a person
aged 45 on ``on`` stays in the under-45 band this year and one aged 46 is in the
45-and-over band.

sanmenxia has no employee outpatient pooling (D-S11, ``outpatient.available: false``):
the settlement refuses with a message, pays nothing (deductible 0, ratio 0,
pool_pay 0) and leaves the whole amount to the person (personal account or cash).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from policy.calculations import REGISTRY, Field, InputError, calculation, money
from policy.resolver import Policy, PolicyError

from ._common import (
    HOSPITAL_LEVELS,
    HUNDRED,
    LEVEL_ZH,
    LOCATION_ZH,
    LOCATIONS,
    PERSON_TYPE_ZH,
    PERSON_TYPES,
    SCHEMES,
    ZERO,
    MoneyInput,
    Step,
    check_choice,
    cite,
    fmt,
    group_value,
    location_rule,
    non_designated_pays,
    within_overall_cap,
)
from ._common import amount as to_amount
from .resident import EMPLOYEE_INSUTYPE, INSUTYPES, RESIDENT_INSUTYPE, ensure_defaults, settle_resident_outpatient

# Outpatient care may also be a designated retail pharmacy (定点零售药店; ziyang 第十六条(二)).
OUTPATIENT_LEVELS = (*HOSPITAL_LEVELS, "pharmacy")


@dataclass
class OutpatientResult:
    """普通门诊统筹结算结果; ``refusal`` says why the pool pays nothing at all."""

    deductible: Decimal
    ratio: Decimal
    pool_pay: Decimal
    self_pay: Decimal
    steps: list[Step] = field(default_factory=list)
    refusal: str = ""

    def outputs(self) -> dict[str, Any]:
        return {
            "deductible": self.deductible,
            "ratio": self.ratio,
            "pool_pay": self.pool_pay,
            "self_pay": self.self_pay,
            "steps": self.steps,
            "message": self.refusal,
        }


def band_age(on: date, age: int | None, birth_date: date | None) -> int:
    """Age on 31 December of the year before ``on`` (langfang age band, 第四十九条(三))."""
    if birth_date is not None:
        end = date(on.year, 1, 1) - timedelta(days=1)
        return end.year - birth_date.year - ((end.month, end.day) < (birth_date.month, birth_date.day))
    if age is None:
        raise InputError("输入 age: 需要年龄以确定普通门诊年龄段（从次年起变更）")
    return age - 1


@dataclass(frozen=True, kw_only=True)
class OutpatientFacts:
    """普通门诊结算事实: one outpatient visit as the caller knows it. Fields by group:

    **就诊与费用** — ``hospital_level`` (医疗机构等级, or ``pharmacy`` 定点零售药店), ``amount`` (政策范围内费用),
    ``person_type`` (在职/退休), ``age`` (age on the policy date) or ``birth_date`` for langfang's age band
    (decided by the age on 31 December of the previous year, :func:`band_age`), ``location`` (就医地点),
    ``scheme`` (``combined`` 统账结合 | ``pool_only`` 单建统筹, ziyang D-Z15).

    **本年度累计** — ``deductible_used_this_year`` (this year's outpatient deductibles borne);
    ``pool_paid_this_year`` (this year's outpatient-pooling payments: the outpatient cap);
    ``overall_pool_paid_this_year`` (optional) every pool payment this year that counts toward the
    pool's overall annual cap, where outpatient pooling counts toward it (langfang D-L9, ziyang
    第十二条(四); ``claims.inpatient_cap_counts``); ``None``: only the outpatient cap applies.

    **就医机构** — ``designated`` false: a non-designated institution, paid only as
    ``inpatient.non_designated_rule`` allows (hunan 第四十条: 危急重症抢救 only, ``emergency_rescue``).
    ``origin_level``: the level of the institution behind the visit — for a prescription filled at a
    pharmacy (外配) the prescribing institution, for 互联网+ care the physical hospital — whose ratio
    applies where ``outpatient.ratio_by_origin_level`` says so (xianning 细则 第十八条, 第十九条).

    Values are checked by :func:`inputs_step`, the settlement's first step.
    """

    # 就诊与费用
    hospital_level: str
    amount: MoneyInput
    person_type: str = "in_service"
    age: int | None = None
    birth_date: date | None = None
    location: str = "local"
    scheme: str = "combined"
    # 本年度累计
    deductible_used_this_year: MoneyInput = ZERO
    pool_paid_this_year: MoneyInput = ZERO
    overall_pool_paid_this_year: MoneyInput | None = None
    # 就医机构
    designated: bool = True
    emergency_rescue: bool = False
    origin_level: str | None = None


class Sums(NamedTuple):
    """金额事实: 政策范围内费用、本年已负担起付标准、本年普通门诊统筹已支付、本年计入总限额的统筹支付 (None: 未给出)."""

    total: Decimal
    used: Decimal
    paid_before: Decimal
    overall_paid: Decimal | None


def settle_outpatient(policy: Policy, facts: OutpatientFacts) -> OutpatientResult:
    """Settle one outpatient visit (普通门诊) under ``policy``: the named steps below, in order.

    A jurisdiction without outpatient pooling, or a non-designated institution the pool does not pay,
    ends after :func:`availability_step` with the whole amount left to the person.
    """
    sums = inputs_step(facts)
    steps: list[Step] = []
    refused = availability_step(policy, facts, sums.total, steps)
    if refused is not None:
        return refused
    level, ratio_level = place_step(policy, facts, steps)
    group = age_band_step(policy, facts, steps)
    borne = deductible_step(policy, facts, level, sums, steps)  # 1. 起付标准
    ratio = ratio_step(policy, facts, group, ratio_level, steps)  # 2. 支付比例
    payable = (sums.total - borne) * ratio / HUNDRED
    payable = cap_step(policy, facts, group, payable, sums, steps)  # 3. 年度最高支付限额
    pool_pay = money(payable)
    self_pay = sums.total - pool_pay
    steps.append(Step("统筹基金支付", "", pool_pay))
    steps.append(Step("个人负担（政策范围内费用 − 统筹基金支付）", "", self_pay))
    return OutpatientResult(deductible=borne, ratio=ratio, pool_pay=pool_pay, self_pay=self_pay, steps=steps)


def inputs_step(facts: OutpatientFacts) -> Sums:
    """输入校验: the choices checked, then the money facts read as ``Decimal``."""
    check_choice(facts.person_type, PERSON_TYPES, "person_type")
    check_choice(facts.hospital_level, OUTPATIENT_LEVELS, "hospital_level")
    check_choice(facts.location, LOCATIONS, "location")
    check_choice(facts.scheme, SCHEMES, "scheme")
    overall = facts.overall_pool_paid_this_year
    return Sums(
        total=to_amount(facts.amount, "amount"),
        used=to_amount(facts.deductible_used_this_year, "deductible_used_this_year"),
        paid_before=to_amount(facts.pool_paid_this_year, "pool_paid_this_year"),
        overall_paid=None if overall is None else to_amount(overall, "overall_pool_paid_this_year"),
    )


def availability_step(
    policy: Policy, facts: OutpatientFacts, total: Decimal, steps: list[Step]
) -> OutpatientResult | None:
    """普通门诊统筹 exists (sanmenxia: none, D-S11) and the institution is paid (hunan 第四十条); else the refusal."""
    if not policy.value("outpatient.available"):
        reason = (
            f"{policy.name}职工医保未设普通门诊统筹，统筹基金不支付普通门诊费用，"
            f"由个人账户或个人支付（{cite(policy, 'outpatient.available')}）"
        )
        steps.append(Step(reason, cite(policy, "outpatient.available"), ZERO))
        return OutpatientResult(ZERO, ZERO, ZERO, total, steps, refusal=reason)

    if not facts.designated and not non_designated_pays(policy, facts.emergency_rescue, steps):
        return OutpatientResult(ZERO, ZERO, ZERO, total, steps, refusal=steps[-1].description)
    return None


def place_step(policy: Policy, facts: OutpatientFacts, steps: list[Step]) -> tuple[str, str]:
    """The level (``outpatient.level_aliases``) and the level whose ratio applies: the place of care's
    (xianning D-XN6) or the prescribing institution's (``outpatient.ratio_by_origin_level``)."""
    aliases = policy.value("outpatient.level_aliases") or {}
    level = aliases.get(facts.hospital_level, facts.hospital_level)
    rule = location_rule(policy, "outpatient.location_rules", facts.location)
    ratio_level = rule.get("ratio_level") or level
    if facts.origin_level is not None:
        check_choice(facts.origin_level, HOSPITAL_LEVELS, "origin_level")
        by_origin = policy.value("outpatient.ratio_by_origin_level")
        if by_origin and not rule.get("ratio_level"):
            ratio_level = aliases.get(facts.origin_level, facts.origin_level)
            steps.append(
                Step(
                    f"外配购药或“互联网+”医疗服务：支付比例按出具处方（或依托的实体）医疗机构"
                    f"{LEVEL_ZH.get(ratio_level, ratio_level)}执行",
                    cite(policy, "outpatient.ratio_by_origin_level"),
                )
            )
        elif not by_origin:
            steps.append(
                Step(
                    "本统筹区未规定按处方医疗机构等级确定比例，按就医机构执行",
                    cite(policy, "outpatient.ratio_by_origin_level"),
                )
            )
    steps.append(
        Step(
            f"就医地点：{LOCATION_ZH[facts.location]}，{LEVEL_ZH.get(level, level)}",
            cite(policy, "outpatient.location_rules"),
        )
    )
    return level, ratio_level


def age_band_step(policy: Policy, facts: OutpatientFacts, steps: list[Step]) -> str:
    """The person group of the ratio and cap tables: langfang's in-service age band "从次年起" (第四十九条(三))."""
    group = facts.person_type
    band = policy.value("outpatient.age_band_years")
    if facts.person_type == "in_service" and band is not None:
        reached = band_age(policy.on, facts.age, facts.birth_date)
        if reached >= band:
            group = f"in_service_{fmt(band)}_plus"
        steps.append(
            Step(
                f"在职人员年龄段按上年末年龄 {reached} 周岁确定：{'' if reached >= band else '不满'}{fmt(band)} 周岁"
                f"{'（含）以上' if reached >= band else ''}",
                cite(policy, "outpatient.age_band_years"),
            )
        )
    return group


def deductible_step(policy: Policy, facts: OutpatientFacts, level: str, sums: Sums, steps: list[Step]) -> Decimal:
    """1. 起付标准: what is left of the yearly amount, or hunan's per-visit amount within it (第五十条, D-H7)."""
    person_type, used = facts.person_type, sums.used
    pool_only = facts.scheme == "pool_only"
    ded_key = "outpatient.pool_only_annual_deductible" if pool_only else "outpatient.annual_deductible"
    if policy.value(ded_key) is None:
        raise PolicyError(f"{policy.name}（{policy.jurisdiction}）无单建统筹（{cite(policy, ded_key)}）")
    annual = group_value(policy, ded_key, person_type)
    remaining = max(annual - used, ZERO)
    per_visit = policy.value("outpatient.deductible_per_visit_by_level")
    if per_visit is None:
        deductible = remaining
        steps.append(
            Step(
                f"{PERSON_TYPE_ZH[person_type]}年度起付标准 {fmt(annual)} 元，本年已负担 {fmt(used)} 元",
                cite(policy, ded_key),
                deductible,
            )
        )
    else:
        if level not in per_visit:
            raise InputError(
                f"{policy.jurisdiction} 的 outpatient.deductible_per_visit_by_level 没有医院等级 {level!r}"
            )
        deductible = min(Decimal(per_visit[level]), remaining)
        steps.append(
            Step(
                f"{LEVEL_ZH.get(level, level)}每次起付标准 {fmt(Decimal(per_visit[level]))} 元，"
                f"年度累计不超过 {fmt(annual)} 元（本年已负担 {fmt(used)} 元）",
                cite(policy, "outpatient.deductible_per_visit_by_level", ded_key),
                deductible,
            )
        )
    borne = money(min(deductible, sums.total))
    steps.append(Step("个人负担起付标准", "", borne))
    return borne


def ratio_step(policy: Policy, facts: OutpatientFacts, group: str, ratio_level: str, steps: list[Step]) -> Decimal:
    """2. 支付比例 by person group and level; retirees' own table or in-service + increment (ziyang +10)."""
    ratio = group_value(
        policy,
        "outpatient.ratio_by_level_pct",
        group,
        level=ratio_level,
        retiree_increment_key="outpatient.retiree_ratio_increment_pct",
    )
    steps.append(
        Step(
            f"{PERSON_TYPE_ZH[facts.person_type]}在{LEVEL_ZH.get(ratio_level, ratio_level)}支付比例 {fmt(ratio)}%",
            cite(
                policy,
                "outpatient.ratio_by_level_pct",
                *(["outpatient.retiree_ratio_increment_pct"] if facts.person_type == "retired" else []),
            ),
        )
    )
    return ratio


def cap_step(
    policy: Policy, facts: OutpatientFacts, group: str, payable: Decimal, sums: Sums, steps: list[Step]
) -> Decimal:
    """3. 年度最高支付限额 per person group (单建统筹: its own), then the pool's overall cap where it counts."""
    cap_key = "outpatient.pool_only_annual_cap" if facts.scheme == "pool_only" else "outpatient.annual_cap"
    cap = group_value(policy, cap_key, group)
    paid_before = sums.paid_before
    left = max(cap - paid_before, ZERO)
    if payable > left:
        payable = left
        steps.append(
            Step(
                f"普通门诊统筹年度最高支付限额 {fmt(cap)} 元，本年已支付 {fmt(paid_before)} 元，剩余 {fmt(left)} 元",
                cite(policy, cap_key),
                left,
            )
        )
    return within_overall_cap(policy, "outpatient", payable, sums.overall_paid, steps)


@calculation(
    "outpatient",
    inputs={
        "person_type": Field("str", default="in_service", choices=PERSON_TYPES),
        "age": Field("int", default=None),
        "hospital_level": Field("str", choices=OUTPATIENT_LEVELS),
        "location": Field("str", default="local", choices=LOCATIONS),
        "amount": Field("decimal"),
        "deductible_used_this_year": Field("decimal", default=ZERO),
        "pool_paid_this_year": Field("decimal", default=ZERO),
        "scheme": Field("str", default="combined", choices=SCHEMES),
        "birth_date": Field("date", default=None),
        "overall_pool_paid_this_year": Field("decimal", default=None),
        "designated": Field("bool", default=True),
        "emergency_rescue": Field("bool", default=False),
        "origin_level": Field("str", default=None, choices=HOSPITAL_LEVELS),
        "insutype": Field("str", default=EMPLOYEE_INSUTYPE, choices=INSUTYPES),
    },
    outputs={"deductible": "money", "ratio": "decimal", "pool_pay": "money", "self_pay": "money"},
)
def outpatient(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """普通门诊统筹: 起付标准、支付比例、统筹基金支付与个人负担（SCENARIOS.md `outpatient`）.

    ``insutype`` 390: 居民门诊统筹 (:func:`~benefits.calculations.resident.settle_resident_outpatient`,
    sanmenxia 第三十六条), reading ``hospital_level``, ``amount``, ``deductible_used_this_year`` and
    ``pool_paid_this_year`` (this year's resident outpatient payments); ``overall_pool_paid_this_year`` is
    accepted and, the pooling being accounted apart, holds nothing back.
    """
    inputs = dict(inputs)
    if inputs.pop("insutype") == RESIDENT_INSUTYPE:
        used = (
            "hospital_level",
            "amount",
            "deductible_used_this_year",
            "pool_paid_this_year",
            "overall_pool_paid_this_year",
            "age",
        )
        ensure_defaults(inputs, _DEFAULTS, used)
        r = settle_resident_outpatient(
            policy,
            amount_=inputs["amount"],
            deductible_used=inputs["deductible_used_this_year"],
            pool_paid_this_year=inputs["pool_paid_this_year"],
        )
        return {
            "deductible": r.deductible,
            "ratio": r.ratio,
            "pool_pay": r.pool_pay,
            "self_pay": r.self_pay,
            "steps": r.steps,
        }
    return settle_outpatient(policy, OutpatientFacts(**inputs)).outputs()


_DEFAULTS = {name: spec.default for name, spec in REGISTRY["outpatient"].inputs.items()}
