from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PolicyConfig(AppConfig):
    """Jurisdictions, dated policy parameters and reference statistics (政策参数)."""

    name = "policy"
    label = "policy"
    verbose_name = "政策参数"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (Django's way to connect receivers once the models are loaded)

        post_migrate.connect(_load_policy_files, sender=self)


def _load_policy_files(sender, using="default", **kwargs) -> None:
    """Keep the database in step with the version-controlled policy files after every migrate."""
    from .loader import load_policy_files  # the loader imports models: only once the registry is ready

    load_policy_files(using=using)
