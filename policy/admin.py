"""Screens for jurisdictions, dated policy parameters and reference statistics."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.fields import JSONString
from django.utils.html import format_html, format_html_join

from enrollment.admin_mixins import BureauAdmin

from .catalog import catalog, catalog_labels, jsonable, scale_mismatch, validate_value
from .loader import missing_keys
from .models import Jurisdiction, ParameterOrigin, PolicyParameter, ReferenceStatistic


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
        return format_html("<ul>{}</ul>", format_html_join("", "<li><code>{}</code> {}</li>", rows))

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
        "key",
        "label",
        "effective_from",
        "value_display",
        "citation",
        "decision",
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
    readonly_fields = ("entered_by",)

    def save_model(self, request, obj, form, change):
        obj.entered_by = request.user
        super().save_model(request, obj, form, change)
