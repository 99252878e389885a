"""The persisted eligibility timeline (待遇享受状态时间轴).

Each person's timeline is computed by the rule
:func:`benefits.calculations.eligibility.eligibility_timeline` (the same function
the ``eligibility`` scenario calculation uses) from the person's enrolment spans
and monthly dues, and stored as half-open periods ``[start, end)`` so that claims
and case workers read it without recomputing. :class:`EligibilityState` holds one
row per person with a digest of the stored periods: the nightly refresh rewrites a
person's periods only when the digest changes, so a second run writes nothing.
Writes go through :mod:`benefits.services`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from config.models import Jurisdiction
from enrollment.models import InsuredPerson


class EligibilityStatus(models.TextChoices):
    COVERED = "covered", "享受待遇"
    WAITING = "waiting", "等待期"
    SUSPENDED = "suspended", "暂停享受待遇"
    NONE = "none", "无职工医保待遇"


class EligibilityPeriod(models.Model):
    """待遇享受状态: one period of a person's timeline, with the rule that decided it and the facts it used."""

    person = models.ForeignKey(
        InsuredPerson, on_delete=models.CASCADE, related_name="eligibility_periods", verbose_name="参保人员"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    start = models.DateField("开始日期")
    end = models.DateField("结束日期（不含）", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=EligibilityStatus.choices)
    reason = models.TextField("判定理由")
    citation = models.CharField("条款出处", max_length=255, blank=True)
    facts = models.JSONField("判定所依据的事实", default=dict, blank=True)
    computed_at = models.DateTimeField("计算时间")
    run = models.ForeignKey(
        "policy.BatchRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="批处理运行",
    )

    class Meta:
        verbose_name = "待遇享受状态"
        verbose_name_plural = "待遇享受状态"
        ordering = ["person_id", "start"]
        indexes = [models.Index(fields=["person", "start"], name="elig_period_person_start")]
        constraints = [
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gt=F("start")), name="elig_period_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.get_status_display()} {self.start}–{self.end or ''}"


class EligibilityState(models.Model):
    """One row per person: when the timeline was last changed, its digest, and why it could not be computed."""

    person = models.OneToOneField(
        InsuredPerson, on_delete=models.CASCADE, primary_key=True, related_name="eligibility_state"
    )
    digest = models.CharField("摘要", max_length=32)
    error = models.TextField("无法计算的原因", blank=True, help_text="例如：缺少政策参数（D-X16）")
    computed_at = models.DateTimeField("计算时间")
    run = models.ForeignKey(
        "policy.BatchRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="批处理运行",
    )

    class Meta:
        verbose_name = "待遇状态计算记录"
        verbose_name_plural = "待遇状态计算记录"

    def __str__(self) -> str:
        return f"{self.person_id} {self.digest}"
