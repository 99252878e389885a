from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What spans the domains: the nightly composite job, operations pages, demo setup (运维)."""

    name = "operations"
    verbose_name = "运维"
    default_auto_field = "django.db.models.BigAutoField"
