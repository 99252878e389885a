from django.apps import AppConfig


class InstitutionsConfig(AppConfig):
    """两定机构: designated medical institutions and pharmacies, their agreements, appraisals and 医保医师."""

    name = "benefits.institutions"
    label = "institutions"
    verbose_name = "两定机构"

    def ready(self) -> None:
        # a 机构接口账号 may hold an API token (issue #16 item 3): plugged into the token login from above
        from enrollment.api_tokens import token_holder_register

        from .models import institution_of

        token_holder_register(lambda user: institution_of(user) is not None)
