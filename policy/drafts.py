"""政策草案 (issue #18 item 4): proposed dated values, compared with production, published by a second person.

A draft changes nothing in production while it is open: :func:`draft_overlay_of` gives the overlay with which
:class:`policy.resolver.Policy` reads "production + draft" (scenario runs, 测算) without writing.
:func:`draft_publish` writes its values as ``PolicyParameter`` rows (their effective dates, history kept by
simple_history) in one transaction; only an administrator holding ``policy.publish_policydraft`` who is not
the draft's author may do it (双人复核). :func:`draft_withdraw` closes a draft without publishing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .catalog import catalog, jsonable, scale_mismatch, validate_value
from .models import DraftStatus, ParameterOrigin, PolicyDraft, PolicyDraftValue, PolicyParameter
from .resolver import Overlay, build_overlay, invalidate, snapshot

PUBLISH_PERMISSION = "policy.publish_policydraft"

#: Which area a catalog topic (the key's prefix) touches in a simulation (测算).
CONTRIBUTION_TOPICS = frozenset({"contribution", "critical_illness"})
ACCOUNT_TOPICS = frozenset({"accounts"})
BENEFIT_TOPICS = frozenset({"claims", "inpatient", "outpatient", "special_disease", "maternity", "eligibility"})


def draft_overlay_of(draft: PolicyDraft) -> Overlay:
    """The draft's values as an overlay over production (numbers as ``Decimal``)."""
    rows = draft.values.select_related("jurisdiction").values_list(
        "jurisdiction__code", "key", "effective_from", "value", "citation", "decision"
    )
    return build_overlay(
        (code, key, eff, value, f"草案：{cite}", decision) for code, key, eff, value, cite, decision in rows
    )


def areas_touched(keys: set[str]) -> set[str]:
    """contributions / accounts / benefits: what a simulation of these keys must recompute."""
    areas: set[str] = set()
    for key in keys:
        topic = key.split(".", 1)[0]
        if topic in CONTRIBUTION_TOPICS:
            areas.add("contributions")
        elif topic in ACCOUNT_TOPICS:
            areas.update({"accounts", "contributions"})  # account credits are a part of each due
        elif topic in BENEFIT_TOPICS:
            areas.add("benefits")
        if topic == "critical_illness":
            areas.add("benefits")  # the premium is billed with the dues; the layer pays claims
    return areas


def value_in_force(jurisdiction: str, key: str, on: date) -> tuple[Any, date | None, str]:
    """(value, effective from, citation) of ``key`` in production on ``on``; (None, None, "") when none."""
    versions = snapshot().parameters.get((jurisdiction, key))
    found = versions.dated_at(on) if versions else None
    if found is None:
        return None, None, ""
    eff, (value, cite, _decision) = found
    return value, eff, cite


def check_value(jurisdiction: str, key: str, effective_from: date | None, value: Any, *, confirm_scale: bool) -> Any:
    """A proposed value checked against the catalog (type, unit, range) and the scale of the value in force.

    Returns it as stored (numbers as text); raises ``ValidationError`` naming the key."""
    normalised = validate_value(key, value)
    if effective_from is not None and not confirm_scale:
        current, _eff, _cite = value_in_force(jurisdiction, key, effective_from)
        problem = scale_mismatch(key, normalised, jsonable(current))
        if problem:
            raise ValidationError(problem)
    return jsonable(value)


@dataclass(frozen=True)
class ComparisonRow:
    """对照表的一行: the value in force on the draft value's date beside the proposed one."""

    jurisdiction: str
    key: str
    label: str
    unit: str
    type_label: str
    effective_from: date
    current: Any
    current_from: date | None
    current_citation: str
    proposed: Any
    citation: str
    decision: str

    @property
    def is_new_key(self) -> bool:
        return self.current_from is None

    @property
    def changed(self) -> bool:
        return jsonable(self.current) != jsonable(self.proposed)


def comparison(draft: PolicyDraft) -> list[ComparisonRow]:
    """Every draft value with the production value in force on its effective date (catalog labels, units)."""
    keys = catalog()
    rows = []
    for v in draft.values.select_related("jurisdiction").order_by("jurisdiction__code", "key", "effective_from"):
        spec = keys.get(v.key)
        current, current_from, current_cite = value_in_force(v.jurisdiction.code, v.key, v.effective_from)
        rows.append(
            ComparisonRow(
                jurisdiction=v.jurisdiction.name,
                key=v.key,
                label=spec.label if spec else "（目录外参数键）",
                unit=spec.unit if spec else "",
                type_label=spec.type_label if spec else "",
                effective_from=v.effective_from,
                current=jsonable(current),
                current_from=current_from,
                current_citation=current_cite,
                proposed=v.value,
                citation=v.citation,
                decision=v.decision,
            )
        )
    return rows


class DraftError(ValidationError):
    """A draft that cannot be published or withdrawn now (the message says why, in Chinese)."""


def can_publish(draft: PolicyDraft, user) -> bool:
    return (
        draft.is_open
        and user is not None
        and user.has_perm(PUBLISH_PERMISSION)
        and draft.created_by_id is not None
        and draft.created_by_id != user.pk
    )


def draft_publish(draft: PolicyDraft, user) -> int:
    """发布: write every value as a ``PolicyParameter`` (same jurisdiction, key and date: updated, history kept),
    in one transaction. Refused unless the user may publish and is not the author. Returns the rows written."""
    if not (user is not None and user.has_perm(PUBLISH_PERMISSION)):
        raise PermissionDenied("发布政策草案须由经办管理员进行")
    with transaction.atomic():
        locked = PolicyDraft.objects.select_for_update().get(pk=draft.pk)
        if not locked.is_open:
            raise DraftError(f"草案“{locked.name}”{locked.get_status_display()}，不能再发布")
        if locked.created_by_id is None or locked.created_by_id == user.pk:
            raise DraftError("双人复核：起草人不能发布自己的草案，须由另一名管理员发布")
        values = list(locked.values.select_related("jurisdiction"))
        if not values:
            raise DraftError("草案没有任何取值，无需发布")
        for v in values:
            try:
                validate_value(v.key, v.value)
            except ValidationError as exc:
                raise DraftError(f"{v.jurisdiction.code} {v.key}：{'；'.join(exc.messages)}") from None
            row = PolicyParameter.objects.filter(
                jurisdiction=v.jurisdiction, key=v.key, effective_from=v.effective_from
            ).first() or PolicyParameter(jurisdiction=v.jurisdiction, key=v.key, effective_from=v.effective_from)
            row.value = v.value
            row.citation = v.citation
            row.decision = v.decision
            row.note = f"政策草案“{locked.name}”（#{locked.pk}）发布。{v.note}".strip()
            row.origin = ParameterOrigin.STAFF
            row._history_user = user  # simple_history: who published
            row.save()
        locked.status = DraftStatus.PUBLISHED
        locked.published_by = user
        locked.published_at = timezone.now()
        locked._history_user = user
        locked.save()
        transaction.on_commit(invalidate)
    draft.refresh_from_db()
    return len(values)


def draft_withdraw(draft: PolicyDraft, user) -> None:
    """撤回: the draft stays on record, its values are never published."""
    with transaction.atomic():
        locked = PolicyDraft.objects.select_for_update().get(pk=draft.pk)
        if not locked.is_open:
            raise DraftError(f"草案“{locked.name}”{locked.get_status_display()}，不能撤回")
        locked.status = DraftStatus.WITHDRAWN
        locked.withdrawn_by = user
        locked.withdrawn_at = timezone.now()
        locked._history_user = user
        locked.save()
    draft.refresh_from_db()


def draft_from_values(name: str, rows: list[dict[str, Any]], *, user=None) -> PolicyDraft:
    """A draft with these values (jurisdiction code, key, effective_from, value, citation[, decision]),
    each checked against the catalog (commands, tests, the simulation's "policy in force" draft)."""
    from .models import Jurisdiction

    with transaction.atomic():
        draft = PolicyDraft.objects.create(name=name, created_by=user)
        for r in rows:
            PolicyDraftValue.objects.create(
                draft=draft,
                jurisdiction=Jurisdiction.objects.get(code=r["jurisdiction"]),
                key=r["key"],
                effective_from=r["effective_from"],
                value=check_value(r["jurisdiction"], r["key"], r["effective_from"], r["value"], confirm_scale=True),
                citation=r["citation"],
                decision=r.get("decision", ""),
            )
    return draft
