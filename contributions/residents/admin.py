"""居民年度应缴 screen (险种 390): read-only; the yearly billing job writes the bills and payments settle them.

Bureau staff read every bill (the auditor too, 身份证号 masked); an employer user sees none (residents have no
employer: the scope rule by person finds no span at their employer).
"""

from __future__ import annotations

from django.contrib import admin

from enrollment.access import is_bureau

from ..admin import ContributionsAdmin, MaskedExportMixin, ReadOnlyMixin, _history_link
from .models import ResidentDue


class PaidFilter(admin.SimpleListFilter):
    title = "缴费状态"
    parameter_name = "paid"

    def lookups(self, request, model_admin):
        return (("yes", "已缴清"), ("no", "未缴清"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(settled_on__isnull=False)
        if self.value() == "no":
            return queryset.filter(settled_on__isnull=True)
        return queryset


@admin.register(ResidentDue)
class ResidentDueAdmin(MaskedExportMixin, ReadOnlyMixin, ContributionsAdmin):
    """居民年度应缴: 个人缴费 and 财政补助 per resident and benefit year (sanmenxia 第三十条、第三十一条)."""

    list_display = (
        "history_link",
        "person_id_number",
        "jurisdiction",
        "benefit_year",
        "resident_kind",
        "individual_amount",
        "subsidy_amount",
        "window_start",
        "window_end",
        "paid_amount",
        "settled_on",
    )
    list_filter = (PaidFilter, "jurisdiction", "benefit_year", "resident_kind")
    search_fields = ("=person__id_number",)
    search_help_text = "输入完整的18位身份证号"
    raw_id_fields = ("run",)
    autocomplete_fields = ("person",)
    list_select_related = ("person", "jurisdiction")
    ordering = ("-benefit_year", "person_id")

    def has_module_permission(self, request):
        return is_bureau(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        # residents have no employer: an employer user sees none (not even a former employee's bill)
        return is_bureau(request.user) and super().has_view_permission(request, obj)

    @admin.display(description="参保人员", ordering="person_id")
    def history_link(self, obj):
        return _history_link(obj)
