"""生育保险待遇 (maternity benefits): medical payment, family-planning surgery, allowance, spouse grant.

:func:`maternity_benefit` is the rule; the scenario calculation ``maternity``
(SCENARIOS.md) is a thin wrapper around it. Every amount, day count and month
threshold is a policy parameter (``maternity.*``, policy/policies/<code>/maternity.yaml);
hunan, langfang and xianning give none (D-H23, D-L16, D-XN1), so any maternity
claim there fails with ``PolicyMissing`` naming the first parameter asked for (D-X16).

Inputs beyond the contract (all optional, with defaults):

- ``employer_kind`` enterprise | fiscal_institution | difficult_enterprise: 财政全额供给单位
  staff get no allowance (sanmenxia 第二十七条, ziyang 第二十四条(一)).
- ``spouse_insured`` (male employee): whether the spouse is herself covered for the
  birth; the one-off grant needs an uninsured spouse (sanmenxia 第二十八条, ziyang 第二十四条(二)).
- ``rare_complication``: a delivery stay with a rare complication; sanmenxia adds the
  1400 fixed amount on top (D-S13), ziyang settles complications as inpatient (第二十三条).
- ``setting`` outpatient | inpatient: where an abortion was done (sanmenxia pays abortions
  by setting, 第二十四条(五)); needed with an ``abortion_*`` event there.
- ``pregnancy_months``: completed months of pregnancy at an abortion, induction or
  stillbirth, when the event itself does not say (allowance days, ziyang caps).

- ``arrears_months`` / ``arrears_made_up``: the employer's unpaid contribution months when the
  event happened (counted in unpaid months, D-X5) and whether they and the late fees have been made
  up. Within ``maternity.arrears_grace_months`` benefits are paid once made up (sanmenxia 第二十八条
  "予以补支"; ziyang 第二十三条 "含中断缴费3个月内补缴的"); beyond it ``maternity.arrears_beyond_grace``
  says what is left (sanmenxia: medical benefits only; ziyang: 断保, nothing, 第十三条).
- ``separated_on`` / ``maternity_insured_months`` / ``event_on``: a woman whose labour relation ended
  on ``separated_on`` and who has not found work since; ``maternity.after_separation_windows``
  (sanmenxia 第二十八条) gives medical benefits only, by months insured and time since separation.
- ``new_employer``: the employer enrolled less than a year ago (新参保用人单位): the allowance uses
  the statistic named by ``maternity.new_employer_allowance_stat`` (sanmenxia 第二十六条, D-S15).
- ``policy_compliant``: false for a birth or surgery outside family-planning policy (不符合生育政策):
  no maternity benefit (sanmenxia 第二十三条, 第二十五条(一); ziyang 第二十三条).
- ``free_service``: the surgery was already received free at a designated institution (ziyang
  第二十五条: not paid again); ``appraised_amount``: the amount the technical appraisal group settled
  for an especially difficult family-planning complication (ziyang 第二十五条(十三)).
- ``excluded_item``: the claimed cost is of a kind the document excludes (``EXCLUDED_ITEMS``,
  ``maternity.excluded_items``: sanmenxia 第二十五条(二)–(六); ziyang 第二十三条 保胎、辅助生殖): nothing is paid.
- ``claim_one_off_grant``: also settle the 一次性生育补助金 (sanmenxia 第二十三条, amount set by
  staff, S12) → output ``one_off_grant``.

Extra ``event`` codes (family-planning surgery): tubal_ligation, vasectomy, tubal_reversal,
vas_reversal, iud_insertion, iud_removal (both jurisdictions) and the ziyang packages of
第二十五条: pregnancy_monitoring, implant_insertion, implant_removal, surgical_abortion,
medical_abortion, medical_abortion_curettage (129 + 47), midterm_induction, fp_complication.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from batch.dates import months_later
from policy.calculations import Field, InputError, calculation, money
from policy.resolver import Policy, PolicyError, PolicyMissing

from ._common import HUNDRED, ZERO, Step, cite, fmt

DELIVERIES = ("natural", "assisted", "caesarean", "difficult", "multiple")
# event → gestation band of maternity.pregnancy_loss_days
BAND_EVENTS = {
    "abortion_under_4_months": "under_4_months",
    "abortion_4_to_7_months": "4_to_7_months",
    "abortion_over_7_months": "over_7_months",
}
# event → setting (sanmenxia 第二十四条(五))
SETTING_EVENTS = {"outpatient_abortion": "outpatient", "inpatient_abortion": "inpatient"}
FAMILY_PLANNING = (
    "tubal_ligation",
    "vasectomy",
    "tubal_reversal",
    "vas_reversal",
    "iud_insertion",
    "iud_removal",
    "pregnancy_monitoring",
    "implant_insertion",
    "implant_removal",
    "surgical_abortion",
    "medical_abortion",
    "medical_abortion_curettage",
    "midterm_induction",
    "fp_complication",
)
# Procedures that end a pregnancy: allowance days by gestation (sanmenxia 第二十六条(三)(四), ziyang 第二十四条(一)).
PREGNANCY_ENDING = (
    *BAND_EVENTS,
    *SETTING_EVENTS,
    "stillbirth",
    "surgical_abortion",
    "medical_abortion",
    "medical_abortion_curettage",
    "midterm_induction",
)
MALE_SURGERIES = ("vasectomy", "vas_reversal")
EVENTS = (
    *DELIVERIES,
    "rare_complication",
    *BAND_EVENTS,
    "stillbirth",
    *SETTING_EVENTS,
    "prenatal",
    *FAMILY_PLANNING,
)
# Costs a document puts outside maternity benefits (sanmenxia 第二十五条; ziyang 第二十三条).
EXCLUDED_ITEMS = (
    "non_catalogue",
    "infertility",
    "medical_accident",
    "infant",
    "assisted_reproduction",
    "pregnancy_preservation",
)
EXCLUDED_ITEM_ZH = {
    "non_catalogue": "不符合药品目录、诊疗项目和医疗服务设施标准的费用",
    "infertility": "不孕症治疗费用",
    "medical_accident": "因医疗事故发生的费用",
    "infant": "婴儿发生的各项费用",
    "assisted_reproduction": "试管婴儿等辅助生殖技术费用",
    "pregnancy_preservation": "保胎医疗费用",
}
CATEGORIES = ("employee", "flexible", "unemployed", "retiree")
EMPLOYER_KINDS = ("enterprise", "fiscal_institution", "difficult_enterprise")
SETTINGS = ("outpatient", "inpatient")

EVENT_ZH = {
    "natural": "自然分娩（顺产）",
    "assisted": "助娩产",
    "caesarean": "剖宫产",
    "difficult": "难产",
    "multiple": "多胎分娩",
    "rare_complication": "少见并发症",
    "abortion_under_4_months": "妊娠不满4个月流产、引产",
    "abortion_4_to_7_months": "妊娠满4个月不满7个月流产、引产",
    "abortion_over_7_months": "妊娠满7个月以上流产、引产",
    "stillbirth": "死胎",
    "outpatient_abortion": "门诊流产",
    "inpatient_abortion": "住院流（引）产",
    "prenatal": "产前检查（妊娠检查）",
    "tubal_ligation": "输卵管结扎（绝育）术",
    "vasectomy": "输精管结扎（绝育）术",
    "tubal_reversal": "输卵管复通术",
    "vas_reversal": "输精管复通术",
    "iud_insertion": "放置宫内节育器",
    "iud_removal": "取出宫内节育器",
    "pregnancy_monitoring": "孕情、环情监测",
    "implant_insertion": "皮下埋植剂植入术",
    "implant_removal": "皮下埋植剂取出术",
    "surgical_abortion": "人工流产术",
    "medical_abortion": "药物流产",
    "medical_abortion_curettage": "药物流产（药流不全清宫）",
    "midterm_induction": "中期孕引产",
    "fp_complication": "计划生育手术并发症治疗",
}
BAND_ZH = {
    "under_4_months": "妊娠不满4个月",
    "4_to_7_months": "妊娠满4个月不满7个月",
    "over_7_months": "妊娠满7个月以上",
}
CATEGORY_ZH = {
    "employee": "职工",
    "flexible": "灵活就业人员",
    "unemployed": "领取失业保险金人员",
    "retiree": "退休人员",
}


@dataclass
class MaternityResult:
    """生育保险待遇结算结果 for the claims screen."""

    eligible: bool
    allowance_days: int = 0
    daily_rate: Decimal | None = None
    allowance: Decimal = ZERO
    medical_payment: Decimal = ZERO
    settle_as_inpatient: bool = False  # 按基本医疗保险住院政策结算（并发症等）
    one_off_grant: Decimal = ZERO  # 一次性生育补助金 (sanmenxia 第二十三条)
    scope: str = "full"  # full | medical_only (只享受生育医疗费用待遇) | none
    allowance_payee: str | None = None  # employer (ziyang 第三十三条(三)); None where the document is silent
    steps: list[Step] = field(default_factory=list)

    def outputs(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "allowance_days": self.allowance_days,
            "allowance": self.allowance,
            "medical_payment": self.medical_payment,
            "one_off_grant": self.one_off_grant,
            "benefit_scope": self.scope,
            "allowance_payee": self.allowance_payee,
        }


def maternity_benefit(
    policy: Policy,
    *,
    event: str,
    babies: int = 1,
    category: str = "employee",
    continuous_months: int | None = None,
    sex: str = "female",
    policy_extra_days: int = 0,
    actual_cost: Decimal | None = None,
    employer_kind: str = "enterprise",
    spouse_insured: bool = False,
    rare_complication: bool = False,
    setting: str | None = None,
    pregnancy_months: int | None = None,
    arrears_months: int = 0,
    arrears_made_up: bool = False,
    separated_on: date | None = None,
    maternity_insured_months: int | None = None,
    event_on: date | None = None,
    new_employer: bool = False,
    policy_compliant: bool = True,
    free_service: bool = False,
    appraised_amount: Decimal | None = None,
    claim_one_off_grant: bool = False,
    excluded_item: str | None = None,
) -> MaternityResult:
    """生育保险待遇: what the pool pays for one maternity event of one insured person."""
    _check(event, EVENTS, "event")
    _check(category, CATEGORIES, "category")
    _check(sex, ("female", "male"), "sex")
    _check(employer_kind, EMPLOYER_KINDS, "employer_kind")
    if setting is not None:
        _check(setting, SETTINGS, "setting")
    if babies < 1 or (event == "multiple" and babies < 2):
        raise InputError(f"输入 babies: {event} 的婴儿数应{'≥2' if event == 'multiple' else '≥1'}，得到 {babies}")
    if policy_extra_days < 0 or (pregnancy_months is not None and pregnancy_months < 0):
        raise InputError("输入 policy_extra_days / pregnancy_months 不能为负数")
    if actual_cost is not None and actual_cost < 0:
        raise InputError(f"输入 actual_cost 不能为负数，得到 {actual_cost}")
    if rare_complication and event not in DELIVERIES:
        raise InputError(f"输入 rare_complication: 只适用于分娩事件，事件 {event} 不适用（可用事件 rare_complication）")
    if setting is not None and event in SETTING_EVENTS and SETTING_EVENTS[event] != setting:
        raise InputError(f"输入 setting={setting} 与事件 {event} 不一致")
    if sex == "male" and policy_extra_days:
        raise InputError("输入 policy_extra_days: 奖励假天数只适用于女职工生育")
    if arrears_months < 0 or (maternity_insured_months is not None and maternity_insured_months < 0):
        raise InputError("输入 arrears_months / maternity_insured_months 不能为负数")
    if appraised_amount is not None and (event != "fp_complication" or appraised_amount < 0):
        raise InputError("输入 appraised_amount: 只适用于计划生育手术并发症（fp_complication），且不能为负数")
    if separated_on is not None and sex == "male":
        raise InputError("输入 separated_on: 解除劳动关系后未就业期间的生育待遇只适用于女职工（第二十八条）")

    # Read first: the jurisdiction's way of paying maternity medical costs (silent seeds stop here).
    basis = policy.value("maternity.medical_payment_basis")
    facts = _Facts(
        policy,
        event,
        babies,
        category,
        continuous_months,
        actual_cost,
        rare_complication,
        setting,
        pregnancy_months,
        free_service=free_service,
        appraised_amount=appraised_amount,
    )
    if policy_extra_days:
        if event not in DELIVERIES:
            raise InputError(f"输入 policy_extra_days: 奖励假天数只适用于分娩，事件 {event} 不适用")
        if not policy.value("maternity.policy_extra_days_apply"):
            raise InputError(
                f"输入 policy_extra_days: {policy.jurisdiction} 的生育津贴天数表不另加天数"
                f"（{cite(policy, 'maternity.policy_extra_days_apply')}）"
            )
    if sex == "female" and event in MALE_SURGERIES:
        raise InputError(f"输入 event: {event} 为男性手术，sex 应为 male")
    result = MaternityResult(eligible=False)
    if excluded_item is not None:
        _check(excluded_item, EXCLUDED_ITEMS, "excluded_item")
        if _excluded_item(facts, excluded_item, result.steps):
            result.scope = "none"
            return result
    if not _compliant(facts, policy_compliant, result.steps):
        result.scope = "none"
        return result
    on = event_on or policy.on
    if separated_on is not None:
        result.scope = _after_separation(facts, separated_on, maternity_insured_months, on, result.steps)
    if arrears_months:
        scope = _arrears(facts, arrears_months, arrears_made_up, result.steps)
        result.scope = scope if result.scope == "full" or scope == "none" else result.scope
    if result.scope == "none":
        return result

    if sex == "male":
        if event in MALE_SURGERIES:
            male = _own_medical_only(facts, basis)
        elif result.scope == "medical_only":
            result.steps.append(
                Step(
                    "欠费期间只享受生育医疗费用待遇：男职工配偶一次性生育补助不在此列（calcE2 决定）",
                    cite(policy, "maternity.arrears_beyond_grace"),
                )
            )
            return result
        else:
            male = _spouse_grant(facts, spouse_insured)
        male.steps[:0] = result.steps
        male.scope = result.scope
        return male

    if separated_on is None and not _medical_qualifies(facts, result.steps):
        return result
    covered = _medical(facts, basis, result)
    if result.scope == "medical_only":
        result.steps.append(Step("只享受生育医疗费用待遇：不享受生育津贴和一次性生育补助金", ""))
        result.eligible = covered
        return result
    allowance_paid = _allowance(
        facts, result, employer_kind=employer_kind, policy_extra_days=policy_extra_days, new_employer=new_employer
    )
    if claim_one_off_grant:
        _one_off_grant(facts, result)
    result.eligible = covered or allowance_paid or result.one_off_grant > 0
    return result


@dataclass
class _Facts:
    policy: Policy
    event: str
    babies: int
    category: str
    continuous_months: int | None
    actual_cost: Decimal | None
    rare_complication: bool
    setting: str | None
    pregnancy_months: int | None
    free_service: bool = False
    appraised_amount: Decimal | None = None


def _excluded_item(f: _Facts, item: str, steps: list[Step]) -> bool:
    """The claimed cost is one the document excludes from maternity benefits (``maternity.excluded_items``)."""
    key = "maternity.excluded_items"
    listed = item in (f.policy.value(key) or [])
    steps.append(
        Step(
            f"{EXCLUDED_ITEM_ZH[item]}："
            + ("不属于生育医疗费用，生育保险不予支付" if listed else "文件未列为生育医疗费用的除外项目"),
            cite(f.policy, key),
            ZERO if listed else None,
        )
    )
    return listed


def _compliant(f: _Facts, policy_compliant: bool, steps: list[Step]) -> bool:
    """Only births and surgery within family-planning policy are paid (sanmenxia 第二十三条, 第二十五条(一))."""
    if policy_compliant:
        return True
    steps.append(
        Step(
            "不符合国家和省计划生育（生育）政策规定的生育或手术：不享受生育保险待遇",
            cite(f.policy, "maternity.requires_policy_compliance"),
        )
    )
    return not f.policy.value("maternity.requires_policy_compliance")


def _after_separation(f: _Facts, separated_on: date, insured_months: int | None, on: date, steps: list[Step]) -> str:
    """sanmenxia 第二十八条: after the labour relation ended and while not re-employed, medical benefits only.

    ``maternity.after_separation_windows`` lists {min_insured_months, max_insured_months (null: none),
    window_months (null: the whole time without work)}; the window runs from ``separated_on`` (half-open).
    """
    key = "maternity.after_separation_windows"
    windows = f.policy.value(key)
    source = cite(f.policy, key)
    if on < separated_on:
        raise InputError(f"输入 separated_on={separated_on} 晚于生育（手术）日期 {on}")
    if not windows:
        steps.append(Step("与用人单位解除或终止劳动关系后未就业期间生育：不享受生育保险待遇", source))
        return "none"
    if insured_months is None:
        raise InputError("缺少输入项 maternity_insured_months：解除劳动关系后生育须给出参加生育保险的月数")
    for window in windows:
        low, high, span = (
            window.get("min_insured_months"),
            window.get("max_insured_months"),
            window.get("window_months"),
        )
        if insured_months < low or (high is not None and insured_months >= high):
            continue
        if span is not None and on >= months_later(separated_on, int(span)):
            steps.append(
                Step(
                    f"参加生育保险 {insured_months} 个月，解除劳动关系（{separated_on}）后已超过 {fmt(span)} 个月"
                    "未就业期间：不享受生育保险待遇",
                    source,
                )
            )
            return "none"
        within = "未就业期间" if span is None else f"{fmt(span)} 个月未就业期间内"
        steps.append(
            Step(
                f"参加生育保险 {insured_months} 个月，解除劳动关系（{separated_on}）后{within}生育或实施计划生育手术："
                "只享受生育医疗费用待遇",
                source,
            )
        )
        return "medical_only"
    steps.append(
        Step(f"参加生育保险 {insured_months} 个月，不满解除劳动关系后享受待遇的参保年限：不享受生育保险待遇", source)
    )
    return "none"


def _arrears(f: _Facts, months: int, made_up: bool, steps: list[Step]) -> str:
    """Employer arrears at the time of the event (sanmenxia 第二十八条; ziyang 第十三条, 第二十三条)."""
    policy = f.policy
    grace = policy.decimal("maternity.arrears_grace_months")
    if not made_up:
        steps.append(
            Step(
                f"用人单位欠费 {months} 个月尚未补缴：补足欠费和滞纳金前暂不支付生育保险待遇",
                cite(policy, "maternity.arrears_grace_months"),
            )
        )
        return "none"
    if months <= grace:
        steps.append(
            Step(
                f"欠费 {months} 个月（{fmt(grace)} 个月内），已补足欠费和滞纳金：生育保险待遇予以补支，缴费视为连续",
                cite(policy, "maternity.arrears_grace_months"),
            )
        )
        return "full"
    beyond = policy.value("maternity.arrears_beyond_grace")
    source = cite(policy, "maternity.arrears_grace_months", "maternity.arrears_beyond_grace")
    if beyond == "medical_only":
        steps.append(
            Step(
                f"欠费超过 {fmt(grace)} 个月（{months} 个月），补足欠费和滞纳金后：欠费期间生育或实施计划生育手术的，"
                "只享受生育医疗费用待遇",
                source,
            )
        )
        return "medical_only"
    if beyond == "none":
        steps.append(
            Step(
                f"连续欠费超过 {fmt(grace)} 个月（{months} 个月）视为断保："
                "断保期间不享受生育保险待遇，补缴后待遇不追溯",
                source,
            )
        )
        return "none"
    raise PolicyError(f"参数 maternity.arrears_beyond_grace 取值无效: {beyond!r}（medical_only / none）")


def _one_off_grant(f: _Facts, result: MaternityResult) -> None:
    """一次性生育补助金 (sanmenxia 第二十三条): a benefit the article lists without an amount (S12, D-X16)."""
    key = "maternity.one_off_grant_amounts"
    amounts = f.policy.value(key)
    if amounts is None:
        result.steps.append(Step("本统筹区未设一次性生育补助金", cite(f.policy, key)))
        return
    grant = amounts.get(f.event)
    if grant is None:
        result.steps.append(Step(f"{EVENT_ZH[f.event]}不属于一次性生育补助金的发放范围", cite(f.policy, key)))
        return
    result.one_off_grant = money(Decimal(grant))
    result.steps.append(
        Step(f"一次性生育补助金：{EVENT_ZH[f.event]} {fmt(result.one_off_grant)} 元", cite(f.policy, key), grant)
    )


def _check(value: Any, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        raise InputError(f"输入 {name}: {value!r} 不在可选值 {', '.join(choices)} 中")


def _months_met(f: _Facts, key: str, steps: list[Step], what: str) -> bool:
    """The continuous-contribution test of KEY (null: no separate test)."""
    needed = f.policy.value(key)
    if needed is None:
        steps.append(Step(f"{what}：文件未另设连续缴费月数，与基本医疗保险待遇期同步", cite(f.policy, key)))
        return True
    if f.continuous_months is None:
        raise InputError(f"缺少输入项 continuous_months：{what}须连续缴费满 {fmt(needed)} 个月")
    met = Decimal(f.continuous_months) >= needed
    steps.append(
        Step(
            f"{what}：连续缴费 {f.continuous_months} 个月，{'已满' if met else '不满'} {fmt(needed)} 个月",
            cite(f.policy, key),
        )
    )
    return met


def _medical_qualifies(f: _Facts, steps: list[Step]) -> bool:
    if f.category == "retiree":
        # sanmenxia 第二十八条: retired women get medical benefits; no month test is written for them.
        steps.append(
            Step(
                "退休、退职女职工生育：享受生育医疗费用待遇，不另设连续缴费月数",
                cite(f.policy, "maternity.retiree_allowance"),
            )
        )
        return True
    return _months_met(f, "maternity.medical_qualifying_months", steps, "生育医疗费用待遇")


def _band(f: _Facts) -> str:
    """Gestation band of a pregnancy-ending event (event name, or pregnancy_months against the thresholds)."""
    if f.event in BAND_EVENTS:
        band = BAND_EVENTS[f.event]
        if f.pregnancy_months is not None and _band_of_months(f) != band:
            raise InputError(f"输入 pregnancy_months={f.pregnancy_months} 与事件 {f.event} 不一致")
        return band
    if f.pregnancy_months is None:
        raise InputError(f"缺少输入项 pregnancy_months：事件 {f.event} 需要妊娠月数（按月数分段计发）")
    return _band_of_months(f)


def _band_of_months(f: _Facts) -> str:
    first, second = f.policy.value("maternity.pregnancy_month_thresholds")
    months = Decimal(f.pregnancy_months or 0)
    if months < first:
        return "under_4_months"
    return "4_to_7_months" if months < second else "over_7_months"


def _item(f: _Facts, amounts: dict[str, Any]) -> str:
    """The entry of maternity.medical_amounts that pays this event."""
    event = f.event
    if event == "natural" and f.babies > 1 and "multiple" in amounts:
        return "multiple"  # ziyang 第二十四条(二): 多胎 is 难产 for the medical cap
    if event in amounts:
        return event
    if event in SETTING_EVENTS:
        # ziyang pays abortions by gestation (第二十四条(二))
        band_event = next(k for k, v in BAND_EVENTS.items() if v == _band(f))
        if band_event in amounts:
            return band_event
    if event in BAND_EVENTS:
        # sanmenxia pays abortions by setting (第二十四条(五))
        if f.setting is None:
            raise InputError(
                f"缺少输入项 setting：{f.policy.jurisdiction} 的流产定额按门诊/住院区分，事件 {event} 需给出 setting"
            )
        setting_event = next(k for k, v in SETTING_EVENTS.items() if v == f.setting)
        if setting_event in amounts:
            return setting_event
    raise PolicyMissing(
        f.policy.jurisdiction, f"maternity.medical_amounts.{event}", f.policy.on, label=f"{EVENT_ZH[event]}的标准"
    )


def _pay(basis: str, standard: Decimal, actual_cost: Decimal | None) -> Decimal:
    """fixed 定额: the standard; capped 限额: actual cost up to the standard (the standard when no cost is given)."""
    if basis == "fixed" or actual_cost is None:
        return standard
    if basis == "capped":
        return min(actual_cost, standard)
    raise PolicyError(f"参数 maternity.medical_payment_basis 取值无效: {basis!r}（fixed / capped）")


def _medical(f: _Facts, basis: str, result: MaternityResult) -> bool:
    """Fill result.medical_payment; True when the event has a maternity medical benefit."""
    policy, steps = f.policy, result.steps
    if f.category == "flexible":
        caps = policy.value("maternity.flexible_medical_caps")
        if caps is not None:
            return _flexible_medical(f, caps, result)
    if f.free_service:
        if f.event not in FAMILY_PLANNING:
            raise InputError(f"输入 free_service: 只适用于计划生育手术，事件 {f.event} 不适用")
        excluded = policy.value("maternity.free_service_excluded")
        steps.append(
            Step(
                f"{EVENT_ZH[f.event]}已在定点医疗、保健机构享受免费治疗："
                + ("不再纳入生育医疗费用支付范围" if excluded else "仍按标准支付"),
                cite(policy, "maternity.free_service_excluded"),
            )
        )
        if excluded:
            return False
    if f.event == "medical_abortion_curettage" or (f.event in FAMILY_PLANNING and f.event not in _amounts(policy)):
        return _package(f, result)
    amounts = _amounts(policy)
    if f.event == "rare_complication":
        return _rare_complication(f, amounts, result, alone=True)
    item = _item(f, amounts)
    standard = amounts[item]
    paid = _pay(basis, standard, f.actual_cost if f.event not in FAMILY_PLANNING else None)
    how = "按定额支付" if basis == "fixed" else f"限额 {fmt(standard)} 元内按实际发生额支付"
    cost = "" if f.actual_cost is None or basis == "fixed" else f"，实际发生 {fmt(f.actual_cost)} 元"
    label = EVENT_ZH[item] + ("" if item == f.event else f"（{EVENT_ZH[f.event]}）")
    steps.append(
        Step(
            f"生育医疗费用：{label} 标准 {fmt(standard)} 元{cost}，{how}",
            cite(policy, "maternity.medical_amounts"),
            paid,
        )
    )
    result.medical_payment = money(paid)
    if f.rare_complication and f.event in DELIVERIES:
        _rare_complication(f, amounts, result, alone=False)
    return True


def _amounts(policy: Policy) -> dict[str, Any]:
    return policy.value("maternity.medical_amounts")


def _rare_complication(f: _Facts, amounts: dict[str, Any], result: MaternityResult, *, alone: bool) -> bool:
    policy = f.policy
    if "rare_complication" in amounts:
        extra = amounts["rare_complication"]
        result.medical_payment = money(result.medical_payment + extra)
        result.steps.append(
            Step(
                f"当次因生育住院出现少见并发症：{'' if alone else '在分娩定额之上'}另加定额 {fmt(extra)} 元",
                cite(policy, "maternity.medical_amounts"),
                extra,
            )
        )
        return True
    if policy.value("maternity.complications_as_inpatient"):
        result.settle_as_inpatient = True
        result.steps.append(
            Step(
                "生育相关并发症的住院医疗费用按职工基本医疗保险住院政策结算，不由生育医疗费用支付",
                cite(policy, "maternity.complications_as_inpatient"),
            )
        )
        return not alone
    raise PolicyMissing(
        policy.jurisdiction, "maternity.medical_amounts.rare_complication", policy.on, label="少见并发症定额"
    )


def _package(f: _Facts, result: MaternityResult) -> bool:
    """ziyang 第二十五条: family-planning surgery, a package price per case (包干)."""
    policy = f.policy
    packages = policy.value("maternity.family_planning_packages")
    if f.event == "fp_complication" and f.appraised_amount is not None:
        # 第二十五条(十三): especially difficult complications appraised by the technical group, case by case.
        result.medical_payment = money(f.appraised_amount)
        result.steps.append(
            Step(
                f"计划生育手术并发症经计划生育技术鉴定组鉴定为特殊疑难并发症：按鉴定核定的 "
                f"{fmt(result.medical_payment)} 元结算（视具体情况结算）",
                cite(policy, "maternity.family_planning_packages"),
                result.medical_payment,
            )
        )
        return True
    if f.event not in packages or (f.event == "medical_abortion_curettage" and "medical_abortion" not in packages):
        raise PolicyMissing(
            policy.jurisdiction, f"maternity.family_planning_packages.{f.event}", policy.on, label=EVENT_ZH[f.event]
        )
    price = packages[f.event]
    text = f"计划生育手术费：{EVENT_ZH[f.event]} 每例包干 {fmt(price)} 元"
    if f.event == "medical_abortion_curettage":
        price = packages["medical_abortion"] + packages[f.event]
        base, extra = packages["medical_abortion"], packages[f.event]
        text = f"计划生育手术费：药物流产 {fmt(base)} 元 + 药流不全清宫 {fmt(extra)} 元"
    result.medical_payment = money(price)
    result.steps.append(Step(text, cite(policy, "maternity.family_planning_packages"), price))
    return True


def _flexible_medical(f: _Facts, caps: dict[str, Any], result: MaternityResult) -> bool:
    """ziyang 第十九条: flexible workers get delivery caps only; severe complications go to inpatient rules."""
    policy, key = f.policy, "maternity.flexible_medical_caps"
    if f.rare_complication or f.event == "rare_complication":
        result.settle_as_inpatient = True
        result.steps.append(
            Step("灵活就业人员因分娩发生严重并发症：分娩和并发症的住院医疗费用按住院政策支付", cite(policy, key))
        )
        return False
    if f.event not in caps:
        result.steps.append(
            Step(f"灵活就业人员：生育医疗费用只设分娩限额，{EVENT_ZH[f.event]}不在生育保险支付范围", cite(policy, key))
        )
        return False
    cap = caps[f.event]
    paid = _pay("capped", cap, f.actual_cost)
    cost = "" if f.actual_cost is None else f"，实际发生 {fmt(f.actual_cost)} 元"
    result.steps.append(
        Step(
            f"灵活就业人员生育医疗费用：{EVENT_ZH[f.event]} 限额 {fmt(cap)} 元{cost}，限额内据实支付",
            cite(policy, key),
            paid,
        )
    )
    result.medical_payment = money(paid)
    return True


def _allowance_days(f: _Facts, policy_extra_days: int, steps: list[Step]) -> int:
    policy = f.policy
    if f.event in DELIVERIES:
        days = policy.decimal("maternity.delivery_days")
        parts = [f"分娩 {fmt(days)} 天"]
        keys = ["maternity.delivery_days"]
        if f.event in policy.value("maternity.dystocia_events"):
            extra = policy.decimal("maternity.dystocia_extra_days")
            days += extra
            parts.append(f"难产/剖宫产 +{fmt(extra)} 天")
            keys += ["maternity.dystocia_events", "maternity.dystocia_extra_days"]
        if f.babies > 1:
            extra = policy.decimal("maternity.extra_baby_days") * (f.babies - 1)
            days += extra
            parts.append(f"多胞胎多 {f.babies - 1} 婴 +{fmt(extra)} 天")
            keys.append("maternity.extra_baby_days")
        if policy_extra_days:
            days += policy_extra_days
            parts.append(f"符合省条例生育 +{policy_extra_days} 天")
            keys.append("maternity.policy_extra_days_apply")
        steps.append(Step(f"生育津贴天数：{' '.join(parts)} = {fmt(days)} 天", cite(policy, *keys)))
        return int(days)
    if f.event in PREGNANCY_ENDING:
        band = _band(f)
        days = policy.value("maternity.pregnancy_loss_days")[band]
        steps.append(
            Step(
                f"生育津贴天数：{BAND_ZH[band]}流产、引产 {fmt(days)} 天", cite(policy, "maternity.pregnancy_loss_days")
            )
        )
        return int(days)
    return 0


def _allowance(
    f: _Facts, result: MaternityResult, *, employer_kind: str, policy_extra_days: int, new_employer: bool = False
) -> bool:
    """Fill the allowance fields; True when an allowance is paid (生育津贴)."""
    policy, steps = f.policy, result.steps
    if f.event not in DELIVERIES and f.event not in PREGNANCY_ENDING:
        return False
    pct: Decimal | None = None
    wage_key = f"maternity.{f.category}_allowance_wage_pct"
    if f.category == "retiree":
        if not policy.value("maternity.retiree_allowance"):
            steps.append(Step("退休、退职女职工不享受生育津贴", cite(policy, "maternity.retiree_allowance")))
            return False
    elif f.category == "employee":
        if employer_kind == "fiscal_institution" and not policy.value("maternity.fiscal_institution_allowance"):
            steps.append(
                Step(
                    "财政全额供给（财政供养）单位职工不享受生育津贴，产假期间工资由单位照发",
                    cite(policy, "maternity.fiscal_institution_allowance"),
                )
            )
            return False
    else:
        pct = policy.value(wage_key)
        if pct is None:
            steps.append(Step(f"{CATEGORY_ZH[f.category]}不享受生育津贴", cite(policy, wage_key)))
            return False
    if not _months_met(f, "maternity.allowance_qualifying_months", steps, "生育津贴"):
        return False
    days = _allowance_days(f, policy_extra_days, steps)
    divisor = policy.decimal("maternity.allowance_day_divisor")
    base_keys: list[str] = []
    if pct is None and new_employer:
        # sanmenxia 第二十六条: a newly enrolled employer has no previous year; D-S15 averages every month since.
        stat = policy.value("maternity.new_employer_allowance_stat")
        wage = policy.stat(stat)
        base_text = f"新参保用人单位参保后本单位职工月平均缴费基数 {fmt(wage)} 元"
        base_keys.append("maternity.new_employer_allowance_stat")
    elif pct is None:
        wage = policy.stat("employer_average_monthly_wage")
        base_text = f"用人单位上年度职工月平均工资 {fmt(wage)} 元"
    else:
        reference = policy.stat("reference_monthly_wage")
        wage = reference * pct / HUNDRED
        base_text = f"上年度月平均工资 {fmt(reference)} 元 × {fmt(pct)}%"
    daily = wage / divisor
    result.daily_rate = daily
    result.allowance_days = days
    result.allowance = money(daily * days)
    steps.append(
        Step(
            f"生育津贴：{base_text} ÷ {fmt(divisor)} × {days} 天 = {fmt(result.allowance)} 元",
            cite(policy, "maternity.allowance_day_divisor", *base_keys, *([] if pct is None else [wage_key])),
            result.allowance,
        )
    )
    payee = policy.value("maternity.allowance_payee", None)
    if payee is not None:
        result.allowance_payee = payee
        steps.append(
            Step(
                "生育津贴由医保经办机构支付给用人单位；生育津贴与产假期间的工资不重复享受"
                if payee == "employer"
                else "生育津贴支付给参保人本人",
                cite(policy, "maternity.allowance_payee"),
            )
        )
    return True


def _own_medical_only(f: _Facts, basis: str) -> MaternityResult:
    """A male employee's own family-planning surgery (vasectomy, reversal): medical amount, no allowance."""
    result = MaternityResult(eligible=False)
    if _medical_qualifies(f, result.steps):
        result.eligible = _medical(f, basis, result)
    return result


def _spouse_grant(f: _Facts, spouse_insured: bool) -> MaternityResult:
    """男职工配偶一次性生育补助: 50% of the medical standard for the spouse's delivery."""
    policy, result = f.policy, MaternityResult(eligible=False)
    steps = result.steps
    pct = policy.decimal("maternity.spouse_grant_pct")
    grant_cite = cite(policy, "maternity.spouse_grant_pct")
    if spouse_insured:
        steps.append(Step("男职工：配偶本人享受生育保险或居民医保生育待遇，不另给一次性补助", grant_cite))
        return result
    if f.event not in policy.value("maternity.spouse_grant_events"):
        steps.append(
            Step(f"男职工：{EVENT_ZH[f.event]}不属于配偶生育补助范围", cite(policy, "maternity.spouse_grant_events"))
        )
        return result
    if f.category == "flexible" and policy.value("maternity.flexible_medical_caps") is not None:
        steps.append(
            Step(
                "灵活就业人员不缴纳生育保险费，只享受本人分娩限额，无配偶生育补助",
                cite(policy, "maternity.flexible_medical_caps"),
            )
        )
        return result
    if not _months_met(f, "maternity.spouse_grant_qualifying_months", steps, "男职工配偶生育补助"):
        return result
    amounts = _amounts(policy)
    item = _item(f, amounts)
    standard = amounts[item]
    result.medical_payment = money(standard * pct / HUNDRED)
    result.eligible = True
    note = "（少见并发症定额不计入）" if f.rare_complication else ""
    steps.append(
        Step(
            f"男职工配偶未就业：{EVENT_ZH[item]} 生育医疗费用标准 {fmt(standard)} 元 × {fmt(pct)}%{note}"
            f" = {fmt(result.medical_payment)} 元（一次性补助）",
            cite(policy, "maternity.medical_amounts", "maternity.spouse_grant_pct"),
            result.medical_payment,
        )
    )
    return result


@calculation(
    "maternity",
    inputs={
        "event": Field("str", choices=EVENTS),
        "babies": Field("int", default=1),
        "category": Field("str", default="employee", choices=CATEGORIES),
        "continuous_months": Field("int", default=None),
        "sex": Field("str", default="female", choices=("female", "male")),
        "policy_extra_days": Field("int", default=0),
        "actual_cost": Field("decimal", default=None),
        "employer_kind": Field("str", default="enterprise", choices=EMPLOYER_KINDS),
        "spouse_insured": Field("bool", default=False),
        "rare_complication": Field("bool", default=False),
        "setting": Field("str", default=None, choices=SETTINGS),
        "pregnancy_months": Field("int", default=None),
        "arrears_months": Field("int", default=0),
        "arrears_made_up": Field("bool", default=False),
        "separated_on": Field("date", default=None),
        "maternity_insured_months": Field("int", default=None),
        "event_on": Field("date", default=None),
        "new_employer": Field("bool", default=False),
        "policy_compliant": Field("bool", default=True),
        "free_service": Field("bool", default=False),
        "appraised_amount": Field("decimal", default=None),
        "claim_one_off_grant": Field("bool", default=False),
        "excluded_item": Field("str", default=None, choices=EXCLUDED_ITEMS),
    },
    outputs={
        "eligible": "bool",
        "allowance_days": "int",
        "allowance": "money",
        "medical_payment": "money",
        "one_off_grant": "money",
        "benefit_scope": "str",
        "allowance_payee": "str",
    },
)
def maternity(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """生育保险待遇 (SCENARIOS.md ``maternity``)."""
    return maternity_benefit(policy, **inputs).outputs()
