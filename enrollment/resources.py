"""Export formats of the register (django-import-export), and the one export base every resource uses.

:class:`SafeExportResource`: every cell goes through :func:`enrollment.safe_files.neutralise_cell`
(no live formula in any .xlsx/.csv), and 身份证号 / 联系电话 are masked for roles without the PII
permission (审计人员). The rows come from the admin's ``get_queryset``, i.e. the one scope rule.
"""

from __future__ import annotations

from import_export import fields, resources

from .access import can_see_pii
from .identifiers import mask_id_number, mask_phone
from .models import Employer, InsuredPerson
from .safe_files import neutralise_cell

#: Exported columns holding PII, by the attribute or the column heading.
PII_ATTRIBUTES = {"id_number": mask_id_number, "person__id_number": mask_id_number, "phone": mask_phone}
PII_COLUMNS = {"身份证号": mask_id_number, "联系电话": mask_phone}


class SafeExportResource(resources.ModelResource):
    """导出基类: neutralised cells, PII masked unless ``user`` may see it (or ``mask=False`` is given).

    Without a user and without ``mask`` it masks: a file is safe by default.
    """

    def __init__(self, user=None, mask: bool | None = None, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        self.mask = (not can_see_pii(user)) if mask is None else mask

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        masker = PII_ATTRIBUTES.get(field.attribute or "") or PII_COLUMNS.get(str(field.column_name))
        if self.mask and masker is not None and isinstance(value, str) and value:
            value = masker(value)
        return neutralise_cell(value)

    def get_export_headers(self, selected_fields=None):
        return [neutralise_cell(h) for h in super().get_export_headers(selected_fields)]


def safe_resource_for(model, resource_class: type[resources.Resource]) -> type[SafeExportResource]:
    """The given resource class (e.g. the admin's default) with the safe export base in front."""
    return type(f"Safe{resource_class.__name__}", (SafeExportResource, resource_class), {"__module__": __name__})


class PersonResource(SafeExportResource):
    id_number = fields.Field(attribute="id_number", column_name="身份证号")
    name = fields.Field(attribute="name", column_name="姓名")
    sex = fields.Field(attribute="get_sex_display", column_name="性别")
    birth_date = fields.Field(attribute="birth_date", column_name="出生日期")
    female_role = fields.Field(attribute="get_female_role_display", column_name="女职工身份")
    phone = fields.Field(attribute="phone", column_name="联系电话")
    deemed_months = fields.Field(attribute="deemed_months", column_name="视同缴费月数")
    military_months = fields.Field(attribute="military_months", column_name="军龄月数")

    class Meta:
        model = InsuredPerson
        fields = ("id_number", "name", "sex", "birth_date", "female_role", "phone", "deemed_months", "military_months")
        export_order = fields


class EmployerResource(SafeExportResource):
    class Meta:
        model = Employer
        fields = (
            "credit_code",
            "name",
            "kind",
            "scheme",
            "jurisdiction__code",
            "registered_on",
            "status",
            "is_difficult",
            "difficult_from",
            "difficult_until",
        )
