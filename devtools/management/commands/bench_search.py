"""``python manage.py bench_search``: the search box (检索) timed at a province's scale (issue #19, target < 300 ms).

Generates (or reuses) a population of ``--persons`` (1,000,000) with the register's own generator, then runs
``--samples`` different terms of each kind through :func:`enrollment.search.search` as a bureau
administrator (and, with ``--employer-user``, as an employer user, whose scope adds a filter) and prints
the median and the slowest of each kind: 身份证号 fragment, name fragment (the last two characters of a
name: no prefix index helps), pinyin initials, employer name fragment, credit code fragment. Terms are
taken from rows of the database, so each finds at least one row. Everything the command writes for
itself (a temporary user) is rolled back; the population stays for the next run.

Use your own PostgreSQL database (``DATABASE_URL``): on SQLite the fallback is a plain scan.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from batch.dialect import is_postgres
from enrollment.models import Employer, EmployerUser, InsuredPerson
from enrollment.roles import BUREAU_ADMIN, EMPLOYER_USER
from enrollment.search import search
from operations.demo.population import generate_population

#: Two-character fragments no generated name holds: pg_trgm has no trigram for them, the scan reads all names.
RARE_PAIRS = tuple("鑫淼 燚垚 犇骉 淦炜 翀昉 彧璟 珩玥 堃钰 琤珂 昶晟 骞翊 湛蔚 铎钧 甄翎 笙筠".split())


PICKER = {"app_label": "enrollment", "model_name": "enrolmentspan", "field_name": "person"}


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "检索基准测试：在百万参保人员上按身份证号片段、姓名片段、拼音首字母、单位名称检索，打印中位耗时。"

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=1_000_000, help="population size to reach")
        parser.add_argument("--jurisdiction", default="hunan")
        parser.add_argument("--as-of", default="2024-01-01", help="the population's date (ages, categories)")
        parser.add_argument("--samples", type=int, default=15, help="different terms per kind")
        parser.add_argument("--budget", type=float, default=300.0, help="target median (ms)")
        parser.add_argument("--seed", type=int, default=19)
        parser.add_argument("--employer-user", action="store_true", help="also time as an employer user")

    def out(self, text: str) -> None:
        self.stdout.write(text)

    def handle(self, *args, persons, jurisdiction, as_of, samples, budget, seed, employer_user, **options):
        if not is_postgres():
            self.out("注意：当前不是 PostgreSQL，检索为无索引的普通扫描（仅供小规模使用）。")
        self._population(persons, jurisdiction, date.fromisoformat(as_of))
        rnd = random.Random(seed)
        terms = self._terms(rnd, samples)
        try:
            with transaction.atomic():
                admin = self._user("bench-search-admin", BUREAU_ADMIN)
                failed = self._time("经办管理员", admin, terms, budget)
                if employer_user:
                    employer = Employer.objects.order_by("pk").first()
                    user = self._user("bench-search-employer", EMPLOYER_USER)
                    EmployerUser.objects.create(user=user, employer=employer)
                    failed |= self._time(f"单位经办员（{employer.name}）", user, terms, budget)
                raise _Rollback
        except _Rollback:
            pass
        self.out("结果：" + ("有检索中位耗时超出目标" if failed else f"全部中位耗时低于 {budget:.0f} ms"))

    def _population(self, persons: int, jurisdiction: str, as_of: date) -> None:
        have = InsuredPerson.objects.count()
        missing = persons - have
        if missing <= 0:
            self.out(f"人口：沿用已有的 {have:,} 名参保人员")
            return
        t = time.perf_counter()
        chunk = 200_000  # one transaction per chunk: memory stays flat
        done = 0
        while done < missing:
            n = min(chunk, missing - done)
            generate_population(
                jurisdiction=jurisdiction, employers=max(1, n // 100), persons=n, as_of=as_of, seed=have + done
            )
            done += n
            self.out(f"  生成 {have + done:,} / {persons:,}（{time.perf_counter() - t:.0f} s）")
        if is_postgres():
            with connection.cursor() as cur:
                cur.execute("ANALYZE enrollment_insuredperson; ANALYZE enrollment_employer")

    def _terms(self, rnd: random.Random, samples: int) -> dict[str, list[str]]:
        """Terms taken from rows spread over the tables (by id), so that each finds something."""
        top = InsuredPerson.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        ids = [rnd.randint(1, max(1, top)) for _ in range(samples * 3)]
        rows = InsuredPerson.objects.filter(pk__in=ids).values_list("id_number", "name", "name_initials")
        rows = list(rows)[:samples]
        etop = Employer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        eids = [rnd.randint(1, max(1, etop)) for _ in range(samples * 3)]
        emps = list(Employer.objects.filter(pk__in=eids).values_list("name", "credit_code"))[:samples]
        return {
            "身份证号片段（6位）": [n[10:16] for n, _, _ in rows],
            "身份证号片段（4位）": [n[12:16] for n, _, _ in rows],
            "姓名片段（名的后两字）": [name[-2:] for _, name, _ in rows],
            "姓名片段（无匹配：两字无三元组可用，最坏情况）": list(RARE_PAIRS[:samples]),
            "拼音首字母": [i for _, _, i in rows if i],
            "单位名称片段": [name[-6:] for name, _ in emps],
            "统一社会信用代码片段（8位）": [code[8:16] for _, code in emps],
        }

    def _user(self, username: str, group: str):
        user = get_user_model().objects.create_user(username, password=None, is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        return get_user_model().objects.get(pk=user.pk)  # fresh permission cache

    def _client(self, user) -> Client:
        host = next((h for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith(".")), "localhost")
        client = Client(HTTP_HOST=host)
        client.force_login(user)
        return client

    def _page_ms(self, client: Client, term: str, picker: bool = False) -> float:
        """The whole search page (request, search, rendering), or with ``picker`` the person picker's
        autocomplete answer (the 参保关系 form's person field), in its own savepoint."""
        if picker:
            url, query = reverse("admin:autocomplete"), {**PICKER, "term": term}
        else:
            url, query = reverse("operations:search"), {"q": term}
        t = time.perf_counter()
        with transaction.atomic():
            response = client.get(url, query)
            transaction.set_rollback(True)
        elapsed = (time.perf_counter() - t) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"检索页面返回 HTTP {response.status_code}")
        return elapsed

    def _time(self, label: str, user, terms: dict[str, list[str]], budget: float) -> bool:
        self.out(f"— {label}（检索函数 / 整个检索页面）")
        client = self._client(user)
        failed = False
        for kind, values in terms.items():
            if not values:
                self.out(f"  {kind}: 无样本")
                continue
            search(user, values[0])  # warm the connection and the plan cache
            self._page_ms(client, values[0])
            times, pages, hits = [], [], []
            for term in values:
                t = time.perf_counter()
                result = search(user, term)
                times.append((time.perf_counter() - t) * 1000)
                hits.append(len(result.persons) + len(result.employers))
                pages.append(self._page_ms(client, term))
            picker_median = 0.0
            if kind.startswith(("姓名", "拼音", "身份证号")):
                picker_median = statistics.median([self._page_ms(client, term, picker=True) for term in values])
                kind += f"（选择框 autocomplete 中位 {picker_median:.1f} ms）"
            median, page_median = statistics.median(times), statistics.median(pages)
            over = max(median, page_median, picker_median) >= budget
            failed |= over
            self.out(
                f"  {kind}: 中位 {median:.1f} ms / {page_median:.1f} ms，最慢 {max(times):.1f} ms / "
                f"{max(pages):.1f} ms（{len(values)} 个检索词，命中中位 {statistics.median(hits):.0f} 条）"
                f"{' 超出目标' if over else ''}"
            )
        return failed
