"""Validation shared by the payroll and payment imports: row errors, the result of a dry run,
set-wise look-ups and the row helpers (normalise, duplicates, name check)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from batch.dialect import is_postgres
from enrollment.models import InsuredPerson

from .columns import _LABEL

#: Ids per IN (...) query in the validation; rows between two progress reports.
LOOKUP_BATCH = 10_000
PROGRESS_EVERY = 5_000

Progress = Callable[[int], None]

#: 身份证号 errors that would tell an employer user whether a number is registered anywhere: for them
#: both read the same (issue #12 item 9); bureau staff see the precise message.
ID_NOT_FOUND, ID_NOT_HERE = "id_not_found", "id_not_here"
NOT_OUR_EMPLOYEE = "该身份证号不是本单位在册职工，请核对身份证号和缴费年度。"
_PRIVATE_CODES = (ID_NOT_FOUND, ID_NOT_HERE)


def message_for(error: dict[str, Any], *, employer_user: bool) -> str:
    """The message of a stored row error as the reader may see it."""
    if employer_user and error.get("code") in _PRIVATE_CODES:
        return NOT_OUR_EMPLOYEE
    return error["message"]


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str
    code: str = ""  # set for the messages that differ by the reader's role (see :func:`message_for`)

    def as_dict(self) -> dict[str, Any]:
        out = {"row": self.row, "field": self.field, "message": self.message}
        if self.code:
            out["code"] = self.code
        return out


@dataclass
class Validation:
    """The dry run's result: rows ready to write (by row number) and every error found."""

    total: int
    valid: dict[int, dict[str, Any]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})

    def add(self, row: int, field_name: str, message: str, code: str = "") -> None:
        self.errors.append(RowError(row, _LABEL.get(field_name, field_name), message, code))
        self.valid.pop(row, None)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def persons_by_id_number(id_numbers: Iterable[str]) -> dict[str, tuple[int, str]]:
    """身份证号 → (person id, name): one query per :data:`LOOKUP_BATCH` numbers (PostgreSQL: one array)."""
    numbers = sorted(set(id_numbers))
    if is_postgres():
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT id_number, id, name FROM {InsuredPerson._meta.db_table} WHERE id_number = ANY(%s)", [numbers]
            )
            return {number: (pk, name) for number, pk, name in cur.fetchall()}
    found: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(numbers, LOOKUP_BATCH):
        for number, pk, name in InsuredPerson.objects.filter(id_number__in=chunk).values_list(
            "id_number", "id", "name"
        ):
            found[number] = (pk, name)
    return found


def _cells(cells: tuple[Any, ...], index: dict[str, int]) -> dict[str, Any]:
    return {f: (cells[i] if i < len(cells) else None) for f, i in index.items()}


def _normalise(result: Validation, number: int, raw: dict[str, Any], parsers: dict[str, Callable]) -> dict:
    row: dict[str, Any] = {}
    ok = True
    for name, parse in parsers.items():
        try:
            row[name] = parse(raw.get(name))
        except ValueError as exc:
            result.errors.append(RowError(number, _LABEL.get(name, name), str(exc)))
            ok = False
    if ok:
        result.valid[number] = row
    return row


def _duplicates(result: Validation, rows: dict[int, dict[str, Any]], key: Callable, field_name: str, what: str):
    """Reject every occurrence of a key seen on more than one row ("与第 N 行重复")."""
    seen: dict[Any, list[int]] = defaultdict(list)
    for number, row in rows.items():
        k = key(row)
        if k is not None:
            seen[k].append(number)
    for numbers in seen.values():
        if len(numbers) > 1:
            for n in numbers:
                others = "、".join(str(o) for o in numbers if o != n)
                result.add(n, field_name, f"{what}在文件中重复：与第 {others} 行重复，请只保留一行。")


def _keys(*names: str) -> Callable[[dict[str, Any]], tuple | None]:
    """The duplicate key of a row: its values of ``names``, or None when one did not parse."""
    return lambda row: tuple(row[n] for n in names) if all(n in row for n in names) else None


def _check_name(result: Validation, number: int, given: str, registered: str) -> None:
    if given and given.replace(" ", "") != registered.replace(" ", ""):
        # Do not show the registered name: the row may be someone else's person.
        result.add(number, "name", "姓名与参保登记信息不一致，请核对身份证号和姓名。")


def _require(value: Any, message: str) -> Any:
    if value is None:
        raise ValueError(message)
    return value
