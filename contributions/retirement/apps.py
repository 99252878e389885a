from django.apps import AppConfig
from django.db.models.signals import post_migrate

from batch.dialect import sqlite_triggers_reinstaller

_SQLITE_TRIGGERS = sqlite_triggers_reinstaller(
    "retirement",
    "0004_clearance_incremental_scan",
    "contributions.retirement.migrations.0004_clearance_incremental_scan:drop_triggers",
    "contributions.retirement.migrations.0004_clearance_incremental_scan:create_triggers",
)


class RetirementConfig(AppConfig):
    """退休清缴: clearance cases at retirement, their bills and the move to retiree status."""

    name = "contributions.retirement"
    label = "retirement"
    verbose_name = "退休清缴"

    def ready(self) -> None:
        # the incremental clearance scan's triggers (0004) survive SQLite's table rebuilds by later migrations
        post_migrate.connect(_SQLITE_TRIGGERS, sender=self, dispatch_uid="retirement.sqlite_triggers")
