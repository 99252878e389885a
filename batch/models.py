"""批处理: the run and chunk records of every batch job (runs split into chunks of person ids)."""

from django.conf import settings
from django.db import models


class RunStatus(models.TextChoices):
    PENDING = "pending", "待执行"
    RUNNING = "running", "执行中"
    DONE = "done", "已完成"
    #: every chunk ran; some persons (or the finishing step) could not be computed and are listed in BatchSkip
    DONE_WITH_ERRORS = "done_err", "完成（有错误）"
    FAILED = "failed", "失败"


class BatchRun(models.Model):
    """批处理运行记录: one run of a batch job over the population, split into chunks."""

    job = models.CharField("作业", max_length=64, db_index=True)
    jurisdiction = models.ForeignKey(
        "policy.Jurisdiction", null=True, blank=True, on_delete=models.PROTECT, verbose_name="统筹区"
    )
    as_of = models.DateField("业务日期")
    params = models.JSONField("参数", default=dict, blank=True)
    preview = models.BooleanField("预览（不提交）", default=False)
    status = models.CharField("状态", max_length=8, choices=RunStatus.choices, default=RunStatus.PENDING)
    chunk_count = models.PositiveIntegerField("分块数", default=0)
    chunks_done = models.PositiveIntegerField("已完成分块", default=0)
    counts = models.JSONField("统计", default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name="发起人"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        db_table = "policy_batchrun"  # created by the policy app before batch was an app of its own
        verbose_name = "批处理运行"
        verbose_name_plural = "批处理运行"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.job_label} {self.as_of:%Y-%m-%d}（第 {self.pk} 次）"

    @property
    def job_label(self) -> str:
        """作业名称 in words (the label the job registered with), e.g. 欠费滞纳金计提."""
        from .labels import job_label

        return job_label(self.job)

    @property
    def counts_text(self) -> str:
        """统计 in words: ``生成应缴（人·月） 5,241；…``."""
        from .labels import counts_text

        return counts_text(self.counts)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class BatchChunk(models.Model):
    """One chunk of a run: persons with ``lo <= id < hi``, processed in one transaction."""

    run = models.ForeignKey(BatchRun, on_delete=models.CASCADE, related_name="chunks", verbose_name="运行")
    number = models.PositiveIntegerField("序号")
    lo = models.BigIntegerField("起始人员ID")
    hi = models.BigIntegerField("截止人员ID（不含）")
    status = models.CharField("状态", max_length=8, choices=RunStatus.choices, default=RunStatus.PENDING)
    counts = models.JSONField("统计", default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    error = models.TextField("错误", blank=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        db_table = "policy_batchchunk"
        verbose_name = "批处理分块"
        verbose_name_plural = "批处理分块"
        ordering = ["run_id", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="batch_chunk_unique_number")]

    def __str__(self) -> str:
        return f"{self.run} 第 {self.number} 块"


class BatchSkip(models.Model):
    """批处理跳过记录: a person (or, for the finishing step, an employer or the whole step) the run could not
    compute, with the reason; everything else of the run was written. Cleared when a retry succeeds."""

    run = models.ForeignKey(BatchRun, on_delete=models.CASCADE, related_name="skips", verbose_name="运行")
    chunk = models.ForeignKey(
        BatchChunk, null=True, blank=True, on_delete=models.CASCADE, related_name="skips", verbose_name="分块"
    )
    step = models.CharField("步骤", max_length=64, help_text="作业名，或 finish（分块全部完成后的汇总步骤）")
    person_id = models.BigIntegerField("人员ID", null=True, blank=True, db_index=True)
    employer_id = models.BigIntegerField("单位ID", null=True, blank=True)
    reason = models.TextField("原因")
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = "批处理跳过记录"
        verbose_name_plural = "批处理跳过记录"
        ordering = ["run_id", "person_id", "id"]

    def __str__(self) -> str:
        who = f"人员 {self.person_id}" if self.person_id else f"单位 {self.employer_id or '-'}"
        return f"{self.run} {self.step} {who}: {self.reason[:60]}"
