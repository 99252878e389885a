"""Screens of personal-account use: 家庭共济绑定, 个人账户支付 (paid or refused with the article), 余额支付本人.

Bureau staff only (employer users see nothing); the add forms go through :mod:`funds.account_use`; rows are
never edited or deleted (a payment moves money; a binding is ended by its action). The auditor reads.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from enrollment.admin_mixins import (
    BigListMixin,
    BureauAdmin,
    PersonSearchMixin,
    SafeExportAdmin,
    ServiceRunForm,
    ServiceWrittenAdmin,
)

from . import account_use
from .models import AccountPayout, AccountUse, FamilyBinding

DATE = forms.DateInput(attrs={"type": "date"})


class _ServiceAdmin(ServiceWrittenAdmin, BigListMixin, PersonSearchMixin, SafeExportAdmin, BureauAdmin):
    search_person_path = "holder"
    search_fields = ("holder__name",)
    autocomplete_fields = ("holder",)  # 人员选择框: names, not numbers (issue #19 item 4)
    list_select_related = ("holder", "jurisdiction")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BindingForm(ServiceRunForm):
    class Meta:
        model = FamilyBinding
        fields = ("holder", "jurisdiction", "member_name", "member_id_number", "relationship", "proof", "start")
        widgets = {"start": DATE}

    def run(self, data):
        return account_use.binding_create(
            holder=data["holder"],
            jurisdiction=data["jurisdiction"],
            member_name=data["member_name"],
            member_id_number=data["member_id_number"],
            relationship=data["relationship"],
            proof=data["proof"],
            start=data["start"],
            user=self.user,
        )


class EndBindingForm(forms.Form):
    end = forms.DateField(label="解除日期", widget=DATE)


@admin.register(FamilyBinding)
class FamilyBindingAdmin(_ServiceAdmin):
    """家庭共济绑定: spouse, parents, children (the relationships each document lists), with proof."""

    form = BindingForm
    list_display = ("holder", "jurisdiction", "member_name", "relationship", "start", "end", "citation")
    list_filter = ("jurisdiction", "relationship")
    ordering = ("-start", "-id")
    actions = ["end_binding"]

    def has_end_permission(self, request) -> bool:
        return request.user.has_perm("funds.add_familybinding")

    @admin.action(description="解除绑定", permissions=["end"])
    def end_binding(self, request, queryset):
        form = EndBindingForm(request.POST if "apply" in request.POST else None)
        rows = queryset.filter(end__isnull=True)
        if "apply" in request.POST and form.is_valid():
            done = 0
            for binding in rows:
                try:
                    account_use.binding_end(binding, on=form.cleaned_data["end"])
                    done += 1
                except ValidationError as exc:
                    self.message_user(request, f"{binding}：{'; '.join(exc.messages)}", messages.ERROR)
            self.message_user(request, f"已解除 {done} 项绑定。", messages.SUCCESS if done else messages.WARNING)
            return None
        return TemplateResponse(
            request,
            "admin/registers/action_form.html",
            {
                **self.admin_site.each_context(request),
                "title": "解除家庭共济绑定",
                "opts": self.model._meta,
                "objects": rows,
                "form": form,
                "note": "解除日起个人账户不再为该家庭成员支付。",
                "action": "end_binding",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


class AccountUseForm(ServiceRunForm):
    class Meta:
        model = AccountUse
        fields = ("holder", "jurisdiction", "purpose", "binding", "amount", "used_on")
        widgets = {"used_on": DATE}

    def run(self, data):
        return account_use.account_use(
            holder=data["holder"],
            jurisdiction=data["jurisdiction"],
            purpose=data["purpose"],
            amount=data["amount"],
            on=data["used_on"],
            binding=data.get("binding"),
            user=self.user,
        )


@admin.register(AccountUse)
class AccountUseAdmin(_ServiceAdmin):
    """个人账户支付: each request recorded, paid (记账凭证) or refused with the article."""

    form = AccountUseForm
    list_display = ("holder", "jurisdiction", "purpose", "binding", "amount", "used_on", "status", "reason")
    list_select_related = ("holder", "jurisdiction", "binding")
    list_filter = ("jurisdiction", "status", "purpose")
    autocomplete_fields = ("holder",)
    raw_id_fields = ("binding",)
    ordering = ("-used_on", "-id")


class PayoutForm(ServiceRunForm):
    class Meta:
        model = AccountPayout
        fields = ("holder", "jurisdiction", "ground", "bank_name", "bank_account", "paid_on")
        widgets = {"paid_on": DATE}

    def run(self, data):
        return account_use.account_payout(
            holder=data["holder"],
            jurisdiction=data["jurisdiction"],
            ground=data["ground"],
            bank_name=data["bank_name"],
            bank_account=data["bank_account"],
            on=data["paid_on"],
            user=self.user,
        )


@admin.register(AccountPayout)
class AccountPayoutAdmin(_ServiceAdmin):
    """余额支付本人: the whole balance to the holder's own bank account (hunan 第四十四条; xianning 细则 第十三条)."""

    form = PayoutForm
    list_display = ("holder", "jurisdiction", "ground", "amount", "paid_on", "bank_name", "citation")
    list_filter = ("jurisdiction", "ground")
    ordering = ("-paid_on", "-id")
