"""django-import-export resources: the column layout of the contribution tables as files.

Used for the admin's exports (xlsx/csv, with 身份证号 masked for users without the PII
permission), for the simple admin import of small tables (缓缴), and by ``bench_import``
as django-import-export's default per-row import of a payroll file. The payroll and
payment *imports* of the back office go through :mod:`contributions.imports`
(set-based validation, bulk upsert, background), not through ``import_data``.
"""

from __future__ import annotations

from collections.abc import Iterable

import tablib
from django.core.exceptions import ValidationError
from import_export import fields, widgets
from import_export.formats import base_formats

from enrollment.identifiers import mask_id_number
from enrollment.models import Employer, InsuredPerson
from enrollment.resources import SafeExportResource
from enrollment.safe_files import neutralise_cell

from .models import Deferral, MonthlyDue, Payment, WageDeclaration
from .services import deferral_approve

EXPORT_FORMATS = [base_formats.XLSX, base_formats.CSV]


class MaskingResource(SafeExportResource):
    """Exports 身份证号 masked for roles without the PII permission (auditors); cells neutralised."""

    def _id_number(self, person: InsuredPerson) -> str:
        return mask_id_number(person.id_number) if self.mask else person.id_number


class WageDeclarationResource(MaskingResource):
    """工资申报: the payroll file's columns plus the employer's 统一社会信用代码."""

    person = fields.Field(
        attribute="person",
        column_name="身份证号",
        widget=widgets.ForeignKeyWidget(InsuredPerson, field="id_number"),
    )
    name = fields.Field(column_name="姓名", readonly=True)
    employer = fields.Field(
        attribute="employer",
        column_name="统一社会信用代码",
        widget=widgets.ForeignKeyWidget(Employer, field="credit_code"),
    )
    year = fields.Field(attribute="year", column_name="年度", widget=widgets.IntegerWidget())
    monthly_wage = fields.Field(attribute="monthly_wage", column_name="月工资", widget=widgets.DecimalWidget())
    annual_wage_total = fields.Field(
        attribute="annual_wage_total", column_name="上年工资总额", widget=widgets.DecimalWidget()
    )
    first_pay_month = fields.Field(
        attribute="first_pay_month", column_name="起薪月份", widget=widgets.DateWidget("%Y-%m-%d")
    )

    class Meta:
        model = WageDeclaration
        fields = ("person", "name", "employer", "year", "monthly_wage", "annual_wage_total", "first_pay_month")
        import_id_fields = ("person", "employer", "year")

    def dehydrate_person(self, obj: WageDeclaration) -> str:
        return self._id_number(obj.person)

    def dehydrate_name(self, obj: WageDeclaration) -> str:
        return obj.person.name


class PaymentResource(MaskingResource):
    reference = fields.Field(attribute="reference", column_name="电子税票号")
    person = fields.Field(attribute="person", column_name="身份证号")
    name = fields.Field(column_name="姓名", readonly=True)
    amount = fields.Field(attribute="amount", column_name="金额", widget=widgets.DecimalWidget())
    paid_on = fields.Field(attribute="paid_on", column_name="缴款日期", widget=widgets.DateWidget("%Y-%m-%d"))
    unapplied_amount = fields.Field(
        attribute="unapplied_amount", column_name="未冲抵金额", widget=widgets.DecimalWidget()
    )
    source = fields.Field(attribute="get_source_display", column_name="来源")

    class Meta:
        model = Payment
        fields = ("reference", "person", "name", "amount", "paid_on", "unapplied_amount", "source")

    def dehydrate_person(self, obj: Payment) -> str:
        return self._id_number(obj.person)

    def dehydrate_name(self, obj: Payment) -> str:
        return obj.person.name


class MonthlyDueResource(MaskingResource):
    """应缴 (and, filtered to unpaid months past their due date, 欠费明细)."""

    person = fields.Field(attribute="person", column_name="身份证号")
    name = fields.Field(column_name="姓名", readonly=True)
    month = fields.Field(attribute="month", column_name="费款所属期", widget=widgets.DateWidget("%Y-%m"))
    category = fields.Field(attribute="get_category_display", column_name="人员类别")
    base = fields.Field(attribute="base", column_name="缴费基数", widget=widgets.DecimalWidget())
    employer_amount = fields.Field(attribute="employer_amount", column_name="单位缴纳", widget=widgets.DecimalWidget())
    individual_amount = fields.Field(
        attribute="individual_amount", column_name="个人缴纳", widget=widgets.DecimalWidget()
    )
    maternity_amount = fields.Field(
        attribute="maternity_amount", column_name="生育保险", widget=widgets.DecimalWidget()
    )
    critical_illness_amount = fields.Field(
        attribute="critical_illness_amount", column_name="大病保险", widget=widgets.DecimalWidget()
    )
    total = fields.Field(attribute="total", column_name="应缴合计", widget=widgets.DecimalWidget())
    paid_principal = fields.Field(attribute="paid_principal", column_name="已缴本金", widget=widgets.DecimalWidget())
    unpaid = fields.Field(column_name="欠缴本金", readonly=True)
    due_date = fields.Field(attribute="due_date", column_name="缴费截止日", widget=widgets.DateWidget("%Y-%m-%d"))
    late_fee = fields.Field(attribute="late_fee", column_name="滞纳金（累计）", widget=widgets.DecimalWidget())
    late_fee_unpaid = fields.Field(column_name="未缴滞纳金", readonly=True)
    deferred = fields.Field(column_name="缓缴", readonly=True)

    class Meta:
        model = MonthlyDue
        fields = (
            "person",
            "name",
            "month",
            "category",
            "base",
            "employer_amount",
            "individual_amount",
            "maternity_amount",
            "critical_illness_amount",
            "total",
            "paid_principal",
            "unpaid",
            "due_date",
            "late_fee",
            "late_fee_unpaid",
            "deferred",
        )

    def dehydrate_person(self, obj: MonthlyDue) -> str:
        return self._id_number(obj.person)

    def dehydrate_name(self, obj: MonthlyDue) -> str:
        return obj.person.name

    def dehydrate_unpaid(self, obj: MonthlyDue):
        return obj.total - obj.paid_principal

    def dehydrate_late_fee_unpaid(self, obj: MonthlyDue):
        return obj.late_fee - obj.late_fee_paid

    def dehydrate_deferred(self, obj: MonthlyDue) -> str:
        return "是" if obj.deferred else ""


class DeferralResource(SafeExportResource):
    """缓缴 approvals: a small table, imported and exported as is through the admin."""

    employer = fields.Field(
        attribute="employer",
        column_name="统一社会信用代码",
        widget=widgets.ForeignKeyWidget(Employer, field="credit_code"),
    )
    employer_name = fields.Field(column_name="单位名称", readonly=True)
    start = fields.Field(attribute="start", column_name="缓缴起始日", widget=widgets.DateWidget("%Y-%m-%d"))
    end = fields.Field(attribute="end", column_name="缓缴截止日（不含）", widget=widgets.DateWidget("%Y-%m-%d"))
    approved_on = fields.Field(attribute="approved_on", column_name="批准日期", widget=widgets.DateWidget("%Y-%m-%d"))
    citation = fields.Field(attribute="citation", column_name="依据")
    note = fields.Field(attribute="note", column_name="说明")

    class Meta:
        model = Deferral
        fields = ("id", "employer", "employer_name", "start", "end", "approved_on", "citation", "note")
        import_id_fields = ("id",)

    def dehydrate_employer_name(self, obj: Deferral) -> str:
        return obj.employer.name

    def do_instance_save(self, instance: Deferral, is_create: bool) -> None:
        """Each new row is an approval through ``deferral_approve`` (its errors become row errors)."""

        if not is_create:
            raise ValidationError("已批准的缓缴不能通过导入修改；不同的期间请作为新的一行（id 留空）导入。")
        approved = deferral_approve(
            employer=instance.employer,
            start=instance.start,
            end=instance.end,
            approved_on=instance.approved_on,
            citation=instance.citation or "",
            note=instance.note or "",
            approved_by=self.user,
        )
        instance.pk = approved.pk


def _xlsx(dataset: tablib.Dataset) -> bytes:
    return base_formats.XLSX().export_data(dataset)


def arrears_xlsx(queryset: Iterable[MonthlyDue], *, mask: bool) -> bytes:
    """欠费明细 as xlsx (one row per person and month)."""
    return _xlsx(MonthlyDueResource(mask=mask).export(queryset=queryset))


BILL_COLUMNS = (
    ("month", "费款所属期"),
    ("persons", "人数"),
    ("base", "缴费基数合计"),
    ("employer_amount", "单位缴纳"),
    ("individual_amount", "个人缴纳"),
    ("maternity_amount", "生育保险"),
    ("critical_illness_amount", "大病保险"),
    ("total", "应缴合计"),
    ("paid", "已缴本金"),
    ("unpaid", "欠缴本金"),
    ("late_fee", "滞纳金（累计）"),
    ("late_fee_unpaid", "未缴滞纳金"),
)


def employer_bill_xlsx(employer: Employer, rows: list[dict]) -> bytes:
    """单位月度应缴汇总 as xlsx (one row per month)."""
    dataset = tablib.Dataset(headers=[label for _, label in BILL_COLUMNS], title="月度应缴汇总"[:31])
    for row in rows:
        dataset.append(
            [neutralise_cell(row["month"].strftime("%Y-%m") if k == "month" else row[k]) for k, _ in BILL_COLUMNS]
        )
    return _xlsx(dataset)
