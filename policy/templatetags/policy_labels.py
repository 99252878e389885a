"""Template filters for codes in words: ``{{ key|key_label }}`` (catalog label, key as small print) and
``{{ citation|in_words }}`` (jurisdiction names, decision ids as small print)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from policy import labels
from policy.catalog import catalog_labels

register = template.Library()


@register.filter
def key_label(key: str) -> SafeString | str:
    """政策参数键 → its catalog label, the key as small print (the key alone when the catalog lacks it)."""
    label = catalog_labels().get(key)
    if not label:
        return key
    return format_html('{} <small class="quiet">{}</small>', label, key)


@register.filter
def in_words(text: str | None) -> SafeString:
    return labels.in_words(text)
