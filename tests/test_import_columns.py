"""The payroll dry run parses a column at a time (issue #13 item 4): its fast paths must give, for every cell,
exactly what the cell parser gives — the same value, or the same message."""

from __future__ import annotations

import random
from datetime import date, datetime
from decimal import Decimal

import pytest

from contributions.imports import cells
from contributions.inputs import MAX_ANNUAL_WAGE
from enrollment.bounds import MAX_MONTHLY_WAGE

GOOD_ID = "11010519491231002X"


def _outcome(parse, value):
    try:
        return ("ok", parse(value))
    except ValueError as exc:
        return ("error", str(exc))


def _same_as_cell_parser(values, fast, slow):
    parsed, errors = cells.parse_column(list(values), fast, slow)
    messages = dict(errors)
    assert len(parsed) == len(values)
    for i, value in enumerate(values):
        expected = _outcome(slow, value)
        got = ("error", messages[i]) if parsed[i] is cells.BAD else ("ok", parsed[i])
        assert got == expected, value
        if got[0] == "ok":  # same type too (a Decimal's exponent, a str not an int)
            assert type(got[1]) is type(expected[1]) and str(got[1]) == str(expected[1]), value


def _ids(rnd: random.Random, n: int) -> list:
    out = []
    for _ in range(n):
        body = f"{rnd.randrange(110000, 660000)}{rnd.randrange(1940, 2010)}{rnd.randrange(1, 13):02}"
        body += f"{rnd.randrange(1, 32):02}{rnd.randrange(0, 1000):03}"
        check = cells._ID_CHECK[sum(int(c) * w for c, w in zip(body, cells._ID_WEIGHTS, strict=True)) % 11]
        wrong = "0123456789X".replace(check, "")[rnd.randrange(10)]
        out += [body + check, body + wrong, (body + check).lower(), " " + body + check, body]
    return out


ODD_IDS = [
    GOOD_ID,
    "110105194912310029",  # check digit
    "110105194902300024",  # 30 February
    "１１０１０５１９４９１２３１００２Ｘ",  # full width
    "110105\u00a019491231002X",
    "",
    None,
    11010519491231002,
    1.1010519491231002e17,
    "=HYPERLINK(1)",
    "11010519491231002x",
    "11010519491231002XX",
    "٣٣" * 9,  # other digits
]


def test_id_column_is_the_cell_parser():
    rnd = random.Random(13)
    _same_as_cell_parser([*ODD_IDS, *_ids(rnd, 400)], cells.fast_id, cells.parse_id_cell)


NAMES = [None, "", "甲一", " 甲 一 ", "甲" * 50, " " + "甲" * 50, "甲" * 51, 12, 3.0, 2.5, True, "=cmd|' /C calc'!A0"]


def test_name_column_is_the_cell_parser():
    _same_as_cell_parser(NAMES, cells.fast_name, cells.parse_name_cell)


AMOUNTS = [
    None, "", " ", "0", "0.00", "-1", "1", "6500", "6500.5", "6500.50", "5000.100", "5000.123", "6,500", "￥6500元",
    "1e3", "NaN", "Infinity", "五千", "=1+1", "007", " 6500", "10000000.00", "10000000.01", "120000000.00",
    "120000000.01", "999999999999.99", "9999999999999", 0, 1, -5, 6500, 10_000_000, 10_000_001, 120_000_001,
    0.0, 0.1 + 0.2, 16582.53, 5000.0, 5000.001, 1e16, 1e-3, -2.5, 10_000_000.0, 10_000_000.01,
    True, False, Decimal("6500.5"), Decimal("1E+3"), date(2024, 1, 1),
]  # fmt: skip


@pytest.mark.parametrize(("label", "maximum"), [("月工资", MAX_MONTHLY_WAGE), ("上年工资总额", MAX_ANNUAL_WAGE)])
def test_money_column_is_the_cell_parser(label, maximum):
    rnd = random.Random(7)
    values = [*AMOUNTS, *(rnd.randrange(1, 10**9) / 100 for _ in range(300))]
    values += [str(Decimal(rnd.randrange(0, 10**10)) / 100) for _ in range(300)]
    slow = lambda v: cells.parse_money(v, label=label, positive=True, maximum=maximum)  # noqa: E731
    _same_as_cell_parser(values, cells.fast_money(maximum), slow)


def test_empty_cell_column_is_the_cell_parser():
    values = [None, "", "2024-03", 202403, datetime(2024, 3, 5), "1899-12", "2024-13"]
    slow = lambda v: cells.parse_month_cell(v, label="起薪月份")  # noqa: E731
    _same_as_cell_parser(values, cells.fast_none, slow)


def test_fast_paths_take_the_common_cells():
    """The point of the fast paths: a clean file's cells never reach the cell parsers."""
    assert cells.fast_id(GOOD_ID) == GOOD_ID
    assert cells.fast_name(" 甲一 ") == "甲一"
    assert cells.fast_money(MAX_MONTHLY_WAGE)("6500.5") == Decimal("6500.50")
    assert cells.fast_money(MAX_MONTHLY_WAGE)(16582.53) == Decimal("16582.53")
    assert cells.fast_money(MAX_MONTHLY_WAGE)(6500) == Decimal("6500.00")
    assert cells.fast_none(None) is None
    for fast, value in [(cells.fast_id, "110105194912310029"), (cells.fast_money(MAX_MONTHLY_WAGE), "0")]:
        assert fast(value) is cells.SLOW
