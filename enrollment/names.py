"""姓名检索键: the pinyin initials of a name (张三丰 → ``zsf``), stored with the person for the search box.

pypinyin reads each Chinese character; letters and digits in a name are kept (lower case), anything else
(·, spaces) dropped. A heteronym takes pypinyin's most common reading.
"""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin

#: The column's length (InsuredPerson.name_initials): one letter per character of a 50-character name.
INITIALS_MAX_LENGTH = 50


def _keep_alnum(chars: str) -> list[str]:
    return [c.lower() for c in chars if c.isascii() and c.isalnum()]


def name_initials(name: str) -> str:
    """姓名拼音首字母: ``'张三丰'`` → ``'zsf'``; ``'乙一A'`` → ``'yya'``."""
    letters = lazy_pinyin(name or "", style=Style.FIRST_LETTER, errors=_keep_alnum)
    return "".join(letters).lower()[:INITIALS_MAX_LENGTH]
