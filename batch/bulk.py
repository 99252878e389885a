"""Bulk writes for generated populations and batch jobs: COPY on PostgreSQL, plain batched SQL elsewhere.

- :func:`copy_rows` — rows as tuples into a model's table (generated populations).
- :func:`insert_objects` — INSERT new, unsaved instances of a model (all concrete columns but the id).
- :func:`insert_dicts` — INSERT rows given as ``{attname: value}``, the other columns at their defaults,
  without a model instance per row (a file read straight into its table).
- :func:`update_rows` — UPDATE given columns of existing rows through a temporary table.
- :func:`upsert_rows` — INSERT … ON CONFLICT (key) DO UPDATE through a temporary table.
- :func:`load_instances` — a queryset's rows as saved instances without ``Model.__init__`` per row (the read
  side of a chunk: what it adjudicates and then writes back with :func:`update_rows`).

Django's ``bulk_create``/``bulk_update`` prepare every value through the field
(``get_db_prep_save``) and build one huge parameter list; for a chunk of claims with
their JSON steps that costs more than adjudicating them. Here values go to the
database as they are (psycopg adapts Decimal, date, datetime, int, bool, str) and
JSON is serialised once. All run in the caller's transaction (one per chunk, :mod:`batch.runs`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

from .dialect import is_postgres


def copy_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], *, batch: int = 5000
) -> int:
    """Insert rows (tuples in ``columns`` order, using column names) as fast as the database allows."""
    table = model._meta.db_table
    n = 0
    if is_postgres():
        cols = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cur, cur.connection.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        return n
    by_column = {f.column: f.attname for f in model._meta.concrete_fields}
    buf: list[models.Model] = []
    for row in rows:
        buf.append(model(**{by_column[c]: v for c, v in zip(columns, row, strict=True)}))
        n += 1
        if len(buf) >= batch:
            model.objects.bulk_create(buf)
            buf.clear()
    if buf:
        model.objects.bulk_create(buf)
    return n


_SQL_TYPES = {
    "DecimalField": "numeric(14, 2)",
    "JSONField": "text",
    "DateField": "date",
    "DateTimeField": "timestamp with time zone",
    "ForeignKey": "bigint",
    "PositiveIntegerField": "bigint",
    "PositiveSmallIntegerField": "bigint",
    "BooleanField": "boolean",
    "BigAutoField": "bigint",
}


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused for a bulk step in Python (a settlement file's read, a chunk's
    adjudication): their many new, long-kept containers make it walk the growing heap again and again (measured:
    10–20 % of their CPU). Reference counting still frees everything else at once; cycles left behind are
    collected as usual once it is on again. Results do not depend on it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


#: orjson: dict keys that are not text as text, dates and times handed to Django's encoder (its formats)
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_django_default = DjangoJSONEncoder().default


def json_text(value: Any) -> str:
    """A JSON column's value as the text the database takes: the same JSON as Django's ``DjangoJSONEncoder``
    gives (Decimal, date, datetime, lazy text as it writes them; without its blanks, which a jsonb column does
    not keep), by orjson: a chunk of 5,000 claims' explanation steps in ~30 ms instead of ~115 ms (issue #13)."""
    return orjson.dumps(value, default=_django_default, option=_ORJSON_OPTIONS).decode()


def _converters(fields: Sequence[models.Field]) -> list:
    """One function per field turning a Python value into what the database takes (JSON serialised once)."""
    pg = is_postgres()

    def as_json(value: Any) -> Any:
        return None if value is None else json_text(value)

    out = []
    for f in fields:
        if f.get_internal_type() == "JSONField":
            out.append(as_json)
        elif pg:
            out.append(_same)  # psycopg adapts Decimal, date, datetime, int, bool and str itself
        else:
            out.append(lambda value, f=f: None if value is None else f.get_db_prep_save(value, connection))
    return out


def _same(value: Any) -> Any:
    return value


def _getter(names: Sequence[str], convs: Sequence[Any]):
    """A function giving an object's attributes ``names`` as a list, each through its converter: one
    ``attrgetter`` call for them all, the converter called only where it does something (JSON; every field on
    SQLite) — a result row of a wide model otherwise costs a Python call per column."""
    get = attrgetter(*names)
    work = [(i, conv) for i, conv in enumerate(convs) if conv is not _same]

    def values(obj: Any) -> list[Any]:
        out = list(get(obj)) if len(names) > 1 else [get(obj)]
        for i, conv in work:
            out[i] = conv(out[i])
        return out

    return values


def _load(
    cur, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, analyze: Sequence[str] = ()
) -> None:
    """Rows into TABLE; ``analyze``: the columns a following statement joins by (PostgreSQL: their statistics,
    so the planner joins a few thousand rows by index, not by a scan; only those columns, not the wide JSON
    ones a result table carries)."""
    if is_postgres():  # COPY: one round trip for the whole chunk
        with cur.connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if analyze:
            cur.execute(f"ANALYZE {table} ({', '.join(analyze)})")
    else:
        marks = ", ".join(["%s"] * len(columns))
        cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", list(rows))


def insert_objects(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT unsaved instances (ids are not set on them: read them back by a natural key)."""
    if not objs:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    for obj in objs:  # auto_now(_add) and defaults as Model.save would set them
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                setattr(obj, f.attname, f.pre_save(obj, add=True))
    columns = [connection.ops.quote_name(f.column) for f in fields]
    pairs = list(zip([f.attname for f in fields], _converters(fields), strict=True))
    with connection.cursor() as cur:
        _load(cur, model._meta.db_table, columns, ([conv(getattr(o, name)) for name, conv in pairs] for o in objs))


def insert_dicts(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> int:
    """INSERT rows given as ``{attname: value}``; every other column takes what ``Model(...)`` and ``save``
    would give it (the field's default; ``auto_now``/``auto_now_add``: now), without building instances."""
    if not rows:
        return 0
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    fill: list[tuple[str, bool, Any]] = []  # (attname, call the default per row?, default or callable)
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            fill.append((f.attname, False, now if isinstance(f, models.DateTimeField) else timezone.localdate()))
        elif f.has_default() and callable(f.default):
            fill.append((f.attname, True, f.get_default))
        elif f.has_db_default() and not f.has_default():  # a plain value as the database would give it
            fill.append((f.attname, False, getattr(f.db_default, "value", f.db_default)))
        else:
            fill.append((f.attname, False, f.get_default()))
    columns = [connection.ops.quote_name(f.column) for f in fields]
    convs = _converters(fields)
    # The row every insert starts from: each default converted once (a JSON default such as ``list`` gives the
    # same text every time); only other callable defaults are called per row. A row's own values go over it.
    template: list[Any] = []
    per_row: list[tuple[int, Any, Any]] = []
    for i, ((_name, call, default), conv, f) in enumerate(zip(fill, convs, fields, strict=True)):
        if call and f.get_internal_type() != "JSONField":
            per_row.append((i, default, conv))
            template.append(None)
        else:
            template.append(conv(default() if call else default))
    # a row's value goes straight to its column's place; only the columns whose converter does something
    # (JSON; every column on SQLite) call it
    plain = {name: i for i, ((name, _, _), conv) in enumerate(zip(fill, convs, strict=True)) if conv is _same}
    converted = {name: (i, conv) for i, ((name, _, _), conv) in enumerate(zip(fill, convs, strict=True))}

    def values(row: Mapping[str, Any]) -> list[Any]:
        out = template.copy()
        for i, default, conv in per_row:
            out[i] = conv(default())
        for name, value in row.items():
            i = plain.get(name)
            if i is not None:
                out[i] = value
            elif (at := converted.get(name)) is not None:  # a key that is no column is left out, as before
                out[at[0]] = at[1](value)
        return out

    with connection.cursor() as cur:
        _load(cur, model._meta.db_table, columns, (values(r) for r in rows))
    return len(rows)


def _temp(cur, tmp: str, fields: Sequence[models.Field], key: str = "") -> list[str]:
    pg = is_postgres()
    columns = [f.column for f in fields]
    types = [_SQL_TYPES.get(f.get_internal_type(), "text") for f in fields]
    if not pg:
        types = ["datetime" if t.startswith("timestamp") else t for t in types]
    decl = ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
    cur.execute(f"DROP TABLE IF EXISTS {tmp}")
    cur.execute(f"CREATE TEMPORARY TABLE {tmp} ({key}{decl})")
    return columns


def _assign(column: str, field: models.Field, source: str) -> str:
    if is_postgres() and field.get_internal_type() == "JSONField":
        return f"{column} = {source}.{column}::jsonb"
    return f"{column} = {source}.{column}"


_JOINS = "SELECT set_config('enable_hashjoin', %s, true), set_config('enable_mergejoin', %s, true)"


def update_rows(model: type[models.Model], objs: Sequence[models.Model], names: Sequence[str]) -> None:
    """UPDATE the columns ``names`` of saved instances, set-wise (one UPDATE … FROM a temporary table)."""
    if not objs:
        return
    fields = [model._meta.get_field(f) for f in names]
    table, tmp = model._meta.db_table, f"{model._meta.db_table}_tmp"
    with connection.cursor() as cur:
        columns = _temp(cur, tmp, fields, key="id bigint PRIMARY KEY, ")
        values = _getter(["pk", *(f.attname for f in fields)], [_same, *_converters(fields)])
        _load(cur, tmp, ["id", *columns], map(values, objs), analyze=["id"])
        sets = ", ".join(_assign(c, f, "t") for c, f in zip(columns, fields, strict=True))
        if is_postgres():
            # one primary-key probe per row: with wide rows in the temporary table the planner would rather hash
            # it and read the whole table (a chunk of 5,000 claims: every claim of the year's partition)
            cur.execute(_JOINS, ["off", "off"])
        cur.execute(f"UPDATE {table} SET {sets} FROM {tmp} t WHERE {table}.id = t.id")
        if is_postgres():
            cur.execute(_JOINS, ["on", "on"])
        cur.execute(f"DROP TABLE IF EXISTS {tmp}")


def upsert_rows(
    model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence[Any]], *, conflict: Sequence[str]
) -> None:
    """INSERT rows (values in ``names`` order, Python values) or, on a ``conflict`` key, UPDATE the other columns."""
    if not rows:
        return
    fields = [model._meta.get_field(f) for f in names]
    table, tmp = model._meta.db_table, f"{model._meta.db_table}_up"
    with connection.cursor() as cur:
        columns = _temp(cur, tmp, fields)
        convs = _converters(fields)
        _load(cur, tmp, columns, ([conv(v) for conv, v in zip(convs, row, strict=True)] for row in rows))
        keys = {model._meta.get_field(k).column for k in conflict}
        select = ", ".join(
            f"{c}::jsonb" if is_postgres() and f.get_internal_type() == "JSONField" else c
            for c, f in zip(columns, fields, strict=True)
        )
        sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
        cur.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM {tmp} WHERE true "
            f"ON CONFLICT ({', '.join(sorted(keys))}) DO UPDATE SET {sets}"
        )
        cur.execute(f"DROP TABLE IF EXISTS {tmp}")


def load_instances(queryset: models.QuerySet) -> list[models.Model]:
    """The rows of ``queryset`` (every concrete field, its filters and order) as saved instances, as
    ``list(queryset)`` gives them, without ``Model.__init__`` per row: the values, already converted by the
    fields (``values_list``: JSON decoded, …), go straight into each instance's ``__dict__``. For a chunk of
    wide rows (a claim has 112 columns) ``__init__`` costs more than the query. A model with ``pre_init`` or
    ``post_init`` receivers, or a queryset with ``only``/``defer``, is read the ordinary way.
    """
    model = queryset.model
    if pre_init.has_listeners(model) or post_init.has_listeners(model) or queryset.query.deferred_loading[0]:
        return list(queryset)
    names = [f.attname for f in model._meta.concrete_fields]
    db = queryset.db
    out = []
    for values in queryset.values_list(*names):
        obj = model.__new__(model)
        state = obj.__dict__["_state"] = ModelState()
        state.adding, state.db = False, db
        obj.__dict__.update(zip(names, values, strict=True))
        out.append(obj)
    return out
