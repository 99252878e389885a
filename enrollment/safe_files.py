"""安全文件: every .xlsx and .csv the system writes goes through here.

A spreadsheet treats a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a
formula (OWASP "CSV injection"). Such text cells are written with a leading apostrophe, so the cell shows
the text and never runs it. Numbers, dates and booleans are written as they are.
"""

from __future__ import annotations

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """Return ``value`` safe to write into a spreadsheet cell or a CSV field."""
    if isinstance(value, str) and value.lstrip(" ").startswith(_FORMULA_STARTS):
        return "'" + value
    return value
