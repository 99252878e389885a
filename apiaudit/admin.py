"""接口写入审计: read-only in the admin (nobody adds, changes or deletes an audit row)."""

from django.contrib import admin

from .models import ApiWrite


@admin.register(ApiWrite)
class ApiWriteAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "token_key", "method", "path", "status")
    list_filter = ("method", "status")
    search_fields = ("path", "token_key", "user__username")
    date_hierarchy = "at"
    list_select_related = ("user",)
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
