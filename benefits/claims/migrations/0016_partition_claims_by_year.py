# PostgreSQL: the claims (claims_claim) partitioned by year on ``start_date`` (issue #13 item 5; batch/partitioning.py). SQLite keeps the plain
# table. Years: those in the data, this year and the next, plus a DEFAULT partition; the nightly run adds new years.

from django.db import migrations

from batch.partitioning import migration_operation


class Migration(migrations.Migration):
    dependencies = [("claims", "0015_foreign_keys_to_partitioned_tables")]

    operations = [migration_operation("claims_claim", global_unique=("business_key",))]
