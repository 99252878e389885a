"""报销接口 (issue #16 item 4): claims read like the claims list — the same permission, and an employer user
(who has no claims permission today) is refused; cursor-paged for the large list."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from apiaudit.api import CheckedLookupMixin
from apiaudit.filters import BoundedFilterSet
from apiaudit.pagination import CheckedCursorPagination
from enrollment.access import scope_queryset
from enrollment.api import ModelViewPermission

from .models import Claim


class ClaimSerializer(serializers.ModelSerializer):
    jurisdiction = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # the same levels as hospital_level (one enum in the schema): 处方/实体医疗机构等级, blank when none
    origin_level = serializers.CharField(read_only=True, allow_blank=True)

    class Meta:
        model = Claim
        fields = "__all__"


class ClaimFilter(BoundedFilterSet):
    start_from = filters.DateFilter(field_name="start_date", lookup_expr="gte", label="就诊开始日起（含）")
    start_before = filters.DateFilter(field_name="start_date", lookup_expr="lt", label="就诊开始日止（不含）")

    class Meta:
        model = Claim
        fields = ("person", "med_type", "business_key")


@extend_schema_view(list=extend_schema(summary="报销列表（游标分页）"), retrieve=extend_schema(summary="一笔报销"))
class ClaimViewSet(CheckedLookupMixin, viewsets.ReadOnlyModelViewSet):
    """报销: the adjudicated claims; rows scoped like the admin (person and the months worked there)."""

    permission_classes = (ModelViewPermission,)
    serializer_class = ClaimSerializer
    pagination_class = CheckedCursorPagination
    filterset_class = ClaimFilter

    def get_queryset(self):
        qs = Claim.objects.select_related("jurisdiction")
        return scope_queryset(self.request.user, qs, person_path="person", months_path="start_date")
