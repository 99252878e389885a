"""费用报销 (claims): what was claimed, how it was settled, and the year's accumulators.

- :class:`Claim` — one claim (手工报销 entered by a case worker, or one row of a
  hospital settlement file): the facts, and once adjudicated the result broken
  down like the national 2303 settlement with every step and its citation.
- :class:`ClaimItem` — optional lines (乙类药品, 部分支付诊疗项目, 医用材料, 床位费 …)
  from which the claim's amounts are computed (ziyang 第十二条(一)(二)).
- :class:`BenefitAccumulator` — per person, jurisdiction and year: deductibles borne,
  pool paid per benefit, layer paid, admissions. Changed only together with an
  :class:`AccumulatorAdjustment` (settle +, reverse −), never silently.
- :class:`SettlementFile` — a bulk file, adjudicated in the background by a batch run.

Writes go through :mod:`benefits.claims.services` and :mod:`benefits.claims.jobs`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from batch.models import BatchRun
from benefits.calculations._common import LEVEL_ZH, LOCATION_ZH, LOCATIONS
from benefits.calculations.inpatient import (
    CONTINUED_STAY_ZH,
    CONTINUED_STAYS,
    COUNTED_AS_INPATIENT,
    COUNTED_ZH,
    EXCLUDED_CAUSE_ZH,
    EXCLUDED_CAUSES,
    EXTERNAL_SERVICE_ZH,
    EXTERNAL_SERVICES,
    HIGH_VALUE_DRUG_USES,
    HIGH_VALUE_DRUG_ZH,
)
from benefits.calculations.maternity import EVENT_ZH, EVENTS, EXCLUDED_ITEM_ZH, EXCLUDED_ITEMS
from benefits.calculations.outpatient import OUTPATIENT_LEVELS
from enrollment.models import Employer, InsuredPerson
from policy.models import Jurisdiction

from .items import BED_TYPE_ZH, BED_TYPES, ITEM_KIND_ZH, ITEM_KINDS


def _money(verbose_name: str, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


def _result(verbose_name: str) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, null=True, blank=True)


class MedType(models.TextChoices):
    """医疗类别 med_type (national codes)."""

    OUTPATIENT = "11", "11 普通门诊"
    CHRONIC = "14", "14 门诊慢特病"
    INPATIENT = "21", "21 普通住院"
    MATERNITY_OUTPATIENT = "51", "51 生育门诊"
    MATERNITY_INPATIENT = "52", "52 生育住院"
    FAMILY_PLANNING = "53", "53 计划生育手术费"


MATERNITY_MED_TYPES = (MedType.MATERNITY_OUTPATIENT, MedType.MATERNITY_INPATIENT, MedType.FAMILY_PLANNING)


class SpecialKind(models.TextChoices):
    """门诊慢特病 (med_type 14) sub-kind."""

    CHRONIC = "chronic", "门诊慢特病 / 门诊特殊疾病"
    MAJOR_DISEASE = "major_disease", "重特大疾病（三门峡第十五条）"
    SINGLE_PAYMENT_DRUG = "single_payment_drug", "单行支付药品（资阳第二十条）"


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", "待审核"
    REVIEW = "review", "待复核（住院审核规则）"
    ADJUDICATED = "adjudicated", "已结算"
    REFUSED = "refused", "不予支付"
    PAID = "paid", "已支付"
    REVERSED = "reversed", "已冲正"


class CostPayer(models.TextChoices):
    """费用承担方 of a claim refused for an interruption of cover (hunan 第二十条, langfang 第二十三条)."""

    FUND = "fund", "医保基金（补缴后支付）"
    EMPLOYER = "employer", "用人单位"
    PERSON = "person", "个人"


class ClaimSource(models.TextChoices):
    MANUAL = "manual", "手工报销"
    SETTLEMENT_FILE = "settlement_file", "结算文件"
    API = "api", "机构接口"


#: The 2303 result fields, in the order the settlement shows them.
RESULT_FIELDS = (
    "act_pay_dedc",
    "hifp_pay",
    "pool_prop_selfpay",
    "hifmi_pay",
    "hifob_pay",
    "oth_pay",
    "acct_pay",
    "psn_cash_pay",
    "fund_pay_sumamt",
    "maternity_allowance",
    "one_off_grant",
)

#: Facts the case worker enters (or a settlement file carries) that the rules take as they are,
#: under the same name as the rule's input (:func:`benefits.claims.services.claim_facts`).
RULE_FACT_FIELDS = (
    "continued_stay",
    "honoured_group",
    "out_of_province",
    "aids",
    "non_designated",
    "emergency_rescue",
    "external_service",
    "external_service_filed",
    "high_value_drug",
    "excluded_cause",
    "third_party_unpaid",
    "origin_level",
    "arrears_months",
    "arrears_made_up",
    "separated_on",
    "maternity_insured_months",
    "new_employer",
    "claim_one_off_grant",
    "maternity_excluded_item",
    "policy_compliant",
    "free_service",
    "appraised_amount",
    "disabled_soldier_grade",
    "submitted_on",
    "counted_as_inpatient",
    "dates_continuous",
    "died_in_rescue",
    "days_before_admission",
    "same_hospital",
    "observation_days",
)
#: Results beyond the 2303 amounts (the rules' other outputs), written with the result.
#: 住院审核规则的事实 (benefits.institutions.audit.AuditFacts; langfang 第六十条, 第六十二条–第六十四条).
AUDIT_FACT_FIELDS = (
    "identity_verified",
    "admission_registered_hours",
    "injury",
    "injury_registered_on",
    "costs_unrecorded",
    "bed_hanging",
    "discharge_drug_days",
    "chronic_condition",
)
EXTRA_RESULT_FIELDS = ("third_party_advance", "benefit_scope", "allowance_payee", "stay_deductible")


class SettlementFileStatus(models.TextChoices):
    UPLOADED = "uploaded", "已上传"
    IMPORTING = "importing", "读取中"
    SETTLING = "settling", "结算中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class SettlementFile(models.Model):
    """结算文件: a csv/xlsx of claims (one per row), read and adjudicated in the background."""

    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    file = models.FileField("文件", upload_to="claims/")
    original_name = models.CharField("原文件名", max_length=255, blank=True)
    as_of = models.DateField("结算日期", help_text="审核结算的业务日期")
    status = models.CharField(
        "状态", max_length=16, choices=SettlementFileStatus.choices, default=SettlementFileStatus.UPLOADED
    )
    total_rows = models.PositiveIntegerField("总行数", default=0)
    imported_rows = models.PositiveIntegerField("已读入", default=0)
    error_rows = models.PositiveIntegerField("错误行数", default=0)
    errors = models.JSONField("错误明细", default=list, blank=True, help_text="[{row, field, message}]")
    run = models.ForeignKey(
        BatchRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="批处理运行"
    )
    counts = models.JSONField("结算统计", default=dict, blank=True)
    seconds = models.FloatField("耗时（秒）", null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="上传人",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "结算文件"
        verbose_name_plural = "结算文件"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="settlement_file_created")]  # the list's order

    def __str__(self) -> str:
        return self.original_name or f"结算文件 {self.pk}"


class Claim(models.Model):
    """费用报销申请: one claim, and once adjudicated its 2303 breakdown."""

    business_key = models.CharField("业务流水号", max_length=64, unique=True)
    # Indexes: the bulk adjudication rewrites 100 000 rows at a time and each index costs every row (issue #13).
    # person and settlement_file are served by the composite indexes of Meta; the users, the run and the
    # journal entries are never looked up from here (a user deleted sets NULL through a scan: rare). The
    # jurisdiction (a handful of values) has no index of its own; transfer_from, institution and
    # review_cleared_by are indexed only where set (partial indexes of Meta), so a claim without them costs
    # those indexes nothing when it is written.
    # No database foreign key where the settlement-file read or the batch writes the column (person, jurisdiction,
    # institution, settlement_file, created_by; run, journal_entry, adjudicated_by, liable_employer): the read checks
    # every reference set-wise before it writes (imports._resolve), the batch sets them from rows it reads or writes
    # in the same transaction, and the ORM keeps each on_delete. Checked row by row at COMMIT they cost 1.75 s of a
    # 100,000-claim read and 0.1 s of every 5,000-claim chunk (issue #13 item 4, as the payroll import's staging).
    person = models.ForeignKey(
        InsuredPerson,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name="参保人员",
        db_index=False,
        db_constraint=False,
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, verbose_name="参保统筹区", db_index=False, db_constraint=False
    )
    med_type = models.CharField("医疗类别", max_length=2, choices=MedType.choices)
    special_kind = models.CharField(
        "慢特病类别", max_length=24, choices=SpecialKind.choices, default=SpecialKind.CHRONIC, blank=True
    )
    disease_classes = models.CharField(
        "特殊疾病类别", max_length=32, blank=True, help_text="资阳：已认定病种的类别，每个病种一项，如 2,3"
    )
    major_disease_tier = models.CharField(
        "重特大疾病医院级别",
        max_length=12,
        blank=True,
        choices=[("county", "县级"), ("city", "市级"), ("provincial", "省级")],
    )
    major_disease_setting = models.CharField(
        "重特大疾病就医方式",
        max_length=24,
        blank=True,
        choices=[("inpatient", "住院"), ("outpatient", "门诊（含特定药品）"), ("peritoneal_dialysis", "腹膜透析")],
    )
    start_date = models.DateField("入院/就诊日期")
    end_date = models.DateField("出院日期", null=True, blank=True, help_text="门诊留空（同就诊日期）")
    hospital_name = models.CharField("医疗机构名称", max_length=200, blank=True)
    institution = models.ForeignKey(
        "institutions.Institution",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="定点医药机构",
        db_index=False,
        db_constraint=False,
        help_text="按两定机构登记结算：等级、中医医院、级别和所在地取自登记中就医日有效的记录，须有就医日有效的服务协议",
    )
    hospital_level = models.CharField(
        "医疗机构等级",
        max_length=16,
        blank=True,
        choices=[(k, LEVEL_ZH[k]) for k in OUTPATIENT_LEVELS],
        help_text="未选定点医药机构时必填；定点零售药店只用于普通门诊（资阳第十六条(二)）",
    )
    tcm = models.BooleanField("中医医院", default=False)
    location = models.CharField(
        "就医地点", max_length=20, choices=[(k, LOCATION_ZH[k]) for k in LOCATIONS], default="local"
    )
    transfer_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transfers",
        verbose_name="转院前住院（同一次连续住院）",
        db_index=False,
        help_text="按转院规定的连续住院：只付起付标准差额，不算新的住院次数",
        db_constraint=False,  # claims are partitioned on PostgreSQL (batch/partitioning.py): PROTECT by the ORM
    )
    continued_stay = models.CharField(
        "连续住院类型",
        max_length=20,
        blank=True,
        choices=[(k, CONTINUED_STAY_ZH[k]) for k in CONTINUED_STAYS],
        help_text="有“转院前住院”时必填：向上转诊/向下转诊，或跨年度住院的次年部分（湖南第三十六条；三门峡第十三条(一)）",
    )
    honoured_group = models.BooleanField(
        "院士/省管优秀专家/省级以上劳模/亚洲及世界冠军", default=False, help_text="廊坊第七十九条"
    )
    out_of_province = models.BooleanField("省外就医", default=False, help_text="异地就医且在省外（三门峡第十三条(一)）")
    aids = models.BooleanField("艾滋病患者", default=False, help_text="资阳第十八条(一)5")
    non_designated = models.BooleanField("非医保定点医疗机构", default=False, help_text="湖南第四十条")
    emergency_rescue = models.BooleanField("危急重症抢救", default=False, help_text="非定点医疗机构就医时适用")
    external_service = models.CharField(
        "外检外购",
        max_length=16,
        blank=True,
        choices=[(k, EXTERNAL_SERVICE_ZH[k]) for k in EXTERNAL_SERVICES],
        help_text="住院期间外检外购的费用（廊坊第四十七条(一)2、第六十五条）；医疗机构等级填外检外购机构的等级",
    )
    external_service_filed = models.BooleanField("外检外购已备案", default=True)
    high_value_drug = models.CharField(
        "高值药品",
        max_length=12,
        blank=True,
        choices=[(k, HIGH_VALUE_DRUG_ZH[k]) for k in HIGH_VALUE_DRUG_USES],
        help_text="资阳第二十条(二)",
    )
    excluded_cause = models.CharField(
        "不予支付情形",
        max_length=24,
        blank=True,
        choices=[(k, EXCLUDED_CAUSE_ZH[k]) for k in EXCLUDED_CAUSES],
        help_text="湖南第三十五条；资阳第十二条(三)",
    )
    third_party_unpaid = models.BooleanField(
        "第三人不支付或无法确定第三人", default=False, help_text="基金先行支付后向第三人追偿"
    )
    origin_level = models.CharField(
        "处方/实体医疗机构等级",
        max_length=16,
        blank=True,
        choices=[(k, LEVEL_ZH[k]) for k in OUTPATIENT_LEVELS],
        help_text="外配处方的开方医疗机构、互联网+医疗的实体医疗机构（咸宁细则第十八条、第十九条）",
    )
    submitted_on = models.DateField(
        "申请受理日期",
        null=True,
        blank=True,
        help_text="手工报销的申请日期：超过规定期限的不予受理（廊坊第七十三条、湖南第六十九条、资阳第三十三条(二)）",
    )
    poverty = models.BooleanField("特困人员/低保对象", default=False)
    supplementary_insured = models.BooleanField(
        "已参加商业健康补充医疗保险", default=False, help_text="资阳第二十八条至第三十一条（自愿参加）"
    )
    supplementary_renewed_on = models.DateField(
        "补充医疗保险断保后续保缴费日期",
        null=True,
        blank=True,
        help_text="断保或超过集中办理期后续保的缴费日期：从缴费之月起 3 个月后享受（资阳第三十一条）；按时续保留空",
    )
    # 生育
    maternity_event = models.CharField(
        "生育/计划生育事件", max_length=32, blank=True, choices=[(e, EVENT_ZH[e]) for e in EVENTS]
    )
    babies = models.PositiveSmallIntegerField("婴儿数", default=1)
    continuous_months = models.PositiveSmallIntegerField("连续缴费月数", null=True, blank=True)
    policy_extra_days = models.PositiveSmallIntegerField("奖励假天数", default=0)
    pregnancy_months = models.PositiveSmallIntegerField("妊娠月数", null=True, blank=True)
    maternity_setting = models.CharField(
        "流产就医方式", max_length=12, blank=True, choices=[("outpatient", "门诊"), ("inpatient", "住院")]
    )
    spouse_insured = models.BooleanField("配偶本人已享受生育待遇", default=False)
    rare_complication = models.BooleanField("少见并发症", default=False)
    employer_average_monthly_wage = _money("单位上年度职工月平均工资", null=True, blank=True)
    arrears_months = models.PositiveSmallIntegerField("生育保险欠费月数", default=0)
    arrears_made_up = models.BooleanField("欠费已补缴", default=False)
    separated_on = models.DateField("解除劳动关系日期", null=True, blank=True, help_text="解除劳动关系后未就业期间生育")
    maternity_insured_months = models.PositiveSmallIntegerField("生育保险参保月数", null=True, blank=True)
    new_employer = models.BooleanField("生育时已在新单位就业", default=False)
    claim_one_off_grant = models.BooleanField("申领一次性生育补助金", default=False, help_text="三门峡第二十三条")
    maternity_excluded_item = models.CharField(
        "生育保险不予支付项目", max_length=24, blank=True, choices=[(k, EXCLUDED_ITEM_ZH[k]) for k in EXCLUDED_ITEMS]
    )
    policy_compliant = models.BooleanField(
        "符合生育政策", default=True, help_text="不符合生育政策的生育或计划生育手术不予支付"
    )
    free_service = models.BooleanField(
        "已在定点机构免费享受该手术", default=False, help_text="资阳第二十五条：已免费享受的不再支付"
    )
    appraised_amount = _money(
        "技术鉴定组核定金额", null=True, blank=True, help_text="计划生育手术疑难并发症（资阳第二十五条）"
    )
    disabled_soldier_grade = models.PositiveSmallIntegerField(
        "残疾军人等级", null=True, blank=True, help_text="一至六级残疾军人（廊坊第八十条，按相关规定执行）"
    )
    # 门急诊费用按住院结算 (inpatient.counted_as_inpatient) and the facts its conditions read
    counted_as_inpatient = models.CharField(
        "按住院结算的门急诊费用",
        max_length=24,
        blank=True,
        choices=[(k, COUNTED_ZH[k]) for k in COUNTED_AS_INPATIENT],
        help_text=(
            "院前急诊、院前检查、急诊留观、日间手术、急诊抢救死亡的门诊费用：医疗类别 11 或 21，按住院待遇结算；"
            "不符合条件的不予支付（廊坊第四十七条(一)1、3；咸宁细则第二十三条；资阳第十八条(三)）"
        ),
    )
    dates_continuous = models.BooleanField(
        "院前急诊日期与入院日期连续",
        default=True,
        help_text="院前急诊：未住院或日期不连续的不纳入（廊坊第四十七条(一)1）",
    )
    died_in_rescue = models.BooleanField("急救车或急诊抢救期间死亡", default=False, help_text="院前急诊")
    days_before_admission = models.PositiveSmallIntegerField(
        "院前检查距入院天数", null=True, blank=True, help_text="院前检查：检查日在入院前几天"
    )
    same_hospital = models.BooleanField(
        "与住院为同一定点医疗机构", default=True, help_text="院前急诊、院前检查：转入其他医疗机构住院的不纳入"
    )
    observation_days = models.PositiveSmallIntegerField("急诊留观天数", null=True, blank=True)
    # 住院审核规则（AUDIT_FACT_FIELDS；廊坊第六十条、第六十二条至第六十四条）：留空的不作该项审核
    identity_verified = models.BooleanField(
        "入院时已核实参保身份", null=True, blank=True, help_text="廊坊第六十条：防止冒名住院；留空不审核"
    )
    admission_registered_hours = models.PositiveSmallIntegerField(
        "入院登记距入院小时数", null=True, blank=True, help_text="廊坊第六十条：48小时以内办理医疗保险入院登记"
    )
    injury = models.BooleanField("因外伤入院", default=False)
    injury_registered_on = models.DateField(
        "外伤登记日期", null=True, blank=True, help_text="廊坊第六十条：三个工作日以内办理外伤登记"
    )
    costs_unrecorded = models.BooleanField(
        "有病历无记录的费用", null=True, blank=True, help_text="廊坊第六十二条：无记录或记录不真实的费用不予支付"
    )
    bed_hanging = models.BooleanField("挂床住院", null=True, blank=True, help_text="廊坊第六十三条")
    discharge_drug_days = models.PositiveSmallIntegerField(
        "出院带药日量", null=True, blank=True, help_text="廊坊第六十四条：急性病不超过7日量，慢性病不超过15日量"
    )
    chronic_condition = models.BooleanField("慢性病（出院带药）", default=False)
    review_note = models.TextField("复核意见", blank=True)
    review_cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="复核人",
        db_index=False,
    )
    # 费用
    medfee_sumamt = _money("医疗费总额")
    fulamt_ownpay = _money("全自费金额", default=0)
    preselfpay = _money("先行自付金额", default=0)
    inscp_scp_amt = _money("符合政策范围金额")
    first_year_amount = _money(
        "入院年度的政策范围金额", null=True, blank=True, help_text="跨年度住院：按年度拆分，只计一次起付标准（D-X15）"
    )
    acct_pay_requested = _money("申请个人账户支付", default=0)
    # 结算结果（2303）
    act_pay_dedc = _result("实际支付起付线")
    hifp_pay = _result("统筹基金支出")
    pool_prop_selfpay = _result("基本医疗统筹支付比例自付")
    hifmi_pay = _result("大病保险支出")
    hifob_pay = _result("职工大额医疗费用补助支出")
    oth_pay = models.DecimalField(
        "其他支出（商业健康补充医疗保险，商业保险机构赔付）",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="资阳第二十八条至第三十一条：由承保的商业保险机构赔付，不属医保基金支付，不计入基金支付总额，不记入医保基金账",
    )
    acct_pay = _result("个人账户支出")
    psn_cash_pay = _result("个人现金支出")
    fund_pay_sumamt = _result("基金支付总额")
    maternity_allowance = _result("生育津贴")
    one_off_grant = _result("一次性生育补助金")
    third_party_advance = models.BooleanField("基金先行支付（向第三人追偿）", default=False)
    stay_deductible = _result("本次连续住院累计负担起付标准")
    benefit_scope = models.CharField(
        "生育待遇范围",
        max_length=16,
        blank=True,
        choices=[
            ("full", "全部生育保险待遇"),
            ("medical_only", "只享受生育医疗费用待遇"),
            ("none", "不享受生育保险待遇"),
        ],
    )
    allowance_payee = models.CharField(
        "生育津贴支付对象", max_length=16, blank=True, choices=[("employer", "拨付用人单位"), ("person", "支付本人")]
    )
    status = models.CharField("状态", max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT)
    refusal_reason = models.TextField("不予支付原因", blank=True)
    # 中断缴费期间的费用承担 (hunan 第二十条, langfang 第二十三条): who bears what the fund does not pay
    cost_payer = models.CharField(
        "费用承担方", max_length=8, blank=True, choices=CostPayer.choices, default="", db_default=""
    )
    employer_liability = _result("单位承担金额")
    liable_employer = models.ForeignKey(
        Employer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="承担费用的用人单位",
        db_index=False,
        db_constraint=False,
    )
    error = models.TextField("无法结算的原因", blank=True)
    steps = models.JSONField("计算步骤", default=list, blank=True)
    effects = models.JSONField("累计额变动", default=dict, blank=True)
    source = models.CharField("来源", max_length=16, choices=ClaimSource.choices, default=ClaimSource.MANUAL)
    settlement_file = models.ForeignKey(
        SettlementFile,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name="结算文件",
        db_index=False,
        db_constraint=False,
    )
    row_number = models.PositiveIntegerField("文件行号", null=True, blank=True)
    run = models.ForeignKey(
        BatchRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="批处理运行",
        db_index=False,
        db_constraint=False,
    )
    journal_entry = models.ForeignKey(
        "funds.JournalEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="记账凭证",
        db_index=False,
        db_constraint=False,
    )
    reversal_entry = models.ForeignKey(
        "funds.JournalEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="冲正凭证",
        db_index=False,
    )
    adjudicated_on = models.DateField("结算日期", null=True, blank=True)
    adjudicated_at = models.DateTimeField("结算时间", null=True, blank=True)
    adjudicated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="审核人",
        db_index=False,
        db_constraint=False,
    )
    reversal_reason = models.TextField("冲正原因", blank=True)
    reversed_at = models.DateTimeField("冲正时间", null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="冲正人",
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="录入人",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "费用报销"
        verbose_name_plural = "费用报销"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["person", "start_date"], name="claim_person_start"),
            # the batch reads a file's draft claims by person range; an adjudicated claim leaves this index
            models.Index(
                fields=["settlement_file", "person"], name="claim_file_draft_person", condition=Q(status="draft")
            ),
            models.Index(fields=["status", "jurisdiction", "med_type"], name="claim_status_jur_type"),
            # the list filtered by a rare 来源 (manual, api); the settlement files' claims stay out of it
            models.Index(
                fields=["source", "-id"], name="claim_source_not_file", condition=~Q(source="settlement_file")
            ),
            # only where set: a reversal checks its transfers, an institution's API lists its own claims
            models.Index(
                fields=["transfer_from"], name="claim_transfer_from", condition=Q(transfer_from__isnull=False)
            ),
            models.Index(fields=["institution"], name="claim_institution", condition=Q(institution__isnull=False)),
            models.Index(
                fields=["review_cleared_by"],
                name="claim_review_cleared_by",
                condition=Q(review_cleared_by__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")), name="claim_dates_ordered"
            ),
            models.CheckConstraint(condition=Q(medfee_sumamt__gte=0) & Q(inscp_scp_amt__gte=0), name="claim_amounts"),
        ]

    def __str__(self) -> str:
        return f"{self.business_key} {self.get_med_type_display()}"

    @classmethod
    def from_db(cls, db, field_names, values):
        """A row read without some columns (the claims list leaves out 计算步骤, ``list_defer``): Django looks each
        of the 112 columns up in the list of the names read, 112 × 110 comparisons a row; a set looks them up
        in one pass (issue #13). Then Django's own, with every column placed."""
        fields = cls._meta.concrete_fields
        if len(values) != len(fields):
            read, given = set(field_names), iter(values)
            values = [next(given) if f.attname in read else models.DEFERRED for f in fields]
        return super().from_db(db, field_names, values)

    @property
    def last_day(self):
        return self.end_date or self.start_date


class ClaimItem(models.Model):
    """费用明细: one line of a claim whose amounts are computed from its lines."""

    claim = models.ForeignKey(
        Claim, on_delete=models.CASCADE, related_name="items", verbose_name="报销申请", db_constraint=False
    )  # claims are partitioned on PostgreSQL (batch/partitioning.py): the ORM cascades and protects
    kind = models.CharField("费用类别", max_length=32, choices=[(k, ITEM_KIND_ZH[k]) for k in ITEM_KINDS])
    name = models.CharField("项目名称", max_length=200, blank=True)
    quantity = models.DecimalField("数量（床位费为天数）", max_digits=10, decimal_places=2, default=1)
    unit_price = _money("单价")
    price_limit = _money("限价（单价）", null=True, blank=True)
    bed_type = models.CharField("床位类型", max_length=12, blank=True, choices=[(k, BED_TYPE_ZH[k]) for k in BED_TYPES])

    class Meta:
        verbose_name = "费用明细"
        verbose_name_plural = "费用明细"
        ordering = ["claim_id", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"

    def as_row(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "quantity": self.quantity,
            "unit_price": self.unit_price,
            "price_limit": self.price_limit,
            "bed_type": self.bed_type,
        }


#: Decimal accumulator fields (the amounts a year's claims add up).
ACCUMULATOR_AMOUNTS = (
    "inpatient_deductibles",
    "inpatient_pool_paid",
    "outpatient_deductible_used",
    "outpatient_pool_paid",
    "special_disease_pool_paid",
    "single_drug_pool_paid",
    "major_disease_pool_paid",
    "maternity_paid",
    "resident_pool_paid",
    "resident_chronic_paid",
    "resident_outpatient_deductible_used",
    "resident_outpatient_paid",
    "layer_burden",
    "layer_paid",
    "supplementary_paid",
    "supplementary_sd_paid",
    "acct_paid",
)
ACCUMULATOR_COUNTS = ("inpatient_admissions", "claims_count")


class BenefitAccumulator(models.Model):
    """年度累计: one person's benefits in one jurisdiction and calendar year (D-L7: benefit year = calendar year)."""

    person = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="benefit_accumulators", verbose_name="参保人员"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    year = models.PositiveSmallIntegerField("年度")
    inpatient_deductibles = _money("住院起付标准累计", default=0)
    inpatient_pool_paid = _money("住院统筹支付累计", default=0)
    inpatient_admissions = models.PositiveIntegerField("住院次数", default=0)
    admissions_by_level = models.JSONField("按医院等级住院次数", default=dict, blank=True)
    outpatient_deductible_used = _money("普通门诊起付标准累计", default=0)
    outpatient_pool_paid = _money("普通门诊统筹支付累计", default=0)
    special_disease_pool_paid = _money("门诊慢特病统筹支付累计", default=0)
    single_drug_pool_paid = _money("单行支付药品统筹支付累计", default=0)
    major_disease_pool_paid = _money("重特大疾病统筹支付累计", default=0)
    maternity_paid = _money("生育保险支付累计", default=0)
    # 城乡居民基本医疗保险 (险种 390), kept apart from the employee figures (sanmenxia 第三十二条、第三十六条)
    resident_pool_paid = _money(
        "居民医保统筹支付累计（计入年度支付限额）", default=0, help_text="住院、门诊重症慢性病、重特大疾病"
    )
    resident_chronic_paid = _money("居民门诊重症慢性病支付累计", default=0)
    resident_outpatient_deductible_used = _money("居民门诊统筹起付标准累计", default=0)
    resident_outpatient_paid = _money("居民门诊统筹支付累计（单独核算）", default=0)
    layer_burden = _money(
        "大病/大额：计算基础累计", default=0, help_text="个人负担累计；廊坊为超过基本医保最高支付限额的费用累计"
    )
    layer_paid = _money("大病/大额支付累计", default=0)
    supplementary_paid = _money("商业补充医疗保险住院赔付累计", default=0)
    supplementary_sd_paid = _money("商业补充医疗保险特殊疾病门诊赔付累计", default=0)
    acct_paid = _money("个人账户支付累计", default=0)
    claims_count = models.PositiveIntegerField("结算笔数", default=0)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "年度待遇累计"
        verbose_name_plural = "年度待遇累计"
        ordering = ["person_id", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["person", "jurisdiction", "year"], name="accumulator_unique_year"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.jurisdiction_id} {self.year}"


class AdjustmentKind(models.TextChoices):
    SETTLE = "settle", "结算计入"
    REVERSE = "reverse", "冲正冲回"


class AccumulatorAdjustment(models.Model):
    """累计额变动: the deltas one claim added to (or a reversal took from) a year's accumulator."""

    accumulator = models.ForeignKey(
        BenefitAccumulator, on_delete=models.PROTECT, related_name="adjustments", verbose_name="年度累计"
    )
    claim = models.ForeignKey(
        Claim, on_delete=models.PROTECT, related_name="adjustments", verbose_name="报销申请", db_constraint=False
    )
    kind = models.CharField("类型", max_length=8, choices=AdjustmentKind.choices)
    deltas = models.JSONField("变动")
    created_at = models.DateTimeField("时间", auto_now_add=True)
    run = models.ForeignKey(
        BatchRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="批处理运行"
    )

    class Meta:
        verbose_name = "累计额变动"
        verbose_name_plural = "累计额变动"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["accumulator", "claim", "kind"], name="adjustment_once_per_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.claim_id}"


class ApiSettlement(models.Model):
    """机构接口结算记录 (issue #16 item 3): one settlement a 定点医药机构 submitted by API in the national platform's
    field names, and the claim it became. The business key is (机构, ``setl_id``): the same body again answers
    the same claim; a different body under the same key is refused. ``digest`` is the SHA-256 of the body as
    received (canonical JSON); the reversal (冲正) keeps its reason for the same idempotency."""

    institution = models.ForeignKey(
        "institutions.Institution", on_delete=models.PROTECT, related_name="+", verbose_name="定点医药机构"
    )
    setl_id = models.CharField("结算ID", max_length=30)
    mdtrt_id = models.CharField("就诊ID", max_length=30)
    claim = models.OneToOneField(
        Claim, on_delete=models.PROTECT, related_name="api_settlement", verbose_name="报销申请", db_constraint=False
    )
    digest = models.CharField("报文摘要", max_length=64)
    body = models.JSONField("报文", default=dict)
    reversal_reason = models.CharField("冲正原因", max_length=500, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="提交人",
    )
    submitted_at = models.DateTimeField("提交时间", auto_now_add=True)

    class Meta:
        verbose_name = "机构接口结算记录"
        verbose_name_plural = "机构接口结算记录"
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["institution", "setl_id"], name="api_settlement_key")]

    def __str__(self) -> str:
        return f"{self.setl_id}"


class LiabilityStatus(models.TextChoices):
    ISSUED = "issued", "已开具"
    PAID = "paid", "单位已支付"
    CANCELLED = "cancelled", "已撤销"


class EmployerLiabilityBill(models.Model):
    """单位承担医疗费用通知单: what an employer owes for care inside the interruption of cover its arrears caused
    (hunan 第二十条; langfang 第二十三条 over 3 months) — the part the fund would have paid; the person's own share
    stays with the person. Written by :func:`benefits.claims.services.claim_adjudicate` with the refused claim."""

    claim = models.OneToOneField(
        Claim, on_delete=models.PROTECT, related_name="liability_bill", verbose_name="费用报销", db_constraint=False
    )
    employer = models.ForeignKey(
        Employer, on_delete=models.PROTECT, related_name="liability_bills", verbose_name="用人单位"
    )
    person = models.ForeignKey(InsuredPerson, on_delete=models.PROTECT, related_name="+", verbose_name="参保人员")
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    amount = models.DecimalField("单位承担金额", max_digits=14, decimal_places=2)
    person_share = models.DecimalField("个人负担金额", max_digits=14, decimal_places=2)
    interruption_months = models.PositiveIntegerField("中断缴费月数")
    reason = models.TextField("依据")
    citation = models.CharField("条款出处", max_length=255, blank=True)
    issued_on = models.DateField("开具日期")
    status = models.CharField("状态", max_length=12, choices=LiabilityStatus.choices, default=LiabilityStatus.ISSUED)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = "单位承担医疗费用通知单"
        verbose_name_plural = "单位承担医疗费用通知单"
        ordering = ["-issued_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="liability_amount_non_negative")]

    def __str__(self) -> str:
        return f"{self.employer} 承担 {self.amount}（{self.claim_id}）"


# 第三人责任先行支付 (hunan 第三十五条): defined in benefits.claims.third_party, registered under this app.
from .third_party.models import ThirdPartyAction, ThirdPartyCase, ThirdPartyReason, ThirdPartyState  # noqa: E402, F401
