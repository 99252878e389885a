from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    """费用报销: claims, their adjudication, annual accumulators and bulk settlement files."""

    name = "benefits.claims"
    label = "claims"
    verbose_name = "费用报销"
