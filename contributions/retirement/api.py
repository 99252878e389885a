"""退休清算接口 (issue #16 item 4): clearance cases read like their admin list (same permission, scope)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from apiaudit.api import CheckedLookupMixin
from enrollment.access import scope_queryset
from enrollment.api import ModelViewPermission

from .models import RetirementClearanceCase


class ClearanceCaseSerializer(serializers.ModelSerializer):
    jurisdiction = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = RetirementClearanceCase
        exclude = ("run",)


@extend_schema_view(list=extend_schema(summary="退休清算案件列表"), retrieve=extend_schema(summary="退休清算案件"))
class ClearanceCaseViewSet(CheckedLookupMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = (ModelViewPermission,)
    serializer_class = ClearanceCaseSerializer
    filterset_fields = ("person", "status", "reason")

    def get_queryset(self):
        qs = RetirementClearanceCase.objects.select_related("jurisdiction").order_by("id")
        return scope_queryset(self.request.user, qs, person_path="person_id")
