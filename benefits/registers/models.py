"""就医登记: the registers a bureau keeps and a claim is checked against.

- :class:`OutOfAreaFiling` 异地就医备案 — long-term residence (异地长期居住), temporary visits (临时外出就医)
  and referrals (转诊转院), each with its period; changes and cancellations follow the jurisdiction's
  rules (sanmenxia 第五十五条, langfang 第六十七条、第六十九条). A claim's location is derived from the
  filings in force on the admission date (:func:`benefits.registers.calculations.rules.claim_location`).
- :class:`ChronicCertification` 门诊慢特病认定 — application (申请) → assessment (鉴定) → approval (核准)
  with a validity period and a designated institution (hunan 第四十八条, sanmenxia 第十四条, ziyang
  第十七条(三)); approvals carried over from resident insurance record the amount already paid there
  (hunan 第六十一条).

Rows are written by :mod:`benefits.registers.services` in transactions; history is kept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from enrollment.models import InsuredPerson
from policy.models import Jurisdiction


class FilingKind(models.TextChoices):
    LONG_TERM = "long_term", "异地长期居住"
    TEMPORARY = "temporary", "临时外出就医"
    REFERRAL = "referral", "转诊转院"


class FilingStatus(models.TextChoices):
    ACTIVE = "active", "有效"
    REPLACED = "replaced", "已变更"
    CANCELLED = "cancelled", "已注销"


class OutOfAreaFiling(models.Model):
    """异地就医备案: one filing with its half-open period ``[start, end)`` (``end`` empty: open-ended)."""

    person = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="out_of_area_filings", verbose_name="参保人员"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="参保统筹区")
    kind = models.CharField("备案类别", max_length=16, choices=FilingKind.choices)
    place = models.CharField("就医地", max_length=100)
    filed_on = models.DateField("备案申请日期")
    start = models.DateField("开始日期")
    end = models.DateField("结束日期（不含）", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=FilingStatus.choices, default=FilingStatus.ACTIVE)
    cancelled_on = models.DateField("注销日期", null=True, blank=True)
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="变更前的备案"
    )
    citation = models.CharField("条款出处", max_length=255, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="经办人",
    )
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = "异地就医备案"
        verbose_name_plural = "异地就医备案"
        ordering = ["-start", "-id"]
        indexes = [models.Index(fields=["person", "start"], name="filing_person_start")]
        constraints = [
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gt=F("start")), name="filing_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.place} {self.start}–{self.end or ''}"


class CertificationStatus(models.TextChoices):
    APPLIED = "applied", "已申请"
    ASSESSED = "assessed", "已鉴定"
    APPROVED = "approved", "已核准"
    REFUSED = "refused", "鉴定未通过"
    ENDED = "ended", "已终止"


class ChronicCertification(models.Model):
    """门诊慢特病认定: one disease of one person, from application to approval with its validity period."""

    person = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="chronic_certifications", verbose_name="参保人员"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="参保统筹区")
    disease_code = models.CharField("病种编码", max_length=32)
    disease_name = models.CharField("病种名称", max_length=100)
    disease_class = models.PositiveSmallIntegerField("病种类别", null=True, blank=True)
    applied_on = models.DateField("申请日期")
    assessed_on = models.DateField("鉴定日期", null=True, blank=True)
    assessment = models.CharField("鉴定意见", max_length=200, blank=True)
    approved_on = models.DateField("核准日期", null=True, blank=True)
    valid_from = models.DateField("有效期开始", null=True, blank=True)
    valid_until = models.DateField("有效期结束（不含）", null=True, blank=True)
    institution_code = models.CharField("定点医疗机构编码", max_length=32, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=CertificationStatus.choices, default=CertificationStatus.APPLIED
    )
    carried_over = models.BooleanField("由居民医保转入（原认定继续有效）", default=False)
    carried_over_year = models.PositiveSmallIntegerField("已报销额度所属年度", null=True, blank=True)
    carried_over_paid = models.DecimalField(
        "居民医保期内已报销额度", max_digits=14, decimal_places=2, null=True, blank=True
    )
    citation = models.CharField("条款出处", max_length=255, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="经办人",
    )
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = "门诊慢特病认定"
        verbose_name_plural = "门诊慢特病认定"
        ordering = ["-applied_on", "-id"]
        indexes = [models.Index(fields=["person", "valid_from"], name="chronic_person_valid")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_from__isnull=False, valid_until__gt=F("valid_from")),
                name="chronic_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.disease_name}（{self.get_status_display()}）"
