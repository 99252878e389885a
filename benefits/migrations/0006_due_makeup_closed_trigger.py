# The dues' eligibility trigger (0005) also watches ``makeup_closed_on`` (ziyang 第十三条 不再补缴): a due
# waived as a break too old to make up changes the eligibility inputs (the arrears episode ends).

from django.db import migrations

CHANGES = "benefits_eligibilityinputchange"
DUES = "contributions_monthlydue"
OLD_COLS = ("person_id", "employer_id", "month", "due_date", "settled_on", "deferred")
NEW_COLS = (*OLD_COLS, "makeup_closed_on")


def _pg(cols) -> list[str]:
    differs = "(" + ", ".join(f"n.{c}" for c in cols) + ") IS DISTINCT FROM (" + ", ".join(f"o.{c}" for c in cols) + ")"
    return [
        f"""
        CREATE OR REPLACE FUNCTION {DUES}_elig_mark() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            INSERT INTO {CHANGES} (person_id) SELECT DISTINCT person_id FROM new_rows
            ON CONFLICT DO NOTHING;
          ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO {CHANGES} (person_id) SELECT DISTINCT person_id FROM old_rows
            ON CONFLICT DO NOTHING;
          ELSE
            INSERT INTO {CHANGES} (person_id)
            SELECT n.person_id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE {differs}
            UNION SELECT o.person_id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.person_id <> o.person_id
            ON CONFLICT DO NOTHING;
          END IF;
          RETURN NULL;
        END $$"""
    ]


def _sqlite(cols) -> list[str]:
    def note(person: str) -> str:
        return (
            f"INSERT INTO {CHANGES} (person_id) SELECT {person} "
            f"WHERE NOT EXISTS (SELECT 1 FROM {CHANGES} WHERE person_id = {person});"
        )

    return [
        f"DROP TRIGGER IF EXISTS {DUES}_elig_update",
        f"CREATE TRIGGER {DUES}_elig_update AFTER UPDATE OF {', '.join(cols)} ON {DUES} BEGIN "
        f"{note('NEW.person_id')} {note('OLD.person_id')} END",
    ]


def _run(schema_editor, cols) -> None:
    vendor = schema_editor.connection.vendor
    statements = _pg(cols) if vendor == "postgresql" else _sqlite(cols) if vendor == "sqlite" else []
    for sql in statements:
        schema_editor.execute(sql)


def forwards(apps, schema_editor) -> None:
    _run(schema_editor, NEW_COLS)


def backwards(apps, schema_editor) -> None:
    _run(schema_editor, OLD_COLS)


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0005_eligibility_incremental_nights"),
        ("contributions", "0012_due_makeup_closed_on"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
