"""API of scenario runs (/api/scenario-runs/, issue #18 item 3): POST a scenario text → the run's result;
GET the list of runs and one run. The same permissions as the admin: ``policy.view_scenariorun`` to read,
``policy.add_scenariorun`` to run (administrators and case workers run, the auditor reads)."""

from __future__ import annotations

from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response

from apiaudit.api import CheckedLookupMixin

from .drafts import draft_overlay_of
from .models import DraftStatus, PolicyDraft, ScenarioRun
from .resolver import draft_overlay
from .scenarios import MAX_TEXT_BYTES, ScenarioTextError, results_json, run_text


class ScenarioRunPermission(permissions.BasePermission):
    """GET needs ``policy.view_scenariorun``; POST needs ``policy.add_scenariorun``."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        action = "view" if request.method in permissions.SAFE_METHODS else "add"
        return user.has_perm(f"policy.{action}_scenariorun")


class ScenarioRunSerializer(serializers.ModelSerializer):
    ran_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ScenarioRun
        fields = ("id", "ran_by", "ran_at", "file_name", "draft", "passed", "failed", "results", "yaml_text")
        read_only_fields = fields


class ScenarioRunListSerializer(ScenarioRunSerializer):
    class Meta(ScenarioRunSerializer.Meta):
        fields = ("id", "ran_by", "ran_at", "file_name", "draft", "passed", "failed")
        read_only_fields = fields


class ScenarioRunCreateSerializer(serializers.Serializer):
    """情形用例文件内容 (YAML text, SCENARIOS.md), at most 1 MB and 2,000 cases."""

    yaml = serializers.CharField(trim_whitespace=False, max_length=MAX_TEXT_BYTES)
    file_name = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    draft = serializers.PrimaryKeyRelatedField(
        queryset=PolicyDraft.objects.filter(status=DraftStatus.DRAFT),
        required=False,
        allow_null=True,
        default=None,
        help_text="政策草案 id：按“现行政策 + 草案”运行；省略则按现行政策",
    )

    def validate(self, attrs):
        draft = attrs.get("draft")
        try:
            with draft_overlay(draft_overlay_of(draft) if draft else None):
                attrs["results"] = run_text(attrs["yaml"], attrs.get("file_name") or "(api)")
        except ScenarioTextError as exc:
            raise serializers.ValidationError({"yaml": [str(exc)]}) from None
        return attrs


class ScenarioRunViewSet(CheckedLookupMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = (ScenarioRunPermission,)
    filterset_fields = ("file_name",)

    def get_queryset(self):
        return ScenarioRun.objects.select_related("ran_by").order_by("-ran_at", "-id")

    def get_serializer_class(self):
        if self.action == "create":
            return ScenarioRunCreateSerializer
        return ScenarioRunListSerializer if self.action == "list" else ScenarioRunSerializer

    def create(self, request, *args, **kwargs):
        incoming = ScenarioRunCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = results_json(incoming.validated_data["results"])
        run = ScenarioRun.objects.create(
            ran_by=request.user,
            file_name=incoming.validated_data.get("file_name", ""),
            yaml_text=incoming.validated_data["yaml"],
            draft=incoming.validated_data.get("draft"),
            results=data,
            passed=data["passed"],
            failed=data["failed"],
        )
        return Response(ScenarioRunSerializer(run, context={"request": request}).data, status=status.HTTP_201_CREATED)
