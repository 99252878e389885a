"""两定机构登记的导入导出 (django-import-export): one row per institution, with its rating and agreement.

Columns (Chinese headings): 定点医药机构编码, 机构名称, 机构类别, 统筹区, 医疗机构等级, 中医医院, 医疗机构级别,
所在地, 等级起始日, 协议编号, 协议起始日, 协议截止日, 协议状态, 中止解除生效日, 保证金预留比例. Choices are
accepted as their code or their Chinese label. Every row is checked by :mod:`benefits.institutions.services`
(errors by row and field); the admin's import writes nothing while any row has an error (all or nothing).
Exports go through :class:`enrollment.resources.SafeExportResource` (formula cells neutralised).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from import_export import fields, widgets

from enrollment.bounds import normalise_identifier
from enrollment.resources import SafeExportResource
from policy.models import Jurisdiction

from .models import LEVEL_CHOICES, TIER_CHOICES, AgreementStatus, Area, Institution, InstitutionKind
from .services import RegisterRow, register_row, register_row_check

TRUE_WORDS = ("1", "true", "yes", "y", "是")
FALSE_WORDS = ("0", "false", "no", "n", "否", "")
#: Row columns beyond the institution's own fields: heading → (RegisterRow field, kind).
EXTRA_COLUMNS: dict[str, tuple[str, Any]] = {
    "医疗机构等级": ("hospital_level", LEVEL_CHOICES),
    "中医医院": ("tcm", bool),
    "医疗机构级别": ("tier", TIER_CHOICES),
    "所在地": ("area", Area.choices),
    "等级起始日": ("rated_from", date),
    "协议编号": ("agreement_number", str),
    "协议起始日": ("agreement_start", date),
    "协议截止日": ("agreement_end", date),
    "协议状态": ("agreement_status", AgreementStatus.choices),
    "中止解除生效日": ("agreement_status_since", date),
    "保证金预留比例": ("deposit_pct", Decimal),
}


def _choice(value: str, choices: list[tuple[str, str]]) -> str:
    for code, label in choices:
        if value in (code, label, label.removesuffix("医疗机构")):
            return code
    raise ValueError(f"{value!r} 不在可选值 {', '.join(f'{c}（{lab}）' for c, lab in choices)} 中")


def _typed(value: Any, kind: Any) -> Any:
    if isinstance(value, (date,)) and kind is date:
        return value
    text = "" if value is None else str(value).strip()
    if kind is bool:
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        raise ValueError(f"应为 是/否：{text!r}")
    if not text:
        return None if kind in (date, Decimal) else ""
    if kind is date:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise ValueError(f"日期格式应为 YYYY-MM-DD：{text!r}") from None
    if kind is Decimal:
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"不是数字：{text!r}") from None
        if not number.is_finite() or number < 0 or number > 100:
            raise ValueError(f"应为 0–100 之间的百分比：{text!r}")
        return number
    if kind is str:
        if len(text) > 40:
            raise ValueError("不超过 40 个字符")
        return text
    return _choice(text, kind)


class ChoiceWidget(widgets.Widget):
    """A choice by its code or its Chinese label; exported as the label."""

    def __init__(self, choices: list[tuple[str, str]]):
        super().__init__()
        self.choices = choices

    def clean(self, value, row=None, **kwargs):
        return _choice(str(value or "").strip(), self.choices)

    def render(self, value, obj=None, **kwargs):
        return dict(self.choices).get(value, value or "")


class JurisdictionWidget(widgets.ForeignKeyWidget):
    """统筹区 by its code; an unknown code is an error of the field (not of the whole row)."""

    def __init__(self):
        super().__init__(Jurisdiction, field="code")

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(str(value or "").strip() or None, row, **kwargs)
        except Jurisdiction.DoesNotExist:
            codes = ", ".join(Jurisdiction.objects.order_by("code").values_list("code", flat=True))
            raise ValueError(f"统筹区 {value!r} 不存在（可选：{codes}）") from None


class InstitutionResource(SafeExportResource):
    """两定机构登记 (import and export)."""

    fixmedins_code = fields.Field(attribute="fixmedins_code", column_name="定点医药机构编码")
    name = fields.Field(attribute="name", column_name="机构名称")
    kind = fields.Field(attribute="kind", column_name="机构类别", widget=ChoiceWidget(InstitutionKind.choices))
    jurisdiction = fields.Field(attribute="jurisdiction", column_name="统筹区", widget=JurisdictionWidget())
    address = fields.Field(attribute="address", column_name="地址")

    class Meta:
        model = Institution
        fields = ("fixmedins_code", "name", "kind", "jurisdiction", "address")
        import_id_fields = ("fixmedins_code",)
        clean_model_instances = True
        skip_unchanged = False

    def get_export_headers(self, selected_fields=None):
        return [*super().get_export_headers(selected_fields), *EXTRA_COLUMNS]

    def export_resource(self, instance, selected_fields=None, **kwargs):
        row = super().export_resource(instance, selected_fields, **kwargs)
        return [*row, *(self._export_extra(instance))]

    def _export_extra(self, inst: Institution) -> list[Any]:
        from .models import Agreement, InstitutionRating

        rating = InstitutionRating.objects.filter(institution=inst).order_by("-valid_from").first()
        agreement = Agreement.objects.filter(institution=inst).order_by("-start").first()
        values: list[Any] = [
            rating.get_hospital_level_display() if rating else "",
            ("是" if rating.tcm else "否") if rating else "",
            rating.get_tier_display() if rating else "",
            rating.get_area_display() if rating else "",
            rating.valid_from if rating else "",
            agreement.number if agreement else "",
            agreement.start if agreement else "",
            agreement.end or "" if agreement else "",
            agreement.get_status_display() if agreement else "",
            agreement.status_since or "" if agreement else "",
            agreement.deposit_pct if agreement and agreement.deposit_pct is not None else "",
        ]
        from enrollment.safe_files import neutralise_cell

        return [neutralise_cell(v) for v in values]

    def before_import_row(self, row, **kwargs):
        code = row.get("定点医药机构编码")
        if code is not None:
            row["定点医药机构编码"] = normalise_identifier(str(code))

    def import_instance(self, instance, row, **kwargs):
        errors: dict[str, list[str]] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        values: dict[str, Any] = {}
        for heading, (name, kind) in EXTRA_COLUMNS.items():
            try:
                values[name] = _typed(row.get(heading), kind)
            except ValueError as exc:
                errors[heading] = [str(exc)]
        if values.get("agreement_status") in (None, ""):
            values["agreement_status"] = AgreementStatus.SIGNED
        if values.get("area") in (None, ""):
            values["area"] = Area.POOLING_AREA
        if errors:
            raise ValidationError(errors)
        instance._register_row = RegisterRow(**values)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        super().validate_instance(instance, import_validation_errors, validate_unique)
        try:
            instance._agreement_end = register_row_check(instance, instance._register_row)
        except ValidationError as exc:
            headings = {name: heading for heading, (name, _) in EXTRA_COLUMNS.items()}
            headings.update({"agreement_end": "协议截止日", "agreement_status_since": "中止解除生效日"})
            raise ValidationError({headings.get(k, k): v for k, v in exc.message_dict.items()}) from None

    def after_save_instance(self, instance, row, **kwargs):
        register_row(instance, instance._register_row, agreement_end=instance._agreement_end)
