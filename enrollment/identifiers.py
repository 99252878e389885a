"""National identifiers: 居民身份证号 (GB 11643-1999) and 统一社会信用代码 (GB 32100-2015)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@dataclass(frozen=True)
class IdCardFacts:
    birth_date: date
    sex: str  # national code: "1" male, "2" female


def parse_id_number(value: str) -> IdCardFacts:
    """Check a 18-character 身份证号 and return the birth date and sex it encodes.

    Raises ``ValidationError`` with a message saying what is wrong.
    """
    v = (value or "").strip().upper()
    if len(v) != 18 or not v[:17].isdigit() or not (v[17].isdigit() or v[17] == "X"):
        raise ValidationError("身份证号应为18位：前17位数字，最后一位为数字或X。", code="id_format")
    expected = _ID_CHECK[sum(int(c) * w for c, w in zip(v[:17], _ID_WEIGHTS, strict=True)) % 11]
    if v[17] != expected:
        raise ValidationError(
            f"身份证号校验码错误：最后一位应为 {expected}，实为 {v[17]}（GB 11643-1999）。", code="id_check"
        )
    try:
        birth = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError as exc:
        raise ValidationError("身份证号第7至14位不是有效的出生日期。", code="id_birth") from exc
    return IdCardFacts(birth_date=birth, sex="1" if int(v[16]) % 2 else "2")


def validate_id_number(value: str) -> None:
    parse_id_number(value)


def uscc_check_character(first17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    """统一社会信用代码: 18 characters from 0-9 A-H J-N P Q R T U W X Y; GB 32100 check character."""
    v = (value or "").strip().upper()
    if len(v) != 18 or any(c not in _USCC_ALPHABET for c in v):
        raise ValidationError(
            "统一社会信用代码应为18位，只含数字和大写字母（不含 I、O、Z、S、V）。", code="uscc_format"
        )
    expected = uscc_check_character(v[:17])
    if v[17] != expected:
        raise ValidationError(
            f"统一社会信用代码校验位错误：第18位应为 {expected}，实为 {v[17]}（GB 32100-2015）。",
            code="uscc_check",
        )


def mask_id_number(value: str) -> str:
    """110105********002X: region and last four only."""
    return f"{value[:6]}********{value[-4:]}" if value and len(value) == 18 else "******"


def mask_phone(value: str) -> str:
    return f"{value[:3]}****{value[-4:]}" if value and len(value) >= 7 else ("****" if value else "")
