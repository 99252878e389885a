"""Screens of the registers: 异地就医备案 and 门诊慢特病认定 (search by person, filters, history, export).

Bureau staff only (medical data of persons: employer users see nothing, no ``person_path``); writes go
through :mod:`benefits.registers.services` (the add form records, actions cancel / assess / approve / end);
the auditor (审计人员) reads. Refusals come back as field messages, never an HTTP 500.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from enrollment.admin_mixins import (
    BigListMixin,
    BureauAdmin,
    PersonSearchMixin,
    SafeExportAdmin,
    ServiceWrittenAdmin,
    service_errors_to_form,
)
from policy.resolver import PolicyError

from . import services
from .models import CertificationStatus, ChronicCertification, FilingStatus, OutOfAreaFiling

DATE = forms.DateInput(attrs={"type": "date"})


class _ServiceForm(forms.ModelForm):
    """A ModelForm whose ``clean`` runs the service in a savepoint-free dry check through ``save_via``."""

    service_result = None

    def run(self, **kw):  # pragma: no cover - overridden
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.service_result = self.run(**data)
        except (ValidationError, PolicyError) as exc:
            service_errors_to_form(self, exc)
        return data


class FilingForm(_ServiceForm):
    class Meta:
        model = OutOfAreaFiling
        fields = ("person", "jurisdiction", "kind", "place", "filed_on", "start", "end", "note")
        widgets = {"filed_on": DATE, "start": DATE, "end": DATE}

    def run(self, **data):
        return services.filing_record(user=getattr(self, "user", None), **data)


class CancelForm(forms.Form):
    cancelled_on = forms.DateField(label="注销日期（该日起不再有效）", widget=DATE)


class _ActionMixin:
    """An admin action with a small form (dates), applied per selected row through a service."""

    def _action_form(self, request, queryset, *, form_class, action: str, title: str, note: str, apply):
        form = form_class(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done = 0
            for obj in queryset:
                try:
                    apply(obj, form.cleaned_data)
                    done += 1
                except (ValidationError, PolicyError) as exc:
                    text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                    self.message_user(request, f"{obj}：{text}", messages.ERROR)
            self.message_user(request, f"已办理 {done} 项。", messages.SUCCESS if done else messages.WARNING)
            return None
        return TemplateResponse(
            request,
            "admin/registers/action_form.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "objects": queryset,
                "form": form,
                "note": note,
                "action": action,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(OutOfAreaFiling)
class OutOfAreaFilingAdmin(
    ServiceWrittenAdmin, BigListMixin, PersonSearchMixin, SafeExportAdmin, _ActionMixin, BureauAdmin
):
    """异地就医备案: recorded (or changed, for long-term residence) by the add form; cancelled by the action."""

    form = FilingForm
    list_display = ("person", "jurisdiction", "kind", "place", "filed_on", "start", "end", "status", "citation")
    list_filter = ("jurisdiction", "kind", "status")
    list_select_related = ("person", "jurisdiction")
    autocomplete_fields = ("person",)  # 人员选择框: names, not numbers (issue #19 item 4)
    search_fields = ("person__name",)  # the box; PersonSearchMixin searches by index
    ordering = ("-start", "-id")
    actions = ["cancel"]
    readonly_fields = ("status", "cancelled_on", "replaces", "citation", "created_by")

    def has_change_permission(self, request, obj=None):
        return False  # a filing changes through 变更 (a new filing) or 注销, never by editing

    def has_delete_permission(self, request, obj=None):
        return False

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("registers.add_outofareafiling")

    @admin.action(description="注销备案（返回参保地居住等）", permissions=["cancel"])
    def cancel(self, request, queryset):
        return self._action_form(
            request,
            queryset.filter(status=FilingStatus.ACTIVE),
            form_class=CancelForm,
            action="cancel",
            title="注销异地就医备案",
            note="注销日起备案不再有效。异地长期居住备案在规定期限内不得注销的"
            "（sanmenxia 第五十五条），不予办理并提示。",
            apply=lambda f, d: services.filing_cancel(f, on=d["cancelled_on"], user=request.user),
        )


class CertificationForm(_ServiceForm):
    class Meta:
        model = ChronicCertification
        fields = ("person", "jurisdiction", "disease_code", "disease_class", "applied_on", "note")
        widgets = {"applied_on": DATE}

    def run(self, **data):
        return services.certification_apply(user=getattr(self, "user", None), **data)


class AssessForm(forms.Form):
    assessed_on = forms.DateField(label="鉴定日期", widget=DATE)
    passed = forms.TypedChoiceField(
        label="鉴定结论", choices=[("1", "符合认定标准"), ("0", "不符合")], coerce=lambda v: v == "1"
    )
    opinion = forms.CharField(label="鉴定意见", max_length=200, required=False)


class ApproveForm(forms.Form):
    approved_on = forms.DateField(label="核准日期", widget=DATE)
    valid_from = forms.DateField(label="有效期开始", widget=DATE)
    valid_until = forms.DateField(label="有效期结束（不含；空为长期）", widget=DATE, required=False)
    institution_code = forms.CharField(label="定点医疗机构编码", max_length=32)


class EndForm(forms.Form):
    on = forms.DateField(label="终止日期（该日起无效）", widget=DATE)


@admin.register(ChronicCertification)
class ChronicCertificationAdmin(
    ServiceWrittenAdmin, BigListMixin, PersonSearchMixin, SafeExportAdmin, _ActionMixin, BureauAdmin
):
    """门诊慢特病认定: 申请 (add form) → 鉴定 → 核准 (actions) with validity and designated institution."""

    form = CertificationForm
    list_display = (
        "person",
        "jurisdiction",
        "disease_name",
        "disease_class",
        "status",
        "valid_from",
        "valid_until",
        "institution_code",
        "carried_over",
        "carried_over_paid",
    )
    list_filter = ("jurisdiction", "status", "carried_over", "disease_class")
    list_select_related = ("person", "jurisdiction")
    autocomplete_fields = ("person",)  # 人员选择框: names, not numbers (issue #19 item 4)
    search_fields = ("person__name",)  # the box; PersonSearchMixin searches by index
    search_exact = ("disease_code",)
    ordering = ("-applied_on", "-id")
    actions = ["assess", "approve", "end"]

    def has_change_permission(self, request, obj=None):
        return False  # moves through its services (鉴定, 核准, 终止)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_process_permission(self, request) -> bool:
        return request.user.has_perm("registers.add_chroniccertification")

    @admin.action(description="鉴定", permissions=["process"])
    def assess(self, request, queryset):
        return self._action_form(
            request,
            queryset.filter(status=CertificationStatus.APPLIED),
            form_class=AssessForm,
            action="assess",
            title="门诊慢特病鉴定",
            note="按诊断纳入标准鉴定（hunan 第四十八条，sanmenxia 第十四条）。",
            apply=lambda c, d: services.certification_assess(
                c, on=d["assessed_on"], passed=d["passed"], opinion=d["opinion"]
            ),
        )

    @admin.action(description="核准（有效期、定点医疗机构）", permissions=["process"])
    def approve(self, request, queryset):
        return self._action_form(
            request,
            queryset.filter(status=CertificationStatus.ASSESSED),
            form_class=ApproveForm,
            action="approve",
            title="门诊慢特病核准",
            note="核准后在有效期内、于定点医疗机构发生的门诊慢特病费用按规定支付（sanmenxia 第十四条 定点医疗）。",
            apply=lambda c, d: services.certification_approve(
                c,
                on=d["approved_on"],
                valid_from=d["valid_from"],
                valid_until=d["valid_until"],
                institution_code=d["institution_code"],
            ),
        )

    @admin.action(description="终止认定", permissions=["process"])
    def end(self, request, queryset):
        return self._action_form(
            request,
            queryset.filter(status=CertificationStatus.APPROVED),
            form_class=EndForm,
            action="end",
            title="终止门诊慢特病认定",
            note="终止日起认定无效，此后的门诊慢特病费用不予支付。",
            apply=lambda c, d: services.certification_end(c, on=d["on"]),
        )
