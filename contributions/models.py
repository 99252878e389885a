"""Contributions (征缴): wage declarations, bases, monthly dues, payments, arrears, deferrals, make-up bills.

Models store facts; the rules that produce them live in :mod:`contributions.calculations`
(scalar, one person) and :mod:`contributions.sql` / :mod:`contributions.jobs` (the same rules
set-wise over a chunk of persons). Writes go through :mod:`contributions.services`.

Money is ``DecimalField(14, 2)``. Contribution bases are kept unrounded to 4 places
(POLICY-DIGEST D-X12: a base is an intermediate value, only bill lines are rounded),
so that a month's bill lines computed from a stored base are exactly those of the
scalar rule. Periods are half-open (``start`` inclusive, ``end`` exclusive). Rows
written by a batch job carry the id of their :class:`policy.models.BatchRun`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from enrollment.models import Category, Employer, InsuredPerson, Insutype, Scheme
from policy.models import Jurisdiction


def _money(verbose_name: str, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


def _base(verbose_name: str, **kwargs) -> models.DecimalField:
    """A monthly contribution base, unrounded (4 decimal places, D-X12)."""
    return models.DecimalField(verbose_name, max_digits=16, decimal_places=4, **kwargs)


def _user_fk(verbose_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=verbose_name,
    )


def _run_fk(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        "batch.BatchRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name=related_name,
        verbose_name="批处理运行",
    )


# ---------------------------------------------------------------------------------------------
# Imports (payroll and tax-bureau payment files); the screens are in contributions.imports
# ---------------------------------------------------------------------------------------------


class ImportKind(models.TextChoices):
    PAYROLL = "payroll", "工资申报"
    PAYMENT = "payment", "实缴（税务缴费文件）"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "已上传"
    VALIDATING = "validating", "校验中"
    VALIDATED = "validated", "已校验（待确认）"
    IMPORTING = "importing", "导入中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class ImportJob(models.Model):
    """导入批次: one uploaded file, validated (dry run) then committed all-or-nothing."""

    kind = models.CharField("类型", max_length=16, choices=ImportKind.choices)
    employer = models.ForeignKey(
        Employer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="import_jobs",
        verbose_name="用人单位",
        help_text="为空表示经办机构为任意单位导入",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="上传人"
    )
    file = models.FileField("文件", upload_to="imports/")
    original_name = models.CharField("原文件名", max_length=255, blank=True)
    status = models.CharField("状态", max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    processed_rows = models.PositiveIntegerField("已处理行数", default=0)
    error_rows = models.PositiveIntegerField("错误行数", default=0)
    errors = models.JSONField("错误明细", default=list, blank=True, help_text="[{row, field, message}]")
    dry_run_summary = models.JSONField("试导入结果", default=dict, blank=True)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="import_job_created")]  # the list's order

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name or self.pk}"


# ---------------------------------------------------------------------------------------------
# Wage declarations and bases
# ---------------------------------------------------------------------------------------------


class WageDeclaration(models.Model):
    """工资申报: the wage an employer declares for a person for one contribution year.

    ``year`` labels the contribution year by the calendar year in which it starts
    (langfang 2024 = 2024-07-01 … 2025-06-30, 第二十一条). Either the monthly wage
    (上年度月平均工资, sanmenxia 第六条; 本人工资收入, hunan 第九条) or last year's
    wage total (本人上年度工资总额, langfang 第十二条; ziyang 第九条(一)3) is given;
    a total is turned into a monthly wage as total ÷ 12 (D-X6). ``first_pay_month``
    marks a new employee whose wage is that of the first pay month (起薪当月,
    hunan 第九条, sanmenxia 第十六条).
    """

    # No database foreign keys: a payroll import checks its references set-wise in staging
    # (:class:`PayrollStagedRow`) before it writes, instead of the database checking four deferred
    # constraints for each of 100 000 rows at COMMIT (issue #13); the ORM still protects deletes.
    # Nor an index of their own: the unique (person, employer, year) and the (employer, …) indexes lead
    # with them, and every index is one more write for each row a payroll import upserts.
    person = models.ForeignKey(
        InsuredPerson,
        on_delete=models.PROTECT,
        related_name="wage_declarations",
        verbose_name="参保人员",
        db_constraint=False,
        db_index=False,
    )
    employer = models.ForeignKey(
        Employer,
        on_delete=models.PROTECT,
        related_name="wage_declarations",
        verbose_name="用人单位",
        db_constraint=False,
        db_index=False,
    )
    year = models.PositiveSmallIntegerField("缴费年度", help_text="缴费年度开始的日历年")
    monthly_wage = _money("月平均工资", null=True, blank=True)
    annual_wage_total = _money("上年度工资总额", null=True, blank=True)
    first_pay_month = models.DateField("起薪当月", null=True, blank=True, help_text="新参保职工")
    # Nor indexes on the job and the declarant: nothing reads the declarations by them (the admin neither
    # filters nor searches by them); only deleting a job or a user (SET_NULL) would scan (issue #13).
    import_job = models.ForeignKey(
        ImportJob,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="wage_declarations",
        verbose_name="导入批次",
        db_constraint=False,
        db_index=False,
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="申报人",
        db_constraint=False,
        db_index=False,
    )
    declared_at = models.DateTimeField("申报时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "工资申报"
        verbose_name_plural = "工资申报"
        ordering = ["employer_id", "person_id", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["person", "employer", "year"], name="wage_declaration_unique_year"),
            models.CheckConstraint(
                condition=Q(monthly_wage__isnull=False) | Q(annual_wage_total__isnull=False),
                name="wage_declaration_has_wage",
            ),
            models.CheckConstraint(
                condition=(Q(monthly_wage__isnull=True) | Q(monthly_wage__gte=0))
                & (Q(annual_wage_total__isnull=True) | Q(annual_wage_total__gte=0)),
                name="wage_declaration_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["employer", "year"]),
            models.Index(fields=["employer", "person", "-year"], name="wage_decl_list_order"),  # the list's order
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.year}"


class PayrollStagedRow(models.Model):
    """试导入暂存行: a payroll row the dry run found valid, kept for the confirm.

    The dry run reads and checks the file once and stages its valid rows here; the confirm writes
    from these rows (after checking their references again, set-wise) and never reads the file again.
    Removed when the job is committed.

    PostgreSQL keeps it UNLOGGED (migration 0016): 100 000 staged rows write no WAL, and a crash of the
    database empties the table, which the confirm notices (fewer staged rows than the dry run's valid rows)
    and then validates the stored file again (:func:`contributions.imports.jobs.import_job_commit`). The key
    is (job, row): no id column, no second index to write.
    """

    pk = models.CompositePrimaryKey("job", "row")
    job = models.ForeignKey(
        ImportJob,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="导入批次",
        db_constraint=False,
        db_index=False,  # the primary key (job, row) serves
    )
    row = models.PositiveIntegerField("行号")
    person_id = models.BigIntegerField("人员ID")
    year = models.PositiveSmallIntegerField("缴费年度")
    monthly_wage = _money("月平均工资", null=True, blank=True)
    annual_wage_total = _money("上年度工资总额", null=True, blank=True)
    first_pay_month = models.DateField("起薪当月", null=True, blank=True)

    class Meta:
        verbose_name = "试导入暂存行"
        verbose_name_plural = "试导入暂存行"

    def __str__(self) -> str:
        return f"{self.job_id}:{self.row}"


class BaseBasis(models.TextChoices):
    """How a person's base was arrived at (a clamp wins over the source it clamped)."""

    DECLARED = "declared", "按申报工资"
    FLOOR = "floor", "按下限（保底）"
    CEILING = "ceiling", "按上限（封顶）"
    DEFAULT_UNKNOWN = "default_unknown", "工资无法确定，按规定基数"
    FLEXIBLE = "flexible", "灵活就业人员基数"
    UNEMPLOYED = "unemployed", "领取失业保险金人员基数"
    FIRST_MONTH = "first_month", "新参保，按起薪当月工资"
    PENALTY_UPLIFT = "penalty_uplift", "未按时年审，原基数上调"


class ContributionBase(models.Model):
    """个人缴费基数: a person's monthly base for one contribution year (from ``year_start``).

    One row per person and year, the base in force now: if the person changes
    employer or category during the year, the row is recomputed for the new
    enrolment, and each :class:`MonthlyDue` keeps the base it was billed on.
    """

    person = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="contribution_bases", verbose_name="参保人员"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    year_start = models.DateField("缴费年度起始日")
    category = models.CharField("人员类别", max_length=16, choices=Category.choices)
    employer = models.ForeignKey(
        Employer, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="用人单位"
    )
    wage = _base("据以核定的月工资", null=True, blank=True)
    base = _base("月缴费基数")
    basis = models.CharField("核定依据", max_length=16, choices=BaseBasis.choices)
    run = _run_fk("contribution_bases")
    updated_at = models.DateTimeField("核定时间")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "个人缴费基数"
        verbose_name_plural = "个人缴费基数"
        ordering = ["person_id", "-year_start"]
        constraints = [
            models.UniqueConstraint(fields=["person", "year_start"], name="contribution_base_unique_year"),
            models.CheckConstraint(condition=Q(base__gte=0), name="contribution_base_not_negative"),
        ]
        # Lookups go by (person, year_start) (the unique index) or by employer; no (jurisdiction, year)
        # index: it tempts PostgreSQL into bad plans right after the reset writes a year's rows.
        indexes = [models.Index(fields=["employer", "year_start"])]

    def __str__(self) -> str:
        return f"{self.person} {self.year_start:%Y-%m} {self.base}"


class EmployerBaseBasis(models.TextChoices):
    WAGE_BILL = "wage_bill", "上年度工资总额"
    SUM_OF_BASES = "sum_of_bases", "个人缴费基数之和"
    FLOOR = "floor", "按下限"
    CEILING = "ceiling", "按上限"
    PENALTY_UPLIFT = "penalty_uplift", "未按时年审，原基数上调"


class EmployerBase(models.Model):
    """单位缴费基数 for one contribution year, in monthly terms (wage bill ÷ 12, D-X6).

    hunan 第九条: the larger of last year's wage bill and the sum of individual bases;
    langfang 第十二条: last year's wage bill (+10% on the old base when the July audit is
    missed, 第二十一条, D-L19); sanmenxia 第六条: the sum of individual bases; ziyang
    第九条(一)1–2: the wage bill, between headcount × floor and headcount × ceiling.
    """

    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="bases", verbose_name="用人单位")
    year_start = models.DateField("缴费年度起始日")
    headcount = models.PositiveIntegerField("在职参保人数", default=0)
    wage_bill = _base("上年度工资总额（月均）", null=True, blank=True)
    sum_of_individual_bases = _base("个人缴费基数之和")
    base = _base("单位月缴费基数", null=True, blank=True)
    audited = models.BooleanField("已年审（已申报）", default=False)
    basis = models.CharField("核定依据", max_length=16, choices=EmployerBaseBasis.choices, blank=True)
    run = _run_fk("employer_bases")
    updated_at = models.DateTimeField("核定时间")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "单位缴费基数"
        verbose_name_plural = "单位缴费基数"
        ordering = ["employer_id", "-year_start"]
        constraints = [models.UniqueConstraint(fields=["employer", "year_start"], name="employer_base_unique_year")]

    def __str__(self) -> str:
        return f"{self.employer} {self.year_start:%Y-%m} {self.base}"


# ---------------------------------------------------------------------------------------------
# Deferrals and make-up bills
# ---------------------------------------------------------------------------------------------


class Deferral(models.Model):
    """缓缴: an approved period in which the employer's dues fall due without a late fee.

    hunan 第二十二条 (待遇不受影响); langfang 第二十六条 (一般不超过半年，缓缴期间享受正常报销待遇).
    Days inside ``[start, end)`` carry no 滞纳金; dues falling due inside it are ``deferred``.
    """

    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="deferrals", verbose_name="用人单位")
    start = models.DateField("缓缴起始日")
    end = models.DateField("缓缴截止日（不含）")
    approved_by = _user_fk("批准人")
    approved_on = models.DateField("批准日期")
    citation = models.CharField("依据", max_length=255, help_text="例如：hunan 第二十二条；批准文号")
    note = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "缓缴"
        verbose_name_plural = "缓缴"
        ordering = ["employer_id", "start"]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="deferral_end_after_start")]
        indexes = [models.Index(fields=["employer", "start"])]

    def __str__(self) -> str:
        return f"{self.employer} {self.start}–{self.end}"


class BillStatus(models.TextChoices):
    ISSUED = "issued", "已开具"
    PAID = "paid", "已缴清"
    CANCELLED = "cancelled", "已作废"


class BackPaymentBill(models.Model):
    """补缴: a bill for the months of an interruption, on the base the seed requires.

    hunan 第二十一条: 当年度缴费基准值 at the current employer + individual rates;
    langfang 第二十三条: a base not below the current contribution year's minimum base.
    Issuing the bill creates the missing :class:`MonthlyDue` rows (linked to the bill),
    which payments then settle like any due.
    """

    person = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="back_payment_bills", verbose_name="参保人员"
    )
    employer = models.ForeignKey(
        Employer, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="用人单位"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    category = models.CharField("人员类别", max_length=16, choices=Category.choices, default=Category.EMPLOYEE)
    start_month = models.DateField("补缴起始月")
    end_month = models.DateField("补缴截止月（不含）")
    months = models.PositiveSmallIntegerField("补缴月数")
    rule = models.CharField("补缴基数规则", max_length=64)
    base = _base("补缴基数（首月）")
    employer_amount = _money("单位部分合计")
    individual_amount = _money("个人部分合计")
    personal_account_amount = _money("补划个人账户合计")
    total = _money("补缴合计")
    months_already_due = models.PositiveSmallIntegerField("已有应缴记录的月数（未重复开具）", default=0)
    citation = models.CharField("条款出处", max_length=255)
    issued_on = models.DateField("开具日期")
    due_date = models.DateField("缴款期限")
    status = models.CharField("状态", max_length=16, choices=BillStatus.choices, default=BillStatus.ISSUED)
    issued_by = _user_fk("开具人")
    note = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "补缴单"
        verbose_name_plural = "补缴单"
        ordering = ["-issued_on", "-id"]
        indexes = [models.Index(fields=["-issued_on", "-id"], name="back_payment_bill_issued")]  # the list's order
        constraints = [
            models.CheckConstraint(condition=Q(end_month__gt=F("start_month")), name="back_payment_period_ordered")
        ]

    def __str__(self) -> str:
        return f"{self.person} 补缴 {self.start_month:%Y-%m}–{self.end_month:%Y-%m}"


# ---------------------------------------------------------------------------------------------
# Monthly dues, payments, allocations
# ---------------------------------------------------------------------------------------------


class MonthlyDue(models.Model):
    """应缴: what one person owes for one month, and how much of it is paid.

    ``maternity_amount`` / ``critical_illness_amount`` are null where the seed leaves the
    rate to another policy (unknown, not zero); ``total`` adds the known lines.
    ``due_date`` is null where the jurisdiction has no payment deadline (parameter
    ``contribution.due_day`` missing, D-X16): such dues never accrue a late fee.
    ``late_fee`` is the fee accrued so far (paid part included), recomputed nightly
    as ``late_fee_paid`` + unpaid principal × daily rate × days past due outside deferrals.
    """

    person = models.ForeignKey(InsuredPerson, on_delete=models.PROTECT, related_name="dues", verbose_name="参保人员")
    employer = models.ForeignKey(
        Employer, null=True, blank=True, on_delete=models.PROTECT, related_name="dues", verbose_name="用人单位"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    month = models.DateField("费款所属期", help_text="当月1日")
    category = models.CharField("人员类别", max_length=16, choices=Category.choices)
    scheme = models.CharField("参保方式", max_length=16, choices=Scheme.choices, default=Scheme.COMBINED)
    base = _base("缴费基数")
    employer_amount = _money("单位缴纳（基本医疗）")
    individual_amount = _money("个人缴纳")
    maternity_amount = _money("生育保险", null=True, blank=True)
    critical_illness_amount = _money("大病保险", null=True, blank=True)
    personal_account_amount = _money("划入个人账户")
    pool_amount = _money("划入统筹基金")
    total = _money("应缴合计")
    due_date = models.DateField("缴费截止日", null=True, blank=True)
    paid_principal = _money("已缴本金", default=0)
    settled_on = models.DateField("缴清日期", null=True, blank=True)
    late_fee = _money("滞纳金（累计）", default=0)
    late_fee_paid = _money("已缴滞纳金", default=0)
    deferred = models.BooleanField("缓缴", default=False)
    back_payment_bill = models.ForeignKey(
        BackPaymentBill, null=True, blank=True, on_delete=models.PROTECT, related_name="dues", verbose_name="补缴单"
    )
    # ziyang 第九条(三): contributions refunded before the benefit period began (funds.ContributionRefund);
    # the due stays settled (its allocations and postings are kept), but the month no longer counts as paid.
    refunded_on = models.DateField("退费日期", null=True, blank=True)
    # ziyang 第十三条: 断保一年以上不再补缴断保期间基本医疗保险费. The day the break was found closed (the date of
    # the payment that resumed contributions); such a due is neither arrears nor a paid month and accrues no fee.
    makeup_closed_on = models.DateField(
        "不再补缴日期",
        null=True,
        blank=True,
        help_text="断保超过补缴时限，断保期间不再补缴（资阳 第十三条）；不计欠费、不计滞纳金、不计缴费月份",
    )
    run = _run_fk("dues")
    created_at = models.DateTimeField("生成时间")

    class Meta:
        verbose_name = "应缴"
        verbose_name_plural = "应缴"
        ordering = ["person_id", "month"]
        constraints = [
            models.UniqueConstraint(fields=["person", "month"], name="monthly_due_unique_month"),
            models.CheckConstraint(
                condition=Q(paid_principal__gte=0) & Q(paid_principal__lte=F("total")), name="due_paid_within_total"
            ),
            models.CheckConstraint(
                condition=Q(late_fee_paid__gte=0) & Q(late_fee_paid__lte=F("late_fee")), name="due_fee_paid_within_fee"
            ),
        ]
        indexes = [
            models.Index(fields=["due_date"], condition=Q(settled_on__isnull=True), name="due_unsettled_by_due_date"),
            models.Index(fields=["person", "month"], condition=Q(settled_on__isnull=True), name="due_unsettled_person"),
            # the night's late-fee pass (contributions.sql.fees_accrue_all): exactly the dues that may accrue a fee,
            # a chunk's few by person instead of a bitmap of all its unsettled dues (issue #13)
            models.Index(
                fields=["person"],
                condition=Q(settled_on__isnull=True, makeup_closed_on__isnull=True, due_date__isnull=False),
                name="due_fee_candidates",
            ),
            models.Index(fields=["employer", "month"]),
            models.Index(fields=["jurisdiction", "month"]),
            models.Index(fields=["-month", "person"], name="due_month_desc_person"),  # the admin list's order
            # the list's 缓缴 filter: few rows, found without reading the whole order index
            models.Index(fields=["-month", "person"], condition=Q(deferred=True), name="due_deferred_month"),
            # its 未缴清/欠费 filters: the unsettled dues in the list's order
            models.Index(fields=["-month", "person"], condition=Q(settled_on__isnull=True), name="due_unsettled_month"),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.month:%Y-%m} {self.total}"

    @property
    def unpaid_principal(self):
        return self.total - self.paid_principal

    @property
    def unpaid_late_fee(self):
        return self.late_fee - self.late_fee_paid


class PaymentSource(models.TextChoices):
    TAX_FILE = "tax_file", "税务缴费文件"
    MANUAL = "manual", "手工录入"


class Payment(models.Model):
    """实缴: money received for a person. ``reference`` (电子税票号) makes a payment unique.

    ``unapplied_amount`` is what is not yet allocated to dues (an overpayment is held
    here and applied to later dues when they are generated, never lost).
    """

    person = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="payments", verbose_name="参保人员"
    )
    amount = _money("金额")
    paid_on = models.DateField("缴费到账日期")
    source = models.CharField("来源", max_length=16, choices=PaymentSource.choices)
    reference = models.CharField("电子税票号", max_length=64, unique=True)
    # 险种: 310 pays monthly dues, 390 a resident's yearly bill (contributions.residents); never the other's
    insutype = models.CharField(
        "险种", max_length=3, choices=Insutype.choices, default=Insutype.EMPLOYEE, db_default=Insutype.EMPLOYEE
    )
    unapplied_amount = _money("未冲抵金额（溢缴暂存）")
    # hunan 第十三条: the held part of a prepayment refunded for the remaining months (funds.ContributionRefund);
    # the allocation keeps unapplied = amount − refunded − allocated.
    refunded_amount = models.DecimalField(
        "已退还金额", max_digits=14, decimal_places=2, default=Decimal("0"), db_default=Decimal("0")
    )
    import_job = models.ForeignKey(
        ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments", verbose_name="导入批次"
    )
    recorded_by = _user_fk("录入人")
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "实缴"
        verbose_name_plural = "实缴"
        ordering = ["person_id", "paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(unapplied_amount__gte=0) & Q(unapplied_amount__lte=F("amount")),
                name="payment_unapplied_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="payment_refunded_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["person"], condition=Q(unapplied_amount__gt=0), name="payment_unapplied_person"),
            models.Index(fields=["person", "paid_on", "id"], name="payment_person_paid"),  # the list's order
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount}"


class PaymentAllocation(models.Model):
    """冲抵: part of a payment applied to one due (principal and late fee), oldest due first."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations", verbose_name="实缴")
    due = models.ForeignKey(
        MonthlyDue,
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name="应缴",
        db_constraint=False,  # dues are partitioned on PostgreSQL (batch/partitioning.py): PROTECT by the ORM
    )
    principal = _money("冲抵本金")
    late_fee = _money("冲抵滞纳金")
    created_at = models.DateTimeField("冲抵时间")

    class Meta:
        verbose_name = "冲抵明细"
        verbose_name_plural = "冲抵明细"
        ordering = ["payment_id", "due_id"]
        constraints = [models.UniqueConstraint(fields=["payment", "due"], name="allocation_unique_payment_due")]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.due_id}"


# 用人单位变动 (issue #14 item 4) and 城乡居民医保征缴 (issue #15): defined in their packages, registered here.
from .employer_events.models import EmployerEvent, EmployerEventDueMove  # noqa: E402, F401
from .residents.models import ResidentAllocation, ResidentDue  # noqa: E402, F401
