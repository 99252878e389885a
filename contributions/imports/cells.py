"""Cell normalisation: each parser returns the value or raises ValueError with the message for the user."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from operator import mul
from typing import Any

from django.core.exceptions import ValidationError

from enrollment.bounds import MAX_AMOUNT, amount_in_bounds, normalise_identifier
from enrollment.identifiers import parse_id_number


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_name_cell(value: Any) -> str:
    """姓名: text within the register's column (it is compared with the register, never written)."""
    text = _text(value)
    if len(text) > NAME_MAX_LENGTH:
        raise ValueError(f"姓名过长：{len(text)} 个字符，最多 {NAME_MAX_LENGTH} 个。")
    return text


NAME_MAX_LENGTH = 50  # InsuredPerson.name


def parse_id_cell(value: Any) -> str:
    """身份证号: 18 characters, check digit per GB 11643 (via :func:`enrollment.identifiers.parse_id_number`)."""
    if isinstance(value, float):
        raise ValueError("身份证号被存成了数字，后几位已丢失；请把该列设为“文本”格式后重新填写。")
    # Full-width digits, no-break and other spaces are normalised before the check digit is checked.
    text = normalise_identifier(_text(value))
    if not text:
        raise ValueError("身份证号未填写。")
    try:
        parse_id_number(text)
    except ValidationError as exc:
        raise ValueError(exc.messages[0]) from None
    return text


def parse_money(value: Any, *, label: str, positive: bool = False, maximum: Decimal = MAX_AMOUNT) -> Decimal | None:
    """An amount in yuan, at most 2 decimals and at most ``maximum`` (a product bound of
    :mod:`enrollment.bounds`); ``None`` for an empty cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{label}不是数字：{value}。")
    if isinstance(value, float):
        amount = Decimal(repr(value))
        rounded = amount.quantize(Decimal("0.01"))
        if abs(amount - rounded) < Decimal("0.000001"):  # binary float noise from Excel formulas
            amount = rounded
    elif isinstance(value, int | Decimal):
        amount = Decimal(value)
    else:
        text = re.sub(r"[\s,，¥￥元]", "", str(value))
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{label}不是数字：“{value}”。") from None
        if not amount.is_finite():
            raise ValueError(f"{label}不是数字：“{value}”。")
    if amount < 0:
        raise ValueError(f"{label}不能为负数：{amount}。")
    if positive and amount == 0:
        raise ValueError(f"{label}应大于0。")
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{label}最多保留两位小数：{amount}。")
    try:
        amount_in_bounds(amount, field=label, maximum=maximum, allow_zero=not positive)
    except ValidationError as exc:
        raise ValueError(label + exc.message_dict[label][0]) from None
    return amount.quantize(Decimal("0.01"))


_MONTH_RE = re.compile(r"^(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*月?(?:[-/.](\d{1,2})日?)?$")
_YEAR_RE = re.compile(r"^(\d{4})\s*(?:年度?)?$")
_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_period(value: Any) -> tuple[int, int | None] | None:
    """年度/所属期: ``(year, None)`` for a year, ``(year, month)`` for a month; ``None`` when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime | date):
        return value.year, value.month
    text = _text(value)
    if m := _YEAR_RE.match(text):
        return int(m[1]), None
    if re.fullmatch(r"\d{6}", text):  # 202407
        year, month = int(text[:4]), int(text[4:])
    elif m := _MONTH_RE.match(text):
        year, month = int(m[1]), int(m[2])
    else:
        raise ValueError(f"年度/所属期格式不正确：“{value}”，应为 2024 或 2024-07。")
    if not 1 <= month <= 12:
        raise ValueError(f"年度/所属期的月份不正确：“{value}”。")
    return year, month


def parse_date_cell(value: Any, *, label: str) -> date | None:
    """A date cell, or text such as 2024-05-20, 2024/5/20, 20240520, 2024年5月20日."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    try:
        if re.fullmatch(r"\d{8}", text):
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if m := _DATE_RE.match(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?", text):
            return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"{label}不是有效日期：“{value}”。") from None
    raise ValueError(f"{label}格式不正确：“{value}”，应为 2024-05-20。")


def parse_month_cell(value: Any, *, label: str) -> date | None:
    """A month (first day): 2024-03, 202403, 2024年3月, or a date cell."""
    period = parse_period(value)
    if period is None:
        return None
    year, month = period
    if month is None:
        raise ValueError(f"{label}应为年月，例如 2024-03：“{value}”。")
    return date(year, month, 1)


# --- column parsers: a whole column at once, the common clean cells on a fast path ---------------------------
#
# Each fast path accepts only cells whose result it knows to be the cell parser's own (an ASCII 身份证号
# with a good check digit and birth date, a plain amount within its bounds, an allowed year …) and hands
# every other cell to the cell parser above, so every message stays the cell parser's, word for word.

#: A cell that did not parse (its message is in the column's errors).
BAD = object()
#: A fast path's "ask the cell parser".
SLOW = object()


def parse_column(
    values: list[Any], fast: Callable[[Any], Any], slow: Callable[[Any], Any]
) -> tuple[list[Any], list[tuple[int, str]]]:
    """Parse a column: ``(values, errors)``, a value or :data:`BAD` per cell and ``(position, message)``
    for each bad cell, in order."""
    out: list[Any] = []
    errors: list[tuple[int, str]] = []
    append = out.append
    for i, value in enumerate(values):
        result = fast(value)
        if result is SLOW:
            try:
                result = slow(value)
            except ValueError as exc:
                errors.append((i, str(exc)))
                result = BAD
        append(result)
    return out, errors


_ID_FAST = re.compile(r"[0-9]{17}[0-9X]").fullmatch
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_DIGIT_OFFSET = ord("0") * sum(_ID_WEIGHTS)
_ID_CHECK = "10X98765432"
_BIRTH_OK: dict[str, bool] = {}


def _birth_ok(digits: str) -> bool:
    ok = _BIRTH_OK.get(digits)
    if ok is None:
        try:
            date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
            ok = True
        except ValueError:
            ok = False
        if len(_BIRTH_OK) < 100_000:
            _BIRTH_OK[digits] = ok
    return ok


def fast_id(value: Any) -> Any:
    """An 18-character ASCII 身份证号 already normal (no spaces, upper-case X) with a good check digit and birth
    date is itself; anything else goes to :func:`parse_id_cell`."""
    if type(value) is str and _ID_FAST(value):
        b = value.encode()
        if _ID_CHECK[(sum(map(mul, b[:17], _ID_WEIGHTS)) - _ID_DIGIT_OFFSET) % 11] == value[17] and _birth_ok(
            value[6:14]
        ):
            return value
    return SLOW


def fast_name(value: Any) -> Any:
    if value is None:
        return ""
    if type(value) is str and len(value) <= NAME_MAX_LENGTH:
        return value.strip()
    return SLOW


_MONEY_FAST = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?").fullmatch
_CENT = Decimal("0.01")


def fast_money(maximum: Decimal) -> Callable[[Any], Any]:
    """A plain positive amount within ``maximum`` with at most two decimals (text, an int, or a float whose
    shortest form is such text); an empty cell is None; anything else goes to :func:`parse_money`."""

    def fast(value: Any) -> Any:
        kind = type(value)
        if value is None:
            return None
        if kind is str:
            if not _MONEY_FAST(value):
                return SLOW
            amount = Decimal(value)
        elif kind is float:
            text = repr(value)
            if not _MONEY_FAST(text):
                return SLOW
            amount = Decimal(text)
        elif kind is int:
            amount = Decimal(value)
        else:
            return SLOW
        if amount <= 0 or amount > maximum:
            return SLOW
        return amount.quantize(_CENT)

    return fast


def fast_none(value: Any) -> Any:
    """An empty cell (None) is None; anything else goes to the cell parser."""
    return None if value is None else SLOW
