"""Periodic tasks of the contribution engine in django-celery-beat.

Reset dates are read from the version-controlled policy files (``contribution.reset_month_day``);
after staff change a reset date, ``manage.py contributions_schedules`` re-reads it from the database.
"""

from pathlib import Path

import yaml
from django.db import migrations

POLICIES = Path(__file__).resolve().parents[2] / "policy" / "policies"  # config/policies before the layout move


def _reset_dates():
    dates = {}
    for jdir in sorted(p for p in POLICIES.iterdir() if p.is_dir() and p.name != "catalog"):
        value = "01-01"  # issue 3: January where the document names no reset date
        path = jdir / "contribution.yaml"
        entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or []) if path.exists() else []
        dated = sorted(
            (str(e["from"]), str(e["value"])) for e in entries if e.get("key") == "contribution.reset_month_day"
        )
        if dated:
            value = dated[-1][1]
        dates[jdir.name] = value
    return dates


def create(apps, schema_editor):
    from contributions.schedules import schedules_sync

    schedules_sync(
        _reset_dates(),
        Crontab=apps.get_model("django_celery_beat", "CrontabSchedule"),
        Periodic=apps.get_model("django_celery_beat", "PeriodicTask"),
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__startswith="缴费：").delete()


class Migration(migrations.Migration):
    dependencies = [("contributions", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(create, remove)]
