# PostgreSQL: the postings (funds_posting) partitioned by year on ``effective_on`` (issue #13 item 5; batch/partitioning.py). SQLite keeps the plain
# table. Years: those in the data, this year and the next, plus a DEFAULT partition; the nightly run adds new years.

from django.db import migrations

from batch.partitioning import migration_operation


class Migration(migrations.Migration):
    dependencies = [("funds", "0019_entry_kinds_after_merge")]

    operations = [migration_operation("funds_posting")]
