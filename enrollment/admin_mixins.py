"""Admin building blocks shared by every app: employer scoping and PII masking."""

from __future__ import annotations

from django.contrib import admin

from .identifiers import mask_id_number, mask_phone
from .models import EnrolmentSpan, employer_id_of
from .roles import PII


def can_see_pii(user) -> bool:
    return user.has_perm(PII)


class EmployerScopedAdmin(admin.ModelAdmin):
    """Restricts an employer user to their own employer's rows (bureau staff see all).

    ``employer_path`` is the lookup from the model to the employer id (e.g.
    ``"employer_id"``); ``person_path`` the lookup to the person for person-owned
    rows, visible when the person has a span at the employer.
    """

    employer_path: str | None = None
    person_path: str | None = None

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        employer_id = employer_id_of(request.user)
        if employer_id is None:
            return qs
        if self.employer_path:
            return qs.filter(**{self.employer_path: employer_id})
        if self.person_path:
            persons = EnrolmentSpan.objects.filter(employer_id=employer_id).values("person_id")
            return qs.filter(**{f"{self.person_path}__in": persons})
        return qs.none()


_MASKED = {
    "id_number": "masked_id_number",
    "phone": "masked_phone",
    "person_id_number": "masked_person_id_number",
}


class PiiMaskingAdmin(admin.ModelAdmin):
    """Shows 身份证号 and phone masked, in lists and forms, to users without the PII permission."""

    @admin.display(description="身份证号")
    def masked_id_number(self, obj) -> str:
        return mask_id_number(obj.id_number)

    @admin.display(description="联系电话")
    def masked_phone(self, obj) -> str:
        return mask_phone(obj.phone)

    @admin.display(description="身份证号", ordering="person__id_number")
    def person_id_number(self, obj) -> str:
        return obj.person.id_number

    @admin.display(description="身份证号")
    def masked_person_id_number(self, obj) -> str:
        return mask_id_number(obj.person.id_number)

    def get_list_display(self, request):
        fields = super().get_list_display(request)
        return fields if can_see_pii(request.user) else [_MASKED.get(f, f) for f in fields]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if can_see_pii(request.user) else [_MASKED.get(f, f) for f in fields]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not can_see_pii(request.user):
            fields += [m for m in _MASKED.values() if m not in fields]
        return fields
