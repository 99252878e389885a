"""Screens for jurisdictions, dated policy parameters and reference statistics."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.fields import JSONString
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from enrollment.admin_mixins import BureauAdmin

from .calculations import discover
from .catalog import catalog, catalog_labels, jsonable, scale_mismatch, validate_value
from .drafts import DraftError, can_publish, check_value, comparison, draft_overlay_of, draft_publish, draft_withdraw
from .labels import decision_small, in_words
from .loader import missing_keys
from .models import (
    DraftStatus,
    Jurisdiction,
    ParameterOrigin,
    PolicyDraft,
    PolicyDraftValue,
    PolicyParameter,
    ReferenceStatistic,
    ScenarioRun,
)
from .resolver import draft_overlay
from .scenario_describe import describe
from .scenarios import MAX_CASES, MAX_TEXT_BYTES, ScenarioTextError, results_json, run_text


@admin.register(Jurisdiction)
class JurisdictionAdmin(BureauAdmin):
    list_display = ("name", "code", "document", "is_draft", "completeness")
    readonly_fields = ("code", "missing_values")
    fields = (
        "code",
        "name",
        "document",
        "document_status",
        "is_draft",
        "completeness_note",
        "missing_values",
    )

    @admin.display(description="参数完整性")
    def completeness(self, obj: Jurisdiction) -> str:
        n = len(missing_keys(obj.code, date.today()))
        return "完整" if n == 0 else f"缺 {n} 项（需录入）"

    @admin.display(description="今日缺少的参数（政策文件未规定，需由经办人员录入）")
    def missing_values(self, obj: Jurisdiction) -> str:
        rows = missing_keys(obj.code, date.today())
        if not rows:
            return "无"
        # the catalog's words first, the key as small print (staff search the parameter list by either)
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", '<li>{} <small class="quiet">{}</small></li>', ((label, key) for key, label in rows)),
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _DecimalJSONField(forms.JSONField):
    """JSON input whose decimal numbers are read as ``Decimal`` (never float)."""

    def to_python(self, value):
        if self.disabled or value in self.empty_values:
            return None
        if isinstance(value, (list, dict, int, float, JSONString)):
            return value
        try:
            return json.loads(value, parse_float=Decimal)
        except json.JSONDecodeError:
            raise ValidationError(self.error_messages["invalid"], code="invalid", params={"value": value}) from None


class PolicyParameterForm(forms.ModelForm):
    """A dated value checked against the key's type and unit in the catalog (issue 11 item 4)."""

    key = forms.ChoiceField(label="参数键", choices=())
    value = _DecimalJSONField(
        label="取值",
        required=False,
        help_text='JSON：数字或数字字符串，例如 8 或 "0.05"；表格写成对象；null 表示本地不适用。',
    )
    confirm_scale = forms.BooleanField(
        label="确认数量级无误",
        required=False,
        help_text="新值与现行值相差 50 倍以上时须勾选（例如把 0.05% 录成 0.0005）。",
    )

    class Meta:
        model = PolicyParameter
        fields = ("jurisdiction", "key", "effective_from", "value", "citation", "decision", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "key" not in self.fields:  # absent when shown read-only (a history version to a view-only role)
            return
        keys = catalog()
        self.fields["key"].choices = [
            (k, f"{k}  {spec.label}  [{spec.type_label}{'，' + spec.unit if spec.unit else ''}]")
            for k, spec in sorted(keys.items())
        ]
        key = self.data.get("key") if self.is_bound else (self.initial.get("key") or self.instance.key)
        if key in keys:
            self.fields["value"].help_text = f"{keys[key].describe()}。{self.fields['value'].help_text}"

    def clean(self):
        cleaned = super().clean()
        key, value = cleaned.get("key"), cleaned.get("value")
        if key is None or "value" not in cleaned:
            return cleaned
        try:
            normalised = validate_value(key, value)
        except ValidationError as exc:
            self.add_error("value", exc)
            return cleaned
        cleaned["value"] = jsonable(value)  # as entered, numbers as text: never a float in the JSON column
        jurisdiction, effective_from = cleaned.get("jurisdiction"), cleaned.get("effective_from")
        if jurisdiction and effective_from and not cleaned.get("confirm_scale"):
            current = _value_in_force(jurisdiction, key, effective_from, exclude=self.instance.pk)
            problem = scale_mismatch(key, normalised, current)
            if problem:
                self.add_error("value", problem)
        return cleaned


def _value_in_force(jurisdiction: Jurisdiction, key: str, on: date, *, exclude: int | None) -> Any:
    """The value of ``key`` in force on ``on`` apart from the row being edited (else the latest other one)."""
    rows = PolicyParameter.objects.filter(jurisdiction=jurisdiction, key=key).exclude(pk=exclude)
    row = rows.filter(effective_from__lte=on).order_by("-effective_from").first()
    row = row or rows.order_by("-effective_from").first()
    return row.value if row else None


@admin.register(PolicyParameter)
class PolicyParameterAdmin(BureauAdmin):
    """A new dated value is a new row; history of every change is kept."""

    form = PolicyParameterForm
    list_display = (
        "jurisdiction",
        "key_display",
        "effective_from",
        "value_display",
        "citation_display",
        "decision_display",
        "origin",
    )
    list_filter = ("jurisdiction", "origin")
    search_fields = ("key", "citation", "note")

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        # the scale confirmation belongs to a form that saves; a read-only view (history) has nothing to confirm
        if obj is not None and not self.has_change_permission(request, obj):
            return [f for f in fields if f != "confirm_scale"]
        return fields

    list_select_related = ("jurisdiction",)

    @admin.display(description="说明")
    def label(self, obj: PolicyParameter) -> str:
        return catalog_labels().get(obj.key, "")

    @admin.display(description="参数", ordering="key")
    def key_display(self, obj: PolicyParameter) -> str:
        """The catalog's words, the key as small print."""
        label = catalog_labels().get(obj.key)
        if not label:
            return obj.key
        return format_html('{}<br><small class="quiet">{}</small>', label, obj.key)

    @admin.display(description="条款出处", ordering="citation")
    def citation_display(self, obj: PolicyParameter) -> str:
        return in_words(obj.citation)

    @admin.display(description="产品决定", ordering="decision")
    def decision_display(self, obj: PolicyParameter) -> str:
        """Decision ids (D-X5) are the analysts' references: small print."""
        return decision_small(obj.decision)

    @admin.display(description="取值")
    def value_display(self, obj: PolicyParameter) -> str:
        return "不适用（null）" if obj.value is None else json.dumps(obj.value, ensure_ascii=False)[:120]

    def save_model(self, request, obj, form, change):
        obj.origin = ParameterOrigin.STAFF
        super().save_model(request, obj, form, change)


@admin.register(ReferenceStatistic)
class ReferenceStatisticAdmin(BureauAdmin):
    list_display = (
        "jurisdiction",
        "key",
        "period_label",
        "effective_from",
        "value",
        "is_demo",
        "source",
        "entered_by",
    )
    list_filter = ("jurisdiction", "key", "is_demo")
    list_select_related = ("jurisdiction", "entered_by")
    readonly_fields = ("entered_by",)

    def save_model(self, request, obj, form, change):
        obj.entered_by = request.user
        super().save_model(request, obj, form, change)


class ScenarioRunForm(forms.Form):
    """上传或粘贴情形用例文件 (SCENARIOS.md format), run against the policy in force."""

    file = forms.FileField(label="用例文件（.yaml）", required=False)
    text = forms.CharField(
        label="或粘贴用例", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 16, "cols": 100})
    )
    draft = forms.ModelChoiceField(
        label="按政策草案运行",
        queryset=PolicyDraft.objects.filter(status=DraftStatus.DRAFT),
        required=False,
        empty_label="否：按现行政策",
        help_text="选定草案时，各用例按“现行政策 + 草案取值”计算（不写入任何政策参数）",
    )

    def clean(self):
        cleaned = super().clean()
        upload, text = cleaned.get("file"), cleaned.get("text") or ""
        if upload is not None:
            if upload.size > MAX_TEXT_BYTES:
                raise ValidationError(f"文件过大：不得超过 {MAX_TEXT_BYTES // 1_000_000} MB")
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError("文件应为 UTF-8 编码的 YAML") from None
            cleaned["file_name"] = upload.name[:255]
        else:
            cleaned["file_name"] = ""
        if not text.strip():
            raise ValidationError("请上传用例文件或粘贴用例")
        draft = cleaned.get("draft")
        try:
            with draft_overlay(draft_overlay_of(draft) if draft else None):
                cleaned["results"] = run_text(text, cleaned["file_name"] or "(pasted)")
        except ScenarioTextError as exc:
            raise ValidationError(str(exc)) from None
        cleaned["yaml_text"] = text
        return cleaned


@admin.register(ScenarioRun)
class ScenarioRunAdmin(BureauAdmin):
    """情形用例运行: analysts run a scenario file against the policy in force; runs are kept, never edited."""

    list_display = ("ran_at", "ran_by", "file_name", "draft", "passed", "failed")
    list_filter = ("ran_at",)
    list_select_related = ("ran_by", "draft")
    fields = ("ran_by", "ran_at", "file_name", "draft", "passed", "failed", "case_results", "yaml_text")
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.describe_view)
        return [path("describe/", view, name="policy_scenariorun_describe"), *super().get_urls()]

    def describe_view(self, request: HttpRequest) -> HttpResponse:
        """计算说明: every calculation's inputs and outputs (the same list as ``run_scenarios --describe``)."""
        if not self.has_view_permission(request) or request.method != "GET":
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "情形用例计算说明（输入项与输出项）",
            "opts": self.model._meta,
            "descriptions": describe(discover()),
        }
        return TemplateResponse(request, "admin/policy/scenario_describe.html", context)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ScenarioRunForm(request.POST, request.FILES) if request.method == "POST" else ScenarioRunForm()
        if request.method == "POST" and form.is_valid():
            data = results_json(form.cleaned_data["results"])
            run = ScenarioRun.objects.create(
                ran_by=request.user,
                file_name=form.cleaned_data["file_name"],
                yaml_text=form.cleaned_data["yaml_text"],
                draft=form.cleaned_data.get("draft"),
                results=data,
                passed=data["passed"],
                failed=data["failed"],
            )
            return HttpResponseRedirect(reverse("admin:policy_scenariorun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "运行情形用例（按现行政策或政策草案）",
            "opts": self.model._meta,
            "form": form,
            "max_cases": MAX_CASES,
            "describe_url": reverse("admin:policy_scenariorun_describe"),
        }
        return TemplateResponse(request, "admin/policy/scenario_run.html", context)

    @admin.display(description="各用例结果")
    def case_results(self, obj: ScenarioRun) -> str:
        cases = (obj.results or {}).get("cases") or []
        if not cases:
            return "无"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            (
                (
                    c.get("name", ""),
                    "通过" if c.get("passed") else "失败",
                    "；".join(c.get("problems") or []) or "—",
                    json.dumps(c.get("computed") or {}, ensure_ascii=False),
                )
                for c in cases
            ),
        )
        return format_html(
            "<table><thead><tr><th>用例</th><th>结果</th><th>差异（期望 / 计算）</th><th>计算值</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )


# --- 政策草案 (issue #18 item 4) ------------------------------------------------------------------------


class PolicyDraftValueForm(forms.ModelForm):
    """One proposed value, checked against the catalog's type and unit and the scale of the value in force."""

    key = forms.ChoiceField(label="参数键", choices=())
    value = _DecimalJSONField(
        label="取值",
        required=False,
        help_text='JSON：数字或数字字符串，例如 8 或 "0.05"；表格写成对象；null 表示本地不适用。',
    )
    confirm_scale = forms.BooleanField(label="确认数量级无误", required=False)

    class Meta:
        model = PolicyDraftValue
        fields = ("jurisdiction", "key", "effective_from", "value", "citation", "decision", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "key" in self.fields:
            self.fields["key"].choices = [("", "---------")] + [
                (k, f"{k}  {spec.label}  [{spec.type_label}{'，' + spec.unit if spec.unit else ''}]")
                for k, spec in sorted(catalog().items())
            ]

    def clean(self):
        cleaned = super().clean()
        key, jurisdiction = cleaned.get("key"), cleaned.get("jurisdiction")
        if not key or jurisdiction is None or "value" not in cleaned:
            return cleaned
        try:
            cleaned["value"] = check_value(
                jurisdiction.code,
                key,
                cleaned.get("effective_from"),
                cleaned.get("value"),
                confirm_scale=bool(cleaned.get("confirm_scale")),
            )
        except ValidationError as exc:
            self.add_error("value", exc)
        return cleaned


class PolicyDraftValueInline(admin.TabularInline):
    model = PolicyDraftValue
    form = PolicyDraftValueForm
    extra = 1
    fields = ("jurisdiction", "key", "effective_from", "value", "citation", "decision", "confirm_scale", "note")

    def _open(self, request, obj) -> bool:
        return obj is None or obj.is_open

    def has_add_permission(self, request, obj=None):
        return self._open(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._open(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._open(request, obj) and super().has_delete_permission(request, obj)


@admin.register(PolicyDraft)
class PolicyDraftAdmin(BureauAdmin):
    """政策草案: staff read; administrators and case workers edit an open draft; an administrator other than
    the author publishes it (双人复核); a draft can be withdrawn. Nothing reaches production before publishing."""

    inlines = (PolicyDraftValueInline,)
    list_display = ("name", "status", "created_by", "created_at", "published_by", "published_at", "links")
    list_filter = ("status",)
    list_select_related = ("created_by", "published_by")
    search_fields = ("name", "description")
    fields = (
        "name",
        "description",
        "status",
        "created_by",
        "created_at",
        "published_by",
        "published_at",
        "withdrawn_by",
        "withdrawn_at",
        "links",
    )
    readonly_fields = (
        "links",
        "status",
        "created_by",
        "created_at",
        "published_by",
        "published_at",
        "withdrawn_by",
        "withdrawn_at",
    )

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.is_open:
            return False  # a published or withdrawn draft is kept as it was
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # withdrawn, never deleted (scenario runs and simulations refer to it)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="操作")
    def links(self, obj: PolicyDraft) -> str:
        if obj is None or obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">对照表（发布 / 撤回）</a>', reverse("admin:policy_policydraft_compare", args=[obj.pk])
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/compare/", wrap(self.compare_view), name="policy_policydraft_compare"),
            path("<path:object_id>/publish/", wrap(self.publish_view), name="policy_policydraft_publish"),
            path("<path:object_id>/withdraw/", wrap(self.withdraw_view), name="policy_policydraft_withdraw"),
            *super().get_urls(),
        ]

    def _draft(self, request: HttpRequest, object_id: str) -> PolicyDraft:
        if not str(object_id).isdigit():
            raise PermissionDenied
        draft = get_object_or_404(self.get_queryset(request), pk=int(object_id))
        if not self.has_view_permission(request, draft):
            raise PermissionDenied
        return draft

    def compare_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """对照表: each proposed value beside the value in force on its date (catalog label, type, unit)."""
        draft = self._draft(request, object_id)
        if request.method != "GET":
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"政策草案对照表：{draft.name}",
            "opts": self.model._meta,
            "draft": draft,
            "rows": comparison(draft),
            "can_publish": can_publish(draft, request.user),
            "can_withdraw": draft.is_open and self.has_change_permission(request, draft),
            "is_author": draft.created_by_id == request.user.pk,
        }
        return TemplateResponse(request, "admin/policy/draft_compare.html", context)

    def publish_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """发布 (POST): an administrator other than the author writes the values into production."""
        draft = self._draft(request, object_id)
        if request.method != "POST" or not request.user.has_perm("policy.publish_policydraft"):
            raise PermissionDenied
        try:
            n = draft_publish(draft, request.user)
        except DraftError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"草案“{draft.name}”已发布：写入 {n} 条政策参数（含历史记录）。")
        return HttpResponseRedirect(reverse("admin:policy_policydraft_compare", args=[draft.pk]))

    def withdraw_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """撤回 (POST): the draft is closed and never published."""
        draft = self._draft(request, object_id)
        if request.method != "POST" or not self.has_change_permission(request, draft):
            raise PermissionDenied
        try:
            draft_withdraw(draft, request.user)
        except DraftError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"草案“{draft.name}”已撤回。")
        return HttpResponseRedirect(reverse("admin:policy_policydraft_compare", args=[draft.pk]))
