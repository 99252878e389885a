"""访问控制: ONE scope rule and ONE permission rule for every way in (admin, custom views, exports, API).

- :func:`scope_queryset` — what rows a user may see. Bureau staff (经办机构) see every row; an employer
  user (单位经办员) sees their own employer's rows, and of a person's own rows (payments, claims …) only
  those that fall in the months the person worked for that employer (a former employer keeps seeing the
  months it paid for, never the new employer's).
- :func:`require` — the permission a request needs (HTTP 403 otherwise); views, POST handlers and admin
  actions call it (actions through ``@admin.action(permissions=[...])``).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from .models import employer_id_of, scope_queryset, spans_at
from .roles import PII


def is_bureau(user) -> bool:
    """经办机构 staff (not an employer user); anonymous users are not."""
    return user is not None and user.is_authenticated and employer_id_of(user) is None


def can_see_pii(user) -> bool:
    """身份证号 and phone in full (经办管理员, 经办人员, 单位经办员 for their own people); masked otherwise."""
    return user is not None and user.has_perm(PII)


def require(request, *perms: str) -> None:
    """Refuse (HTTP 403) unless the user holds every permission named."""
    if not all(request.user.has_perm(p) for p in perms):
        raise PermissionDenied


def require_bureau(request, *perms: str) -> None:
    """Refuse unless bureau staff holding every permission named (operations employer users never run)."""
    if not is_bureau(request.user):
        raise PermissionDenied
    require(request, *perms)


__all__ = ["can_see_pii", "employer_id_of", "is_bureau", "require", "require_bureau", "scope_queryset", "spans_at"]
