"""Screens of resident enrolment (险种 390): 居民参保户 (a household registered with its head) and 户内成员参保登记
(a member or a newborn). Bureau staff only; the add forms go through :mod:`enrollment.residents.services` (bounds
and refusals as field messages, nothing half-written); rows are never edited or deleted here (a span ends through
the register's services). The auditor reads; employer users see nothing (residents have no employer).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from policy.models import Jurisdiction

from ..access import is_bureau
from ..admin_mixins import BigListMixin, BureauAdmin, ServiceRunForm, ServiceWrittenAdmin
from ..calculations.resident_checks import PARENTS_INSURED
from ..models import ResidentKind
from . import services
from .models import Household, HouseholdMember, Relation

DATE = forms.DateInput(attrs={"type": "date"})
PARENTS_CHOICES = list(
    zip(PARENTS_INSURED, ("父或母在本统筹区参保", "父母参保地不在本统筹区", "父母均未参加基本医疗保险"), strict=True)
)


def _study_choices():
    return [("", "（非学生 / 未知）"), *Jurisdiction.objects.order_by("code").values_list("code", "name")]


class HouseholdForm(ServiceRunForm):
    head_id_number = forms.CharField(label="户主身份证号", max_length=18)
    head_name = forms.CharField(label="户主姓名", max_length=50)
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    kind = forms.ChoiceField(label="户主居民类型", choices=[c for c in ResidentKind.choices if c[0] != "newborn"])
    start = forms.DateField(label="参保开始日期", widget=DATE, help_text="通常为待遇年度的1月1日（缴费次年享受）")
    study_jurisdiction = forms.ChoiceField(label="学籍所在统筹区", required=False, choices=_study_choices)

    class Meta:
        model = Household
        fields = ("jurisdiction", "address", "registered_on")
        widgets = {"registered_on": DATE}

    def run(self, data):
        return services.household_register(
            jurisdiction=data["jurisdiction"],
            head_id_number=data["head_id_number"],
            head_name=data["head_name"],
            kind=data["kind"],
            start=data["start"],
            registered_on=data["registered_on"],
            address=data.get("address", ""),
            phone=data.get("phone", ""),
            study_jurisdiction=data.get("study_jurisdiction") or None,
            user=self.user,
        )


class MemberInline(admin.TabularInline):
    model = HouseholdMember
    fields = ("person", "relation", "joined_on")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class _ResidentAdmin(ServiceWrittenAdmin, BigListMixin, BureauAdmin):
    """Bureau staff only (employer users see no resident); written by the services, never edited or deleted."""

    def has_module_permission(self, request):
        return is_bureau(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_bureau(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return is_bureau(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Household)
class HouseholdAdmin(_ResidentAdmin):
    """居民参保户: registered with its head's resident enrolment (sanmenxia 第二十九条)."""

    form = HouseholdForm
    list_display = ("__str__", "head", "jurisdiction", "registered_on", "address")
    list_filter = ("jurisdiction",)
    list_select_related = ("head", "jurisdiction")
    search_fields = ("=head__id_number",)
    search_help_text = "输入户主完整的18位身份证号"
    ordering = ("-registered_on", "-id")
    inlines = [MemberInline]

    def get_fields(self, request, obj=None):
        if obj is None:
            return super().get_fields(request, obj)
        return ["head", "jurisdiction", "address", "registered_on", "created_by"]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []


class MemberForm(ServiceRunForm):
    id_number = forms.CharField(label="身份证号", max_length=18)
    name = forms.CharField(label="姓名", max_length=50)
    kind = forms.ChoiceField(
        label="居民类型", choices=ResidentKind.choices, help_text="新生儿按第三十八条登记出生当年待遇"
    )
    start = forms.DateField(label="参保开始日期", widget=DATE, required=False, help_text="新生儿不填（自出生之日起）")
    study_jurisdiction = forms.ChoiceField(label="学籍所在统筹区", required=False, choices=_study_choices)
    parents_insured = forms.ChoiceField(
        label="新生儿父母参保情况", required=False, choices=[("", "—"), *PARENTS_CHOICES]
    )

    class Meta:
        model = HouseholdMember
        fields = ("household", "relation", "joined_on")
        widgets = {"joined_on": DATE}

    def run(self, data):
        if data["kind"] == ResidentKind.NEWBORN:
            if not data.get("parents_insured"):
                raise ValidationError({"parents_insured": "登记新生儿须选择父母参保情况（第三十八条）。"})
            return services.newborn_register(
                household=data["household"],
                id_number=data["id_number"],
                name=data["name"],
                parents_insured=data["parents_insured"],
                registered_on=data["joined_on"],
            )
        if not data.get("start"):
            raise ValidationError({"start": "须填写参保开始日期。"})
        return services.member_add(
            household=data["household"],
            id_number=data["id_number"],
            name=data["name"],
            relation=data["relation"],
            kind=data["kind"],
            start=data["start"],
            joined_on=data["joined_on"],
            study_jurisdiction=data.get("study_jurisdiction") or None,
        )


@admin.register(HouseholdMember)
class HouseholdMemberAdmin(_ResidentAdmin):
    """户内成员参保登记: a family member (农村居民、城镇非从业居民、学生、学龄前儿童、其他) or a newborn."""

    form = MemberForm
    list_display = ("person", "household", "relation", "joined_on")
    list_filter = ("relation", "household__jurisdiction")
    list_select_related = ("person", "household__head")
    raw_id_fields = ("household",)
    search_fields = ("=person__id_number",)
    search_help_text = "输入完整的18位身份证号"
    ordering = ("household_id", "id")

    def get_fields(self, request, obj=None):
        if obj is None:
            return super().get_fields(request, obj)
        return ["household", "person", "relation", "joined_on"]


__all__ = ["HouseholdAdmin", "HouseholdMemberAdmin", "Relation"]
