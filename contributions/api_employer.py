"""单位账单接口 (issue #16 item 1): an employer reads its own bills, arrears and its people's payment years —
the same figures as the screens (月度应缴汇总, 单位缴费通知, 欠费明细, 缴费年限), scoped by the one rule:
an employer user sees only its own employer (another employer's id is a 404), bureau staff any.

Late fees are shown as of the day of the request by the nightly job's own rule (nothing is written:
:func:`contributions.services.read_as_of`), as the screens do."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apiaudit.api import CheckedLookupMixin
from enrollment.access import can_see_pii
from enrollment.identifiers import mask_id_number
from enrollment.models import Employer, InsuredPerson
from policy.resolver import PolicyError

from . import selectors, services
from .views import employer_bill_rows

READ_ERRORS = {
    400: OpenApiResponse(description="查询参数不合法（逐项说明）"),
    401: OpenApiResponse(description="未认证"),
    403: OpenApiResponse(description="无权查看"),
    404: OpenApiResponse(description="不存在或不在本单位范围内"),
    429: OpenApiResponse(description="请求过于频繁"),
}
_MONEY = {"max_digits": 14, "decimal_places": 2}
_MONTHS = {"max_digits": 8, "decimal_places": 2}


class DuesPermission(permissions.BasePermission):
    """``contributions.view_monthlydue`` (the bill and arrears screens' permission); read only."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and request.method in permissions.SAFE_METHODS
            and user.has_perm("contributions.view_monthlydue")
        )


class MonthSummarySerializer(serializers.Serializer):
    """月度应缴汇总的一行."""

    month = serializers.DateField(help_text="费款所属期（月初）")
    persons = serializers.IntegerField(help_text="人数")
    base = serializers.DecimalField(**_MONEY, help_text="缴费基数合计")
    employer_amount = serializers.DecimalField(**_MONEY, help_text="单位缴费")
    individual_amount = serializers.DecimalField(**_MONEY, help_text="个人缴费")
    maternity_amount = serializers.DecimalField(**_MONEY, allow_null=True, help_text="生育保险（未知为空）")
    critical_illness_amount = serializers.DecimalField(**_MONEY, allow_null=True, help_text="大病保险（未知为空）")
    total = serializers.DecimalField(**_MONEY, help_text="应缴合计")
    paid = serializers.DecimalField(**_MONEY, help_text="已缴本金")
    unpaid = serializers.DecimalField(**_MONEY, help_text="未缴本金")
    late_fee = serializers.DecimalField(**_MONEY, help_text="滞纳金（截至查询日）")
    late_fee_paid = serializers.DecimalField(**_MONEY, help_text="已缴滞纳金")
    late_fee_unpaid = serializers.DecimalField(**_MONEY, help_text="未缴滞纳金")


class BillLineSerializer(serializers.Serializer):
    """单位缴费通知的一行（一人一月）; 身份证号 masked for roles without PII."""

    person = serializers.IntegerField()
    id_number = serializers.CharField()
    name = serializers.CharField()
    month = serializers.DateField()
    base = serializers.DecimalField(**_MONEY)
    employer_amount = serializers.DecimalField(**_MONEY)
    individual_amount = serializers.DecimalField(**_MONEY)
    total = serializers.DecimalField(**_MONEY)
    paid_principal = serializers.DecimalField(**_MONEY)
    principal_due = serializers.DecimalField(**_MONEY, help_text="未缴本金")
    late_fee_due = serializers.DecimalField(**_MONEY, help_text="未缴滞纳金（截至查询日）")
    due_date = serializers.DateField(allow_null=True)
    deferred = serializers.BooleanField(help_text="缓缴")


class BillTotalsSerializer(serializers.Serializer):
    employer = serializers.DecimalField(**_MONEY)
    individual = serializers.DecimalField(**_MONEY)
    maternity = serializers.DecimalField(**_MONEY)
    critical_illness = serializers.DecimalField(**_MONEY)
    total = serializers.DecimalField(**_MONEY)
    paid = serializers.DecimalField(**_MONEY)
    late_fee = serializers.DecimalField(**_MONEY)


class NoticeSerializer(serializers.Serializer):
    employer = serializers.IntegerField()
    month = serializers.DateField()
    as_of = serializers.DateField(help_text="滞纳金截至日（查询日）")
    totals = BillTotalsSerializer()
    lines = BillLineSerializer(many=True)


class ArrearsSerializer(serializers.Serializer):
    employer = serializers.IntegerField()
    as_of = serializers.DateField()
    lines = BillLineSerializer(many=True)


class PaymentYearsSerializer(serializers.Serializer):
    """缴费年限: months by kind as stored, and as the jurisdiction counts them (累计, 本地实际)."""

    person = serializers.IntegerField()
    on = serializers.DateField()
    jurisdiction = serializers.CharField()
    deemed_months = serializers.DecimalField(**_MONTHS, help_text="视同缴费月数")
    military_months = serializers.DecimalField(**_MONTHS, help_text="军龄月数")
    local_months = serializers.DecimalField(**_MONTHS, help_text="本地实际缴费月数")
    other_region_months = serializers.DecimalField(**_MONTHS, help_text="转入的外地缴费月数")
    cumulative_months = serializers.DecimalField(max_digits=8, decimal_places=2, help_text="累计缴费月数（统筹区口径）")
    counted_local_months = serializers.DecimalField(**_MONTHS, help_text="本地实际缴费月数（计）")
    parts = serializers.DictField(child=serializers.CharField(), help_text="说明 → 月数")
    citations = serializers.DictField(child=serializers.CharField(), help_text="参数 → 条款")


def _line(due, *, mask: bool) -> dict:
    return {
        "person": due.person_id,
        "id_number": mask_id_number(due.person.id_number) if mask else due.person.id_number,
        "name": due.person.name,
        "month": due.month,
        "base": due.base,
        "employer_amount": due.employer_amount,
        "individual_amount": due.individual_amount,
        "total": due.total,
        "paid_principal": due.paid_principal,
        "principal_due": due.principal_due,
        "late_fee_due": due.late_fee_due,
        "due_date": due.due_date,
        "deferred": due.deferred,
    }


def _month(text: str | None, today: date) -> date:
    if not text:
        return today.replace(day=1)
    try:
        day = date.fromisoformat(text if len(text) > 7 else f"{text}-01")
    except ValueError:
        raise serializers.ValidationError({"month": ["应为 YYYY-MM 或 YYYY-MM-DD。"]}) from None
    if not 1990 <= day.year <= 2100:
        raise serializers.ValidationError({"month": ["年份应在 1990 到 2100 之间。"]})
    return day.replace(day=1)


_YEAR = OpenApiParameter("year", OpenApiTypes.INT, description="缴费年度（可选）")
_MONTH_PARAM = OpenApiParameter("month", OpenApiTypes.STR, description="费款所属期 YYYY-MM（默认本月）")


class EmployerBillViewSet(CheckedLookupMixin, viewsets.GenericViewSet):
    """单位账单: /employer-bills/{单位 id}/ (月度应缴汇总), …/notice/ (单位缴费通知), …/arrears/ (欠费明细)."""

    permission_classes = (DuesPermission,)
    pagination_class = None
    filter_backends = ()
    serializer_class = MonthSummarySerializer

    def get_queryset(self):
        return Employer.objects.visible_to(self.request.user).order_by("id")

    @extend_schema(
        summary="单位月度应缴汇总",
        description="按月：人数、基数、单位与个人缴费、已缴、未缴、滞纳金（截至查询日）。",
        parameters=[_YEAR],
        responses={200: MonthSummarySerializer(many=True), **READ_ERRORS},
    )
    def retrieve(self, request, *args, **kwargs):
        employer = self.get_object()
        raw = request.query_params.get("year")
        year = None
        if raw:
            if not (raw.isascii() and raw.isdigit() and 1990 <= int(raw) <= 2100):
                raise serializers.ValidationError({"year": ["应为 1990 到 2100 的年份。"]})
            year = int(raw)
        today = timezone.localdate()
        rows = services.read_as_of(
            services.employer_owing_persons(employer.pk), today, lambda: employer_bill_rows(employer, year=year)
        )
        return Response(MonthSummarySerializer(rows, many=True).data)

    @extend_schema(
        summary="单位缴费通知（一个月的账单）",
        description="该月每人应缴、已缴、未缴与滞纳金（截至查询日）及合计；默认本月。",
        parameters=[_MONTH_PARAM],
        responses={200: NoticeSerializer, **READ_ERRORS},
    )
    @action(detail=True, methods=["get"])
    def notice(self, request, *args, **kwargs):
        employer = self.get_object()
        today = timezone.localdate()
        month = _month(request.query_params.get("month"), today)
        mask = not can_see_pii(request.user)

        def read() -> dict:
            bill = selectors.employer_month_bill(employer.pk, month)
            return {"totals": bill["totals"], "lines": [_line(d, mask=mask) for d in bill["dues"]]}

        bill = services.read_as_of(services.employer_owing_persons(employer.pk), today, read)
        body = {"employer": employer.pk, "month": month, "as_of": today, **bill}
        return Response(NoticeSerializer(body).data)

    @extend_schema(
        summary="单位欠费明细",
        description="逾期未缴的每人每月：未缴本金、滞纳金（截至查询日）、是否缓缴。",
        responses={200: ArrearsSerializer, **READ_ERRORS},
    )
    @action(detail=True, methods=["get"])
    def arrears(self, request, *args, **kwargs):
        employer = self.get_object()
        today = timezone.localdate()
        mask = not can_see_pii(request.user)
        lines = services.read_as_of(
            services.employer_owing_persons(employer.pk),
            today,
            lambda: [_line(d, mask=mask) for d in selectors.employer_arrears(employer.pk, today)],
        )
        return Response(ArrearsSerializer({"employer": employer.pk, "as_of": today, "lines": lines}).data)


class PaymentYearsViewSet(CheckedLookupMixin, viewsets.GenericViewSet):
    """缴费年限: /payment-years/{参保人 id}/ — a person the caller may see (an employer user: its own people)."""

    permission_classes = (DuesPermission,)
    pagination_class = None
    filter_backends = ()
    serializer_class = PaymentYearsSerializer

    def get_queryset(self):
        return InsuredPerson.objects.visible_to(self.request.user).order_by("id")

    @extend_schema(
        summary="缴费年限（截至今日）",
        description="视同、军龄、本地实际、转入月数，及按参保地口径计的累计与本地实际月数（附条款）。"
        "没有参保关系的人员返回 400。",
        responses={200: PaymentYearsSerializer, **READ_ERRORS},
    )
    def retrieve(self, request, *args, **kwargs):
        person = self.get_object()
        today = timezone.localdate()
        try:
            years = selectors.payment_years(person, today)
        except ValueError as exc:
            raise serializers.ValidationError({"person": [str(exc)]}) from None
        except PolicyError as exc:  # a policy value the documents leave to staff: named, never a 500
            raise serializers.ValidationError({"policy": [str(exc)]}) from None
        body = {
            "person": person.pk,
            "on": today,
            "jurisdiction": years.jurisdiction,
            **years.kinds,
            "cumulative_months": years.counted.cumulative,
            "counted_local_months": years.counted.local,
            "parts": {k: str(v) for k, v in years.counted.parts.items()},
            "citations": {k: str(v) for k, v in years.counted.citations.items()},
        }
        return Response(PaymentYearsSerializer(body).data)
