"""Admin (Chinese): the register of 两定机构 — search, filters, history, import and export; autocomplete for claims.

Thin: the checks live in :mod:`benefits.institutions.services`. Employer users see nothing here (no
employer path; enrollment.roles gives them no permission); 审计人员 read only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils import timezone
from import_export.admin import ImportMixin
from import_export.formats import base_formats

from enrollment.admin_mixins import BureauAdmin, SafeExportAdmin

from .models import Agreement, Appraisal, Institution, InstitutionRating, InstitutionUser, InsurancePhysician
from .resources import InstitutionResource
from .services import agreement_check, rating_check


class RatingForm(forms.ModelForm):
    class Meta:
        model = InstitutionRating
        fields = ("valid_from", "valid_until", "hospital_level", "tcm", "tier", "area")

    def clean(self):
        data = super().clean()
        inst = getattr(self.instance, "institution", None) if self.instance.institution_id else None
        kind = inst.kind if inst else (self.parent_kind or "")
        if data.get("valid_from") and data.get("hospital_level") and kind:
            try:
                rating_check(
                    kind,
                    hospital_level=data["hospital_level"],
                    valid_from=data["valid_from"],
                    valid_until=data.get("valid_until"),
                )
            except forms.ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    self.add_error(field, messages)
        return data

    parent_kind: str | None = None


class AgreementForm(forms.ModelForm):
    class Meta:
        model = Agreement
        fields = ("number", "start", "end", "status", "status_since", "suspended_until", "deposit_pct", "note")

    parent_jurisdiction: str | None = None

    def clean(self):
        data = super().clean()
        code = self.instance.institution.jurisdiction.code if self.instance.institution_id else self.parent_jurisdiction
        if data.get("start") and code:
            try:
                data["end"] = agreement_check(
                    code,
                    start=data["start"],
                    end=data.get("end"),
                    status=data.get("status") or "signed",
                    status_since=data.get("status_since"),
                    suspended_until=data.get("suspended_until"),
                    deposit_pct=data.get("deposit_pct"),
                )
                self.instance.end = data["end"]
            except forms.ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    self.add_error(field, messages)
        return data


class _ParentFormset(forms.BaseInlineFormSet):
    """Gives each inline form the parent's kind and jurisdiction (a new institution has no row yet)."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        data = self.data or {}
        form.parent_kind = data.get("kind") or getattr(self.instance, "kind", None)
        jur = data.get("jurisdiction") or getattr(self.instance, "jurisdiction_id", None)
        if jur:
            from policy.models import Jurisdiction

            form.parent_jurisdiction = Jurisdiction.objects.filter(pk=jur).values_list("code", flat=True).first()
        return form


class RatingInline(admin.TabularInline):
    model = InstitutionRating
    form = RatingForm
    formset = _ParentFormset
    extra = 0


class AgreementInline(admin.TabularInline):
    model = Agreement
    form = AgreementForm
    formset = _ParentFormset
    extra = 0


class AppraisalInline(admin.TabularInline):
    model = Appraisal
    extra = 0
    fields = ("year", "result", "score", "appraised_on", "deposit_returned", "note")


@admin.register(Institution)
class InstitutionAdmin(ImportMixin, SafeExportAdmin, BureauAdmin):
    """两定机构: search by code or name; filters by kind and pooling area; import/export of the register."""

    resource_classes = [InstitutionResource]
    import_formats = [base_formats.XLSX, base_formats.CSV]
    list_display = ("fixmedins_code", "name", "kind", "jurisdiction", "level_today", "agreement_today")
    list_filter = ("kind", "jurisdiction", "ratings__hospital_level", "ratings__tier", "agreements__status")
    search_fields = ("=fixmedins_code", "name")
    list_select_related = ("jurisdiction",)
    inlines = [RatingInline, AgreementInline, AppraisalInline]
    fields = ("fixmedins_code", "name", "kind", "jurisdiction", "address", "note")

    @admin.display(description="今日等级")
    def level_today(self, obj: Institution) -> str:
        today = timezone.localdate()
        for r in obj.ratings.all():
            if r.valid_from <= today and (r.valid_until is None or today < r.valid_until):
                return r.get_hospital_level_display()
        return "—"

    @admin.display(description="今日协议")
    def agreement_today(self, obj: Institution) -> str:
        today = timezone.localdate()
        return "有效" if any(a.in_force_on(today) for a in obj.agreements.all()) else "无有效协议"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("ratings", "agreements")

    def get_search_results(self, request, queryset, search_term):
        qs, dupes = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") == "claim" and request.GET.get("field_name") == "institution":
            # The claim form offers institutions that ever held an agreement (the rule checks the date).
            qs = qs.filter(agreements__isnull=False).distinct()
            dupes = False
        return qs, dupes

    def has_import_permission(self, request):
        return request.user.has_perm("institutions.add_institution")


@admin.register(InsurancePhysician)
class InsurancePhysicianAdmin(SafeExportAdmin, BureauAdmin):
    """医保医师 (langfang 第五十七条, sanmenxia 第五十七条)."""

    list_display = ("code", "name", "institution", "status", "status_since")
    list_filter = ("status", "institution__jurisdiction")
    search_fields = ("=code", "name", "=institution__fixmedins_code")
    autocomplete_fields = ("institution",)
    list_select_related = ("institution",)


@admin.register(Agreement)
class AgreementAdmin(SafeExportAdmin, BureauAdmin):
    """服务协议 across institutions (filters: status, pooling area); entered on the institution's page."""

    form = AgreementForm
    list_display = ("institution", "number", "start", "end", "status", "status_since", "deposit_pct")
    list_filter = ("status", "institution__jurisdiction", ("end", admin.DateFieldListFilter))
    search_fields = ("=institution__fixmedins_code", "institution__name", "number")
    autocomplete_fields = ("institution",)
    list_select_related = ("institution",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        jur = request.POST.get("institution")
        if jur and obj is None:
            code = (
                Institution.objects.filter(pk=jur).values_list("jurisdiction__code", flat=True).first()
                if str(jur).isdigit()
                else None
            )
            form.parent_jurisdiction = code
        return form


@admin.register(Appraisal)
class AppraisalAdmin(SafeExportAdmin, BureauAdmin):
    """考核评价 (langfang 第七十七条)."""

    list_display = ("institution", "year", "result", "score", "appraised_on", "deposit_returned")
    list_filter = ("result", "year", "institution__jurisdiction")
    search_fields = ("=institution__fixmedins_code", "institution__name")
    autocomplete_fields = ("institution",)
    list_select_related = ("institution",)


@admin.register(InstitutionUser)
class InstitutionUserAdmin(BureauAdmin):
    """机构接口账号: a login bound to one 定点医药机构 (its API token is issued under 接口令牌)."""

    list_display = ("user", "institution", "created_at")
    autocomplete_fields = ("institution",)
    search_fields = ("user__username", "institution__fixmedins_code", "institution__name")
