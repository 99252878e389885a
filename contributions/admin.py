"""Admin screens of contributions (征缴). Thin: writes go through services and tasks.

Every list is scoped with :class:`~enrollment.admin_mixins.EmployerScopedAdmin` (an
employer user sees only their employer's rows) and masks 身份证号 with
:class:`~enrollment.admin_mixins.PiiMaskingAdmin` for users without the PII permission.
The tables of dues, bases and payments grow to millions of rows: no full counts,
raw-id widgets, joined selects, exact-match search on 身份证号.

Imports, a person's contribution record, an employer's bill and arrears, and the batch
operations are pages in :mod:`contributions.views`, linked above each list.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export.admin import ImportMixin

from enrollment.access import is_bureau
from enrollment.admin_mixins import BigListMixin, BureauAdmin, SafeExportAdmin
from enrollment.models import employer_id_of

from . import inputs, resources, services, views
from .models import (
    BackPaymentBill,
    ContributionBase,
    Deferral,
    EmployerBase,
    ImportJob,
    MonthlyDue,
    Payment,
    PaymentAllocation,
    WageDeclaration,
)
from .tasks import payments_apply

CHANGE_LIST = "admin/contributions/change_list.html"


class ContributionsAdmin(BigListMixin, BureauAdmin):
    """Common settings: scoped, links to the contribution pages above the list, big-table friendly."""

    change_list_template = CHANGE_LIST
    list_per_page = 50

    def changelist_view(self, request, extra_context=None):
        labels = {
            "payroll_upload": "导入工资申报",
            "payment_upload": "导入税务缴费文件",
            "person_lookup": "缴费记录查询",
            "operations": "批处理操作",
        }
        links = [(labels[k], url) for k, url in views.admin_links(request).items()]
        return super().changelist_view(request, {**(extra_context or {}), "contributions_links": links})

    #: Lookup of the person's 身份证号 for the search box.
    search_id_number = "person__id_number"

    def get_search_results(self, request, queryset, search_term):
        # Exact 身份证号 only (unique index); a name search over millions of rows would not use one.
        term = search_term.strip().upper()
        if not term:
            return queryset, False
        return queryset.filter(**{self.search_id_number: term}), False


class ReadOnlyMixin:
    """Rows written by imports, batch runs and services only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MaskedExportMixin(SafeExportAdmin):
    """Export through a safe resource: scoped, cells neutralised, 身份证号 masked without the PII permission."""

    import_export_change_list_template = None  # CHANGE_LIST shows the export link itself
    export_formats = resources.EXPORT_FORMATS


def _history_link(obj) -> str:
    return format_html(
        '<a href="{}">{}</a>', reverse("contributions:person_history", args=[obj.person_id]), obj.person.name
    )


# ---------------------------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------------------------


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyMixin, ContributionsAdmin):
    """导入批次: the list; each job opens its page (progress, dry-run errors, confirm)."""

    employer_path = "employer_id"
    list_display = (
        "job_link",
        "kind",
        "original_name",
        "employer",
        "status",
        "total_rows",
        "error_rows",
        "uploaded_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("kind", "status")
    list_select_related = ("employer", "uploaded_by")
    autocomplete_fields = ("employer",)

    def get_queryset(self, request):
        # The error lists can be large: never load them for the list.
        return super().get_queryset(request).defer("errors", "dry_run_summary")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        return (queryset.filter(original_name__icontains=term), False) if term else (queryset, False)

    @admin.display(description="批次", ordering="id")
    def job_link(self, obj: ImportJob) -> str:
        return format_html('<a href="{}">#{}</a>', reverse("contributions:import_job", args=[obj.pk]), obj.pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self._visible_or_404(request, object_id)  # the same scope as the list, then the job page
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        return redirect("contributions:import_job", pk=job.pk)


@admin.register(WageDeclaration)
class WageDeclarationAdmin(MaskedExportMixin, ReadOnlyMixin, ContributionsAdmin):
    """工资申报: declared through the payroll import (one row or a hundred thousand)."""

    employer_path = "employer_id"
    resource_classes = [resources.WageDeclarationResource]
    list_display = (
        "person",
        "person_id_number",
        "employer",
        "year",
        "monthly_wage",
        "annual_wage_total",
        "first_pay_month",
        "import_job",
        "declared_by",
        "declared_at",
    )
    list_filter = ("year", "employer__jurisdiction")
    search_fields = ("=person__id_number",)
    search_help_text = "输入完整的18位身份证号"
    raw_id_fields = ("import_job",)
    autocomplete_fields = ("person", "employer")
    list_select_related = ("person", "employer", "import_job", "declared_by")


# ---------------------------------------------------------------------------------------------
# Bases
# ---------------------------------------------------------------------------------------------


@admin.register(ContributionBase)
class ContributionBaseAdmin(MaskedExportMixin, ReadOnlyMixin, ContributionsAdmin):
    """个人缴费基数 (written by the annual reset and by dues generation)."""

    employer_path = "employer_id"
    list_display = (
        "history_link",
        "person_id_number",
        "jurisdiction",
        "year_start",
        "category",
        "employer",
        "wage",
        "base",
        "basis",
        "run",
        "updated_at",
    )
    list_filter = ("jurisdiction", "year_start", "category", "basis")
    search_fields = ("=person__id_number",)
    search_help_text = "输入完整的18位身份证号"
    raw_id_fields = ("run",)
    autocomplete_fields = ("person", "employer")
    list_select_related = ("person", "employer", "jurisdiction", "run")

    @admin.display(description="参保人员", ordering="person_id")
    def history_link(self, obj):
        return _history_link(obj)


@admin.register(EmployerBase)
class EmployerBaseAdmin(MaskedExportMixin, ReadOnlyMixin, ContributionsAdmin):
    """单位缴费基数, with the employer's monthly bill and arrears one click away."""

    employer_path = "employer_id"
    list_display = (
        "employer",
        "year_start",
        "headcount",
        "wage_bill",
        "sum_of_individual_bases",
        "base",
        "basis",
        "audited",
        "bill_links",
        "updated_at",
    )
    list_filter = ("year_start", "basis", "audited", "employer__jurisdiction")
    raw_id_fields = ("run",)
    autocomplete_fields = ("employer",)
    list_select_related = ("employer",)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(employer__credit_code=term.upper()) | queryset.filter(
            employer__name__startswith=term
        ), False

    @admin.display(description="应缴 / 欠费")
    def bill_links(self, obj: EmployerBase) -> str:
        return format_html(
            '<a href="{}">月度应缴</a> | <a href="{}">欠费明细</a>',
            reverse("contributions:employer_bill", args=[obj.employer_id]),
            reverse("contributions:employer_arrears", args=[obj.employer_id]),
        )


# ---------------------------------------------------------------------------------------------
# Dues, payments, allocations
# ---------------------------------------------------------------------------------------------


class ArrearsFilter(admin.SimpleListFilter):
    title = "缴费状态"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (
            ("arrears", "欠费（已过截止日未缴清）"),
            ("open", "未缴清"),
            ("settled", "已缴清"),
            ("makeup_closed", "不再补缴（断保超过补缴时限）"),
        )

    def queryset(self, request, queryset):

        open_dues = queryset.filter(settled_on__isnull=True, makeup_closed_on__isnull=True)
        if self.value() == "arrears":  # D-X5: unsettled after the due date (contributions.selectors.arrears)
            return open_dues.filter(due_date__lt=timezone.localdate())
        if self.value() == "open":
            return open_dues
        if self.value() == "settled":
            return queryset.filter(settled_on__isnull=False)
        if self.value() == "makeup_closed":  # ziyang 第十三条: 断保一年以上不再补缴
            return queryset.filter(makeup_closed_on__isnull=False)
        return queryset


@admin.register(MonthlyDue)
class MonthlyDueAdmin(MaskedExportMixin, ReadOnlyMixin, ContributionsAdmin):
    """应缴 per person and month; the employer user sees the months billed to their employer."""

    employer_path = "employer_id"
    resource_classes = [resources.MonthlyDueResource]
    list_display = (
        "history_link",
        "person_id_number",
        "month",
        "employer",
        "category",
        "base",
        "employer_amount",
        "individual_amount",
        "maternity_amount",
        "critical_illness_amount",
        "total",
        "paid_principal",
        "due_date",
        "settled_on",
        "late_fee",
        "deferred",
        "makeup_closed",
    )
    list_filter = (ArrearsFilter, "jurisdiction", "category", "deferred")
    search_fields = ("=person__id_number",)
    search_help_text = "输入完整的18位身份证号"
    raw_id_fields = ("back_payment_bill", "run")
    autocomplete_fields = ("person", "employer")
    list_select_related = ("person", "employer")
    ordering = ("-month", "person_id")

    @admin.display(description="参保人员", ordering="person_id")
    def history_link(self, obj):
        return _history_link(obj)

    @admin.display(description="不再补缴", ordering="makeup_closed_on")
    def makeup_closed(self, obj):
        """ziyang 第十三条: 断保一年以上不再补缴断保期间基本医疗保险费 — the day the break was found closed."""
        if obj.makeup_closed_on is None:
            return ""
        return f"{obj.makeup_closed_on} 起不再补缴（断保超过补缴时限）"


class _DryRun(Exception):
    pass


class ServiceForm(forms.ModelForm):
    """Validates by running the service in a savepoint that is always rolled back.

    The service's field errors appear next to the fields; ``save_model`` then runs
    it for real. The model's own checks are the service's business.
    """

    def service_call(self, **extra):  # pragma: no cover - overridden
        raise NotImplementedError

    def _post_clean(self):
        if self.errors:
            return
        try:
            with transaction.atomic():
                self.service_call()
                raise _DryRun
        except _DryRun:
            pass
        except ValidationError as exc:
            for name, errors in getattr(exc, "message_dict", {None: exc.messages}).items():
                self.add_error(name if name in self.fields else None, errors)


def _bounded(check, value, field: str, **kwargs):
    """Run an :mod:`contributions.inputs` check in a form's ``clean_<field>``: its message on the field."""
    try:
        return check(value, field=field, **kwargs)
    except ValidationError as exc:
        raise forms.ValidationError(exc.message_dict[field]) from None


class PaymentForm(ServiceForm):
    """手工录入实缴 through ``contributions.services.payment_record``."""

    for_month = forms.DateField(
        label="费款所属期（补缴时填）",
        required=False,
        help_text="补缴某月时填该月任一日；断保超过补缴时限的月份不再补缴（资阳 第十三条），此处会提示。",
    )

    class Meta:
        model = Payment
        fields = ("person", "amount", "paid_on", "reference", "insutype")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # 险种 defaults to 310 (职工医保): a form posted without it pays monthly dues, as before issue #15
        if "insutype" in self.fields:
            self.fields["insutype"].required = False

    def clean_amount(self):
        return _bounded(inputs.payment_amount, self.cleaned_data["amount"], "amount")

    def clean_paid_on(self):
        # Not before the earliest business date, not after the day of entry.
        return _bounded(inputs.business_date, self.cleaned_data["paid_on"], "paid_on", latest=timezone.localdate())

    def clean_reference(self):
        return _bounded(inputs.payment_reference, self.cleaned_data["reference"], "reference")

    def clean_for_month(self):
        value = self.cleaned_data.get("for_month")
        if value is None:
            return None
        return _bounded(inputs.business_date, value, "for_month", latest=timezone.localdate())

    def service_call(self, **extra):

        d = self.cleaned_data
        return services.payment_record(
            person=d["person"],
            amount=d["amount"],
            paid_on=d["paid_on"],
            reference=d["reference"],
            insutype=d.get("insutype") or "310",
            for_month=d.get("for_month"),
            **extra,
        )


@admin.register(Payment)
class PaymentAdmin(MaskedExportMixin, ContributionsAdmin):
    """实缴: imported from tax files or entered by hand; applied oldest due first."""

    # An employer user sees the payments that paid their own dues (a former employee's later payments
    # to the new employer's dues stay with the new employer).
    employer_path = "allocations__due__employer_id"
    form = PaymentForm
    resource_classes = [resources.PaymentResource]
    list_display = (
        "reference",
        "history_link",
        "person_id_number",
        "amount",
        "paid_on",
        "source",
        "insutype",
        "unapplied_amount",
        "import_job",
        "recorded_by",
        "recorded_at",
    )
    list_filter = ("source", "insutype")
    search_fields = ("=person__id_number", "=reference")
    search_help_text = "输入完整的18位身份证号或电子税票号"
    raw_id_fields = ("import_job",)
    autocomplete_fields = ("person",)
    list_select_related = ("person", "import_job", "recorded_by")
    actions = ("apply_selected",)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(person__id_number=term.upper()) | queryset.filter(reference=term), False

    @admin.display(description="参保人员", ordering="person_id")
    def history_link(self, obj):
        return _history_link(obj)

    def has_add_permission(self, request):
        return employer_id_of(request.user) is None and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return False  # a payment is a fact; corrections are new entries

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["person", "amount", "paid_on", "reference", "insutype", "for_month"]
        # for_month is an entry-time check only (ziyang 第十三条), not stored on the payment
        return [f for f in super().get_fields(request, obj) if f != "for_month"]

    def save_form(self, request, form, change):
        # The service writes the payment (and applies it); the admin logs and shows what it wrote.
        # … and brings the person's fees, eligibility and account credits up to today at once (issue #12)
        return form.service_call(recorded_by=request.user, recompute_as_of=timezone.localdate())

    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        pass

    def has_apply_permission(self, request) -> bool:
        """Applying payments writes allocations: bureau staff with the payment change permission."""
        return is_bureau(request.user) and request.user.has_perm("contributions.change_payment")

    @admin.action(description="冲抵所选实缴（按最早欠缴月份，后台任务）", permissions=["apply"])
    def apply_selected(self, request, queryset):

        ids = list(queryset.filter(unapplied_amount__gt=0).values_list("id", flat=True))
        payments_apply.delay(payment_ids=ids)
        self.message_user(request, f"已提交 {len(ids)} 笔有未冲抵金额的实缴，由后台任务冲抵。", messages.SUCCESS)


@admin.register(PaymentAllocation)
class PaymentAllocationAdmin(ReadOnlyMixin, ContributionsAdmin):
    """冲抵明细: which payment paid which month (principal and late fee)."""

    employer_path = "due__employer_id"
    search_id_number = "payment__person__id_number"
    list_display = ("payment", "due", "principal", "late_fee", "created_at")
    raw_id_fields = ("payment", "due")
    list_select_related = ("payment", "due", "due__person")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(payment__person__id_number=term.upper()) | queryset.filter(
            payment__reference=term
        ), False


# ---------------------------------------------------------------------------------------------
# Deferrals and back-payment bills
# ---------------------------------------------------------------------------------------------


class DeferralForm(ServiceForm):
    """缓缴审批 through ``contributions.services.deferral_approve`` (marks the dues falling due in it)."""

    class Meta:
        model = Deferral
        fields = ("employer", "start", "end", "approved_on", "citation", "note")

    def clean_start(self):
        return _bounded(inputs.business_date, self.cleaned_data["start"], "start")

    def clean_end(self):
        return _bounded(inputs.business_date, self.cleaned_data["end"], "end")

    def clean_approved_on(self):
        # Approved on a past day or today, never later than the day of entry.
        today = timezone.localdate()
        return _bounded(inputs.business_date, self.cleaned_data["approved_on"], "approved_on", latest=today)

    def service_call(self, **extra):

        d = self.cleaned_data
        return services.deferral_approve(
            employer=d["employer"],
            start=d["start"],
            end=d["end"],
            approved_on=d["approved_on"],
            citation=d["citation"],
            note=d.get("note") or "",
            **extra,
        )


@admin.register(Deferral)
class DeferralAdmin(ImportMixin, MaskedExportMixin, ContributionsAdmin):
    """缓缴: a small table, with django-import-export's import (each row approved by the service) and export."""

    employer_path = "employer_id"
    form = DeferralForm
    import_export_change_list_template = None
    resource_classes = [resources.DeferralResource]
    import_formats = resources.EXPORT_FORMATS
    export_formats = resources.EXPORT_FORMATS
    list_display = ("employer", "start", "end", "approved_on", "approved_by", "citation", "created_at")
    list_filter = ("employer__jurisdiction",)
    autocomplete_fields = ("employer",)
    list_select_related = ("employer", "approved_by")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(employer__credit_code=term.upper()) | queryset.filter(
            employer__name__startswith=term
        ), False

    def has_import_permission(self, request):
        return employer_id_of(request.user) is None and request.user.has_perm("contributions.add_deferral")

    def has_add_permission(self, request):
        return employer_id_of(request.user) is None and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return False  # an approval is a fact: a different period is a new approval

    def has_delete_permission(self, request, obj=None):
        return False

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "user": request.user}

    def save_form(self, request, form, change):
        return form.service_call(approved_by=request.user, recompute_as_of=timezone.localdate())

    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        pass


@admin.register(BackPaymentBill)
class BackPaymentBillAdmin(MaskedExportMixin, ReadOnlyMixin, ContributionsAdmin):
    """补缴单 (issued by the back-payment service)."""

    employer_path = "employer_id"
    list_display = (
        "history_link",
        "person_id_number",
        "employer",
        "start_month",
        "end_month",
        "months",
        "rule",
        "base",
        "total",
        "issued_on",
        "due_date",
        "status",
    )
    list_filter = ("status", "jurisdiction", "rule")
    autocomplete_fields = ("person", "employer")
    list_select_related = ("person", "employer")

    @admin.display(description="参保人员", ordering="person_id")
    def history_link(self, obj):
        return _history_link(obj)


# 单位变动 (issue #14 item 4): the screens live with the models in contributions.employer_events.
# 城乡居民医保年度应缴 (issue #15): the yearly bills, read-only (the billing job and payments write them).
from .employer_events import admin as _employer_events_admin  # noqa: E402, F401
from .residents import admin as _resident_admin  # noqa: E402, F401
