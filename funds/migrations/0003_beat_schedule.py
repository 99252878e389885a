"""The ledger's periodic tasks in django-celery-beat (held in the database; staff may change them)."""

from django.db import migrations

SCHEDULE = [
    # name, task, crontab (minute, hour, day_of_month, month_of_year)
    ("基金：退休人员个人账户按月划入", "funds.retiree_credits_month", ("0", "2", "1", "*")),
    ("基金：个人账户年度计息", "funds.interest_year", ("0", "3", "2", "1")),
    ("基金：缴费到账记账（每晚）", "funds.contributions_post_nightly", ("30", "1", "*", "*")),
    ("基金：对账（每晚）", "funds.reconcile_nightly", ("0", "4", "*", "*")),
]


def create(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, (minute, hour, dom, moy) in SCHEDULE:
        cron, _ = Crontab.objects.get_or_create(
            minute=minute, hour=hour, day_of_month=dom, month_of_year=moy, day_of_week="*", timezone="Asia/Shanghai"
        )
        Periodic.objects.update_or_create(name=name, defaults={"task": task, "crontab": cron, "kwargs": "{}"})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[s[0] for s in SCHEDULE]).delete()


class Migration(migrations.Migration):
    dependencies = [("funds", "0002_postgres_integrity"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(create, remove)]
