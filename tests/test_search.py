"""检索 (issue #19 item 2): one box finds persons by a 身份证号 fragment, any part of the name or pinyin initials,
and employers by name or credit code; scoped by the one rule, PII masked; the 参保关系 list's search box
and employer filter; the stored initials (on save, in the generated population, by the data migration)."""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client
from django.urls import reverse

from enrollment.models import InsuredPerson
from enrollment.names import name_initials
from enrollment.search import search
from operations.demo.population import generate_population
from tests.access_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return build_world()


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def names(result) -> set[str]:
    return {p.name for p in result.persons}


# --- the stored initials ------------------------------------------------------------------------------


def test_name_initials_are_pypinyin_first_letters():
    assert name_initials("张三丰") == "zsf"
    assert name_initials("乙一") == "yy"
    assert name_initials("欧阳·Na2") == "oyna2"  # letters and digits kept, the dot dropped
    assert name_initials("") == ""


def test_initials_follow_the_name_on_every_save(w):
    assert w.p2.name_initials == "yy"
    w.p2.name = "刘刚志"
    w.p2.save(update_fields=["name"])
    assert InsuredPerson.objects.get(pk=w.p2.pk).name_initials == "lgz"


def test_generated_population_carries_initials(db):
    generate_population(jurisdiction="ziyang", employers=1, persons=30, as_of=date(2024, 1, 1), seed=5)
    rows = list(InsuredPerson.objects.values_list("name", "name_initials"))
    assert len(rows) == 30
    assert all(initials == name_initials(name) and len(initials) == 3 for name, initials in rows)


def test_data_migration_fills_existing_rows(w):
    InsuredPerson.objects.update(name_initials="")
    migration = importlib.import_module("enrollment.migrations.0006_fill_name_initials")

    class Editor:
        connection = connection

    migration.fill(django_apps, Editor())
    filled = dict(InsuredPerson.objects.values_list("name", "name_initials"))
    assert filled == {"甲一": "jy", "乙一": "yy", "调动人": "ddr", "居民甲": "jmj"}


# --- what the box finds ---------------------------------------------------------------------------------


def test_id_number_fragment_of_four_or_more_digits(w):
    tail = w.p2.id_number[-6:]  # the sequence and check digit: p2 only
    assert names(search(w.worker, tail)) == {"乙一"}
    middle = w.p2.id_number[6:14]  # the birth date: all three were born on 1980-05-17
    assert names(search(w.worker, middle)) == {"甲一", "乙一", "调动人"}
    assert names(search(w.worker, w.p2.id_number.lower())) == {"乙一"}  # the whole number, x in any case
    short = search(w.worker, "198")
    assert short.persons == [] and "至少 4 位" in short.message


def test_any_part_of_the_name_and_pinyin_initials(w):
    assert names(search(w.worker, "一")) == {"甲一", "乙一"}
    assert names(search(w.worker, "动人")) == {"调动人"}  # not the start of the name
    assert names(search(w.worker, "ddr")) == {"调动人"}
    assert names(search(w.worker, "YY")) == {"乙一"}  # initials in any case
    assert names(search(w.worker, "ｊｙ")) == {"甲一"}  # full-width letters
    found = search(w.worker, "甲一")
    assert [p.name for p in found.persons] == ["甲一"]


def test_employers_by_name_fragment_and_credit_code_fragment(w):
    assert {e.name for e in search(w.worker, "公司").employers} == {"甲公司", "乙公司"}
    assert {e.name for e in search(w.worker, "乙公").employers} == {"乙公司"}
    assert {e.name for e in search(w.worker, w.e2.credit_code[-6:]).employers} == {"乙公司"}
    assert {e.name for e in search(w.worker, w.e2.credit_code[-6:].lower()).employers} == {"乙公司"}


def test_employer_user_finds_only_their_own_people_and_employer(w):
    assert names(search(w.emp1, "一")) == {"甲一"}
    assert names(search(w.emp1, "调动")) == {"调动人"}  # a former employee: its own months stay visible
    assert names(search(w.emp2, "一")) == {"乙一"}
    assert names(search(w.emp1, w.p2.id_number)) == set()
    assert {e.name for e in search(w.emp1, "公司").employers} == {"甲公司"}


def test_without_pii_only_the_whole_id_number_finds_a_person(w):
    refused = search(w.auditor, w.p2.id_number[-6:])
    assert refused.persons == [] and "无权按身份证号片段" in refused.message
    assert names(search(w.auditor, w.p2.id_number)) == {"乙一"}
    assert names(search(w.auditor, "乙")) == {"乙一"}  # names are not PII


# --- the page, and the header box ------------------------------------------------------------------------


def test_search_page_links_each_person_to_their_page_and_masks_for_the_auditor(w):
    url = reverse("operations:search")
    page = client_for(w.worker).get(url, {"q": "乙"}).content.decode()
    assert reverse("operations:person", args=[w.p2.pk]) in page and w.p2.id_number in page
    assert "乙公司" in page and reverse("admin:enrollment_employer_change", args=[w.e2.pk]) in page
    audited = client_for(w.auditor).get(url, {"q": "乙"}).content.decode()
    assert "乙一" in audited and w.p2.id_number not in audited and w.p2.id_number[-4:] in audited
    assert client_for(w.emp1).get(url, {"q": "乙"}).content.decode().count("乙一") == 0


def test_the_search_box_is_in_every_admin_page_header(w):
    page = client_for(w.worker).get(reverse("admin:index")).content.decode()
    assert 'id="header-search"' in page and reverse("operations:search") in page


# --- the admin lists ---------------------------------------------------------------------------------------


def test_person_list_searches_by_fragment_and_links_to_the_person_page(w):
    url = reverse("admin:enrollment_insuredperson_changelist")
    page = client_for(w.worker).get(url, {"q": "动人"}).content.decode()
    assert "调动人" in page and "甲一" not in page
    assert reverse("operations:person", args=[w.mover.pk]) in page
    assert "乙一" in client_for(w.worker).get(url, {"q": w.p2.id_number[-6:]}).content.decode()


def test_span_list_has_a_search_box_and_an_employer_filter(w):
    url = reverse("admin:enrollment_enrolmentspan_changelist")
    worker = client_for(w.worker)
    page = worker.get(url, {"q": "调动"}).content.decode()
    assert 'id="searchbar"' in page and "调动人" in page and "乙一" not in page
    filtered = worker.get(url, {"employer": w.e1.pk}).content.decode()
    assert "甲一" in filtered and "调动人" in filtered and "乙一" not in filtered
    assert "用人单位" in filtered  # the filter's title
    assert worker.get(url, {"employer": "abc"}).status_code == 200  # not an id: nothing, no error
    # an employer user's filter lists only their own employer, and its spans stay theirs
    own = client_for(w.emp1).get(url, {"employer": w.e2.pk}).content.decode()
    assert "乙一" not in own and "乙公司" not in own


def test_employer_page_links_to_its_spans(w):
    page = client_for(w.worker).get(reverse("admin:enrollment_employer_change", args=[w.e2.pk])).content.decode()
    assert reverse("admin:enrollment_enrolmentspan_changelist") + f"?employer={w.e2.pk}" in page


# --- PostgreSQL: each kind of term can be answered from its pg_trgm index ------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm indexes exist on PostgreSQL only")
@pytest.mark.parametrize(
    ("term", "index"),
    [
        ("19800517", "person_id_number_trgm"),
        ("调动人", "person_name_trgm"),
        ("动人", "person_name_chars_trgm"),  # too short for a trigram: the spaced characters' index
        ("ddr", "person_initials_trgm"),
    ],
)
def test_each_kind_of_term_can_use_its_trigram_index(w, term, index):
    from enrollment.search import person_filter

    found, _ = person_filter(w.worker, term)
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # a tiny table: make the planner show what it could use
        plan = InsuredPerson.objects.filter(found).order_by().explain()
    assert index in plan, plan
