"""Admin: the stored timeline, and a case worker's "why" page per person (待遇享受状态说明).

``/admin/benefits/eligibilityperiod/person/<id>/`` shows the person's timeline, and for the
date entered the period in force, the rule that decided it (reason + citation) and the
facts it used, with the contribution months on file and the payment years.
"""

from __future__ import annotations

from datetime import date

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from contributions.models import MonthlyDue
from contributions.selectors import payment_years
from enrollment.access import require
from enrollment.admin_mixins import BigListMixin, BureauAdmin, PersonSearchMixin
from enrollment.models import EnrolmentSpan, InsuredPerson
from policy.labels import in_words
from policy.resolver import PolicyError

from . import selectors
from .models import EligibilityPeriod, EligibilityState
from .services import eligibility_refresh


def _person_visible(request: HttpRequest, person_id: int) -> InsuredPerson:
    return get_object_or_404(InsuredPerson.objects.visible_to(request.user), pk=person_id)


@admin.register(EligibilityPeriod)
class EligibilityPeriodAdmin(BigListMixin, PersonSearchMixin, BureauAdmin):
    list_display = (
        "person_link",
        "jurisdiction",
        "start",
        "end",
        "status",
        "short_reason",
        "citation_display",
        "computed_at",
    )
    list_filter = ("status", "jurisdiction")
    search_fields = ("=person__id", "person__name")
    search_help_text = "人员编号、18位身份证号或姓名开头"
    list_select_related = ("person", "jurisdiction")
    # the page shows the reason and the citation in words (codes by name, decision ids small)
    fields = [
        {"reason": "reason_zh", "citation": "citation_display"}.get(f.name, f.name)
        for f in EligibilityPeriod._meta.fields
        if f.name != "id"
    ]
    readonly_fields = fields
    date_hierarchy = None
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    person_path = "person_id"

    @admin.display(description="参保人员")
    def person_link(self, obj: EligibilityPeriod):
        url = reverse("admin:benefits_eligibility_person", args=[obj.person_id])
        return format_html('<a href="{}">{}（{}）</a>', url, obj.person.name, obj.person_id)

    @admin.display(description="判定理由")
    def short_reason(self, obj: EligibilityPeriod) -> str:
        return in_words(obj.reason if len(obj.reason) <= 60 else obj.reason[:60] + "…")

    @admin.display(description="判定理由")
    def reason_zh(self, obj: EligibilityPeriod) -> str:
        return in_words(obj.reason)

    @admin.display(description="政策依据", ordering="citation")
    def citation_display(self, obj: EligibilityPeriod) -> str:
        return in_words(obj.citation)

    def get_urls(self):
        view = self.admin_site.admin_view(self.person_view)
        return [path("person/<int:person_id>/", view, name="benefits_eligibility_person"), *super().get_urls()]

    def person_view(self, request: HttpRequest, person_id: int):
        """待遇享受状态说明: timeline, the period in force on a date, the rule and the facts."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        person = _person_visible(request, person_id)
        today = timezone.localdate()
        if request.method == "POST":
            # Recomputing writes the timeline: the change permission, not just view (审计人员 only reads).
            require(request, "benefits.change_eligibilityperiod")
        if request.method == "POST" and "recompute" in request.POST:
            as_of = _parse(request.POST.get("as_of")) or today
            counts = eligibility_refresh([person.pk], as_of)
            messages.info(
                request, f"已按 {as_of} 重新计算：{'已更新' if counts.get('eligibility.changed') else '无变化'}"
            )
            return HttpResponseRedirect(request.get_full_path())
        day = _parse(request.GET.get("day")) or today
        answer = selectors.status_on(person, day)
        try:
            years = payment_years(person, day)
            years_error = ""
        except (PolicyError, ValueError) as exc:
            years, years_error = None, str(exc)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"待遇享受状态说明：{person.name}",
            "person": person,
            "day": day,
            "answer": answer,
            "periods": selectors.timeline(person),
            "state": EligibilityState.objects.filter(person=person).first(),
            "spans": EnrolmentSpan.objects.filter(person=person).select_related("jurisdiction", "employer"),
            "dues": MonthlyDue.objects.filter(person=person).order_by("-month")[:36],
            "years": years,
            "years_error": years_error,
            "today": today,
        }
        return TemplateResponse(request, "admin/benefits/person_eligibility.html", context)


def _parse(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@admin.register(EligibilityState)
class EligibilityStateAdmin(BigListMixin, PersonSearchMixin, BureauAdmin):
    list_display = ("person_id", "digest", "error", "evaluated_on", "next_check", "computed_at", "run")
    list_filter = (("error", admin.EmptyFieldListFilter),)
    search_fields = ("=person__id",)
    search_help_text = "人员编号、18位身份证号或姓名开头"
    list_select_related = ("run",)
    readonly_fields = ("person", "digest", "error", "evaluated_on", "next_check", "computed_at", "run")
    person_path = "person_id"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
