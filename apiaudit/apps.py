from django.apps import AppConfig


class ApiAuditConfig(AppConfig):
    name = "apiaudit"
    verbose_name = "接口访问与审计"
    default_auto_field = "django.db.models.BigAutoField"
