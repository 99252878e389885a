"""住院结算的输入事实与结果 (facts and result of :func:`~benefits.calculations.inpatient.settle_inpatient`).

The choices a stay may take (连续住院、外检外购、除外情形、视同住院、高值药品) with their Chinese labels,
the frozen :class:`InpatientFacts` a caller builds, and the :class:`InpatientResult` the steps fill.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ._common import ZERO, MoneyInput, Step

# Why a settled part continues an earlier one (one deductible for the whole stay).
CONTINUED_STAYS = ("transfer_upward", "transfer_downward", "cross_year")
CONTINUED_STAY_ZH = {
    "transfer_upward": "转往上级（更高等级）医疗机构的连续住院",
    "transfer_downward": "转往下级医疗机构的连续住院",
    "cross_year": "跨年度住院的次年部分",
}


# 外检外购 (langfang 第四十七条(一)2): where the external test or purchase was made during a stay.
EXTERNAL_SERVICES = ("in_area", "jingjinji", "out_of_area")
EXTERNAL_SERVICE_ZH = {
    "in_area": "统筹区内定点医疗机构外检外购",
    "jingjinji": "京津冀地区外检外购",
    "out_of_area": "统筹区外（京津冀以外）外检外购",
}
# Causes the documents put outside the pool (hunan 第三十四条, langfang 第五十四条, ziyang 第十二条(三)).
EXCLUDED_CAUSES = (
    "work_injury",
    "third_party",
    "public_health",
    "abroad",
    "wellness",
    "cosmetic",
    "crime",
    "self_harm",
    "medical_accident",
    "infertility",
    "special_needs",
    "research",
    "class_c_main",
)
EXCLUDED_CAUSE_ZH = {
    "work_injury": "应当从工伤保险基金中支付的",
    "third_party": "应当由第三人负担（第三方赔偿）的",
    "public_health": "应当由公共卫生负担的（计划免疫、预防保健、健康教育等）",
    "abroad": "在境外（含港澳台地区）就医的",
    "wellness": "体育健身、养生保健消费、健康体检",
    "cosmetic": "美容、健美、非功能性整形、矫形、镶牙等非疾病治疗",
    "crime": "在监狱服刑期间或因犯罪行为（含打架斗殴）发生的",
    "self_harm": "服毒、自杀、自伤自残（精神病及无行为能力人除外）、酗酒、吸毒",
    "medical_accident": "因医疗事故发生的",
    "infertility": "不孕不育治疗",
    "special_needs": "特需医疗（特需病房、国际医疗部等）",
    "research": "科研性、临床实验性诊疗项目",
    "class_c_main": "住院主要手术、治疗属于丙类及目录外项目",
}
# Care outside a stay that a document counts as (part of) an inpatient stay.
COUNTED_AS_INPATIENT = (
    "pre_admission_emergency",
    "pre_surgery_tests",
    "emergency_observation",
    "day_surgery",
    "rescue_death_outpatient",
)
COUNTED_ZH = {
    "pre_admission_emergency": "院前急诊费用（急救车或急诊期间）",
    "pre_surgery_tests": "院前检查费用（因手术住院前在同一定点医疗机构的诊断性检查）",
    "emergency_observation": "急诊留观费用",
    "day_surgery": "日间手术（门诊手术治疗）",
    "rescue_death_outpatient": "急诊抢救死亡的门诊医疗费用",
}
# 国家药品目录内高值药品 used outside a stay (ziyang 第二十条(二)).
HIGH_VALUE_DRUG_USES = ("outpatient", "supplier")
HIGH_VALUE_DRUG_ZH = {"outpatient": "门诊使用高值药品", "supplier": "在供药机构购买高值药品"}


@dataclass(frozen=True, kw_only=True)
class InpatientFacts:
    """住院结算事实: one stay (一次住院) or a part of it, as the caller knows it. Fields by group:

    **就医与费用** — ``hospital_level`` (医院等级), ``policy_amount`` (政策范围内费用), ``person_type``
    (在职/退休), ``age`` (周岁, where a rule turns on it), ``tcm`` (中医医院), ``location`` (就医地点,
    SCENARIOS.md "Locations").

    **本年度累计** — ``admission_number`` counts this year's stays (hunan: at hospitals of the same
    level, 第三十六条, D-H5); ``deductibles_this_year`` is every deductible already borne this year;
    ``pool_paid_this_year`` every pool payment the annual cap covers (langfang D-L9, ziyang 第十二条(四)).

    **连续住院** — ``deductible_paid_this_stay`` is the deductible already borne for the same continuous
    stay. ``continued_stay`` says why this part continues an earlier one (``CONTINUED_STAYS``); the
    jurisdiction's ``inpatient.continued_stay_rules`` then decides the deductible: ``difference``
    (upward referral / transfer: only the difference, hunan D-H6, ziyang 第十八条(一)6, langfang
    第四十七条(一)1; the second-year part of a stay spanning two years: one deductible in all, langfang
    第四十七条(五), D-X15) or ``waived`` (downward referral). A kind the document leaves to another rule
    (sanmenxia "视同连续住院的起付标准，另行规定", 第十三条(一)) is a missing parameter (D-X16). Without
    ``continued_stay`` the paid amount is simply deducted (claims screen).

    **特定人群** — ``special_disease_class`` (特殊疾病类别 1–3); ``honoured_group``: 两院院士、省管优秀专家、
    省级以上劳模、亚洲及世界冠军 (langfang 第七十九条, +10 points); ``aids``: 艾滋病患者 (ziyang 第十八条(一)5:
    only the year's first deductible); ``disabled_soldier_grade``: 一至六级残疾军人 (langfang 第八十条
    "按相关规定执行": the rule is staff data, ``inpatient.disabled_soldier_rules``; null where the document
    has no separate rule).

    **就医机构与地域** — ``tier`` (医疗机构级别 county 县级 | city 市级 | provincial 省级; None when not
    known): where a seed adjusts the ratio only at 市级以上 hospitals (sanmenxia 第五十三条, D-S8) the tier
    decides, and without it the hospital level stands for it (``inpatient.ratio_adjustment_levels``).
    ``out_of_province``: care outside the area was also outside the province, where the
    deductible depends on it (sanmenxia 第十三条(一): 省外非基层医疗机构 2000,
    ``inpatient.out_of_province_deductible_by_level``). ``designated`` false: care at a non-designated
    hospital (非医保定点), paid only as ``inpatient.non_designated_rule`` allows (hunan 第四十条: only
    危急重症抢救, ``emergency_rescue``).

    **外检外购与高值药品** — ``external_service``: the amount is an external test or purchase (外检外购) made
    during a local stay (langfang 第四十七条(一)2, 第六十五条): no deductible of its own (one per stay), the
    ratio of ``hospital_level`` (the external institution's level), a share paid first outside the area,
    nothing unless filed (``external_service_filed``); ``inpatient.external_service_rules``.
    ``high_value_drug``: a high-value catalogue drug used outside a stay (ziyang 第二十条(二)): no
    deductible, inpatient ratio; bought from a supplier, the 三级 standard (``inpatient.high_value_drug_rules``).

    **除外情形** — ``excluded_cause``: the care falls under a cause the document excludes
    (``EXCLUDED_CAUSES``, ``inpatient.excluded_causes``): nothing is paid; a third party who does not pay
    or cannot be found (``third_party_unpaid``) lets the pool advance the payment and recover it (hunan
    第三十五条, ziyang 第十二条(三); ``inpatient.third_party_advance``).

    **视同住院** — ``counted_as_inpatient``: care outside a stay that ``inpatient.counted_as_inpatient``
    counts as inpatient (langfang 第四十七条(一)1 院前急诊 with ``dates_continuous`` or ``died_in_rescue``,
    院前检查 within ``days_before_admission`` at the ``same_hospital``, 急诊留观 over ``observation_days``;
    第四十七条(一)3 日间手术; ziyang 第十八条(三) 急诊抢救死亡的门诊费用). When counted, ``policy_amount`` is
    settled as an inpatient stay (院前 costs: the stay's amount with them included); when not, the pool
    pays nothing here (outpatient rules apply).

    Values are checked by the settlement's first step (:func:`~.inpatient_steps.inputs_step`), not here,
    so that an input error and a missing parameter are reported in the same order as always.
    """

    # 就医与费用
    hospital_level: str
    policy_amount: MoneyInput
    person_type: str = "in_service"
    age: int | None = None
    tcm: bool = False
    location: str = "local"
    # 本年度累计
    admission_number: int = 1
    deductibles_this_year: MoneyInput = ZERO
    pool_paid_this_year: MoneyInput = ZERO
    # 连续住院
    deductible_paid_this_stay: MoneyInput = ZERO
    continued_stay: str | None = None
    # 特定人群
    special_disease_class: int | None = None
    honoured_group: bool = False
    aids: bool = False
    disabled_soldier_grade: int | None = None
    # 就医机构与地域
    out_of_province: bool = False
    tier: str | None = None
    designated: bool = True
    emergency_rescue: bool = False
    # 外检外购与高值药品
    external_service: str | None = None
    external_service_filed: bool = True
    high_value_drug: str | None = None
    # 除外情形
    excluded_cause: str | None = None
    third_party_unpaid: bool = False
    # 视同住院
    counted_as_inpatient: str | None = None
    dates_continuous: bool = True
    died_in_rescue: bool = False
    days_before_admission: int | None = None
    same_hospital: bool = True
    observation_days: int | None = None


@dataclass
class InpatientResult:
    """住院结算结果: the scenario outputs plus the steps that explain them."""

    deductible: Decimal
    ratio: Decimal
    pool_pay: Decimal
    self_pay: Decimal
    third_party_advance: bool = False  # 基金先行支付，有权向第三人追偿
    steps: list[Step] = field(default_factory=list)
    # Care outside a stay that ``inpatient.counted_as_inpatient`` does not count as inpatient: why (the
    # step's text, with its article); empty otherwise. Not a scenario output: claims refuse with it.
    not_counted: str = ""

    def outputs(self) -> dict[str, Any]:
        return {
            "deductible": self.deductible,
            "ratio": self.ratio,
            "pool_pay": self.pool_pay,
            "self_pay": self.self_pay,
            "third_party_advance": self.third_party_advance,
            "steps": self.steps,
        }
