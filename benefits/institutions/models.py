"""两定机构登记 (the register of designated medical institutions and pharmacies).

- :class:`Institution` — one 定点医药机构 under its national platform code (``fixmedins_code``, 定点医药机构编号,
  ENGINEERING.md: the national platform's codes), its name, kind and the pooling area keeping its agreement.
- :class:`InstitutionRating` — dated (half-open ``[valid_from, valid_until)``): hospital level (ziyang's
  sub-levels 二级甲等/乙等, 三级甲等/乙等), TCM hospital (langfang 第四十七条(一)1), tier (县级/市级/省级; sanmenxia
  第五十三条) and where it lies (统筹区内 / 省内统筹区外 / 省外). A claim reads the row in force on its service date.
- :class:`Agreement` — 服务协议 with its period and status (签订 / 中止 / 解除; sanmenxia 第五十二条: one-year
  agreements, ``institutions.agreement_term_months``), and the 服务质量保证金 where a seed sets one (hunan
  第六十六条, ``institutions.quality_deposit_max_pct``).
- :class:`Appraisal` — 考核评价 results (langfang 第七十七条; hunan 第六十六条 returns the deposit by them).
- :class:`InsurancePhysician` — 医保医师 and their status (langfang 第五十七条, sanmenxia 第五十七条).

The rule reading the register on a date is :func:`benefits.institutions.rules.institution_on`; writes go through
:mod:`benefits.institutions.services`.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from benefits.calculations._common import HOSPITAL_TIER_ZH, LEVEL_ZH, REGISTER_TIERS
from benefits.calculations.outpatient import OUTPATIENT_LEVELS
from policy.models import Jurisdiction


class InstitutionKind(models.TextChoices):
    """机构类别."""

    HOSPITAL = "hospital", "医院"
    GRASSROOTS = "grassroots", "基层医疗卫生机构"
    PHARMACY = "pharmacy", "定点零售药店"
    DUAL_CHANNEL = "dual_channel", "双通道药店"


class Area(models.TextChoices):
    """机构所在地 relative to the pooling area keeping the register."""

    POOLING_AREA = "pooling_area", "统筹区内"
    PROVINCE = "province", "省内统筹区外"
    OUTSIDE_PROVINCE = "outside_province", "省外"


class AgreementStatus(models.TextChoices):
    """服务协议状态."""

    SIGNED = "signed", "已签订（履行中）"
    SUSPENDED = "suspended", "中止"
    ENDED = "ended", "解除/终止"


class AppraisalResult(models.TextChoices):
    """考核评价结果 (langfang 第七十七条)."""

    EXCELLENT = "excellent", "优秀"
    GOOD = "good", "合格"
    BASIC = "basic", "基本合格"
    FAILED = "failed", "不合格"


class PhysicianStatus(models.TextChoices):
    """医保医师状态."""

    ACTIVE = "active", "正常"
    SUSPENDED = "suspended", "暂停医保服务"
    CANCELLED = "cancelled", "注销"


LEVEL_CHOICES = [(k, LEVEL_ZH[k]) for k in OUTPATIENT_LEVELS]
TIER_CHOICES = [(k, HOSPITAL_TIER_ZH[k]) for k in REGISTER_TIERS]


class Institution(models.Model):
    """定点医药机构: one designated hospital, grassroots institution or pharmacy, by its national code."""

    fixmedins_code = models.CharField(
        "定点医药机构编码",
        max_length=20,
        unique=True,
        help_text="国家医保信息平台的定点医药机构编码（fixmedins_code），如 H13100200001、P13100200001",
    )
    name = models.CharField("机构名称", max_length=200)
    kind = models.CharField("机构类别", max_length=16, choices=InstitutionKind.choices)
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, verbose_name="签订协议的统筹区", related_name="+"
    )
    address = models.CharField("地址", max_length=200, blank=True)
    note = models.TextField("备注", blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "定点医药机构"
        verbose_name_plural = "定点医药机构"
        ordering = ["fixmedins_code"]
        indexes = [models.Index(fields=["name"], name="institution_name")]

    def __str__(self) -> str:
        return f"{self.fixmedins_code} {self.name}"


class InstitutionRating(models.Model):
    """机构等级与属性 (dated): level, TCM, tier and location from ``valid_from`` until ``valid_until`` (excl.)."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="ratings", verbose_name="定点医药机构"
    )
    valid_from = models.DateField("起始日")
    valid_until = models.DateField("截止日（不含）", null=True, blank=True, help_text="留空：至今有效")
    hospital_level = models.CharField(
        "医疗机构等级", max_length=16, choices=LEVEL_CHOICES, help_text="资阳分二级甲等/乙等、三级甲等/乙等"
    )
    tcm = models.BooleanField("中医医院", default=False, help_text="廊坊第四十七条(一)1：中医医院起付标准下浮一级")
    tier = models.CharField(
        "医疗机构级别",
        max_length=12,
        choices=TIER_CHOICES,
        blank=True,
        help_text="乡级/县级/市级/省级（三门峡第三十三条、第五十三条）",
    )
    area = models.CharField("所在地", max_length=20, choices=Area.choices, default=Area.POOLING_AREA)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "机构等级与属性"
        verbose_name_plural = "机构等级与属性"
        ordering = ["institution_id", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="institution_rating_period",
            ),
            models.UniqueConstraint(fields=["institution", "valid_from"], name="institution_rating_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_hospital_level_display()} {self.valid_from}–{self.valid_until or ''}"


class Agreement(models.Model):
    """服务协议: period ``[start, end)`` and status; a 中止/解除 takes effect from ``status_since``."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="agreements", verbose_name="定点医药机构"
    )
    number = models.CharField("协议编号", max_length=40, blank=True)
    start = models.DateField("协议起始日")
    end = models.DateField("协议截止日（不含）", null=True, blank=True, help_text="三门峡第五十二条：协议期限一般为1年")
    status = models.CharField(
        "协议状态", max_length=12, choices=AgreementStatus.choices, default=AgreementStatus.SIGNED
    )
    status_since = models.DateField(
        "中止/解除生效日", null=True, blank=True, help_text="协议中止或解除的，自该日起不再按定点结算"
    )
    suspended_until = models.DateField(
        "中止截止日（不含）", null=True, blank=True, help_text="中止期满恢复履行的日期；留空为中止至今"
    )
    deposit_pct = models.DecimalField(
        "服务质量保证金预留比例（%）",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="湖南第六十六条：结算时预留不超过10%；文件未设保证金的统筹区留空",
    )
    note = models.TextField("备注", blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "服务协议"
        verbose_name_plural = "服务协议"
        ordering = ["institution_id", "-start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gt=F("start")), name="agreement_period"),
            models.CheckConstraint(
                condition=Q(status="signed") | Q(status_since__isnull=False), name="agreement_status_since"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number or '服务协议'} {self.start}–{self.end or ''} {self.get_status_display()}"

    def in_force_on(self, day: date) -> bool:
        """The same test as :func:`benefits.institutions.rules.agreement_in_force` (for the screens)."""
        from .rules import AgreementFacts, agreement_in_force

        return agreement_in_force(AgreementFacts.of(self), day)


class Appraisal(models.Model):
    """考核评价: the year's appraisal result (langfang 第七十七条: an agreement ends only after an appraisal)."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="appraisals", verbose_name="定点医药机构"
    )
    year = models.PositiveSmallIntegerField("考核年度")
    result = models.CharField("考核结果", max_length=12, choices=AppraisalResult.choices)
    score = models.DecimalField("考核得分", max_digits=5, decimal_places=2, null=True, blank=True)
    appraised_on = models.DateField("考核日期")
    deposit_returned = models.DecimalField(
        "返还服务质量保证金（元）", max_digits=14, decimal_places=2, null=True, blank=True, help_text="湖南第六十六条"
    )
    note = models.TextField("说明", blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "考核评价"
        verbose_name_plural = "考核评价"
        ordering = ["institution_id", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "year"], name="appraisal_once_a_year"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100), name="appraisal_score"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_result_display()}"


class InsurancePhysician(models.Model):
    """医保医师: a physician of a designated institution (langfang 第五十七条, sanmenxia 第五十七条)."""

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="physicians", verbose_name="定点医药机构"
    )
    code = models.CharField("医保医师代码", max_length=30, unique=True, help_text="国家医保信息平台的医保医师代码")
    name = models.CharField("姓名", max_length=60)
    status = models.CharField("状态", max_length=12, choices=PhysicianStatus.choices, default=PhysicianStatus.ACTIVE)
    status_since = models.DateField("状态生效日")
    note = models.TextField("说明", blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "医保医师"
        verbose_name_plural = "医保医师"
        ordering = ["institution_id", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class InstitutionUser(models.Model):
    """机构接口账号: links a login to the one 定点医药机构 whose settlements it submits and reads by API (issue
    #16 item 3). The administrator issues its token (接口令牌) and revokes it like an employer's. The login is
    no bureau staff (``is_staff`` off): it sees nothing of the register, only its own institution's settlements."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="institution_link", verbose_name="用户"
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="users", verbose_name="定点医药机构"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "机构接口账号"
        verbose_name_plural = "机构接口账号"
        ordering = ["institution_id", "id"]

    def __str__(self) -> str:
        return f"{self.user} → {self.institution}"

    def clean(self) -> None:
        if self.user_id and (self.user.is_staff or self.user.is_superuser):
            raise ValidationError({"user": "机构接口账号不能是经办机构工作人员（请新建一个非工作人员账号）。"})
        if self.user_id and hasattr(self.user, "employer_link"):
            raise ValidationError({"user": "该账号已绑定用人单位，不能再绑定定点医药机构。"})


def institution_of(user) -> Institution | None:
    """The 定点医药机构 a machine login is bound to, or ``None``."""
    if user is None or not user.is_authenticated:
        return None
    link = InstitutionUser.objects.filter(user_id=user.pk).select_related("institution", "institution__jurisdiction")
    found = link.first()
    return found.institution if found is not None else None
