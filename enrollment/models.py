"""The register: employers (用人单位), insured persons (参保人员), enrolment spans and life events.

Codes follow the national platform (国家医疗保障信息平台) where the concept exists:
人员类别 psn_type, 参保状态 psn_insu_stas, 单位参保状态, 参保方式 HI_TYPE.
Business rules live in :mod:`enrollment.services`; models store facts.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth
from simple_history.models import HistoricalRecords

from policy.models import Jurisdiction

from .identifiers import validate_credit_code, validate_id_number
from .names import INITIALS_MAX_LENGTH, name_initials


class EmployerKind(models.TextChoices):
    ENTERPRISE = "enterprise", "企业"
    FISCAL_INSTITUTION = "fiscal_institution", "财政全额供给机关事业单位"
    OTHER_INSTITUTION = "other_institution", "其他事业单位"
    INDIVIDUAL_BUSINESS = "individual_business", "有雇工的个体工商户"
    SOCIAL_ORGANISATION = "social_organisation", "社会团体/社会组织"


class ManagementType(models.TextChoices):
    """单位管理类型 (national codes)."""

    ORDINARY = "01", "01 普通单位"
    FLEXIBLE_VIRTUAL = "02", "02 灵活就业虚拟单位"
    UNEMPLOYMENT_PROXY = "05", "05 失业代缴"


class Scheme(models.TextChoices):
    """参保方式 HI_TYPE."""

    COMBINED = "combined", "1 统账结合"
    POOL_ONLY = "pool_only", "2 单建统筹"


class EmployerStatus(models.TextChoices):
    """单位参保状态."""

    PAYING = "2", "参保缴费"
    SUSPENDED = "3", "暂停缴费"
    TERMINATED = "4", "终止参保"


class Ownership(models.TextChoices):
    """经济类型 (hunan 第二十四条 names 国有企业（含国有控股企业）、集体企业)."""

    STATE = "state", "国有企业"
    STATE_CONTROLLED = "state_controlled", "国有控股企业"
    COLLECTIVE = "collective", "集体企业"
    OTHER = "other", "其他"


class PaymentFrequency(models.TextChoices):
    MONTHLY = "monthly", "按月"
    QUARTERLY = "quarterly", "按季"
    HALF_YEARLY = "half_yearly", "按半年"
    YEARLY = "yearly", "按年"


class EmployerQuerySet(models.QuerySet):
    def visible_to(self, user) -> EmployerQuerySet:
        """One rule for every screen, API and import: an employer user sees only their employer."""
        return scope_queryset(user, self, employer_path="pk")


class Employer(models.Model):
    """用人单位."""

    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_credit_code])
    name = models.CharField("单位名称", max_length=200)
    kind = models.CharField("单位类型", max_length=32, choices=EmployerKind.choices, default=EmployerKind.ENTERPRISE)
    management_type = models.CharField(
        "单位管理类型", max_length=2, choices=ManagementType.choices, default=ManagementType.ORDINARY
    )
    scheme = models.CharField("参保方式", max_length=16, choices=Scheme.choices, default=Scheme.COMBINED)
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    registered_on = models.DateField("参保登记日期")
    founded_on = models.DateField("成立日期", null=True, blank=True, help_text="营业执照或批准成立之日（廊坊第七条）")
    registration_deadline = models.DateField(
        "登记时限",
        null=True,
        blank=True,
        editable=False,
        help_text="自成立之日起的登记期限（廊坊第七条）；文件未规定时为空",
    )
    ownership = models.CharField(
        "经济类型", max_length=20, choices=Ownership.choices, blank=True, default="", db_default=""
    )
    status = models.CharField(
        "单位参保状态", max_length=1, choices=EmployerStatus.choices, default=EmployerStatus.PAYING
    )
    is_difficult = models.BooleanField("困难企业", default=False)
    difficult_from = models.DateField("困难企业认定起", null=True, blank=True)
    difficult_until = models.DateField("困难企业认定止（不含）", null=True, blank=True)
    payment_frequency = models.CharField(
        "缴费方式", max_length=16, choices=PaymentFrequency.choices, default=PaymentFrequency.MONTHLY
    )
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=20, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    history = HistoricalRecords()

    objects = EmployerQuerySet.as_manager()

    class Meta:
        verbose_name = "用人单位"
        verbose_name_plural = "用人单位"
        ordering = ["name"]
        indexes = [models.Index(fields=["name"], name="employer_name")]  # the list's order
        constraints = [
            models.CheckConstraint(
                condition=Q(difficult_until__isnull=True)
                | Q(difficult_from__isnull=True)
                | Q(difficult_until__gt=models.F("difficult_from")),
                name="employer_difficult_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(founded_on__isnull=True) | Q(registered_on__gte=models.F("founded_on")),
                name="employer_registered_after_founding",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Sex(models.TextChoices):
    MALE = "1", "男"
    FEMALE = "2", "女"


class FemaleRole(models.TextChoices):
    """Female cadre / worker: sets the legal retirement age in hunan (第二十八条)."""

    CADRE = "cadre", "女干部"
    WORKER = "worker", "女工人"


class PersonQuerySet(models.QuerySet):
    def visible_to(self, user) -> PersonQuerySet:
        """Employer users see only persons with an enrolment span at their employer (the one scope rule)."""
        return scope_queryset(user, self, person_path="pk")


class InsuredPerson(models.Model):
    """参保人员. Sex and birth date are derived from the 身份证号 (GB 11643)."""

    id_number = models.CharField("身份证号", max_length=18, unique=True, validators=[validate_id_number])
    name = models.CharField("姓名", max_length=50)
    name_initials = models.CharField(
        "姓名拼音首字母",
        max_length=INITIALS_MAX_LENGTH,
        blank=True,
        editable=False,
        help_text="检索用：张三丰 → zsf（保存时由姓名生成）",
    )
    sex = models.CharField("性别", max_length=1, choices=Sex.choices, editable=False)
    birth_date = models.DateField("出生日期", editable=False)
    female_role = models.CharField(
        "女职工身份",
        max_length=8,
        choices=FemaleRole.choices,
        blank=True,
        help_text="湖南退休年龄：女干部55岁、女工人50岁",
    )
    phone = models.CharField("联系电话", max_length=20, blank=True)
    address = models.CharField("联系地址", max_length=200, blank=True)
    deemed_months = models.PositiveIntegerField("视同缴费月数", default=0)
    military_months = models.PositiveIntegerField("军龄月数", default=0)
    created_at = models.DateTimeField("建档时间", auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at", "name_initials"])

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = "参保人员"
        verbose_name_plural = "参保人员"
        ordering = ["id"]
        # 姓名 prefix search (LIKE '张%') whatever the database's collation
        indexes = [
            models.Index(fields=["name"], name="person_name_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["female_role", "id"], name="person_female_role"),  # the list's filter, in order
            # the clearance scan's persons reaching the legal age between two nights (issue #13)
            models.Index(fields=["birth_date"], name="person_birth_date"),
            # the clearance scan's count of women employees it cannot select by role (few rows; issue #13)
            models.Index(fields=["id"], name="person_female_no_role", condition=Q(sex=Sex.FEMALE, female_role="")),
        ]
        permissions = [("view_pii", "可查看身份证号和电话（个人敏感信息）")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        """The search key follows the name on every save (bulk paths fill it themselves: demo population)."""
        self.name_initials = name_initials(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_initials"}
        super().save(*args, **kwargs)


class Category(models.TextChoices):
    """Category of an enrolment; ``psn_type`` gives the national 人员类别 code."""

    EMPLOYEE = "employee", "在职职工"
    FLEXIBLE = "flexible", "灵活就业人员"
    UNEMPLOYED = "unemployed", "领取失业保险金人员"
    RETIREE = "retiree", "退休人员"
    RESIDENT = "resident", "城乡居民"


#: 人员类别 psn_type (ENGINEERING.md lists no code for residents: their kind is ``resident_kind``).
PSN_TYPE = {"employee": "1101", "flexible": "1103", "unemployed": "1101", "retiree": "1201", "resident": ""}


class Insutype(models.TextChoices):
    """险种 insutype (national platform codes): which scheme a span belongs to."""

    EMPLOYEE = "310", "310 职工基本医疗保险"
    RESIDENT = "390", "390 城乡居民基本医疗保险"


class ResidentKind(models.TextChoices):
    """居民参保人员类型 (sanmenxia 第二十九条): who takes resident insurance."""

    RURAL = "rural", "农村居民"
    URBAN_NON_WORKING = "urban_non_working", "城镇非从业居民"
    STUDENT = "student", "全日制学生"
    PRESCHOOL = "preschool", "学龄前儿童"
    NEWBORN = "newborn", "新生儿"
    OTHER = "other", "国家和省规定的其他人员"


class InsuranceStatus(models.TextChoices):
    """参保状态 psn_insu_stas."""

    NORMAL = "1", "正常参保"
    SUSPENDED = "2", "暂停参保"
    TERMINATED = "4", "终止参保"


class EnrolmentSpan(models.Model):
    """参保关系: who is insured where, as what, from ``start`` (inclusive) to ``end`` (exclusive).

    险种 310 职工基本医疗保险 (with 510 生育保险 merged in where the seed says so).
    A person never has two overlapping spans: an exclusion constraint on PostgreSQL
    (migration 0002), and :func:`enrollment.services.span_open` everywhere.
    """

    person = models.ForeignKey(InsuredPerson, on_delete=models.PROTECT, related_name="spans", verbose_name="参保人员")
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    category = models.CharField("人员类别", max_length=16, choices=Category.choices)
    employer = models.ForeignKey(
        Employer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="spans",
        verbose_name="用人单位",
    )
    scheme = models.CharField("参保方式", max_length=16, choices=Scheme.choices, default=Scheme.COMBINED)
    start = models.DateField("开始日期")
    end = models.DateField("结束日期（不含）", null=True, blank=True)
    status = models.CharField("参保状态", max_length=1, choices=InsuranceStatus.choices, default=InsuranceStatus.NORMAL)
    insutype = models.CharField(
        "险种", max_length=3, choices=Insutype.choices, default=Insutype.EMPLOYEE, editable=False
    )
    resident_kind = models.CharField(
        "居民类型",
        max_length=20,
        choices=ResidentKind.choices,
        blank=True,
        default="",
        db_default="",
        help_text="仅城乡居民（险种 390）",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "参保关系"
        verbose_name_plural = "参保关系"
        ordering = ["person_id", "start"]
        indexes = [
            models.Index(fields=["jurisdiction", "category", "start"]),
            models.Index(fields=["employer", "start"]),
            models.Index(fields=["person", "start"], name="span_person_start"),  # the list's order
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=models.F("start")), name="span_end_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(category="employee") | Q(employer__isnull=False),
                name="span_employee_has_employer",
            ),
            # 险种 390 ⇔ 人员类别 城乡居民, and only a resident span has a 居民类型
            models.CheckConstraint(
                condition=(Q(insutype="390") & Q(category="resident") & ~Q(resident_kind=""))
                | (~Q(insutype="390") & ~Q(category="resident") & Q(resident_kind="")),
                name="span_resident_insutype",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.get_category_display()} {self.start}–{self.end or ''}"

    @property
    def psn_type(self) -> str:
        return PSN_TYPE[self.category]


class LifeEventKind(models.TextChoices):
    HIRE = "hire", "入职（参保）"
    SEPARATION = "separation", "离职（停保）"
    TRANSFER_IN = "transfer_in", "转入"
    TRANSFER_OUT = "transfer_out", "转出"
    RETIREMENT = "retirement", "退休"
    DEATH = "death", "死亡"
    IMPRISONMENT = "imprisonment", "服刑"
    RELEASE = "release", "刑满释放"
    DEEMED_MONTHS = "deemed_months", "核定视同缴费月数"
    MILITARY_MONTHS = "military_months", "核定军龄月数"
    SCHEME_CHANGE = "scheme_change", "参保方式变更（单建统筹→统账结合）"
    EXPULSION = "expulsion", "被单位开除"
    CONVICTION = "conviction", "被法院判刑"


class LifeEvent(models.Model):
    """人员变动: recorded once and never overwritten; a correction is a new event."""

    person = models.ForeignKey(InsuredPerson, on_delete=models.PROTECT, related_name="events", verbose_name="参保人员")
    kind = models.CharField("变动类型", max_length=16, choices=LifeEventKind.choices)
    occurred_on = models.DateField("发生日期")
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, null=True, blank=True, verbose_name="用人单位")
    months = models.PositiveIntegerField(
        "月数", null=True, blank=True, help_text="转入带来的缴费月数；核定的视同/军龄月数"
    )
    other_region = models.CharField("转出/转入地", max_length=100, blank=True)
    note = models.TextField("说明", blank=True)
    reported_on = models.DateField("申报日期", null=True, blank=True, help_text="单位申报（报告）该变动的日期")
    report_deadline = models.DateField(
        "登记时限", null=True, blank=True, help_text="自变动之日起的登记期限（湖南第十七条等）"
    )
    recorded_at = models.DateTimeField("记录时间", auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name="经办人"
    )

    class Meta:
        verbose_name = "人员变动"
        verbose_name_plural = "人员变动"
        ordering = ["person_id", "occurred_on", "id"]
        indexes = [models.Index(fields=["person", "occurred_on", "id"], name="event_person_occurred")]

    def __str__(self) -> str:
        return f"{self.person} {self.get_kind_display()} {self.occurred_on}"


class EmployerUser(models.Model):
    """Links a login to the one employer whose people it may see (单位经办员)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="employer_link", verbose_name="用户"
    )
    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="users", verbose_name="用人单位")

    class Meta:
        verbose_name = "单位用户"
        verbose_name_plural = "单位用户"

    def __str__(self) -> str:
        return f"{self.user} → {self.employer}"


def employer_id_of(user) -> int | None:
    """The employer an employer user is bound to; ``None`` for bureau staff (who see everything).

    A logged-in user who is neither staff nor linked to an employer sees nothing:
    returns 0, which no employer has.
    """
    if user is None or not user.is_authenticated:
        return 0
    link = getattr(user, "employer_link", None)
    if link is not None:
        return link.employer_id
    return None if user.is_staff else 0


# --- the one scope rule (访问范围): used through enrollment.access by every way in -------------------


def _crosses_many(model, path: str) -> bool:
    """Whether a lookup path goes through a to-many relation (its join would repeat rows)."""
    for name in path.split("__"):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        if field.one_to_many or field.many_to_many:
            return True
        if not field.is_relation:
            return False
        model = field.related_model
    return False


def spans_at(employer_id: int, person_ref, month_ref=None) -> Exists:
    """An enrolment span at the employer for the person (and, with ``month_ref``, covering that month).

    Spans are half-open ``[start, end)``; a span starting in the middle of a month covers that month.
    """
    spans = EnrolmentSpan.objects.filter(employer_id=employer_id, person_id=person_ref)
    if month_ref is not None:
        spans = (
            spans.annotate(first_month=TruncMonth("start"))
            .filter(first_month__lte=month_ref)
            .filter(Q(end__isnull=True) | Q(end__gt=month_ref))
        )
    return Exists(spans)


def scope_queryset(
    user,
    qs: QuerySet,
    *,
    employer_path: str | None = None,
    person_path: str | None = None,
    months_path: str | None = None,
) -> QuerySet:
    """The rows of ``qs`` the user may see.

    ``employer_path`` — lookup from the row to the employer id (rows that carry the employer);
    ``person_path`` — lookup to the person id (rows a person owns: visible when the person worked there);
    ``months_path`` — with ``person_path``, the row's date: visible only when it falls in a month the
    person worked for the employer. Without any path an employer user sees nothing (deny by default).
    """
    employer_id = employer_id_of(user)
    if employer_id is None:
        return qs
    if employer_path:
        if _crosses_many(qs.model, employer_path):
            inner = qs.model._default_manager.filter(**{employer_path: employer_id}).values("pk")
            return qs.filter(pk__in=inner)
        return qs.filter(**{employer_path: employer_id})
    if person_path:
        month_ref = OuterRef(months_path) if months_path else None
        return qs.filter(spans_at(employer_id, OuterRef(person_path), month_ref))
    return qs.none()


# 单位增减员申请 (issue #14 item 1): defined in enrollment.requests, registered under this app.
from .requests.models import EmployerRequest, RequestAttachment, RequestKind, RequestState  # noqa: E402, F401

# 城乡居民参保户 (issue #15): defined in enrollment.residents, registered under this app.
from .residents.models import Household, HouseholdMember, Relation  # noqa: E402, F401
