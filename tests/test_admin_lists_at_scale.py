"""Admin lists at a province's scale (issue #13 item 1): capped unordered counts, EXISTS filters, bench_lists."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollment.admin_mixins import CappedCountPaginator, PersonSearchMixin
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
