"""The eligibility summary of a chunk's range (issue #13): a quiet incremental night reads no state of a range
whose summary holds, counts what a full night counts, and any state written by anything removes the summary."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from batch.runs import run_in_process
from benefits import jobs as benefit_jobs
from benefits import services as svc
from benefits.models import EligibilityRangeSummary, EligibilityState
from contributions.models import MonthlyDue
from operations.jobs import NIGHTLY
from tests.test_nightly_equivalence import mixed_population, rolled_back

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the summary and its trigger: PostgreSQL"),
]
NIGHT = date(2024, 9, 10)
CHUNK = 7  # person ids: several ranges


def _night(on: date, **params):
    run = run_in_process(NIGHTLY, as_of=on, chunk_size=CHUNK, params=params)
    assert run.status == "done", run.counts
    return run


def _state_scans(queries) -> int:
    """The statements that read every state of a range (the describing pass of ``_candidates``)."""
    return sum(1 for q in queries if "GROUP BY error_key" in q["sql"])


def _eligibility_counts(run) -> dict:
    keep = ("eligibility.persons", "eligibility.error:")
    return {k: v for k, v in run.counts.items() if k.startswith(keep) and v}


def _full_counts(on: date) -> dict:
    return rolled_back(lambda: _eligibility_counts(_night(on, full=True)))


def _check_summaries_hold() -> int:
    """Every summary tells what its range's states hold (its next check no later, its evaluation no earlier)."""
    salt = svc.Evaluator(NIGHT).salt
    summaries = list(EligibilityRangeSummary.objects.all())
    for s in summaries:
        states = EligibilityState.objects.filter(person_id__gte=s.lo, person_id__lt=s.hi)
        assert s.persons == states.count()
        assert s.errors == dict(Counter(k for k in states.values_list("error_key", flat=True) if k))
        assert s.version == salt and set(states.values_list("version", flat=True)) <= {salt}
        checks = [d for d in states.values_list("next_check", flat=True) if d]
        assert (s.next_check is None and not checks) or s.next_check <= min(checks)
        assert s.evaluated_on >= max(states.values_list("evaluated_on", flat=True))
    return len(summaries)


def test_a_quiet_night_reads_no_state_and_counts_what_a_full_night_counts():
    mixed_population()
    first = _night(NIGHT)
    ranges = first.chunk_count
    assert ranges > 2 and _check_summaries_hold() == ranges
    want = _full_counts(date(2024, 9, 11))
    with CaptureQueriesContext(connection) as queries:
        quiet = _night(date(2024, 9, 11))
    assert _state_scans(queries.captured_queries) == 0
    assert quiet.counts.get("eligibility.evaluated", 0) == 0
    assert _eligibility_counts(quiet) == want
    assert _check_summaries_hold() == ranges
    with CaptureQueriesContext(connection) as queries:
        back = _night(date(2024, 9, 9))  # a night for an earlier date: every stored answer was given after it
    assert _state_scans(queries.captured_queries) == back.chunk_count
    assert back.counts["eligibility.evaluated"] == back.counts["eligibility.persons"]


def test_a_state_written_outside_the_night_removes_the_summary_of_its_range_only():
    people = mixed_population()
    _night(NIGHT)
    before = EligibilityRangeSummary.objects.count()
    pid = people[0].pk
    EligibilityState.objects.filter(person_id=pid).update(computed_at=timezone.now())  # any writer at all
    assert not EligibilityRangeSummary.objects.filter(lo__lte=pid, hi__gt=pid).exists()
    assert EligibilityRangeSummary.objects.count() == before - 1
    with CaptureQueriesContext(connection) as queries:
        _night(date(2024, 9, 11))
    assert _state_scans(queries.captured_queries) == 1  # that range read again, and summed up again
    assert _check_summaries_hold() == before


def test_changes_reached_dates_and_a_new_version_are_read_as_a_full_night_reads_them(monkeypatch):
    people = mixed_population()
    _night(NIGHT)
    # a payment (noted by the triggers): only the payer evaluated, the other ranges not read
    due = MonthlyDue.objects.filter(person=people[1], settled_on__isnull=False).order_by("-month").first()
    MonthlyDue.objects.filter(pk=due.pk).update(settled_on=due.settled_on.replace(day=1))
    want = _full_counts(date(2024, 9, 11))
    with CaptureQueriesContext(connection) as queries:
        paid = _night(date(2024, 9, 11))
    assert _state_scans(queries.captured_queries) == 0
    assert paid.counts["eligibility.evaluated"] == 1 and _eligibility_counts(paid) == want
    # a date on which stored answers expire (a month falls overdue): the ranges holding them are read again
    soonest = min(EligibilityRangeSummary.objects.exclude(next_check=None).values_list("next_check", flat=True))
    want = _full_counts(soonest)
    with CaptureQueriesContext(connection) as queries:
        due_night = _night(soonest)
    assert _state_scans(queries.captured_queries) >= 1
    assert due_night.counts["eligibility.evaluated"] >= 1 and _eligibility_counts(due_night) == want
    assert _check_summaries_hold() == due_night.chunk_count
    # another rule version (a policy change, new code): every range read again
    real_init = svc.Evaluator.__init__

    def another_version(self, as_of):
        real_init(self, as_of)
        self.salt = "another-version"

    monkeypatch.setattr(svc.Evaluator, "__init__", another_version)
    monkeypatch.setattr(benefit_jobs, "_evaluator", None)  # the night's evaluator made again
    with CaptureQueriesContext(connection) as queries:
        again = _night(soonest)
    assert _state_scans(queries.captured_queries) == again.chunk_count
    assert again.counts["eligibility.evaluated"] == again.counts["eligibility.persons"]


def test_emptying_the_states_removes_every_summary():
    mixed_population()
    _night(NIGHT)
    assert EligibilityRangeSummary.objects.exists()
    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE {EligibilityState._meta.db_table}")
    assert not EligibilityRangeSummary.objects.exists()
