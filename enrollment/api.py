"""Read API for the register (/api/). Login required; the same scoping and masking as the admin."""

from __future__ import annotations

from django.db.models import Prefetch
from rest_framework import permissions, serializers, viewsets

from apiaudit.api import CheckedLookupMixin

from .access import scope_queryset
from .identifiers import mask_id_number, mask_phone
from .models import Employer, EnrolmentSpan, InsuredPerson
from .roles import PII


class ModelViewPermission(permissions.BasePermission):
    """The model's view permission (the same rule as the admin); the rows then come from the scope rule."""

    def has_permission(self, request, view) -> bool:
        opts = view.get_queryset().model._meta
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(f"{opts.app_label}.view_{opts.model_name}"))


class EmployerSerializer(serializers.ModelSerializer):
    jurisdiction = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Employer
        fields = (
            "id",
            "credit_code",
            "name",
            "kind",
            "scheme",
            "jurisdiction",
            "registered_on",
            "status",
            "is_difficult",
            "difficult_from",
            "difficult_until",
            "payment_frequency",
        )


class SpanSerializer(serializers.ModelSerializer):
    jurisdiction = serializers.SlugRelatedField(slug_field="code", read_only=True)
    psn_type = serializers.CharField(read_only=True)

    class Meta:
        model = EnrolmentSpan
        fields = (
            "id",
            "jurisdiction",
            "category",
            "psn_type",
            "employer",
            "scheme",
            "start",
            "end",
            "status",
            "insutype",
        )


class PersonSerializer(serializers.ModelSerializer):
    spans = SpanSerializer(many=True, read_only=True)

    class Meta:
        model = InsuredPerson
        fields = (
            "id",
            "id_number",
            "name",
            "sex",
            "birth_date",
            "female_role",
            "phone",
            "deemed_months",
            "military_months",
            "spans",
        )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.has_perm(PII):
            data["id_number"], data["phone"] = mask_id_number(data["id_number"]), mask_phone(data["phone"])
        return data


class EmployerViewSet(CheckedLookupMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = (ModelViewPermission,)
    serializer_class = EmployerSerializer
    filterset_fields = ("jurisdiction__code", "status", "kind")

    def get_queryset(self):
        return Employer.objects.visible_to(self.request.user).select_related("jurisdiction").order_by("id")


class PersonViewSet(CheckedLookupMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = (ModelViewPermission,)
    serializer_class = PersonSerializer
    filterset_fields = ("id_number", "sex")

    def get_queryset(self):
        # A (former) employer sees only the spans at its own employer, never the new employer's.
        spans = scope_queryset(self.request.user, EnrolmentSpan.objects.all(), employer_path="employer_id")
        return (
            InsuredPerson.objects.visible_to(self.request.user)
            .prefetch_related(Prefetch("spans", queryset=spans.select_related("jurisdiction").order_by("start")))
            .order_by("id")
        )
