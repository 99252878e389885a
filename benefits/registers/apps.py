from django.apps import AppConfig


class RegistersConfig(AppConfig):
    """就医登记: 异地就医备案 and 门诊慢特病认定 — the registers a claim is checked against."""

    name = "benefits.registers"
    label = "registers"
    verbose_name = "异地就医备案与门诊慢特病"
