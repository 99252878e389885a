"""Case workers' screens for the register (登记管理). Thin: validation and writes go through services."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html_join

from policy.models import Jurisdiction
from policy.resolver import Policy

from . import services
from .access import scope_queryset
from .admin_mixins import BigListMixin, BureauAdmin, SafeExportAdmin
from .models import Category, Employer, EmployerUser, EnrolmentSpan, InsuredPerson, LifeEvent, employer_id_of
from .resources import EmployerResource, PersonResource


@admin.register(Employer)
class EmployerAdmin(BigListMixin, SafeExportAdmin, BureauAdmin):
    resource_classes = [EmployerResource]
    employer_path = "pk"
    list_display = (
        "name",
        "credit_code",
        "jurisdiction",
        "kind",
        "scheme",
        "status",
        "is_difficult",
        "registered_on",
    )
    list_filter = ("jurisdiction", "kind", "scheme", "status", "is_difficult")
    search_fields = ("name", "credit_code")
    readonly_fields = ("related_pages",)
    fieldsets = (
        (
            None,
            {"fields": ("related_pages", "credit_code", "name", "jurisdiction", "kind", "management_type", "scheme")},
        ),
        ("参保", {"fields": ("registered_on", "status", "payment_frequency")}),
        ("困难企业", {"fields": ("is_difficult", "difficult_from", "difficult_until")}),
        ("联系", {"fields": ("contact_name", "contact_phone", "address")}),
    )

    @admin.display(description="相关业务")
    def related_pages(self, obj: Employer) -> str:
        return related_links(
            obj,
            (
                ("月度应缴账单", "contributions:employer_bill", [obj.pk], ""),
                ("欠费明细", "contributions:employer_arrears", [obj.pk], ""),
            ),
        )


def related_links(obj, pages) -> str:
    """Links to pages other apps provide for this object (skipped when an app does not provide one)."""
    if obj.pk is None:
        return "—"
    links = []
    for label, name, args, query in pages:
        try:
            links.append((reverse(name, args=args) + query, label))
        except NoReverseMatch:
            continue
    return format_html_join(" · ", '<a href="{}">{}</a>', links) or "—"


class _SpanFilter(admin.SimpleListFilter):
    """A person filter on their spans, as ``EXISTS`` (a join would need DISTINCT over millions of persons)."""

    field: str = ""

    def queryset(self, request, queryset):
        if self.value() not in {str(key) for key, _ in self.lookup_choices}:  # none, or not one of ours
            return queryset
        spans = EnrolmentSpan.objects.filter(person_id=OuterRef("pk"), **{self.field: self.value()})
        return queryset.filter(Exists(spans))


class SpanJurisdictionFilter(_SpanFilter):
    title = "参保统筹区"
    parameter_name = "span_jurisdiction"
    field = "jurisdiction_id"

    def lookups(self, request, model_admin):
        jurisdictions = EnrolmentSpan._meta.get_field("jurisdiction").related_model.objects.all()
        return [(j.pk, str(j)) for j in jurisdictions]


class SpanCategoryFilter(_SpanFilter):
    title = "人员类别"
    parameter_name = "span_category"
    field = "category"

    def lookups(self, request, model_admin):
        return Category.choices


class PersonForm(forms.ModelForm):
    class Meta:
        model = InsuredPerson
        fields = ("id_number", "name", "female_role", "phone", "address")

    def _post_clean(self):
        if "id_number" in self.cleaned_data:
            self.instance.id_number = self.cleaned_data["id_number"]
            try:
                services.person_derive(self.instance)
            except ValidationError as exc:
                self._update_errors(exc)
        super()._post_clean()


class SpanInline(admin.TabularInline):
    model = EnrolmentSpan
    extra = 0
    can_delete = False
    fields = ("jurisdiction", "category", "employer", "scheme", "start", "end", "status")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        # A former employer sees its own spans only, never the new employer's name.
        return scope_queryset(request.user, super().get_queryset(request), employer_path="employer_id")

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = LifeEvent
    extra = 0
    can_delete = False
    fields = (
        "kind",
        "occurred_on",
        "jurisdiction",
        "employer",
        "months",
        "other_region",
        "recorded_by",
        "recorded_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return scope_queryset(request.user, super().get_queryset(request), employer_path="employer_id")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(InsuredPerson)
class InsuredPersonAdmin(BigListMixin, SafeExportAdmin, BureauAdmin):
    resource_classes = [PersonResource]
    form = PersonForm
    person_path = "pk"
    list_display = ("name", "id_number", "sex", "birth_date", "phone", "female_role")
    list_filter = ("sex", "female_role", SpanJurisdictionFilter, SpanCategoryFilter)
    search_fields = ("=id_number", "name")
    fields = (
        "related_pages",
        "id_number",
        "name",
        "sex",
        "birth_date",
        "female_role",
        "phone",
        "address",
        "deemed_months",
        "military_months",
    )
    readonly_fields = ("related_pages", "sex", "birth_date", "deemed_months", "military_months")
    inlines = (SpanInline, EventInline)

    def get_form(self, request, obj=None, change=False, **kwargs):
        """女职工身份's help text for the person's own pooling areas (a ziyang person never reads hunan's ages)."""
        form = super().get_form(request, obj, change, **kwargs)
        if "female_role" in form.base_fields:
            form.base_fields["female_role"].help_text = female_role_help(obj, timezone.localdate())
        return form

    @admin.display(description="相关业务")
    def related_pages(self, obj: InsuredPerson) -> str:
        return related_links(
            obj,
            (
                ("缴费记录", "contributions:person_history", [obj.pk], ""),
                ("待遇享受状态及判定依据", "admin:benefits_eligibility_person", [obj.pk], ""),
                ("个人账户明细", "admin:funds_fundaccount_changelist", [], f"?q={obj.pk}"),
                ("报销记录", "admin:claims_claim_changelist", [], f"?q={obj.pk}"),
            ),
        )

    def has_change_permission(self, request, obj=None):
        """An employer user changes only their current employees (a former employer may only read)."""
        allowed = super().has_change_permission(request, obj)
        own = employer_id_of(request.user)
        if not allowed or obj is None or own is None:
            return allowed
        current = Q(end__isnull=True) | Q(end__gt=timezone.localdate())
        return obj.spans.filter(current, employer_id=own).exists()

    def get_search_results(self, request, queryset, search_term):
        # The register is millions of rows: exact 身份证号, or a name prefix (uses the index).
        term = search_term.strip()
        if len(term) == 18:
            return queryset.filter(id_number=term.upper()), False
        if term:
            return queryset.filter(name__startswith=term), False
        return queryset, False


class SpanForm(forms.ModelForm):
    class Meta:
        model = EnrolmentSpan
        fields = ("person", "jurisdiction", "category", "employer", "scheme", "start", "end", "status")

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            try:
                services.span_validate(self.instance)
            except ValidationError as exc:
                self._update_errors(exc)


@admin.register(EnrolmentSpan)
class EnrolmentSpanAdmin(BigListMixin, BureauAdmin):
    form = SpanForm
    employer_path = "employer_id"
    list_display = (
        "person",
        "person_id_number",
        "jurisdiction",
        "category",
        "employer",
        "scheme",
        "start",
        "end",
        "status",
    )
    # a date filter, not date_hierarchy: its year links need SELECT DISTINCT over every span
    list_filter = ("jurisdiction", "category", "scheme", "status", ("start", admin.DateFieldListFilter))
    raw_id_fields = ("person", "employer")
    list_select_related = ("person", "employer", "jurisdiction")


class _DryRun(Exception):
    pass


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Attach a service's field errors to the form's fields (or to the form when it has no such field)."""
    for field, messages in getattr(exc, "message_dict", {None: exc.messages}).items():
        form.add_error(field if field in form.fields else None, messages)


class LifeEventForm(forms.ModelForm):
    """Validates by running the service in a savepoint that is always rolled back."""

    class Meta:
        model = LifeEvent
        fields = (
            "person",
            "kind",
            "occurred_on",
            "jurisdiction",
            "employer",
            "months",
            "other_region",
            "note",
        )

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "person": d["person"],
            "kind": d["kind"],
            "occurred_on": d["occurred_on"],
            "jurisdiction": d["jurisdiction"],
            "employer": d.get("employer"),
            "months": d.get("months"),
            "other_region": d.get("other_region") or "",
            "note": d.get("note") or "",
        }

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            with transaction.atomic():
                services.life_event_record(**self.service_kwargs())
                raise _DryRun
        except _DryRun:
            pass
        except ValidationError as exc:
            add_service_errors(self, exc)
        return data


@admin.register(LifeEvent)
class LifeEventAdmin(BigListMixin, BureauAdmin):
    """人员变动: added once, never changed; the service applies its effect on the spans."""

    form = LifeEventForm
    person_path = "person_id"
    list_display = (
        "person",
        "kind",
        "occurred_on",
        "jurisdiction",
        "employer",
        "months",
        "reported_on",
        "report_deadline",
        "recorded_by",
        "recorded_at",
    )
    list_filter = ("kind", "jurisdiction")
    raw_id_fields = ("person", "employer")
    list_select_related = ("person", "employer", "jurisdiction", "recorded_by")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        today = timezone.localdate()  # entered on this screen today: the day it was reported (登记时限)
        event = services.life_event_record(
            **form.service_kwargs(), user=request.user, recompute_as_of=today, reported_on=today
        )
        obj.pk = event.pk


@admin.register(EmployerUser)
class EmployerUserAdmin(BureauAdmin):
    list_display = ("user", "employer")
    raw_id_fields = ("employer",)


def female_role_help(person: InsuredPerson | None, on: date) -> str:
    """The female retirement ages (retirement.age_female_cadre / _worker) of the person's pooling areas on the
    date, with their article; a new person: every area that sets them. An area whose documents are silent says
    so (the value is staff-entered, nothing is assumed)."""
    spans = EnrolmentSpan.objects.filter(person=person) if person is not None and person.pk else None
    if spans is not None:
        places = list(Jurisdiction.objects.filter(pk__in=spans.values("jurisdiction_id")).order_by("code"))
    else:
        places = list(Jurisdiction.objects.order_by("code"))
    lines = []
    for place in places:
        policy = Policy(place.code, on)
        cadre = policy.value("retirement.age_female_cadre", default=None)
        worker = policy.value("retirement.age_female_worker", default=None)
        if cadre is not None and worker is not None:
            cite = policy.citation("retirement.age_female_cadre").replace(place.code, place.name)
            lines.append(f"{place.name}退休年龄：女干部{cadre}岁、女工人{worker}岁（{cite}）")
        elif spans is not None:
            lines.append(f"{place.name}：政策文件未区分女干部、女工人的退休年龄")
    return "；".join(lines) or "用于判定女职工的法定退休年龄"
# 单位增减员申请 (issue #14): the queue's screens live with their models in enrollment.requests.
from .requests import admin as _requests_admin  # noqa: E402, F401
