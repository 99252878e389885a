"""Runs that survive bad data (issue #12, item 5): a person who cannot be computed is skipped and listed,
everyone else is written, the run ends "done with errors", and a resume after the fix does only the rest."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import DataError
from django.urls import reverse

from batch.models import BatchRun, BatchSkip, RunStatus
from batch.runs import JOBS, batch_job, create_run, run_in_process
from batch.tasks import resume_run
from contributions.models import ContributionBase, EmployerBase, WageDeclaration
from enrollment.models import InsuredPerson
from enrollment.selectors import person_id_bounds
from tests.test_contributions_engine import Register, declare, reference_wages, reset  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

POISON = Decimal("999999999999.99")


def test_poisoned_wage_is_skipped_named_and_resume_does_only_that_person():
    reg = Register()
    e, f = reg.employer("hunan"), reg.employer("hunan")
    p1, p2, p3 = (reg.person("hunan", employer=e) for _ in range(3))
    q = reg.person("hunan", employer=f)
    for p in (p1, p2, p3):
        declare(p, e, monthly="5000")
    declare(q, f, monthly="6000")
    # bypassing the import bounds, as a direct database fix or an old import would
    WageDeclaration.objects.filter(person=p2).update(monthly_wage=POISON)

    run = reset("hunan")

    assert run.status == RunStatus.DONE_WITH_ERRORS and run.finished_at is not None
    person_skip = BatchSkip.objects.get(run=run, step="contributions.base_reset")
    assert person_skip.person_id == p2.pk and "wage_out_of_bounds" in person_skip.reason
    assert "999,999,999,999.99" in person_skip.reason
    employer_skip = BatchSkip.objects.get(run=run, step="finish")
    assert (employer_skip.employer_id, employer_skip.person_id) == (e.pk, p2.pk)
    # everyone else written: the other persons' bases, the other employer's base
    assert set(ContributionBase.objects.values_list("person_id", flat=True)) == {p1.pk, p3.pk, q.pk}
    assert set(EmployerBase.objects.values_list("employer_id", flat=True)) == {f.pk}
    assert run.counts["wage_out_of_bounds"] == 1 and run.counts["skipped"] == 1
    before = dict(ContributionBase.objects.values_list("person_id", "updated_at"))

    WageDeclaration.objects.filter(person=p2).update(monthly_wage=Decimal("7000"))
    resumed = resume_run(run.pk, in_process=True)

    assert resumed.status == RunStatus.DONE
    assert not BatchSkip.objects.filter(run=run).exists()
    assert ContributionBase.objects.get(person=p2).base == Decimal("7000.0000")
    assert dict(ContributionBase.objects.exclude(person=p2).values_list("person_id", "updated_at")) == before
    assert EmployerBase.objects.get(employer=e).wage_bill == Decimal("17000.0000")  # 5000 + 7000 + 5000
    assert resumed.counts["retried"] == 1


def test_rerun_after_the_fix_recomputes_only_the_fixed_person():
    reg = Register()
    e = reg.employer("hunan")
    people = [reg.person("hunan", employer=e) for _ in range(4)]
    for p in people:
        declare(p, e, monthly="5000")
    WageDeclaration.objects.filter(person=people[0]).update(monthly_wage=POISON)
    assert reset("hunan").status == RunStatus.DONE_WITH_ERRORS
    WageDeclaration.objects.filter(person=people[0]).update(monthly_wage=Decimal("5000"))
    again = reset("hunan")
    assert again.status == RunStatus.DONE
    assert (again.counts["recomputed"], again.counts["unchanged"]) == (1, 3)


# --- the framework: bisection of a failing set-based step, the finishing step ----------------------------

STATE: dict[str, object] = {}


@pytest.fixture
def poison_job():
    """A step that marks its persons and fails (like a numeric overflow) when the poisoned person is in range."""

    def step(ctx):
        n = InsuredPerson.objects.filter(id__gte=ctx.lo, id__lt=ctx.hi).update(name="已处理")
        if STATE.get("poison") is not None and ctx.lo <= STATE["poison"] < ctx.hi:
            raise DataError("numeric field overflow")
        return {"marked": n}

    def finish(run):
        if STATE.get("finish_fails"):
            raise ValueError("缺少政策参数 test.value")

    batch_job("tests.poison", ids=person_id_bounds, label="测试", finish=finish)(step)
    STATE.clear()
    yield STATE
    STATE.clear()
    JOBS.pop("tests.poison", None)


def _people(n: int) -> list[InsuredPerson]:
    reg = Register()
    return [reg.person("hunan", category="flexible") for _ in range(n)]


def test_a_failing_person_is_isolated_and_everyone_else_is_written(poison_job):
    people = _people(9)
    poison_job["poison"] = people[5].pk
    run = run_in_process("tests.poison", as_of=date(2025, 7, 1), chunk_size=100)
    assert run.status == RunStatus.DONE_WITH_ERRORS
    skip = BatchSkip.objects.get(run=run)
    assert skip.person_id == people[5].pk and "numeric field overflow" in skip.reason and skip.chunk_id
    names = dict(InsuredPerson.objects.values_list("pk", "name"))
    assert names[people[5].pk] != "已处理"
    assert all(names[p.pk] == "已处理" for p in people if p != people[5])
    assert run.counts["marked"] == 8 and run.counts["skipped"] == 1

    poison_job["poison"] = None  # the data was fixed
    resumed = resume_run(run.pk, in_process=True)
    assert resumed.status == RunStatus.DONE and not resumed.skips.exists()
    assert InsuredPerson.objects.get(pk=people[5].pk).name == "已处理"
    assert resumed.counts["retried"] == 1 and resumed.counts["marked"] == 9


def test_too_many_failures_fail_the_chunk_not_skip_everyone(poison_job, settings):
    settings.BATCH_SKIP_LIMIT = 0
    people = _people(3)
    poison_job["poison"] = people[1].pk
    with pytest.raises(DataError):
        run_in_process("tests.poison", as_of=date(2025, 7, 1), chunk_size=100)
    run = BatchRun.objects.get(job="tests.poison")
    assert run.status == RunStatus.FAILED and not run.skips.exists()
    assert not InsuredPerson.objects.filter(name="已处理").exists()  # the chunk rolled back whole


def test_a_failing_finish_closes_the_run_with_errors_and_resume_finishes_it(poison_job):
    _people(2)
    poison_job["finish_fails"] = True
    run = run_in_process("tests.poison", as_of=date(2025, 7, 1), chunk_size=100)
    assert run.status == RunStatus.DONE_WITH_ERRORS and run.finished_at is not None
    assert BatchSkip.objects.get(run=run, step="finish").reason == "ValueError: 缺少政策参数 test.value"

    poison_job["finish_fails"] = False
    assert resume_run(run.pk, in_process=True).status == RunStatus.DONE
    assert not run.skips.exists()


def test_a_run_left_running_with_all_chunks_done_is_finished_by_resume(poison_job):
    _people(2)
    run = run_in_process("tests.poison", as_of=date(2025, 7, 1), chunk_size=1)
    # a worker killed between its chunk's commit and the finish
    BatchRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, finished_at=None)
    resumed = resume_run(run.pk, in_process=True)
    assert resumed.status == RunStatus.DONE and resumed.finished_at is not None


def test_preview_lists_the_skips_and_writes_nothing(poison_job):
    people = _people(4)
    poison_job["poison"] = people[0].pk
    run = create_run("tests.poison", as_of=date(2025, 7, 1), preview=True, chunk_size=100)
    resumed = resume_run(run.pk, in_process=True)
    assert resumed.status == RunStatus.DONE_WITH_ERRORS
    assert list(resumed.skips.values_list("person_id", flat=True)) == [people[0].pk]
    assert not InsuredPerson.objects.filter(name="已处理").exists()


def test_the_run_admin_page_shows_the_skips(poison_job, admin_client):
    people = _people(3)
    poison_job["poison"] = people[2].pk
    run = run_in_process("tests.poison", as_of=date(2025, 7, 1), chunk_size=100)
    page = admin_client.get(reverse("admin:batch_batchrun_change", args=[run.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "完成（有错误）" in body and "numeric field overflow" in body and str(people[2].pk) in body
