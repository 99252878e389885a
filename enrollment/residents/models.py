"""城乡居民户 (household): a resident registers the family members enrolled with them. Facts only; the checks are in
:mod:`enrollment.residents.services`. A member's cover is an :class:`enrollment.models.EnrolmentSpan` of 险种 390."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from policy.models import Jurisdiction

from ..models import InsuredPerson


class Relation(models.TextChoices):
    """与户主关系."""

    HEAD = "head", "户主（本人）"
    SPOUSE = "spouse", "配偶"
    CHILD = "child", "子女"
    PARENT = "parent", "父母"
    GRANDCHILD = "grandchild", "孙子女"
    OTHER = "other", "其他亲属"


class Household(models.Model):
    """居民参保户: a resident registers the family members enrolled together (sanmenxia 第二十九条)."""

    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    head = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="households_headed", verbose_name="户主"
    )
    address = models.CharField("户籍地址", max_length=200, blank=True)
    registered_on = models.DateField("登记日期")
    created_at = models.DateTimeField("建档时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="经办人",
    )
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = "居民参保户"
        verbose_name_plural = "居民参保户"
        ordering = ["-registered_on", "-id"]
        indexes = [models.Index(fields=["-registered_on", "-id"], name="household_registered")]
        constraints = [models.UniqueConstraint(fields=["head"], name="household_one_per_head")]

    def __str__(self) -> str:
        return f"{self.head.name}户"


class HouseholdMember(models.Model):
    """户内成员: one person in one household (the head included), with the relation to the head."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members", verbose_name="参保户")
    person = models.OneToOneField(
        InsuredPerson, on_delete=models.PROTECT, related_name="household_membership", verbose_name="成员"
    )
    relation = models.CharField("与户主关系", max_length=16, choices=Relation.choices)
    joined_on = models.DateField("加入日期")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "户内成员"
        verbose_name_plural = "户内成员"
        ordering = ["household_id", "id"]

    def __str__(self) -> str:
        return f"{self.person.name}（{self.get_relation_display()}）"
