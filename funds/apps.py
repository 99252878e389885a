from django.apps import AppConfig


class FundsConfig(AppConfig):
    """基金: 统筹基金、个人账户与风险储备金的复式记账."""

    name = "funds"
    verbose_name = "基金"

    def ready(self) -> None:
        # The clearance service sits below the ledger: the ledger plugs its poster in (no upward import).
        # Imported here because app modules may import models only once the registry is ready.
        from contributions.retirement.services import ledger_poster_register

        from .clearance import post_clearance_case

        ledger_poster_register(post_clearance_case)
