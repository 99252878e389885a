"""基金接口 (issue #16 item 4): fund months (月度发生额) and account statements (分录, e.g. a personal
account's 明细账), read like the ledger screens (staff only: employer users hold no fund permission)."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from apiaudit.api import CheckedLookupMixin
from apiaudit.filters import BoundedFilterSet
from apiaudit.pagination import CheckedCursorPagination
from enrollment.access import scope_queryset
from enrollment.api import ModelViewPermission

from .models import AccountMonthTotal, Posting


class FundMonthSerializer(serializers.ModelSerializer):
    account_code = serializers.CharField(source="account.code", read_only=True)
    account_kind = serializers.CharField(source="account.kind", read_only=True)
    jurisdiction = serializers.CharField(source="account.jurisdiction.code", read_only=True)

    class Meta:
        model = AccountMonthTotal
        fields = (
            "id",
            "account",
            "account_code",
            "account_kind",
            "jurisdiction",
            "month",
            "kind",
            "amount",
            "postings",
        )


class PostingSerializer(serializers.ModelSerializer):
    account_code = serializers.CharField(source="account.code", read_only=True)
    person = serializers.IntegerField(source="account.person_id", read_only=True, allow_null=True)

    class Meta:
        model = Posting
        fields = ("id", "entry", "account", "account_code", "person", "amount", "effective_on", "kind")


class FundMonthFilter(BoundedFilterSet):
    month_from = filters.DateFilter(field_name="month", lookup_expr="gte", label="月份起（含）")
    month_before = filters.DateFilter(field_name="month", lookup_expr="lt", label="月份止（不含）")
    jurisdiction = filters.CharFilter(field_name="account__jurisdiction__code", label="统筹区代码", max_length=32)

    class Meta:
        model = AccountMonthTotal
        fields = ("account", "kind")


class PostingFilter(BoundedFilterSet):
    person = filters.NumberFilter(field_name="account__person_id", label="参保人员 id（个人账户明细账）")
    effective_from = filters.DateFilter(field_name="effective_on", lookup_expr="gte", label="生效日期起（含）")
    effective_before = filters.DateFilter(field_name="effective_on", lookup_expr="lt", label="生效日期止（不含）")

    class Meta:
        model = Posting
        fields = ("account", "kind")


@extend_schema_view(list=extend_schema(summary="基金月度发生额"), retrieve=extend_schema(summary="一条月度发生额"))
class FundMonthViewSet(CheckedLookupMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = (ModelViewPermission,)
    serializer_class = FundMonthSerializer
    filterset_class = FundMonthFilter

    def get_queryset(self):
        qs = AccountMonthTotal.objects.select_related("account__jurisdiction").order_by("account_id", "month", "kind")
        return scope_queryset(self.request.user, qs)  # staff only: an employer user sees no fund rows


@extend_schema_view(
    list=extend_schema(summary="账户分录（明细账，游标分页）"), retrieve=extend_schema(summary="一条分录")
)
class PostingViewSet(CheckedLookupMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = (ModelViewPermission,)
    serializer_class = PostingSerializer
    pagination_class = CheckedCursorPagination
    filterset_class = PostingFilter

    def get_queryset(self):
        qs = Posting.objects.select_related("account")
        return scope_queryset(self.request.user, qs)
