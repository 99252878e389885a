"""居民年度应缴 and its payments (险种 390). Facts only; writes in :mod:`contributions.residents.services` and the
set-based billing job :mod:`contributions.residents.jobs`.

sanmenxia 第三十条: 个人缴费和财政补助相结合 — each bill carries the person's 个人缴费 (what is collected) and the
财政补助 per person in force (what the government adds; received by the fund as staff-entered receipts);
第三十一条: 每年缴纳一次，9月至12月，次年享受 — ``benefit_year`` is the year covered, ``window_start``/``window_end``
the collection period. No document sets a late fee for residents: a bill has none.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from enrollment.models import InsuredPerson, ResidentKind
from policy.models import Jurisdiction


def _money(verbose_name: str, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


class ResidentDue(models.Model):
    """居民年度应缴: one resident's yearly contribution for one benefit year, and how much of it is paid."""

    person = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="resident_dues", verbose_name="参保人员"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    resident_kind = models.CharField("居民类型", max_length=20, choices=ResidentKind.choices)
    individual_amount = _money("个人缴费")
    subsidy_amount = _money("财政补助（人均）")
    window_start = models.DateField("集中缴费期起")
    window_end = models.DateField("集中缴费期止（不含）")
    paid_amount = _money("已缴金额", default=0)
    settled_on = models.DateField("缴清日期", null=True, blank=True)
    run = models.ForeignKey(
        "batch.BatchRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resident_dues",
        verbose_name="批处理运行",
    )
    created_at = models.DateTimeField("生成时间")

    class Meta:
        verbose_name = "居民年度应缴"
        verbose_name_plural = "居民年度应缴"
        ordering = ["-benefit_year", "person_id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "benefit_year"], name="resident_due_unique_year"),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0) & Q(paid_amount__lte=F("individual_amount")),
                name="resident_due_paid_within_amount",
            ),
            models.CheckConstraint(condition=Q(window_end__gt=F("window_start")), name="resident_due_window_ordered"),
        ]
        indexes = [
            models.Index(fields=["-benefit_year", "person"], name="resident_due_year_person"),  # the list's order
            models.Index(
                fields=["person", "benefit_year"], condition=Q(settled_on__isnull=True), name="resident_due_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.benefit_year} 年度 {self.individual_amount}"

    @property
    def unpaid_amount(self):
        return self.individual_amount - self.paid_amount


class ResidentAllocation(models.Model):
    """居民缴费冲抵: part of a payment (险种 390) applied to one yearly bill."""

    payment = models.ForeignKey(
        "contributions.Payment", on_delete=models.PROTECT, related_name="resident_allocations", verbose_name="实缴"
    )
    due = models.ForeignKey(
        ResidentDue, on_delete=models.PROTECT, related_name="allocations", verbose_name="居民年度应缴"
    )
    amount = _money("冲抵金额")
    created_at = models.DateTimeField("冲抵时间")

    class Meta:
        verbose_name = "居民缴费冲抵"
        verbose_name_plural = "居民缴费冲抵"
        ordering = ["payment_id", "due_id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "due"], name="resident_allocation_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="resident_allocation_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.due_id}"
