"""A real Celery worker executes batch chunks through Redis (issue 2, item 3).

Needs ``TEST_CELERY_BROKER_URL`` and PostgreSQL (the worker is another process and
must see the test database); skipped otherwise, and a failure when
``REQUIRE_SERVICES`` is set (CI).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from kombu import pools as kombu_pools

from batch.models import BatchRun, RunStatus
from config.celery import app as celery_app
from enrollment.models import EnrolmentSpan
from operations.jobs import NIGHTLY


def _broker_of_this_test_process(url: str) -> str:
    """One Redis database per pytest-xdist process: two processes' tests must not flush or consume each
    other's queues (their workers would see another test database)."""
    if not url:
        return url
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    offset = int(worker[2:]) if worker[2:].isdigit() else 0
    base, _, db = url.rpartition("/")
    return f"{base}/{int(db or 0) + offset}"


BROKER = _broker_of_this_test_process(os.environ.get("TEST_CELERY_BROKER_URL", ""))
ROOT = Path(__file__).resolve().parent.parent


def _need_services():
    if BROKER and connection.vendor == "postgresql":
        return
    if os.environ.get("REQUIRE_SERVICES"):
        pytest.fail("REQUIRE_SERVICES is set but TEST_CELERY_BROKER_URL/PostgreSQL are not available")
    pytest.skip("needs TEST_CELERY_BROKER_URL and PostgreSQL")


def start_workers(n: int, queue_url: str) -> list[subprocess.Popen]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": queue_url,
    }
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-P",
                "solo",
                "-n",
                f"w{i}-{os.getpid()}@%h",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(n)
    ]


@pytest.fixture
def redis_broker():
    _need_services()
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    conf = celery_app.conf
    saved = (conf.broker_url, conf.task_always_eager)
    conf.broker_url, conf.task_always_eager = BROKER, False
    _reset_connections()
    yield BROKER
    conf.broker_url, conf.task_always_eager = saved
    _reset_connections()


def _reset_connections() -> None:
    """Drop pooled broker connections so the next send uses the broker now configured."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu_pools.reset()  # kombu keeps producer pools per connection: a closed one would be handed out again


@pytest.mark.django_db(transaction=True)
def test_two_workers_run_a_batch_through_redis(redis_broker, person_factory, employer_a):
    people = [person_factory(employer=employer_a, start=date(2023, 1, 1)) for _ in range(6)]
    EnrolmentSpan.objects.filter(person__in=people[:4]).update(end=date(2023, 6, 1))
    from batch.tasks import start_run

    workers = start_workers(2, redis_broker)
    try:
        run = start_run("enrollment.span_status_refresh", as_of=date(2023, 7, 1), chunk_size=2)
        assert run.chunk_count == 3
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status in (RunStatus.DONE, RunStatus.DONE_WITH_ERRORS, RunStatus.FAILED):
                break
            time.sleep(0.5)
        assert run.status == RunStatus.DONE, [w.poll() for w in workers]
        assert run.counts == {"terminated": 4, "reopened": 0}
        assert BatchRun.objects.get(pk=run.pk).chunks_done == 3
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=30)


def _wait_ready(workers: list[subprocess.Popen], n: int, seconds: float = 60) -> None:
    """Until ``n`` workers answer a ping (a worker still starting would leave all the work to the other)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        replies = celery_app.control.ping(timeout=1.0) or []
        if len(replies) >= n:
            return
        assert all(w.poll() is None for w in workers), "a worker exited"
    pytest.fail(f"{n} workers did not answer within {seconds} s")


def _wait(run_id: int, seconds: float = 120) -> BatchRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = BatchRun.objects.get(pk=run_id)
        if run.status in (RunStatus.DONE, RunStatus.DONE_WITH_ERRORS, RunStatus.FAILED):
            return run
        time.sleep(0.2)
    return BatchRun.objects.get(pk=run_id)


def _nightly_result() -> dict:
    """What a nightly run leaves behind, without run ids and timestamps."""
    from benefits.models import EligibilityPeriod, EligibilityState
    from contributions.models import MonthlyDue
    from contributions.retirement.models import RetirementClearanceCase

    return {
        "periods": sorted(
            EligibilityPeriod.objects.values_list("person_id", "start", "end", "status", "reason", "citation")
        ),
        "facts": sorted(
            (pid, str(sorted(f.items()))) for pid, f in EligibilityPeriod.objects.values_list("person_id", "facts")
        ),
        "states": sorted(EligibilityState.objects.values_list("person_id", "digest", "error_key")),
        "fees": sorted(MonthlyDue.objects.values_list("id", "late_fee", "deferred")),
        "cases": sorted(
            RetirementClearanceCase.objects.values_list("person_id", "status", "shortfall_months", "lump_sum")
        ),
    }


def _forget_nightly(dues: list[tuple]) -> None:
    """Back to the state before the first run: no timelines, no cases, the dues' fees and flags as they were."""
    from benefits.models import EligibilityPeriod, EligibilityState
    from contributions.models import MonthlyDue
    from contributions.retirement.models import RetirementClearanceCase

    EligibilityPeriod.objects.all().delete()
    EligibilityState.objects.all().delete()
    for pk, fee, deferred in dues:
        MonthlyDue.objects.filter(pk=pk).update(late_fee=fee, deferred=deferred)
    RetirementClearanceCase.history.all().delete()
    RetirementClearanceCase.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_nightly_on_two_workers_survives_a_killed_worker(redis_broker):
    """Issue 4: two workers on Redis run the nightly chunks; one is killed (SIGKILL) mid-run; ``resume_run``
    completes the run; the result equals an uninterrupted in-process run; a second run changes nothing."""
    import signal

    from batch.models import BatchChunk
    from batch.runs import run_in_process
    from batch.tasks import resume_run, start_run
    from contributions.models import MonthlyDue
    from operations.jobs import CHANGE_KINDS, changes
    from tests.test_nightly_equivalence import NIGHT, mixed_population

    people = mixed_population()
    before = list(MonthlyDue.objects.values_list("id", "late_fee", "deferred"))
    # the first worker alone until it is killed in the middle of a chunk; then the second one joins
    workers = start_workers(1, redis_broker)
    try:
        _wait_ready(workers, 1)
        run = start_run(NIGHTLY, as_of=NIGHT, chunk_size=2)
        assert run.chunk_count >= 30
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            statuses = set(run.chunks.values_list("status", flat=True))
            if RunStatus.DONE in statuses and RunStatus.RUNNING in statuses:
                break
            time.sleep(0.005)
        workers[0].send_signal(signal.SIGKILL)  # mid-run: its chunk is rolled back and never acknowledged
        workers[0].wait(timeout=30)
        workers += start_workers(1, redis_broker)
        _wait_ready(workers[1:], 1)
        # the second worker drains the queue; the killed worker's chunk stays undone
        last, still = -1, time.monotonic()
        while time.monotonic() - still < 5 and time.monotonic() < deadline:
            done = run.chunks.filter(status=RunStatus.DONE).count()
            if done != last:
                last, still = done, time.monotonic()
            time.sleep(0.2)
        run.refresh_from_db()
        assert run.status != RunStatus.DONE and 0 < last < run.chunk_count
        resume_run(run.pk)
        run = _wait(run.pk)
        assert run.status == RunStatus.DONE, [w.poll() for w in workers]
        assert run.counts["eligibility.persons"] == len(people)
        assert BatchChunk.objects.filter(run=run, attempts__gte=1).count() == run.chunk_count
        after_kill = _nightly_result()

        again = _wait(start_run(NIGHTLY, as_of=NIGHT, chunk_size=2).pk)
        assert again.status == RunStatus.DONE
        assert changes(again.counts) == {k: 0 for k in CHANGE_KINDS}
        assert _nightly_result() == after_kill
    finally:
        for w in workers:
            if w.poll() is None:
                w.terminate()
        for w in workers:
            w.wait(timeout=30)

    _forget_nightly(before)
    uninterrupted = run_in_process(NIGHTLY, as_of=NIGHT, chunk_size=2)
    assert uninterrupted.status == RunStatus.DONE
    assert _nightly_result() == after_kill
    assert after_kill["periods"] and any(p[3] == "suspended" for p in after_kill["periods"])
