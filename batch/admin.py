"""Screens for batch runs: progress, counts by kind, duration; resume a run whose worker died."""

from __future__ import annotations

from django.contrib import admin

from enrollment.access import is_bureau  # the one permission rule (see .importlinter: admin screens only)
from enrollment.admin_mixins import BureauAdmin

from .labels import counts_text, job_label
from .models import BatchChunk, BatchRun, BatchSkip, RunStatus
from .runs import discover
from .tasks import resume_run


class BatchChunkInline(admin.TabularInline):
    model = BatchChunk
    extra = 0
    can_delete = False
    fields = ("number", "lo", "hi", "status", "counts_display", "attempts", "error", "started_at", "finished_at")
    readonly_fields = fields

    @admin.display(description="统计")
    def counts_display(self, obj: BatchChunk) -> str:
        return counts_text(obj.counts)

    def has_add_permission(self, request, obj=None):
        return False


class BatchSkipInline(admin.TabularInline):
    """跳过记录: persons (or the finishing step) the run could not compute, with the reason."""

    model = BatchSkip
    extra = 0
    can_delete = False
    fields = ("step_display", "person_id", "employer_id", "chunk", "reason", "created_at")
    readonly_fields = fields
    verbose_name_plural = "跳过的人员（修正数据后“继续执行”只重算这些人员）"

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="步骤")
    def step_display(self, obj: BatchSkip) -> str:
        return "汇总步骤（finish）" if obj.step == "finish" else job_label(obj.step)


class JobFilter(admin.SimpleListFilter):
    """作业: the registered jobs by their words."""

    title = "作业"
    parameter_name = "job"

    def lookups(self, request, model_admin):
        return sorted(((name, job.label or name) for name, job in discover().items()), key=lambda kv: kv[1])

    def queryset(self, request, queryset):
        return queryset.filter(job=self.value()) if self.value() else queryset


@admin.register(BatchRun)
class BatchRunAdmin(BureauAdmin):
    """批处理运行记录: progress, counts by kind and duration; resume a run whose worker died."""

    list_display = (
        "id",
        "job_display",
        "jurisdiction",
        "as_of",
        "preview",
        "status",
        "progress",
        "counts_display",
        "duration",
        "created_at",
    )
    list_filter = (JobFilter, "status", "preview", "jurisdiction")
    list_select_related = ("jurisdiction",)  # a nullable link: Django's default join leaves it to a query per row
    fields = (
        "job_display",
        "jurisdiction",
        "as_of",
        "params",
        "preview",
        "status",
        "chunk_count",
        "chunks_done",
        "counts_display",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields
    inlines = (BatchSkipInline, BatchChunkInline)
    actions = ("resume",)

    @admin.display(description="作业", ordering="job")
    def job_display(self, obj: BatchRun) -> str:
        return obj.job_label

    @admin.display(description="统计")
    def counts_display(self, obj: BatchRun) -> str:
        return obj.counts_text

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
