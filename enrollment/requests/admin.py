"""增减员申请的画面: the employer's submit form and file upload, the case workers' queue (filters, counts,
受理/审核/办结/退回), attachment downloads and the late-registration list. Thin: every write is a service in
:mod:`enrollment.requests.services`; every row comes through the one scope rule (``get_queryset``)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from policy.models import Jurisdiction
from policy.resolver import Policy

from ..access import can_see_pii, is_bureau, require_bureau
from ..admin_mixins import BigListMixin, BureauAdmin, SafeAutocompleteSelect
from ..bounds import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS
from ..calculations.enrolment_checks import DUAL
from ..models import Employer, employer_id_of
from . import services
from .files import FileRejected, template_xlsx
from .models import OPEN_STATES, EmployerRequest, RequestAttachment, RequestState
from .selectors import dual_enrolments, late_registrations, requests_by_state


def _today():
    return timezone.localdate()


def _dual_jurisdictions() -> list[str]:
    """Jurisdictions whose document forbids employee and resident insurance at once (hunan 第十六条), today."""
    codes = Jurisdiction.objects.values_list("code", flat=True)
    return [c for c in codes if Policy(c, _today()).value(DUAL, None)]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(d, initial) for d in items]


class RequestForm(forms.ModelForm):
    """单笔申报: checked by the service (the same checks as a file row and as the approval)."""

    attachments = MultipleFileField(
        label="附件",
        required=False,
        help_text=f"PDF、JPG、PNG，每个不超过 {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB，最多 {MAX_ATTACHMENTS} 个",
    )

    class Meta:
        model = EmployerRequest
        fields = (
            "employer",
            "kind",
            "id_number",
            "name",
            "female_role",
            "phone",
            "occurred_on",
            "monthly_wage",
            "note",
        )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        own = employer_id_of(user)
        if own is not None and "employer" in self.fields:
            # 单位经办员: the request is their own employer's; no choice offered
            del self.fields["employer"]
        elif "employer" in self.fields:
            self.fields["employer"].queryset = Employer.objects.visible_to(user)
        if "monthly_wage" in self.fields:
            self.fields["monthly_wage"].help_text = "工资变更必填；增员可填（作为起薪当月工资申报）"

    def employer(self) -> Employer | None:
        own = employer_id_of(self.user)
        if own is not None:
            return Employer.objects.filter(pk=own).first()
        return self.cleaned_data.get("employer")

    def service_input(self) -> services.RequestInput:
        d = self.cleaned_data
        return services.RequestInput(
            kind=d["kind"],
            id_number=d["id_number"],
            name=d["name"],
            occurred_on=d.get("occurred_on"),
            female_role=d.get("female_role") or "",
            phone=d.get("phone") or "",
            monthly_wage=d.get("monthly_wage"),
            note=d.get("note") or "",
        )

    def _post_clean(self):
        # the service checks the request (the model's own clean would want the read-only fields)
        if self.errors:
            return
        employer = self.employer()
        if employer is None:
            self.add_error("employer" if "employer" in self.fields else None, "请选择用人单位。")
            return
        try:
            for upload in self.cleaned_data.get("attachments") or []:
                services.attachment_check(upload)
            if len(self.cleaned_data.get("attachments") or []) > MAX_ATTACHMENTS:
                raise ValidationError({"attachments": f"附件最多 {MAX_ATTACHMENTS} 个。"})
            services.request_check(employer, self.service_input(), on=_today())
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, msgs)


class OverdueFilter(admin.SimpleListFilter):
    """逾期申报: reported after the registration deadline (hunan 第十七条, langfang 第十条, sanmenxia 第十六条)."""

    title = "逾期申报"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", "逾期申报"), ("no", "按期申报"))

    def queryset(self, request, queryset):
        late = Q(report_deadline__isnull=False, submitted_on__gt=F("report_deadline"))
        if self.value() == "yes":
            return queryset.filter(late)
        if self.value() == "no":
            return queryset.exclude(late)
        return queryset


class OpenFilter(admin.SimpleListFilter):
    title = "是否办结"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return (("yes", "待办"), ("no", "已办结或退回"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(state__in=OPEN_STATES)
        if self.value() == "no":
            return queryset.exclude(state__in=OPEN_STATES)
        return queryset


class AttachmentInline(admin.TabularInline):
    model = RequestAttachment
    extra = 0
    can_delete = False
    fields = ("download", "size", "uploaded_at")
    readonly_fields = fields

    @admin.display(description="附件")
    def download(self, obj: RequestAttachment) -> str:
        url = reverse("admin:enrollment_employerrequest_attachment", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.original_name)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EmployerRequest)
class EmployerRequestAdmin(BigListMixin, BureauAdmin):
    """增减员申请 queue: employers submit; case workers 受理 → 审核 → 办结 or 退回 (the buttons on the page)."""

    form = RequestForm
    autocomplete_fields = ("employer",)  # 用人单位选择框 by name (issue #19 item 4)
    employer_path = "employer_id"
    history_revert = False  # moved by its services only
    list_display = (
        "id",
        "kind",
        "name",
        "id_number",
        "employer",
        "jurisdiction",
        "occurred_on",
        "submitted_on",
        "state",
        "days_open",
        "late",
        "return_reason",
    )
    list_filter = (
        "state",
        OpenFilter,
        "kind",
        OverdueFilter,
        "jurisdiction",
        ("employer", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("employer", "jurisdiction")
    search_fields = ("=id_number", "name")
    inlines = (AttachmentInline,)
    readonly_fields = (
        "state",
        "return_reason",
        "checks",
        "employer",
        "jurisdiction",
        "source",
        "submitted_on",
        "submitted_by",
        "report_deadline",
        "accepted_at",
        "reviewed_at",
        "closed_at",
        "handled_by",
        "person",
        "event",
    )
    change_form_template = "admin/enrollment/employerrequest/change_form.html"
    change_list_template = "admin/enrollment/employerrequest/change_list.html"

    # --- list columns --------------------------------------------------------------------------------

    @admin.display(description="已办天数")
    def days_open(self, obj: EmployerRequest) -> int:
        return obj.days_open(_today())

    @admin.display(description="逾期申报", boolean=True)
    def late(self, obj: EmployerRequest) -> bool:
        return obj.is_late

    @admin.display(description="核查提示")
    def checks(self, obj: EmployerRequest) -> str:
        flags = services.request_flags(obj) if obj.pk else []
        return format_html_join("", "<p>{}</p>", ((f,) for f in flags)) or "—"

    def changelist_view(self, request, extra_context=None):
        counts = requests_by_state(request.user)
        context = {
            "request_counts": [(label, counts.get(value, 0), value) for value, label in RequestState.choices],
            "request_links": self._links(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def _links(self, request) -> list[tuple[str, str]]:
        links = []
        if self.has_add_permission(request):
            links.append(("文件批量申报", reverse("admin:enrollment_employerrequest_upload")))
        if is_bureau(request.user):
            links.append(("逾期登记清单", reverse("admin:enrollment_employerrequest_late")))
        return links

    # --- fields per role ---------------------------------------------------------------------------------

    def get_fields(self, request, obj=None):
        fields = self._fields(request, obj)
        if obj is not None and not can_see_pii(request.user):
            fields = [{"id_number": "masked_id_number", "phone": "masked_phone"}.get(f, f) for f in fields]
        return fields

    def _fields(self, request, obj=None):
        if obj is None:
            fields = ["kind", "id_number", "name", "female_role", "phone", "occurred_on", "monthly_wage", "note"]
            if employer_id_of(request.user) is None:
                fields.insert(0, "employer")
            return [*fields, "attachments"]
        return [
            "state",
            "return_reason",
            "checks",
            "kind",
            "employer",
            "jurisdiction",
            "id_number",
            "name",
            "female_role",
            "phone",
            "occurred_on",
            "monthly_wage",
            "note",
            "source",
            "submitted_on",
            "submitted_by",
            "report_deadline",
            "accepted_at",
            "reviewed_at",
            "closed_at",
            "handled_by",
            "person",
            "event",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return self.get_fields(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        user = request.user

        class FormWithUser(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, user=user, **kw)

        return FormWithUser

    def has_change_permission(self, request, obj=None):
        return False  # a request moves through the queue's buttons, never by editing it

    def has_delete_permission(self, request, obj=None):
        return False

    def has_act_permission(self, request) -> bool:
        return is_bureau(request.user) and request.user.has_perm("enrollment.change_employerrequest")

    def save_model(self, request, obj, form, change):
        req = services.request_submit(
            employer=form.employer(),
            data=form.service_input(),
            on=_today(),
            user=request.user,
            attachments=form.cleaned_data.get("attachments") or [],
        )
        obj.pk = req.pk

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def construct_change_message(self, request, form, formsets, add=False):
        return ""

    def save_related(self, request, form, formsets, change):
        pass  # the service wrote the request and its attachments

    def log_addition(self, request, obj, message):
        return None  # the request's own history records who submitted it

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["request_obj"] = obj
            context["can_act"] = self.has_act_permission(request) and obj.is_open
            context["next_step"] = {
                RequestState.SUBMITTED: ("accept", "受理"),
                RequestState.ACCEPTED: ("review", "审核通过"),
                RequestState.REVIEWED: ("approve", "办结（生效）"),
            }.get(obj.state)
            context["days_open"] = obj.days_open(_today())
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- extra pages ---------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/act/", view(self.act_view), name="enrollment_employerrequest_act"),
            path("attachment/<int:pk>/", view(self.attachment_view), name="enrollment_employerrequest_attachment"),
            path("upload/", view(self.upload_view), name="enrollment_employerrequest_upload"),
            path("upload/template/", view(self.template_view), name="enrollment_employerrequest_template"),
            path("late/", view(self.late_view), name="enrollment_employerrequest_late"),
            *super().get_urls(),
        ]

    def act_view(self, request, object_id):
        """受理 / 审核 / 办结 / 退回: POST only, case workers (经办人员) only, on a request they may see."""
        if request.method != "POST":
            return HttpResponse(status=405)
        if not self.has_act_permission(request):
            raise PermissionDenied
        if not str(object_id).isdigit():
            raise Http404
        req = get_object_or_404(self.get_queryset(request), pk=object_id)
        action = request.POST.get("action", "")
        back = redirect(reverse("admin:enrollment_employerrequest_change", args=[req.pk]))
        steps = {
            "accept": lambda: services.request_accept(req, user=request.user),
            "review": lambda: services.request_review(req, user=request.user),
            "approve": lambda: services.request_approve(req, user=request.user, on=_today()),
            "return": lambda: services.request_return(req, user=request.user, reason=request.POST.get("reason", "")),
        }
        if action not in steps:
            messages.error(request, "请选择办理操作（受理、审核、办结或退回）。")
            return back
        try:
            done = steps[action]()
        except ValidationError as exc:
            text = "；".join(m for msgs in getattr(exc, "message_dict", {"": exc.messages}).values() for m in msgs)
            messages.error(request, f"无法办理：{text}")
            return back
        messages.success(request, f"申请 {done.pk} 现为“{done.get_state_display()}”。")
        return back

    def attachment_view(self, request, pk: int):
        """附件下载: only an attachment of a request the user may see (the one scope rule)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method != "GET":
            return HttpResponse(status=405)
        attachment = get_object_or_404(
            RequestAttachment.objects.filter(request__in=self.get_queryset(request).values("pk")), pk=pk
        )
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, OSError):
            return HttpResponse("附件文件不存在。".encode(), status=404, content_type="text/plain; charset=utf-8")
        return FileResponse(handle, as_attachment=True, filename=attachment.original_name)

    def template_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        response = HttpResponse(
            template_xlsx(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = 'attachment; filename="requests_template.xlsx"'
        return response

    def upload_view(self, request):
        """文件批量申报: all rows or none, with each bad row's field and message."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        own = employer_id_of(request.user)
        employers = Employer.objects.visible_to(request.user)
        picker = forms.ModelChoiceField(
            employers,
            label="用人单位",
            widget=SafeAutocompleteSelect(EmployerRequest._meta.get_field("employer"), self.admin_site),
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "文件批量申报增减员",
            "errors": [],
            "choose_employer": own is None,
            # 用人单位选择框 by name (issue #19 item 4): the same autocomplete as the admin's employer fields
            "employer_picker": picker.widget.render("employer", request.POST.get("employer"), {"id": "id_employer"})
            if own is None
            else "",
            "picker_media": picker.widget.media,
            "template_url": reverse("admin:enrollment_employerrequest_template"),
        }
        if request.method == "POST":
            upload = request.FILES.get("file")
            employer = (
                employers.filter(pk=own).first()
                if own is not None
                else employers.filter(pk=request.POST.get("employer") or 0).first()
                if (request.POST.get("employer") or "").isdigit()
                else None
            )
            if employer is None:
                context["errors"] = ["请选择用人单位。"]
            elif upload is None:
                context["errors"] = ["请选择文件。"]
            else:
                try:
                    created = services.requests_submit_file(
                        employer=employer, data=upload.read(), name=upload.name, on=_today(), user=request.user
                    )
                except FileRejected as exc:
                    context["errors"] = [str(exc)]
                except services.FileErrors as exc:
                    context["errors"] = [str(e) for e in exc.errors]
                else:
                    messages.success(request, f"已提交 {len(created)} 笔申请。")
                    return redirect(reverse("admin:enrollment_employerrequest_changelist"))
        return TemplateResponse(request, "admin/enrollment/employerrequest/upload.html", context)

    def late_view(self, request):
        """逾期登记清单: hires and separations reported after the deadline, for case workers."""
        require_bureau(request, "enrollment.view_lifeevent")
        events = late_registrations(request.user).select_related("person", "employer", "jurisdiction")
        code = request.GET.get("jurisdiction", "")
        if code:
            events = events.filter(jurisdiction__code=code)
        rows = [
            {"event": e, "days_late": (e.reported_on - e.report_deadline).days}
            for e in events.order_by("-reported_on", "-id")[:500]
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "逾期登记清单（超过登记时限申报的增员、减员）",
            "rows": rows,
            "count": events.count(),
            "jurisdictions": Jurisdiction.objects.order_by("code"),
            "selected": code,
            "citations": "湖南第十七条、廊坊第十条（第七条、第八条）、三门峡第十六条：自变动之日起30日内办理",
            "dual": dual_enrolments(request.user, jurisdictions=_dual_jurisdictions())
            .select_related("person", "employer", "jurisdiction")
            .order_by("person_id")[:200],
        }
        return TemplateResponse(request, "admin/enrollment/employerrequest/late.html", context)


__all__ = ["EmployerRequestAdmin"]
