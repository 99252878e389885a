"""Codes in words for the screens: jurisdiction codes → names, decision ids (D-X5) as small print.

``hunan 第十七条, D-X2`` reads 湖南 第十七条 <small>D-X2</small>: the article stays, the code of the pooling area
becomes its name, and the product decision id (the analysts' reference) recedes to small print.
"""

from __future__ import annotations

import re

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

DECISION_ID = re.compile(r"\bD-[A-Z]+\d+[a-z]?\b")

_names: dict[str, str] = {}


def jurisdiction_names() -> dict[str, str]:
    """code → name of the pooling areas (read once; the five codes never change name)."""
    if not _names:
        from .models import Jurisdiction

        _names.update(Jurisdiction.objects.values_list("code", "name"))
    return _names


def jurisdiction_name(code: str) -> str:
    return jurisdiction_names().get(code, code)


def _codes_pattern() -> re.Pattern | None:
    codes = sorted(jurisdiction_names(), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(map(re.escape, codes)) + r")\b") if codes else None


def in_words(text: str | None) -> SafeString:
    """HTML of a citation or reason: jurisdiction codes replaced by names, decision ids in small print."""
    if not text:
        return mark_safe("")
    html = escape(text)
    pattern = _codes_pattern()
    if pattern is not None:
        html = pattern.sub(lambda m: jurisdiction_names()[m.group(1)], html)
    html = DECISION_ID.sub(lambda m: f'<small class="quiet">{m.group(0)}</small>', html)
    return mark_safe(html)


def decision_small(decision: str | None) -> SafeString:
    """A decision id as small print (empty when none)."""
    return format_html('<small class="quiet">{}</small>', decision) if decision else mark_safe("")


def value_words(value, names: dict[str, str] | None = None) -> str:
    """A policy value for reading: lists joined with 、, mappings as ``名称 值``, codes by ``names``, decimals
    without ``Decimal('…')``; None reads 不适用."""
    names = names or {}
    if value is None:
        return "不适用"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return "、".join(value_words(v, names) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{names.get(str(k), k)} {value_words(v, names)}" for k, v in value.items())
    if isinstance(value, str):
        return names.get(value, value)
    return str(value)
