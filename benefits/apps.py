from django.apps import AppConfig
from django.db.models.signals import post_migrate

from batch.dialect import sqlite_triggers_reinstaller

_SQLITE_TRIGGERS = sqlite_triggers_reinstaller(
    "benefits",
    "0006_due_makeup_closed_trigger",
    "benefits.migrations.0005_eligibility_incremental_nights:drop_triggers",
    "benefits.migrations.0005_eligibility_incremental_nights:create_triggers",
    "benefits.migrations.0006_due_makeup_closed_trigger:forwards",
)


class BenefitsConfig(AppConfig):
    """待遇: 享受待遇状态与费用报销."""

    name = "benefits"
    verbose_name = "待遇"

    def ready(self) -> None:
        # A payment or deferral recorded below recomputes the persons' eligibility timeline at once (issue #12):
        # benefits plugs its refresh into the contributions services (no upward import). Imported here because
        # app modules may import models only once the registry is ready.
        from contributions.services import downstream_recompute_register
        from enrollment.services import span_change_listener_register
        from funds.prepayment import benefit_start_register

        from .selectors import benefit_period_start
        from .services import eligibility_refresh

        downstream_recompute_register("eligibility", eligibility_refresh)
        span_change_listener_register(eligibility_refresh)
        # ziyang 第九条(三): a refund is allowed only before the benefit period began (funds.prepayment)
        benefit_start_register(benefit_period_start)
        # the incremental nights' triggers (0005, 0006) survive SQLite's table rebuilds by later migrations
        post_migrate.connect(_SQLITE_TRIGGERS, sender=self, dispatch_uid="benefits.sqlite_triggers")
