"""Admin lists at a province's scale (issue #13 item 1): capped unordered counts, EXISTS filters, bench_lists."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from enrollment.admin_mixins import BureauAdmin, CappedCountPaginator, PersonSearchMixin
from enrollment.models import Employer, EnrolmentSpan, InsuredPerson

pytestmark = pytest.mark.django_db


def test_capped_count_drops_the_order_and_stops_at_the_cap(employer_a, person_factory, monkeypatch):
    for i in range(3):
        person_factory(employer=employer_a, name=f"职工{i}")
    monkeypatch.setattr(CappedCountPaginator, "CAP", 2)
    with CaptureQueriesContext(connection) as queries:
        count = CappedCountPaginator(InsuredPerson.objects.order_by("-name"), 50).count
    assert count == 2
    (sql,) = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert "ORDER BY" not in sql and "LIMIT 2" in sql
    assert CappedCountPaginator([1, 2, 3], 2).count == 3  # a plain list: its length


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statement_timeout and EXPLAIN")
def test_a_count_past_the_timeout_is_the_planners_estimate_capped(employer_a, person_factory, monkeypatch):
    for i in range(3):
        person_factory(employer=employer_a, name=f"职工{i}")

    def timeout() -> str:
        with connection.cursor() as cur:
            cur.execute("SHOW statement_timeout")
            return cur.fetchone()[0]

    before = timeout()
    assert CappedCountPaginator(InsuredPerson.objects.all(), 50).count == 3  # quick: exact
    assert timeout() == before  # the short timeout does not outlive the count
    monkeypatch.setattr(CappedCountPaginator, "TIMEOUT_MS", 20)
    monkeypatch.setattr("enrollment.admin_mixins._planned_rows", lambda rows: 123_456)
    slow = InsuredPerson.objects.extra(where=["(SELECT true FROM pg_sleep(0.2))"])
    assert CappedCountPaginator(slow, 50).count == CappedCountPaginator.CAP  # cancelled: the estimate, capped
    monkeypatch.setattr(CappedCountPaginator, "CAP", 200_000)
    assert CappedCountPaginator(slow, 50).count == 123_456
    assert timeout() == before and InsuredPerson.objects.count() == 3  # the transaction goes on


def _persons_listed(client, query: str) -> int:
    response = client.get(reverse("admin:enrollment_insuredperson_changelist") + query)
    assert response.status_code == 200
    return response.context_data["cl"].result_count


def test_person_list_filters_on_spans_by_exists(client, admin_user, employer_a, person_factory):
    person_factory(employer=employer_a, name="单位职工")
    person_factory(category="flexible", name="灵活就业")
    ziyang = Employer._meta.get_field("jurisdiction").related_model.objects.get(code="ziyang")
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as queries:
        assert _persons_listed(client, f"?span_jurisdiction={employer_a.jurisdiction_id}") == 2
    page = [q["sql"] for q in queries.captured_queries if "LIMIT 50" in q["sql"] or "LIMIT 100" in q["sql"]]
    assert page and all("EXISTS" in sql and "DISTINCT" not in sql for sql in page)
    assert _persons_listed(client, f"?span_jurisdiction={ziyang.pk}") == 0
    assert _persons_listed(client, "?span_category=flexible") == 1
    # a value that is not one of the choices is ignored, never an error
    assert _persons_listed(client, "?span_jurisdiction=abc") == 2


def test_person_search_by_id_number_or_name_prefix(employer_a, person_factory):
    zhang = person_factory(employer=employer_a, name="张三")
    person_factory(employer=employer_a, name="李四")
    spans = EnrolmentSpan.objects.all()

    def found(term: str, **kw) -> set[str]:
        search = PersonSearchMixin()
        for key, value in kw.items():
            setattr(search, key, value)
        qs, duplicates = search.get_search_results(None, spans, term)
        assert not duplicates
        return {s.person.name for s in qs}

    assert found(str(zhang.pk)) == {"张三"}
    assert found(f" {zhang.id_number.lower()} ") == {"张三"}
    assert found("张") == {"张三"}
    assert found("三") == set()  # a prefix, not a substring (no index could serve that)
    assert found("") == {"张三", "李四"}
    assert found("employee", search_exact=("category",)) == {"张三", "李四"}
    # the persons a prefix finds are looked up by id; over the limit the list is filtered through the join
    assert found("张", search_exact=("category",)) == {"张三"}
    assert found("张", NAME_MATCH_LIMIT=0) == {"张三"}
    assert found("李", NAME_MATCH_LIMIT=1, search_exact=("category",)) == {"李四"}
    with CaptureQueriesContext(connection) as queries:
        assert found("李", search_exact=("category",)) == {"李四"}
    listed = [q["sql"] for q in queries.captured_queries if EnrolmentSpan._meta.db_table in q["sql"]]
    assert listed and all("name" not in sql for sql in listed)  # by the ids found, not by a name test


def test_bench_lists_opens_every_list_and_leaves_the_database_as_it_was(employer_a, person_factory):
    person_factory(employer=employer_a, name="张三")
    users, sessions = get_user_model().objects.count(), Session.objects.count()
    out = StringIO()
    call_command("bench_lists", "--repeat", "1", "--budget", "1000000", stdout=out)
    text = out.getvalue()
    assert " 0 not 200;" in text, text
    for label in (
        "enrollment.insuredperson search name",
        "enrollment.insuredperson filter 参保统筹区",
        "contributions.monthlydue page 2",
        "contribution record (缴费记录)",
        "employer bill (月度应缴账单)",
        "fund health (基金运行)",
    ):
        assert label in text
    assert get_user_model().objects.count() == users and Session.objects.count() == sessions


def test_the_claims_list_leaves_out_the_calculation_steps(admin_user, client, person_factory):
    """The claims list reads its rows without 计算步骤 and 累计额变动 (list_defer): the page shows neither."""
    from tests.test_claims import make_claim

    person = person_factory(name="王五", category="flexible")
    claim = make_claim(person, "hunan", inscp_scp_amt=100, steps=[{"step": "起付标准", "amount": "0"}])
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:claims_claim_changelist"))
    assert response.status_code == 200
    assert claim.business_key in response.content.decode()
    listed = [q["sql"] for q in queries.captured_queries if 'FROM "claims_claim"' in q["sql"] and "LIMIT" in q["sql"]]
    assert listed and all('"steps"' not in sql and '"effects"' not in sql for sql in listed)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan is PostgreSQL's")
@pytest.mark.parametrize(("isempty", "index"), [("1", "elig_state_no_error"), ("0", "elig_state_error")])
def test_the_state_lists_error_filter_reads_its_partial_index(admin_user, client, person_factory, isempty, index):
    """待遇状态计算记录 filtered by 无法计算的原因: a whole pooling area may lack one value, so the list's page is read
    from the partial index of its side in the list's order (person DESC), not by filtering the primary key."""
    from django.utils import timezone

    from benefits.models import EligibilityState

    for person, error in ((person_factory(category="flexible"), ""), (person_factory(category="flexible"), "缺少")):
        EligibilityState.objects.create(person=person, digest="d", error=error, computed_at=timezone.now())
    client.force_login(admin_user)
    url = reverse("admin:benefits_eligibilitystate_changelist") + f"?error__isempty={isempty}"
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    read = 'SELECT "benefits_eligibilitystate"."person_id", '
    page = next(q["sql"] for q in queries.captured_queries if q["sql"].startswith(read))
    assert "ORDER BY" in page and '"error"' in page
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # a two-row table: make the planner show what it could use
        cur.execute("EXPLAIN " + page.replace("%", "%%"))
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert index in plan, plan


# --- the Python side of a list page: what a row costs (issue #13 item 1) ------------------------------------


def _result_table(response) -> str:
    html = response.content.decode()
    start = html.index('<table id="result_list">')
    return html[start : html.index("</table>", start)]


def test_rows_are_djangos_own_without_a_resolve_per_row(admin_user, client, person_factory, monkeypatch):
    """RowCheapChangeList and RowCheapAdmin.action_checkbox: the very table Django's own list gives (links keeping
    the filters, checkboxes), without resolving each row's link against every URL pattern."""
    from django.contrib.admin import ModelAdmin
    from django.contrib.admin.templatetags import admin_urls

    from enrollment.admin_mixins import RowCheapAdmin
    from tests.test_claims import make_claim

    person = person_factory(name="王五", category="flexible")
    for _ in range(4):
        make_claim(person, "hunan", inscp_scp_amt=100)
    client.force_login(admin_user)
    url = reverse("admin:claims_claim_changelist") + "?med_type__exact=21&o=-1"
    resolved: list[str] = []
    real = admin_urls.resolve
    monkeypatch.setattr(admin_urls, "resolve", lambda path, *a: resolved.append(path) or real(path, *a))

    ours = client.get(url)
    assert ours.status_code == 200 and len(ours.context_data["cl"].result_list) == 4
    assert len(resolved) <= 2, resolved  # the add link, the page's one row link: none per row
    monkeypatch.setattr(RowCheapAdmin, "get_changelist", ModelAdmin.get_changelist)
    monkeypatch.setattr(RowCheapAdmin, "action_checkbox", ModelAdmin.action_checkbox)
    resolved.clear()
    djangos = client.get(url)
    assert len(resolved) >= 4  # Django's own: one resolve per row
    assert _result_table(ours) == _result_table(djangos)
    assert "_changelist_filters=med_type__exact%3D21%26o%3D-1" in _result_table(ours)
    assert 'class="action-select"' in _result_table(ours)
    # the picker's popup (raw id field): the same rows, links and data-popup-opener as Django's
    popup = reverse("admin:claims_claim_changelist") + "?_popup=1&_to_field=id"
    djangos = client.get(popup)
    monkeypatch.undo()
    ours = client.get(popup)
    assert "data-popup-opener" in _result_table(ours) and _result_table(ours) == _result_table(djangos)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_row_checkbox_is_djangos_html(language, employer_a, person_factory):
    """The checkbox written with format_html is byte for byte the widget Django renders (labels escaped once)."""
    from django.contrib import admin
    from django.contrib.admin import ModelAdmin
    from django.utils import translation

    person = person_factory(employer=employer_a, name="<b>\"张&三'</b>")
    model_admin = admin.site._registry[InsuredPerson]
    with translation.override(language):
        assert model_admin.action_checkbox(person) == ModelAdmin.action_checkbox(model_admin, person)


def test_a_string_key_links_as_django_does(admin_user, rf):
    """Only integer keys take the page's reversed link; any other key is Django's own link (quoted)."""
    from django.contrib import admin
    from django.contrib.admin.views.main import ChangeList

    from enrollment.admin_mixins import RowCheapChangeList

    model_admin = admin.site._registry[InsuredPerson]
    url = reverse("admin:enrollment_insuredperson_changelist")
    request = rf.get(url, {"p": "1"})
    request.user, request.resolver_match = admin_user, resolve(url)
    cl = model_admin.get_changelist_instance(request)
    assert isinstance(cl, RowCheapChangeList) and cl.preserved_filters == "" and cl.kept_filters

    class Row:
        pk = id = "a/b c"

    expected = ChangeList.url_for_result(cl, Row()) + "?_changelist_filters=p%3D1"
    assert cl.url_for_result(Row()) == expected
    row = InsuredPerson(pk=12345)
    assert cl.url_for_result(row) == ChangeList.url_for_result(cl, row) + "?_changelist_filters=p%3D1"


def test_a_claim_read_without_its_steps_is_the_claim(person_factory):
    """Claim.from_db (the list's deferred columns looked up in a set): every other column as read in full."""
    from benefits.claims.models import Claim
    from tests.test_claims import make_claim

    claim = make_claim(
        person_factory(name="王五", category="flexible"), "hunan", inscp_scp_amt=100, steps=[{"step": "起付标准"}]
    )
    full = Claim.objects.get(pk=claim.pk)
    lean = Claim.objects.defer("steps", "effects").get(pk=claim.pk)
    assert lean.get_deferred_fields() == {"steps", "effects"}
    for field in Claim._meta.concrete_fields:
        if field.attname not in ("steps", "effects"):
            assert getattr(lean, field.attname) == getattr(full, field.attname), field.attname
    assert lean.steps == [{"step": "起付标准"}]  # read when asked for


def test_every_linked_column_of_a_list_is_joined():
    """A list column showing a link (ForeignKey) is read with the page's rows (list_select_related), never by
    a query per row: Django's default join follows only links that cannot be empty."""
    from django.contrib import admin
    from django.core.exceptions import FieldDoesNotExist
    from django.db import models

    missing = []
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, BureauAdmin):
            continue  # third-party admins (auth, celery beat, knox, axes): not ours to change
        joined = model_admin.list_select_related
        for name in model_admin.list_display:
            try:
                field = model._meta.get_field(name) if isinstance(name, str) else None
            except FieldDoesNotExist:
                continue
            if not isinstance(field, models.ForeignKey) or field.attname == name:
                continue
            if joined is True or (joined is False and not field.null):
                continue
            if joined and any(j == name or j.startswith(f"{name}__") for j in joined):
                continue
            missing.append(f"{model._meta.label}.{name}")
    assert not missing


def _queries_for(client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(response.context_data["cl"].result_list), len(queries.captured_queries)


@pytest.mark.parametrize(
    "changelist", ["claims_claim", "enrollment_insuredperson", "enrollment_enrolmentspan", "batch_batchrun"]
)
def test_a_list_page_costs_the_same_queries_for_two_rows_as_for_six(changelist, admin_user, client, person_factory):
    """No query per row (N+1): the page of six rows makes as many queries as the page of two."""
    from batch.models import BatchRun
    from policy.models import Jurisdiction
    from tests.test_claims import make_claim

    hunan = Jurisdiction.objects.get(code="hunan")

    def add(n: int) -> None:
        for _ in range(n):
            person = person_factory(name="王五", category="flexible")
            make_claim(person, "hunan", inscp_scp_amt=100)
            BatchRun.objects.create(job="nightly", jurisdiction=hunan, as_of="2025-06-20")

    client.force_login(admin_user)
    url = reverse(f"admin:{changelist}_changelist")
    add(2)
    client.get(url)  # the session, the permissions' cache: warm
    rows_2, queries_2 = _queries_for(client, url)
    add(4)
    rows_6, queries_6 = _queries_for(client, url)
    assert (rows_2, rows_6) == (2, 6)
    assert queries_6 == queries_2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's partitioned dues and pg_indexes")
def test_bench_world_builds_the_dropped_indexes_again_on_every_partition(db):
    """bench_world drops the dues' secondary indexes for the load: built again, each is valid and on every
    partition (pg_indexes defines a partitioned table's index ``ON ONLY`` the parent, which builds none)."""
    from contributions.models import MonthlyDue
    from devtools.management.commands.bench_world import secondary_indexes_dropped

    table = MonthlyDue._meta.db_table
    with secondary_indexes_dropped(table) as dropped:
        assert "due_month_desc_person" in dropped  # the list's order
    with connection.cursor() as cur:
        cur.execute(
            """SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE NOT i.indisvalid AND i.indrelid = %s::regclass""",
            [table],
        )
        assert cur.fetchall() == []
        cur.execute(
            """SELECT p.relname, (SELECT count(*) FROM pg_index i WHERE i.indrelid = p.oid)
               FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhrelid WHERE h.inhparent = %s::regclass""",
            [table],
        )
        per_partition = dict(cur.fetchall())
        cur.execute("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", [table])
        (on_parent,) = cur.fetchone()
    assert per_partition and set(per_partition.values()) == {on_parent}


def test_big_lists_offer_no_filter_counts(admin_user, client, person_factory):
    """A big list has no 显示计数 link: Django's facets count every filter choice over the whole table per click."""
    person_factory(category="flexible")
    client.force_login(admin_user)
    for name in ("enrollment_insuredperson", "contributions_monthlydue", "claims_claim"):
        page = client.get(reverse(f"admin:{name}_changelist")).content.decode()
        assert "_facets" not in page, name
    small = client.get(reverse("admin:policy_policyparameter_changelist")).content.decode()
    assert "_facets" in small  # a small list keeps Django's link
