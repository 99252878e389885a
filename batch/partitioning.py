"""The big tables partitioned by year (PostgreSQL declarative partitioning; SQLite keeps plain tables).

:data:`PARTITIONED` names them and their partition key (a NOT NULL date column). :func:`partition_by_year`
rebuilds one as ``PARTITION BY RANGE (key)``: a partition ``<table>_y<YYYY>`` per year, one ``<table>_default``
for every other date, the primary key ``(id, key)``, and, read from the catalog before the rebuild, every index,
CHECK, UNIQUE and outbound FOREIGN KEY constraint and trigger, the identity continued from the old sequence,
the old storage options (fillfactor …) on every partition. A unique column that does not contain the key cannot
be a unique index of a partitioned table: ``global_unique`` keeps it unique through a narrow key table
``<table>_<column>_key`` that triggers keep in step (see :func:`_global_unique_sql`).

Foreign keys *into* a partitioned table would need a unique key on ``id`` alone, which it cannot have: the
referencing fields are ``db_constraint=False`` (the ORM's ``on_delete`` still protects and cascades).

:func:`ensure_year_partitions` adds a missing year (moving its rows out of the DEFAULT partition: detach,
create, move, attach, in one transaction); :func:`ensure_current_partitions` does it for this year and the next
on every partitioned table (the nightly run calls it before its work, the generators before theirs).
:func:`detach_year` detaches a year for archiving (docs/scale.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction

# table → partition key (a NOT NULL date column)
PARTITIONED: dict[str, str] = {
    "contributions_monthlydue": "month",
    "funds_posting": "effective_on",
    "benefits_eligibilityperiod": "start",
    "claims_claim": "start_date",
}


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _one(cur, sql: str, params=None):
    cur.execute(sql, params)
    row = cur.fetchone()
    return row[0] if row else None


def is_partitioned(table: str, conn=None) -> bool:
    conn = conn or connection
    if conn.vendor != "postgresql":
        return False
    with conn.cursor() as cur:
        return bool(_one(cur, "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table]))


#: a year before the first one holding this share of the busiest year's rows goes to the early partition
SPARSE_SHARE = 0.10


def partition_name(table: str, year: int | None) -> str:
    return f"{table}_default" if year is None else f"{table}_y{year}"


def early_name(table: str) -> str:
    """The partition of the sparse years before the first year of its own (``FROM (MINVALUE) TO (…)``)."""
    return f"{table}_early"


def year_partitions(table: str) -> dict[int | None, str]:
    """The table's partitions: year → name (``None``: the DEFAULT partition); empty unless partitioned."""
    if not is_partitioned(table):
        return {}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
            [table],
        )
        out: dict[int | None, str] = {}
        for name, bound in cur.fetchall():
            if bound == "DEFAULT":
                out[None] = name
            elif name.startswith(f"{table}_y") and name[len(table) + 2 :].isdigit():
                out[int(name[len(table) + 2 :])] = name
        return out


def early_bound(table: str) -> int | None:
    """The first year not in TABLE's early partition (``None``: it has none)."""
    with connection.cursor() as cur:
        bound = _one(
            cur, "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = to_regclass(%s)", [early_name(table)]
        )
    return int(bound.split("TO ('")[1][:4]) if bound else None


def _bounds(year: int) -> str:
    return f"FOR VALUES FROM ('{year:04d}-01-01') TO ('{year + 1:04d}-01-01')"


def _storage(cur, table: str) -> str:
    """``WITH (…)`` of the storage options a new partition takes (those of the DEFAULT partition)."""
    opts = _one(cur, "SELECT reloptions FROM pg_class WHERE oid = to_regclass(%s)", [partition_name(table, None)])
    return f" WITH ({', '.join(opts)})" if opts else ""


def _catalog(cur, table: str) -> dict:
    """What the rebuild recreates, read from the catalog before the old table goes."""
    cur.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid), conindid FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype IN ('c', 'f', 'u', 'x') ORDER BY contype, conname",
        [table],
    )
    constraints = cur.fetchall()
    backing = {c[3] for c in constraints if c[3]}
    cur.execute(
        "SELECT i.indexrelid, c.relname, pg_get_indexdef(i.indexrelid), i.indisunique FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass(%s) AND NOT i.indisprimary "
        "ORDER BY c.relname",
        [table],
    )
    indexes = [(name, sql, unique) for oid, name, sql, unique in cur.fetchall() if oid not in backing]
    cur.execute(
        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
        "WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal AND tgparentid = 0 ORDER BY tgname",
        [table],
    )
    triggers = cur.fetchall()
    cur.execute(
        "SELECT a.attname, a.attidentity FROM pg_attribute a WHERE a.attrelid = to_regclass(%s) "
        "AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> ''",
        [table],
    )
    identity = cur.fetchall()
    sequences = {}
    for column, _kind in identity:
        seq = _one(cur, "SELECT pg_get_serial_sequence(%s, %s)", [table, column])
        cur.execute(f"SELECT last_value, is_called FROM {seq}")
        last, called = cur.fetchone()
        sequences[column] = last if called else last - 1
    # partitions' options (fillfactor …): the plain table's own, or an existing DEFAULT partition's
    options = _one(cur, "SELECT reloptions FROM pg_class WHERE oid = to_regclass(%s)", [table]) or _one(
        cur, "SELECT reloptions FROM pg_class WHERE oid = to_regclass(%s)", [partition_name(table, None)]
    )
    cur.execute(
        "SELECT a.attname FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
        "AND a.attnum = ANY (c.conkey) WHERE c.conrelid = to_regclass(%s) AND c.contype = 'p' ORDER BY a.attnum",
        [table],
    )
    pk = [r[0] for r in cur.fetchall()]
    return {
        "constraints": constraints,
        "indexes": indexes,
        "triggers": triggers,
        "identity": identity,
        "sequences": sequences,
        "options": list(options or []),
        "pk": pk,
    }


def _inbound(cur, table: str) -> list[str]:
    cur.execute(
        "SELECT conrelid::regclass::text || '.' || conname FROM pg_constraint "
        "WHERE confrelid = to_regclass(%s) AND contype = 'f' AND conrelid <> confrelid",
        [table],
    )
    return [r[0] for r in cur.fetchall()]


def _global_unique_sql(table: str, column: str) -> list[str]:
    """A key table ``<table>_<column>_key (column PRIMARY KEY, id)`` kept in step by triggers: statement triggers
    for INSERT, DELETE and TRUNCATE, a row trigger for an UPDATE of the column (:func:`key_update_sql`).

    A duplicate value fails the statement that writes it with a unique violation, as the unique index did;
    a TRUNCATE of the table empties the key table too.
    """
    keys, fn = f"{table}_{column}_key", f"{table}_{column}_key_sync"
    c = _q(column)
    return [
        f"CREATE TABLE {keys} ({c} varchar(255) PRIMARY KEY, id bigint NOT NULL)",
        f"INSERT INTO {keys} ({c}, id) SELECT {c}, id FROM {table} WHERE {c} IS NOT NULL",
        f"""CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'TRUNCATE' THEN
            TRUNCATE {keys};
          ELSIF TG_OP = 'INSERT' THEN
            INSERT INTO {keys} ({c}, id) SELECT {c}, id FROM new_rows WHERE {c} IS NOT NULL;
          ELSIF TG_OP = 'DELETE' THEN
            DELETE FROM {keys} k USING old_rows o WHERE k.{c} = o.{c} AND k.id = o.id;
          ELSE
            DELETE FROM {keys} k USING old_rows o JOIN new_rows n ON n.id = o.id
              WHERE k.{c} = o.{c} AND k.id = o.id AND n.{c} IS DISTINCT FROM o.{c};
            INSERT INTO {keys} ({c}, id) SELECT n.{c}, n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
              WHERE n.{c} IS NOT NULL AND n.{c} IS DISTINCT FROM o.{c};
          END IF;
          RETURN NULL;
        END $$""",
        f"CREATE TRIGGER {keys}_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
        *key_update_sql(table, column),
        f"CREATE TRIGGER {keys}_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
        f"CREATE TRIGGER {keys}_truncate AFTER TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
    ]


def key_update_sql(table: str, column: str) -> list[str]:
    """The key table's UPDATE trigger: a row trigger firing only where the column changes.

    Not a statement trigger with transition tables: those would copy every updated row, whole, into two
    tuple stores on every UPDATE of the table (a bulk run writing its results to 100,000 claims spent
    ~1 s per 20,000 rows there) to find the few rows whose key changed. BEFORE, not AFTER: a row moving to
    another year's partition fires the BEFORE UPDATE row triggers of its old partition (and then DELETE and
    INSERT ones, not AFTER UPDATE). A key taken by another row fails that row's UPDATE with a unique
    violation, as a plain unique index does (so does a swap of two keys in one statement).
    """
    keys, fn = f"{table}_{column}_key", f"{table}_{column}_key_row"
    c = _q(column)
    return [
        f"""CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          DELETE FROM {keys} k WHERE k.{c} = OLD.{c} AND k.id = OLD.id;
          IF NEW.{c} IS NOT NULL THEN
            INSERT INTO {keys} ({c}, id) VALUES (NEW.{c}, NEW.id);
          END IF;
          RETURN NEW;
        END $$""",
        f"CREATE TRIGGER {keys}_update BEFORE UPDATE OF {c} ON {table} FOR EACH ROW "
        f"WHEN (OLD.{c} IS DISTINCT FROM NEW.{c}) EXECUTE FUNCTION {fn}()",
    ]


def key_update_by_row(table: str, column: str, *, forwards: bool = True) -> None:
    """Migrate a partitioned table's key-table UPDATE trigger to the row trigger of :func:`key_update_sql`
    (``forwards=False``: back to the statement trigger). No-op unless the table is partitioned."""
    if connection.vendor != "postgresql" or not is_partitioned(table):
        return
    keys, fn = f"{table}_{column}_key", f"{table}_{column}_key_sync"
    with connection.cursor() as cur:
        cur.execute(f"DROP TRIGGER IF EXISTS {keys}_update ON {table}")
        if forwards:
            for sql in key_update_sql(table, column):
                cur.execute(sql)
        else:
            cur.execute(
                f"CREATE TRIGGER {keys}_update AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows "
                f"NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
            )
            cur.execute(f"DROP FUNCTION IF EXISTS {table}_{column}_key_row()")


def data_years(table: str, key: str) -> dict[int, int]:
    """Rows per year of KEY in TABLE."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT EXTRACT(YEAR FROM {_q(key)})::int, count(*) FROM {table} GROUP BY 1 ORDER BY 1")
        return dict(cur.fetchall())


def plan_years(counts: dict[int, int], this: int) -> tuple[list[int], int | None]:
    """The years that get a partition of their own, and the bound of the early partition (``None``: none).

    Every year from the first one holding at least :data:`SPARSE_SHARE` of the busiest year's rows up to next
    year gets its own partition; the sparse years before it share the early partition (a person's lookup probes
    every partition's index, so a long thin tail of old years would cost every lookup a probe per year).
    """
    busiest = max(counts.values(), default=0)
    dense = [y for y, n in sorted(counts.items()) if n >= busiest * SPARSE_SHARE and y <= this + 1]
    first = min(dense[0] if dense else this, this)
    early = first if any(y < first for y in counts) else None
    return list(range(first, this + 2)), early


def _rebuild(
    table: str, key: str | None, years: Iterable[int], global_unique: Iterable[str], early: int | None = None
) -> None:
    """Rebuild TABLE partitioned by year on KEY (``key=None``: back to a plain table), keeping everything."""
    global_unique = tuple(global_unique)
    with connection.cursor() as cur:
        inbound = _inbound(cur, table)
        if inbound:
            raise RuntimeError(
                f"{table}: foreign keys point at it ({', '.join(inbound)}); make them db_constraint=False"
            )
        cat = _catalog(cur, table)
        pk = [c for c in cat["pk"] if c != PARTITIONED[table]] + ([key] if key else [])
        if key is None:  # back to plain: the key tables go (their columns become unique constraints again)
            for column in global_unique:
                keys = f"{table}_{column}_key"
                cat["triggers"] = [t for t in cat["triggers"] if not t[0].startswith(f"{keys}_")]
                cur.execute(f"DROP TABLE IF EXISTS {keys}")
        old = f"{table}__rebuild"
        cur.execute(f"ALTER TABLE {table} RENAME TO {old}")
        like = (
            f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE "
            f"INCLUDING COMMENTS INCLUDING COMPRESSION)"
        )
        with_options = f" WITH ({', '.join(cat['options'])})" if cat["options"] else ""
        if key is None:
            cur.execute(like + with_options)
        else:
            cur.execute(f"{like} PARTITION BY RANGE ({_q(key)})")
            for year in sorted(set(years)):
                cur.execute(
                    f"CREATE TABLE {partition_name(table, year)} PARTITION OF {table} {_bounds(year)}{with_options}"
                )
            if early is not None:
                cur.execute(
                    f"CREATE TABLE {early_name(table)} PARTITION OF {table} "
                    f"FOR VALUES FROM (MINVALUE) TO ('{early:04d}-01-01'){with_options}"
                )
            cur.execute(f"CREATE TABLE {partition_name(table, None)} PARTITION OF {table} DEFAULT{with_options}")
        cur.execute(f"INSERT INTO {table} SELECT * FROM {old}")
        for column, _kind in cat["identity"]:  # the old sequence goes with the old table
            cur.execute(f"ALTER TABLE {old} ALTER COLUMN {_q(column)} DROP IDENTITY")
        cur.execute(f"DROP TABLE {old}")
        cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY ({', '.join(map(_q, pk))})")
        for column, kind in cat["identity"]:
            how = "ALWAYS" if kind == "a" else "BY DEFAULT"
            start = max(cat["sequences"].get(column) or 0, 0) + 1
            cur.execute(
                f"ALTER TABLE {table} ALTER COLUMN {_q(column)} ADD GENERATED {how} AS IDENTITY (START WITH {start})"
            )
        for name, contype, definition, _ in cat["constraints"]:
            if (
                key is not None
                and contype == "u"
                and name.endswith("_key")
                and any(definition == f"UNIQUE ({c})" for c in global_unique)
            ):
                continue  # kept unique by its key table below
            cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_q(name)} {definition}")
        if key is None:
            for column in global_unique:
                cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_key UNIQUE ({_q(column)})")
        for _name, sql, _unique in cat["indexes"]:
            cur.execute(sql.replace(" ON ONLY ", " ON ", 1))  # a partitioned parent's index reads "ON ONLY"
        for _name, sql in cat["triggers"]:
            cur.execute(sql)
        if key is not None:
            for column in global_unique:
                for sql in _global_unique_sql(table, column):
                    cur.execute(sql)
        cur.execute(f"ANALYZE {table}")


def partition_by_year(table: str, key: str, *, years: Iterable[int] = (), global_unique: Iterable[str] = ()) -> None:
    """Rebuild TABLE as ``PARTITION BY RANGE (key)``: a partition per year from the first busy year in the data
    to next year (:func:`plan_years`) and ``years``, the sparse years before in an early partition, and DEFAULT.
    No-op unless PostgreSQL or if it is partitioned already."""
    if connection.vendor != "postgresql" or is_partitioned(table):
        return
    own, early = plan_years(data_years(table, key), date.today().year)
    wanted = {*own, *(y for y in years if early is None or y >= early)}
    with transaction.atomic():
        _rebuild(table, key, wanted, global_unique, early)


def unpartition(table: str, *, global_unique: Iterable[str] = ()) -> None:
    """The reverse of :func:`partition_by_year` (a plain table again, primary key ``id``)."""
    if connection.vendor != "postgresql" or not is_partitioned(table):
        return
    with transaction.atomic():
        _rebuild(table, None, (), global_unique)


def ensure_year_partitions(table: str, years: Iterable[int]) -> list[str]:
    """Create each missing year's partition of TABLE, moving that year's rows out of DEFAULT; the names made.

    Each year in one transaction: the DEFAULT partition is detached, the year's partition created, its rows
    moved from the detached DEFAULT into it, and DEFAULT attached again (attaching re-checks that it holds no
    row of another partition). With no such rows, only the CREATE. No-op unless the table is partitioned.
    """
    have = year_partitions(table)
    if not have:
        return []
    key = PARTITIONED[table]
    made = []
    early = early_bound(table)
    for year in sorted(set(years) - set(have)):
        if early is not None and year < early:
            continue  # in the early partition
        name, default = partition_name(table, year), have.get(None)
        lo, hi = date(year, 1, 1), date(year + 1, 1, 1)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            if _one(cur, "SELECT to_regclass(%s) IS NOT NULL", [name]):
                continue  # made meanwhile by another process
            storage = _storage(cur, table)
            moving = default and _one(
                cur, f"SELECT 1 FROM {default} WHERE {_q(key)} >= %s AND {_q(key)} < %s LIMIT 1", [lo, hi]
            )
            if moving:
                cur.execute(f"ALTER TABLE {table} DETACH PARTITION {default}")
                cur.execute(f"CREATE TABLE {name} PARTITION OF {table} {_bounds(year)}{storage}")
                cur.execute(
                    f"WITH moved AS (DELETE FROM {default} WHERE {_q(key)} >= %s AND {_q(key)} < %s RETURNING *) "
                    f"INSERT INTO {name} SELECT * FROM moved",
                    [lo, hi],
                )
                cur.execute(f"ALTER TABLE {table} ATTACH PARTITION {default} DEFAULT")
            else:
                cur.execute(f"CREATE TABLE {name} PARTITION OF {table} {_bounds(year)}{storage}")
        made.append(name)
    return made


def ensure_current_partitions(today: date | None = None, years: Iterable[int] = ()) -> list[str]:
    """This year's and next year's partitions (and ``years``') on every partitioned table; the names made."""
    if connection.vendor != "postgresql":
        return []
    this = (today or date.today()).year
    wanted = {this, this + 1, *years}
    made = []
    for table in PARTITIONED:
        made += ensure_year_partitions(table, wanted)
    return made


def detach_year(table: str, year: int) -> str:
    """Detach YEAR's partition of TABLE (it stays a plain table of that name, for archiving); its name."""
    name = partition_name(table, year)
    if year not in year_partitions(table):
        raise ValueError(f"{table} has no partition for {year}")
    with connection.cursor() as cur:
        cur.execute(f"ALTER TABLE {table} DETACH PARTITION {name}")
    return name


def migration_operation(table: str, *, global_unique: Iterable[str] = ()):
    """A ``RunPython`` converting TABLE (no-op unless PostgreSQL); reversible."""
    from django.db import migrations

    global_unique = tuple(global_unique)
    key = PARTITIONED[table]

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            partition_by_year(table, key, global_unique=global_unique)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            unpartition(table, global_unique=global_unique)

    return migrations.RunPython(forwards, backwards, elidable=False)
