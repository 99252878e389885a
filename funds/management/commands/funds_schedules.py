"""``python manage.py funds_schedules``: (re)write the ledger's periodic tasks in django-celery-beat."""

from django.core.management.base import BaseCommand
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from funds.schedules import SCHEDULE, schedules_sync


class Command(BaseCommand):
    help = "写入基金账簿的定时任务：退休人员按月划入、年度计息、每晚缴费记账与对账。"

    def handle(self, *args, **options):
        n = schedules_sync(Crontab=CrontabSchedule, Periodic=PeriodicTask)
        for name, task, cron in SCHEDULE:
            self.stdout.write(f"{name}: {task} at {' '.join(cron)} (min hour day month)")
        self.stdout.write(f"{n} periodic tasks written")
