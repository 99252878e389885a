"""What every benefit family of 审核结算 shares: the step book, the parts of the payment, the accumulators."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from benefits.calculations._common import ZERO, Step
from benefits.calculations.scheme_switch import cap_paid_with_resident
from policy.calculations import money
from policy.resolver import Policy

from ..facts import ClaimFacts

#: Benefit → the accumulator field holding what the pool paid under it this year.
POOL_FIELDS = {
    "inpatient": "inpatient_pool_paid",
    "outpatient": "outpatient_pool_paid",
    "special_disease": "special_disease_pool_paid",
    "single_payment_drug": "single_drug_pool_paid",
    "major_disease": "major_disease_pool_paid",
}
LAYER_FIELDS = ("hifmi_pay", "hifob_pay")


class Acc:
    """One year's accumulator as the rule sees it: amounts, counts and admissions per level."""

    def __init__(self, values: Mapping[str, Any] | None = None, by_level: Mapping[str, int] | None = None):
        self.values: dict[str, Any] = dict(values or {})
        self.by_level: dict[str, int] = dict(by_level or {})

    def get(self, name: str) -> Any:
        return self.values.get(name, 0)

    def apply(self, deltas: Mapping[str, Any], sign: int = 1) -> None:
        for k, v in deltas.items():
            if k == "admissions_by_level":
                for level, n in v.items():
                    self.by_level[level] = self.by_level.get(level, 0) + sign * int(n)
            elif k in ("inpatient_admissions", "claims_count"):
                self.values[k] = int(self.values.get(k, 0)) + sign * int(v)
            else:
                self.values[k] = Decimal(self.values.get(k, 0)) + sign * Decimal(v)


class Book:
    """Collects steps and accumulator deltas while a claim is settled."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.effects: dict[str, dict[str, Any]] = {}

    def add(self, stage: str, steps: list[Step] | tuple[Step, ...]) -> None:
        for s in steps:
            self.step(stage, s.description, s.citation, s.amount)

    def step(self, stage: str, description: str, citation: str = "", amount: Decimal | None = None) -> None:
        self.steps.append(
            {
                "stage": stage,
                "description": description,
                "citation": citation,
                "amount": None if amount is None else str(money(amount)),
            }
        )

    def delta(self, year: int, name: str, value: Any) -> None:
        if not value:
            return
        d = self.effects.setdefault(str(year), {})
        if name == "admissions_by_level":
            lv = d.setdefault(name, {})
            for k, n in value.items():
                lv[k] = lv.get(k, 0) + n
        elif name in ("inpatient_admissions", "claims_count"):
            d[name] = d.get(name, 0) + int(value)
        else:
            d[name] = str(Decimal(d.get(name, "0")) + Decimal(value))


@dataclass
class Parts:
    """The payment as the families build it (the 2303 amounts before rounding, and the rules' other outputs)."""

    deductible: Decimal = ZERO
    hifp: Decimal = ZERO
    prop_selfpay: Decimal = ZERO
    hifmi: Decimal = ZERO
    hifob: Decimal = ZERO
    oth: Decimal = ZERO
    allowance: Decimal = ZERO
    one_off_grant: Decimal = ZERO
    layer_field: str | None = None
    third_party_advance: bool = False
    benefit_scope: str = ""
    allowance_payee: str | None = None
    refusal: str = ""  # nothing payable under this benefit: the reason (the claim is refused)


def policy_for(facts: ClaimFacts, on: date) -> Policy:
    """The policy in force on ``on``, with the employer's average wage the claim carries (maternity)."""
    stats = {}
    if facts.employer_average_monthly_wage is not None:
        stats["employer_average_monthly_wage"] = facts.employer_average_monthly_wage
    return Policy(facts.jurisdiction, on, stats=stats)


def acc_of(accs: Mapping[int, Acc], year: int) -> Acc:
    return accs.get(year) or Acc()


def cap_paid(policy: Policy, acc: Acc) -> Decimal:
    """Pool paid this year under the benefits counted against the overall annual cap (claims.inpatient_cap_counts).

    langfang 第四十九条(四) D-L9 (inpatient, 门诊慢特病 and outpatient pooling together, 350 000); ziyang
    第十二条(四) (6 × the average wage): the accumulators hold what the pool paid per benefit.
    """
    counted = policy.value("claims.inpatient_cap_counts")
    employee = sum((Decimal(acc.get(POOL_FIELDS[b])) for b in counted), ZERO)
    # hunan 第六十一条: after a switch from resident insurance the caps are reduced by what the resident scheme paid
    return cap_paid_with_resident(policy, employee, Decimal(acc.get("resident_pool_paid")))


def opt(value: str) -> str | None:
    return value or None


def pool_part(parts: Parts, amount: Decimal, deductible: Decimal, pool_pay: Decimal) -> None:
    """A pool's result into the parts: deductible, pool pay and the proportional self-pay between them."""
    parts.deductible += deductible
    parts.hifp += pool_pay
    parts.prop_selfpay += amount - deductible - pool_pay
