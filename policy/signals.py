"""Forget the cached policy snapshot whenever a parameter or statistic changes."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import resolver
from .models import PolicyParameter, ReferenceStatistic


@receiver([post_save, post_delete], sender=PolicyParameter)
@receiver([post_save, post_delete], sender=ReferenceStatistic)
def _invalidate_policy_snapshot(**kwargs) -> None:
    resolver.invalidate()
