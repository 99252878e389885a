"""PostgreSQL: leave room in the balance table's pages so a balance update is a HOT update
(no index write): every posting moves one or two balances."""

from django.db import migrations


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("funds", "0006_entry_triggers")]

    operations = [
        migrations.RunPython(
            _run("ALTER TABLE funds_accountbalance SET (fillfactor = 70)"),
            _run("ALTER TABLE funds_accountbalance RESET (fillfactor)"),
        )
    ]
