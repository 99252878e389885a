"""``python manage.py contributions_schedules``: re-read the reset dates from the policy into django-celery-beat."""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from contributions.schedules import reset_dates_from_policy, schedules_sync


class Command(BaseCommand):
    help = "按政策参数 contribution.reset_month_day 更新各统筹区年度缴费基数核定的定时任务。"

    def handle(self, *args, **options):
        dates = reset_dates_from_policy(timezone.localdate())
        n = schedules_sync(dates, Crontab=CrontabSchedule, Periodic=PeriodicTask)
        for code, month_day in sorted(dates.items()):
            self.stdout.write(f"{code}: base reset every year on {month_day}")
        self.stdout.write(f"{n} periodic tasks written")
