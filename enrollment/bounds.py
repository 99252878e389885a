"""输入边界: the product bounds every input is checked against, in one place.

These are not policy values (no document sets them): they are the plausible ranges outside which an entry
is a typing or file error. A value outside them is refused with a message naming the field and the bound,
before it reaches a rule, a batch run or a numeric column.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError

#: 月工资 / 缴费基数: a monthly wage above this is a typing error (numeric(14,2) columns hold far more, but
#: a base multiplied by rates and summed over an employer must still fit).
MAX_MONTHLY_WAGE = Decimal("10000000.00")
#: 单笔金额 (payment, claim amount, bill): at most one hundred million yuan.
MAX_AMOUNT = Decimal("100000000.00")
#: 最早业务日期: nothing in the register predates the 1998 reform's earliest deemed years by more than this.
MIN_BUSINESS_DATE = date(1950, 1, 1)
#: Uploads: size of the file as sent, rows in it, and bytes after decompression (xlsx is a zip).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_ROWS = 200_000
MAX_DECOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COLUMNS = 200


def amount_plainly_in_bounds(value: Decimal, maximum: Decimal = MAX_AMOUNT) -> bool:
    """The usual amount, told without building an error: finite, from 0 to ``maximum``, at most two decimals
    written — one that :func:`amount_in_bounds` passes (zero allowed). False says only "check it in full"."""
    return value.is_finite() and 0 <= value <= maximum and value.as_tuple().exponent >= -2


def amount_in_bounds(value: Decimal, *, field: str, maximum: Decimal = MAX_AMOUNT, allow_zero: bool = True) -> Decimal:
    """Refuse a negative, too large or over-precise amount (more than two decimals is refused, not rounded)."""
    if allow_zero and amount_plainly_in_bounds(value, maximum):
        return value
    if value.is_nan() or value.is_infinite():
        raise ValidationError({field: "不是有效的金额。"})
    if value < 0 or (value == 0 and not allow_zero):
        raise ValidationError({field: "金额必须大于0。" if not allow_zero else "金额不能为负数。"})
    if value > maximum:
        raise ValidationError({field: f"金额超出合理范围（不超过 {maximum:,}）。"})
    if value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01")):
        raise ValidationError({field: "金额最多两位小数。"})
    return value


def date_in_bounds(value: date, *, field: str, latest: date) -> date:
    """Refuse a date before :data:`MIN_BUSINESS_DATE` or after ``latest`` (usually the day of entry)."""
    if value < MIN_BUSINESS_DATE:
        raise ValidationError({field: f"日期不能早于 {MIN_BUSINESS_DATE:%Y-%m-%d}。"})
    if value > latest:
        raise ValidationError({field: f"日期不能晚于 {latest:%Y-%m-%d}。"})
    return value


def text_in_bounds(value: str, *, field: str, max_length: int) -> str:
    if len(value) > max_length:
        raise ValidationError({field: f"长度不能超过 {max_length} 个字符（实为 {len(value)}）。"})
    return value


def normalise_identifier(value: object) -> str:
    """身份证号、统一社会信用代码: full-width characters to half-width (NFKC), every kind of space removed,
    upper case. ``'１１０１０５ １９４９１２３１００２ｘ'`` → ``'11010519491231002X'``."""
    if type(value) is str and value.isascii() and value.isalnum():
        return value.upper()  # the usual case: ASCII letters and digits are their own NFKC form, with no space
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf").upper()


#: 申请附件 (增减员申请): PDF or image, at most this many bytes each and this many per request.
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS = 10
#: Attachment types by extension, with the bytes the file must start with (its real type, not its name).
ATTACHMENT_TYPES = {
    ".pdf": (b"%PDF-",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
}
#: 申请说明、退回原因: free text at most this long.
MAX_REASON_LENGTH = 500
