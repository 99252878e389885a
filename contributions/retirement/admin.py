"""Admin of 退休清缴 cases: the case workers' actions call :mod:`.services` (approve, keep paying, record payment)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from enrollment.models import InsuredPerson

from . import services
from .models import CaseStatus, RetirementClearanceCase


class PaymentForm(forms.Form):
    paid_on = forms.DateField(label="缴费到账日期", widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label="电子税票号", max_length=64)


def _errors(exc: ValidationError) -> str:
    return "；".join(m for msgs in getattr(exc, "message_dict", {"": exc.messages}).values() for m in msgs)


@admin.register(RetirementClearanceCase)
class RetirementClearanceCaseAdmin(SimpleHistoryAdmin):
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
    list_select_related = ("person", "jurisdiction")
    autocomplete_fields = ()
    raw_id_fields = ("person",)
    actions = ("approve", "keep_paying")
    readonly_fields = (
        *(f.name for f in RetirementClearanceCase._meta.fields if f.name not in ("person", "reason", "retire_on")),
        "pay_link",
    )

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (("person", "reason", "retire_on") if obj else ())

    def get_queryset(self, request):
        return super().get_queryset(request).filter(person__in=InsuredPerson.objects.visible_to(request.user))

    @admin.display(description="问题", boolean=True)
    def problem_flag(self, obj):
        return not obj.problem

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

    @admin.action(description="审核通过（年限足够则转退休；不足则开具补缴单）")
    def approve(self, request, queryset):
        for case in queryset:
            try:
                case = services.case_approve(case, on=timezone.localdate(), user=request.user)
                messages.success(request, f"案件 #{case.pk}：{case.get_status_display()}")
            except ValidationError as exc:
                messages.error(request, f"案件 #{case.pk}：{_errors(exc)}")

    @admin.action(description="选择按在职职工继续缴费（政策允许的统筹区）")
    def keep_paying(self, request, queryset):
        for case in queryset:
            try:
                services.case_choose_keep_paying(case, on=timezone.localdate(), user=request.user)
                messages.success(request, f"案件 #{case.pk}：已改为继续缴费")
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
            from django.core.exceptions import PermissionDenied

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
