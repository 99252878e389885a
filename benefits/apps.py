from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    """待遇: 享受待遇状态与费用报销."""

    name = "benefits"
    verbose_name = "待遇"
