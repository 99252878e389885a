"""Admin building blocks shared by every app: employer scoping, PII masking, lists of millions of rows."""

from __future__ import annotations

import json

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import OperationalError, connections, transaction
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property

from .identifiers import mask_id_number, mask_phone
from .models import EnrolmentSpan, employer_id_of
from .roles import PII


def can_see_pii(user) -> bool:
    return user.has_perm(PII)


class CappedCountPaginator(Paginator):
    """分页计数封顶: counts at most ``CAP`` rows, unordered (``SELECT COUNT(*) FROM (SELECT … LIMIT CAP)``).

    The list's ORDER BY is dropped before counting (a count needs no sort; keeping it made PostgreSQL sort
    millions of dues, spilling to disk), and so are its joins for display (``select_related``). A list of
    millions opens at once and shows ``CAP`` rows; a filter or a search narrows it to an exact count.
    On PostgreSQL the count may take ``TIMEOUT_MS`` at most; past that (a filter matching many rows through
    a join, say) the planner's estimate of the row count stands in for it, capped the same way.
    """

    CAP = 100_000
    TIMEOUT_MS = 50

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            return len(rows)
        rows = rows.order_by().select_related(None)
        connection = connections[rows.db]
        if connection.vendor != "postgresql":
            return rows[: self.CAP].count()
        try:
            # the timeout is set for this savepoint only: restored after, rolled back with it when cancelled
            with transaction.atomic(using=rows.db), connection.cursor() as cur:
                cur.execute("SELECT current_setting('statement_timeout')")
                previous = cur.fetchone()[0]
                cur.execute("SELECT set_config('statement_timeout', %s, true)", [f"{self.TIMEOUT_MS}ms"])
                count = rows[: self.CAP].count()
                cur.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
                return count
        except OperationalError:  # cancelled: estimate
            return min(self.CAP, _planned_rows(rows))


def _planned_rows(rows: QuerySet) -> int:
    """PostgreSQL's estimate of the number of rows of ``rows`` (EXPLAIN, nothing run)."""
    sql, params = rows.query.sql_with_params()
    with connections[rows.db].cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cur.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


class BigListMixin:
    """大表列表: no second, unfiltered full count (``show_full_result_count``), and the capped count.

    Put it first among an admin's bases. Every list over a table that grows with the population uses it;
    the indexes behind each list's default order are in the models' ``Meta.indexes``.
    """

    show_full_result_count = False
    paginator = CappedCountPaginator


class EmployerScopedAdmin(admin.ModelAdmin):
    """Restricts an employer user to their own employer's rows (bureau staff see all).

    ``employer_path`` is the lookup from the model to the employer id (e.g.
    ``"employer_id"``); ``person_path`` the lookup to the person for person-owned
    rows, visible when the person has a span at the employer.
    """

    employer_path: str | None = None
    person_path: str | None = None

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        employer_id = employer_id_of(request.user)
        if employer_id is None:
            return qs
        if self.employer_path:
            return qs.filter(**{self.employer_path: employer_id})
        if self.person_path:
            persons = EnrolmentSpan.objects.filter(employer_id=employer_id).values("person_id")
            return qs.filter(**{f"{self.person_path}__in": persons})
        return qs.none()


class PersonSearchMixin:
    """搜索参保人员: the search box of a person-owned list, each way by an index.

    A number (shorter than 18 digits) is the person's id (the person page links to lists so), 18 characters
    a 身份证号 (exact), anything else a 姓名 prefix (``person_name_prefix``) or, when ``search_exact`` names
    fields, an exact value of one of them (e.g. a 业务流水号). ``person_path`` is the lookup to the person.
    Substring search (``LIKE '%…%'``) would read every row of a table of millions.
    """

    person_path = "person"
    search_exact: tuple[str, ...] = ()

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        p = self.person_path
        if term.isdigit() and len(term) < 18:
            return queryset.filter(**{f"{p}__pk": int(term)}), False
        if len(term) == 18:
            return queryset.filter(**{f"{p}__id_number": term.upper()}), False
        found = Q(**{f"{p}__name__startswith": term})
        for field in self.search_exact:
            found |= Q(**{field: term})
        return queryset.filter(found), False


_MASKED = {
    "id_number": "masked_id_number",
    "phone": "masked_phone",
    "person_id_number": "masked_person_id_number",
}


class PiiMaskingAdmin(admin.ModelAdmin):
    """Shows 身份证号 and phone masked, in lists and forms, to users without the PII permission."""

    @admin.display(description="身份证号")
    def masked_id_number(self, obj) -> str:
        return mask_id_number(obj.id_number)

    @admin.display(description="联系电话")
    def masked_phone(self, obj) -> str:
        return mask_phone(obj.phone)

    @admin.display(description="身份证号", ordering="person__id_number")
    def person_id_number(self, obj) -> str:
        return obj.person.id_number

    @admin.display(description="身份证号")
    def masked_person_id_number(self, obj) -> str:
        return mask_id_number(obj.person.id_number)

    def get_list_display(self, request):
        fields = super().get_list_display(request)
        return fields if can_see_pii(request.user) else [_MASKED.get(f, f) for f in fields]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if can_see_pii(request.user) else [_MASKED.get(f, f) for f in fields]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not can_see_pii(request.user):
            fields += [m for m in _MASKED.values() if m not in fields]
        return fields
