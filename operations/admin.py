"""The operations app's screens.

基金测算的页面 (issue #18 item 5): start a simulation of a draft, follow its progress, read and export its
results. Administrators and case workers start one; staff (the auditor too) read the results.

出具文书登记: the register of printed documents, read-only, for bureau staff (issue #19 item 6)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from enrollment.access import can_see_pii, is_bureau
from enrollment.admin_mixins import BigListMixin, BureauAdmin
from enrollment.identifiers import mask_id_number
from policy.models import DraftStatus, Jurisdiction, PolicyDraft

from .documents.codes import display, normalise
from .models import IssuedDocument, Simulation
from .simulation import charts, results
from .simulation.export import workbook
from .simulation.services import MAX_PERIOD_MONTHS, simulation_check, simulation_start


def _largest_row(r, who: dict[int, tuple[str, str]], pii: bool) -> dict:
    name, idn = who.get(r.person_id, ("", ""))
    return {
        "r": r,
        "name": name,
        "id_number": idn if pii else mask_id_number(idn),
        "income": r.income_draft - r.income_base,
        "account": r.account_draft - r.account_base,
        "spending": r.spending_draft - r.spending_base,
    }


class SimulationForm(forms.Form):
    """测算: which draft, over which past period (whole months, half-open), in which jurisdiction."""

    draft = forms.ModelChoiceField(label="政策草案", queryset=PolicyDraft.objects.filter(status=DraftStatus.DRAFT))
    period_start = forms.DateField(
        label="测算期间起（含）", widget=forms.DateInput(attrs={"type": "date"}), help_text="某月 1 日，例如 2024-01-01"
    )
    period_end = forms.DateField(
        label="测算期间止（不含）",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=f"某月 1 日，例如 2025-01-01（一整年）；最长 {MAX_PERIOD_MONTHS} 个月",
    )
    jurisdiction = forms.ModelChoiceField(
        label="统筹区", queryset=Jurisdiction.objects.all(), required=False, empty_label="草案涉及的全部统筹区"
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        cleaned = super().clean()
        draft, start, end = cleaned.get("draft"), cleaned.get("period_start"), cleaned.get("period_end")
        if draft is None or start is None or end is None:
            return cleaned
        if end <= start:
            self.add_error("period_end", "止日须晚于起日")
            return cleaned
        if end > self.today.replace(day=1):
            self.add_error("period_end", "只能测算已经过去的期间（止日不晚于本月 1 日）")
            return cleaned
        problems = simulation_check(draft, start, end)
        if problems:
            raise ValidationError(problems)
        return cleaned


@admin.register(Simulation)
class SimulationAdmin(BureauAdmin):
    """基金测算: kept as run; never changed or deleted."""

    list_display = ("id", "draft", "period", "jurisdiction", "status", "progress", "created_by", "created_at", "links")
    list_select_related = ("draft", "jurisdiction", "run", "created_by")
    fields = (
        "draft",
        "period_start",
        "period_end",
        "jurisdiction",
        "areas",
        "status",
        "progress",
        "created_by",
        "created_at",
        "links",
    )
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="测算期间")
    def period(self, obj: Simulation) -> str:
        return f"{obj.period_start:%Y-%m-%d} 至 {obj.period_end:%Y-%m-%d}（不含）"

    @admin.display(description="状态")
    def status(self, obj: Simulation) -> str:
        return obj.run.get_status_display() if obj.run else "—"

    @admin.display(description="进度（分块）")
    def progress(self, obj: Simulation) -> str:
        return f"{obj.run.chunks_done} / {obj.run.chunk_count}" if obj.run else "—"

    @admin.display(description="结果")
    def links(self, obj: Simulation) -> str:
        return format_html('<a href="{}">测算结果</a>', reverse("admin:operations_simulation_results", args=[obj.pk]))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/results/", wrap(self.results_view), name="operations_simulation_results"),
            path("<path:object_id>/progress/", wrap(self.progress_view), name="operations_simulation_progress"),
            path("<path:object_id>/export/", wrap(self.export_view), name="operations_simulation_export"),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        if not (is_bureau(request.user) and self.has_add_permission(request)):
            raise PermissionDenied
        from django.utils import timezone

        today = timezone.localdate()
        draft_id = request.GET.get("draft", "")
        initial = {"draft": int(draft_id)} if draft_id.isdigit() and len(draft_id) < 12 else {}
        form = SimulationForm(request.POST or None, today=today, initial=initial)
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            sim = simulation_start(
                d["draft"],
                start=d["period_start"],
                end=d["period_end"],
                jurisdiction=d["jurisdiction"],
                user=request.user,
            )
            return HttpResponseRedirect(reverse("admin:operations_simulation_results", args=[sim.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "基金测算（按政策草案重算过去期间）",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/operations/simulation_add.html", context)

    def _simulation(self, request: HttpRequest, object_id: str) -> Simulation:
        if not str(object_id).isdigit() or request.method != "GET":
            raise PermissionDenied
        sim = get_object_or_404(
            self.get_queryset(request).select_related("draft", "run", "jurisdiction"), pk=int(object_id)
        )
        if not (is_bureau(request.user) and self.has_view_permission(request, sim)):
            raise PermissionDenied
        return sim

    def progress_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        """进度 (JSON): the run's status and chunks done, for a page that polls."""
        sim = self._simulation(request, object_id)
        run = sim.run
        return JsonResponse(
            {
                "status": run.status if run else "",
                "chunks_done": run.chunks_done if run else 0,
                "chunk_count": run.chunk_count if run else 0,
            }
        )

    def results_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """测算结果: per jurisdiction and total, charts, breakdowns, largest changes; progress while it runs."""
        sim = self._simulation(request, object_id)
        run = sim.run
        finished = run is not None and run.status in ("done", "done_err")
        context = {
            **self.admin_site.each_context(request),
            "title": f"基金测算结果：{sim.draft.name}",
            "opts": self.model._meta,
            "sim": sim,
            "run": run,
            "finished": finished,
            "percent": round(100 * run.chunks_done / run.chunk_count) if run and run.chunk_count else 0,
        }
        if finished:
            per_j, total = results.by_jurisdiction(sim)
            categories, ages, levels = results.by_category(sim), results.by_age_band(sim), results.by_level(sim)
            bins = results.histogram(sim)
            top = results.largest(sim)
            who = results.person_ids(top)
            pii = can_see_pii(request.user)
            context.update(
                per_jurisdiction=per_j,
                total=total,
                categories=categories,
                ages=ages,
                levels=levels,
                largest=[_largest_row(r, who, pii) for r in top],
                chart_jurisdictions=charts.bars(
                    [(f.label, f.net_change) for f in [*per_j, total]],
                    title="统筹基金净变化（元）：收入变化 − 支出变化",
                ),
                chart_categories=charts.bars([(f.label, f.net_change) for f in categories], title="按参保类别（元）"),
                chart_ages=charts.bars([(f.label, f.net_change) for f in ages], title="按年龄段（元）"),
                chart_levels=charts.bars(
                    [(f.label, f.spending_change) for f in levels], title="按医疗机构等级：基金支出变化（元）"
                ),
                chart_histogram=charts.histogram(bins, title="受影响人员的基金净变化分布（人数）"),
                skipped=list(run.skips.all()[:20]) if run else [],
            )
        return TemplateResponse(request, "admin/operations/simulation_results.html", context)

    def export_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """导出 .xlsx (formula cells neutralised, 身份证号 masked for roles without PII)."""
        sim = self._simulation(request, object_id)
        if sim.run is None or sim.run.status not in ("done", "done_err"):
            raise PermissionDenied
        response = HttpResponse(
            workbook(sim, pii=can_see_pii(request.user)),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="simulation-{sim.pk}.xlsx"'
        return response


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(BigListMixin, BureauAdmin):
    """Every print, with its code and the digest of its figures; kept, never changed or deleted."""

    list_display = ("code_shown", "kind", "person", "employer", "period_label", "as_of", "issued_by", "issued_at")
    list_filter = ("kind", "issued_at")
    list_select_related = ("person", "employer", "issued_by")
    search_fields = ("code",)
    search_help_text = "输入核验码（可带连字符）"
    date_hierarchy = "issued_at"
    fields = (
        "kind", "code", "person", "employer", "subject_masked", "subject_id_masked", "period_label", "period_start",
        "period_end", "as_of", "digest", "issued_by", "issued_at", "batch",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description="核验码", ordering="code")
    def code_shown(self, obj: IssuedDocument) -> str:
        return display(obj.code)

    def get_search_results(self, request, queryset, search_term):
        code = normalise(search_term)
        if code:
            return queryset.filter(code=code), False
        return super().get_search_results(request, queryset, search_term)

    # bureau staff only (a print is a read; the register is the bureau's own trace)
    def has_module_permission(self, request):
        return is_bureau(request.user)

    def has_view_permission(self, request, obj=None):
        return is_bureau(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
