from django.apps import AppConfig


class RetirementConfig(AppConfig):
    """退休清缴: clearance cases at retirement, their bills and the move to retiree status."""

    name = "contributions.retirement"
    label = "retirement"
    verbose_name = "退休清缴"
