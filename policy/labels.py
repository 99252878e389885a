"""Codes in words for the screens: jurisdiction codes → names, decision ids (D-X5) as small print.

``hunan 第十七条, D-X2`` reads 湖南 第十七条 <small>D-X2</small>: the article stays, the code of the pooling area
becomes its name, and the product decision id (the analysts' reference) recedes to small print.
"""

from __future__ import annotations

import re

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

DECISION_ID = re.compile(r"(?<![A-Za-z0-9_])D-[A-Z]+\d+[a-z]?(?![A-Za-z0-9_])")
#: The English tail of the resolver's missing-value message (kept for logs and tests, small print on screen).
ENGLISH_MISSING = r"\s*\(missing (?:parameter|statistic) '[^']*' for \w+ on [\d-]+\)"
POLICY_KEY = r"(?<![A-Za-z0-9_.])[a-z_]+\.[a-z0-9_]+(?![A-Za-z0-9_.])"

_names: dict[str, str] = {}


def jurisdiction_names() -> dict[str, str]:
    """code → name of the pooling areas (read once; the five codes never change name)."""
    if not _names:
        from .models import Jurisdiction

        _names.update(Jurisdiction.objects.values_list("code", "name"))
    return _names


def jurisdiction_name(code: str) -> str:
    return jurisdiction_names().get(code, code)


def _small(text: str) -> str:
    return f'<small class="quiet">{escape(text)}</small>'


def in_words(text: str | None) -> SafeString:
    """HTML of a citation, reason or message: jurisdiction codes replaced by names, policy keys by their catalog
    label (the key as small print), decision ids and the resolver's English tail as small print."""
    if not text:
        return mark_safe("")
    from .catalog import catalog_labels

    labels = catalog_labels()
    names = jurisdiction_names()
    codes = "|".join(map(re.escape, sorted(names, key=len, reverse=True))) or "(?!)"
    token = re.compile(
        rf"(?P<small>{ENGLISH_MISSING}|{DECISION_ID.pattern})|(?P<key>{POLICY_KEY})"
        rf"|(?P<code>(?<![A-Za-z0-9_])(?:{codes})(?![A-Za-z0-9_]))"
    )
    out, pos = [], 0
    for m in token.finditer(text):
        out.append(escape(text[pos : m.start()]))
        if m.group("small"):
            out.append(" " + _small(m.group("small").strip()))
        elif m.group("key"):
            key = m.group("key")
            label = labels.get(key)
            out.append(f"“{escape(label.split('（')[0])}” {_small(key)}" if label else escape(key))
        else:
            out.append(escape(names[m.group("code")]))
        pos = m.end()
    out.append(escape(text[pos:]))
    return mark_safe("".join(out))  # built from escaped text and fixed markup


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
