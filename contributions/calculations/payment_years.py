"""Contribution years for retirement (缴费年限核定), counted in months.

:func:`count_payment_months` adds up the kinds of months a person brings —
deemed (视同缴费), local actual (本地实际缴费), actual months transferred in
from elsewhere (统筹区外转入), military service (军龄), resident-insurance
years (居民医保年限) and ziyang's pre-2000 大病统筹 months — the way the
jurisdiction's document counts them, and says which of them count as local
(本地/本省/本统筹区) for the 10-year local minimum.

Deemed months are certified against the jurisdiction's cut-off date
(``retirement.deemed_cutoff``); where the document gives none, a person with
deemed months cannot be counted until staff enter it (D-L14, D-X16).

Months throughout: langfang 第三十二条 and sanmenxia 第八条 count in months,
and converted years are not rounded (D-Z7). Each kind's treatment is a policy
parameter (``retirement.*``) read only when that kind is present, so a kind the
document is silent on raises ``PolicyMissing`` only for a person who has it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from policy.calculations import Field, InputError, calculation, parse_value
from policy.resolver import Policy, PolicyError

ZERO = Decimal(0)
KINDS = (
    "deemed_months",
    "local_months",
    "other_region_months",
    "military_months",
    "resident_years",
    "pre2000_pooling_months",
)


@dataclass(frozen=True)
class PaymentMonths:
    """Counted contribution months: ``cumulative`` (累计) and ``local`` (本地实际), with the parts behind them."""

    cumulative: Decimal
    local: Decimal
    parts: dict[str, Decimal] = field(default_factory=dict)  # 中文说明 → months credited
    citations: dict[str, str] = field(default_factory=dict)  # key → article


DEEMED_CUTOFF_KEY = "retirement.deemed_cutoff"
DEEMED_LOST_KEY = "retirement.deemed_lost_events"
#: 人员变动 that can cost the pre-cut-off deemed years (hunan 第三十条), in words.
LOSS_EVENTS = {"expulsion": "被单位开除", "conviction": "被法院判刑", "imprisonment": "服刑"}


def deemed_cutoff(policy: Policy) -> date:
    """视同缴费年限截止日: service before this day counts as deemed (hunan 2003-01-01, 第二十六条;
    sanmenxia 2000-10-01, i.e. "2000年9月30日前", 第八条). Where the document gives no date
    (langfang 第三十条 "当地…制度实施前", D-L14; ziyang; xianning) deemed months cannot be
    certified and ``PolicyMissing`` names the key (D-X16)."""
    raw = policy.value(DEEMED_CUTOFF_KEY)
    try:
        return parse_value("date", raw)
    except (ValueError, TypeError) as exc:
        raise PolicyError(f"{DEEMED_CUTOFF_KEY}: 应为日期 YYYY-MM-DD，实为 {raw!r}") from exc


def deemed_lost(policy: Policy, lost_by: str | None) -> str | None:
    """视同缴费年限的丧失 (hunan 第三十条): the reason the deemed months no longer count, or ``None``.

    ``lost_by`` is the kind of the person's earliest 人员变动 among ``LOSS_EVENTS`` on or before the day
    counted (被单位开除 expulsion, 被法院判刑 conviction, 服刑 imprisonment), or empty. Where the document
    lists such events (``retirement.deemed_lost_events``) and the person's event is one of them, the
    continuous service before the cut-off (2003-01-01, 第二十六条) "不再视同为职工医保缴费年限"; actual
    months still count. A document without the key has no such rule (langfang 第二十九条: after release
    the earlier years link up), so nothing is lost.
    """
    if not lost_by:
        return None
    if lost_by not in LOSS_EVENTS:
        raise InputError(f"deemed_lost_by: 未知人员变动 {lost_by!r}（可选：{', '.join(LOSS_EVENTS)}）")
    events = policy.value(DEEMED_LOST_KEY, None)
    if not events or lost_by not in events:
        return None
    return f"{LOSS_EVENTS[lost_by]}后不再视同缴费年限（{policy.citation(DEEMED_LOST_KEY)}）"


def _amount(name: str, value: Any) -> Decimal:
    number = ZERO if value is None else parse_value("decimal", value)
    if number < 0:
        raise InputError(f"{name}: 不能为负数 ({number})")
    return number


def count_payment_months(policy: Policy, deemed_lost_by: str | None = None, **kinds: Any) -> PaymentMonths:
    """Cumulative and local contribution months from the kinds of months given (see ``KINDS``).

    ``deemed_lost_by``: the 人员变动 after which the deemed months no longer count (:func:`deemed_lost`,
    hunan 第三十条); the part then shows the months not counted.
    """
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise InputError(f"未知的缴费年限类别 (unknown kind): {', '.join(sorted(unknown))}")
    n = {name: _amount(name, kinds.get(name)) for name in KINDS}
    parts: dict[str, Decimal] = {}
    lost = deemed_lost(policy, deemed_lost_by) if n["deemed_months"] else None
    if lost:  # step: 第三十条 — the pre-cut-off service is no longer deemed
        parts[f"视同缴费年限{n['deemed_months']}个月不再计入：{lost}"] = ZERO
        n["deemed_months"] = ZERO
    # 累计 = 视同 + 实际 (hunan 第二十七条; langfang 第三十条; sanmenxia 第八条; ziyang 第九条(七)1)
    with_deemed = policy.value("retirement.cumulative_includes_deemed")
    cumulative = (n["deemed_months"] if with_deemed else ZERO) + n["local_months"]
    local = n["local_months"]
    if n["deemed_months"] and with_deemed:
        cutoff = deemed_cutoff(policy)  # hunan 第二十六条; sanmenxia 第八条; langfang 第三十条 no date (D-L14)
        parts[f"视同缴费年限（{cutoff} 以前的连续工龄/工作年限）"] = n["deemed_months"]
    if n["local_months"]:
        parts["本地实际缴费年限"] = n["local_months"]

    if n["other_region_months"]:
        # hunan 第二十六条: 外省实际缴费年限作为本省视同缴费年限; langfang 第三十三条: 合并计算
        how = policy.value("retirement.other_region_counts_as")
        if how not in ("deemed", "actual"):
            raise PolicyError(f"retirement.other_region_counts_as: 未知取值 {how!r}")
        label = "统筹区外转入（作为视同缴费年限）" if how == "deemed" else "统筹区外转入实际缴费年限（合并计算）"
        parts[label] = n["other_region_months"]
        cumulative += n["other_region_months"]

    if n["military_months"]:
        # hunan 第二十六条, langfang 第三十三条: 视同缴费年限; ziyang 第九条(七)5: 视同本地参保缴费年限 (D-Z5)
        how = policy.value("retirement.military_counts_as")
        if how not in ("deemed", "local"):
            raise PolicyError(f"retirement.military_counts_as: 未知取值 {how!r}")
        parts["军人服现役年限" + ("（视同本地）" if how == "local" else "（视同缴费）")] = n["military_months"]
        cumulative += n["military_months"]
        if how == "local":
            local += n["military_months"]

    converted = ZERO
    if n["resident_years"]:
        # hunan 第二十六条: 不能视同 (0); ziyang 第九条(七)3: 1年折算2个月
        per_year = policy.decimal("retirement.resident_year_months")
        parts["居民医保年限折算"] = n["resident_years"] * per_year
        converted += n["resident_years"] * per_year
    if n["pre2000_pooling_months"]:
        # ziyang 第九条(七)4: 2000年12月以前大病统筹每2年折合1年
        credit = n["pre2000_pooling_months"] * policy.percent("retirement.pre2000_pooling_credit_pct")
        parts["2000年12月以前大病统筹折算"] = credit
        converted += credit
    if converted:
        cumulative += converted
        if policy.value("retirement.converted_months_count_as_local"):  # ziyang D-Z5
            local += converted

    citations = {k: v for k, v in policy.used.items() if k.startswith("retirement.")}
    return PaymentMonths(cumulative=cumulative, local=local, parts=parts, citations=citations)


@calculation(
    "payment_years",
    inputs={
        **{name: Field("decimal", default=0) for name in KINDS},
        "deemed_lost_by": Field("str", default=None, choices=tuple(LOSS_EVENTS)),
    },
    outputs={"cumulative_months": "decimal", "local_months": "decimal", "deemed_counted_months": "decimal"},
)
def payment_years(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """缴费年限（月）：累计缴费月数与计入本地的实际缴费月数；被开除或判刑的不再计入视同缴费年限（hunan 第三十条）。"""
    lost_by = inputs.pop("deemed_lost_by", None)
    counted = count_payment_months(policy, deemed_lost_by=lost_by, **inputs)
    deemed = ZERO if deemed_lost(policy, lost_by) else parse_value("decimal", inputs.get("deemed_months") or 0)
    return {"cumulative_months": counted.cumulative, "local_months": counted.local, "deemed_counted_months": deemed}
