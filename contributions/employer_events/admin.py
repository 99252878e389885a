"""单位变动 screens: the case worker records a merger, split, transfer, bankruptcy or closure through the service
(one transaction; a refusal is a field message and writes nothing); the auditor reads; an employer user sees the
events of its own employer (as the predecessor or the successor). Events are facts: never edited or deleted."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.template.response import TemplateResponse
from django.utils import timezone

from enrollment.admin_mixins import BureauAdmin, SafeExportAdmin, ServiceRunForm, ServiceWrittenAdmin
from enrollment.bounds import date_in_bounds
from enrollment.models import employer_id_of
from policy.resolver import PolicyError

from . import services
from .models import EmployerEvent, EmployerEventDueMove, ReserveStatus

DATE = forms.DateInput(attrs={"type": "date"})
#: 退职人员人数: bounded (a headcount of one employer).
RESIGNED_MAX = 100_000


class EmployerEventForm(ServiceRunForm):
    """Runs :func:`services.employer_event_apply` in ``clean`` (inside the admin's transaction)."""

    class Meta:
        model = EmployerEvent
        fields = (
            "employer",
            "kind",
            "occurred_on",
            "reported_on",
            "successor",
            "trustee",
            "moved_persons",
            "resigned_count",
            "note",
        )
        widgets = {"occurred_on": DATE, "reported_on": DATE}

    def _date(self, name: str):
        value = self.cleaned_data.get(name)
        if value is None:
            return value
        try:
            return date_in_bounds(value, field=name, latest=timezone.localdate())
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict[name]) from None

    def clean_occurred_on(self):
        return self._date("occurred_on")

    def clean_reported_on(self):
        return self._date("reported_on")

    def clean_resigned_count(self):
        n = self.cleaned_data.get("resigned_count") or 0
        if n > RESIGNED_MAX:
            raise forms.ValidationError(f"退职人员人数不能超过 {RESIGNED_MAX}。")
        return n

    def clean_note(self):
        note = self.cleaned_data.get("note") or ""
        if len(note) > 2000:
            raise forms.ValidationError("说明不能超过 2000 个字符。")
        return note

    def run(self, data):
        return services.employer_event_apply(
            employer=data["employer"],
            kind=data["kind"],
            occurred_on=data["occurred_on"],
            reported_on=data.get("reported_on"),
            successor=data.get("successor"),
            trustee=data.get("trustee"),
            moved_persons=list(data.get("moved_persons") or []),
            resigned_count=data.get("resigned_count") or 0,
            note=data.get("note") or "",
            user=self.user,
            as_of=timezone.localdate(),
        )


class LateReportFilter(admin.SimpleListFilter):
    """逾期申报 (langfang 第八条: 变更、终止之日起30日内): reported after the deadline recorded with the event."""

    title = "变更注销是否逾期申报"
    parameter_name = "late_report"

    def lookups(self, request, model_admin):
        return (("late", "逾期申报"),)

    def queryset(self, request, queryset):
        if self.value() == "late":
            return queryset.filter(report_deadline__isnull=False, reported_on__gt=F("report_deadline"))
        return queryset


class ReservePaidForm(forms.Form):
    paid_on = forms.DateField(label="缴纳（到账）日期", widget=DATE)


class DueMoveInline(admin.TabularInline):
    """欠费转移记录: each due the successor took over (read-only)."""

    model = EmployerEventDueMove
    extra = 0
    can_delete = False
    fields = ("due", "from_employer", "to_employer", "unpaid_principal", "unpaid_late_fee")
    readonly_fields = fields
    max_num = 0
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EmployerEvent)
class EmployerEventAdmin(ServiceWrittenAdmin, SafeExportAdmin, BureauAdmin):
    """单位变动（合并、分立、转制、破产、关闭注销）: langfang 第二十七条、第二十八条, sanmenxia 第二十条,
    ziyang 第三十六条(五), hunan 第二十四条."""

    form = EmployerEventForm
    history_revert = False
    list_display = (
        "employer",
        "kind",
        "occurred_on",
        "successor",
        "trustee",
        "dues_moved",
        "moved_principal",
        "moved_late_fee",
        "arrears_principal",
        "arrears_late_fee",
        "reserve_amount",
        "reserve_status",
        "reported_on",
        "report_deadline",
    )
    list_filter = ("jurisdiction", "kind", "reserve_status", LateReportFilter)
    search_fields = ("employer__name", "employer__credit_code", "successor__name")
    autocomplete_fields = ("employer", "successor", "trustee", "moved_persons")
    list_select_related = ("employer", "successor", "trustee", "jurisdiction")
    inlines = [DueMoveInline]
    actions = ["reserve_paid"]
    readonly_fields = (
        "jurisdiction",
        "report_deadline",
        "dues_moved",
        "moved_principal",
        "moved_late_fee",
        "spans_moved",
        "spans_closed",
        "retirees_handed",
        "arrears_principal",
        "arrears_late_fee",
        "reserve_persons",
        "reserve_per_person",
        "reserve_amount",
        "reserve_status",
        "reserve_paid_on",
        "ledger_entry_id",
        "ledger_note",
        "rules",
        "recorded_by",
        "recorded_at",
    )

    def scope(self, request, qs):
        """An employer user sees the events where its employer is the predecessor or the successor."""
        employer_id = employer_id_of(request.user)
        if employer_id is None:
            return qs
        return qs.filter(Q(employer_id=employer_id) | Q(successor_id=employer_id))

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(EmployerEventForm.Meta.fields)
        return [*EmployerEventForm.Meta.fields, *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return [*EmployerEventForm.Meta.fields, *self.readonly_fields]

    def has_add_permission(self, request):
        return employer_id_of(request.user) is None and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return False  # an event is a fact; a correction is a new event

    def has_delete_permission(self, request, obj=None):
        return False

    def has_pay_permission(self, request) -> bool:
        return employer_id_of(request.user) is None and request.user.has_perm("contributions.add_employerevent")

    @admin.action(description="登记预留医保费已缴纳", permissions=["pay"])
    def reserve_paid(self, request, queryset):
        form = ReservePaidForm(request.POST if "apply" in request.POST else None)
        rows = queryset.filter(reserve_status=ReserveStatus.BILLED)
        if "apply" in request.POST and form.is_valid():
            done = 0
            for event in rows:
                try:
                    services.closure_reserve_paid(
                        event, paid_on=form.cleaned_data["paid_on"], as_of=timezone.localdate(), user=request.user
                    )
                    done += 1
                except (ValidationError, PolicyError) as exc:
                    text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                    self.message_user(request, f"{event}：{text}", messages.ERROR)
            self.message_user(
                request, f"已登记 {done} 笔预留医保费到账。", messages.SUCCESS if done else messages.WARNING
            )
            return None
        return TemplateResponse(
            request,
            "admin/registers/action_form.html",
            {
                **self.admin_site.each_context(request),
                "title": "登记预留医保费已缴纳",
                "opts": self.model._meta,
                "objects": rows,
                "form": form,
                "note": "记账：银行存款（财政专户）增加，应收款减少。",
                "action": "reserve_paid",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )
