from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    """用人单位、参保人员、参保关系与人员变动."""

    name = "enrollment"
    verbose_name = "参保登记"

    def ready(self) -> None:
        from . import signals  # noqa: F401
