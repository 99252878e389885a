"""Scenario calculations of the registers (our extensions of SCENARIOS.md; labels in
policy/scenario_contract.yaml): ``out_of_area_location``, ``out_of_area_filing``, ``chronic_claim``.

Thin wrappers over :mod:`benefits.registers.calculations.rules`, the same functions the services and the
claims hook call. A refusal is an output (``allowed`` false with the reason), not an error.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from policy.calculations import Field, InputError, calculation, parse_value
from policy.resolver import Policy

from .rules import (
    LOCAL_LOCATIONS,
    LONG_TERM,
    OUT_OF_AREA_LOCATIONS,
    CertificationFact,
    FilingFact,
    RegisterRefusal,
    check_kind,
    check_long_term_lock,
    check_retro,
    chronic_check,
    claim_location,
    filing_end,
)

KINDS = ("long_term", "temporary", "referral")


def _date(item: dict, key: str, *, required: bool = True) -> date | None:
    raw = item.get(key)
    if raw is None:
        if required:
            raise InputError(f"缺少 {key}")
        return None
    try:
        return parse_value("date", raw)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{key}: {exc}") from exc


def _filings(items: list) -> list[FilingFact]:
    out = []
    for item in items:
        if not isinstance(item, dict) or item.get("kind") not in KINDS:
            raise InputError("filings: 每项须为 {kind: long_term|temporary|referral, start, end, filed_on}")
        start = _date(item, "start")
        out.append(
            FilingFact(item["kind"], start, _date(item, "end", required=False), _date(item, "filed_on") or start)
        )
    return out


@calculation(
    "out_of_area_location",
    inputs={
        "location": Field("str", choices=tuple(sorted(LOCAL_LOCATIONS | OUT_OF_AREA_LOCATIONS | {"out_of_area"}))),
        "admission": Field("date"),
        "discharge": Field("date", default=None),
        "emergency": Field("bool", default=False),
        "manual": Field("bool", default=False),
        "filings": Field("list", default=()),
    },
    outputs={"location": "str", "reason": "str"},
)
def out_of_area_location(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """就医地类别：统筹区外就医按入院日有效的异地就医备案认定（已备案、转诊、急诊、未备案），不按录入。"""
    location, reason, _ = claim_location(
        policy,
        inputs["location"],
        _filings(list(inputs["filings"])),
        admission=inputs["admission"],
        discharge=inputs["discharge"] or inputs["admission"],
        emergency=inputs["emergency"],
        manual=inputs["manual"],
    )
    return {"location": location, "reason": reason}


@calculation(
    "out_of_area_filing",
    inputs={
        "action": Field("str", default="record", choices=("record", "cancel")),
        "kind": Field("str", default="long_term", choices=KINDS),
        "filed_on": Field("date", default=None),
        "start": Field("date", default=None),
        "end": Field("date", default=None),
        "current_kind": Field("str", default=None, choices=KINDS),
        "current_start": Field("date", default=None),
    },
    outputs={"allowed": "bool", "end": "date", "reason": "str"},
)
def out_of_area_filing(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """异地就医备案的办理：备案类别、临时外出有效期、补办备案、异地长期居住备案的变更与注销限制。"""
    current = None
    if inputs["current_kind"]:
        if inputs["current_start"] is None:
            raise InputError("current_kind 须同时给出 current_start")
        current = FilingFact(inputs["current_kind"], inputs["current_start"], None, inputs["current_start"])
    on = inputs["start"] or policy.on
    try:
        if inputs["action"] == "cancel":
            check_long_term_lock(policy, current, action="cancel", on=on)
            return {"allowed": True, "end": on, "reason": "准予注销"}
        check_kind(policy, inputs["kind"])
        end = filing_end(policy, inputs["kind"], on, inputs["end"])
        check_retro(policy, filed_on=inputs["filed_on"] or on, start=on)
        if inputs["kind"] == LONG_TERM:
            check_long_term_lock(policy, current, action="change", on=on)
        return {"allowed": True, "end": end, "reason": "准予备案"}
    except RegisterRefusal as exc:
        return {"allowed": False, "end": None, "reason": str(exc)}


@calculation(
    "chronic_claim",
    inputs={
        "service_date": Field("date"),
        "certifications": Field("list", default=()),
        "classes": Field("list", default=()),
    },
    outputs={"paid": "bool", "reason": "str"},
)
def chronic_claim(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """门诊慢特病费用须在就诊日有有效认定（鉴定、核准）方可由统筹基金支付。"""
    certs = []
    for item in inputs["certifications"]:
        if not isinstance(item, dict):
            raise InputError("certifications: 每项须为 {valid_from, valid_until, class}")
        cls = item.get("class")
        certs.append(
            CertificationFact(
                str(item.get("code", "")),
                str(item.get("name", "认定病种")),
                None if cls is None else int(cls),
                _date(item, "valid_from"),
                _date(item, "valid_until", required=False),
            )
        )
    classes = tuple(int(c) for c in inputs["classes"])
    check = chronic_check(policy, certs, service_date=inputs["service_date"], classes=classes)
    return {"paid": not check.refusal, "reason": check.reason}
