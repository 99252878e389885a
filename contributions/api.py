"""缴费接口 (issue #16 items 2 and 4): bases, dues and payments read like the screens (same permission,
same employer scope, 身份证号 masked for roles without PII); the tax bureau's payment records (实缴) posted
through :func:`contributions.services.payment_record`, idempotent by 电子税票号.

Idempotency (item 2): a retry of the same 电子税票号 with the same content answers the original record
(200); the same number with different content is a conflict (409); a new number is recorded (201).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response

from apiaudit.api import AuditedWritesMixin, CheckedLookupMixin
from apiaudit.filters import BoundedFilterSet
from apiaudit.pagination import CheckedCursorPagination
from enrollment.access import can_see_pii, scope_queryset
from enrollment.api import ModelViewPermission
from enrollment.bounds import MAX_AMOUNT
from enrollment.identifiers import mask_id_number
from enrollment.models import InsuredPerson

from . import services
from .models import ContributionBase, MonthlyDue, Payment, PaymentAllocation, PaymentSource

READ_ERRORS = {
    400: OpenApiResponse(description="查询参数不合法（逐项说明）"),
    401: OpenApiResponse(description="未认证"),
    403: OpenApiResponse(description="无权查看"),
    404: OpenApiResponse(description="不存在或不在本单位范围内"),
    429: OpenApiResponse(description="请求过于频繁"),
}


class PersonIdNumberField(serializers.CharField):
    """参保人身份证号: in full for roles with PII, masked otherwise (the same rule as the screens)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("source", "person.id_number")
        super().__init__(**kwargs)

    def to_representation(self, value: str) -> str:
        request = self.context.get("request")
        return value if request is not None and can_see_pii(request.user) else mask_id_number(value)


class ContributionBaseSerializer(serializers.ModelSerializer):
    person_id_number = PersonIdNumberField()
    jurisdiction = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = ContributionBase
        fields = (
            "id", "person", "person_id_number", "jurisdiction", "year_start", "category", "employer", "wage",
            "base", "basis", "updated_at",
        )  # fmt: skip


class MonthlyDueSerializer(serializers.ModelSerializer):
    person_id_number = PersonIdNumberField()
    jurisdiction = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = MonthlyDue
        fields = (
            "id", "person", "person_id_number", "employer", "jurisdiction", "month", "category", "scheme", "base",
            "employer_amount", "individual_amount", "maternity_amount", "critical_illness_amount",
            "personal_account_amount", "pool_amount", "total", "due_date", "paid_principal", "settled_on",
            "late_fee", "late_fee_paid", "deferred",
        )  # fmt: skip


class AllocationSerializer(serializers.ModelSerializer):
    month = serializers.DateField(source="due.month", read_only=True)

    class Meta:
        model = PaymentAllocation
        fields = ("due", "month", "principal", "late_fee", "created_at")


class PaymentSerializer(serializers.ModelSerializer):
    """实缴及其冲抵结果（对账）: what was received and which dues it settled; ``unapplied_amount`` held."""

    person_id_number = PersonIdNumberField()
    allocations = AllocationSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = (
            "id", "reference", "person", "person_id_number", "amount", "paid_on", "source", "unapplied_amount",
            "allocations", "recorded_at",
        )  # fmt: skip


class TaxPaymentInSerializer(serializers.Serializer):
    """税务缴费记录: one payment from the tax bureau (电子税票号 is the business key)."""

    reference = serializers.CharField(max_length=64, help_text="电子税票号（唯一；重试同号同内容返回原记录）")
    id_number = serializers.CharField(max_length=18, min_length=15, help_text="缴费人身份证号")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_AMOUNT, help_text="金额（元）"
    )
    paid_on = serializers.DateField(help_text="缴费到账日期")

    def validate_id_number(self, value: str) -> str:
        value = value.strip().upper()
        if not InsuredPerson.objects.filter(id_number=value).exists():
            raise serializers.ValidationError("未找到该身份证号的参保人员。")
        return value


class DueFilter(BoundedFilterSet):
    month_from = filters.DateFilter(field_name="month", lookup_expr="gte", label="费款所属期起（含）")
    month_before = filters.DateFilter(field_name="month", lookup_expr="lt", label="费款所属期止（不含）")
    unsettled = filters.BooleanFilter(field_name="settled_on", lookup_expr="isnull", label="未缴清")

    class Meta:
        model = MonthlyDue
        fields = ("person", "employer", "month", "deferred")


class PaymentFilter(BoundedFilterSet):
    paid_from = filters.DateFilter(field_name="paid_on", lookup_expr="gte", label="到账日期起（含）")
    paid_before = filters.DateFilter(field_name="paid_on", lookup_expr="lt", label="到账日期止（不含）")

    class Meta:
        model = Payment
        fields = ("person", "reference", "source")


@extend_schema_view(
    list=extend_schema(summary="缴费基数列表", responses={200: ContributionBaseSerializer(many=True), **READ_ERRORS}),
    retrieve=extend_schema(summary="缴费基数", responses={200: ContributionBaseSerializer, **READ_ERRORS}),
)
class ContributionBaseViewSet(CheckedLookupMixin, viewsets.ReadOnlyModelViewSet):
    """缴费基数（按缴费年度）: scoped like the admin list (employer users: their own employer's rows)."""

    permission_classes = (ModelViewPermission,)
    serializer_class = ContributionBaseSerializer
    filterset_fields = ("person", "employer", "year_start", "category")

    def get_queryset(self):
        qs = ContributionBase.objects.select_related("person", "jurisdiction").order_by("id")
        return scope_queryset(self.request.user, qs, employer_path="employer_id")


@extend_schema_view(
    list=extend_schema(
        summary="应缴（按月）列表，游标分页", responses={200: MonthlyDueSerializer(many=True), **READ_ERRORS}
    ),
    retrieve=extend_schema(summary="应缴（一个月）", responses={200: MonthlyDueSerializer, **READ_ERRORS}),
)
class MonthlyDueViewSet(CheckedLookupMixin, viewsets.ReadOnlyModelViewSet):
    """应缴: each person's monthly dues, paid principal, late fees; employer users see their own."""

    permission_classes = (ModelViewPermission,)
    serializer_class = MonthlyDueSerializer
    pagination_class = CheckedCursorPagination
    filterset_class = DueFilter

    def get_queryset(self):
        qs = MonthlyDue.objects.select_related("person", "jurisdiction")
        return scope_queryset(self.request.user, qs, employer_path="employer_id")


class PaymentPermission(permissions.BasePermission):
    """GET needs ``contributions.view_payment``; POST (a tax payment) ``contributions.add_payment``."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        action = "view" if request.method in permissions.SAFE_METHODS else "add"
        return user.has_perm(f"contributions.{action}_payment")


_EXAMPLE = {
    "reference": "332026120600000001",
    "id_number": "430102198001010011",
    "amount": "512.40",
    "paid_on": "2026-12-05",
}


@extend_schema_view(
    list=extend_schema(
        summary="实缴及对账结果列表，游标分页", responses={200: PaymentSerializer(many=True), **READ_ERRORS}
    ),
    retrieve=extend_schema(summary="实缴及对账结果", responses={200: PaymentSerializer, **READ_ERRORS}),
    create=extend_schema(
        summary="税务缴费记录入账",
        description="按电子税票号幂等：新号入账并冲抵最早未缴应缴（201）；同号同内容的重试返回原记录（200）；"
        "同号不同内容返回 409。逐项校验错误返回 400（字段 → 说明）。",
        request=TaxPaymentInSerializer,
        examples=[OpenApiExample("一笔税务缴费", value=_EXAMPLE, request_only=True)],
        responses={
            201: PaymentSerializer,
            200: OpenApiResponse(PaymentSerializer, description="重试：同号同内容，返回原记录"),
            400: OpenApiResponse(description="字段错误（字段 → 说明）"),
            401: OpenApiResponse(description="未认证"),
            403: OpenApiResponse(description="无权入账"),
            409: OpenApiResponse(description="电子税票号已登记且内容不同"),
            429: OpenApiResponse(description="请求过于频繁"),
        },
    ),
)
class PaymentViewSet(CheckedLookupMixin, AuditedWritesMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """实缴: read with their allocations (对账结果); the tax bureau posts payment records."""

    permission_classes = (PaymentPermission,)
    serializer_class = PaymentSerializer
    pagination_class = CheckedCursorPagination
    filterset_class = PaymentFilter

    def get_queryset(self):
        qs = Payment.objects.select_related("person").prefetch_related("allocations__due")
        return scope_queryset(self.request.user, qs, employer_path="allocations__due__employer_id")

    def get_serializer_class(self):
        return TaxPaymentInSerializer if self.action == "create" else PaymentSerializer

    def create(self, request, *args, **kwargs):
        incoming = TaxPaymentInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        person = InsuredPerson.objects.get(id_number=data["id_number"])
        existing = Payment.objects.filter(reference=data["reference"].strip()).first()
        if existing is not None:
            return self._retry_answer(existing, person, data)
        try:
            payment = services.payment_record(
                person=person,
                amount=data["amount"],
                paid_on=data["paid_on"],
                reference=data["reference"],
                source=PaymentSource.TAX_FILE,
                recorded_by=request.user,
                recompute_as_of=timezone.localdate(),  # the day of entry (the edge passes the date in)
            )
        except DjangoValidationError as exc:
            existing = Payment.objects.filter(reference=data["reference"].strip()).first()
            if existing is not None:  # recorded concurrently between our check and the insert
                return self._retry_answer(existing, person, data)
            raise serializers.ValidationError(exc.message_dict) from None
        payment = self.get_queryset().model.objects.prefetch_related("allocations__due").get(pk=payment.pk)
        return Response(PaymentSerializer(payment, context={"request": request}).data, status=status.HTTP_201_CREATED)

    def _retry_answer(self, existing: Payment, person: InsuredPerson, data: dict) -> Response:
        same = (
            existing.person_id == person.pk
            and existing.amount == data["amount"]
            and existing.paid_on == data["paid_on"]
            and existing.source == PaymentSource.TAX_FILE
        )
        if not same:
            return Response(
                {
                    "reference": [
                        f"电子税票号 {existing.reference} 已登记，内容不同（人员、金额或到账日期），不能重复入账。"
                    ]
                },
                status=status.HTTP_409_CONFLICT,
            )
        existing = Payment.objects.prefetch_related("allocations__due").select_related("person").get(pk=existing.pk)
        return Response(PaymentSerializer(existing, context={"request": self.request}).data, status=status.HTTP_200_OK)
