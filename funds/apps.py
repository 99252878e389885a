from django.apps import AppConfig


class FundsConfig(AppConfig):
    """基金: 统筹基金、个人账户与风险储备金的复式记账."""

    name = "funds"
    verbose_name = "基金"

    def ready(self) -> None:
        # The clearance service sits below the ledger: the ledger plugs its poster in (no upward import).
        # Imported here because app modules may import models only once the registry is ready.
        from contributions.employer_events.services import ledger_poster_register as reserve_poster_register
        from contributions.residents.services import ledger_poster_register as resident_poster_register
        from contributions.retirement.services import ledger_poster_register
        from contributions.services import downstream_recompute_register

        from .clearance import post_clearance_case
        from .posting import post_closure_reserve
        from .receipts import credits_for_persons
        from .resident_fund import post_resident_allocations

        ledger_poster_register(post_clearance_case)
        # 居民个人缴费 applied to a yearly bill is posted to the resident fund (险种 390, its own books).
        resident_poster_register(post_resident_allocations)
        # 关闭破产单位退休人员一次性预留医保费: billed and paid through the same kind of port (issue #14 item 4)
        reserve_poster_register(post_closure_reserve)
        # A payment recorded below posts the new allocations' account credits at once (issue #12).
        downstream_recompute_register("credits", credits_for_persons)
