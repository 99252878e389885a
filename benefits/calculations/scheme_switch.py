"""职工医保与居民医保之间的切换 (险种 310 ↔ 390): what the resident scheme still pays, what the employee caps keep.

hunan 第六十条: a person who had this year's resident cover (已参加当年度居民医保) and then joins the employee
scheme has the costs of the employee waiting period (等待期) paid by the resident scheme, under the resident rules
(:func:`waiting_payer`). hunan 第六十一条: the employee annual caps are reduced by what the resident scheme already
paid this year (:func:`cap_paid_with_resident`), and certified 门诊慢特病 / “双通道” benefits carry over while valid
(:func:`certification_carries_over`). Keys ``scheme_switch.*``; a jurisdiction whose document says nothing has no
value, and a rule that needs one names it (D-X16).

langfang 第二十五条 and ziyang 第十四条 (immediate benefits after ≥ 2 years of cover and a gap ≤ 3 months; else
ziyang's 原档次待遇 for 6 months) are the eligibility timeline's ``eligibility.switch_*`` rules
(:mod:`benefits.calculations.eligibility`); a claim in ziyang's window is settled at the resident values where the
jurisdiction has them (:mod:`benefits.claims.adjudication`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from policy.calculations import Field, InputError, calculation
from policy.resolver import Policy

from ._common import ZERO, Step, amount, cite, fmt
from .resident import EMPLOYEE_INSUTYPE, RESIDENT_INSUTYPE

WAITING_KEY = "scheme_switch.waiting_costs_by_resident_scheme"
CAP_KEY = "scheme_switch.caps_reduced_by_resident_paid"
CARRY_KEY = "scheme_switch.certifications_carry_over"
#: 待遇享受状态 of the employee timeline on the day of care (SCENARIOS.md eligibility ``status``).
STATUSES = ("covered", "waiting", "suspended", "none")


def resident_cover_in_year(resident_spans: Sequence[tuple[date, date | None]], on: date) -> bool:
    """Had the person resident cover in the calendar year of ``on`` (当年度居民医保), on or before ``on``?

    ``resident_spans``: (start, end exclusive or None) of the person's resident spans in the jurisdiction.
    """
    first = date(on.year, 1, 1)
    return any(start <= on and (end is None or end > first) for start, end in resident_spans)


def waiting_payer(
    policy: Policy, *, status: str, on: date, resident_spans: Sequence[tuple[date, date | None]]
) -> tuple[str | None, str]:
    """Who pays a cost on ``on`` when the employee timeline says ``status`` (hunan 第六十条).

    The resident scheme (``"390"``) when the day is in the employee waiting period, the person had this year's
    resident cover and the jurisdiction's document says so; the employee scheme (``"310"``) when covered; None
    otherwise. Returns (payer, why). A jurisdiction without the key: no resident payment in the waiting period
    (the document says nothing), never an invented one.
    """
    if status not in STATUSES:
        raise InputError(f"输入 status: {status!r} 不在可选值 {', '.join(STATUSES)} 中")
    if status == "covered":
        return EMPLOYEE_INSUTYPE, "享受职工医保待遇"
    if status != "waiting":
        return None, "职工医保不享受待遇，且不在等待期内"
    if not resident_cover_in_year(resident_spans, on):
        return None, "职工医保等待期内，未参加当年度居民医保"
    if not policy.value(WAITING_KEY, None):
        return None, "职工医保等待期内：本统筹区文件未规定由居民医保报销"
    return RESIDENT_INSUTYPE, (
        f"已参加当年度居民医保，职工医保等待期内发生的医疗费用按居民医保政策报销（{cite(policy, WAITING_KEY)}）"
    )


def cap_paid_with_resident(
    policy: Policy, employee_paid: Decimal, resident_paid: Decimal, steps: list[Step] | None = None
) -> Decimal:
    """What counts against the employee annual cap this year: the employee pool's payments, plus the resident
    scheme's where the document says the cap is reduced by them (hunan 第六十一条)."""
    if not resident_paid or not policy.value(CAP_KEY, None):
        return employee_paid
    if steps is not None:
        steps.append(
            Step(
                f"由居民医保变更为职工医保：年度最高支付限额扣减居民医保期内已报销的 {fmt(resident_paid)} 元",
                cite(policy, CAP_KEY),
            )
        )
    return employee_paid + resident_paid


def certification_carries_over(policy: Policy, *, valid_until: date | None, on: date) -> bool:
    """A 门诊慢特病 / “双通道” certification from the resident period still valid on ``on`` needs no new application
    after the switch (hunan 第六十一条); ``valid_until`` exclusive, None open-ended."""
    if not policy.value(CARRY_KEY):
        return False
    return valid_until is None or on < valid_until


@calculation(
    "scheme_switch",
    inputs={
        "status": Field("str", default="waiting", choices=STATUSES),
        "service_date": Field("date"),
        "resident_start": Field("date", default=None),
        "resident_end": Field("date", default=None),
        "employee_cap": Field("decimal", default=None),
        "employee_paid_this_year": Field("decimal", default=ZERO),
        "resident_paid_this_year": Field("decimal", default=ZERO),
        "certification_valid_until": Field("date", default=None),
    },
    outputs={"payer": "str", "cap_left": "money", "certification_valid": "bool"},
)
def scheme_switch(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """居民医保转职工医保 (hunan 第六十条、第六十一条): who pays a day of the employee waiting period, what is left of
    the employee annual cap, whether a resident-period certification still holds."""
    on = inputs["service_date"]
    spans = [] if inputs["resident_start"] is None else [(inputs["resident_start"], inputs["resident_end"])]
    payer, why = waiting_payer(policy, status=inputs["status"], on=on, resident_spans=spans)
    steps = [Step(why, "")]
    cap_left = None
    if inputs["employee_cap"] is not None:
        counted = cap_paid_with_resident(
            policy,
            amount(inputs["employee_paid_this_year"], "employee_paid_this_year"),
            amount(inputs["resident_paid_this_year"], "resident_paid_this_year"),
            steps,
        )
        cap_left = max(amount(inputs["employee_cap"], "employee_cap") - counted, ZERO)
    carried = None
    if inputs["certification_valid_until"] is not None:
        carried = certification_carries_over(policy, valid_until=inputs["certification_valid_until"], on=on)
    return {"payer": payer or "none", "cap_left": cap_left, "certification_valid": carried, "steps": steps}
