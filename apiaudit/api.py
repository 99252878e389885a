"""Shared API plumbing (issue #16 item 5): the per-client throttle and the audited-write mixin."""

from __future__ import annotations

from django.db import transaction
from rest_framework import permissions
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiWrite


def token_key_of(request) -> str:
    """The knox token's key (its first 15 characters) when the request came with a token, else ""."""
    auth = getattr(request, "auth", None)
    return str(getattr(auth, "token_key", "") or "")


class ClientRateThrottle(SimpleRateThrottle):
    """限流: per client — a token counts on its own, a session per user, anonymous per address."""

    scope = "client"

    def get_cache_key(self, request, view) -> str:
        key = token_key_of(request)
        if key:
            ident = f"token:{key}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AuditedWritesMixin:
    """Every unsafe request runs in one transaction with its audit row (ApiWrite): the write and the record
    of it commit together, or neither does."""

    def dispatch(self, request, *args, **kwargs):
        if request.method in permissions.SAFE_METHODS:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 400:
                # refused or invalid: nothing half-written, and nothing to record (no write happened)
                transaction.set_rollback(True)
            else:
                drf_request = getattr(self, "request", request)
                user = drf_request.user
                ApiWrite.objects.create(
                    user=user if user.is_authenticated else None,
                    token_key=token_key_of(drf_request),
                    client=(getattr(user, "username", "") or "")[:150],
                    method=request.method[:8],
                    path=request.path[:500],
                    status=response.status_code,
                )
        return response


class CheckedLookupMixin:
    """A detail URL whose id is not a number in range answers 404 (documented), never an HTTP 500."""

    def get_object(self):
        from rest_framework.exceptions import NotFound

        from .filters import MAX_ID

        value = str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, ""))
        if not (value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID):
            raise NotFound("编号格式不对或不存在。")
        return super().get_object()
