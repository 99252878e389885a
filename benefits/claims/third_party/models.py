"""第三人责任先行支付案件 (hunan 第三十五条): the case, its history of actions, and the ledger entries they made.

A case belongs to one claim (费用报销) whose costs a third party owes (不予支付情形 ``third_party``) and does not
pay; the claim itself is settled as usual and marked 基金先行支付. The case then tracks the fund's advance, each
recovery from the third party and the write-off of what cannot be recovered, to the end. Rows are written by
:mod:`benefits.claims.third_party.services` only; every action is a :class:`ThirdPartyAction` row.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models

from enrollment.models import InsuredPerson
from policy.models import Jurisdiction

from . import rules


class ThirdPartyReason(models.TextChoices):
    NOT_PAYING = "not_paying", "第三人不支付"
    UNKNOWN = "unknown", "无法确定第三人"


class ThirdPartyState(models.TextChoices):
    APPLIED = rules.APPLIED, rules.STATE_ZH[rules.APPLIED]
    INVESTIGATED = rules.INVESTIGATED, rules.STATE_ZH[rules.INVESTIGATED]
    REFUSED = rules.REFUSED, rules.STATE_ZH[rules.REFUSED]
    RECOVERING = rules.RECOVERING, rules.STATE_ZH[rules.RECOVERING]
    WRITE_OFF_PENDING = rules.WRITE_OFF_PENDING, rules.STATE_ZH[rules.WRITE_OFF_PENDING]
    RECOVERED = rules.RECOVERED, rules.STATE_ZH[rules.RECOVERED]
    WRITTEN_OFF = rules.WRITTEN_OFF, rules.STATE_ZH[rules.WRITTEN_OFF]


def _money(verbose_name: str, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


class ThirdPartyCase(models.Model):
    """第三人责任先行支付案件."""

    claim = models.OneToOneField(
        "claims.Claim",
        on_delete=models.PROTECT,
        related_name="third_party_case",
        verbose_name="费用报销",
        db_constraint=False,  # claims are partitioned on PostgreSQL (batch/partitioning.py)
    )
    person = models.ForeignKey(InsuredPerson, on_delete=models.PROTECT, related_name="+", verbose_name="参保人员")
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="参保统筹区")
    applied_on = models.DateField("书面申请日期")
    reason = models.CharField("申请理由", max_length=16, choices=ThirdPartyReason.choices)
    third_party = models.CharField("第三人", max_length=100, blank=True, help_text="无法确定第三人的留空")
    cause = models.TextField("伤病原因（如实告知）", max_length=1000)
    state = models.CharField(
        "状态", max_length=20, choices=ThirdPartyState.choices, default=ThirdPartyState.APPLIED, db_index=True
    )
    finding = models.TextField("调查结论", blank=True, max_length=1000)
    advanced = _money("基金先行支付金额", default=Decimal(0))
    recovered = _money("已追回金额", default=Decimal(0))
    written_off = _money("已核销金额", default=Decimal(0))
    write_off_reason = models.TextField("核销原因（难以追偿的客观原因）", blank=True, max_length=1000)
    write_off_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="核销申请人",
    )
    citation = models.CharField("条款出处", max_length=120, blank=True)
    closed_on = models.DateField("办结日期", null=True, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "第三人责任先行支付案件"
        verbose_name_plural = "第三人责任先行支付案件"
        ordering = ["-applied_on", "-id"]
        permissions = [("approve_thirdpartywriteoff", "审批第三人责任追偿核销（不再追偿）")]
        indexes = [models.Index(fields=["-applied_on", "-id"], name="thirdparty_applied")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(recovered__gte=0) & models.Q(written_off__gte=0) & models.Q(advanced__gte=0),
                name="thirdparty_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"第三人责任 {self.claim.business_key}（{self.get_state_display()}）"

    @property
    def outstanding(self) -> Decimal:
        """尚未追回."""
        return rules.outstanding(self.advanced, self.recovered, self.written_off)

    @property
    def is_closed(self) -> bool:
        return self.state in rules.CLOSED

    def days_open(self, on: date) -> int:
        """Days since the application, to the close or to ``on``."""
        return ((self.closed_on or on) - self.applied_on).days


class ThirdPartyAction(models.Model):
    """处理记录: one action on a case (who, when, what amount, which ledger entry); never changed."""

    case = models.ForeignKey(ThirdPartyCase, on_delete=models.PROTECT, related_name="actions", verbose_name="案件")
    action = models.CharField("操作", max_length=24, choices=[(k, v) for k, v in rules.ACTION_ZH.items()])
    on = models.DateField("业务日期")
    amount = _money("金额", null=True, blank=True)
    state_after = models.CharField("操作后状态", max_length=20, choices=ThirdPartyState.choices)
    note = models.TextField("说明", blank=True)
    reference = models.CharField("凭据号（追偿到账）", max_length=64, blank=True)
    journal_entry = models.ForeignKey(
        "funds.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="记账凭证"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="经办人",
    )
    recorded_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = "第三人责任处理记录"
        verbose_name_plural = "第三人责任处理记录"
        ordering = ["case_id", "recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.on}"
