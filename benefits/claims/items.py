"""费用明细 → 全自费、先行自付、政策范围内费用 (claim lines → the amounts of a claim).

A claim's amounts may be entered as totals (medfee_sumamt, fulamt_ownpay,
preselfpay, inscp_scp_amt) or, where a seed bands the pre-payment self-pay, by
line (ziyang 第十二条(一)(二); langfang 第四十七条(一)1). Each line kind:

- ``category_a`` 甲类药品/诊疗项目/服务设施: wholly inside the policy range.
- ``out_of_scope`` 目录外费用: wholly self-paid (全自费).
- ``class_b_drug``, ``negotiated_drug``, ``negotiated_antitumour_drug``, ``part_paid_item``,
  ``material``: the part within the price limit (``price_limit`` per unit, where one is
  set) pays first the percentage ``claims.pre_self_pay`` gives for the kind — one
  number, or bands by unit price where the whole unit price falls in one band
  (D-Z17) — and the rest is in the policy range; the part above the price limit, and
  for materials the part of the unit price above ``claims.material_max_unit_price``
  (ziyang 60 000, D-Z29), is wholly self-paid.
- ``consultation_fee`` 诊察费/一般诊疗费 (langfang 第四十八条; ziyang 第二十二条): wholly inside the policy
  range where ``claims.consultation_fee`` brings it into the pay scope (a jurisdiction whose seed is silent
  stops on the missing rule); for 普通门诊 in langfang it is paid apart from the visit and outside the
  outpatient cap (第四十九条(二); :mod:`benefits.claims.families.consultation`).
- ``bed_fee`` 床位费: ``days`` at ``unit_price`` per day; the daily standard
  ``claims.bed_fee_daily_limit`` of the hospital's level and bed type is in the policy
  range, the excess wholly self-paid; a lower actual fee is taken as it is.

Every number comes from the policy; a jurisdiction whose seed is silent raises
``PolicyMissing`` for the first value asked for (D-X16).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from benefits.calculations._common import HUNDRED, LEVEL_ZH, ZERO, Step, cite, fmt
from policy.calculations import InputError, money
from policy.resolver import Policy, PolicyError

ITEM_KINDS = (
    "category_a",
    "out_of_scope",
    "class_b_drug",
    "negotiated_drug",
    "negotiated_antitumour_drug",
    "part_paid_item",
    "material",
    "bed_fee",
    "consultation_fee",
)
ITEM_KIND_ZH = {
    "category_a": "甲类（全额纳入）",
    "out_of_scope": "目录外（全自费）",
    "class_b_drug": "乙类药品",
    "negotiated_drug": "国家谈判药品（抗肿瘤西药除外）",
    "negotiated_antitumour_drug": "国家谈判抗肿瘤西药",
    "part_paid_item": "支付部分费用的诊疗项目",
    "material": "医用材料",
    "bed_fee": "床位费",
    "consultation_fee": "诊察费/一般诊疗费",
}
BED_TYPES = ("general", "isolation")
BED_TYPE_ZH = {"general": "普通床位", "isolation": "隔离及抢救床位"}


@dataclass(frozen=True)
class ItemFacts:
    """One line as entered: kind, quantity (days for a bed fee), unit price, optional price limit."""

    kind: str
    quantity: Decimal
    unit_price: Decimal
    price_limit: Decimal | None = None
    bed_type: str = "general"
    name: str = ""


@dataclass(frozen=True)
class ItemResult:
    total: Decimal
    fulamt_ownpay: Decimal
    preselfpay: Decimal
    inscp_amt: Decimal


@dataclass(frozen=True)
class ItemsTotal:
    medfee_sumamt: Decimal
    fulamt_ownpay: Decimal
    preselfpay: Decimal
    inscp_scp_amt: Decimal
    lines: tuple[ItemResult, ...]
    steps: tuple[Step, ...]


def _pct_for(policy: Policy, kind: str, unit_price: Decimal) -> Decimal:
    """The pre-payment self-pay percentage of KIND at UNIT_PRICE (whole unit price in one band, D-Z17)."""
    rules = policy.value("claims.pre_self_pay")
    if not isinstance(rules, Mapping) or kind not in rules:
        raise PolicyError(
            f"{policy.jurisdiction} 未规定{ITEM_KIND_ZH[kind]}的个人先行自付比例（claims.pre_self_pay），"
            "须按政策范围内费用合计录入"
        )
    rule = rules[kind]
    if isinstance(rule, Decimal):
        return rule
    for band in rule:
        up_to = band.get("up_to")
        if up_to is None or unit_price <= Decimal(up_to):
            return Decimal(band["pct"])
    raise InputError(
        f"{ITEM_KIND_ZH[kind]}单价 {fmt(unit_price)} 元超出先行自付分段上限 {fmt(Decimal(rule[-1]['up_to']))} 元"
    )


def item_settle(policy: Policy, item: ItemFacts, *, hospital_level: str) -> tuple[ItemResult, Step]:
    """Split one line into wholly self-paid, pre-self-paid and policy-range parts."""
    if item.kind not in ITEM_KINDS:
        raise InputError(f"费用类别 {item.kind!r} 不在可选值 {', '.join(ITEM_KINDS)} 中")
    if item.quantity < 0 or item.unit_price < 0:
        raise InputError(f"费用明细 {item.name or item.kind}: 数量和单价不能为负数")
    total = item.quantity * item.unit_price
    label = f"{item.name or ITEM_KIND_ZH[item.kind]}（{ITEM_KIND_ZH[item.kind]}）"
    if item.kind == "category_a":
        return ItemResult(total, ZERO, ZERO, total), Step(f"{label} {fmt(total)} 元全额纳入政策范围", "", total)
    if item.kind == "consultation_fee":
        rule = policy.value("claims.consultation_fee")
        if rule is None:
            raise PolicyError(
                f"{policy.jurisdiction} 未规定诊察费/一般诊疗费的支付（claims.consultation_fee，"
                f"{policy.citation('claims.consultation_fee')}），须由经办人员录入或按其他费用类别录入"
            )
        return ItemResult(total, ZERO, ZERO, total), Step(
            f"{label} {fmt(total)} 元纳入医保支付范围", cite(policy, "claims.consultation_fee"), total
        )
    if item.kind == "out_of_scope":
        return ItemResult(total, total, ZERO, ZERO), Step(f"{label} {fmt(total)} 元个人全额自费", "", ZERO)
    if item.kind == "bed_fee":
        if item.bed_type not in BED_TYPES:
            raise InputError(f"床位类型 {item.bed_type!r} 不在可选值 {', '.join(BED_TYPES)} 中")
        limits = policy.value("claims.bed_fee_daily_limit")
        aliases = policy.value("claims.bed_fee_level_aliases", default=None) or {}
        level = aliases.get(hospital_level, hospital_level)
        if not isinstance(limits, Mapping) or level not in limits:
            raise InputError(f"{policy.jurisdiction} 的床位费支付标准没有医院等级 {hospital_level!r}")
        daily = Decimal(limits[level][item.bed_type])
        covered_daily = min(item.unit_price, daily)
        inscp = item.quantity * covered_daily
        own = total - inscp
        return ItemResult(total, own, ZERO, inscp), Step(
            f"{label}：{LEVEL_ZH.get(level, level)}{BED_TYPE_ZH[item.bed_type]}支付标准 {fmt(daily)} 元/日，"
            f"实际 {fmt(item.unit_price)} 元/日 × {fmt(item.quantity)} 日；"
            f"纳入 {fmt(inscp)} 元，超标准自费 {fmt(own)} 元",
            cite(policy, "claims.bed_fee_daily_limit", "claims.bed_fee_level_aliases"),
            inscp,
        )
    # Partly paid kinds: price limit, material unit-price ceiling, then the pre-self-pay percentage.
    unit = item.unit_price
    notes: list[str] = []
    if item.price_limit is not None and unit > item.price_limit:
        notes.append(f"超限价 {fmt(unit - item.price_limit)} 元/件自费")
        unit = item.price_limit
    if item.kind == "material":
        ceiling = policy.value("claims.material_max_unit_price", default=None)
        if ceiling is not None and unit > ceiling:
            notes.append(f"单价超过 {fmt(ceiling)} 元部分 {fmt(unit - ceiling)} 元/件自费")
            unit = ceiling
    within = item.quantity * unit
    pct = _pct_for(policy, item.kind, unit)
    pre = within * pct / HUNDRED
    own = total - within
    extra = f"（{'；'.join(notes)}）" if notes else ""
    return ItemResult(total, own, pre, within - pre), Step(
        f"{label} {fmt(total)} 元{extra}：先行自付 {fmt(within)} × {fmt(pct)}% = {fmt(pre)} 元，"
        f"纳入政策范围 {fmt(within - pre)} 元",
        cite(policy, "claims.pre_self_pay", "claims.material_max_unit_price"),
        within - pre,
    )


def items_total(policy: Policy, items: Iterable[ItemFacts], *, hospital_level: str) -> ItemsTotal:
    """The claim's four amounts from its lines (each rounded to 0.01 once, at the total, D-X12)."""
    lines, steps = [], []
    for item in items:
        result, step = item_settle(policy, item, hospital_level=hospital_level)
        lines.append(result)
        steps.append(step)
    medfee = money(sum((r.total for r in lines), ZERO))
    own = money(sum((r.fulamt_ownpay for r in lines), ZERO))
    pre = money(sum((r.preselfpay for r in lines), ZERO))
    steps.append(
        Step(
            f"费用明细合计：医疗费总额 {fmt(medfee)} 元，全自费 {fmt(own)} 元，先行自付 {fmt(pre)} 元",
            "",
            medfee - own - pre,
        )
    )
    return ItemsTotal(medfee, own, pre, medfee - own - pre, tuple(lines), tuple(steps))


def consultation_outside_cap(policy: Policy, items: Iterable[ItemFacts]) -> Decimal:
    """The 诊察费 lines' total where the policy pays them apart from the outpatient cap (langfang 第四十九条(二)),
    else 0."""
    lines = [i for i in items if i.kind == "consultation_fee"]
    if not lines:
        return ZERO
    rule = policy.value("claims.consultation_fee")
    if not rule or not rule.get("outside_outpatient_cap"):
        return ZERO
    return money(sum((i.quantity * i.unit_price for i in lines), ZERO))


def item_from_row(row: Mapping[str, Any]) -> ItemFacts:
    """An :class:`ItemFacts` from a mapping (a ClaimItem's values or a parsed file column)."""
    limit = row.get("price_limit")
    return ItemFacts(
        kind=row["kind"],
        quantity=Decimal(row["quantity"]),
        unit_price=Decimal(row["unit_price"]),
        price_limit=None if limit in (None, "") else Decimal(limit),
        bed_type=row.get("bed_type") or "general",
        name=row.get("name") or "",
    )
