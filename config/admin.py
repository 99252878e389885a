"""Screens for jurisdictions, dated policy parameters and reference statistics."""

from __future__ import annotations

import json
from datetime import date

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    BatchChunk,
    BatchRun,
    BatchSkip,
    Jurisdiction,
    ParameterOrigin,
    PolicyParameter,
    ReferenceStatistic,
    RunStatus,
)
from .policy_loader import catalog_labels, missing_keys


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "document", "is_draft", "completeness")
    readonly_fields = ("code", "missing_values")
    fields = (
        "code",
        "name",
        "document",
        "document_status",
        "is_draft",
        "completeness_note",
        "missing_values",
    )

    @admin.display(description="参数完整性")
    def completeness(self, obj: Jurisdiction) -> str:
        n = len(missing_keys(obj.code, date.today()))
        return "完整" if n == 0 else f"缺 {n} 项（需录入）"

    @admin.display(description="今日缺少的参数（政策文件未规定，需由经办人员录入）")
    def missing_values(self, obj: Jurisdiction) -> str:
        rows = missing_keys(obj.code, date.today())
        if not rows:
            return "无"
        return format_html("<ul>{}</ul>", format_html_join("", "<li><code>{}</code> {}</li>", rows))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PolicyParameterForm(forms.ModelForm):
    key = forms.ChoiceField(label="参数键", choices=())
    value = forms.JSONField(
        label="取值",
        required=False,
        help_text='JSON：数字或数字字符串，例如 8 或 "0.05"；表格写成对象；null 表示本地不适用。',
    )

    class Meta:
        model = PolicyParameter
        fields = ("jurisdiction", "key", "effective_from", "value", "citation", "decision", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = [(k, f"{k}  {label}") for k, label in sorted(catalog_labels().items())]


@admin.register(PolicyParameter)
class PolicyParameterAdmin(SimpleHistoryAdmin):
    """A new dated value is a new row; history of every change is kept."""

    form = PolicyParameterForm
    list_display = (
        "jurisdiction",
        "key",
        "label",
        "effective_from",
        "value_display",
        "citation",
        "decision",
        "origin",
    )
    list_filter = ("jurisdiction", "origin")
    search_fields = ("key", "citation", "note")
    list_select_related = ("jurisdiction",)

    @admin.display(description="说明")
    def label(self, obj: PolicyParameter) -> str:
        return catalog_labels().get(obj.key, "")

    @admin.display(description="取值")
    def value_display(self, obj: PolicyParameter) -> str:
        return "不适用（null）" if obj.value is None else json.dumps(obj.value, ensure_ascii=False)[:120]

    def save_model(self, request, obj, form, change):
        obj.origin = ParameterOrigin.STAFF
        super().save_model(request, obj, form, change)


@admin.register(ReferenceStatistic)
class ReferenceStatisticAdmin(SimpleHistoryAdmin):
    list_display = (
        "jurisdiction",
        "key",
        "period_label",
        "effective_from",
        "value",
        "is_demo",
        "source",
        "entered_by",
    )
    list_filter = ("jurisdiction", "key", "is_demo")
    readonly_fields = ("entered_by",)

    def save_model(self, request, obj, form, change):
        obj.entered_by = request.user
        super().save_model(request, obj, form, change)


class BatchChunkInline(admin.TabularInline):
    model = BatchChunk
    extra = 0
    can_delete = False
    fields = ("number", "lo", "hi", "status", "counts", "attempts", "error", "started_at", "finished_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class BatchSkipInline(admin.TabularInline):
    """跳过记录: persons (or the finishing step) the run could not compute, with the reason."""

    model = BatchSkip
    extra = 0
    can_delete = False
    fields = ("step", "person_id", "employer_id", "chunk", "reason", "created_at")
    readonly_fields = fields
    verbose_name_plural = "跳过的人员（修正数据后“继续执行”只重算这些人员）"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(BatchRun)
class BatchRunAdmin(admin.ModelAdmin):
    """批处理运行记录: progress, counts by kind and duration; resume a run whose worker died."""

    list_display = (
        "id",
        "job",
        "jurisdiction",
        "as_of",
        "preview",
        "status",
        "progress",
        "counts",
        "duration",
        "created_at",
    )
    list_filter = ("job", "status", "preview", "jurisdiction")
    readonly_fields = [f.name for f in BatchRun._meta.fields]
    inlines = (BatchSkipInline, BatchChunkInline)
    actions = ("resume",)

    @admin.display(description="进度")
    def progress(self, obj: BatchRun) -> str:
        return f"{obj.chunks_done}/{obj.chunk_count}"

    @admin.display(description="耗时（秒）")
    def duration(self, obj: BatchRun) -> str:
        return f"{obj.duration_seconds:.1f}" if obj.duration_seconds is not None else "—"

    @admin.action(description="继续执行未完成的分块、重算跳过的人员（resume）")
    def resume(self, request, queryset):
        from .batch import resume_run

        for run in queryset.exclude(status=RunStatus.DONE):
            resume_run(run.pk)
        self.message_user(request, "已重新派发未完成的分块，并重算了跳过的人员。")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
