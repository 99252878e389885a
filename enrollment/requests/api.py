"""增减员申请接口 (issue #16 item 1): an employer's system files hires, separations, wage changes and
corrections — one at a time or many at once — through the SAME services and checks as the request screens
(:func:`enrollment.requests.services.request_submit`, :func:`~enrollment.requests.services.requests_submit_file`);
the requests land in the case workers' queue (受理 → 审核 → 办结 / 退回). The employer reads its own requests
with their state and the 退回 reason. Scope: the one rule (``visible_to``); an employer user files only for
its own employer."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from apiaudit.api import AuditedWritesMixin, CheckedLookupMixin
from apiaudit.filters import MAX_ID, BoundedFilterSet

from ..access import can_see_pii, employer_id_of
from ..bounds import MAX_MONTHLY_WAGE
from ..identifiers import mask_id_number, mask_phone
from ..models import Employer, FemaleRole
from . import services
from .files import COLUMNS, MAX_REQUEST_ROWS, FileRejected
from .models import EmployerRequest, RequestKind, RequestSource, RequestState
from .selectors import requests_visible

WRITE_ERRORS = {
    400: OpenApiResponse(description="字段错误（字段 → 说明；批量为逐行逐字段）"),
    401: OpenApiResponse(description="未认证"),
    403: OpenApiResponse(description="无权申报，或不是本单位"),
    429: OpenApiResponse(description="请求过于频繁"),
}


class EmployerRequestSerializer(serializers.ModelSerializer):
    """增减员申请及其办理状态; 退回原因 when returned. 身份证号/电话 masked for roles without PII."""

    state_display = serializers.CharField(source="get_state_display", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    is_late = serializers.BooleanField(read_only=True)
    female_role = serializers.CharField(read_only=True, allow_blank=True, help_text="女职工身份：cadre、worker 或空")

    class Meta:
        model = EmployerRequest
        fields = (
            "id", "employer", "kind", "kind_display", "state", "state_display", "id_number", "name", "female_role",
            "phone", "occurred_on", "monthly_wage", "note", "person", "source", "submitted_on", "submitted_at",
            "report_deadline", "is_late", "accepted_at", "reviewed_at", "closed_at", "return_reason",
        )  # fmt: skip
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not can_see_pii(request.user):
            data["id_number"], data["phone"] = mask_id_number(data["id_number"]), mask_phone(data["phone"])
        return data


class RequestInSerializer(serializers.Serializer):
    """一笔增减员申请 (the fields of the request form)."""

    employer = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="用人单位 id（单位经办员可省略：本单位）"
    )
    kind = serializers.ChoiceField(choices=RequestKind.choices, help_text="申请类型")
    id_number = serializers.CharField(max_length=18, help_text="身份证号")
    name = serializers.CharField(max_length=50, help_text="姓名")
    occurred_on = serializers.DateField(help_text="变动日期：增员为用工之日，减员为停保日期，工资变更为起始日期")
    monthly_wage = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_MONTHLY_WAGE,
        required=False,
        allow_null=True,
        help_text="月工资（元）：工资变更必填",
    )
    female_role = serializers.ChoiceField(choices=FemaleRole.choices, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class RequestRowSerializer(serializers.Serializer):
    """文件批量申报的一行 (the same columns as the template; text as in a cell)."""

    kind = serializers.CharField(max_length=16, help_text="申请类型：增员、减员、工资变更、信息更正（或代码）")
    id_number = serializers.CharField(max_length=18, allow_blank=True)
    name = serializers.CharField(max_length=50, allow_blank=True)
    occurred_on = serializers.CharField(max_length=10, allow_blank=True, help_text="变动日期 YYYY-MM-DD")
    monthly_wage = serializers.CharField(max_length=20, required=False, allow_blank=True)
    female_role = serializers.CharField(max_length=8, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class RequestBatchInSerializer(serializers.Serializer):
    employer = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    rows = RequestRowSerializer(many=True, allow_empty=False, max_length=MAX_REQUEST_ROWS)


class RequestPermission(permissions.BasePermission):
    """GET: ``enrollment.view_employerrequest``; POST: ``enrollment.add_employerrequest`` (as on the screens)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        verb = "view" if request.method in permissions.SAFE_METHODS else "add"
        return user.has_perm(f"enrollment.{verb}_employerrequest")


class RequestFilter(BoundedFilterSet):
    submitted_from = filters.DateFilter(field_name="submitted_on", lookup_expr="gte", label="申报日期起（含）")
    submitted_before = filters.DateFilter(field_name="submitted_on", lookup_expr="lt", label="申报日期止（不含）")

    class Meta:
        model = EmployerRequest
        fields = ("employer", "kind", "state", "id_number")


def employer_for(user, employer_id: int | None) -> Employer:
    """The employer a request is filed for: an employer user's own (another one is a 403); staff name one."""
    own = employer_id_of(user)
    wanted = employer_id or own
    if not wanted:
        raise serializers.ValidationError({"employer": ["请指定用人单位。"]})
    if own is not None and wanted != own:
        raise PermissionDenied("单位经办员只能为本单位申报。")
    employer = Employer.objects.visible_to(user).select_related("jurisdiction").filter(pk=wanted).first()
    if employer is None:
        raise serializers.ValidationError({"employer": ["用人单位不存在或无权申报。"]})
    return employer


def _csv(rows: list[dict]) -> bytes:
    """The rows as the template's .csv (the same reader and checks as an uploaded file)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([heading for heading, _ in COLUMNS])
    for row in rows:
        writer.writerow([row.get(name, "") or "" for _, name in COLUMNS])
    return out.getvalue().encode("utf-8")


_EXAMPLE = {
    "kind": "hire",
    "id_number": "11010519491231002X",
    "name": "张三",
    "occurred_on": "2026-12-01",
    "monthly_wage": "6200.00",
}


@extend_schema_view(
    list=extend_schema(summary="增减员申请列表（本单位）", description="含办理状态与退回原因。"),
    retrieve=extend_schema(summary="一笔增减员申请（状态、退回原因）"),
    create=extend_schema(
        summary="提交一笔增减员申请",
        description="与单位网厅同一校验（身份证号、姓名、变动日期、年龄、重复参保、登记时限等）；"
        "通过后进入经办人员的待受理队列（201）。字段错误 400（字段 → 说明），不写入。",
        request=RequestInSerializer,
        examples=[OpenApiExample("增员", value=_EXAMPLE, request_only=True)],
        responses={201: EmployerRequestSerializer, **WRITE_ERRORS},
    ),
)
class EmployerRequestViewSet(
    CheckedLookupMixin, AuditedWritesMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    permission_classes = (RequestPermission,)
    serializer_class = EmployerRequestSerializer
    filterset_class = RequestFilter

    def get_queryset(self):
        return requests_visible(self.request.user).order_by("-id")

    def get_serializer_class(self):
        if self.action == "create":
            return RequestInSerializer
        if self.action == "batch":
            return RequestBatchInSerializer
        return EmployerRequestSerializer

    def create(self, request, *args, **kwargs):
        incoming = RequestInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        employer = employer_for(request.user, data.get("employer"))
        item = services.RequestInput(
            kind=data["kind"],
            id_number=data["id_number"],
            name=data["name"],
            occurred_on=data["occurred_on"],
            female_role=data.get("female_role") or "",
            phone=data.get("phone") or "",
            monthly_wage=data.get("monthly_wage"),
            note=data.get("note") or "",
        )
        try:
            req = services.request_submit(
                employer=employer,
                data=item,
                on=timezone.localdate(),  # the day of submission (the edge passes the date in)
                user=request.user,
                source=RequestSource.API,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        body = EmployerRequestSerializer(req, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="批量提交增减员申请（全部或全不）",
        description="与文件批量申报同一读入与校验：任何一行有错则一笔也不提交，返回 400 "
        "`{rows: [{row, field, message}]}`（第 1 行为表头，数据从第 2 行起）；全部通过则全部进入待受理队列（201）。",
        request=RequestBatchInSerializer,
        responses={
            201: EmployerRequestSerializer(many=True),
            400: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description='逐行逐字段的错误 `{"rows": [{"row", "field", "message"}]}`，'
                "或请求本身的字段错误；未提交任何申请",
            ),
            401: OpenApiResponse(description="未认证"),
            403: OpenApiResponse(description="无权申报，或不是本单位"),
            429: OpenApiResponse(description="请求过于频繁"),
        },
    )
    @action(detail=False, methods=["post"])
    def batch(self, request, *args, **kwargs):
        incoming = RequestBatchInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        employer = employer_for(request.user, data.get("employer"))
        try:
            made = services.requests_submit_file(
                employer=employer,
                data=_csv(data["rows"]),
                name="api-requests.csv",
                on=timezone.localdate(),
                user=request.user,
                source=RequestSource.API,
            )
        except services.FileErrors as exc:
            rows = [{"row": e.row, "field": e.field, "message": e.message} for e in exc.errors]
            return Response({"rows": rows}, status=status.HTTP_400_BAD_REQUEST)
        except FileRejected as exc:
            return Response({"rows": [{"row": 0, "field": "file", "message": str(exc)}]}, status=400)
        body = EmployerRequestSerializer(made, many=True, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


__all__ = ["EmployerRequestViewSet", "RequestState"]
