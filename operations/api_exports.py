"""接口导出 (issue #16 item 4): large result sets of the API's lists as background jobs.

POST /api/v1/exports/ ``{resource, filters}`` → 202 and a job; GET /api/v1/exports/{id}/ polls it; GET
…/download/ hands the .xlsx once done. The rows are the list endpoint's own: its viewset builds the queryset
for the user who asked (the one scope rule), its filterset applies the filters (a bad filter is a 400 naming
it, checked when the job is posted), its serializer writes each row (身份证号 masked for roles without PII).
Every cell is neutralised (:func:`enrollment.safe_files.neutralise_cell`). A job is seen only by its owner.

Who may export: whoever may read the list and holds ``operations.add_exportjob`` (administrators, case workers,
employer users). Auditors read everything but write nothing — not even an export job — so they page the list.
"""

from __future__ import annotations

import json
import logging
import tempfile

from celery import shared_task
from django.core.files import File
from django.db import transaction
from django.http import FileResponse, HttpRequest, QueryDict
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as DrfValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apiaudit.api import AuditedWritesMixin, CheckedLookupMixin
from benefits.claims.api import ClaimViewSet
from benefits.claims.api_settlements import SettlementViewSet
from contributions.api import ContributionBaseViewSet, MonthlyDueViewSet, PaymentViewSet
from enrollment.api import EmployerViewSet, PersonViewSet
from enrollment.requests.api import EmployerRequestViewSet
from enrollment.safe_files import neutralise_cell
from funds.api import PostingViewSet

from .models import BatchStatus, ExportJob

log = logging.getLogger(__name__)

#: 可导出的列表: resource name (the list's URL segment) → its viewset.
EXPORTABLE = {
    "persons": PersonViewSet,
    "employers": EmployerViewSet,
    "contribution-bases": ContributionBaseViewSet,
    "dues": MonthlyDueViewSet,
    "payments": PaymentViewSet,
    "postings": PostingViewSet,
    "claims": ClaimViewSet,
    "employer-requests": EmployerRequestViewSet,
    "settlements": SettlementViewSet,
}
MAX_FILTERS = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 2000


def list_view(resource: str, user, filters: dict[str, str]):
    """The list endpoint's view as ``user`` would call it with ``filters`` as its query string."""
    http = HttpRequest()
    http.method = "GET"
    query = QueryDict(mutable=True)
    for key, value in filters.items():
        query[key] = value
    http.GET = query
    http.user = user
    request = Request(http)
    request.user = user
    view = EXPORTABLE[resource]()
    view.request, view.args, view.kwargs = request, (), {}
    view.action, view.format_kwarg, view.headers = "list", None, {}
    return view


def export_queryset(resource: str, user, filters: dict[str, str]):
    """The rows the list shows ``user`` with ``filters`` (permission checked; DRF's 400 on a bad filter)."""
    view = list_view(resource, user, filters)
    for permission in view.get_permissions():
        if not permission.has_permission(view.request, view):
            raise PermissionDenied("无权查看该列表。")
    return view, view.filter_queryset(view.get_queryset()).order_by("pk")


def _cell(value):
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return neutralise_cell(value)


@shared_task(name="operations.api_export", acks_late=True)
def export_run(*, job_id: int) -> int:
    """Write one export job's rows to its .xlsx (once: a job no longer queued is left alone); the row count."""
    import openpyxl

    claimed = ExportJob.objects.filter(pk=job_id, status=BatchStatus.QUEUED).update(status=BatchStatus.RUNNING)
    if not claimed:
        return 0
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    try:
        view, queryset = export_queryset(job.resource, job.requested_by, job.filters)
        serializer_class = view.get_serializer_class()
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet(job.resource)
        headers: list[str] | None = None
        count = 0
        for obj in queryset.iterator(chunk_size=CHUNK):
            data = serializer_class(obj, context={"request": view.request, "view": view}).data
            if headers is None:
                headers = list(data)
                sheet.append([_cell(h) for h in headers])
            sheet.append([_cell(data.get(h)) for h in headers])
            count += 1
        if headers is None:
            sheet.append([_cell("（无数据）")])
        with tempfile.TemporaryFile() as tmp:
            book.save(tmp)
            tmp.seek(0)
            job.file.save(f"export-{job.pk}.xlsx", File(tmp), save=False)
        job.status, job.rows, job.finished_at = BatchStatus.DONE, count, timezone.now()
        job.save(update_fields=["file", "status", "rows", "finished_at"])
        return count
    except Exception as exc:
        # marked failed with its reason; not raised again (run in-process, it would reach the poster as a 500)
        log.exception("接口导出 %s 失败", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            status=BatchStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        return 0


class ExportInSerializer(serializers.Serializer):
    resource = serializers.ChoiceField(choices=sorted(EXPORTABLE), help_text="导出哪个列表（其路径名）")
    filters = serializers.DictField(
        child=serializers.CharField(max_length=100, allow_blank=True),
        required=False,
        help_text='该列表的查询参数（与 GET 列表相同，如 {"month_from": "2026-01-01"}）',
    )

    def validate_filters(self, value: dict) -> dict:
        if len(value) > MAX_FILTERS:
            raise serializers.ValidationError(f"筛选条件最多 {MAX_FILTERS} 项。")
        for key in value:
            if len(key) > 50 or key in ("cursor", "page", "page_size", "format"):
                raise serializers.ValidationError(f"不能作为筛选条件：{key[:50]}")
        return value


class ExportJobSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField(help_text="完成后的下载地址")

    class Meta:
        model = ExportJob
        fields = ("id", "resource", "filters", "status", "rows", "error", "created_at", "finished_at", "download")
        read_only_fields = fields

    def get_download(self, obj: ExportJob) -> str | None:
        if obj.status != BatchStatus.DONE:
            return None
        return f"/api/v1/exports/{obj.pk}/download/"


class ExportPermission(permissions.BasePermission):
    """GET: ``operations.view_exportjob`` (own jobs); POST: ``operations.add_exportjob``."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        verb = "view" if request.method in permissions.SAFE_METHODS else "add"
        return user.has_perm(f"operations.{verb}_exportjob")


@extend_schema_view(
    list=extend_schema(summary="我的导出任务"),
    retrieve=extend_schema(summary="导出任务（轮询状态）"),
    create=extend_schema(
        summary="提交导出任务（后台生成 .xlsx）",
        description="按列表的筛选条件导出全部结果（范围与脱敏同列表；单元格已防公式注入）。返回 202 与任务，"
        "轮询至 status=done 后下载。筛选条件错误返回 400（filters → 字段 → 说明）。",
        request=ExportInSerializer,
        examples=[
            OpenApiExample(
                "本年应缴", request_only=True, value={"resource": "dues", "filters": {"month_from": "2026-01-01"}}
            )
        ],
        responses={
            202: ExportJobSerializer,
            400: OpenApiResponse(description="字段错误"),
            401: OpenApiResponse(description="未认证"),
            403: OpenApiResponse(description="无权导出或无权查看该列表"),
            429: OpenApiResponse(description="请求过于频繁"),
        },
    ),
)
class ExportJobViewSet(CheckedLookupMixin, AuditedWritesMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = (ExportPermission,)
    serializer_class = ExportJobSerializer
    filterset_fields = ("resource", "status")

    def get_queryset(self):
        return ExportJob.objects.filter(requested_by_id=self.request.user.pk).order_by("-id")

    def get_serializer_class(self):
        return ExportInSerializer if self.action == "create" else ExportJobSerializer

    def create(self, request, *args, **kwargs):
        incoming = ExportInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        resource = incoming.validated_data["resource"]
        filters = incoming.validated_data.get("filters") or {}
        try:
            _, queryset = export_queryset(resource, request.user, filters)
            queryset.query.sql_with_params()  # a filter value the database cannot take fails here, not in the job
        except DrfValidationError as exc:
            raise serializers.ValidationError({"filters": exc.detail}) from None
        job = ExportJob.objects.create(resource=resource, filters=filters, requested_by=request.user)
        # queued once the job is committed (a worker never looks for a row not yet written)
        transaction.on_commit(lambda: export_run.delay(job_id=job.pk))
        return Response(ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="下载导出文件（.xlsx）",
        responses={
            (200, XLSX): OpenApiTypes.BINARY,
            401: OpenApiResponse(description="未认证"),
            403: OpenApiResponse(description="无权查看"),
            404: OpenApiResponse(description="不存在或不是本人的任务"),
            409: OpenApiResponse(description="任务尚未完成或已失败"),
            429: OpenApiResponse(description="请求过于频繁"),
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, *args, **kwargs):
        job = self.get_object()
        if job.status != BatchStatus.DONE or not job.file:
            return Response({"detail": f"任务状态为“{job.get_status_display()}”，尚无文件。"}, status=409)
        return FileResponse(
            job.file.open("rb"), as_attachment=True, filename=f"{job.resource}-{job.pk}.xlsx", content_type=XLSX
        )
