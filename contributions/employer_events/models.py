"""用人单位变动: an employer's merger, split, transfer, bankruptcy or closure, and what it moved.

Registered under the ``contributions`` app (imported at the end of :mod:`contributions.models`). Rows are written
only by :func:`contributions.employer_events.services.employer_event_apply`, in one transaction; an event is a fact
and never edited (a correction is a new event). ``EmployerEventDueMove`` keeps, per moved due, from whom to whom it
went: the audit trail of the arrears and late fees taken over by the successor.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from enrollment.models import Employer, InsuredPerson
from policy.models import Jurisdiction


def _money(verbose_name: str, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


class EmployerEventKind(models.TextChoices):
    MERGER = "merger", "合并（兼并）"
    SPLIT = "split", "分立"
    TRANSFER = "transfer", "转制（转让、改制、重组）"
    BANKRUPTCY = "bankruptcy", "破产"
    CLOSURE = "closure", "关闭注销（撤销、解散）"


#: Events with a successor that takes over (langfang 第二十七条, sanmenxia 第二十条, ziyang 第三十六条(五)).
SUCCESSION_KINDS = frozenset({EmployerEventKind.MERGER, EmployerEventKind.SPLIT, EmployerEventKind.TRANSFER})
#: Events that end the employer (hunan 第二十四条, langfang 第二十八条, sanmenxia 第二十条).
ENDING_KINDS = frozenset({EmployerEventKind.BANKRUPTCY, EmployerEventKind.CLOSURE})


class ReserveStatus(models.TextChoices):
    NONE = "none", "不适用"
    BILLED = "billed", "已开具（应收）"
    PAID = "paid", "已缴纳"


class EmployerEvent(models.Model):
    """单位变动: what happened to the employer (原单位) on ``occurred_on`` and what the service did about it."""

    employer = models.ForeignKey(
        Employer, on_delete=models.PROTECT, related_name="events", verbose_name="原单位（变动单位）"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    kind = models.CharField("变动类型", max_length=16, choices=EmployerEventKind.choices)
    occurred_on = models.DateField("变动日期", help_text="合并、分立、转制生效或破产宣告、关闭注销之日")
    reported_on = models.DateField("申报日期", null=True, blank=True, help_text="单位申报变更或注销的日期")
    report_deadline = models.DateField(
        "办理时限", null=True, blank=True, help_text="自变更、终止之日起的期限（廊坊第八条）；文件未规定时为空"
    )
    successor = models.ForeignKey(
        Employer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events_taken_over",
        verbose_name="接收或继续经营单位",
    )
    trustee = models.ForeignKey(
        Employer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events_in_trust",
        verbose_name="退休人员托管单位（主管部门）",
    )
    moved_persons = models.ManyToManyField(
        InsuredPerson,
        blank=True,
        related_name="+",
        verbose_name="分立时转入接收单位的人员",
        help_text="仅分立：随分立部分转入接收单位的职工（其欠费随之转移）；合并、转制时全部职工转入",
    )
    resigned_count = models.PositiveIntegerField(
        "退职人员人数", default=0, help_text="原单位退职人员人数（三门峡第二十条：参照退休人员管理）"
    )
    note = models.TextField("说明", blank=True)
    # what the service did
    dues_moved = models.PositiveIntegerField("转移的欠费月数", default=0)
    moved_principal = _money("转移的欠费本金", default=0)
    moved_late_fee = _money("转移的滞纳金", default=0)
    spans_moved = models.PositiveIntegerField("转入接收单位的职工人数", default=0)
    spans_closed = models.PositiveIntegerField("终止参保关系的职工人数", default=0)
    retirees_handed = models.PositiveIntegerField("移交托管单位的退休人员人数", default=0)
    arrears_principal = _money("应清偿欠费本金", default=0)
    arrears_late_fee = _money("应清偿滞纳金", default=0)
    reserve_persons = models.PositiveIntegerField("预留医保费人数", default=0)
    reserve_per_person = _money("每人预留医保费", default=0)
    reserve_amount = _money("一次性预留医保费", default=0)
    reserve_status = models.CharField(
        "预留医保费状态", max_length=8, choices=ReserveStatus.choices, default=ReserveStatus.NONE
    )
    reserve_paid_on = models.DateField("预留医保费缴纳日期", null=True, blank=True)
    ledger_entry_id = models.BigIntegerField("记账凭证号", null=True, blank=True)
    ledger_note = models.CharField("记账说明", max_length=255, blank=True)
    rules = models.TextField("依据与办理过程", blank=True)
    recorded_at = models.DateTimeField("办理时间", auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name="经办人"
    )
    history = HistoricalRecords(excluded_fields=["recorded_at"])

    class Meta:
        verbose_name = "单位变动"
        verbose_name_plural = "单位变动（合并、分立、转制、破产、关闭）"
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(successor__isnull=True) | ~Q(successor=models.F("employer")),
                name="employer_event_successor_not_itself",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employer} {self.get_kind_display()} {self.occurred_on}"


class EmployerEventDueMove(models.Model):
    """欠费转移记录: one due that the successor took over (who owed it before, who owes it now, how much)."""

    event = models.ForeignKey(
        EmployerEvent, on_delete=models.PROTECT, related_name="due_moves", verbose_name="单位变动"
    )
    due = models.ForeignKey(
        "contributions.MonthlyDue",
        on_delete=models.PROTECT,
        related_name="employer_moves",
        verbose_name="应缴",
        db_constraint=False,  # dues are partitioned on PostgreSQL (batch/partitioning.py): PROTECT by the ORM
    )
    from_employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="+", verbose_name="原单位")
    to_employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="+", verbose_name="接收单位")
    unpaid_principal = _money("转移时未缴本金")
    unpaid_late_fee = _money("转移时未缴滞纳金")

    class Meta:
        verbose_name = "欠费转移记录"
        verbose_name_plural = "欠费转移记录"
        ordering = ["event_id", "due_id"]
        constraints = [models.UniqueConstraint(fields=["event", "due"], name="employer_due_move_unique")]

    def __str__(self) -> str:
        return f"{self.due_id}: {self.from_employer_id} → {self.to_employer_id}"
