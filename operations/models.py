"""出具文书登记 (register of issued documents) and 批量出具 (bulk runs), issue #19 item 6.

Every printed PDF — 参保证明, 个人缴费明细, 个人账户对账单, 单位缴费通知单, 退休清缴核定通知 — is registered
here with a random verification code (核验码) and a digest of the figures it prints, so that anyone holding
the paper can check it on the public page ``/verify/<code>/`` (which shows only a masked summary).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


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
