"""On PostgreSQL, a person's enrolment spans may never overlap (exclusion constraint).

Other databases rely on ``enrollment.services.span_validate``.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE enrollment_enrolmentspan ADD CONSTRAINT span_no_overlap
  EXCLUDE USING gist (person_id WITH =, daterange(start, "end", '[)') WITH &&);
"""
DROP = "ALTER TABLE enrollment_enrolmentspan DROP CONSTRAINT IF EXISTS span_no_overlap;"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
