"""The persisted eligibility timeline (待遇享受状态时间轴).

Each person's timeline is computed by the rule
:func:`benefits.calculations.eligibility.eligibility_timeline` (the same function
the ``eligibility`` scenario calculation uses) from the person's enrolment spans
and monthly dues, and stored as half-open periods ``[start, end)`` so that claims
and case workers read it without recomputing. :class:`EligibilityState` holds one
row per person with a digest of the stored periods: the nightly refresh rewrites a
person's periods only when the digest changes, so a second run writes nothing.
Writes go through :mod:`benefits.services`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from enrollment.models import InsuredPerson
from policy.models import Jurisdiction


class EligibilityStatus(models.TextChoices):
    COVERED = "covered", "享受待遇"
    WAITING = "waiting", "等待期"
    SUSPENDED = "suspended", "暂停享受待遇"
    NONE = "none", "无职工医保待遇"


class EligibilityPeriod(models.Model):
    """待遇享受状态: one period of a person's timeline, with the rule that decided it and the facts it used.

    Derived data, rewritten in bulk by the nightly refresh from the register (spans, dues): its
    foreign keys carry no database constraint (``db_constraint=False``). A constraint would
    check — and lock — the person's row for each of the million rows a first night writes, at
    commit (~40 s of a 1 000 000-person run); the refresh only writes persons it read from the
    register, and Django still cascades deletions. For the same reason the only index besides the
    key is (person, start).
    """

    person = models.ForeignKey(
        InsuredPerson,
        on_delete=models.CASCADE,
        related_name="eligibility_periods",
        verbose_name="参保人员",
        db_constraint=False,
        db_index=False,  # the (person, start) index serves
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区", db_constraint=False, db_index=False
    )
    start = models.DateField("开始日期")
    end = models.DateField("结束日期（不含）", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=EligibilityStatus.choices)
    reason = models.TextField("判定理由")
    citation = models.CharField("条款出处", max_length=255, blank=True)
    facts = models.JSONField("判定所依据的事实", default=dict, blank=True)
    computed_at = models.DateTimeField("计算时间")
    run = models.ForeignKey(
        "batch.BatchRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="批处理运行",
        db_constraint=False,
        db_index=False,  # each index costs every row of a first night; nothing looks periods up by run
    )

    class Meta:
        verbose_name = "待遇享受状态"
        verbose_name_plural = "待遇享受状态"
        ordering = ["person_id", "start"]
        indexes = [
            models.Index(fields=["person", "start"], name="elig_period_person_start"),
            # the list filtered by 状态, in its order (issue #13: 4 s at a million persons without it)
            models.Index(fields=["status", "person", "start"], name="elig_period_status_person"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gt=F("start")), name="elig_period_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.get_status_display()} {self.start}–{self.end or ''}"


class EligibilityState(models.Model):
    """One row per person: digests of the timeline and of the facts it was computed from, and why it could not be.

    ``inputs`` is a digest of everything the rule was given (spans, dues, transfers in, the
    evaluation date, the policy in force and the rule's code): the nightly refresh skips a
    person whose inputs digest is unchanged, and rewrites the periods only when ``digest``
    (of the periods themselves) changes.
    """

    person = models.OneToOneField(
        InsuredPerson,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="eligibility_state",
        db_constraint=False,  # derived data, as EligibilityPeriod
    )
    digest = models.CharField("摘要", max_length=32)
    inputs = models.CharField("计算依据摘要", max_length=32, blank=True, default="")
    error = models.TextField("无法计算的原因", blank=True, help_text="例如：缺少政策参数（D-X16）")
    error_key = models.CharField("无法计算的类别", max_length=120, blank=True, default="")
    computed_at = models.DateTimeField("计算时间")
    # 判定依据截至: the business date of the last evaluation. The rule's answer for the same inputs holds from
    # this date until ``next_check`` (the next date on which the date alone changes it: a month falling
    # overdue, a deferral ending, a payment dated in the future becoming known, a policy value taking effect),
    # so an incremental night re-evaluates a person only when an input changed or that date is reached.
    evaluated_on = models.DateField("判定依据截至", null=True, blank=True)
    next_check = models.DateField("下次重算日期", null=True, blank=True, help_text="空：仅在事实变化时重算")
    version = models.CharField("政策与规则版本", max_length=32, blank=True, default="")
    run = models.ForeignKey(
        "batch.BatchRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="批处理运行",
        db_constraint=False,
        db_index=False,  # each index costs every row of a first night; nothing looks periods up by run
    )

    class Meta:
        verbose_name = "待遇状态计算记录"
        verbose_name_plural = "待遇状态计算记录"
        # the list's 无法计算的原因 filter in its order (person DESC): the persons of a whole pooling area may share
        # one missing value, so a scan of the primary key alone would pass hundreds of thousands of rows (#13)
        indexes = [
            models.Index(fields=["-person"], condition=Q(error=""), name="elig_state_no_error"),
            models.Index(fields=["-person"], condition=~Q(error=""), name="elig_state_error"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.digest}"


class EligibilityInputChange(models.Model):
    """待重算人员: a person whose eligibility inputs changed since the last night (dues, payments, 缓缴,
    enrolment spans, life events). Filled by database triggers on those tables (every writer is seen,
    set-based SQL included) and emptied, chunk by chunk, by the incremental nightly refresh."""

    person_id = models.BigIntegerField("人员ID", primary_key=True)

    class Meta:
        verbose_name = "待重算人员"
        verbose_name_plural = "待重算人员"

    def __str__(self) -> str:
        return str(self.person_id)


class EligibilityRangeSummary(models.Model):
    """待遇状态区段摘要: the states of the persons ``lo <= id < hi`` as the last nightly refresh of exactly that range
    left them — how many, their error kinds, the earliest ``next_check`` (or earlier), the latest ``evaluated_on``
    and the policy and rule version they were computed under (issue #13).

    An incremental night whose date is before that ``next_check``, not before that ``evaluated_on`` and under the
    same version evaluates the persons noted as changed (:class:`EligibilityInputChange`) and takes the rest of
    the counts from here instead of reading every state of the range. A database trigger deletes the summary of
    a range whenever any state in it is written by anything (a case worker's recompute, a script, the night's
    own writes, which then put a new one); PostgreSQL only (elsewhere every night reads the states)."""

    lo = models.BigIntegerField("起始人员ID")
    hi = models.BigIntegerField("截止人员ID（不含）")
    persons = models.PositiveIntegerField("有状态的人数")
    errors = models.JSONField("无法计算的类别及人数", default=dict)
    next_check = models.DateField("最早的下次重算日期", null=True, blank=True)
    evaluated_on = models.DateField("最晚的判定依据截至", null=True, blank=True)
    version = models.CharField("政策与规则版本", max_length=32)

    class Meta:
        verbose_name = "待遇状态区段摘要"
        verbose_name_plural = "待遇状态区段摘要"
        indexes = [models.Index(fields=["lo", "hi"], name="elig_summary_range")]

    def __str__(self) -> str:
        return f"[{self.lo}, {self.hi}) {self.persons}"
