"""退休清缴 cases: a person reaching the legal retirement age (or whose pension was approved) is cleared.

A case records the minimum and actual contribution months, the shortfall and the
lump sum computed by :func:`contributions.calculations.retirement.clearance`, the
option chosen (one-off payment, or keep paying as in-service where the seed allows
it), the bill, the payment and the date retiree benefits start. Writes go through
:mod:`contributions.retirement.services`; every change is kept in the history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from enrollment.models import InsuredPerson
from policy.models import Jurisdiction


class CaseReason(models.TextChoices):
    LEGAL_AGE = "legal_age", "达到法定退休年龄"
    PENSION_APPROVED = "pension_approved", "养老保险退休已核准"


class CaseOption(models.TextChoices):
    LUMP_SUM = "lump_sum", "一次性补缴"
    KEEP_PAYING = "keep_paying", "按在职职工继续缴费至年限满"


class StatusAtRetirement(models.TextChoices):
    """职工医保参保状态 at the legal age or the pension's completion (hunan 第三十一条)."""

    NORMAL = "normal", "正常参保"
    SUSPENDED = "suspended", "暂停缴费"


class CaseStatus(models.TextChoices):
    OPEN = "open", "待审核"
    APPROVED = "approved", "已审核"
    BILLED = "billed", "已开具补缴单"
    PAID = "paid", "已缴费"
    CLOSED = "closed", "已办结"


def _money(verbose_name: str, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


def _months(verbose_name: str) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=8, decimal_places=2, default=0)


class RetirementClearanceCase(models.Model):
    """退休清缴案件."""

    person = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="clearance_cases", verbose_name="参保人员"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    category = models.CharField("退休前人员类别", max_length=16, default="employee")
    opened_on = models.DateField("立案日期")
    reason = models.CharField("立案原因", max_length=20, choices=CaseReason.choices)
    retire_on = models.DateField("退休日期（达到法定年龄或核准日）")
    status_at_retirement = models.CharField(
        "退休时参保状态", max_length=16, choices=StatusAtRetirement.choices, default=StatusAtRetirement.NORMAL
    )
    place_basis = models.TextField("退休地确定依据", blank=True, help_text="湖南第三十一条：正常参保→当前参保地")
    required_months = models.PositiveIntegerField("累计最低缴费月数", null=True, blank=True)
    required_local_months = models.PositiveIntegerField("本地最低实际缴费月数", null=True, blank=True)
    deemed_months = _months("视同缴费月数")
    actual_months = _months("实际缴费月数（含转入）")
    local_months = _months("本地实际缴费月数")
    cumulative_months = _months("累计缴费月数")
    shortfall_months = models.PositiveIntegerField("不足月数", null=True, blank=True)
    lump_sum = _money("一次性补缴金额", null=True, blank=True)
    lump_sum_base = models.DecimalField("补缴基数", max_digits=16, decimal_places=4, null=True, blank=True)
    basis = models.TextField("计算过程", blank=True)
    option = models.CharField("清缴方式", max_length=16, choices=CaseOption.choices, default=CaseOption.LUMP_SUM)
    status = models.CharField("状态", max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    problem = models.TextField("无法计算的原因", blank=True, help_text="例如：缺少政策参数或统计指标（D-X16）")
    facts = models.JSONField("计算所依据的事实", default=dict, blank=True)
    citation = models.TextField("条款出处", blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="审核人",
    )
    approved_on = models.DateField("审核日期", null=True, blank=True)
    bill_no = models.CharField("补缴单号", max_length=32, blank=True)
    bill_amount = _money("补缴单金额", null=True, blank=True)
    bill_issued_on = models.DateField("开单日期", null=True, blank=True)
    paid_on = models.DateField("缴费到账日期", null=True, blank=True)
    payment_reference = models.CharField("电子税票号", max_length=64, blank=True)
    ledger_entry_id = models.BigIntegerField("记账凭证ID", null=True, blank=True)
    ledger_note = models.TextField("记账说明", blank=True)
    retiree_from = models.DateField("退休人员待遇起始日", null=True, blank=True)
    closed_on = models.DateField("办结日期", null=True, blank=True)
    run = models.ForeignKey(
        "batch.BatchRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="批处理运行"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "退休清缴案件"
        verbose_name_plural = "退休清缴案件"
        ordering = ["-opened_on", "-id"]
        constraints = [
            # One case in progress per person: the daily scan never opens a second one.
            models.UniqueConstraint(fields=["person"], condition=~Q(status="closed"), name="clearance_one_open_case"),
        ]
        indexes = [
            models.Index(fields=["status", "jurisdiction"], name="clearance_status_jur"),
            models.Index(fields=["-opened_on", "-id"], name="clearance_opened"),  # the list's order
        ]

    def __str__(self) -> str:
        return f"{self.person} 退休清缴 {self.retire_on}"


class ClearanceInputChange(models.Model):
    """待复核人员（退休清缴）: a person whose clearance inputs changed since the last scan of their ids — dues
    (month, base, category, 到账日), enrolment spans, life events (转入), the person's sex, birth date, 女职工身份,
    视同/军龄 months, or their clearance case. Filled by database triggers on those tables (migration
    ``retirement/0004``; every writer is seen, set-based SQL included) and emptied, chunk by chunk, by the scan."""

    person_id = models.BigIntegerField("人员ID", primary_key=True)

    class Meta:
        verbose_name = "待复核人员（退休清缴）"
        verbose_name_plural = "待复核人员（退休清缴）"

    def __str__(self) -> str:
        return str(self.person_id)


class ClearanceScanMark(models.Model):
    """退休清缴扫描记录: the ids ``lo <= id < hi`` were scanned on ``as_of`` under policy and rule ``version``.

    The next scan of those ids reads only what may have changed since (:func:`.services.clearance_scan`):
    the persons noted in :class:`ClearanceInputChange` and the dates crossed in between."""

    lo = models.BigIntegerField("起始人员ID")
    hi = models.BigIntegerField("截止人员ID（不含）")
    as_of = models.DateField("扫描业务日期")
    version = models.CharField("政策与规则版本", max_length=32)

    class Meta:
        verbose_name = "退休清缴扫描记录"
        verbose_name_plural = "退休清缴扫描记录"
        indexes = [models.Index(fields=["lo", "hi"], name="clearance_mark_range")]

    def __str__(self) -> str:
        return f"[{self.lo}, {self.hi}) {self.as_of}"
