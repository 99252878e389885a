"""The layers above the basic pool: 大病保险 (hunan → ``hifmi_pay``), 大额医疗费用补助 / 大额补充
(ziyang, langfang, xianning → ``hifob_pay``), none in sanmenxia; and ziyang's 商业健康补充医疗保险
(第二十八条–第三十一条 → ``oth_pay``)."""

from __future__ import annotations

from decimal import Decimal

from benefits.calculations._common import ZERO, cite, fmt
from benefits.calculations.critical_illness import settle_critical_illness, settle_supplementary, supplementary_entitled
from policy.calculations import InputError, money
from policy.resolver import Policy

from ..facts import ClaimFacts
from .base import LAYER_FIELDS, Acc, Book, Parts, cap_paid

_LAYER_STAGE = {"hifmi_pay": "大病保险", "hifob_pay": "大额医疗费用补助"}


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


def pay_layer(
    facts: ClaimFacts,
    policy: Policy,
    acc: Acc,
    year: int,
    self_pay: Decimal,
    above: Decimal,
    pool_pay: Decimal,
    book: Book,
    parts: Parts,
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
        pool_paid_this_year=cap_paid(policy, acc) + pool_pay,
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


def pay_supplementary(
    facts: ClaimFacts,
    policy: Policy,
    acc: Acc,
    year: int,
    self_pay: Decimal,
    deductible: Decimal,
    layer_pay: Decimal,
    book: Book,
    parts: Parts,
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


def layer_above_overall_cap(policy: Policy, benefit: str) -> bool:
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


def pay_layer_above(
    facts: ClaimFacts,
    policy: Policy,
    acc: Acc,
    year: int,
    ratio: Decimal,
    uncapped: Decimal,
    pool_pay: Decimal,
    book: Book,
    parts: Parts,
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
    pay_layer(facts, policy, acc, year, ZERO, above, pool_pay, book, parts)
