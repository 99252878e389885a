"""费用承担 — the step after a refusal for an interruption of cover: who bears what the fund does not pay.

hunan 第二十条: when the employer's failure to pay interrupts cover, the employer bears the costs of care in the
interruption except the person's own share; when the person's own failure did (a flexible worker), the person.
langfang 第二十三条: an employer interruption of more than 3 months puts the costs of the arrears period and the
make-up month on the employer ("统筹基金不予支付"); 3 months or less are paid by the fund once made up.

The claim stays refused for the fund. The step settles the claim as if covered (the same :func:`decide`, with a
hypothetical coverage) to find the fund's part, and the rule :func:`contributions.employer_events.calculations.
cost_bearer` decides who bears it; the service records the payer on the claim and bills the employer
(:class:`benefits.claims.models.EmployerLiabilityBill`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from benefits.calculations._common import ZERO
from contributions.employer_events.calculations import DueFact, cost_bearer, interruption_run
from policy.calculations import InputError
from policy.resolver import PolicyError

from ..facts import ClaimFacts, Coverage, PersonFacts
from .base import Book, policy_for

STAGE = "费用承担"


@dataclass(frozen=True)
class Interruption:
    """The facts of the interruption the claim's first day fell in (built from the person's dues)."""

    employer_caused: bool
    months: int
    employer_id: int | None


def interruption_on(dues: Sequence[DueFact], *, day: date, as_of: date, employee: bool) -> Interruption | None:
    """The interruption covering ``day`` from the person's dues, or ``None``. It is the employer's when the person
    was an employee and every month of it was billed to an employer (the employer is the one billed now: a
    successor that took the arrears over, langfang 第二十七条)."""
    run = interruption_run(dues, day=day, as_of=as_of)
    if not run:
        return None
    employer_id = run[-1].employer_id
    caused = employee and all(d.employer_id is not None for d in run)
    return Interruption(caused, len(run), employer_id if caused else None)


def bear_costs(
    facts: ClaimFacts,
    person: PersonFacts,
    interruption: Interruption,
    *,
    settle: Callable[[Coverage], object],
) -> tuple[list[dict], dict]:
    """(steps, extra) of the 费用承担 step. ``settle(coverage)`` settles the claim under a given coverage (the
    adjudication's own :func:`decide`); a value the seeds do not give stops only this step, named in it."""
    book = Book()
    policy = policy_for(facts, facts.end)
    fund_share = person_share = ZERO
    if interruption.employer_caused:
        try:
            hypothetical = settle(Coverage(True, "假定享受待遇：计算中断期间应由基金支付的部分"))
        except (PolicyError, InputError) as exc:
            book.step(STAGE, f"无法计算应由基金支付的部分：{exc}")
            return book.steps, {"cost_payer": "", "employer_liability": None}
        if getattr(hypothetical, "status", "") != "adjudicated":
            reason = getattr(hypothetical, "refusal_reason", "")
            book.step(STAGE, f"即使享受待遇也不予支付（{reason}），不计单位责任")
            return book.steps, {"cost_payer": "", "employer_liability": None}
        breakdown: Mapping[str, Decimal] = hypothetical.breakdown  # type: ignore[attr-defined]
        fund_share = breakdown.get("fund_pay_sumamt", ZERO)
        person_share = facts.medfee_sumamt - fund_share
    bearer = cost_bearer(
        policy,
        employer_caused=interruption.employer_caused,
        months=interruption.months,
        fund_share=fund_share,
        person_share=person_share,
    )
    book.step(STAGE, bearer.reason, bearer.citation, bearer.employer_amount if bearer.payer == "employer" else None)
    employer = bearer.payer == "employer"
    return book.steps, {
        "cost_payer": bearer.payer,
        "employer_liability": bearer.employer_amount if employer else None,
        "liable_employer_id": interruption.employer_id if employer else None,
        "interruption_months": interruption.months,
        "person_share": person_share,
        "liability_reason": bearer.reason,
        "liability_citation": bearer.citation,
    }
