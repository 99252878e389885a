"""生育保险待遇的输入事实与结果 (facts and result of :func:`~benefits.calculations.maternity.maternity_benefit`).

The events, categories and excluded items with their Chinese labels, the frozen
:class:`MaternityFacts` a caller builds and the :class:`MaternityResult` the steps fill.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ._common import ZERO, Step

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


@dataclass(frozen=True, kw_only=True)
class MaternityFacts:
    """生育待遇事实: one maternity or family-planning event of one insured person. Fields by group:

    **生育（手术）事件** — ``event`` (``EVENTS``: deliveries, abortions, prenatal care and the
    family-planning surgery codes), ``babies`` (≥2 with ``multiple``), ``setting`` outpatient | inpatient:
    where an abortion was done (sanmenxia pays abortions by setting, 第二十四条(五)); needed with an
    ``abortion_*`` event there. ``pregnancy_months``: completed months of pregnancy at an abortion,
    induction or stillbirth, when the event itself does not say (allowance days, ziyang caps).
    ``rare_complication``: a delivery stay with a rare complication; sanmenxia adds the 1400 fixed amount
    on top (D-S13), ziyang settles complications as inpatient (第二十三条). ``actual_cost``: the medical
    cost (限额 jurisdictions pay it up to the standard). ``event_on``: the day of the event (default: the
    policy date).

    **费用与政策符合性** — ``policy_compliant``: false for a birth or surgery outside family-planning policy
    (不符合生育政策): no maternity benefit (sanmenxia 第二十三条, 第二十五条(一); ziyang 第二十三条).
    ``free_service``: the surgery was already received free at a designated institution (ziyang 第二十五条:
    not paid again); ``appraised_amount``: the amount the technical appraisal group settled for an
    especially difficult family-planning complication (ziyang 第二十五条(十三)). ``excluded_item``: the
    claimed cost is of a kind the document excludes (``EXCLUDED_ITEMS``, ``maternity.excluded_items``:
    sanmenxia 第二十五条(二)–(六); ziyang 第二十三条 保胎、辅助生殖): nothing is paid.

    **参保人与用人单位** — ``category`` (``CATEGORIES``: 职工、灵活就业人员、领取失业保险金人员、退休人员),
    ``sex``; ``policy_extra_days``: 符合省条例的奖励假天数 (deliveries, where the day table adds them).
    ``employer_kind`` enterprise | fiscal_institution | difficult_enterprise: 财政全额供给单位 staff get no
    allowance (sanmenxia 第二十七条, ziyang 第二十四条(一)). ``new_employer``: the employer enrolled less
    than a year ago (新参保用人单位): the allowance uses the statistic named by
    ``maternity.new_employer_allowance_stat`` (sanmenxia 第二十六条, D-S15). ``spouse_insured`` (male
    employee): whether the spouse is herself covered for the birth; the one-off grant needs an uninsured
    spouse (sanmenxia 第二十八条, ziyang 第二十四条(二)).

    **缴费与劳动关系** — ``continuous_months``: 连续缴费月数 for the qualifying tests. ``arrears_months`` /
    ``arrears_made_up``: the employer's unpaid contribution months when the event happened (counted in
    unpaid months, D-X5) and whether they and the late fees have been made up. Within
    ``maternity.arrears_grace_months`` benefits are paid once made up (sanmenxia 第二十八条 "予以补支";
    ziyang 第二十三条 "含中断缴费3个月内补缴的"); beyond it ``maternity.arrears_beyond_grace`` says what is
    left (sanmenxia: medical benefits only; ziyang: 断保, nothing, 第十三条). ``separated_on`` /
    ``maternity_insured_months``: a woman whose labour relation ended on ``separated_on`` and who has not
    found work since; ``maternity.after_separation_windows`` (sanmenxia 第二十八条) gives medical benefits
    only, by months insured and time since separation.

    **申领项目** — ``claim_one_off_grant``: also settle the 一次性生育补助金 (sanmenxia 第二十三条, amount set
    by staff, S12) → output ``one_off_grant``.

    Values are checked by the rule's first step (:func:`~.maternity_steps.inputs_step`), not here.
    """

    # 生育（手术）事件
    event: str
    babies: int = 1
    setting: str | None = None
    pregnancy_months: int | None = None
    rare_complication: bool = False
    actual_cost: Decimal | None = None
    event_on: date | None = None
    # 费用与政策符合性
    policy_compliant: bool = True
    free_service: bool = False
    appraised_amount: Decimal | None = None
    excluded_item: str | None = None
    # 参保人与用人单位
    category: str = "employee"
    sex: str = "female"
    policy_extra_days: int = 0
    employer_kind: str = "enterprise"
    new_employer: bool = False
    spouse_insured: bool = False
    # 缴费与劳动关系
    continuous_months: int | None = None
    arrears_months: int = 0
    arrears_made_up: bool = False
    separated_on: date | None = None
    maternity_insured_months: int | None = None
    # 申领项目
    claim_one_off_grant: bool = False


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
