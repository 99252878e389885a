"""Jurisdictions and their policy as dated data (政策参数, 统计指标).

A parameter is a value with an effective date and the article it comes from; a
reference statistic is a figure the bureau publishes each year (上年度社平工资 …).
Neither is ever a literal in code: rules ask :mod:`policy.resolver` for them.
"""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Jurisdiction(models.Model):
    """统筹区: one pooling area and the policy document that governs it."""

    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64)
    document = models.CharField("政策文件", max_length=255, blank=True)
    document_status = models.CharField("文件状态", max_length=255, blank=True)
    is_draft = models.BooleanField("征求意见稿", default=False)
    completeness_note = models.TextField("完整性说明", blank=True)

    class Meta:
        verbose_name = "统筹区"
        verbose_name_plural = "统筹区"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name  # 湖南, not "湖南（hunan）": the code is for files and URLs, not for case workers


class ParameterOrigin(models.TextChoices):
    FILE = "file", "政策文件（版本库）"
    STAFF = "staff", "经办人员录入"


class PolicyParameter(models.Model):
    """政策参数: the value of KEY in a jurisdiction from ``effective_from`` until the next value."""

    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="parameters", verbose_name="统筹区"
    )
    key = models.CharField("参数键", max_length=120, db_index=True)
    effective_from = models.DateField("生效日期")
    value = models.JSONField("取值", null=True, blank=True, help_text="数值、表格或 null（本地不适用）")
    citation = models.CharField("条款出处", max_length=255)
    decision = models.CharField("产品决定", max_length=64, blank=True, help_text="例如 D-X2")
    note = models.TextField("说明", blank=True)
    origin = models.CharField("来源", max_length=8, choices=ParameterOrigin.choices, default=ParameterOrigin.STAFF)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "政策参数"
        verbose_name_plural = "政策参数"
        ordering = ["jurisdiction__code", "key", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "key", "effective_from"], name="policy_parameter_unique_version"
            )
        ]

    def __str__(self) -> str:
        from .catalog import catalog_labels

        label = catalog_labels().get(self.key, self.key).split("（")[0]
        return f"{self.jurisdiction.name} {label} {self.effective_from:%Y-%m-%d}起"


class StatisticKey(models.TextChoices):
    """Reference statistics named in SCENARIOS.md ("Reference statistics")."""

    REFERENCE_MONTHLY_WAGE = "reference_monthly_wage", "缴费基准值 / 社平工资（月）"
    AVERAGE_PENSION_MONTHLY = "average_pension_monthly", "月平均基本养老金"
    # langfang 第三十六条(二): two averages, by the retiree's group
    AVERAGE_PENSION_INSTITUTION_MONTHLY = "average_pension_institution_monthly", "机关事业单位退休人员月平均基本养老金"
    AVERAGE_PENSION_ENTERPRISE_MONTHLY = "average_pension_enterprise_monthly", "企业退休人员月平均基本养老金"
    EMPLOYER_AVERAGE_MONTHLY_WAGE = "employer_average_monthly_wage", "单位上年度职工月平均工资"
    EMPLOYER_AVERAGE_BASE = "employer_average_base", "单位职工月平均缴费基数"
    CRITICAL_ILLNESS_DEDUCTIBLE = "critical_illness_deductible", "大病保险起付标准（年）"
    LARGE_AMOUNT_DEDUCTIBLE = "large_amount_deductible", "大额医疗费用补助起付标准（年）"
    ANNUAL_AVERAGE_WAGE = "annual_average_wage", "上年度社平工资（年）"


class ReferenceStatistic(models.Model):
    """统计指标: an annual figure the bureau enters, in force from ``effective_from``."""

    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="statistics", verbose_name="统筹区"
    )
    key = models.CharField("指标", max_length=64, choices=StatisticKey.choices)
    effective_from = models.DateField("适用起始日期")
    period_label = models.CharField("统计期", max_length=32, help_text="例如：2023年度")
    value = models.DecimalField("数值", max_digits=14, decimal_places=2)
    is_demo = models.BooleanField("演示数据", default=False, help_text="演示用数值，并非官方公布数")
    source = models.CharField("出处", max_length=255, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name="录入人"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "统计指标"
        verbose_name_plural = "统计指标"
        ordering = ["jurisdiction__code", "key", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "key", "effective_from"], name="reference_statistic_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction.name} {self.get_key_display()} {self.period_label}"


class ScenarioRun(models.Model):
    """情形用例运行记录: a scenario file an analyst ran against the policy in force, who ran it and when,
    and each case's result (passed, problems, computed) — kept (issue #18 item 3)."""

    ran_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="运行人"
    )
    ran_at = models.DateTimeField("运行时间", auto_now_add=True)
    file_name = models.CharField("文件名", max_length=255, blank=True)
    yaml_text = models.TextField("用例文件内容")
    results = models.JSONField("结果", default=dict, help_text="每个用例：名称、是否通过、差异与计算值")
    passed = models.PositiveIntegerField("通过数", default=0)
    failed = models.PositiveIntegerField("失败数", default=0)
    draft = models.ForeignKey(
        "PolicyDraft",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scenario_runs",
        verbose_name="政策草案",
        help_text="空：按现行政策；选定草案：按“现行政策 + 草案”运行",
    )

    class Meta:
        verbose_name = "情形用例运行"
        verbose_name_plural = "情形用例运行"
        ordering = ["-ran_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name or '用例'} @ {self.ran_at:%Y-%m-%d %H:%M}（{self.passed} 通过，{self.failed} 失败）"


class DraftStatus(models.TextChoices):
    DRAFT = "draft", "草案（未发布）"
    PUBLISHED = "published", "已发布"
    WITHDRAWN = "withdrawn", "已撤回"


class PolicyDraft(models.Model):
    """政策草案: a named set of proposed dated values (issue #18 item 4). It changes nothing in production
    until an administrator other than its author publishes it (双人复核); it can be withdrawn."""

    name = models.CharField("草案名称", max_length=120)
    description = models.TextField("说明", blank=True)
    status = models.CharField("状态", max_length=10, choices=DraftStatus.choices, default=DraftStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="起草人"
    )
    created_at = models.DateTimeField("起草时间", auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="发布人",
    )
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="撤回人",
    )
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "政策草案"
        verbose_name_plural = "政策草案"
        ordering = ["-created_at", "-id"]
        permissions = [("publish_policydraft", "发布政策草案（须为起草人以外的管理员）")]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_status_display()}）"

    @property
    def is_open(self) -> bool:
        return self.status == DraftStatus.DRAFT


class PolicyDraftValue(models.Model):
    """草案取值: one proposed dated value of a catalog key in a jurisdiction (a new key or a changed one)."""

    draft = models.ForeignKey(PolicyDraft, on_delete=models.CASCADE, related_name="values", verbose_name="草案")
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+", verbose_name="统筹区")
    key = models.CharField("参数键", max_length=120)
    effective_from = models.DateField("生效日期")
    value = models.JSONField("取值", null=True, blank=True, help_text="数值、表格或 null（本地不适用）")
    citation = models.CharField("条款出处", max_length=255)
    decision = models.CharField("产品决定", max_length=64, blank=True)
    note = models.TextField("说明", blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "草案取值"
        verbose_name_plural = "草案取值"
        ordering = ["draft_id", "jurisdiction__code", "key", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["draft", "jurisdiction", "key", "effective_from"], name="policy_draft_value_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction.code} {self.key} @ {self.effective_from}"
