from django.apps import AppConfig


class BatchConfig(AppConfig):
    """Batch runs split into chunks of person ids, their Celery tasks and bulk SQL helpers (批处理)."""

    name = "batch"
    verbose_name = "批处理"
    default_auto_field = "django.db.models.BigAutoField"
