"""The batch framework: chunks, idempotency, preview, resume (ENGINEERING.md, "Batch jobs")."""

from datetime import date

import pytest

from batch.models import BatchChunk, RunStatus
from batch.runs import create_run, run_in_process
from batch.tasks import resume_run
from enrollment.models import EnrolmentSpan, InsuranceStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def ended_spans(person_factory, employer_a):
    people = [person_factory(employer=employer_a, start=date(2023, 1, 1)) for _ in range(5)]
    EnrolmentSpan.objects.filter(person__in=people[:3]).update(end=date(2023, 6, 1))
    return people


def test_run_counts_and_is_idempotent(ended_spans):
    run = run_in_process("enrollment.span_status_refresh", as_of=date(2023, 7, 1), chunk_size=2)
    assert run.status == RunStatus.DONE and run.chunk_count == 3 and run.chunks_done == 3
    assert run.counts == {"terminated": 3, "reopened": 0}
    again = run_in_process("enrollment.span_status_refresh", as_of=date(2023, 7, 1), chunk_size=2)
    assert again.counts == {"terminated": 0, "reopened": 0}


def test_preview_changes_nothing(ended_spans):
    run = run_in_process("enrollment.span_status_refresh", as_of=date(2023, 7, 1), preview=True)
    assert run.counts["terminated"] == 3
    assert not EnrolmentSpan.objects.filter(status=InsuranceStatus.TERMINATED).exists()


def test_resume_runs_only_unfinished_chunks(ended_spans):
    run = create_run("enrollment.span_status_refresh", as_of=date(2023, 7, 1), chunk_size=2)
    first = run.chunks.order_by("number").first()
    from batch.runs import chunk_execute

    chunk_execute(first.pk)
    assert BatchChunk.objects.filter(run=run, status=RunStatus.DONE).count() == 1
    resumed = resume_run(run.pk, in_process=True)
    assert resumed.status == RunStatus.DONE
    assert resumed.counts["terminated"] == 3
    assert all(c.attempts == 1 for c in resumed.chunks.all())


def test_a_job_of_its_own_chunk_size_is_cut_by_it(ended_spans, settings):
    """BATCH_JOB_CHUNK_SIZES (the nightly's 50,000 ids) cuts that job's runs; other jobs keep BATCH_CHUNK_SIZE, and an
    explicit chunk size still wins."""
    settings.BATCH_CHUNK_SIZE = 2
    settings.BATCH_JOB_CHUNK_SIZES = {"enrollment.span_status_refresh": 4}
    ids = sorted(p.pk for p in ended_spans)
    own = create_run("enrollment.span_status_refresh", as_of=date(2023, 7, 1))
    assert [(c.lo, c.hi) for c in own.chunks.order_by("number")] == [(ids[0], ids[0] + 4), (ids[0] + 4, ids[-1] + 1)]
    assert create_run("enrollment.span_status_refresh", as_of=date(2023, 7, 1), chunk_size=1).chunk_count == 5
    assert create_run("funds.interest_post", as_of=date(2023, 7, 1)).chunk_count == 3


def test_the_nightly_runs_in_chunks_of_its_own_size():
    from django.conf import settings as real

    from batch.runs import job_chunk_size
    from operations.jobs import NIGHTLY

    # keyed by the nightly job's registered name (a misspelt key would fall back to BATCH_CHUNK_SIZE unseen)
    assert job_chunk_size(NIGHTLY) == 50000 != real.BATCH_CHUNK_SIZE
    assert job_chunk_size("enrollment.span_status_refresh") == real.BATCH_CHUNK_SIZE


def test_a_job_cuts_its_own_ranges(ended_spans):
    # the optional ranges hook (a file's claims, …) replaces the fixed id ranges; None falls back to them
    from batch.runs import JOBS, batch_job
    from enrollment.selectors import person_id_bounds

    asked = []

    def ranges(params, chunk_size):
        asked.append((params, chunk_size))
        return None if params.get("fixed") else [(3, 5), (5, 9), (40, 41)]

    batch_job("tests.ranges", ids=person_id_bounds, ranges=ranges)(lambda ctx: {"seen": ctx.hi - ctx.lo})
    try:
        run = run_in_process("tests.ranges", as_of=date(2023, 7, 1), params={"file": 1})
        assert list(run.chunks.order_by("number").values_list("lo", "hi")) == [(3, 5), (5, 9), (40, 41)]
        assert run.status == RunStatus.DONE and run.chunk_count == 3 and run.counts == {"seen": 7}
        fixed = create_run("tests.ranges", as_of=date(2023, 7, 1), params={"fixed": True}, chunk_size=2)
        first, last = person_id_bounds()
        assert fixed.chunk_count == len(range(first, last + 1, 2))
        assert asked == [({"file": 1}, None), ({"fixed": True}, 2)]
    finally:
        JOBS.pop("tests.ranges", None)
