"""第三人责任先行支付 screens (hunan 第三十五条): the case workers' list of cases tracked to the end (state,
advanced, recovered, written off, outstanding, days open; filters by state and area), the written application
(the add form), and the actions 调查属实/不属实, 先行支付, 追偿到账, 申请核销, 审批核销/驳回 — each through
:mod:`.services`, refusals shown as messages, never an HTTP 500. Bureau staff only (medical data: employer users
see nothing); the auditor reads; rows are never edited or deleted.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone

from enrollment.admin_mixins import (
    BigListMixin,
    BureauAdmin,
    PersonSearchMixin,
    ServiceRunForm,
    ServiceWrittenAdmin,
)
from enrollment.bounds import MAX_AMOUNT, MAX_REASON_LENGTH, MIN_BUSINESS_DATE
from policy.resolver import PolicyError

from . import services
from .models import ThirdPartyAction, ThirdPartyCase, ThirdPartyState

DATE = forms.DateInput(attrs={"type": "date"})


def _day_field(label: str) -> forms.DateField:
    return forms.DateField(label=label, widget=DATE)


class _Dated(forms.Form):
    """A business date between 1950 and the day of entry (bounds: never a 500, always a field message)."""

    on = _day_field("办理日期")

    def clean_on(self) -> date:
        on = self.cleaned_data["on"]
        today = timezone.localdate()
        if on < MIN_BUSINESS_DATE or on > today:
            raise ValidationError(f"日期应在 {MIN_BUSINESS_DATE} 至 {today} 之间。")
        return on


class InvestigateForm(_Dated):
    finding = forms.CharField(label="调查结论", max_length=MAX_REASON_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))


class RecoverForm(_Dated):
    amount = forms.DecimalField(
        label="追回金额（元）", min_value=0.01, max_value=MAX_AMOUNT, max_digits=14, decimal_places=2
    )
    reference = forms.CharField(label="到账凭据号", max_length=64)


class WriteOffForm(_Dated):
    reason = forms.CharField(
        label="难以追偿的客观原因", max_length=MAX_REASON_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class DecideForm(_Dated):
    note = forms.CharField(label="审批意见", max_length=MAX_REASON_LENGTH, required=False)


class ApplyForm(ServiceRunForm):
    """书面申请: the service runs in ``clean`` (inside the admin's transaction); its refusal is a field message."""

    class Meta:
        model = ThirdPartyCase
        fields = ("claim", "applied_on", "reason", "third_party", "cause")
        widgets = {"applied_on": DATE, "cause": forms.Textarea(attrs={"rows": 3})}

    def validate_unique(self):
        """One case per claim is the service's check (the row it wrote would otherwise clash with itself)."""

    def clean_applied_on(self) -> date:
        on = self.cleaned_data["applied_on"]
        if on > timezone.localdate():
            raise ValidationError("申请日期不能晚于今天。")
        return on

    def run(self, data):
        return services.case_apply(
            claim=data["claim"],
            applied_on=data["applied_on"],
            reason=data["reason"],
            cause=data["cause"],
            third_party=data.get("third_party") or "",
            user=self.user,
        )


class ActionInline(admin.TabularInline):
    model = ThirdPartyAction
    extra = 0
    can_delete = False
    fields = ("on", "action", "amount", "state_after", "note", "reference", "journal_entry", "user", "recorded_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ThirdPartyCase)
class ThirdPartyCaseAdmin(ServiceWrittenAdmin, BigListMixin, PersonSearchMixin, BureauAdmin):
    """第三人责任先行支付案件: from the written application to full recovery or write-off."""

    form = ApplyForm
    list_display = (
        "claim",
        "person",
        "jurisdiction",
        "state",
        "advanced",
        "recovered",
        "written_off",
        "outstanding_amount",
        "applied_on",
        "days_open_now",
        "closed_on",
    )
    list_filter = ("state", "jurisdiction", "reason")
    list_select_related = ("claim", "person", "jurisdiction")
    search_fields = ("person__name", "claim__business_key")
    autocomplete_fields = ("claim",)
    ordering = ("-applied_on", "-id")
    inlines = (ActionInline,)
    readonly_fields = (
        "state",
        "person",
        "jurisdiction",
        "finding",
        "advanced",
        "recovered",
        "written_off",
        "write_off_reason",
        "write_off_requested_by",
        "citation",
        "closed_on",
    )
    actions = ["investigate_true", "investigate_false", "advance", "recover", "request_write_off", "approve", "reject"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["claim", "applied_on", "reason", "third_party", "cause"]
        return [
            "claim",
            "person",
            "jurisdiction",
            "applied_on",
            "reason",
            "third_party",
            "cause",
            *self.readonly_fields[:1],
            *self.readonly_fields[3:],
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("claim", "applied_on", "reason", "third_party", "cause", *self.readonly_fields)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        return False  # moved by the actions, never edited

    def has_delete_permission(self, request, obj=None):
        return False

    def has_act_permission(self, request) -> bool:
        return request.user.has_perm("claims.add_thirdpartycase")

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("claims.approve_thirdpartywriteoff")

    @admin.display(description="尚未追回")
    def outstanding_amount(self, obj: ThirdPartyCase):
        return obj.outstanding

    @admin.display(description="办理天数")
    def days_open_now(self, obj: ThirdPartyCase) -> int:
        return obj.days_open(timezone.localdate())

    def changelist_view(self, request, extra_context=None):
        counts = {label: ThirdPartyCase.objects.filter(state=value).count() for value, label in ThirdPartyState.choices}
        extra_context = {**(extra_context or {}), "subtitle": "；".join(f"{k} {v}" for k, v in counts.items() if v)}
        return super().changelist_view(request, extra_context)

    # --- actions ------------------------------------------------------------------------------------------

    def _run(self, request, queryset, *, form_class, action, title, note, apply, single=False):
        form = form_class(request.POST if "apply" in request.POST else None)
        if single and queryset.count() != 1:
            self.message_user(request, "请只选择一个案件办理。", messages.WARNING)
            return None
        if "apply" in request.POST and form.is_valid():
            done = 0
            for case in queryset:
                try:
                    apply(case, form.cleaned_data)
                    done += 1
                except (ValidationError, PolicyError) as exc:
                    text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                    self.message_user(request, f"{case}：{text}", messages.ERROR)
            self.message_user(request, f"已办理 {done} 件。", messages.SUCCESS if done else messages.WARNING)
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

    @admin.action(description="调查属实", permissions=["act"])
    def investigate_true(self, request, queryset):
        return self._run(
            request,
            queryset,
            form_class=InvestigateForm,
            action="investigate_true",
            title="调查属实",
            note="经调查属实的，可按规定先行支付（hunan 第三十五条）。",
            apply=lambda c, d: services.case_investigate(
                c, found_true=True, finding=d["finding"], on=d["on"], user=request.user
            ),
        )

    @admin.action(description="调查不属实（不予先行支付）", permissions=["act"])
    def investigate_false(self, request, queryset):
        return self._run(
            request,
            queryset,
            form_class=InvestigateForm,
            action="investigate_false",
            title="调查不属实",
            note="调查不属实的，不予先行支付，案件办结。",
            apply=lambda c, d: services.case_investigate(
                c, found_true=False, finding=d["finding"], on=d["on"], user=request.user
            ),
        )

    @admin.action(description="基金先行支付（转应收第三人款）", permissions=["act"])
    def advance(self, request, queryset):
        return self._run(
            request,
            queryset,
            form_class=_Dated,
            action="advance",
            title="基金先行支付",
            note="费用报销按“基金先行支付”结算后，其统筹基金支出记为应向第三人追偿的应收款。",
            apply=lambda c, d: services.case_advance(c, on=d["on"], user=request.user),
        )

    @admin.action(description="追偿到账", permissions=["act"])
    def recover(self, request, queryset):
        return self._run(
            request,
            queryset,
            form_class=RecoverForm,
            action="recover",
            title="追偿到账",
            single=True,
            note="向第三人追回的款项（可分次）；全额追回后案件办结。",
            apply=lambda c, d: services.case_recover(
                c, amount=d["amount"], on=d["on"], reference=d["reference"], user=request.user
            ),
        )

    @admin.action(description="申请核销（不再追偿）", permissions=["act"])
    def request_write_off(self, request, queryset):
        return self._run(
            request,
            queryset,
            form_class=WriteOffForm,
            action="request_write_off",
            title="申请核销",
            note="因客观原因难以追偿到位的，按程序审批后可以不再追偿（hunan 第三十五条）。",
            apply=lambda c, d: services.case_request_write_off(c, reason=d["reason"], on=d["on"], user=request.user),
        )

    @admin.action(description="审批核销", permissions=["approve"])
    def approve(self, request, queryset):
        return self._run(
            request,
            queryset,
            form_class=DecideForm,
            action="approve",
            title="审批核销",
            note="核销须由申请人以外的人员审批；核销后尚未追回的金额由统筹基金承担。",
            apply=lambda c, d: services.case_decide_write_off(
                c, approve=True, on=d["on"], note=d["note"], user=request.user
            ),
        )

    @admin.action(description="驳回核销申请（继续追偿）", permissions=["approve"])
    def reject(self, request, queryset):
        return self._run(
            request,
            queryset,
            form_class=DecideForm,
            action="reject",
            title="驳回核销申请",
            note="驳回后继续追偿。",
            apply=lambda c, d: services.case_decide_write_off(
                c, approve=False, on=d["on"], note=d["note"], user=request.user
            ),
        )
