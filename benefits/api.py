"""待遇享受状态接口 (issue #16 item 4): a person's status on a day and the rule that decided it — the same
read as the person's 待遇状态 page (:func:`benefits.selectors.status_on`), scoped like the screens."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response

from apiaudit.api import CheckedLookupMixin
from enrollment.api import ModelViewPermission
from enrollment.bounds import MIN_BUSINESS_DATE
from enrollment.models import InsuredPerson

from .selectors import status_on


class StatusSerializer(serializers.Serializer):
    person = serializers.IntegerField(help_text="参保人员 id")
    day = serializers.DateField(help_text="查询日")
    status = serializers.CharField(help_text="待遇享受状态代码")
    status_zh = serializers.CharField(help_text="待遇享受状态")
    reason = serializers.CharField(help_text="理由")
    citation = serializers.CharField(allow_blank=True, help_text="依据条款")


class DayQuery(serializers.Serializer):
    on = serializers.DateField(required=False, help_text="查询日（默认今天）")

    def validate_on(self, value):
        if value < MIN_BUSINESS_DATE:
            raise serializers.ValidationError(f"不早于 {MIN_BUSINESS_DATE}。")
        return value


class PersonStatusViewSet(CheckedLookupMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """待遇享受状态: ``GET /api/v1/person-status/{参保人员 id}/?on=YYYY-MM-DD``."""

    permission_classes = (ModelViewPermission,)
    serializer_class = StatusSerializer

    def get_queryset(self):
        return InsuredPerson.objects.visible_to(self.request.user).order_by("id")

    def check_permissions(self, request):
        super().check_permissions(request)
        if not request.user.has_perm("benefits.view_eligibilityperiod"):
            self.permission_denied(request)

    @extend_schema(
        summary="参保人员某日的待遇享受状态及理由",
        parameters=[OpenApiParameter("on", OpenApiTypes.DATE, description="查询日（默认今天）")],
        responses={200: StatusSerializer},
    )
    def retrieve(self, request, *args, **kwargs):
        person = self.get_object()
        query = DayQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data.get("on") or timezone.localdate()  # the edge passes the day in
        answer = status_on(person, day)
        return Response(
            StatusSerializer(
                {
                    "person": person.pk,
                    "day": answer.day,
                    "status": answer.status,
                    "status_zh": answer.status_zh,
                    "reason": answer.reason,
                    "citation": answer.citation,
                }
            ).data
        )
