"""Loads the version-controlled policy files under ``policy/policies/`` into the database.

Layout::

    policy/policies/catalog/<topic>.yaml        key: {label, type, unit[, choices]}  (every key a rule may ask for)
    policy/policies/<code>/jurisdiction.yaml    the jurisdiction and its document
    policy/policies/<code>/<topic>.yaml         dated values: key, from, value, cite[, decision, note]

Rows that came from the files are brought in line with them (added, changed,
removed); rows that staff entered in the admin are never touched.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction

from . import resolver
from .catalog import POLICY_DIR, catalog_labels, jsonable, read_yaml, validate_value
from .models import Jurisdiction, ParameterOrigin, PolicyParameter

JURISDICTION_FIELDS = {"code", "name", "document", "document_status", "is_draft", "completeness_note"}
ENTRY_FIELDS = {"key", "from", "value", "cite", "decision", "note"}


def read_policy_files() -> tuple[list[dict], list[dict]]:
    """(jurisdictions, parameter entries) from the files, validated."""
    labels = catalog_labels()
    jurisdictions, entries = [], []
    for jdir in sorted(p for p in POLICY_DIR.iterdir() if p.is_dir() and p.name != "catalog"):
        meta_path = jdir / "jurisdiction.yaml"
        if not meta_path.exists():
            raise ImproperlyConfigured(f"{jdir}: jurisdiction.yaml is missing")
        meta = read_yaml(meta_path)
        unknown = set(meta) - JURISDICTION_FIELDS
        if unknown or meta.get("code") != jdir.name:
            raise ImproperlyConfigured(f"{meta_path}: code must be {jdir.name!r}; unknown fields {unknown}")
        jurisdictions.append(meta)
        seen: set[tuple[str, date]] = set()
        for path in sorted(jdir.glob("*.yaml")):
            if path.name == "jurisdiction.yaml":
                continue
            for i, entry in enumerate(read_yaml(path) or [], start=1):
                where = f"{path.relative_to(POLICY_DIR)} entry {i}"
                if not isinstance(entry, dict) or set(entry) - ENTRY_FIELDS:
                    raise ImproperlyConfigured(f"{where}: unknown fields {set(entry) - ENTRY_FIELDS}")
                for required in ("key", "from", "cite"):
                    if required not in entry:
                        raise ImproperlyConfigured(f"{where}: '{required}' is required")
                if "value" not in entry:
                    raise ImproperlyConfigured(f"{where}: 'value' is required (null = does not apply here)")
                if entry["key"] not in labels:
                    raise ImproperlyConfigured(f"{where}: key {entry['key']!r} is not in policy/policies/catalog")
                try:  # the catalog's type and unit (issue 11 item 4)
                    validate_value(entry["key"], entry["value"])
                except ValidationError as exc:
                    raise ImproperlyConfigured(f"{where}: key {entry['key']}: {' '.join(exc.messages)}") from None
                if not isinstance(entry["from"], date):
                    raise ImproperlyConfigured(f"{where}: 'from' must be a date YYYY-MM-DD")
                ident = (entry["key"], entry["from"])
                if ident in seen:
                    raise ImproperlyConfigured(f"{where}: {ident} given twice")
                seen.add(ident)
                entries.append({**entry, "code": jdir.name, "value": jsonable(entry["value"])})
    return jurisdictions, entries


def load_policy_files(using: str = "default") -> dict[str, int]:
    """Bring the database in line with the files. Idempotent; returns counts."""
    jurisdictions, entries = read_policy_files()
    counts = {"created": 0, "updated": 0, "deleted": 0}
    with transaction.atomic(using=using):
        by_code = {}
        for meta in jurisdictions:
            obj, _ = Jurisdiction.objects.using(using).update_or_create(
                code=meta["code"], defaults={k: v for k, v in meta.items() if k != "code"}
            )
            by_code[obj.code] = obj
        existing = {
            (p.jurisdiction_id, p.key, p.effective_from): p
            for p in PolicyParameter.objects.using(using).filter(origin=ParameterOrigin.FILE)
        }
        staff = set(
            PolicyParameter.objects.using(using)
            .exclude(origin=ParameterOrigin.FILE)
            .values_list("jurisdiction_id", "key", "effective_from")
        )
        to_create, to_update = [], []
        for e in entries:
            ident = (by_code[e["code"]].pk, e["key"], e["from"])
            fields = {
                "value": e["value"],
                "citation": e["cite"],
                "decision": e.get("decision") or "",
                "note": e.get("note") or "",
            }
            row = existing.pop(ident, None)
            if ident in staff:
                continue  # staff entered this version themselves: theirs stands
            if row is None:
                to_create.append(
                    PolicyParameter(
                        jurisdiction=by_code[e["code"]],
                        key=e["key"],
                        effective_from=e["from"],
                        origin=ParameterOrigin.FILE,
                        **fields,
                    )
                )
            elif any(getattr(row, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(row, k, v)
                to_update.append(row)
        PolicyParameter.objects.using(using).bulk_create(to_create)
        PolicyParameter.objects.using(using).bulk_update(to_update, ["value", "citation", "decision", "note"])
        if existing:
            PolicyParameter.objects.using(using).filter(pk__in=[p.pk for p in existing.values()]).delete()
        counts.update(created=len(to_create), updated=len(to_update), deleted=len(existing))
    resolver.invalidate()
    return counts


def missing_keys(code: str, on: date) -> list[tuple[str, str]]:
    """Catalog keys with no value in force for the jurisdiction on the date (D-X16, D-XN1)."""
    snap = resolver.snapshot()
    return [
        (key, label)
        for key, label in catalog_labels().items()
        if not (snap.parameters.get((code, key)) and snap.parameters[(code, key)].at(on))
    ]
