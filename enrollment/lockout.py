"""The page shown to a locked-out login (django-axes ``AXES_LOCKOUT_CALLABLE``).

The admin login form comes back with a Chinese message and HTTP 429; the API gets a JSON body.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (
        f"登录失败次数过多（连续 {settings.AXES_FAILURE_LIMIT} 次），该账号在本机地址已被锁定 {minutes} 分钟，"
        "请稍后再试或联系系统管理员解锁。"
    )


def lockout_response(request: HttpRequest, response=None, credentials=None, *args, **kwargs) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message()}, status=429)
    form = AdminAuthenticationForm(request)  # unbound: a bound form would try to authenticate again
    form.cleaned_data = {}
    form.add_error(None, lockout_message())
    context = {
        **admin.site.each_context(request),
        "title": "登录",
        "form": form,
        "app_path": request.get_full_path(),
        "username": "",
    }
    return render(request, "admin/login.html", context, status=429)
