"""Screens of the contributions back office (征缴): imports, a person's contribution record,
an employer's monthly bill and arrears, and the staff operations that start batch runs.

Thin: reads go through querysets scoped by ``visible_to`` (an employer user sees only
their employer), writes and long work go to :mod:`contributions.imports` and Celery tasks.
Pages extend the admin's templates, so they look like the rest of the back office.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, DecimalField, F, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from enrollment.access import can_see_pii, scope_queryset
from enrollment.identifiers import mask_id_number
from enrollment.models import Employer, EnrolmentSpan, InsuredPerson, employer_id_of
from policy.models import Jurisdiction

from . import import_tasks, imports, resources, selectors, services
from .models import (
    BackPaymentBill,
    ContributionBase,
    Deferral,
    EmployerBase,
    ImportJob,
    ImportKind,
    ImportStatus,
    MonthlyDue,
    Payment,
    PaymentAllocation,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_SHOWN = 500
_NO_MONEY = Decimal("0.00")
_ZERO = Value(0, output_field=DecimalField(max_digits=14, decimal_places=2))


def _page(request: HttpRequest, template: str, title: str, **context) -> TemplateResponse:
    return TemplateResponse(request, template, {**admin.site.each_context(request), "title": title, **context})


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename)}"
    return response


def _quote(name: str) -> str:

    return quote(name)


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _is_bureau(user) -> bool:
    """Bureau staff (经办机构) — not an employer user."""
    return employer_id_of(user) is None


# ---------------------------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------------------------


def _limits_text() -> str:
    return (
        f"只接受 .xlsx 或 .csv（UTF-8 或 GBK 编码），第1行为表头；文件不超过 "
        f"{imports.MAX_UPLOAD_BYTES // 1024 // 1024} MB、{imports.MAX_ROWS:,} 行。"
    )


class PayrollUploadForm(forms.Form):
    """工资申报导入: an employer user's employer is fixed; bureau staff give the 统一社会信用代码."""

    employer = forms.ModelChoiceField(
        label="用人单位",
        queryset=Employer.objects.none(),
        to_field_name="credit_code",
        widget=forms.TextInput(attrs={"size": 24, "placeholder": "统一社会信用代码"}),
        help_text="输入单位的统一社会信用代码。",
    )
    year = forms.TypedChoiceField(label="缴费年度", coerce=int, help_text="文件中没有“年度”列时按此年度申报。")
    file = forms.FileField(label="文件")

    def __init__(self, *args, user, as_of: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.as_of = user, as_of
        visible = Employer.objects.visible_to(user).select_related("jurisdiction")
        self.fields["employer"].queryset = visible
        self.fields["file"].help_text = _limits_text()
        own = employer_id_of(user)
        if own is not None:
            self.own_employer = visible.filter(pk=own).first()
            self.fields["employer"].disabled = True
            self.fields["employer"].widget = forms.HiddenInput()
            self.initial["employer"] = self.own_employer.credit_code if self.own_employer else ""
            codes = [self.own_employer.jurisdiction.code] if self.own_employer else []
        else:
            self.own_employer = None
            codes = list(Jurisdiction.objects.values_list("code", flat=True))
        years: dict[int, str] = {}
        for code in codes:
            current, following = imports.payroll_years(code, as_of)
            years.setdefault(current, f"{current}（当前缴费年度）")
            years.setdefault(following, f"{following}（下一缴费年度）")
        self.fields["year"].choices = sorted(years.items())

    def clean(self):
        data = super().clean()
        employer, year = data.get("employer"), data.get("year")
        if employer is not None and year is not None:
            allowed = imports.payroll_years(employer.jurisdiction.code, self.as_of)
            if year not in allowed:
                self.add_error("year", f"{employer.name}只能申报 {allowed[0]} 或 {allowed[1]} 缴费年度。")
        upload = data.get("file")
        if upload is not None:
            try:
                imports.check_upload(upload.name, upload.size)
            except imports.FileRejected as exc:
                self.add_error("file", str(exc))
        return data


class PaymentUploadForm(forms.Form):
    file = forms.FileField(label="税务缴费文件")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _limits_text() + " 列：电子税票号、身份证号、金额、缴款日期（姓名可选）。"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            imports.check_upload(upload.name, upload.size)
        except imports.FileRejected as exc:
            raise forms.ValidationError(str(exc)) from None
        return upload


def _start_validation(job: ImportJob) -> None:
    # A Celery task over the job (in-process when no broker is configured).
    import_tasks.import_validate.delay(job_id=job.pk)


@staff_member_required
def payroll_upload(request: HttpRequest) -> HttpResponse:
    """上传工资申报文件 (dry run follows on the job page)."""
    _require(request, "contributions.add_wagedeclaration")
    as_of = timezone.localdate()
    form = PayrollUploadForm(request.POST or None, request.FILES or None, user=request.user, as_of=as_of)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.import_job_create(
                kind=ImportKind.PAYROLL,
                uploaded_file=form.cleaned_data["file"],
                user=request.user,
                as_of=as_of,
                employer=form.cleaned_data["employer"],
                year=form.cleaned_data["year"],
            )
        except imports.FileRejected as exc:
            form.add_error("file", str(exc))
        else:
            _start_validation(job)
            return redirect("contributions:import_job", pk=job.pk)
    return _page(
        request,
        "contributions/import_upload.html",
        "导入工资申报",
        form=form,
        kind=ImportKind.PAYROLL,
        own_employer=form.own_employer,
        columns=imports.PAYROLL_COLUMNS,
    )


@staff_member_required
def payment_upload(request: HttpRequest) -> HttpResponse:
    """上传税务缴费（实缴）文件 — bureau staff only."""
    _require(request, "contributions.add_payment")
    if not _is_bureau(request.user):
        raise PermissionDenied
    form = PaymentUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.import_job_create(
                kind=ImportKind.PAYMENT,
                uploaded_file=form.cleaned_data["file"],
                user=request.user,
                as_of=timezone.localdate(),
            )
        except imports.FileRejected as exc:
            form.add_error("file", str(exc))
        else:
            _start_validation(job)
            return redirect("contributions:import_job", pk=job.pk)
    return _page(
        request,
        "contributions/import_upload.html",
        "导入税务缴费文件（实缴）",
        form=form,
        kind=ImportKind.PAYMENT,
        columns=imports.PAYMENT_COLUMNS,
    )


def visible_jobs(user):
    """Import jobs a user may see: an employer user their employer's payroll jobs, staff all."""
    qs = ImportJob.objects.all()
    own = employer_id_of(user)
    return qs if own is None else qs.filter(employer_id=own, kind=ImportKind.PAYROLL)


def _job_or_404(request: HttpRequest, pk: int, *fields: str) -> ImportJob:
    qs = visible_jobs(request.user)
    qs = qs.only(*fields) if fields else qs.select_related("employer", "uploaded_by")
    return get_object_or_404(qs, pk=pk)


def _import_perm(kind: str) -> str:
    return "contributions.add_wagedeclaration" if kind == ImportKind.PAYROLL else "contributions.add_payment"


def _progress(job: ImportJob) -> dict:
    total = job.total_rows or 0
    running = job.status in (ImportStatus.UPLOADED, ImportStatus.VALIDATING, ImportStatus.IMPORTING)
    percent = 100 if not running else (min(99, job.processed_rows * 100 // total) if total else 0)
    return {
        "status": job.status,
        "status_display": job.get_status_display(),
        "total_rows": total,
        "processed_rows": min(job.processed_rows, total) if total else job.processed_rows,
        "error_rows": job.error_rows,
        "percent": percent,
        "running": running,
    }


@staff_member_required
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """导入批次: progress while running; then the dry-run result with every bad row, and confirm."""
    job = _job_or_404(request, pk)
    _require(request, "contributions.view_importjob")
    summary = job.dry_run_summary or {}
    valid_rows = summary.get("valid_rows", 0)
    can_import = request.user.has_perm(_import_perm(job.kind)) and job.status == ImportStatus.VALIDATED
    return _page(
        request,
        "contributions/import_job.html",
        f"导入批次 #{job.pk}：{job.get_kind_display()}",
        job=job,
        summary=summary,
        progress=_progress(job),
        errors=_errors_for(request.user, job.errors[:ERRORS_SHOWN]),
        errors_hidden=max(0, len(job.errors) - ERRORS_SHOWN),
        can_confirm=can_import and not job.error_rows and valid_rows > 0,
        can_skip_errors=can_import and job.error_rows > 0 and valid_rows > 0,
    )


def _errors_for(user, errors: list[dict]) -> list[dict]:
    """Row errors as ``user`` may read them (an employer user is not told where a 身份证号 is registered)."""
    employer_user = not _is_bureau(user)
    return [{**e, "message": imports.message_for(e, employer_user=employer_user)} for e in errors]


@staff_member_required
def import_job_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by the job page (the errors list is not loaded)."""
    _require(request, "contributions.view_importjob")
    job = _job_or_404(request, pk, "id", "kind", "employer", "status", "total_rows", "processed_rows", "error_rows")
    return JsonResponse(_progress(job))


@require_POST
@staff_member_required
def import_job_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """确认导入: queue the all-or-nothing commit (once, however often the button is pressed)."""
    job = _job_or_404(request, pk, "id", "kind", "employer", "status")
    _require(request, _import_perm(job.kind))
    skip_errors = request.POST.get("skip_errors") == "1"
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.VALIDATED).update(
        status=ImportStatus.IMPORTING, processed_rows=0
    )
    if claimed:
        import_tasks.import_commit.delay(job_id=job.pk, skip_errors=skip_errors)
    else:
        messages.warning(request, "该批次不在“已校验”状态，未重复提交。")
    return redirect("contributions:import_job", pk=job.pk)


@staff_member_required
def import_job_rejected(request: HttpRequest, pk: int) -> HttpResponse:
    """下载错误行: the rejected rows with their original columns and 错误说明."""
    _require(request, "contributions.view_importjob")
    job = _job_or_404(request, pk)
    if not job.errors:
        messages.info(request, "该批次没有错误行。")
        return redirect("contributions:import_job", pk=job.pk)
    stem = (job.original_name or f"import-{job.pk}").rsplit(".", 1)[0]
    # Built for the requesting user's role: masked 身份证号 without the PII permission.
    return _xlsx(imports.rejected_rows_xlsx(job, user=request.user), f"{stem}-错误行.xlsx")


@staff_member_required
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ImportKind.values:
        raise PermissionDenied
    name = "工资申报模板.xlsx" if kind == ImportKind.PAYROLL else "实缴导入模板.xlsx"
    return _xlsx(imports.template_xlsx(kind, as_of=timezone.localdate()), name)


# ---------------------------------------------------------------------------------------------
# A person's contribution record (缴费记录) on one screen
# ---------------------------------------------------------------------------------------------


@staff_member_required
def person_history(request: HttpRequest, person_id: int) -> HttpResponse:
    """缴费记录: bases by year, dues by month with their parts, payments and allocations,
    arrears and late fees, and the enrolment status — for one person."""
    _require(request, "contributions.view_monthlydue")
    person = get_object_or_404(InsuredPerson.objects.visible_to(request.user), pk=person_id)
    as_of = timezone.localdate()
    user = request.user
    # One scope rule: an employer user (also a former employer) sees only the rows of its own spans —
    # its dues, bases, bills, the payments that paid its dues and those allocations; never another
    # employer's name, wage, base or payment.
    dues = list(
        scope_queryset(user, MonthlyDue.objects.filter(person=person), employer_path="employer_id")
        .select_related("employer")
        .order_by("-month")
    )
    allocations = list(
        scope_queryset(user, PaymentAllocation.objects.filter(payment__person=person), employer_path="due__employer_id")
        .select_related("due", "payment")
        .order_by("-due__month")
    )
    payments = list(
        scope_queryset(
            user, Payment.objects.filter(person=person), employer_path="allocations__due__employer_id"
        ).order_by("-paid_on", "-id")
    )
    by_payment: dict[int, list[PaymentAllocation]] = {}
    for a in allocations:
        by_payment.setdefault(a.payment_id, []).append(a)
    for p in payments:
        p.allocation_list = by_payment.get(p.pk, [])
    # 滞纳金 as of the day shown, by the nightly job's own statement (nothing written); the stored figure
    # is what the last batch run accrued and is shown as such.
    fees_today = services.late_fees_as_of(person.pk, as_of)
    for d in dues:
        d.batch_late_fee = d.late_fee
        d.late_fee = fees_today.get(d.pk, d.late_fee)
        d.unpaid_late_fee_today = d.late_fee - d.late_fee_paid
    arrears = [d for d in dues if d.settled_on is None and d.due_date is not None and d.due_date < as_of]
    totals = {
        "due": sum((d.total for d in dues), _NO_MONEY),
        "paid": sum((d.paid_principal for d in dues), _NO_MONEY),
        "arrears": sum((d.total - d.paid_principal for d in arrears), _NO_MONEY),
        "late_fee": sum((d.late_fee for d in dues), _NO_MONEY),
        "late_fee_unpaid": sum((d.late_fee - d.late_fee_paid for d in dues), _NO_MONEY),
        "batch_late_fee": sum((d.batch_late_fee for d in dues), _NO_MONEY),
        "unapplied": sum((p.unapplied_amount for p in payments), _NO_MONEY),
    }
    return _page(
        request,
        "contributions/person_history.html",
        f"缴费记录：{person.name}",
        person=person,
        id_number=person.id_number if can_see_pii(request.user) else mask_id_number(person.id_number),
        spans=scope_queryset(user, EnrolmentSpan.objects.filter(person=person), employer_path="employer_id")
        .select_related("employer", "jurisdiction")
        .order_by("start"),
        bases=scope_queryset(user, ContributionBase.objects.filter(person=person), employer_path="employer_id")
        .select_related("employer")
        .order_by("-year_start"),
        dues=dues,
        payments=payments,
        arrears=arrears,
        bills=scope_queryset(user, BackPaymentBill.objects.filter(person=person), employer_path="employer_id").order_by(
            "-issued_on"
        ),
        totals=totals,
        as_of=as_of,
        show_payments=True,
    )


@staff_member_required
def person_lookup(request: HttpRequest) -> HttpResponse:
    """Find a person by exact 身份证号 and open their 缴费记录."""
    _require(request, "contributions.view_monthlydue")
    number = (request.GET.get("id_number") or "").strip().upper()
    if number:
        person = InsuredPerson.objects.visible_to(request.user).filter(id_number=number).first()
        if person is not None:
            return redirect("contributions:person_history", person_id=person.pk)
        messages.error(request, "未找到该身份证号的参保人员（或无权查看）。")
    return _page(request, "contributions/person_lookup.html", "缴费记录查询", id_number=number)


# ---------------------------------------------------------------------------------------------
# An employer's monthly bill (应缴汇总) and arrears (欠费明细), exportable to xlsx
# ---------------------------------------------------------------------------------------------


def _money_sum(expr) -> Coalesce:
    return Coalesce(Sum(expr), _ZERO)


_CENT = Decimal("0.01")


def _cents(value) -> Decimal | None:
    """Sums come back as float/int on SQLite: show them as money."""
    return None if value is None else Decimal(str(value)).quantize(_CENT)


BILL_MONEY = (
    "employer_amount",
    "individual_amount",
    "maternity_amount",
    "critical_illness_amount",
    "total",
    "paid",
    "late_fee",
    "late_fee_paid",
)


def employer_bill_rows(employer: Employer, *, year: int | None = None) -> list[dict]:
    """应缴 summary per month for an employer: one grouped query.

    生育/大病 stay empty (not 0) where no month has them: a rate the seed leaves to another
    policy is unknown, not zero (see :class:`~contributions.models.MonthlyDue`).
    """
    qs = MonthlyDue.objects.filter(employer=employer)
    if year is not None:
        qs = qs.filter(month__year=year)
    rows = list(
        qs.values("month")
        .annotate(
            persons=Count("person_id"),
            base=_money_sum("base"),
            employer_amount=_money_sum("employer_amount"),
            individual_amount=_money_sum("individual_amount"),
            maternity_amount=Sum("maternity_amount"),
            critical_illness_amount=Sum("critical_illness_amount"),
            total=_money_sum("total"),
            paid=_money_sum("paid_principal"),
            late_fee=_money_sum("late_fee"),
            late_fee_paid=_money_sum("late_fee_paid"),
        )
        .order_by("-month")
    )
    for row in rows:
        for key in (*BILL_MONEY, "base"):
            row[key] = _cents(row[key])
        row["unpaid"] = row["total"] - row["paid"]
        row["late_fee_unpaid"] = row["late_fee"] - row["late_fee_paid"]
    return rows


def _employer_or_404(request: HttpRequest, employer_id: int) -> Employer:
    _require(request, "contributions.view_monthlydue")
    return get_object_or_404(Employer.objects.visible_to(request.user).select_related("jurisdiction"), pk=employer_id)


@staff_member_required
def employer_bill(request: HttpRequest, employer_id: int) -> HttpResponse:
    """单位月度应缴汇总 (?format=xlsx to download)."""
    employer = _employer_or_404(request, employer_id)
    year = request.GET.get("year")
    year = int(year) if year and year.isdigit() else None
    today = timezone.localdate()
    # the late fee of unpaid months as of today, by the nightly job's own rule (nothing written)
    rows = services.read_as_of(
        services.employer_owing_persons(employer.pk), today, lambda: employer_bill_rows(employer, year=year)
    )
    if request.GET.get("format") == "xlsx":
        return _xlsx(resources.employer_bill_xlsx(employer, rows), f"{employer.name}-月度应缴汇总.xlsx")
    years = sorted({r["month"].year for r in employer_bill_rows(employer)}, reverse=True)
    return _page(
        request,
        "contributions/employer_bill.html",
        f"月度应缴汇总：{employer.name}",
        employer=employer,
        rows=rows,
        year=year,
        years=years,
        fees_as_of=today,
        base=EmployerBase.objects.filter(employer=employer).order_by("-year_start").first(),
        deferrals=Deferral.objects.filter(employer=employer).order_by("-start")[:10],
    )


@staff_member_required
def employer_arrears(request: HttpRequest, employer_id: int) -> HttpResponse:
    """单位欠费明细: per person and month, with the late fee accrued (?format=xlsx to download)."""
    employer = _employer_or_404(request, employer_id)
    as_of = timezone.localdate()
    qs = selectors.employer_arrears(employer.pk, as_of)
    pii = can_see_pii(request.user)
    owing = services.employer_owing_persons(employer.pk)
    if request.GET.get("format") == "xlsx":
        content = services.read_as_of(owing, as_of, lambda: resources.arrears_xlsx(qs, mask=not pii))
        return _xlsx(content, f"{employer.name}-欠费明细.xlsx")

    def read() -> tuple[dict, Any]:
        # totals and the page's rows as of today (late fees by the nightly job's rule; nothing written)
        totals = qs.aggregate(
            months=Count("id"),
            persons=Count("person_id", distinct=True),
            principal=Coalesce(Sum(F("total") - F("paid_principal")), _ZERO),
            late_fee=Coalesce(Sum(F("late_fee") - F("late_fee_paid")), _ZERO),
        )
        page = Paginator(qs, 200).get_page(request.GET.get("page"))
        page.object_list = list(page.object_list)
        return totals, page

    totals, page = services.read_as_of(owing, as_of, read)
    totals["principal"], totals["late_fee"] = _cents(totals["principal"]), _cents(totals["late_fee"])
    for due in page:
        due.shown_id_number = due.person.id_number if pii else mask_id_number(due.person.id_number)
        due.overdue_days = (as_of - due.due_date).days
    return _page(
        request,
        "contributions/employer_arrears.html",
        f"欠费明细：{employer.name}",
        employer=employer,
        page=page,
        totals=totals,
        as_of=as_of,
    )


def admin_links(request: HttpRequest) -> dict[str, str]:
    """Links the admin change lists show above their tables."""
    links = {"person_lookup": reverse("contributions:person_lookup")}
    if request.user.has_perm("contributions.add_wagedeclaration"):
        links["payroll_upload"] = reverse("contributions:payroll_upload")
    if _is_bureau(request.user) and request.user.has_perm("contributions.add_payment"):
        links["payment_upload"] = reverse("contributions:payment_upload")
    if _is_bureau(request.user) and request.user.has_perm("contributions.change_monthlydue"):
        links["operations"] = reverse("operations:index")  # the operations app's page (a URL, not an import)
    return links
