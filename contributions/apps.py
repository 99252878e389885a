from django.apps import AppConfig


class ContributionsConfig(AppConfig):
    """缴费: 工资申报、缴费基数、应缴、实缴、欠费与滞纳金."""

    name = "contributions"
    verbose_name = "征缴"
