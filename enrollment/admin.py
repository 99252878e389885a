"""Case workers' screens for the register (登记管理). Thin: validation and writes go through services."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html_join

from policy.models import Jurisdiction
from policy.resolver import Policy

from . import services
from .access import can_see_pii, scope_queryset
from .admin_mixins import BigListMixin, BureauAdmin, SafeExportAdmin
from .bounds import date_in_bounds
from .identifiers import mask_id_number
from .models import Category, Employer, EmployerUser, EnrolmentSpan, InsuredPerson, LifeEvent, employer_id_of
from .resources import EmployerResource, PersonResource
from .search import employer_filter, person_filter


class LateEmployerRegistrationFilter(admin.SimpleListFilter):
    """单位逾期登记 (langfang 第七条: 自成立之日起30日内): registered after the deadline from the founding date."""

    title = "单位登记是否逾期"
    parameter_name = "late_registration"

    def lookups(self, request, model_admin):
        return (("late", "逾期登记（自成立之日起超过时限）"), ("on_time", "按期登记"))

    def queryset(self, request, queryset):
        if self.value() == "late":
            return queryset.filter(registration_deadline__isnull=False, registered_on__gt=F("registration_deadline"))
        if self.value() == "on_time":
            return queryset.filter(registration_deadline__isnull=False, registered_on__lte=F("registration_deadline"))
        return queryset


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
    list_filter = ("jurisdiction", "kind", "scheme", "status", "is_difficult", LateEmployerRegistrationFilter)
    search_fields = ("name", "credit_code")  # read by get_search_results (and required by autocomplete)
    search_help_text = "单位名称任意部分，或统一社会信用代码任意4位以上片段"
    readonly_fields = ("related_pages", "registration_deadline")
    fieldsets = (
        (
            None,
            {"fields": ("related_pages", "credit_code", "name", "jurisdiction", "kind", "management_type", "scheme")},
        ),
        ("参保", {"fields": ("founded_on", "registered_on", "registration_deadline", "status", "payment_frequency")}),
        ("经济类型", {"fields": ("ownership",)}),
        ("困难企业", {"fields": ("is_difficult", "difficult_from", "difficult_until")}),
        ("联系", {"fields": ("contact_name", "contact_phone", "address")}),
    )

    def get_search_results(self, request, queryset, search_term):
        """Name fragment or credit code fragment (pg_trgm indexes on PostgreSQL); scoped by get_queryset."""
        if not search_term.strip():
            return queryset, False
        found = employer_filter(search_term)
        return (queryset.filter(found) if found is not None else queryset.none()), False

    def save_model(self, request, obj, form, change):
        """The registration deadline from the founding date (langfang 第七条) is computed, never typed."""
        services.employer_deadline_fill(obj)  # the form's clean refused a registration before the founding
        super().save_model(request, obj, form, change)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class EmployerForm(form):
            def clean(self):
                data = super().clean()
                founded, registered = data.get("founded_on"), data.get("registered_on")
                if founded and registered and registered < founded:
                    self.add_error("registered_on", f"参保登记日期 {registered} 早于单位成立日期 {founded}。")
                if founded:
                    try:
                        date_in_bounds(founded, field="founded_on", latest=timezone.localdate())
                    except ValidationError as exc:
                        self.add_error("founded_on", exc.message_dict["founded_on"])
                return data

        return EmployerForm

    @admin.display(description="相关业务")
    def related_pages(self, obj: Employer) -> str:
        return related_links(
            obj,
            (
                ("参保关系", "admin:enrollment_enrolmentspan_changelist", [], f"?employer={obj.pk}"),
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


class SpanEmployerFilter(admin.SimpleListFilter):
    """用人单位 filter of 参保关系: the employers the user may see (the first ``SHOWN`` by name, and the one
    chosen); any employer's spans open from its own page (相关业务 → 参保关系)."""

    title = "用人单位"
    parameter_name = "employer"
    SHOWN = 100

    def lookups(self, request, model_admin):
        visible = Employer.objects.visible_to(request.user).order_by("name")
        choices = [(str(pk), name) for pk, name in visible.values_list("pk", "name")[: self.SHOWN]]
        chosen = self.value()
        if chosen and chosen.isdigit() and chosen not in {pk for pk, _ in choices}:
            choices += [(str(pk), name) for pk, name in visible.filter(pk=int(chosen)).values_list("pk", "name")]
        return choices

    def queryset(self, request, queryset):
        chosen = self.value()
        if not chosen:
            return queryset
        if not chosen.isdigit() or len(chosen) > 18:
            return queryset.none()  # not an id: nothing, never an error page
        return queryset.filter(employer_id=int(chosen))


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
    list_display = ("name", "id_number", "sex", "birth_date", "phone", "female_role", "overview_link")
    list_filter = ("sex", "female_role", SpanJurisdictionFilter, SpanCategoryFilter)
    search_fields = ("=id_number", "name")  # read by get_search_results (and required by autocomplete)
    search_help_text = "身份证号任意4位以上片段、姓名任意部分或拼音首字母（如 zsf）"
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
                ("个人全景", "operations:person", [obj.pk], ""),
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

    @admin.display(description="个人全景")
    def overview_link(self, obj: InsuredPerson) -> str:
        return related_links(obj, (("查看", "operations:person", [obj.pk], ""),))

    def get_search_results(self, request, queryset, search_term):
        """The search box's rule (:mod:`enrollment.search`): 身份证号 fragment, name fragment or pinyin
        initials, each by a pg_trgm index on PostgreSQL; the queryset is already scoped (get_queryset)."""
        if not search_term.strip():
            return queryset, False
        found, message = person_filter(request.user, search_term)
        if message and not request.path.endswith("/autocomplete/"):
            messages.warning(request, message)
        return (queryset.filter(found) if found is not None else queryset.none()), False


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
    list_filter = (
        SpanEmployerFilter,
        "jurisdiction",
        "category",
        "scheme",
        "status",
        ("start", admin.DateFieldListFilter),
    )
    search_fields = ("person__name",)  # read by get_search_results
    search_help_text = "参保人员：身份证号任意4位以上片段、姓名任意部分或拼音首字母"
    autocomplete_fields = ("person", "employer")
    list_select_related = ("person", "employer", "jurisdiction")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if gap := services.enrolment_check_gap(obj):  # a value the age rule needs is staff-entered and missing
            messages.warning(request, gap)

    def get_search_results(self, request, queryset, search_term):
        """The person, by the search box's rule (:func:`enrollment.search.person_filter`)."""
        if not search_term.strip():
            return queryset, False
        found, message = person_filter(request.user, search_term)
        if message:
            messages.warning(request, message)
        if found is None:
            return queryset.none(), False
        return queryset.filter(person__in=InsuredPerson.objects.filter(found).values("pk")), False


class _DryRun(Exception):
    pass


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Attach a service's field errors to the form's fields (or to the form when it has no such field)."""
    for field, texts in getattr(exc, "message_dict", {None: exc.messages}).items():
        form.add_error(field if field in form.fields else None, texts)


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
    autocomplete_fields = ("person", "employer")
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
        span = event.person.spans.filter(start=event.occurred_on).first() if event.kind == "hire" else None
        if span is not None and (gap := services.enrolment_check_gap(span)):
            messages.warning(request, gap)


@admin.register(EmployerUser)
class EmployerUserAdmin(BureauAdmin):
    list_display = ("user", "employer")
    autocomplete_fields = ("employer",)


class NamedAutocompleteJsonView(AutocompleteJsonView):
    """人员、单位选择框 (autocomplete): a person shows as 姓名（身份证号, masked without the PII permission）,
    an employer as 名称（统一社会信用代码）. The rows are the target admin's own (scope rule and search)."""

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        if isinstance(obj, InsuredPerson):
            shown = obj.id_number if can_see_pii(self.request.user) else mask_id_number(obj.id_number)
            result["text"] = f"{obj.name}（{shown}）"
        elif isinstance(obj, Employer):
            result["text"] = f"{obj.name}（{obj.credit_code}）"
        return result


def _autocomplete_view(request):
    return NamedAutocompleteJsonView.as_view(admin_site=admin.site)(request)


admin.site.autocomplete_view = _autocomplete_view  # read when the admin's URLs are built (after autodiscover)


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

# 城乡居民参保户与户内成员 (issue #15): screens in enrollment.residents.
from .residents import admin as _residents_admin  # noqa: E402, F401
