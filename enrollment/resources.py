"""Export formats of the register (django-import-export), masking PII for users without the permission."""

from __future__ import annotations

from import_export import fields, resources

from .identifiers import mask_id_number, mask_phone
from .models import Employer, InsuredPerson
from .roles import PII


class PersonResource(resources.ModelResource):
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

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.show_pii = user is not None and user.has_perm(PII)

    def dehydrate_id_number(self, person: InsuredPerson) -> str:
        return person.id_number if self.show_pii else mask_id_number(person.id_number)

    def dehydrate_phone(self, person: InsuredPerson) -> str:
        return person.phone if self.show_pii else mask_phone(person.phone)


class EmployerResource(resources.ModelResource):
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
