"""After every migrate: keep the role groups in line with :mod:`enrollment.roles`."""

from django.apps import apps
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from .roles import roles_sync


@receiver(post_migrate)
def _sync_roles(sender, **kwargs) -> None:
    # Sent once per app; permissions of every app exist once the last one is done.
    if sender is [a for a in apps.get_app_configs() if a.models_module is not None][-1]:
        roles_sync()
