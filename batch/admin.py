"""Screens for batch runs: progress, counts by kind, duration; resume a run whose worker died."""

from __future__ import annotations

from django.contrib import admin

from enrollment.access import is_bureau  # the one permission rule (see .importlinter: admin screens only)
from enrollment.admin_mixins import BureauAdmin

from .models import BatchChunk, BatchRun, BatchSkip, RunStatus
from .tasks import resume_run


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
class BatchRunAdmin(BureauAdmin):
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

    def has_resume_permission(self, request) -> bool:
        """Resuming re-dispatches a run's chunks (writes): bureau staff who may start runs or change runs."""
        user = request.user
        return is_bureau(user) and (
            user.has_perm("batch.change_batchrun") or user.has_perm("contributions.change_monthlydue")
        )

    @admin.action(description="继续执行未完成的分块、重算跳过的人员（resume）", permissions=["resume"])
    def resume(self, request, queryset):
        for run in queryset.exclude(status=RunStatus.DONE):
            resume_run(run.pk)
        self.message_user(request, "已重新派发未完成的分块，并重算了跳过的人员。")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
