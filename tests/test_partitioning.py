"""The big tables partitioned by year on PostgreSQL (issue #13 item 5; batch/partitioning.py, docs/scale.md).

Dues by month, postings by effective date, eligibility periods by start, claims by start date: a partition per
year and a DEFAULT one; a new year's partition takes its rows out of DEFAULT; the triggers, the unique keys and
the ORM's protection of the rows pointing at them still hold. SQLite keeps plain tables (the functions are no-ops).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from batch.partitioning import (
    PARTITIONED,
    detach_year,
    ensure_current_partitions,
    ensure_year_partitions,
    is_partitioned,
    partition_by_year,
    plan_years,
    unpartition,
    year_partitions,
)
from batch.runs import create_run
from benefits.models import EligibilityInputChange
from contributions.models import MonthlyDue, Payment, PaymentAllocation
from funds.models import Posting
from operations.jobs import NIGHTLY

from .test_claims import make_claim
from .test_funds_ledger import credit
from .test_funds_support import fresh_policy, person  # noqa: F401
from .test_incremental_nights import _due

pytestmark = pytest.mark.django_db

postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="declarative partitioning is PostgreSQL's")
DUES = "contributions_monthlydue"


def _where(table: str, pk: int) -> str:
    """The partition holding row PK of TABLE."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])
        return cur.fetchone()[0]


@postgres
def test_the_four_tables_are_partitioned_by_range_of_their_date():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname, p.partstrat, a.attname FROM pg_partitioned_table p "
            "JOIN pg_class c ON c.oid = p.partrelid "
            "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]"
        )
        found = {name: (strategy, column) for name, strategy, column in cur.fetchall()}
    assert {t: found.get(t) for t in PARTITIONED} == {t: ("r", key) for t, key in PARTITIONED.items()}
    for table in PARTITIONED:
        parts = year_partitions(table)
        this = date.today().year
        assert {None, this, this + 1} <= set(parts), table  # DEFAULT, this year and the next


@postgres
def test_a_new_year_takes_its_rows_out_of_default_and_ids_keep_increasing(employer_a, person_factory):
    a = person_factory(employer=employer_a)
    assert 2019 not in year_partitions(DUES)
    old = _due(a, employer_a, date(2019, 3, 1))
    assert _where(DUES, old.pk) == f"{DUES}_default"
    assert ensure_year_partitions(DUES, [2019]) == [f"{DUES}_y2019"]
    assert _where(DUES, old.pk) == f"{DUES}_y2019"
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {DUES}_default WHERE month >= '2019-01-01' AND month < '2020-01-01'")
        assert cur.fetchone()[0] == 0
    assert ensure_year_partitions(DUES, [2019]) == []  # there already
    # the next row lands in the new partition directly, with a larger id; the parent still finds both
    new = _due(a, employer_a, date(2019, 4, 1))
    assert new.pk > old.pk and _where(DUES, new.pk) == f"{DUES}_y2019"
    assert list(MonthlyDue.objects.filter(person=a).order_by("month").values_list("pk", flat=True)) == [old.pk, new.pk]


@postgres
def test_the_unique_month_and_the_eligibility_triggers_hold_on_the_partitions(employer_a, person_factory):
    a = person_factory(employer=employer_a)
    ensure_year_partitions(DUES, [2019])
    due = _due(a, employer_a, date(2019, 5, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        _due(a, employer_a, date(2019, 5, 1))  # UNIQUE (person, month) includes the key: still refused
    EligibilityInputChange.objects.all().delete()
    MonthlyDue.objects.filter(pk=due.pk).update(late_fee=Decimal("1.20"))  # not an input: nobody noted
    assert not EligibilityInputChange.objects.exists()
    MonthlyDue.objects.filter(pk=due.pk).update(settled_on=date(2019, 6, 20))  # paid: the statement trigger notes
    assert set(EligibilityInputChange.objects.values_list("person_id", flat=True)) == {a.pk}


def test_deleting_a_due_with_allocations_is_refused_by_the_orm(employer_a, person_factory):
    """The allocation's foreign key has no database constraint (dues are partitioned): PROTECT is the ORM's."""
    a = person_factory(employer=employer_a)
    due = _due(a, employer_a, date(2024, 5, 1))
    pay = Payment.objects.create(
        person=a,
        amount=Decimal("480"),
        paid_on=date(2024, 5, 20),
        source="manual",
        reference="P1",
        unapplied_amount=Decimal("0"),
    )
    PaymentAllocation.objects.create(
        payment=pay, due=due, principal=Decimal("480"), late_fee=Decimal("0"), created_at=timezone.now()
    )
    with pytest.raises(ProtectedError):
        due.delete()
    assert MonthlyDue.objects.filter(pk=due.pk).exists()


@postgres
def test_postings_stay_append_only_in_every_partition():
    p = person("hunan", category="retiree")
    ensure_year_partitions("funds_posting", [2019])
    entry = credit(p, "hunan", "75.00", "t:part", on=date(2019, 1, 10))
    legs = list(Posting.objects.filter(entry=entry).values_list("pk", flat=True))
    assert {_where("funds_posting", pk) for pk in legs} == {"funds_posting_y2019"}
    with pytest.raises(Exception, match="只能追加"), transaction.atomic():
        Posting.objects.filter(entry=entry).update(amount=Decimal("1"))


@postgres
def test_a_claims_business_key_stays_unique_across_years(employer_a, person_factory, claim_stats):
    """Not a unique index any more (it lacks the key): the key table claims_claim_business_key_key refuses."""
    from benefits.claims.models import Claim

    a = person_factory(employer=employer_a)
    code = employer_a.jurisdiction.code
    first = make_claim(a, code, inscp_scp_amt=Decimal("100"), start_date=date(2024, 3, 1))
    second = make_claim(a, code, inscp_scp_amt=Decimal("100"), start_date=date(2026, 3, 1), end_date=date(2026, 3, 10))
    with pytest.raises(IntegrityError), transaction.atomic():  # UPDATE onto a key of another year's partition
        Claim.objects.filter(pk=second.pk).update(business_key=first.business_key)
    key = first.business_key
    Claim.objects.filter(pk=first.pk).update(business_key="RENAMED-1")  # renaming frees the old key
    Claim.objects.filter(pk=second.pk).update(business_key=key)
    copy = Claim.objects.get(pk=second.pk)
    copy.pk, copy.start_date, copy.end_date = None, date(2025, 3, 1), date(2025, 3, 10)
    copy.business_key = "RENAMED-1"
    with pytest.raises(IntegrityError), transaction.atomic():  # INSERT of a taken key
        copy.save()
    Claim.objects.filter(pk=first.pk).delete()  # deleting frees it
    copy.pk = None
    copy.save()
    assert Claim.objects.filter(business_key="RENAMED-1").count() == 1


@postgres
def test_the_business_key_table_follows_updates_of_the_key_only(employer_a, person_factory, claim_stats):
    """The key table's row trigger: an UPDATE not touching the key leaves it as it is; a key changed while the
    row moves to another year's partition is freed and taken (BEFORE UPDATE fires on the old partition)."""
    from benefits.claims.models import Claim

    ensure_year_partitions("claims_claim", [2026])
    a = person_factory(employer=employer_a)
    code = employer_a.jurisdiction.code
    claim = make_claim(a, code, inscp_scp_amt=Decimal("100"), start_date=date(2024, 3, 1), end_date=date(2024, 3, 9))
    other = make_claim(a, code, inscp_scp_amt=Decimal("100"), start_date=date(2024, 4, 1), end_date=date(2024, 4, 9))

    def keys() -> set[tuple[str, int]]:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT business_key, id FROM claims_claim_business_key_key WHERE id IN (%s, %s)", [claim.pk, other.pk]
            )
            return set(cur.fetchall())

    before = keys()
    assert before == {(claim.business_key, claim.pk), (other.business_key, other.pk)}
    Claim.objects.filter(pk__in=[claim.pk, other.pk]).update(error="x")  # key untouched
    Claim.objects.filter(pk=claim.pk).update(business_key=claim.business_key)  # set to the same value
    assert keys() == before
    Claim.objects.filter(pk=claim.pk).update(
        business_key="MOVED-1", start_date=date(2026, 3, 1), end_date=date(2026, 3, 9)
    )
    assert _where("claims_claim", claim.pk) == "claims_claim_y2026"
    assert keys() == {("MOVED-1", claim.pk), (other.business_key, other.pk)}
    Claim.objects.filter(pk=other.pk).update(business_key=claim.business_key)  # the old key is free again
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=other.pk).update(
            business_key="MOVED-1", start_date=date(2025, 3, 1), end_date=date(2025, 3, 9)
        )
    assert keys() == {("MOVED-1", claim.pk), (claim.business_key, other.pk)}


@postgres
def test_the_nightly_run_makes_this_years_and_next_years_partitions_first():
    this = date.today().year
    with connection.cursor() as cur:  # as if the table had been made a year ago: no partition for next year yet
        for table in PARTITIONED:
            cur.execute(f"DROP TABLE {table}_y{this + 1}")
    assert all(this + 1 not in year_partitions(t) for t in PARTITIONED)
    create_run(NIGHTLY, as_of=date(2024, 9, 1))  # recording the run prepares the partitions
    for table in PARTITIONED:
        assert {this, this + 1, 2024} <= set(year_partitions(table)), table
    assert ensure_current_partitions() == []


@postgres
def test_an_old_year_detaches_for_archiving(employer_a, person_factory):
    a = person_factory(employer=employer_a)
    ensure_year_partitions(DUES, [2018])
    due = _due(a, employer_a, date(2018, 2, 1))
    assert detach_year(DUES, 2018) == f"{DUES}_y2018"
    assert not MonthlyDue.objects.filter(pk=due.pk).exists()  # gone from the table, kept in the archive table
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {DUES}_y2018 WHERE id = %s", [due.pk])
        assert cur.fetchone()[0] == 1
    with pytest.raises(ValueError):
        detach_year(DUES, 2018)


def test_sparse_old_years_share_the_early_partition():
    """The periods of the benchmark: a thin tail back to 2005, the bulk from 2023 (10 % of the busiest year)."""
    counts = {2005: 322, 2010: 676, 2022: 730, 2023: 14902, 2024: 18589, 2025: 1845}
    assert plan_years(counts, 2026) == ([2023, 2024, 2025, 2026, 2027], 2023)
    assert plan_years({2024: 50000}, 2026) == ([2024, 2025, 2026, 2027], None)
    assert plan_years({}, 2026) == ([2026, 2027], None)
    assert plan_years({2027: 10, 2030: 5}, 2026) == ([2026, 2027], None)  # the far future stays in DEFAULT


@postgres
def test_the_rebuild_keeps_rows_and_ids_and_puts_sparse_years_early(employer_a, person_factory):
    """Back to a plain table and partitioned again (the migration's two directions), on the periods."""
    from benefits.models import EligibilityPeriod

    table = "benefits_eligibilityperiod"
    a = person_factory(employer=employer_a)

    def period(start: date) -> EligibilityPeriod:
        return EligibilityPeriod.objects.create(
            person=a,
            jurisdiction=employer_a.jurisdiction,
            start=start,
            status="covered",
            reason="测试",
            computed_at=timezone.now(),
        )

    unpartition(table)
    assert not is_partitioned(table)
    rows = [period(date(2005, 1, 1))] + [period(date(2024, m, 1)) for m in range(1, 13)]
    partition_by_year(table, "start")
    assert is_partitioned(table)
    assert _where(table, rows[0].pk) == f"{table}_early" and _where(table, rows[1].pk) == f"{table}_y2024"
    assert ensure_year_partitions(table, [2005]) == []  # inside the early partition
    assert sorted(EligibilityPeriod.objects.filter(person=a).values_list("pk", flat=True)) == [r.pk for r in rows]
    assert period(date(2024, 12, 2)).pk > rows[-1].pk  # the identity goes on from the old sequence
    with pytest.raises(IntegrityError), transaction.atomic():
        EligibilityPeriod.objects.filter(pk=rows[1].pk).update(end=date(2023, 1, 1))  # CHECK kept


def test_sqlite_keeps_plain_tables():
    if connection.vendor == "postgresql":
        assert all(is_partitioned(t) for t in PARTITIONED)
    else:
        assert not any(is_partitioned(t) for t in PARTITIONED)
        assert ensure_current_partitions() == [] and year_partitions(DUES) == {}


@postgres
def test_claim_steps_are_compressed_with_lz4_in_every_partition():
    """claims 0020: the steps and effects columns use lz4 on the table, each partition and a new year's."""
    with connection.cursor() as cur:
        cur.execute("SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        if not cur.fetchone()[0]:
            pytest.skip("server built without lz4")
    ensure_year_partitions("claims_claim", [2031])
    with connection.cursor() as cur:
        cur.execute(
            "SELECT a.attrelid::regclass::text, a.attname, a.attcompression FROM pg_attribute a "
            "WHERE a.attname IN ('steps', 'effects') AND (a.attrelid = 'claims_claim'::regclass "
            "OR a.attrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'claims_claim'::regclass))"
        )
        rows = cur.fetchall()
    assert {t for t, _, _ in rows} >= {"claims_claim", "claims_claim_y2031", "claims_claim_default"}
    assert {c for _, _, c in rows} == {"l"}
