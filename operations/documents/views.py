"""The print buttons' pages and PDFs, the bulk run's pages, and the public verification page.

Thin: parameters are checked by forms (a bad one comes back as a message on its field, never a 500), the
subject is found through the one scope rule, the content and the PDF come from :mod:`.services`.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from enrollment.access import employer_id_of, is_bureau

from ..models import BatchStatus, DocumentBatch, DocumentKind, IssuedDocument
from . import codes, services, tasks
from .content import DocumentUnavailable, visible_cases

MIN_YEAR, MAX_YEAR = 1990, 2100


# --- parameters ----------------------------------------------------------------------------------


class MonthField(forms.Field):
    """``YYYY-MM`` → the first day of that month, within bounds."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "maxlength": 7})

    def to_python(self, value):
        value = str(value or "").strip()
        if not value:
            return None
        if len(value) > 7:
            raise forms.ValidationError("月份格式应为 YYYY-MM，例如 2024-03。", code="month")
        try:
            year, month = (int(x) for x in value.split("-"))
            first = date(year, month, 1)
        except ValueError:
            raise forms.ValidationError("月份格式应为 YYYY-MM，例如 2024-03。", code="month") from None
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise forms.ValidationError(f"年份应在 {MIN_YEAR}—{MAX_YEAR} 之间。", code="month_range")
        return first


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), 1 if first.month == 12 else first.month + 1, 1)


class PeriodForm(forms.Form):
    """个人缴费明细: months from ``start`` to ``end`` inclusive (at most ten years)."""

    start = MonthField(label="起始月份")
    end = MonthField(label="截止月份（含）")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "截止月份不能早于起始月份。")
            elif (end.year - start.year) * 12 + end.month - start.month >= 120:
                self.add_error("end", "一次最多打印 120 个月（十年）。")
        return data


class YearForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=MIN_YEAR, max_value=MAX_YEAR)


class MonthForm(forms.Form):
    month = MonthField(label="费款所属期")


class BulkForm(forms.Form):
    kind = forms.ChoiceField(
        label="文书", choices=[(k.value, k.label) for k in services.BULK_KINDS], widget=forms.RadioSelect
    )
    start = MonthField(label="缴费明细起始月份", required=False)
    end = MonthField(label="缴费明细截止月份（含）", required=False)

    def clean(self):
        data = super().clean()
        if data.get("kind") == DocumentKind.CONTRIBUTIONS:
            start, end = data.get("start"), data.get("end")
            for name in ("start", "end"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "打印缴费明细须填写起止月份。")
            if start and end and end < start:
                self.add_error("end", "截止月份不能早于起始月份。")
            elif start and end and (end.year - start.year) * 12 + end.month - start.month >= 120:
                self.add_error("end", "一次最多打印 120 个月（十年）。")
        return data


# --- helpers -------------------------------------------------------------------------------------


def _require_kind(request: HttpRequest, kind: str) -> None:
    if not services.may_print(request.user, kind):
        raise PermissionDenied


def _base_url(request: HttpRequest) -> str:
    return getattr(settings, "DOCUMENT_VERIFY_BASE_URL", "") or request.build_absolute_uri("/").rstrip("/")


def _pdf_response(request: HttpRequest, kind: str, **subject) -> HttpResponse:
    """Build, register and send one document; a document that cannot be printed comes back as a message."""
    as_of = timezone.localdate()  # the edge: the document shows the figures of the day it is printed
    try:
        content = services.build(kind, user=request.user, as_of=as_of, **subject)
    except DocumentUnavailable as exc:
        return _page(request, "documents/unavailable.html", "无法出具", {"message": str(exc)}, status=409)
    issued = services.issue(content, user=request.user, base_url=_base_url(request))
    response = HttpResponse(issued.pdf, content_type="application/pdf")
    name = services.filename(content, issued.document.code)
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{_quote(name)}"
    response["Cache-Control"] = "no-store"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


def _page(request: HttpRequest, template: str, title: str, context: dict, status: int = 200) -> TemplateResponse:
    return TemplateResponse(
        request, template, {**admin.site.each_context(request), "title": title, **context}, status=status
    )


def _invalid(request: HttpRequest, title: str, form: forms.Form, back: str) -> TemplateResponse:
    return _page(request, "documents/invalid.html", title, {"form": form, "back": back}, status=400)


def _person(request: HttpRequest, person_id: int):
    return get_object_or_404(services.persons_for(request.user), pk=person_id)


def _employer(request: HttpRequest, employer_id: int):
    return get_object_or_404(services.employers_for(request.user), pk=employer_id)


# --- print pages (the buttons on the person's, employer's and clearance case's pages) --------------


@require_GET
@staff_member_required
def person_print(request: HttpRequest, person_id: int) -> HttpResponse:
    """打印文书: the person's documents with their periods."""
    _require_kind(request, DocumentKind.ENROLMENT)
    person = _person(request, person_id)
    today = timezone.localdate()
    kinds = {k: services.may_print(request.user, k) for k in (DocumentKind.CONTRIBUTIONS, DocumentKind.ACCOUNT)}
    return _page(
        request,
        "documents/person_print.html",
        f"打印文书：{person.name}",
        {
            "person": person,
            "period": PeriodForm(initial={"start": f"{today.year}-01", "end": f"{today:%Y-%m}"}),
            "year": YearForm(initial={"year": today.year}),
            "can_contributions": kinds[DocumentKind.CONTRIBUTIONS],
            "can_account": kinds[DocumentKind.ACCOUNT],
        },
    )


@require_GET
@staff_member_required
def employer_print(request: HttpRequest, employer_id: int) -> HttpResponse:
    """打印文书 of an employer: the month's 缴费通知单, and the bulk run for all its people."""
    _require_kind(request, DocumentKind.EMPLOYER_NOTICE)
    employer = _employer(request, employer_id)
    today = timezone.localdate()
    return _page(
        request,
        "documents/employer_print.html",
        f"打印文书：{employer.name}",
        {
            "employer": employer,
            "month": MonthForm(initial={"month": f"{today:%Y-%m}"}),
            "bulk": BulkForm(
                initial={"kind": DocumentKind.ENROLMENT, "start": f"{today.year}-01", "end": f"{today:%Y-%m}"}
            ),
            "batches": _batches_for(request.user).filter(employer=employer)[:10],
        },
    )


# --- the PDFs ------------------------------------------------------------------------------------


@require_GET
@staff_member_required
def person_enrolment(request: HttpRequest, person_id: int) -> HttpResponse:
    """参保证明 (PDF)."""
    _require_kind(request, DocumentKind.ENROLMENT)
    return _pdf_response(request, DocumentKind.ENROLMENT, person=_person(request, person_id))


@require_GET
@staff_member_required
def person_contributions(request: HttpRequest, person_id: int) -> HttpResponse:
    """个人缴费明细 (PDF), ``?start=YYYY-MM&end=YYYY-MM`` (default: this year up to this month)."""
    _require_kind(request, DocumentKind.CONTRIBUTIONS)
    person = _person(request, person_id)
    today = timezone.localdate()
    data = {"start": request.GET.get("start", f"{today.year}-01"), "end": request.GET.get("end", f"{today:%Y-%m}")}
    form = PeriodForm(data)
    if not form.is_valid():
        return _invalid(request, "个人缴费明细", form, "documents:person_print")
    d = form.cleaned_data
    return _pdf_response(
        request, DocumentKind.CONTRIBUTIONS, person=person, start=d["start"], end=_next_month(d["end"])
    )


@require_GET
@staff_member_required
def person_account(request: HttpRequest, person_id: int) -> HttpResponse:
    """个人账户对账单 (PDF), ``?year=YYYY`` (default: this year)."""
    _require_kind(request, DocumentKind.ACCOUNT)
    person = _person(request, person_id)
    form = YearForm({"year": request.GET.get("year", timezone.localdate().year)})
    if not form.is_valid():
        return _invalid(request, "个人账户对账单", form, "documents:person_print")
    return _pdf_response(request, DocumentKind.ACCOUNT, person=person, year=form.cleaned_data["year"])


@require_GET
@staff_member_required
def employer_notice(request: HttpRequest, employer_id: int) -> HttpResponse:
    """单位缴费通知单 (PDF), ``?month=YYYY-MM`` (default: this month)."""
    _require_kind(request, DocumentKind.EMPLOYER_NOTICE)
    employer = _employer(request, employer_id)
    form = MonthForm({"month": request.GET.get("month", f"{timezone.localdate():%Y-%m}")})
    if not form.is_valid():
        return _invalid(request, "单位缴费通知单", form, "documents:employer_print")
    return _pdf_response(request, DocumentKind.EMPLOYER_NOTICE, employer=employer, month=form.cleaned_data["month"])


@require_GET
@staff_member_required
def clearance_decision(request: HttpRequest, case_id: int) -> HttpResponse:
    """退休清缴核定通知 (PDF)."""
    _require_kind(request, DocumentKind.CLEARANCE)
    case = get_object_or_404(visible_cases(request.user), pk=case_id)
    return _pdf_response(request, DocumentKind.CLEARANCE, case=case)


# --- bulk run ------------------------------------------------------------------------------------


def _batches_for(user):
    qs = DocumentBatch.objects.select_related("employer", "requested_by")
    if is_bureau(user):
        return qs
    employer_id = employer_id_of(user)
    return qs.filter(employer_id=employer_id) if employer_id else qs.none()


@staff_member_required
def bulk_start(request: HttpRequest, employer_id: int) -> HttpResponse:
    """批量出具: every person of the employer, one document each, in one ZIP (a background task)."""
    employer = _employer(request, employer_id)
    if not all(services.may_print(request.user, k) for k in services.BULK_KINDS):
        raise PermissionDenied
    form = BulkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        with transaction.atomic():
            batch = DocumentBatch.objects.create(
                employer=employer,
                kind=d["kind"],
                period_start=d.get("start") if d["kind"] == DocumentKind.CONTRIBUTIONS else None,
                period_end=_next_month(d["end"]) if d["kind"] == DocumentKind.CONTRIBUTIONS else None,
                as_of=timezone.localdate(),
                base_url=_base_url(request)[:200],
                requested_by=request.user,
            )
            transaction.on_commit(lambda: tasks.documents_bulk.delay(batch_id=batch.pk))
        messages.success(request, "已提交批量出具，由后台任务生成；完成后可下载 ZIP 文件。")
        return redirect("documents:bulk_progress", pk=batch.pk)
    return _page(
        request, "documents/bulk_start.html", f"批量出具：{employer.name}", {"employer": employer, "form": form}
    )


@never_cache
@require_GET
@staff_member_required
def bulk_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's progress (the page reloads itself while it runs: no script needed)."""
    batch = get_object_or_404(_batches_for(request.user), pk=pk)
    running = batch.status in (BatchStatus.QUEUED, BatchStatus.RUNNING)
    return _page(request, "documents/bulk_progress.html", "批量出具进度", {"batch": batch, "running": running})


@require_GET
@staff_member_required
def bulk_download(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(_batches_for(request.user), pk=pk)
    if batch.status != BatchStatus.DONE or not batch.file:
        raise Http404("文件尚未生成")
    name = f"{batch.employer.name}_{batch.get_kind_display()}_{batch.pk}.zip"
    return FileResponse(batch.file.open("rb"), as_attachment=True, filename=name, content_type="application/zip")


# --- public verification -------------------------------------------------------------------------


def _rate_limited(request: HttpRequest) -> bool:
    """Per client (logged-in user, or the client address): at most N look-ups per window (settings)."""
    limit, window = getattr(settings, "DOCUMENT_VERIFY_RATE", (20, 600))
    who = f"u{request.user.pk}" if request.user.is_authenticated else f"ip{request.META.get('REMOTE_ADDR', '')}"
    key = f"documents:verify:{who}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit


def _refused(request: HttpRequest) -> HttpResponse:
    response = TemplateResponse(request, "documents/verify.html", {"limited": True}, status=429)
    response["Retry-After"] = str(getattr(settings, "DOCUMENT_VERIFY_RATE", (20, 600))[1])
    return response


class VerifyForm(forms.Form):
    code = forms.CharField(label="核验码", max_length=30, help_text="文书底部的 12 位核验码，例如 ABCD-EFGH-JKMN")

    def clean_code(self):
        code = codes.normalise(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError("核验码应为 12 位字母和数字（不含 0、1、I、L、O），请核对后重新输入。")
        return code


@never_cache
@require_GET
def verify(request: HttpRequest) -> HttpResponse:
    """核验文书真伪 (no login): the form; ``?code=`` goes to the code's page."""
    if "code" not in request.GET:
        return TemplateResponse(request, "documents/verify.html", {"form": VerifyForm()})
    if _rate_limited(request):
        return _refused(request)
    form = VerifyForm(request.GET)
    if form.is_valid():
        return redirect("documents:verify_code", code=form.cleaned_data["code"])
    return TemplateResponse(request, "documents/verify.html", {"form": form}, status=400)


@never_cache
@require_GET
def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    """Whether the document is genuine, and a masked summary of it — nothing else."""
    if _rate_limited(request):
        return _refused(request)
    normalised = codes.normalise(code)
    doc = IssuedDocument.objects.filter(code=normalised).first() if normalised else None
    return TemplateResponse(
        request,
        "documents/verify.html",
        {
            "form": VerifyForm(initial={"code": code[:30]}),
            "checked": True,
            "doc": doc,
            "shown_code": codes.display(normalised) if normalised else code[:30],
        },
        status=200 if doc else 404,
    )
