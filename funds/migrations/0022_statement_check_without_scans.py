"""The statement check of new postings (``funds_check_statement_entries``, 0008) probes the ledger by index only.

Its plan is made once per session, at the first INSERT of postings: on a ledger still empty (a new database, a
new year's partition before its statistics) the planner chose a scan of every posting per entry of the statement
— with hash and merge joins already off, a nested loop over ``entries × postings``, growing with every chunk of a
run (a settlement file of 100,000 claims in 40 chunks: 0.7 s per INSERT at the first chunk, 5 s at the last).
Without sequential scans each entry is summed through ``funds_posting``'s ``entry_id`` index, whatever the
statistics. The checks and their messages are unchanged.
"""

from django.db import migrations


def _alter(setting: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return  # the triggers are PostgreSQL's only
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"ALTER FUNCTION funds_check_statement_entries() {setting}")

    return run


class Migration(migrations.Migration):
    dependencies = [("funds", "0021_journalentry_funds_entry_kind_id")]

    operations = [
        migrations.RunPython(_alter("SET enable_seqscan = off"), _alter("RESET enable_seqscan"), elidable=False),
    ]
