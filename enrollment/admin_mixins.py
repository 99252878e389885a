"""Admin building blocks shared by every app: employer scoping, PII masking, history, safe exports, and
lists of millions of rows.

Every ModelAdmin of the project inherits :class:`BureauAdmin` (scope + masking + scoped history), so
every way into a record — list, form, history list, history detail and revert, export, actions — goes
through the one scope rule (:func:`enrollment.access.scope_queryset`) and Django's permissions.
"""

from __future__ import annotations

import json

from django import forms, http
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import OperationalError, connections, transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext
from import_export.admin import ExportMixin
from import_export.formats import base_formats
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from policy.resolver import PolicyError

from .access import can_see_pii, scope_queryset
from .identifiers import mask_id_number, mask_phone
from .resources import SafeExportResource, safe_resource_for

__all__ = ["BureauAdmin", "EmployerScopedAdmin", "PiiMaskingAdmin", "SafeExportAdmin", "can_see_pii"]


class CappedCountPaginator(Paginator):
    """分页计数封顶: counts at most ``CAP`` rows, unordered (``SELECT COUNT(*) FROM (SELECT … LIMIT CAP)``).

    The list's ORDER BY is dropped before counting (a count needs no sort; keeping it made PostgreSQL sort
    millions of dues, spilling to disk), and so are its joins for display (``select_related``). A list of
    millions opens at once and shows ``CAP`` rows; a filter or a search narrows it to an exact count.
    On PostgreSQL the count may take ``TIMEOUT_MS`` at most; past that (a filter matching many rows through
    a join, say) the planner's estimate of the row count stands in for it, capped the same way.
    """

    CAP = 100_000
    TIMEOUT_MS = 50

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            return len(rows)
        rows = rows.order_by().select_related(None)
        connection = connections[rows.db]
        if connection.vendor != "postgresql":
            return rows[: self.CAP].count()
        try:
            # the timeout is set for this savepoint only: restored after, rolled back with it when cancelled
            with transaction.atomic(using=rows.db), connection.cursor() as cur:
                cur.execute("SELECT current_setting('statement_timeout')")
                previous = cur.fetchone()[0]
                cur.execute("SELECT set_config('statement_timeout', %s, true)", [f"{self.TIMEOUT_MS}ms"])
                count = rows[: self.CAP].count()
                cur.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
                return count
        except OperationalError:  # cancelled: estimate
            return min(self.CAP, _planned_rows(rows))


def _planned_rows(rows: QuerySet) -> int:
    """PostgreSQL's estimate of the number of rows of ``rows`` (EXPLAIN, nothing run)."""
    sql, params = rows.query.sql_with_params()
    with connections[rows.db].cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cur.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


class BigListMixin:
    """大表列表: no second, unfiltered full count (``show_full_result_count``), and the capped count.

    Put it first among an admin's bases. Every list over a table that grows with the population uses it;
    the indexes behind each list's default order are in the models' ``Meta.indexes``.
    """

    show_full_result_count = False
    paginator = CappedCountPaginator
    #: no "显示计数" link: it counts every choice of every filter over the whole table (millions of rows) per click
    show_facets = admin.ShowFacets.NEVER
    #: 50 rows a page, as the dues and accounts lists always had: each row costs ~1 ms of Python on a loaded
    #: 2-core host (a cell through Django's display, escaping and the results template), and a page of 100
    #: spent 60 % of its time there (issue #13: every list under 300 ms at a million persons)
    list_per_page = 50
    #: columns the list never shows and that cost to read (a claim's 计算步骤 JSON): left out of the list's rows
    list_defer: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        base = super().get_changelist(request, **kwargs)
        defer = self.list_defer
        if not defer:
            return base

        class DeferringChangeList(base):
            def get_queryset(self, request, exclude_parameters=None):
                return super().get_queryset(request, exclude_parameters).defer(*defer)

        return DeferringChangeList


class RowCheapChangeList(ChangeList):
    """列表逐行开销: what Django's list works out anew for every row, worked out once a page (issue #13).

    Each row's link to its record is the page's one ``reverse`` with the row's id put in (an integer key; any
    other goes Django's way), and carries the kept filters (``_changelist_filters``) already: Django's row loop
    adds them to each link with ``add_preserved_filters``, which resolves the link against every URL pattern
    (≈0.2 ms a row, more on a loaded host) only to learn it is not the list's own. Given them here, the loop
    sees no filters to keep (``preserved_filters`` empty) and leaves the link as it is: the same link, without
    the per-row resolve.
    """

    _ID = "00000000000000000000"  # stands for the row's id in the page's one reversed link

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept_filters, self.preserved_filters = self.preserved_filters, ""

    @cached_property
    def _row_url(self) -> tuple[str, str]:
        """The change link with ``_ID`` for the id, and the kept filters' query (Django's own function, once)."""
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=(self._ID,),
            current_app=self.model_admin.admin_site.name,
        )
        query = add_preserved_filters({"preserved_filters": self.kept_filters, "opts": self.opts}, url)
        return url, query[len(url) :]

    def url_for_result(self, result) -> str:
        pk = getattr(result, self.pk_attname)
        if type(pk) is not int:  # a string key (or a bool): Django's way
            url = super().url_for_result(result)
            return add_preserved_filters({"preserved_filters": self.kept_filters, "opts": self.opts}, url)
        url, query = self._row_url
        return url.replace(self._ID, str(pk), 1) + query


class RowCheapAdmin(admin.ModelAdmin):
    """Every list through :class:`RowCheapChangeList`, and its rows' checkboxes written, not rendered."""

    def get_changelist(self, request, **kwargs):
        return RowCheapChangeList

    def action_checkbox(self, obj):
        """Django's checkbox of a row (the same HTML), without rendering a form widget's template per row."""
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )


class EmployerScopedAdmin(admin.ModelAdmin):
    """Restricts an employer user to their own employer's rows (bureau staff see all).

    ``employer_path`` is the lookup from the model to the employer id (e.g.
    ``"employer_id"``); ``person_path`` the lookup to the person for person-owned
    rows, visible when the person has a span at the employer; ``months_path`` the row's date, visible
    only in the months of that span. No path: an employer user sees nothing.
    """

    employer_path: str | None = None
    person_path: str | None = None
    months_path: str | None = None

    def scope(self, request, qs):
        return scope_queryset(
            request.user,
            qs,
            employer_path=self.employer_path,
            person_path=self.person_path,
            months_path=self.months_path,
        )

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))


class PersonSearchMixin:
    """搜索参保人员: the search box of a person-owned list, each way by an index.

    A number (shorter than 18 digits) is the person's id (the person page links to lists so), 18 characters
    a 身份证号 (exact), anything else a 姓名 prefix (``person_name_prefix``) or, when ``search_exact`` names
    fields, an exact value of one of them (e.g. a 业务流水号). ``search_person_path`` is the lookup to the
    person (a relation, not the scope rule's ``person_path``).
    Substring search (``LIKE '%…%'``) would read every row of a table of millions. The persons a name prefix
    finds are looked up first (up to ``NAME_MATCH_LIMIT``) and the list filtered by their ids: a name test
    through the join, OR-ed with an exact field, would make the database read the whole list (issue #13).
    """

    NAME_MATCH_LIMIT = 1000
    search_person_path = "person"
    search_exact: tuple[str, ...] = ()

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        p = self.search_person_path
        if term.isdigit() and len(term) < 18:
            return queryset.filter(**{f"{p}__pk": int(term)}), False
        if len(term) == 18:
            return queryset.filter(**{f"{p}__id_number": term.upper()}), False
        from .models import InsuredPerson

        ids = list(
            InsuredPerson.objects.filter(name__startswith=term).values_list("pk", flat=True)[
                : self.NAME_MATCH_LIMIT + 1
            ]
        )
        # a common prefix (more persons than the limit): the join, whose rows come early in the list's order
        found = (
            Q(**{f"{p}__pk__in": ids}) if len(ids) <= self.NAME_MATCH_LIMIT else Q(**{f"{p}__name__startswith": term})
        )
        for field in self.search_exact:
            found |= Q(**{field: term})
        return queryset.filter(found), False


_MASKED = {
    "id_number": "masked_id_number",
    "phone": "masked_phone",
    "person_id_number": "masked_person_id_number",
}


class PiiMaskingAdmin(admin.ModelAdmin):
    """Shows 身份证号 and phone masked, in lists and forms, to users without the PII permission."""

    @admin.display(description="身份证号")
    def masked_id_number(self, obj) -> str:
        return mask_id_number(obj.id_number)

    @admin.display(description="联系电话")
    def masked_phone(self, obj) -> str:
        return mask_phone(obj.phone)

    @admin.display(description="身份证号", ordering="person__id_number")
    def person_id_number(self, obj) -> str:
        return obj.person.id_number

    @admin.display(description="身份证号")
    def masked_person_id_number(self, obj) -> str:
        return mask_id_number(obj.person.id_number)

    def get_list_display(self, request):
        fields = super().get_list_display(request)
        return fields if can_see_pii(request.user) else [_MASKED.get(f, f) for f in fields]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if can_see_pii(request.user) else [_MASKED.get(f, f) for f in fields]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not can_see_pii(request.user):
            fields += [m for m in _MASKED.values() if m not in fields]
        return fields


#: Fields holding PII, masked wherever a value is shown to a user without the PII permission.
PII_MASKS = {"id_number": mask_id_number, "phone": mask_phone}


class _MaskedHistoryHelper(HistoricalRecordContextHelper):
    """History list deltas with 身份证号/phone masked (users without the PII permission)."""

    def prepare_delta_change_value(self, change, value):
        mask = PII_MASKS.get(change.field)
        if mask is not None:
            return mask(str(value or ""))
        return super().prepare_delta_change_value(change, value)


#: The largest id a bigint column holds: a posted id past it is no id at all.
_MAX_ID = 2**63 - 1


class SafeAutocompleteSelect(AutocompleteSelect):
    """The picker (autocomplete) re-showing a posted value: a value that is not an id of the target (``abc``,
    ``1; DROP TABLE x``, 40 digits) is dropped before the lookup, so the form re-shows its field error
    instead of failing (Django's widget queries with the raw value)."""

    def _is_id(self, value) -> bool:
        try:
            python = self.field.target_field.to_python(value)
        except ValidationError:
            return False
        return not isinstance(python, int) or abs(python) <= _MAX_ID

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if self._is_id(v)], attr)


class SafeAutocompleteAdmin(admin.ModelAdmin):
    """Person and employer pickers (``autocomplete_fields``) through :class:`SafeAutocompleteSelect`."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class BureauAdmin(SafeAutocompleteAdmin, RowCheapAdmin, PiiMaskingAdmin, EmployerScopedAdmin, SimpleHistoryAdmin):
    """The base of every ModelAdmin: employer scope, PII masking, and history through the same rules.

    - history list and history detail open only for a record the user may see (``get_queryset``);
    - a revert (POST on the history detail) needs the change permission (HTTP 403 otherwise), and a
      view-only role gets the history detail read-only;
    - models without history keep Django's own history page;
    - ``history_revert = False`` where writes go through a service's state machine (a claim, a clearance
      case): their history is read-only for everyone.
    """

    history_revert: bool = True

    @property
    def _has_history(self) -> bool:
        return hasattr(self.model._meta, "simple_history_manager_attribute")

    @property
    def object_history_template(self):
        return SimpleHistoryAdmin.object_history_template if self._has_history else None

    def get_urls(self):
        if not self._has_history:
            return admin.ModelAdmin.get_urls(self)
        return super().get_urls()

    def _visible_or_404(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise http.Http404
        return obj

    def history_view(self, request, object_id, extra_context=None):
        if not self._has_history:
            return admin.ModelAdmin.history_view(self, request, object_id, extra_context)
        obj = self._visible_or_404(request, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)

    def get_historical_record_context_helper(self, request, historical_record):
        if can_see_pii(request.user):
            return super().get_historical_record_context_helper(request, historical_record)
        return _MaskedHistoryHelper(self.model, historical_record)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        obj = self._visible_or_404(request, object_id)
        may_change = self.history_revert and self.has_change_permission(request, obj)
        if request.method == "POST" and not may_change:
            raise PermissionDenied
        if not (may_change or self.has_view_permission(request, obj)):
            raise PermissionDenied
        history = getattr(self.model, self.model._meta.simple_history_manager_attribute)
        get_object_or_404(history.filter(**{self.model._meta.pk.attname: obj.pk}), history_id=version_id)
        if not may_change:
            request._bureau_history_readonly = True  # every field shown read-only
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return not self.history_revert or super().revert_disabled(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if getattr(request, "_bureau_history_readonly", False) and not getattr(request, "_bureau_computing", False):
            request._bureau_computing = True
            try:
                shown = flatten_fieldsets(self.get_fieldsets(request, obj))
            finally:
                request._bureau_computing = False
            fields += [f for f in shown if f not in fields]
        return fields


class SafeExportAdmin(ExportMixin):
    """Exports (.xlsx, .csv) through :class:`enrollment.resources.SafeExportResource`: scoped by
    ``get_queryset``, cells neutralised, PII masked for roles without the permission; an unknown filter
    in the URL gives HTTP 400, never 500."""

    export_formats = [base_formats.XLSX, base_formats.CSV]

    def get_export_resource_classes(self, request):

        classes = super().get_export_resource_classes(request)
        return [c if issubclass(c, SafeExportResource) else safe_resource_for(self.model, c) for c in classes]

    def get_export_resource_kwargs(self, request, **kwargs):
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}

    def has_export_permission(self, request):
        return self.has_view_or_change_permission(request)

    def export_action(self, request):
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            message = "导出条件无效：请从列表页面重新筛选后导出。"
            return http.HttpResponseBadRequest(message.encode(), content_type="text/plain; charset=utf-8")


def service_errors_to_form(form, exc: Exception) -> None:
    """A service's refusal onto the form: field errors where the service named a field, else the form's own."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))


class ServiceRunForm(forms.ModelForm):
    """A form that runs its service in ``clean`` (inside the admin's transaction): the refusal is a field message.
    Subclasses define ``run(data)``; the admin saves nothing else (:class:`ServiceWrittenAdmin`)."""

    service_result = None
    user = None

    def run(self, data):  # pragma: no cover - overridden
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.service_result = self.run(data)
        except (ValidationError, PolicyError) as exc:
            service_errors_to_form(self, exc)
        return data


class ServiceWrittenAdmin:
    """An add form whose row a service writes in the form's ``clean`` (``form.service_result``, inside the
    admin's transaction): the admin hands the form its user and saves nothing itself."""

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.user = request.user
        return form

    def save_model(self, request, obj, form, change):
        saved = form.service_result
        obj.pk = saved.pk
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})

    def save_related(self, request, form, formsets, change):
        return None
