"""退休清缴记账: posting a paid retirement-clearance case's lump sum (the clearance service calls it through the
port it offers, :func:`contributions.retirement.services.ledger_poster_register`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from policy.resolver import Policy, PolicyMissing

from .posting import post_retirement_clearance


def post_clearance_case(case, *, paid_on: date, user=None) -> None:
    """退休清缴记账 for a paid case: the account share per ``funds.clearance_account_share``; silent seeds are
    noted on the case, not guessed (D-X16). Registered with the clearance service by :mod:`funds.apps`."""
    policy = Policy(case.jurisdiction.code, paid_on)
    if not policy.has("funds.clearance_account_share"):
        case.ledger_note = (
            f"{case.jurisdiction.name}文件未规定退休清缴费用划入个人账户的方式（funds.clearance_account_share），"
            "未记账，待经办人员录入参数后补记（D-X16）。"
        )
        return
    age = (
        paid_on.year
        - case.person.birth_date.year
        - ((paid_on.month, paid_on.day) < (case.person.birth_date.month, case.person.birth_date.day))
    )
    try:
        entry = post_retirement_clearance(
            person=case.person,
            jurisdiction=case.jurisdiction,
            on=paid_on,
            lump_sum=case.bill_amount or Decimal(0),
            base=case.lump_sum_base or Decimal(0),
            months=case.shortfall_months or 0,
            age=age,
            category=case.category,
            business_key=f"clearance-case:{case.pk}",
            user=user,
        )
    except PolicyMissing as exc:
        case.ledger_note = f"未记账：{exc}"
        return
    case.ledger_entry_id = entry.pk
    case.ledger_note = entry.memo
