"""Late fee on overdue contributions (滞纳金), POLICY-DIGEST §2e.

万分之五 per day from the day after the due date: hunan 第七十四条, sanmenxia 第十九条;
langfang and ziyang state no rate and take the statutory one (D-X14, 社会保险法
第八十六条), flexible workers included (D-X14). xianning gives none → PolicyMissing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from policy.calculations import Field, calculation, money
from policy.resolver import Policy


def late_fee_amount(policy: Policy, *, amount: Decimal, due_date: date, paid_on: date) -> tuple[int, Decimal]:
    """(days late, late fee): days = paid_on − due_date (0 when on time); fee = amount × daily rate × days.

    ``due_date`` is the last day to pay without a fee, so paying on it costs nothing
    (D-X14: days = payment date − due date). The fee is a bill line: rounded half-up
    to 0.01 (D-X12).
    """
    rate = policy.percent("contribution.late_fee_daily_pct")
    days = max(0, (paid_on - due_date).days)
    return days, money(amount * rate * days)


@calculation(
    "late_fee",
    inputs={
        "amount": Field("decimal"),
        "due_date": Field("date"),
        "paid_on": Field("date"),
    },
    outputs={"days": "int", "late_fee": "money"},
)
def late_fee(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """滞纳金 on one overdue amount."""
    days, fee = late_fee_amount(policy, amount=inputs["amount"], due_date=inputs["due_date"], paid_on=inputs["paid_on"])
    return {"days": days, "late_fee": fee}
