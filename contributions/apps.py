from django.apps import AppConfig


class ContributionsConfig(AppConfig):
    """缴费: 工资申报、缴费基数、应缴、实缴、欠费与滞纳金."""

    name = "contributions"
    verbose_name = "征缴"

    def ready(self) -> None:
        # 单位增减员申请的工资变更 (issue #14): the register's queue applies it through this port.
        from enrollment.requests.services import request_applier_register

        from .employer_requests import wage_change_apply

        request_applier_register("wage_change", wage_change_apply)
