"""The operations app's own tables.

测算 (fund-impact simulation, issue #18 item 5): a draft run against the real data of a past period.

A simulation reads production data and writes only these tables: its own record, one row of figures per
person it touched (baseline and draft side by side) and the claims' totals by hospital level per chunk.

出具文书登记 (register of issued documents) and 批量出具 (bulk runs), issue #19 item 6.

Every printed PDF — 参保证明, 个人缴费明细, 个人账户对账单, 单位缴费通知单, 退休清缴核定通知 — is registered
here with a random verification code (核验码) and a digest of the figures it prints, so that anyone holding
the paper can check it on the public page ``/verify/<code>/`` (which shows only a masked summary).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Simulation(models.Model):
    """基金测算: the draft, the period (half-open [start, end)), who started it; the run in chunks (batch)."""

    draft = models.ForeignKey(
        "policy.PolicyDraft", on_delete=models.PROTECT, related_name="simulations", verbose_name="政策草案"
    )
    period_start = models.DateField("测算期间起（含）")
    period_end = models.DateField("测算期间止（不含）")
    jurisdiction = models.ForeignKey(
        "policy.Jurisdiction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="统筹区",
        help_text="空：草案涉及的全部统筹区",
    )
    areas = models.JSONField(
        "重算范围", default=list, help_text="contributions（基数与应缴）/ accounts / benefits（待遇）"
    )
    run = models.ForeignKey(
        "batch.BatchRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="批处理运行"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="发起人"
    )
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    fund_balances = models.JSONField(
        "统筹基金期末余额", default=dict, blank=True, help_text="统筹区代码 → 期间末统筹基金余额（测算开始时读取）"
    )

    class Meta:
        verbose_name = "基金测算"
        verbose_name_plural = "基金测算"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"测算 #{self.pk} {self.draft.name} {self.period_start:%Y-%m}–{self.period_end:%Y-%m}"


class SimulationPersonResult(models.Model):
    """测算结果（人员）: one person's figures over the period, under production (基线) and under the draft."""

    simulation = models.ForeignKey(Simulation, on_delete=models.CASCADE, related_name="persons", verbose_name="测算")
    person_id = models.BigIntegerField("人员ID")
    jurisdiction_code = models.CharField("统筹区", max_length=32)
    category = models.CharField("参保类别", max_length=16, blank=True)
    age_band = models.CharField("年龄段", max_length=8, blank=True)
    income_base = models.DecimalField("基金收入（基线）", max_digits=16, decimal_places=2, default=0)
    income_draft = models.DecimalField("基金收入（草案）", max_digits=16, decimal_places=2, default=0)
    account_base = models.DecimalField("个人账户划入（基线）", max_digits=16, decimal_places=2, default=0)
    account_draft = models.DecimalField("个人账户划入（草案）", max_digits=16, decimal_places=2, default=0)
    spending_base = models.DecimalField("基金支出（基线）", max_digits=16, decimal_places=2, default=0)
    spending_draft = models.DecimalField("基金支出（草案）", max_digits=16, decimal_places=2, default=0)
    claims = models.PositiveIntegerField("报销申请数", default=0)

    class Meta:
        verbose_name = "测算结果（人员）"
        verbose_name_plural = "测算结果（人员）"
        constraints = [
            models.UniqueConstraint(fields=["simulation", "person_id", "jurisdiction_code"], name="sim_person_unique")
        ]
        indexes = [models.Index(fields=["simulation", "person_id"], name="sim_person_range")]

    def __str__(self) -> str:
        return f"测算 #{self.simulation_id} 人员 {self.person_id}（{self.jurisdiction_code}）"


class SimulationLevelResult(models.Model):
    """测算结果（医疗机构等级）: the claims of one chunk by jurisdiction and hospital level."""

    simulation = models.ForeignKey(Simulation, on_delete=models.CASCADE, related_name="levels", verbose_name="测算")
    chunk_lo = models.BigIntegerField("分块起始人员ID")
    jurisdiction_code = models.CharField("统筹区", max_length=32)
    hospital_level = models.CharField("医疗机构等级", max_length=16, blank=True)
    claims = models.PositiveIntegerField("报销申请数", default=0)
    spending_base = models.DecimalField("基金支出（基线）", max_digits=16, decimal_places=2, default=0)
    spending_draft = models.DecimalField("基金支出（草案）", max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name = "测算结果（医疗机构等级）"
        verbose_name_plural = "测算结果（医疗机构等级）"

    def __str__(self) -> str:
        return f"测算 #{self.simulation_id} {self.jurisdiction_code} {self.hospital_level}"


class DocumentKind(models.TextChoices):
    ENROLMENT = "enrolment", "参保证明"
    CONTRIBUTIONS = "contributions", "个人缴费明细"
    ACCOUNT = "account", "个人账户对账单"
    EMPLOYER_NOTICE = "employer_notice", "单位缴费通知单"
    CLEARANCE = "clearance", "退休清缴核定通知"


class IssuedDocument(models.Model):
    """出具文书: one printed document, its verification code and the digest of its figures."""

    kind = models.CharField("文书类型", max_length=20, choices=DocumentKind.choices)
    code = models.CharField("核验码", max_length=16, unique=True, help_text="随机生成，不可推测")
    person = models.ForeignKey(
        "enrollment.InsuredPerson",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="参保人员",
    )
    employer = models.ForeignKey(
        "enrollment.Employer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="用人单位",
    )
    # the masked summary the public page shows (kept as printed: a later change of name does not alter it)
    subject_masked = models.CharField("对象（脱敏）", max_length=100)
    subject_id_masked = models.CharField("证件号（脱敏）", max_length=32, blank=True)
    period_start = models.DateField("所属期起", null=True, blank=True)
    period_end = models.DateField("所属期止（不含）", null=True, blank=True)
    period_label = models.CharField("所属期", max_length=50, blank=True)
    as_of = models.DateField("数据截至日期")
    digest = models.CharField("数据摘要（SHA-256）", max_length=64)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name="出具人"
    )
    issued_at = models.DateTimeField("出具时间")
    batch = models.ForeignKey(
        "DocumentBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
        verbose_name="批量出具",
    )

    class Meta:
        verbose_name = "出具文书"
        verbose_name_plural = "出具文书"
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["person", "-issued_at"], name="issued_doc_person")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code}"


class BatchStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class DocumentBatch(models.Model):
    """批量出具: all the people of one employer, one document each, in one ZIP (a background task)."""

    employer = models.ForeignKey(
        "enrollment.Employer", on_delete=models.PROTECT, related_name="+", verbose_name="用人单位"
    )
    kind = models.CharField("文书类型", max_length=20, choices=DocumentKind.choices)
    period_start = models.DateField("所属期起", null=True, blank=True)
    period_end = models.DateField("所属期止（不含）", null=True, blank=True)
    as_of = models.DateField("数据截至日期")
    status = models.CharField("状态", max_length=10, choices=BatchStatus.choices, default=BatchStatus.QUEUED)
    total = models.PositiveIntegerField("人数", default=0)
    done = models.PositiveIntegerField("已生成", default=0)
    file = models.FileField("ZIP 文件", upload_to="documents/%Y/%m/", blank=True)
    error = models.TextField("错误", blank=True)
    base_url = models.CharField("核验地址前缀", max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="申请人"
    )
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "批量出具"
        verbose_name_plural = "批量出具"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.employer} {self.get_kind_display()} #{self.pk}"

    @property
    def percent(self) -> int:
        return int(self.done * 100 / self.total) if self.total else (100 if self.status == BatchStatus.DONE else 0)


class ExportJob(models.Model):
    """接口导出任务 (issue #16 item 4): a list endpoint's result set, with its filters, written to an .xlsx in the
    background (Celery) for the user who asked; the rows are the list's own (same scope, same PII masking,
    read again as that user when the job runs), every cell neutralised; polled, then downloaded."""

    resource = models.CharField("导出内容", max_length=40)
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    status = models.CharField("状态", max_length=10, choices=BatchStatus.choices, default=BatchStatus.QUEUED)
    rows = models.PositiveIntegerField("行数", default=0)
    file = models.FileField("文件", upload_to="exports/%Y/%m/", blank=True)
    error = models.TextField("错误", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="申请人"
    )
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "接口导出任务"
        verbose_name_plural = "接口导出任务"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="exportjob_user_created")]

    def __str__(self) -> str:
        return f"{self.resource} #{self.pk}"
