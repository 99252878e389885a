"""访问控制: ONE scope rule and ONE permission rule for every way in (admin, custom views, exports, API).

- :func:`scope_queryset` — what rows a user may see. Bureau staff (经办机构) see every row; an employer
  user (单位经办员) sees their own employer's rows, and of a person's own rows (payments, claims …) only
  those that fall in the months the person worked for that employer (a former employer keeps seeing the
  months it paid for, never the new employer's).
- :func:`require` — the permission a request needs (HTTP 403 otherwise); views, POST handlers and admin
  actions call it (actions through ``@admin.action(permissions=[...])``).
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth

from .models import EnrolmentSpan, employer_id_of
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


def _crosses_many(model, path: str) -> bool:
    """Whether a lookup path goes through a to-many relation (its join would repeat rows)."""
    for name in path.split("__"):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        if field.one_to_many or field.many_to_many:
            return True
        if not field.is_relation:
            return False
        model = field.related_model
    return False


def spans_at(employer_id: int, person_ref, month_ref=None) -> Exists:
    """An enrolment span at the employer for the person (and, with ``month_ref``, covering that month).

    Spans are half-open ``[start, end)``; a span starting in the middle of a month covers that month.
    """
    spans = EnrolmentSpan.objects.filter(employer_id=employer_id, person_id=person_ref)
    if month_ref is not None:
        spans = (
            spans.annotate(first_month=TruncMonth("start"))
            .filter(first_month__lte=month_ref)
            .filter(Q(end__isnull=True) | Q(end__gt=month_ref))
        )
    return Exists(spans)


def scope_queryset(
    user,
    qs: QuerySet,
    *,
    employer_path: str | None = None,
    person_path: str | None = None,
    months_path: str | None = None,
) -> QuerySet:
    """The rows of ``qs`` the user may see.

    ``employer_path`` — lookup from the row to the employer id (rows that carry the employer);
    ``person_path`` — lookup to the person id (rows a person owns: visible when the person worked there);
    ``months_path`` — with ``person_path``, the row's date: visible only when it falls in a month the
    person worked for the employer. Without any path an employer user sees nothing (deny by default).
    """
    employer_id = employer_id_of(user)
    if employer_id is None:
        return qs
    if employer_path:
        if _crosses_many(qs.model, employer_path):
            inner = qs.model._default_manager.filter(**{employer_path: employer_id}).values("pk")
            return qs.filter(pk__in=inner)
        return qs.filter(**{employer_path: employer_id})
    if person_path:
        month_ref = OuterRef(months_path) if months_path else None
        return qs.filter(spans_at(employer_id, OuterRef(person_path), month_ref))
    return qs.none()
