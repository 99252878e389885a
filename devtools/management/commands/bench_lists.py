"""``python manage.py bench_lists``: every admin list and the custom pages, timed on the configured database.

Logs in as the bureau administrator (经办管理员) with Django's test ``Client`` inside one transaction
that is rolled back at the end (each request in its own savepoint), so the database is left as it was.
For every registered admin changelist (``admin.site._registry``) it opens: the default order, page 2,
the first choice of each list filter, and one search per search field (the value taken from the first
row of the list); then the custom pages: a person's contribution record and lookup, the why page
(待遇享受状态说明), the personal-account statement, an employer's bill and arrears, fund health.
Each URL is opened ``--repeat`` times; the median is printed and flagged when over ``--budget`` ms
(issue #13: every list under 300 ms at a province's scale), with the median time its SQL took (on a
shared, loaded machine the SQL figure is the steadier one; the rest is Python rendering the page).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from contributions.models import MonthlyDue
from enrollment.models import EnrolmentSpan, InsuredPerson
from enrollment.roles import BUREAU_ADMIN
from funds.models import AccountKind, FundAccount

BENCH_USER = "bench-lists-admin"


class _Rollback(Exception):
    """Raised at the end to undo the session, the login and anything a page wrote."""


@dataclass
class Timing:
    label: str
    url: str
    status: int | str
    median_ms: float
    sql_ms: float = 0.0
    slowest_query: str = ""


def _host() -> str:
    return next((h for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith(".")), "localhost")


def _value(obj, lookup: str):
    """``person__name`` → ``obj.person.name`` (``None`` when a link is empty)."""
    for part in lookup.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, part, None)
    return obj


class Command(BaseCommand):
    help = "管理后台列表与业务页面基准测试：逐一打开每个列表（默认排序、第2页、各筛选、搜索）与业务页面，打印中位耗时。"

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=3, help="times each URL is opened (median printed)")
        parser.add_argument("--budget", type=float, default=300.0, help="flag URLs slower than this (ms)")
        parser.add_argument("--only", default="", help="only lists whose app_label.model contains this")
        parser.add_argument("--user", default="", help="an existing staff user instead of a temporary 经办管理员")
        parser.add_argument(
            "--queries", action="store_true", help="for flagged URLs, show the slowest query of the last run"
        )

    def handle(self, *args, repeat, budget, only, user, queries, **options):
        self.repeat, self.budget, self.queries = max(1, repeat), budget, queries
        self.results: list[Timing] = []
        self.stdout.write(f"database: {connection.vendor} {connection.settings_dict['NAME']}; {self.repeat} runs/URL")
        try:
            with transaction.atomic():
                self.client = Client(HTTP_HOST=_host(), raise_request_exception=True)
                self.client.force_login(self._user(user))
                for model, model_admin in sorted(admin.site._registry.items(), key=lambda kv: kv[0]._meta.label):
                    if only and only not in model._meta.label_lower:
                        continue
                    self._changelist(model, model_admin)
                if not only:
                    self._custom_pages()
                raise _Rollback
        except _Rollback:
            pass
        slow = sorted((r for r in self.results if r.median_ms > budget), key=lambda r: -r.median_ms)
        failed = [r for r in self.results if r.status != 200]
        self.stdout.write(
            f"\n{len(self.results)} URLs; {len(slow)} over {budget:.0f} ms; {len(failed)} not 200; "
            f"median of medians {statistics.median(r.median_ms for r in self.results):.1f} ms "
            f"(SQL {statistics.median(r.sql_ms for r in self.results):.1f} ms)"
            if self.results
            else "no URLs"
        )
        for r in slow:
            self.stdout.write(f"  SLOW {r.median_ms:9.1f} ms (SQL {r.sql_ms:6.1f})  {r.label}  {r.url}")
        for r in failed:
            self.stdout.write(f"  FAIL {r.status}  {r.label}  {r.url}")

    # --- the user ---------------------------------------------------------------------------

    def _user(self, username: str):
        User = get_user_model()
        if username:
            return User.objects.get(username=username)
        user = User.objects.create(username=BENCH_USER, is_staff=True, is_active=True)
        user.groups.add(Group.objects.get(name=BUREAU_ADMIN))
        return user

    # --- timing -----------------------------------------------------------------------------

    def _get(self, url: str, follow: bool = False):
        with transaction.atomic():  # a failing page rolls back to here, the transaction goes on
            return self.client.get(url, follow=follow)

    def _time(self, label: str, url: str, follow: bool = False):
        """Open ``url`` ``repeat`` times; record and print the median (whole request, and its SQL)."""
        times, sql_times, response, status, worst = [], [], None, 0, None
        for _ in range(self.repeat):
            reset_queries()  # as each request does when it starts: the capture below then sees all of it
            t0 = time.perf_counter()
            try:
                with CaptureQueriesContext(connection) as ctx:
                    response = self._get(url, follow)
                status = response.status_code
            except Exception as exc:  # reported, the benchmark goes on with the next URL
                status = f"error {type(exc).__name__}: {exc}"[:200]
                response = None
            times.append((time.perf_counter() - t0) * 1000)
            if response is None:
                break
            sql_times.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
            worst = max(ctx.captured_queries, key=lambda q: float(q["time"]), default=None)
        timing = Timing(label, url, status, statistics.median(times), statistics.median(sql_times or [0.0]))
        if self.queries and timing.median_ms > self.budget and worst:
            timing.slowest_query = f"{float(worst['time']) * 1000:.0f} ms: {worst['sql'][:300]}"
        self.results.append(timing)
        flag = "SLOW" if timing.median_ms > self.budget else "    "
        self.stdout.write(f"{timing.median_ms:9.1f} ms {flag} (SQL {timing.sql_ms:6.1f}) {status!s:>3}  {label}  {url}")
        if timing.slowest_query:
            self.stdout.write(f"{'':18}slowest query {timing.slowest_query}")
        return response

    # --- admin lists --------------------------------------------------------------------------

    def _changelist(self, model, model_admin) -> None:
        name = model._meta.label_lower
        try:
            base = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        except NoReverseMatch:
            return
        response = self._time(f"{name} default order", base)
        cl = getattr(response, "context_data", {}).get("cl") if response is not None else None
        if cl is None:
            return
        self._time(f"{name} page 2", f"{base}?p=2")
        for spec in cl.filter_specs:
            choice = next((c for c in spec.choices(cl) if not c.get("selected") and c.get("query_string")), None)
            if choice is not None:
                self._time(f"{name} filter {spec.title}: {choice.get('display')}", base + choice["query_string"])
        first = cl.result_list[0] if len(cl.result_list) else None
        for field in cl.search_fields or ():
            lookup = field.lstrip("=^@")
            value = _value(first, lookup) if first is not None else None
            if value is None or value == "":
                continue
            value = str(getattr(value, "pk", value))[:20]  # a long text: what one would type, its start
            self._time(f"{name} search {field}", f"{base}?{urlencode({'q': str(value)})}")

    # --- custom pages -------------------------------------------------------------------------

    def _custom_pages(self) -> None:

        account = (
            FundAccount.objects.filter(kind=AccountKind.PERSONAL, person__isnull=False)
            .order_by()
            .values_list("pk", "person_id")
            .first()
        )
        # a person with a personal account, else one with dues, else the first one
        person_ids = (
            [account[1]] if account else list(MonthlyDue.objects.order_by().values_list("person_id", flat=True)[:1])
        )
        person = InsuredPerson.objects.filter(pk__in=person_ids).first() or InsuredPerson.objects.order_by("pk").first()
        if person is None:
            self.stdout.write("no persons: custom pages skipped")
            return
        span = (
            EnrolmentSpan.objects.filter(person=person, employer__isnull=False)
            .select_related("jurisdiction")
            .order_by("-start")
            .first()
        )
        pages = [
            ("admin index", reverse("admin:index")),
            ("person change page", reverse("admin:enrollment_insuredperson_change", args=[person.pk])),
            ("contribution record (缴费记录)", reverse("contributions:person_history", args=[person.pk])),
            (
                "contribution lookup by 身份证号 (→ the record)",
                reverse("contributions:person_lookup") + f"?id_number={person.id_number}",
            ),
            ("why page (待遇享受状态说明)", reverse("admin:benefits_eligibility_person", args=[person.pk])),
        ]
        if account:
            pages.append(
                (
                    "personal-account statement (个人账户明细)",
                    reverse("admin:funds_fundaccount_change", args=[account[0]]),
                )
            )
        if span is not None:
            pages += [
                ("employer bill (月度应缴账单)", reverse("contributions:employer_bill", args=[span.employer_id])),
                ("employer arrears (欠费明细)", reverse("contributions:employer_arrears", args=[span.employer_id])),
            ]
        code = span.jurisdiction.code if span is not None else ""
        pages.append(
            ("fund health (基金运行)", reverse("admin:funds_health") + (f"?jurisdiction={code}" if code else ""))
        )
        for label, url in pages:
            self._time(label, url, follow="→" in label)
