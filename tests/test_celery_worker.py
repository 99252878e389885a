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

from config.celery import app as celery_app
from config.models import BatchRun, RunStatus
from enrollment.models import EnrolmentSpan

BROKER = os.environ.get("TEST_CELERY_BROKER_URL", "")
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


@pytest.mark.django_db(transaction=True)
def test_two_workers_run_a_batch_through_redis(redis_broker, person_factory, employer_a):
    people = [person_factory(employer=employer_a, start=date(2023, 1, 1)) for _ in range(6)]
    EnrolmentSpan.objects.filter(person__in=people[:4]).update(end=date(2023, 6, 1))
    from config.batch import start_run

    workers = start_workers(2, redis_broker)
    try:
        run = start_run("enrollment.span_status_refresh", as_of=date(2023, 7, 1), chunk_size=2)
        assert run.chunk_count == 3
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status in (RunStatus.DONE, RunStatus.FAILED):
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
