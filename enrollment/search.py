"""检索: one box that finds persons and employers from a fragment (issue #19).

What the term looks like decides where it is looked for, each way by an index (pg_trgm GIN on PostgreSQL,
migration 0006; a plain scan on SQLite):

- 4 to 18 digits (an ``X`` may end it): any part of the 身份证号 (``LIKE '%…%'``), and of the 统一社会信用代码;
- Latin letters: the start of the pinyin initials (``zs`` → 张三, 张顺…);
- letters and digits mixed: no person (a 身份证号 has no letter but a final X);
- anything else (Chinese): any part of the name;
- employers: any part of the name, and (4+ letters or digits) any part of the 统一社会信用代码.

Results go through the one scope rule (``visible_to``: an employer user finds only their own people and
employer). A user without the PII permission (审计人员) may look a person up only by the whole 身份证号: a
fragment would let them test digits the masked number hides. At most ``limit`` rows of each kind are read,
unordered in SQL (an ORDER BY would read every match), and sorted here: exact first, then prefix, then name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.db.models import F, Q, QuerySet
from django.db.models.lookups import Contains

from batch.dialect import is_postgres

from .access import can_see_pii
from .models import Employer, InsuredPerson
from .names import SpacedChars, spaced

#: 检索词长度 (input bounds): at least this many digits for an 身份证号 fragment; at most MAX_TERM characters.
MIN_ID_FRAGMENT = 4
MAX_TERM = 50
LIMIT = 50

_DIGITS = re.compile(r"^\d+X?$")
_LETTERS = re.compile(r"^[a-z]+$")
_ALNUM = re.compile(r"^[0-9A-Z]+$")


@dataclass
class SearchResult:
    """What the box found: persons and employers (each at most ``limit``), and a message when refused."""

    term: str
    persons: list[InsuredPerson] = field(default_factory=list)
    employers: list[Employer] = field(default_factory=list)
    message: str = ""
    more_persons: bool = False
    more_employers: bool = False
    how: str = ""


def normalise_term(raw: object) -> str:
    """Full-width to half-width (NFKC), spaces removed; a 身份证号/credit code fragment in upper case."""
    text = unicodedata.normalize("NFKC", "" if raw is None else str(raw))
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc"))


def _person_filter(term: str, *, pii: bool) -> tuple[Q | None, str, str]:
    """(filter on persons, how it was searched, message when refused)."""
    upper, lower = term.upper(), term.lower()
    if _DIGITS.match(upper):
        if len(upper) == 18:
            return Q(id_number=upper), "身份证号", ""
        if not pii:
            return None, "", "无权按身份证号片段查询人员：请输入完整的18位身份证号。"
        if len(upper) < MIN_ID_FRAGMENT:
            return None, "", f"身份证号片段至少 {MIN_ID_FRAGMENT} 位。"
        return Q(id_number__contains=upper), "身份证号片段", ""
    if _LETTERS.match(lower):
        return Q(name_initials__startswith=lower), "姓名拼音首字母", ""
    if _ALNUM.match(upper):
        return None, "", ""  # a credit code fragment: employers only
    found = Q(name__contains=term)
    if len(term) <= 2 and is_postgres():  # no trigram in the fragment: each character a word (SpacedChars)
        found &= Q(Contains(SpacedChars(F("name")), spaced(term)))
    return found, "姓名", ""


def _employer_filter(term: str) -> Q | None:
    """Any part of the name; and, 4+ letters or digits, any part of the 统一社会信用代码."""
    upper = term.upper()
    found = Q(name__contains=term)
    if _ALNUM.match(upper) and len(upper) >= MIN_ID_FRAGMENT:
        found |= Q(credit_code__contains=upper)
    return found


def _rank(term: str, value: str) -> tuple[int, str]:
    return (0 if value == term else 1 if value.startswith(term) else 2, value)


def _first(qs: QuerySet, limit: int) -> tuple[list, bool]:
    rows = list(qs[: limit + 1])
    return rows[:limit], len(rows) > limit


def person_filter(user, raw: object) -> tuple[Q | None, str]:
    """The filter on persons for ``raw`` as the box reads it (``None``: finds no person), and the message
    when the term is refused. Lists and autocomplete apply it to their own scoped queryset."""
    term = normalise_term(raw)
    if len(term) > MAX_TERM:
        return None, f"检索词不能超过 {MAX_TERM} 个字符（实为 {len(term)}）。"
    found, _, message = _person_filter(term, pii=can_see_pii(user))
    return found, message


def employer_filter(raw: object) -> Q | None:
    """The filter on employers for ``raw`` (name fragment or credit code fragment); ``None``: finds none."""
    term = normalise_term(raw)
    return None if len(term) > MAX_TERM else _employer_filter(term)


def search(user, raw: object, *, limit: int = LIMIT) -> SearchResult:
    """Persons and employers matching ``raw``, as the user may see them (scope rule)."""
    term = normalise_term(raw)
    result = SearchResult(term=term)
    if not term:
        return result
    if len(term) > MAX_TERM:
        result.message = f"检索词不能超过 {MAX_TERM} 个字符（实为 {len(term)}）。"
        return result
    found, result.how, result.message = _person_filter(term, pii=can_see_pii(user))
    if found is not None:
        persons = InsuredPerson.objects.visible_to(user).filter(found).order_by()
        result.persons, result.more_persons = _first(persons, limit)
        key = "name" if result.how == "姓名" else "name_initials" if result.how == "姓名拼音首字母" else "id_number"
        probe = term if key == "name" else term.lower() if key == "name_initials" else term.upper()
        result.persons.sort(key=lambda p: (*_rank(probe, getattr(p, key)), p.pk))
    by_employer = _employer_filter(term)
    if by_employer is not None:
        employers = Employer.objects.visible_to(user).filter(by_employer).select_related("jurisdiction").order_by()
        result.employers, result.more_employers = _first(employers, limit)
        result.employers.sort(key=lambda e: (*_rank(term, e.name), e.pk))
    return result
