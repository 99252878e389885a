"""Admin of 退休清缴 cases: the case workers' actions call :mod:`.services` (approve, keep paying, record payment)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from enrollment.admin_mixins import BigListMixin, BureauAdmin, PersonSearchMixin
from policy.labels import in_words

from . import services
from .models import CaseStatus, RetirementClearanceCase


class PaymentForm(forms.Form):
    paid_on = forms.DateField(label="缴费到账日期", widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label="电子税票号", max_length=64)


def _errors(exc: ValidationError) -> str:
    return "；".join(m for msgs in getattr(exc, "message_dict", {"": exc.messages}).values() for m in msgs)


@admin.register(RetirementClearanceCase)
class RetirementClearanceCaseAdmin(BigListMixin, PersonSearchMixin, BureauAdmin):
    person_path = "person_id"
    history_revert = False  # the case moves through its services (approve, pay, close), never by revert

    list_display = (
        "id",
        "person",
        "jurisdiction",
        "reason",
        "retire_on",
        "cumulative_months",
        "local_months",
        "shortfall_months",
        "lump_sum",
        "option",
        "status",
        "retiree_from",
        "problem_flag",
    )
    list_filter = ("status", "option", "reason", "jurisdiction")
    search_fields = ("=person__id", "person__name", "bill_no")
    search_exact = ("bill_no",)
    search_help_text = "人员编号、18位身份证号、姓名开头或补缴单号"
    list_select_related = ("person", "jurisdiction")
    autocomplete_fields = ("person",)
    actions = ("approve", "keep_paying", "close")
    readonly_fields = (
        *(f.name for f in RetirementClearanceCase._meta.fields if f.name not in ("person", "reason", "retire_on")),
        "pay_link",
        "keep_paying_offer",
        "category_zh",
        "facts_zh",
        "problem_zh",
        "citation_zh",
    )

    fieldsets = (
        (
            "案件",
            {
                "fields": (
                    ("person", "jurisdiction", "category_zh"),
                    ("reason", "retire_on", "opened_on"),
                    ("status_at_retirement", "place_basis"),  # 退休地: hunan 第三十一条
                    "status",
                    "run",
                )
            },
        ),
        (
            "缴费年限（月）",
            {
                "fields": (
                    "required_months",
                    "required_local_months",
                    "deemed_months",
                    "actual_months",
                    "local_months",
                    "cumulative_months",
                    "shortfall_months",
                )
            },
        ),
        ("一次性补缴", {"fields": ("lump_sum_base", "lump_sum", "basis", "option", "keep_paying_offer", "problem_zh")}),
        (
            "审核与补缴单",
            {"fields": (("approved_by", "approved_on"), ("bill_no", "bill_amount", "bill_issued_on"), "pay_link")},
        ),
        (
            "缴费与转退休",
            {
                "fields": (
                    "paid_on",
                    "payment_reference",
                    "retiree_from",
                    "ledger_entry_id",
                    "ledger_note",
                    "closed_on",
                )
            },
        ),
        ("依据", {"fields": ("facts_zh", "citation_zh", "created_at")}),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # a case worker opens a case by hand: the service computes everything else
            return ((None, {"fields": ("person", "reason", "retire_on")}),)
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (("person", "reason", "retire_on") if obj else ())

    @admin.display(description="问题", boolean=True)
    def problem_flag(self, obj):
        return not obj.problem

    @admin.display(description="退休前人员类别")
    def category_zh(self, obj):
        names = {"employee": "在职职工（含领取失业保险金人员）", "flexible": "灵活就业人员"}
        return names.get(obj.category, obj.category)

    @admin.display(description="计算所依据的事实")
    def facts_zh(self, obj):
        lines = []
        for key, value in (obj.facts or {}).items():
            if isinstance(value, dict):
                value = "；".join(f"{k} {v} 个月" for k, v in value.items()) or "—"
            lines.append(format_html("<li>{}：{}</li>", key, "—" if value in (None, "") else value))
        return format_html("<ul>{}</ul>", format_html_join("", "{}", ((line,) for line in lines))) if lines else "—"

    @admin.display(description="无法计算的原因")
    def problem_zh(self, obj):
        """The stored message in words (parameter keys by label, codes by name, the English tail small)."""
        return in_words(obj.problem) if obj and obj.problem else "—"

    @admin.display(description="条款出处")
    def citation_zh(self, obj):
        return in_words(obj.citation) if obj and obj.citation else "—"

    @admin.display(description="可否选择继续缴费")
    def keep_paying_offer(self, obj):
        """按在职职工继续缴费 is offered only where ``retirement.keep_paying_allowed`` is true (langfang 第三十四条,
        ziyang 第九条(五)2); elsewhere the lump sum is the only route, or the document is silent (D-X16)."""
        if not obj or not obj.pk:
            return "—"
        allowed, citation = services.keep_paying_offer(obj, on=timezone.localdate())
        if allowed is None:
            return format_html("文件未规定（{}），需由经办人员录入参数后方可选择", in_words(citation))
        return format_html("{}（{}）", "可以选择" if allowed else "不可选择，只能一次性补缴", in_words(citation))

    @admin.display(description="登记缴费")
    def pay_link(self, obj):
        if obj and obj.status == CaseStatus.BILLED:
            return format_html(
                '<a class="button" href="{}">登记缴费到账</a>', reverse("admin:retirement_case_pay", args=[obj.pk])
            )
        return "—"

    def save_model(self, request, obj, form, change):
        """A case worker opens a case by hand (pension approved): through the service, which computes it."""
        if change:
            return super().save_model(request, obj, form, change)
        try:
            case = services.case_open(
                person=obj.person,
                reason=obj.reason,
                retire_on=obj.retire_on,
                opened_on=timezone.localdate(),
                user=request.user,
            )
        except ValidationError as exc:
            messages.error(request, _errors(exc))
            raise
        obj.pk = case.pk

    @admin.action(description="审核通过（年限足够则转退休；不足则开具补缴单）", permissions=["change"])
    def approve(self, request, queryset):
        for case in queryset:
            try:
                case = services.case_approve(case, on=timezone.localdate(), user=request.user)
                messages.success(request, f"案件 #{case.pk}：{case.get_status_display()}")
            except ValidationError as exc:
                messages.error(request, f"案件 #{case.pk}：{_errors(exc)}")

    @admin.action(description="选择按在职职工继续缴费（政策允许的统筹区）", permissions=["change"])
    def keep_paying(self, request, queryset):
        for case in queryset:
            try:
                services.case_choose_keep_paying(case, on=timezone.localdate(), user=request.user)
                messages.success(request, f"案件 #{case.pk}：已改为继续缴费")
            except ValidationError as exc:
                messages.error(request, f"案件 #{case.pk}：{_errors(exc)}")

    @admin.action(description="撤销立案（误立案，人员仍在职）", permissions=["change"])
    def close(self, request, queryset):
        for case in queryset:
            try:
                services.case_close(case, on=timezone.localdate(), note=f"经办撤销立案（{request.user}）")
                messages.success(request, f"案件 #{case.pk}：已撤销")
            except ValidationError as exc:
                messages.error(request, f"案件 #{case.pk}：{_errors(exc)}")

    def get_urls(self):
        return [
            path("<int:case_id>/pay/", self.admin_site.admin_view(self.pay_view), name="retirement_case_pay"),
            *super().get_urls(),
        ]

    def pay_view(self, request, case_id: int):
        case = get_object_or_404(self.get_queryset(request), pk=case_id)
        if not self.has_change_permission(request, case):
            raise PermissionDenied
        form = PaymentForm(request.POST or None, initial={"paid_on": date.today()})
        if request.method == "POST" and form.is_valid():
            try:
                services.case_record_payment(
                    case,
                    paid_on=form.cleaned_data["paid_on"],
                    reference=form.cleaned_data["reference"],
                    user=request.user,
                )
                messages.success(request, f"案件 #{case.pk} 已登记缴费并转为退休人员")
                return redirect(reverse("admin:retirement_retirementclearancecase_change", args=[case.pk]))
            except ValidationError as exc:
                form.add_error(None, _errors(exc))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "case": case,
            "form": form,
            "title": f"登记退休清缴缴费：{case.person}",
        }
        return TemplateResponse(request, "admin/retirement/pay.html", context)
