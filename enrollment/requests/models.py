"""单位增减员申请 (单位网厅): an employer's request and its attachments. Facts only; the state machine and
the checks are in :mod:`enrollment.requests.services`."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from policy.models import Jurisdiction

from ..models import Employer, FemaleRole, InsuredPerson, LifeEvent, scope_queryset


class RequestKind(models.TextChoices):
    HIRE = "hire", "增员（参保登记）"
    SEPARATION = "separation", "减员（停保）"
    WAGE_CHANGE = "wage_change", "工资变更"
    CORRECTION = "correction", "信息更正"


class RequestState(models.TextChoices):
    """办理状态: 待受理 → 已受理 → 已审核 → 已办结, or 已退回 (with the reason the employer sees)."""

    SUBMITTED = "submitted", "待受理"
    ACCEPTED = "accepted", "已受理"
    REVIEWED = "reviewed", "已审核"
    DONE = "done", "已办结"
    RETURNED = "returned", "已退回"


OPEN_STATES = (RequestState.SUBMITTED, RequestState.ACCEPTED, RequestState.REVIEWED)


class RequestSource(models.TextChoices):
    SCREEN = "screen", "单笔申报"
    FILE = "file", "文件批量申报"
    API = "api", "接口申报"


class EmployerRequestQuerySet(models.QuerySet):
    def visible_to(self, user) -> EmployerRequestQuerySet:
        """The one scope rule: an employer user sees only their employer's requests."""
        return scope_queryset(user, self, employer_path="employer_id")

    def open(self) -> EmployerRequestQuerySet:
        return self.filter(state__in=OPEN_STATES)


class EmployerRequest(models.Model):
    """单位增减员申请: a hire (参保登记), separation (停保), wage change or correction an employer submits."""

    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="requests", verbose_name="用人单位")
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区", editable=False)
    kind = models.CharField("申请类型", max_length=16, choices=RequestKind.choices)
    state = models.CharField(
        "办理状态", max_length=16, choices=RequestState.choices, default=RequestState.SUBMITTED, editable=False
    )
    id_number = models.CharField("身份证号", max_length=18)
    name = models.CharField("姓名", max_length=50)
    female_role = models.CharField("女职工身份", max_length=8, choices=FemaleRole.choices, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    occurred_on = models.DateField("变动日期", help_text="增员：用工之日；减员：停保日期；工资变更：起始日期")
    monthly_wage = models.DecimalField("月工资", max_digits=14, decimal_places=2, null=True, blank=True)
    note = models.TextField("申请说明", max_length=500, blank=True)
    person = models.ForeignKey(
        InsuredPerson,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="employer_requests",
        verbose_name="参保人员",
        editable=False,
    )
    source = models.CharField("申报方式", max_length=8, choices=RequestSource.choices, default=RequestSource.SCREEN)
    submitted_on = models.DateField("申报日期", editable=False)
    submitted_at = models.DateTimeField("提交时间", editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="申报人",
        editable=False,
    )
    report_deadline = models.DateField("登记时限", null=True, blank=True, editable=False)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True, editable=False)
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True, editable=False)
    closed_at = models.DateTimeField("办结/退回时间", null=True, blank=True, editable=False)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="经办人",
        editable=False,
    )
    return_reason = models.TextField("退回原因", blank=True, editable=False)
    event = models.ForeignKey(
        LifeEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="办结生成的人员变动",
        editable=False,
    )
    history = HistoricalRecords()

    objects = EmployerRequestQuerySet.as_manager()

    class Meta:
        verbose_name = "增减员申请"
        verbose_name_plural = "增减员申请"
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["state", "submitted_at"], name="request_state_submitted"),
            models.Index(fields=["employer", "state"], name="request_employer_state"),
            models.Index(fields=["id_number", "state"], name="request_id_number_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_wage__isnull=True) | Q(monthly_wage__gt=0), name="request_wage_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name} #{self.pk or ''}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def days_open(self, today: date) -> int:
        """Days since the employer submitted it, to ``today`` or to when it was closed or returned."""
        end = self.closed_at.date() if self.closed_at else today
        return max((end - self.submitted_on).days, 0)

    @property
    def is_late(self) -> bool:
        """Reported past the registration deadline (hunan 第十七条, langfang 第十条, sanmenxia 第十六条)."""
        return self.report_deadline is not None and self.submitted_on > self.report_deadline


def _attachment_path(instance: RequestAttachment, filename: str) -> str:
    return f"requests/{instance.request.employer_id}/{instance.request_id}/{filename}"


class RequestAttachment(models.Model):
    """申请附件 (劳动合同、离职证明 …): PDF or image, size-bounded; downloaded through the scope rule."""

    request = models.ForeignKey(
        EmployerRequest, on_delete=models.CASCADE, related_name="attachments", verbose_name="增减员申请"
    )
    file = models.FileField("附件", upload_to=_attachment_path, max_length=255)
    original_name = models.CharField("文件名", max_length=120)
    size = models.PositiveIntegerField("大小（字节）")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="上传人",
    )

    class Meta:
        verbose_name = "申请附件"
        verbose_name_plural = "申请附件"
        ordering = ["request_id", "id"]

    def __str__(self) -> str:
        return self.original_name
