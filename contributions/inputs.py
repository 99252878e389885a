"""输入检查 of the contribution screens and files: wages, payment amounts, dates and 电子税票号.

One place for the checks the payroll and payment imports, ``payment_record`` and the admin forms
share. The bounds themselves are the product bounds of :mod:`enrollment.bounds` (no document sets
them); each check raises ``ValidationError({field: message})`` naming the field.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError

from enrollment.bounds import MAX_AMOUNT, MAX_MONTHLY_WAGE, MIN_BUSINESS_DATE, amount_in_bounds, date_in_bounds

#: 上年工资总额: twelve months at the monthly bound.
MAX_ANNUAL_WAGE = MAX_MONTHLY_WAGE * 12
#: 电子税票号: letters, digits and the separators tax bureaus print (no formula, no spaces inside).
_REFERENCE_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-_/.]*")
REFERENCE_MAX_LENGTH = 64  # Payment.reference


def wage_amount(value: Decimal, *, field: str, annual: bool = False) -> Decimal:
    """月工资 / 上年工资总额: above 0, at most the product bound, at most two decimals.

    A wage of 0 is refused: it would make a base of 0 and hide a missing declaration.
    """
    return amount_in_bounds(
        value, field=field, maximum=MAX_ANNUAL_WAGE if annual else MAX_MONTHLY_WAGE, allow_zero=False
    )


def payment_amount(value: Decimal, *, field: str = "amount") -> Decimal:
    """实缴金额: above 0, at most :data:`~enrollment.bounds.MAX_AMOUNT`, at most two decimals."""
    return amount_in_bounds(value, field=field, maximum=MAX_AMOUNT, allow_zero=False)


def business_date(value: date, *, field: str, latest: date | None = None) -> date:
    """A date not before :data:`~enrollment.bounds.MIN_BUSINESS_DATE` nor after ``latest`` (the entry
    day, passed in by the caller; ``None``: no upper bound)."""
    return date_in_bounds(value, field=field, latest=latest or date.max)


def payment_reference(value: object, *, field: str = "reference") -> str:
    """电子税票号: refused when empty, too long for the column, or not letters and digits (a ``=…``
    formula, spaces or control characters inside)."""
    text = str(value or "").strip()
    if not text:
        raise ValidationError({field: "电子税票号未填写。"})
    if len(text) > REFERENCE_MAX_LENGTH:
        raise ValidationError({field: f"电子税票号过长：{len(text)} 个字符，最多 {REFERENCE_MAX_LENGTH} 个。"})
    if not _REFERENCE_RE.fullmatch(text):
        raise ValidationError({field: "电子税票号只能由字母、数字和 - _ / . 组成，且以字母或数字开头。"})
    return text


__all__ = [
    "MAX_ANNUAL_WAGE",
    "MIN_BUSINESS_DATE",
    "REFERENCE_MAX_LENGTH",
    "business_date",
    "payment_amount",
    "payment_reference",
    "wage_amount",
]
