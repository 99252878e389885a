"""Celery tasks and their django-celery-beat schedule (tasks run in-process: no broker in tests)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from batch.models import BatchRun
from contributions import tasks
from contributions.models import ContributionBase, MonthlyDue

from .test_contributions_engine import JULY, Register, declare, reference_wages  # noqa: F401

pytestmark = pytest.mark.django_db


def test_reset_is_scheduled_per_jurisdiction_on_its_reset_date():
    schedule = {
        json.loads(t.kwargs)["jurisdiction"]: (t.crontab.month_of_year, t.crontab.day_of_month, str(t.crontab.timezone))
        for t in PeriodicTask.objects.filter(task="contributions.base_reset").select_related("crontab")
    }
    # langfang 第二十一条 and sanmenxia 第六条: 1 July; no reset date in the others → January (issue 3).
    assert schedule["langfang"] == ("7", "1", "Asia/Shanghai")
    assert schedule["sanmenxia"] == ("7", "1", "Asia/Shanghai")
    assert {schedule[c][:2] for c in ("hunan", "xianning", "ziyang")} == {("1", "1")}
    assert PeriodicTask.objects.filter(task="contributions.dues_generate", crontab__day_of_month="1").exists()
    assert PeriodicTask.objects.filter(task="contributions.arrears_accrue", crontab__day_of_month="*").exists()
    call_command("contributions_schedules", stdout=open("/dev/null", "w"))  # idempotent re-read from the policy
    assert PeriodicTask.objects.filter(task="contributions.base_reset").count() == 5


def test_tasks_take_keyword_ids_and_dates_and_record_runs():
    reg = Register()
    e = reg.employer("ziyang")
    p = reg.person("ziyang", employer=e)
    declare(p, e, monthly="10000")
    run_id = tasks.base_reset.delay(jurisdiction="ziyang", on="2025-07-01").get()
    assert BatchRun.objects.get(pk=run_id).counts["recomputed"] == 1
    assert ContributionBase.objects.get(person=p).base == Decimal("10000")
    run_id = tasks.dues_generate.delay(month="2025-07", jurisdiction="ziyang").get()
    assert BatchRun.objects.get(pk=run_id).params == {"month": "2025-07"}
    assert MonthlyDue.objects.filter(person=p, month=JULY).exists()
    run_id = tasks.arrears_accrue.delay(on="2025-08-10").get()
    assert BatchRun.objects.get(pk=run_id).as_of == date(2025, 8, 10)
    assert MonthlyDue.objects.get(person=p).late_fee == Decimal("7.76")  # 970 × 0.05% × 16 days


def test_commands_print_the_run_counts(capsys):
    reg = Register()
    e = reg.employer("ziyang")
    declare(reg.person("ziyang", employer=e), e, monthly="3000")
    call_command("base_reset", jurisdiction="ziyang", date=JULY, preview=True)
    out = capsys.readouterr().out
    assert "preview" in out and "recomputed: 1" in out and "clamped_floor: 1" in out
    assert not ContributionBase.objects.exists()
    call_command("base_reset", jurisdiction="ziyang", date=JULY)
    call_command("dues_generate", month=JULY)
    call_command("arrears_accrue", date=date(2025, 8, 1))
    out = capsys.readouterr().out
    assert "generated: 1" in out and "accrued: 1" in out
