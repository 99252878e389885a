"""生育保险待遇的命名步骤 (the named steps of :func:`~benefits.calculations.maternity.maternity_benefit`).

Plain functions over the policy in force and the :class:`MaternityFacts`; each appends its explanation
lines (说明, 条款出处, 金额) exactly as the rule always has. In order:

- :func:`inputs_step` — 输入校验; :func:`extra_days_step` — 奖励假天数 and the sex of a surgery;
- :func:`scope_step` — 除外项目、生育政策、解除劳动关系后、欠费: full, medical only or none;
- :func:`male_step` — 男职工: his own surgery, or the spouse grant;
- :func:`medical_qualifies_step` — the months test of the medical benefit;
- :func:`medical_step` — 生育医疗费用 (定额/限额, 计划生育手术包干, 灵活就业人员限额, 少见并发症);
- :func:`allowance_step` — 生育津贴 (entitlement, months, days, daily rate, payee);
- :func:`one_off_grant_step` — 一次性生育补助金.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from batch.dates import months_later
from policy.calculations import InputError, money
from policy.resolver import Policy, PolicyError, PolicyMissing

from ._common import HUNDRED, ZERO, Step, cite, fmt
from .maternity_facts import (
    BAND_EVENTS,
    BAND_ZH,
    CATEGORIES,
    CATEGORY_ZH,
    DELIVERIES,
    EMPLOYER_KINDS,
    EVENT_ZH,
    EVENTS,
    EXCLUDED_ITEM_ZH,
    EXCLUDED_ITEMS,
    FAMILY_PLANNING,
    MALE_SURGERIES,
    PREGNANCY_ENDING,
    SETTING_EVENTS,
    SETTINGS,
    MaternityFacts,
    MaternityResult,
)


def inputs_step(f: MaternityFacts) -> None:
    """输入校验: choices, counts and the inputs that only some events or persons may carry."""
    event, babies, setting, sex = f.event, f.babies, f.setting, f.sex
    _check(event, EVENTS, "event")
    _check(f.category, CATEGORIES, "category")
    _check(sex, ("female", "male"), "sex")
    _check(f.employer_kind, EMPLOYER_KINDS, "employer_kind")
    if setting is not None:
        _check(setting, SETTINGS, "setting")
    # SCENARIOS.md `maternity`: for events without a birth (abortions, prenatal care, family planning)
    # `babies` may be 0 or omitted; a delivery needs at least one baby, a multiple birth two.
    least = 2 if event == "multiple" else 1 if event in DELIVERIES else 0
    if babies < least:
        raise InputError(f"输入 babies: {event} 的婴儿数应≥{least}，得到 {babies}")
    if f.policy_extra_days < 0 or (f.pregnancy_months is not None and f.pregnancy_months < 0):
        raise InputError("输入 policy_extra_days / pregnancy_months 不能为负数")
    if f.actual_cost is not None and f.actual_cost < 0:
        raise InputError(f"输入 actual_cost 不能为负数，得到 {f.actual_cost}")
    if f.rare_complication and event not in DELIVERIES:
        raise InputError(f"输入 rare_complication: 只适用于分娩事件，事件 {event} 不适用（可用事件 rare_complication）")
    if setting is not None and event in SETTING_EVENTS and SETTING_EVENTS[event] != setting:
        raise InputError(f"输入 setting={setting} 与事件 {event} 不一致")
    if sex == "male" and f.policy_extra_days:
        raise InputError("输入 policy_extra_days: 奖励假天数只适用于女职工生育")
    if f.arrears_months < 0 or (f.maternity_insured_months is not None and f.maternity_insured_months < 0):
        raise InputError("输入 arrears_months / maternity_insured_months 不能为负数")
    if f.appraised_amount is not None and (event != "fp_complication" or f.appraised_amount < 0):
        raise InputError("输入 appraised_amount: 只适用于计划生育手术并发症（fp_complication），且不能为负数")
    if f.separated_on is not None and sex == "male":
        raise InputError("输入 separated_on: 解除劳动关系后未就业期间的生育待遇只适用于女职工（第二十八条）")


def extra_days_step(policy: Policy, f: MaternityFacts) -> None:
    """奖励假天数 only for a delivery where the day table adds them; a male surgery needs ``sex`` male."""
    if f.policy_extra_days:
        if f.event not in DELIVERIES:
            raise InputError(f"输入 policy_extra_days: 奖励假天数只适用于分娩，事件 {f.event} 不适用")
        if not policy.value("maternity.policy_extra_days_apply"):
            raise InputError(
                f"输入 policy_extra_days: {policy.jurisdiction} 的生育津贴天数表不另加天数"
                f"（{cite(policy, 'maternity.policy_extra_days_apply')}）"
            )
    if f.sex == "female" and f.event in MALE_SURGERIES:
        raise InputError(f"输入 event: {f.event} 为男性手术，sex 应为 male")


def scope_step(policy: Policy, f: MaternityFacts) -> MaternityResult:
    """What the person may get (``scope``): an excluded item or a birth outside policy gets nothing; after
    separation (sanmenxia 第二十八条) or with arrears (第二十八条; ziyang 第十三条) medical benefits only or none."""
    result = MaternityResult(eligible=False)
    if f.excluded_item is not None:
        _check(f.excluded_item, EXCLUDED_ITEMS, "excluded_item")
        if _excluded_item(policy, f.excluded_item, result.steps):
            result.scope = "none"
            return result
    if not _compliant(policy, f, result.steps):
        result.scope = "none"
        return result
    on = f.event_on or policy.on
    if f.separated_on is not None:
        result.scope = _after_separation(policy, f, f.separated_on, on, result.steps)
    if f.arrears_months:
        scope = _arrears(policy, f, result.steps)
        result.scope = scope if result.scope == "full" or scope == "none" else result.scope
    return result


def male_step(policy: Policy, f: MaternityFacts, basis: str, result: MaternityResult) -> MaternityResult:
    """男职工: his own family-planning surgery (medical amount), or the grant for an uninsured spouse."""
    if f.event in MALE_SURGERIES:
        male = _own_medical_only(policy, f, basis)
    elif result.scope == "medical_only":
        result.steps.append(
            Step(
                "欠费期间只享受生育医疗费用待遇：男职工配偶一次性生育补助不在此列（calcE2 决定）",
                cite(policy, "maternity.arrears_beyond_grace"),
            )
        )
        return result
    else:
        male = _spouse_grant(policy, f)
    male.steps[:0] = result.steps
    male.scope = result.scope
    return male


def allowance_step(policy: Policy, f: MaternityFacts, result: MaternityResult) -> bool:
    """生育津贴: fill the allowance fields; True when an allowance is paid."""
    steps = result.steps
    if f.event not in DELIVERIES and f.event not in PREGNANCY_ENDING:
        return False
    entitled, pct = _allowance_entitled(policy, f, steps)
    if not entitled:
        return False
    if not _months_met(policy, f, "maternity.allowance_qualifying_months", steps, "生育津贴"):
        return False
    days = _allowance_days(policy, f, steps)
    divisor = policy.decimal("maternity.allowance_day_divisor")
    wage, base_text, base_keys = _allowance_base(policy, f, pct)
    daily = wage / divisor
    result.daily_rate = daily
    result.allowance_days = days
    result.allowance = money(daily * days)
    wage_key = f"maternity.{f.category}_allowance_wage_pct"
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


def _allowance_entitled(policy: Policy, f: MaternityFacts, steps: list[Step]) -> tuple[bool, Decimal | None]:
    """Whether the person's category gets an allowance, and the wage percentage of a non-employee category."""
    pct: Decimal | None = None
    wage_key = f"maternity.{f.category}_allowance_wage_pct"
    if f.category == "retiree":
        if not policy.value("maternity.retiree_allowance"):
            steps.append(Step("退休、退职女职工不享受生育津贴", cite(policy, "maternity.retiree_allowance")))
            return False, pct
    elif f.category == "employee":
        if f.employer_kind == "fiscal_institution" and not policy.value("maternity.fiscal_institution_allowance"):
            steps.append(
                Step(
                    "财政全额供给（财政供养）单位职工不享受生育津贴，产假期间工资由单位照发",
                    cite(policy, "maternity.fiscal_institution_allowance"),
                )
            )
            return False, pct
    else:
        pct = policy.value(wage_key)
        if pct is None:
            steps.append(Step(f"{CATEGORY_ZH[f.category]}不享受生育津贴", cite(policy, wage_key)))
            return False, pct
    return True, pct


def _allowance_base(policy: Policy, f: MaternityFacts, pct: Decimal | None) -> tuple[Decimal, str, list[str]]:
    """The monthly wage the allowance is paid on, its explanation and the extra keys cited."""
    base_keys: list[str] = []
    if pct is None and f.new_employer:
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
    return wage, base_text, base_keys


def _excluded_item(policy: Policy, item: str, steps: list[Step]) -> bool:
    """The claimed cost is one the document excludes from maternity benefits (``maternity.excluded_items``)."""
    key = "maternity.excluded_items"
    listed = item in (policy.value(key) or [])
    steps.append(
        Step(
            f"{EXCLUDED_ITEM_ZH[item]}："
            + ("不属于生育医疗费用，生育保险不予支付" if listed else "文件未列为生育医疗费用的除外项目"),
            cite(policy, key),
            ZERO if listed else None,
        )
    )
    return listed


def _compliant(policy: Policy, f: MaternityFacts, steps: list[Step]) -> bool:
    """Only births and surgery within family-planning policy are paid (sanmenxia 第二十三条, 第二十五条(一))."""
    if f.policy_compliant:
        return True
    steps.append(
        Step(
            "不符合国家和省计划生育（生育）政策规定的生育或手术：不享受生育保险待遇",
            cite(policy, "maternity.requires_policy_compliance"),
        )
    )
    return not policy.value("maternity.requires_policy_compliance")


def _after_separation(policy: Policy, f: MaternityFacts, separated_on: date, on: date, steps: list[Step]) -> str:
    """sanmenxia 第二十八条: after the labour relation ended and while not re-employed, medical benefits only.

    ``maternity.after_separation_windows`` lists {min_insured_months, max_insured_months (null: none),
    window_months (null: the whole time without work)}; the window runs from ``separated_on`` (half-open).
    """
    insured_months = f.maternity_insured_months
    key = "maternity.after_separation_windows"
    windows = policy.value(key)
    source = cite(policy, key)
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


def _arrears(policy: Policy, f: MaternityFacts, steps: list[Step]) -> str:
    """Employer arrears at the time of the event (sanmenxia 第二十八条; ziyang 第十三条, 第二十三条)."""
    months, made_up = f.arrears_months, f.arrears_made_up
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


def one_off_grant_step(policy: Policy, f: MaternityFacts, result: MaternityResult) -> None:
    """一次性生育补助金 (sanmenxia 第二十三条): a benefit the article lists without an amount (S12, D-X16)."""
    key = "maternity.one_off_grant_amounts"
    amounts = policy.value(key)
    if amounts is None:
        result.steps.append(Step("本统筹区未设一次性生育补助金", cite(policy, key)))
        return
    grant = amounts.get(f.event)
    if grant is None:
        result.steps.append(Step(f"{EVENT_ZH[f.event]}不属于一次性生育补助金的发放范围", cite(policy, key)))
        return
    result.one_off_grant = money(Decimal(grant))
    result.steps.append(
        Step(f"一次性生育补助金：{EVENT_ZH[f.event]} {fmt(result.one_off_grant)} 元", cite(policy, key), grant)
    )


def _check(value: Any, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        raise InputError(f"输入 {name}: {value!r} 不在可选值 {', '.join(choices)} 中")


def _months_met(policy: Policy, f: MaternityFacts, key: str, steps: list[Step], what: str) -> bool:
    """The continuous-contribution test of KEY (null: no separate test)."""
    needed = policy.value(key)
    if needed is None:
        steps.append(Step(f"{what}：文件未另设连续缴费月数，与基本医疗保险待遇期同步", cite(policy, key)))
        return True
    if f.continuous_months is None:
        raise InputError(f"缺少输入项 continuous_months：{what}须连续缴费满 {fmt(needed)} 个月")
    met = Decimal(f.continuous_months) >= needed
    steps.append(
        Step(
            f"{what}：连续缴费 {f.continuous_months} 个月，{'已满' if met else '不满'} {fmt(needed)} 个月",
            cite(policy, key),
        )
    )
    return met


def medical_qualifies_step(policy: Policy, f: MaternityFacts, steps: list[Step]) -> bool:
    """生育医疗费用待遇的连续缴费条件 (``maternity.medical_qualifying_months``); retirees have none."""
    if f.category == "retiree":
        # sanmenxia 第二十八条: retired women get medical benefits; no month test is written for them.
        steps.append(
            Step(
                "退休、退职女职工生育：享受生育医疗费用待遇，不另设连续缴费月数",
                cite(policy, "maternity.retiree_allowance"),
            )
        )
        return True
    return _months_met(policy, f, "maternity.medical_qualifying_months", steps, "生育医疗费用待遇")


def _band(policy: Policy, f: MaternityFacts) -> str:
    """Gestation band of a pregnancy-ending event (event name, or pregnancy_months against the thresholds)."""
    if f.event in BAND_EVENTS:
        band = BAND_EVENTS[f.event]
        if f.pregnancy_months is not None and _band_of_months(policy, f) != band:
            raise InputError(f"输入 pregnancy_months={f.pregnancy_months} 与事件 {f.event} 不一致")
        return band
    if f.pregnancy_months is None:
        raise InputError(f"缺少输入项 pregnancy_months：事件 {f.event} 需要妊娠月数（按月数分段计发）")
    return _band_of_months(policy, f)


def _band_of_months(policy: Policy, f: MaternityFacts) -> str:
    first, second = policy.value("maternity.pregnancy_month_thresholds")
    months = Decimal(f.pregnancy_months or 0)
    if months < first:
        return "under_4_months"
    return "4_to_7_months" if months < second else "over_7_months"


def _item(policy: Policy, f: MaternityFacts, amounts: dict[str, Any]) -> str:
    """The entry of maternity.medical_amounts that pays this event."""
    event = f.event
    if event == "natural" and f.babies > 1 and "multiple" in amounts:
        return "multiple"  # ziyang 第二十四条(二): 多胎 is 难产 for the medical cap
    if event in amounts:
        return event
    if event in SETTING_EVENTS:
        # ziyang pays abortions by gestation (第二十四条(二))
        band_event = next(k for k, v in BAND_EVENTS.items() if v == _band(policy, f))
        if band_event in amounts:
            return band_event
    if event in BAND_EVENTS:
        # sanmenxia pays abortions by setting (第二十四条(五))
        if f.setting is None:
            raise InputError(
                f"缺少输入项 setting：{policy.jurisdiction} 的流产定额按门诊/住院区分，事件 {event} 需给出 setting"
            )
        setting_event = next(k for k, v in SETTING_EVENTS.items() if v == f.setting)
        if setting_event in amounts:
            return setting_event
    raise PolicyMissing(
        policy.jurisdiction, f"maternity.medical_amounts.{event}", policy.on, label=f"{EVENT_ZH[event]}的标准"
    )


def _pay(basis: str, standard: Decimal, actual_cost: Decimal | None) -> Decimal:
    """fixed 定额: the standard; capped 限额: actual cost up to the standard (the standard when no cost is given)."""
    if basis == "fixed" or actual_cost is None:
        return standard
    if basis == "capped":
        return min(actual_cost, standard)
    raise PolicyError(f"参数 maternity.medical_payment_basis 取值无效: {basis!r}（fixed / capped）")


def medical_step(policy: Policy, f: MaternityFacts, basis: str, result: MaternityResult) -> bool:
    """Fill result.medical_payment; True when the event has a maternity medical benefit."""
    steps = result.steps
    if f.category == "flexible":
        caps = policy.value("maternity.flexible_medical_caps")
        if caps is not None:
            return _flexible_medical(policy, f, caps, result)
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
        return _package(policy, f, result)
    amounts = _amounts(policy)
    if f.event == "rare_complication":
        return _rare_complication(policy, f, amounts, result, alone=True)
    item = _item(policy, f, amounts)
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
        _rare_complication(policy, f, amounts, result, alone=False)
    return True


def _amounts(policy: Policy) -> dict[str, Any]:
    return policy.value("maternity.medical_amounts")


def _rare_complication(
    policy: Policy, f: MaternityFacts, amounts: dict[str, Any], result: MaternityResult, *, alone: bool
) -> bool:
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


def _package(policy: Policy, f: MaternityFacts, result: MaternityResult) -> bool:
    """ziyang 第二十五条: family-planning surgery, a package price per case (包干)."""
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


def _flexible_medical(policy: Policy, f: MaternityFacts, caps: dict[str, Any], result: MaternityResult) -> bool:
    """ziyang 第十九条: flexible workers get delivery caps only; severe complications go to inpatient rules."""
    key = "maternity.flexible_medical_caps"
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


def _allowance_days(policy: Policy, f: MaternityFacts, steps: list[Step]) -> int:
    """生育津贴天数: delivery days (+ dystocia, extra babies, 奖励假) or the pregnancy-loss days by band."""
    policy_extra_days = f.policy_extra_days
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
        band = _band(policy, f)
        days = policy.value("maternity.pregnancy_loss_days")[band]
        steps.append(
            Step(
                f"生育津贴天数：{BAND_ZH[band]}流产、引产 {fmt(days)} 天", cite(policy, "maternity.pregnancy_loss_days")
            )
        )
        return int(days)
    return 0


def _own_medical_only(policy: Policy, f: MaternityFacts, basis: str) -> MaternityResult:
    """A male employee's own family-planning surgery (vasectomy, reversal): medical amount, no allowance."""
    result = MaternityResult(eligible=False)
    if medical_qualifies_step(policy, f, result.steps):
        result.eligible = medical_step(policy, f, basis, result)
    return result


def _spouse_grant(policy: Policy, f: MaternityFacts) -> MaternityResult:
    """男职工配偶一次性生育补助: 50% of the medical standard for the spouse's delivery."""
    result = MaternityResult(eligible=False)
    steps = result.steps
    pct = policy.decimal("maternity.spouse_grant_pct")
    grant_cite = cite(policy, "maternity.spouse_grant_pct")
    if f.spouse_insured:
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
    if not _months_met(policy, f, "maternity.spouse_grant_qualifying_months", steps, "男职工配偶生育补助"):
        return result
    amounts = _amounts(policy)
    item = _item(policy, f, amounts)
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
