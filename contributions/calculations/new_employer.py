"""新成立用人单位的缴费基数 (langfang 第十三条): a plain rule over the employer's facts and the policy.

``contribution.new_employer_base_rule`` = ``current_month_wage_bill``: an employer founded in the
contribution year has no last-year wage bill (第十二条); its base is the wage bill it pays in the current
month, i.e. the sum of the monthly wages it declares for the year. Elsewhere the key has no value and the
ordinary employer-base rule stands.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from policy.calculations import money
from policy.resolver import Policy

KEY = "contribution.new_employer_base_rule"


def is_new_employer(*, registered_on: date, year_start: date) -> bool:
    """Founded (registered) within the contribution year: no full previous year of wages."""
    return registered_on >= year_start


def new_employer_base(
    policy: Policy, *, registered_on: date, year_start: date, monthly_wages: Iterable[Decimal]
) -> tuple[Decimal | None, str]:
    """(monthly base, citation) of a new employer, or (None, "") where the rule does not apply."""
    rule = policy.value(KEY, None)
    if rule is None or not is_new_employer(registered_on=registered_on, year_start=year_start):
        return None, ""
    wages = [w for w in monthly_wages if w is not None]
    if rule == "current_month_wage_bill" and wages:
        return money(sum(wages, Decimal(0))), policy.citation(KEY)
    return None, ""
