"""Helpers shared by the benefit settlements (住院、普通门诊统筹、大病/大额).

Plain functions over the resolved :class:`~policy.resolver.Policy`: reading
level tables, location rules and person groups, and the explanation steps that
the claims screen shows (每一步: 说明, 条款出处, 金额).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from policy.calculations import InputError
from policy.resolver import Policy, PolicyError, PolicyMissing

ZERO = Decimal(0)
HUNDRED = Decimal(100)

# A money fact as callers give it (read by :func:`amount`: Decimal, integer or numeric string; floats refused).
MoneyInput = Decimal | int | str

PERSON_TYPES = ("in_service", "retired")
HOSPITAL_LEVELS = (
    "grassroots",
    "level1",
    "level2",
    "level3",
    "provincial",
    "below_level1",
    "level2a",
    "level2b",
    "level3a",
    "level3b",
)
#: 医疗机构级别 (tier) of the hospital, where a seed's rule turns on it (sanmenxia 第五十三条 市级以上).
HOSPITAL_TIERS = ("county", "city", "provincial")
HOSPITAL_TIER_ZH = {
    "township": "乡级医疗机构（乡镇卫生院、社区医疗机构）",
    "county": "县级医疗机构",
    "city": "市级医疗机构",
    "provincial": "省级医疗机构",
}
#: Tiers the 两定机构 register records: the employee rule's three and 乡级 (resident insurance, sanmenxia 第三十三条).
REGISTER_TIERS = ("township", *HOSPITAL_TIERS)
LOCATIONS = ("local", "in_province", "referral", "emergency", "registered_remote", "unregistered")
SCHEMES = ("combined", "pool_only")

PERSON_TYPE_ZH = {"in_service": "在职职工", "retired": "退休人员"}
LEVEL_ZH = {
    "grassroots": "基层医疗卫生机构",
    "below_level1": "一级以下医疗机构",
    "level1": "一级医疗机构",
    "level2": "二级医疗机构",
    "level2a": "二级甲等医疗机构",
    "level2b": "二级乙等医疗机构",
    "level3": "三级医疗机构",
    "level3a": "三级甲等医疗机构",
    "level3b": "三级乙等医疗机构",
    "provincial": "省部属医疗机构",
    "pharmacy": "定点零售药店",
}
LOCATION_ZH = {
    "local": "统筹区内",
    "in_province": "省内统筹区外",
    "referral": "异地转诊",
    "emergency": "异地急诊抢救",
    "registered_remote": "异地就医已备案",
    "unregistered": "异地就医未备案（非转诊、非急诊）",
}


class Step(NamedTuple):
    """One line of the explanation: what was done, under which article, with which amount."""

    description: str
    citation: str
    amount: Decimal | None = None


def amount(value: Any, name: str) -> Decimal:
    """A money fact as ``Decimal`` (ints and numeric strings accepted; floats refused)."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int) and not isinstance(value, bool):
        result = Decimal(value)
    elif isinstance(value, str):
        result = Decimal(value)
    else:
        raise InputError(f"输入 {name}: 应为金额（Decimal/整数/数字字符串），得到 {value!r}")
    if result < 0:
        raise InputError(f"输入 {name}: 不能为负数，得到 {value}")
    return result


def check_choice(value: Any, choices: tuple[str, ...], name: str) -> str:
    if value not in choices:
        raise InputError(f"输入 {name}: {value!r} 不在可选值 {', '.join(choices)} 中")
    return value


def cite(policy: Policy, *keys: str) -> str:
    """The citations (with decision IDs) of the given parameters as read by ``policy``, without repeats."""
    parts: list[str] = []
    for key in keys:
        text = policy.used.get(key)
        if text and text not in parts:
            parts.append(text)
    return "；".join(parts)


def table(policy: Policy, key: str) -> Any:
    """A table-valued parameter (``PolicyMissing`` if none is in force)."""
    return policy.value(key)


def resolve_level(policy: Policy, aliases_key: str, level: str, known: Mapping[str, Any], table_key: str) -> str:
    """The jurisdiction's own level for an input level (via the alias table), checked against a table."""
    aliases = policy.value(aliases_key) or {}
    local = aliases.get(level, level)
    if local not in known:
        raise InputError(
            f"{policy.jurisdiction} 的 {table_key} 没有医院等级 {level!r}"
            f"（可用：{', '.join(sorted(set(known) | set(aliases)))}）"
        )
    return local


def location_rule(policy: Policy, key: str, location: str) -> Mapping[str, Any]:
    """The rule for a place of care; a place the documents do not settle is a missing parameter (D-X16)."""
    rules = policy.value(key)
    if not isinstance(rules, Mapping) or location not in rules:
        raise PolicyMissing(
            policy.jurisdiction, f"{key}.{location}", policy.on, label=f"{LOCATION_ZH[location]}就医规则"
        )
    rule = rules[location]
    return rule if isinstance(rule, Mapping) else {}


def group_value(
    policy: Policy, key: str, group: str, *, level: str | None = None, retiree_increment_key: str | None = None
) -> Decimal:
    """Look up a value in a table keyed by person group (and, below that, by level).

    A table entry may be a number (all levels) or a map level → number. A retiree
    group missing from the table is the in-service value plus the retiree
    increment (sanmenxia "提高2个百分点", ziyang "提高5%" / "增加10个百分点").
    """
    data = policy.value(key)
    if not isinstance(data, Mapping):
        return _by_level(policy, key, data, level)
    if group in data:
        return _by_level(policy, key, data[group], level)
    if group == "retired" and retiree_increment_key and "in_service" in data:
        base = _by_level(policy, key, data["in_service"], level)
        return base + policy.decimal(retiree_increment_key)
    raise PolicyMissing(policy.jurisdiction, f"{key}.{group}", policy.on)


def _by_level(policy: Policy, key: str, entry: Any, level: str | None) -> Decimal:
    if isinstance(entry, Mapping):
        if level is None or level not in entry:
            raise InputError(
                f"{policy.jurisdiction} 的 {key} 没有医院等级 {level!r}（可用：{', '.join(sorted(entry))}）"
            )
        entry = entry[level]
    if not isinstance(entry, Decimal):
        raise PolicyError(f"参数 {key}（{policy.jurisdiction}）不是数值: {entry!r}")
    return entry


def fmt(value: Decimal) -> str:
    """A number for an explanation line: no trailing zeros (85, 0.5, 1234.56)."""
    return format(value.normalize(), "f")


def overall_annual_cap(policy: Policy) -> Decimal | None:
    """统筹基金年度最高支付限额: a fixed amount, or a multiple of last year's average wage (ziyang 第十二条(四))."""
    multiple = policy.value("inpatient.annual_cap_average_wage_multiple")
    if multiple is not None:
        return multiple * policy.stat("annual_average_wage")
    return policy.value("inpatient.annual_cap")


def within_overall_cap(
    policy: Policy, benefit: str, payable: Decimal, overall_paid: Decimal | None, steps: list[Step]
) -> Decimal:
    """Hold a payment to what is left of the pool's overall annual cap where this benefit counts toward it.

    langfang 第四十九条(四), 第五十一条 (D-L9: 350 000 for inpatient, 门诊慢特病 and outpatient pooling
    together); ziyang 第十二条(四), 第二十条(一)2 (6 × the average wage for outpatient pooling, special
    disease outpatient care, inpatient care and single-payment drugs together). Which benefits count is
    ``claims.inpatient_cap_counts``. ``overall_paid`` is every payment already counted this year;
    ``None`` means it was not given and only the benefit's own cap applies.
    """
    if overall_paid is None:
        return payable
    counted = policy.value("claims.inpatient_cap_counts")
    if benefit not in (counted or []):
        return payable
    cap = overall_annual_cap(policy)
    if cap is None:
        return payable
    left = max(cap - overall_paid, ZERO)
    if payable > left:
        steps.append(
            Step(
                f"统筹基金年度最高支付限额 {fmt(cap)} 元（各项待遇合并计算），本年已支付 {fmt(overall_paid)} 元，"
                f"剩余 {fmt(left)} 元",
                cite(
                    policy,
                    "inpatient.annual_cap",
                    "inpatient.annual_cap_average_wage_multiple",
                    "claims.inpatient_cap_counts",
                ),
                left,
            )
        )
        return left
    return payable


def non_designated_pays(policy: Policy, emergency_rescue: bool, steps: list[Step]) -> bool:
    """Care at a non-designated institution (非医保定点医疗机构): hunan 第四十条 pays only emergency rescue.

    True when the pool pays under the ordinary rules; ``inpatient.non_designated_rule`` holds the rule
    (the article covers all medical costs, so outpatient pooling reads the same key).
    """
    key = "inpatient.non_designated_rule"
    rule = policy.value(key)
    if rule == "emergency_only":
        if emergency_rescue:
            steps.append(Step("非医保定点医疗机构：危急重症患者抢救，按规定支付", cite(policy, key)))
            return True
        steps.append(
            Step("非医保定点医疗机构发生的医疗费用（非危急重症抢救）：统筹基金不予支付", cite(policy, key), ZERO)
        )
        return False
    if rule == "not_paid":
        steps.append(Step("非医保定点医疗机构发生的医疗费用：统筹基金不予支付", cite(policy, key), ZERO))
        return False
    raise PolicyError(f"参数 {key}（{policy.jurisdiction}）取值无效: {rule!r}（emergency_only / not_paid）")


def benefit_year_end(policy: Policy, year: int) -> date:
    """The last day of benefit year ``year`` (待遇年度, ``claims.benefit_year``): every seed makes it the
    calendar year (hunan 第三十二条, langfang 第四十七条 D-L7, xianning 细则 第八条, sanmenxia 第四条,
    ziyang 第十二条(四)); another convention would be refused here rather than guessed."""
    kind = policy.value("claims.benefit_year")
    if kind != "calendar":
        raise PolicyError(f"待遇年度 {kind!r}（claims.benefit_year）尚未支持：目前只按自然年度结算")
    return date(year, 12, 31)
