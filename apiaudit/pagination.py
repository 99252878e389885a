"""Pagination of the API (issue #16 items 4 and 6): a bad page or cursor is a documented 400, not a 404."""

from __future__ import annotations

from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class CheckedPageNumberPagination(pagination.PageNumberPagination):
    """页码分页: a page that is not a positive number, or past the end, is a 400 naming the field (not a 404)."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except pagination.NotFound as exc:
            raise ValidationError({self.page_query_param: [str(exc.detail)]}) from None

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                size = int(raw)
            except ValueError:
                raise ValidationError({self.page_size_query_param: ["应为 1 到 500 的整数。"]}) from None
            if not 1 <= size <= self.max_page_size:
                raise ValidationError({self.page_size_query_param: ["应为 1 到 500 的整数。"]})
        return super().get_page_size(request)


class CheckedCursorPagination(pagination.CursorPagination):
    """游标分页 for large lists (dues, payments, claims): a stable key, never an offset; a cursor that is not
    ours is a 400 naming the field (not a 404)."""

    ordering = "-id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except pagination.NotFound as exc:
            raise ValidationError({self.cursor_query_param: [str(exc.detail)]}) from None
