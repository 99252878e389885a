"""令牌登录 (issue #16 item 5): machines (an employer's payroll system, the tax bureau's client) log in once
with their user's password (HTTP Basic) and get a token with an expiry; staff use their session.

A token is issued only to an employer user (单位经办员: it then sees its own employer's rows, exactly as on
the screens), to a 机构接口账号 bound to one 定点医药机构 (its own settlements only), or to a user holding
``apiaudit.use_token`` (a machine client the administrator set up).
Tokens are stored hashed (django-rest-knox) and revoked by logging out, or in the admin (删除令牌).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.views import LoginView, LogoutAllView, LogoutView
from rest_framework import permissions, serializers
from rest_framework.authentication import BasicAuthentication

from apiaudit.api import AuditedWritesMixin

from .models import employer_id_of

USE_TOKEN = "apiaudit.use_token"

#: Further kinds of machine login that may hold a token, plugged in by the apps above (``fn(user) -> bool``):
#: benefits.institutions registers its 机构接口账号 (a login bound to one 定点医药机构) in ``ready()``.
_token_holders: list = []


def token_holder_register(fn) -> None:
    if fn not in _token_holders:
        _token_holders.append(fn)


class MayHoldToken(permissions.BasePermission):
    """An employer user, or a machine client holding ``apiaudit.use_token``; never an unauthenticated user."""

    message = "此账号不能申请接口令牌（仅单位经办员、机构接口账号或机器客户端）"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return bool(employer_id_of(user)) or user.has_perm(USE_TOKEN) or any(fn(user) for fn in _token_holders)


_TOKEN = inline_serializer("Token", {"expiry": serializers.DateTimeField(), "token": serializers.CharField()})
_REFUSED = {401: OpenApiResponse(description="未认证或密码错误"), 403: OpenApiResponse(description="无权申请令牌")}


class TokenLoginView(AuditedWritesMixin, LoginView):
    authentication_classes = (BasicAuthentication,)
    permission_classes = (MayHoldToken,)

    @extend_schema(
        summary="申请接口令牌",
        description="以 HTTP Basic（用户名、密码）申请令牌；返回令牌原文（只显示一次）及到期时间。"
        "之后的请求带 `Authorization: Token <令牌>`。",
        request=None,
        responses={200: _TOKEN, **_REFUSED, 429: OpenApiResponse(description="请求过于频繁")},
        tags=["令牌"],
    )
    def post(self, request, format=None, **kwargs):
        return super().post(request, format=format)


_LOGOUT_RESPONSES = {
    204: None,
    401: OpenApiResponse(description="未认证"),
    429: OpenApiResponse(description="请求过于频繁"),
}


class TokenLogoutView(AuditedWritesMixin, LogoutView):
    @extend_schema(
        summary="注销本令牌",
        request=None,
        responses=_LOGOUT_RESPONSES,
        tags=["令牌"],
    )
    def post(self, request, format=None, **kwargs):
        return super().post(request, format=format)


class TokenLogoutAllView(AuditedWritesMixin, LogoutAllView):
    @extend_schema(
        summary="注销本用户全部令牌",
        request=None,
        responses=_LOGOUT_RESPONSES,
        tags=["令牌"],
    )
    def post(self, request, format=None, **kwargs):
        return super().post(request, format=format)
