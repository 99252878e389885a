"""工作台: the tiles of work to do on the home page, per role.

A tile is a plain function ``tile(user, today) -> Tile | None`` registered with :func:`register`; it returns
``None`` when the user's role has no business with it (the same permission and scope rules as the page the
tile links to: :mod:`enrollment.access`). Another app adds a tile in one line::

    workbench.register(requests_waiting_tile)

Counts are cheap at a million persons: each reads an index or a small table and stops at :data:`CAP` rows
(:func:`capped_count`), never a full scan of a population-sized table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Q, QuerySet, Sum
from django.urls import reverse

from batch.models import BatchRun, RunStatus
from contributions.models import ImportJob, ImportStatus, MonthlyDue
from contributions.retirement.models import CaseStatus, RetirementClearanceCase
from enrollment.access import employer_id_of, is_bureau, scope_queryset
from enrollment.requests.models import OPEN_STATES
from enrollment.requests.selectors import late_registrations, requests_visible
from funds import health
from funds.models import POOLED_KINDS, AccountKind, FundAccount
from policy.loader import missing_keys
from policy.models import Jurisdiction

#: A count stops here and shows "N+" (a tile says "there is work", the list gives the exact figure).
CAP = 999
#: Imports with errors are work to do for this many days after the upload (older ones are history).
RECENT_IMPORT_DAYS = 30
#: The levels of fund health (funds.health.LEVEL_LABELS) that call for attention.
FUND_WARNING_LEVELS = ("warning", "insufficient", "below_target", "excess")


@dataclass(frozen=True)
class TileRow:
    """One line of a tile: a part of its count (a jurisdiction, a kind), with its own link."""

    label: str
    count: int | None = None
    url: str = ""
    note: str = ""


@dataclass(frozen=True)
class Tile:
    """一项待办: title, count and the list it opens; ``kind`` is ``todo`` (work), ``warn`` (attention),
    ``ops`` (administrators) or ``info``; ``read_only`` marks a role that only looks (审计人员)."""

    key: str
    title: str
    url: str
    count: int | None = None
    capped: bool = False
    note: str = ""
    kind: str = "todo"
    read_only: bool = False
    rows: tuple[TileRow, ...] = field(default_factory=tuple)

    @property
    def count_text(self) -> str:
        if self.count is None:
            return ""
        return f"{self.count}+" if self.capped else str(self.count)


TileFunction = Callable[[object, date], Tile | None]

#: The registered tiles, in the order they show.
TILES: list[TileFunction] = []


def register(function: TileFunction) -> TileFunction:
    """Add a tile function to the home page (usable as a decorator)."""
    if function not in TILES:
        TILES.append(function)
    return function


def tiles_for(user, today: date) -> list[Tile]:
    """The tiles the user sees today: work first, then warnings, then the administrators' tiles."""
    order = {"todo": 0, "warn": 1, "info": 2, "ops": 3}
    tiles = [t for fn in TILES if (t := fn(user, today)) is not None]
    return sorted(tiles, key=lambda t: order.get(t.kind, 9))


def capped_count(qs: QuerySet, cap: int = CAP) -> tuple[int, bool]:
    """``(count, capped)``: counts at most ``cap`` rows (``SELECT COUNT(*) FROM (… LIMIT cap+1)``)."""
    n = qs.order_by()[: cap + 1].count()
    return min(n, cap), n > cap


def _read_only(user) -> bool:
    """审计人员 and other roles that may look but not change (no change permission on the list's model)."""
    return not user.has_perm("contributions.change_monthlydue")


def _url(name: str, *args, **query) -> str:
    url = reverse(name, args=args)
    return f"{url}?{urlencode(query)}" if query else url


# ---------------------------------------------------------------------------------------------
# Case workers' tiles (bureau staff)
# ---------------------------------------------------------------------------------------------


@register
def employer_requests_tile(user, today: date) -> Tile | None:
    """待办增减员申请 (issue #14): requests not yet closed or returned; an employer user sees their own."""
    if not user.has_perm("enrollment.view_employerrequest"):
        return None
    count, capped = capped_count(requests_visible(user).filter(state__in=OPEN_STATES))
    bureau = is_bureau(user)
    can_act = bureau and user.has_perm("enrollment.change_employerrequest")
    return Tile(
        key="employer_requests",
        title="待办增减员申请" if bureau else "本单位在办的增减员申请",
        url=_url("admin:enrollment_employerrequest_changelist"),
        count=count,
        capped=capped,
        note="受理 → 审核 → 办结，或退回并说明理由" if can_act else "查看办理进度",
        read_only=bureau and not can_act,
    )


@register
def late_registrations_tile(user, today: date) -> Tile | None:
    """逾期登记 (hunan 第十七条, langfang 第十条, sanmenxia 第十六条): hires and separations reported past 30 days."""
    if not is_bureau(user) or not user.has_perm("enrollment.view_employerrequest"):
        return None
    count, capped = capped_count(late_registrations(user))
    if not count:
        return None
    return Tile(
        key="late_registrations",
        title="逾期登记的增减员",
        url=_url("admin:enrollment_employerrequest_late"),
        count=count,
        capped=capped,
        note="超过登记期限报送的参保、停保",
        kind="warn",
        read_only=_read_only(user),
    )


@register
def clearance_cases_tile(user, today: date) -> Tile | None:
    """退休清缴案件待审核 (status 待审核; index clearance_status_jur)."""
    if not is_bureau(user) or not user.has_perm("retirement.view_retirementclearancecase"):
        return None
    count, capped = capped_count(RetirementClearanceCase.objects.filter(status=CaseStatus.OPEN))
    can_approve = user.has_perm("retirement.change_retirementclearancecase")
    return Tile(
        key="clearance_cases",
        title="待审核的退休清缴案件",
        url=_url("admin:retirement_retirementclearancecase_changelist", status__exact=CaseStatus.OPEN),
        count=count,
        capped=capped,
        note="达到法定退休年龄、缴费年限待核定的人员" if can_approve else "只读查看",
        read_only=not can_approve,
    )


@register
def imports_with_errors_tile(user, today: date) -> Tile | None:
    """导入有错误: files of the last 30 days that failed or have rows in error; an employer user sees their own."""
    if not user.has_perm("contributions.view_importjob"):
        return None
    since = today - timedelta(days=RECENT_IMPORT_DAYS)
    qs = ImportJob.objects.filter(created_at__date__gte=since).filter(
        Q(status=ImportStatus.FAILED) | Q(error_rows__gt=0)
    )
    own = employer_id_of(user)
    if own is not None:  # the same rule as the import pages (contributions.views.visible_jobs)
        qs = qs.filter(employer_id=own)
    count, capped = capped_count(qs)
    return Tile(
        key="imports_with_errors",
        title="有错误的导入批次",
        url=_url("admin:contributions_importjob_changelist", error_rows__gt=0),
        count=count,
        capped=capped,
        note=f"近{RECENT_IMPORT_DAYS}天上传、校验失败或有错误行的文件，打开批次可下载错误行",
        kind="todo" if count else "info",
        read_only=_read_only(user) and own is None,
    )


@register
def batch_runs_tile(user, today: date) -> Tile | None:
    """批处理失败或未完成 (the runs table has one row per run: small)."""
    if not is_bureau(user) or not user.has_perm("batch.view_batchrun"):
        return None
    failed, failed_capped = capped_count(
        BatchRun.objects.filter(status__in=[RunStatus.FAILED, RunStatus.DONE_WITH_ERRORS])
    )
    unfinished, unfinished_capped = capped_count(
        BatchRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING])
    )
    changelist = "admin:batch_batchrun_changelist"
    failed_url = _url(changelist, status__in=f"{RunStatus.FAILED},{RunStatus.DONE_WITH_ERRORS}")
    unfinished_url = _url(changelist, status__in=f"{RunStatus.PENDING},{RunStatus.RUNNING}")
    return Tile(
        key="batch_runs",
        title="失败或未完成的批处理",
        url=failed_url if failed or not unfinished else unfinished_url,
        count=failed + unfinished,
        capped=failed_capped or unfinished_capped,
        note="修正数据后可在运行记录中“继续执行”",
        kind="todo" if failed + unfinished else "info",
        read_only=not user.has_perm("contributions.change_monthlydue"),
        rows=(
            TileRow("失败或有跳过的人员", failed, failed_url),
            TileRow("待执行或执行中", unfinished, unfinished_url),
        ),
    )


@register
def policy_missing_tile(user, today: date) -> Tile | None:
    """今日缺少取值的政策参数, per jurisdiction (policy_show --missing; read from the in-memory snapshot)."""
    if not is_bureau(user) or not user.has_perm("policy.view_jurisdiction"):
        return None
    rows = []
    for place in Jurisdiction.objects.order_by("code"):
        n = len(missing_keys(place.code, today))
        if n:
            rows.append(TileRow(place.name, n, _url("admin:policy_jurisdiction_change", place.pk)))
    return Tile(
        key="policy_missing",
        title="今日缺少取值的政策参数",
        url=_url("admin:policy_jurisdiction_changelist"),
        count=sum(r.count or 0 for r in rows),
        note="政策文件未规定、需由经办人员录入的参数；用到它的计算会报错并指明参数",
        kind="warn" if rows else "info",
        read_only=not user.has_perm("policy.add_policyparameter"),
        rows=tuple(rows),
    )


@register
def fund_warnings_tile(user, today: date) -> Tile | None:
    """基金预警: the latest month's level of each pooled fund (funds.health, from the month totals)."""
    if not is_bureau(user) or not user.has_perm("funds.view_fundaccount"):
        return None
    rows = []
    # the employee pool and the resident pool (城乡居民医保, its own books) of each jurisdiction
    pooled = FundAccount.objects.filter(kind__in=sorted(POOLED_KINDS), person__isnull=True)
    pooled = pooled.select_related("jurisdiction")
    for account in pooled.order_by("jurisdiction__code", "kind"):
        series = health.fund_health(account, on=today)["series"]
        latest = next((m for m in reversed(series) if m.month <= today), None)
        levels = [lv for lv in (latest.levels if latest else []) if lv in FUND_WARNING_LEVELS]
        if levels:
            rows.append(
                TileRow(
                    account.jurisdiction.name + ("（城乡居民医保）" if account.kind != AccountKind.POOLED else ""),
                    None,
                    _url("admin:funds_health", jurisdiction=account.jurisdiction.code, account=account.pk),
                    "、".join(health.LEVEL_LABELS[lv] for lv in levels)
                    + (f"（可支付 {latest.months_of_spending} 个月）" if latest.months_of_spending is not None else ""),
                )
            )
    return Tile(
        key="fund_warnings",
        title="基金运行预警",
        url=_url("admin:funds_health"),
        count=len(rows),
        note="统筹基金累计结余可支付月数超出或低于政策规定的区间" if rows else "各统筹基金本月无预警",
        kind="warn" if rows else "info",
        read_only=True,
        rows=tuple(rows),
    )


# ---------------------------------------------------------------------------------------------
# Employer users' tiles (单位经办员: their own employer only)
# ---------------------------------------------------------------------------------------------


def _own_dues(user) -> tuple[int | None, QuerySet]:
    own = employer_id_of(user)
    qs = scope_queryset(user, MonthlyDue.objects.filter(employer_id=own), employer_path="employer_id")
    return own, qs


@register
def employer_arrears_tile(user, today: date) -> Tile | None:
    """本单位欠费: the employer's dues past their due date and not settled (index on employer, month)."""
    if employer_id_of(user) is None or not user.has_perm("contributions.view_monthlydue"):
        return None
    own, dues = _own_dues(user)
    count, capped = capped_count(
        dues.filter(settled_on__isnull=True, makeup_closed_on__isnull=True, due_date__lt=today)
    )
    return Tile(
        key="employer_arrears",
        title="本单位欠费（人·月）",
        url=_url("contributions:employer_arrears", own),
        count=count,
        capped=capped,
        note="已过缴费截止日未缴清的应缴，逾期按日加收滞纳金" if count else "没有逾期未缴的应缴",
        kind="warn" if count else "info",
    )


@register
def employer_bill_tile(user, today: date) -> Tile | None:
    """本月应缴: the employer's bill for the current month (one grouped sum over the employer's rows)."""
    if employer_id_of(user) is None or not user.has_perm("contributions.view_monthlydue"):
        return None
    own, dues = _own_dues(user)
    month = today.replace(day=1)
    totals = dues.filter(month=month).aggregate(total=Sum("total"), paid=Sum("paid_principal"))
    total = totals["total"] or Decimal("0")
    unpaid = total - (totals["paid"] or Decimal("0"))
    note = (
        f"{month:%Y年%-m月}应缴 {total:,.2f} 元，未缴 {unpaid:,.2f} 元"
        if totals["total"] is not None
        else (f"{month:%Y年%-m月}的应缴尚未生成")
    )
    return Tile(
        key="employer_bill",
        title="本单位月度应缴",
        url=_url("contributions:employer_bill", own),
        note=note,
        kind="info",
    )


# ---------------------------------------------------------------------------------------------
# Administrators' tiles (运维)
# ---------------------------------------------------------------------------------------------


@register
def nightly_tile(user, today: date) -> Tile | None:
    """夜间批处理: the latest nightly run and its state (operations page for administrators)."""
    if not is_bureau(user) or not user.has_perm("django_celery_beat.view_periodictask"):
        return None
    from django_celery_beat.models import PeriodicTask

    last = BatchRun.objects.filter(job="operations.nightly", preview=False).order_by("-created_at").first()
    if last is None:
        note = "尚未运行过夜间批处理"
    else:
        note = f"最近一次：业务日期 {last.as_of:%Y-%m-%d}，{last.get_status_display()}"
    enabled = PeriodicTask.objects.filter(enabled=True).count()
    return Tile(
        key="nightly",
        title="批处理与周期任务",
        url=_url("operations:index"),
        note=note,
        kind="ops",
        rows=(
            TileRow("已启用的周期任务", enabled, _url("admin:django_celery_beat_periodictask_changelist")),
            TileRow("批处理运行记录", None, _url("admin:batch_batchrun_changelist")),
        ),
    )


@register
def lockouts_tile(user, today: date) -> Tile | None:
    """登录锁定: accounts or addresses locked after repeated failed logins (django-axes)."""
    if not is_bureau(user) or not user.has_perm("axes.view_accessattempt"):
        return None
    from axes.models import AccessAttempt
    from django.conf import settings

    limit = getattr(settings, "AXES_FAILURE_LIMIT", 3)
    count, capped = capped_count(AccessAttempt.objects.filter(failures_since_start__gte=limit))
    return Tile(
        key="lockouts",
        title="登录失败被锁定",
        url=_url("admin:axes_accessattempt_changelist"),
        count=count,
        capped=capped,
        note="连续登录失败被锁定的账号或地址；删除记录即解锁",
        kind="ops",
    )
