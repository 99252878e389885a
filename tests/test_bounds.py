"""enrollment.bounds: the amount check and its fast test for the usual amount agree."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from enrollment.bounds import MAX_AMOUNT, amount_in_bounds, amount_plainly_in_bounds

CASES = [
    # (value, plainly in bounds, accepted by the full check)
    ("0", True, True),
    ("0.00", True, True),
    ("12.5", True, True),
    ("12.34", True, True),
    ("1E+3", True, True),
    (str(MAX_AMOUNT), True, True),
    ("1.000", False, True),  # three decimals written, worth two: the full check takes it
    ("1.005", False, False),
    ("-0.01", False, False),
    (str(MAX_AMOUNT + Decimal("0.01")), False, False),
    ("NaN", False, False),
    ("Infinity", False, False),
]


@pytest.mark.parametrize(("text", "plain", "accepted"), CASES)
def test_the_fast_test_passes_only_what_the_full_check_accepts(text, plain, accepted):
    value = Decimal(text)
    assert amount_plainly_in_bounds(value) is plain
    if accepted:
        assert amount_in_bounds(value, field="x") == value
    else:
        with pytest.raises(ValidationError):
            amount_in_bounds(value, field="x")


def test_zero_refused_where_it_must_be_positive_and_a_lower_maximum_kept():
    with pytest.raises(ValidationError, match="金额必须大于0"):
        amount_in_bounds(Decimal("0"), field="x", allow_zero=False)
    assert amount_plainly_in_bounds(Decimal("100.01"), Decimal("100")) is False
    with pytest.raises(ValidationError, match="超出合理范围"):
        amount_in_bounds(Decimal("100.01"), field="x", maximum=Decimal("100"))
