from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Generated populations, demo histories and benchmark commands (开发与演示工具); no business rules."""

    name = "devtools"
    verbose_name = "开发与演示工具"
    default_auto_field = "django.db.models.BigAutoField"
