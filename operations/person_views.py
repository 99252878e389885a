"""检索 and 个人全景 screens (issue #19 items 2, 3). Thin: the reads are in :mod:`enrollment.search` and
:mod:`operations.person_page`; the scope and permission rules are :mod:`enrollment.access`'s."""

from __future__ import annotations

from datetime import date

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from enrollment.access import can_see_pii, require
from enrollment.bounds import MIN_BUSINESS_DATE
from enrollment.identifiers import mask_id_number
from enrollment.search import search as search_for

from .person_page import person_page, visible_person


def _page(request: HttpRequest, template: str, title: str, **context) -> TemplateResponse:
    return TemplateResponse(request, template, {**admin.site.each_context(request), "title": title, **context})


def _day(raw: str | None, today: date) -> tuple[date, str]:
    """The day the page shows (``?on=YYYY-MM-DD``, from 1950 to today); today, with a message, otherwise."""
    if not raw:
        return today, ""
    try:
        day = date.fromisoformat(raw.strip()[:10])
    except ValueError:
        return today, f"日期“{raw[:20]}”格式不正确（应为 YYYY-MM-DD），已显示今日。"
    if not MIN_BUSINESS_DATE <= day <= today:
        return today, f"日期应在 {MIN_BUSINESS_DATE:%Y-%m-%d} 至 {today:%Y-%m-%d} 之间，已显示今日。"
    return day, ""


@staff_member_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """检索: persons by 身份证号 fragment, name fragment or pinyin initials; employers by name or credit code."""
    require(request, "enrollment.view_insuredperson")
    result = search_for(request.user, request.GET.get("q", ""))
    pii = can_see_pii(request.user)
    for p in result.persons:
        p.shown_id_number = p.id_number if pii else mask_id_number(p.id_number)
    return _page(request, "operations/search.html", "检索", result=result, q=result.term)


@staff_member_required
@require_GET
def person(request: HttpRequest, person_id: int) -> HttpResponse:
    """个人全景: identity, spans, status with its reason, arrears, bases, payment years, account, claims,
    clearance case and events of one person, on the day shown."""
    require(request, "enrollment.view_insuredperson")
    found = visible_person(request.user, person_id)
    if found is None:
        raise Http404("无此参保人员（或无权查看）")
    today = timezone.localdate()
    on, message = _day(request.GET.get("on"), today)
    page = person_page(request.user, found, on)
    return _page(request, "operations/person.html", f"个人全景：{found.name}", page=page, today=today, message=message)
