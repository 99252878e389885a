from django.apps import AppConfig


class InstitutionsConfig(AppConfig):
    """两定机构: designated medical institutions and pharmacies, their agreements, appraisals and 医保医师."""

    name = "benefits.institutions"
    label = "institutions"
    verbose_name = "两定机构"
