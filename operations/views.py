"""运维: the page where bureau staff start batch runs (the runs work in Celery tasks, not in this request)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from batch.models import BatchRun
from contributions import tasks
from enrollment.models import employer_id_of
from policy.models import Jurisdiction

#: Batch operations a case worker may start: label, and whether a jurisdiction is required.
OPERATIONS = {
    "base_reset": ("核定年度缴费基数", True),
    "dues_generate": ("生成月度应缴", False),
    "arrears_accrue": ("计提欠费滞纳金", False),
    "resident_billing": ("生成居民年度应缴（业务日期所在年度征收）", False),
}


class RunForm(forms.Form):
    operation = forms.ChoiceField(label="操作", choices=[(k, label) for k, (label, _) in OPERATIONS.items()])
    jurisdiction = forms.ModelChoiceField(
        label="统筹区", queryset=Jurisdiction.objects.all(), to_field_name="code", required=False, empty_label="全部"
    )
    as_of = forms.DateField(
        label="业务日期",
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text="应缴：按该日期所在月份生成",
    )
    preview = forms.BooleanField(label="仅预览（全部回滚，只看统计）", required=False)

    def clean(self):
        data = super().clean()
        op = data.get("operation")
        if op and OPERATIONS[op][1] and not data.get("jurisdiction"):
            self.add_error("jurisdiction", "年度基数核定须选择统筹区（各统筹区的核定日期不同）。")
        return data


def operation_enqueue(*, operation: str, as_of: date, jurisdiction: str | None, preview: bool, user) -> None:
    """Queue the Celery task that starts the chunked batch run (:mod:`contributions.tasks`)."""
    common = {"jurisdiction": jurisdiction, "preview": preview, "user_id": user.pk}
    if operation == "base_reset":
        tasks.base_reset.delay(on=as_of.isoformat(), **common)
    elif operation == "dues_generate":
        tasks.dues_generate.delay(month=f"{as_of:%Y-%m}", **common)
    elif operation == "arrears_accrue":
        tasks.arrears_accrue.delay(on=as_of.isoformat(), **common)
    elif operation == "resident_billing":
        tasks.resident_billing.delay(on=as_of.isoformat(), **common)
    else:
        raise ValueError(operation)


@staff_member_required
def operations(request: HttpRequest) -> HttpResponse:
    """经办操作: 核定年度基数（可预览）, 生成本月应缴, 计提滞纳金 — each queued as a task that runs in chunks."""
    if employer_id_of(request.user) is not None or not request.user.has_perm("contributions.change_monthlydue"):
        raise PermissionDenied
    form = RunForm(request.POST or None, initial={"as_of": timezone.localdate(), "preview": True})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        operation_enqueue(
            operation=d["operation"],
            as_of=d["as_of"],
            jurisdiction=d["jurisdiction"].code if d["jurisdiction"] else None,
            preview=d["preview"],
            user=request.user,
        )
        messages.success(
            request,
            f"已提交“{OPERATIONS[d['operation']][0]}”{'（预览）' if d['preview'] else ''}，由后台任务分块执行；"
            "进度和统计见下表。",
        )
        return redirect("operations:index")
    runs = BatchRun.objects.select_related("jurisdiction")[:20]
    return TemplateResponse(
        request,
        "operations/index.html",
        {**admin.site.each_context(request), "title": "批处理操作", "form": form, "runs": runs},
    )
