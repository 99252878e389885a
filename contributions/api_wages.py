"""工资申报接口 (issue #16 item 1, wages): an employer's payroll system submits a year's wage declaration
as rows; the API writes them as the same .csv the payroll import screen takes and runs the same job
(:mod:`contributions.imports`): validated asynchronously (a job resource to poll), row-and-field errors in
the answer, then confirmed all-or-nothing. An employer user submits only for its own employer."""

from __future__ import annotations

import csv
import io

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from apiaudit.api import AuditedWritesMixin, CheckedLookupMixin
from enrollment.access import employer_id_of
from enrollment.models import Employer

from . import import_tasks, imports
from .imports.readers import MAX_ROWS
from .models import ImportJob, ImportKind, ImportStatus
from .views import visible_jobs

_HEADERS = ("身份证号", "姓名", "月工资", "上年工资总额", "起薪月份")


class WageRowSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=18, help_text="身份证号")
    name = serializers.CharField(max_length=50, help_text="姓名")
    monthly_wage = serializers.CharField(max_length=20, required=False, allow_blank=True, help_text="月工资（元）")
    annual_wage_total = serializers.CharField(max_length=20, required=False, allow_blank=True, help_text="上年工资总额")
    first_pay_month = serializers.CharField(max_length=10, required=False, allow_blank=True, help_text="起薪月份")


class WageDeclarationInSerializer(serializers.Serializer):
    employer = serializers.IntegerField(
        min_value=1, max_value=2**53 - 1, required=False, help_text="用人单位 id（单位经办员可省略）"
    )
    year = serializers.IntegerField(min_value=1950, max_value=2100, help_text="缴费年度")
    rows = WageRowSerializer(many=True, allow_empty=False, max_length=MAX_ROWS, help_text="逐人工资")


class ImportJobSerializer(serializers.ModelSerializer):
    """导入批次: status to poll; the rows in error (行, 字段, 说明) once validated."""

    class Meta:
        model = ImportJob
        fields = ("id", "kind", "employer", "status", "total_rows", "processed_rows", "error_rows", "errors",
                  "dry_run_summary", "created_at", "finished_at")  # fmt: skip
        read_only_fields = fields


class WagePermission(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        action_name = "view_importjob" if request.method in permissions.SAFE_METHODS else "add_wagedeclaration"
        return user.has_perm(f"contributions.{action_name}")


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_HEADERS)
    for r in rows:
        writer.writerow(
            [r.get(k, "") for k in ("id_number", "name", "monthly_wage", "annual_wage_total", "first_pay_month")]
        )
    return out.getvalue().encode("utf-8")


@extend_schema_view(
    list=extend_schema(summary="工资申报批次列表"),
    retrieve=extend_schema(summary="工资申报批次（轮询状态与逐行错误）"),
    create=extend_schema(
        summary="提交工资申报（异步校验）",
        description="提交后返回批次（202），轮询其状态：validated（已校验，errors 为逐行错误）后 confirm 确认导入，"
        "全部成功或全部不导入。",
        request=WageDeclarationInSerializer,
        responses={202: ImportJobSerializer, 409: OpenApiResponse(description="批次状态不允许")},
        examples=[
            OpenApiExample(
                "一人",
                request_only=True,
                value={
                    "year": 2026,
                    "rows": [{"id_number": "430102198001010011", "name": "张三", "monthly_wage": "6200.00"}],
                },
            )
        ],
    ),
)
class WageDeclarationViewSet(
    CheckedLookupMixin, AuditedWritesMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    permission_classes = (WagePermission,)
    serializer_class = ImportJobSerializer

    def get_queryset(self):
        return visible_jobs(self.request.user).filter(kind=ImportKind.PAYROLL).order_by("-id")

    def get_serializer_class(self):
        return WageDeclarationInSerializer if self.action == "create" else ImportJobSerializer

    def create(self, request, *args, **kwargs):
        incoming = WageDeclarationInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        own = employer_id_of(request.user)
        employer_id = data.get("employer") or own
        if not employer_id:
            raise serializers.ValidationError({"employer": ["请指定用人单位。"]})
        if own is not None and employer_id != own:
            raise PermissionDenied("单位经办员只能为本单位申报工资。")
        employer = Employer.objects.visible_to(request.user).filter(pk=employer_id).first()
        if employer is None:
            raise serializers.ValidationError({"employer": ["用人单位不存在或无权申报。"]})
        upload = SimpleUploadedFile("api-payroll.csv", _csv(data["rows"]), content_type="text/csv")
        try:
            job = imports.import_job_create(
                kind=ImportKind.PAYROLL,
                uploaded_file=upload,
                user=request.user,
                as_of=timezone.localdate(),  # the day of submission (the edge passes the date in)
                employer=employer,
                year=data["year"],
            )
        except imports.FileRejected as exc:
            raise serializers.ValidationError({"rows": [str(exc)]}) from None
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        import_tasks.import_validate.delay(job_id=job.pk)
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="确认导入（全部或全不）",
        request=None,
        responses={202: ImportJobSerializer, 409: OpenApiResponse(description="批次不在“已校验”状态")},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, *args, **kwargs):
        job = self.get_object()
        claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.VALIDATED).update(
            status=ImportStatus.IMPORTING, processed_rows=0
        )
        if not claimed:
            return Response({"detail": "该批次不在“已校验”状态，未提交。"}, status=status.HTTP_409_CONFLICT)
        import_tasks.import_commit.delay(job_id=job.pk, skip_errors=False)
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
