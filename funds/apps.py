from django.apps import AppConfig


class FundsConfig(AppConfig):
    """基金: 统筹基金、个人账户与风险储备金的复式记账."""

    name = "funds"
    verbose_name = "基金"
