"""出具文书登记: the register of printed documents, read-only, for bureau staff (issue #19 item 6)."""

from __future__ import annotations

from django.contrib import admin

from enrollment.access import is_bureau
from enrollment.admin_mixins import BigListMixin, BureauAdmin

from .documents.codes import display, normalise
from .models import IssuedDocument


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(BigListMixin, BureauAdmin):
    """Every print, with its code and the digest of its figures; kept, never changed or deleted."""

    list_display = ("code_shown", "kind", "person", "employer", "period_label", "as_of", "issued_by", "issued_at")
    list_filter = ("kind", "issued_at")
    list_select_related = ("person", "employer", "issued_by")
    search_fields = ("code",)
    search_help_text = "输入核验码（可带连字符）"
    date_hierarchy = "issued_at"
    fields = (
        "kind", "code", "person", "employer", "subject_masked", "subject_id_masked", "period_label", "period_start",
        "period_end", "as_of", "digest", "issued_by", "issued_at", "batch",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description="核验码", ordering="code")
    def code_shown(self, obj: IssuedDocument) -> str:
        return display(obj.code)

    def get_search_results(self, request, queryset, search_term):
        code = normalise(search_term)
        if code:
            return queryset.filter(code=code), False
        return super().get_search_results(request, queryset, search_term)

    # bureau staff only (a print is a read; the register is the bureau's own trace)
    def has_module_permission(self, request):
        return is_bureau(request.user)

    def has_view_permission(self, request, obj=None):
        return is_bureau(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
