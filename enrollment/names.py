"""姓名检索键: the pinyin initials of a name (张三丰 → ``zsf``), stored with the person for the search box.

pypinyin reads each Chinese character; letters and digits in a name are kept (lower case), anything else
(·, spaces) dropped. A heteronym takes pypinyin's most common reading.
"""

from __future__ import annotations

from django.db.models import CharField, Func
from pypinyin import Style, lazy_pinyin

#: The column's length (InsuredPerson.name_initials): one letter per character of a 50-character name.
INITIALS_MAX_LENGTH = 50


def _keep_alnum(chars: str) -> list[str]:
    return [c.lower() for c in chars if c.isascii() and c.isalnum()]


def name_initials(name: str) -> str:
    """姓名拼音首字母: ``'张三丰'`` → ``'zsf'``; ``'乙一A'`` → ``'yya'``."""
    letters = lazy_pinyin(name or "", style=Style.FIRST_LETTER, errors=_keep_alnum)
    return "".join(letters).lower()[:INITIALS_MAX_LENGTH]


class SpacedChars(Func):
    """``' 李 刚 志 '``: a space before and after every character (PostgreSQL only).

    pg_trgm finds no trigram in a two-character fragment (``LIKE '%刚志%'`` reads every name); with each
    character a word of its own, ``LIKE '% 刚 志 %'`` on this expression is answered from its trigram index
    (migration 0006, ``person_name_chars_trgm``); the plain ``name LIKE '%刚志%'`` then checks the rows.
    Query and index compile from this one class, so their expressions are the same.
    """

    # a function call (textcat is ``||``): an index expression in that form needs no extra parentheses
    template = "textcat(' ', regexp_replace(%(expressions)s, '(.)', '\\1 ', 'g'))"
    output_field = CharField()


def spaced(fragment: str) -> str:
    """``'刚志'`` → ``' 刚 志 '``: the fragment as :class:`SpacedChars` holds it."""
    return " " + " ".join(fragment) + " "
