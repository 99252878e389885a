# PostgreSQL: the eligibility periods (benefits_eligibilityperiod) partitioned by year on ``start`` (issue #13 item 5; batch/partitioning.py). SQLite keeps the plain
# table. Years: those in the data, this year and the next, plus a DEFAULT partition; the nightly run adds new years.

from django.db import migrations

from batch.partitioning import migration_operation


class Migration(migrations.Migration):
    dependencies = [("benefits", "0006_due_makeup_closed_trigger")]

    operations = [migration_operation("benefits_eligibilityperiod")]
