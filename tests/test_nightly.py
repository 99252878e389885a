"""The nightly run: composite chunks, idempotent, resumable after a killed worker, scheduled by beat."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django_celery_beat.models import PeriodicTask

from batch.models import BatchChunk, RunStatus
from batch.runs import chunk_execute, create_run, run_in_process
from batch.tasks import resume_run
from benefits import services as benefit_services
from benefits.models import EligibilityPeriod
from operations.jobs import CHANGE_KINDS, NIGHTLY, changes
from tests.test_eligibility_timeline import add_dues, langfang_employee

pytestmark = pytest.mark.django_db
NIGHT = date(2024, 9, 10)


@pytest.fixture
def population():
    people = []
    for n in range(1, 6):
        person, employer = langfang_employee(10 + n)
        paid = {f"2024-{m:02d}": date(2024, m, 20) for m in range(3, 9)}
        if n == 3:
            paid.update({"2024-07": None, "2024-08": None})  # in arrears: late fees and suspension
        add_dues(person, employer, paid)
        people.append(person)
    return people


def test_nightly_twice_changes_nothing_the_second_time(population):
    first = run_in_process(NIGHTLY, as_of=NIGHT, chunk_size=2)
    assert first.status == RunStatus.DONE and first.chunk_count == 3
    assert first.counts["eligibility.persons"] == 5
    assert first.counts["eligibility.changed"] == 5
    assert first.counts["arrears.in_arrears"] == 2  # 2024-07 and 2024-08 of person 3 (due 25th)
    assert first.counts["arrears.accrued"] == 2
    assert EligibilityPeriod.objects.filter(status="suspended").count() == 1
    second = run_in_process(NIGHTLY, as_of=NIGHT, chunk_size=2)
    assert second.status == RunStatus.DONE
    assert changes(second.counts) == {k: 0 for k in CHANGE_KINDS}
    assert second.counts["eligibility.unchanged"] == 5


def test_killed_worker_chunk_is_resumed(population):
    run = create_run(NIGHTLY, as_of=NIGHT, chunk_size=2)
    chunks = list(run.chunks.order_by("number"))
    chunk_execute(chunks[0].pk)
    # a worker killed mid-chunk leaves its chunk RUNNING; its transaction was rolled back, nothing written
    BatchChunk.objects.filter(pk=chunks[1].pk).update(status=RunStatus.RUNNING, attempts=1)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    resumed = resume_run(run.pk, in_process=True)
    resumed.refresh_from_db()
    assert resumed.status == RunStatus.DONE and resumed.chunks_done == 3
    assert resumed.counts["eligibility.persons"] == 5 and resumed.counts["eligibility.changed"] == 5
    assert BatchChunk.objects.get(pk=chunks[1].pk).attempts == 2
    assert BatchChunk.objects.get(pk=chunks[0].pk).attempts == 1  # done chunks are not run again


def test_failed_chunk_rolls_back_and_resumes(population, monkeypatch):
    real = benefit_services.refresh
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the connection is lost: not a person's data, so the whole chunk fails
            raise OperationalError("worker lost")
        return real(*args, **kwargs)

    monkeypatch.setattr("operations.jobs.refresh", flaky)
    run = create_run(NIGHTLY, as_of=NIGHT, chunk_size=2)
    failed = None
    for chunk in run.chunks.order_by("number"):
        try:
            chunk_execute(chunk.pk)
        except OperationalError:
            failed = chunk
    assert failed is not None and BatchChunk.objects.get(pk=failed.pk).status == RunStatus.FAILED
    assert not EligibilityPeriod.objects.filter(person_id__gte=failed.lo, person_id__lt=failed.hi).exists()
    resumed = resume_run(run.pk, in_process=True)
    resumed.refresh_from_db()
    assert resumed.status == RunStatus.DONE and resumed.counts["eligibility.changed"] == 5


def test_run_nightly_command_prints_the_run_record(population):
    out = StringIO()
    call_command("run_nightly", "--date", "2024-09-10", "--chunk-size", "2", stdout=out)
    text = out.getvalue()
    assert "status=done" in text and "chunks=3/3" in text and "persons=5" in text
    assert "eligibility.changed=5" in text
    out = StringIO()
    call_command("run_nightly", "--date", "2024-09-10", stdout=out)
    assert "eligibility.changed=0" in out.getvalue() and "arrears.accrued=0" in out.getvalue()


def test_preview_keeps_nothing(population):
    run = run_in_process(NIGHTLY, as_of=NIGHT, preview=True)
    assert run.counts["eligibility.changed"] == 5
    assert not EligibilityPeriod.objects.exists()


def test_beat_schedules_the_nightly_run():
    task = PeriodicTask.objects.get(task=NIGHTLY)
    assert task.enabled and task.crontab.hour == "2"


@pytest.mark.django_db(transaction=True)
def test_run_nightly_in_two_local_processes_equals_one(population):
    """``run_nightly --processes 2``: forked processes take the chunks as two workers would (PostgreSQL only:
    the children must see the committed population through their own connections)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("forked processes need a server database")
    out = StringIO()
    call_command("run_nightly", "--date", "2024-09-10", "--chunk-size", "1", "--processes", "2", stdout=out)
    assert "status=done" in out.getvalue() and "eligibility.changed=5" in out.getvalue()
    parallel = sorted(EligibilityPeriod.objects.values_list("person_id", "start", "end", "status", "reason"))
    EligibilityPeriod.objects.all().delete()
    from benefits.models import EligibilityState

    EligibilityState.objects.all().delete()
    run_in_process(NIGHTLY, as_of=NIGHT)
    assert sorted(EligibilityPeriod.objects.values_list("person_id", "start", "end", "status", "reason")) == parallel
    # run_in_process(processes=2), what the bench commands use: the same run, returned done and read again
    EligibilityPeriod.objects.all().delete()
    EligibilityState.objects.all().delete()
    run = run_in_process(NIGHTLY, as_of=NIGHT, chunk_size=1, processes=2)
    assert run.status == "done" and run.chunk_count > 1 and run.counts.get("eligibility.changed") == 5
    assert sorted(EligibilityPeriod.objects.values_list("person_id", "start", "end", "status", "reason")) == parallel


def test_the_periods_insert_sorts_in_memory_and_gives_the_work_mem_back(population):
    """The periods' INSERT sorts a chunk's rows whole (PostgreSQL): it runs with ``PERIODS_SORT_MEMORY`` (a chunk of
    50,000 persons sorts ~40 MB, on disk with the usual 4 MB); later statements get the setting back."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from benefits import services

    if connection.vendor != "postgresql":
        pytest.skip("work_mem is PostgreSQL's")
    with connection.cursor() as cur:
        cur.execute("SHOW work_mem")
        before = cur.fetchone()[0]
    assert before != services.PERIODS_SORT_MEMORY
    with CaptureQueriesContext(connection) as seen:
        counts = run_in_process(NIGHTLY, as_of=NIGHT).counts
    assert counts["eligibility.periods_written"] > 0
    sql = [q["sql"] for q in seen.captured_queries]
    insert = next(i for i, q in enumerate(sql) if q.lstrip().startswith("INSERT INTO benefits_eligibilityperiod"))
    assert f"set_config('work_mem', '{services.PERIODS_SORT_MEMORY}', true)" in sql[insert - 1]
    assert f"set_config('work_mem', '{before}', true)" in sql[insert + 1]
    with connection.cursor() as cur:
        cur.execute("SHOW work_mem")
        assert cur.fetchone()[0] == before
