"""PostgreSQL: leave room in the dues table's pages so the nightly late-fee update is a HOT update.

``late_fee`` and ``deferred`` are in no index, so with free space on the page PostgreSQL rewrites
the row in place (heap-only tuple) instead of inserting into every index of the table.
"""

from django.db import migrations


def fillfactor(value):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE contributions_monthlydue SET (fillfactor = {value})")

    return apply


class Migration(migrations.Migration):
    dependencies = [("contributions", "0003_drop_base_jurisdiction_index")]

    operations = [migrations.RunPython(fillfactor(80), fillfactor(100))]
