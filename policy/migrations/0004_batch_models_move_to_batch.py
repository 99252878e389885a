"""BatchRun and BatchChunk now belong to the batch app (tables unchanged): drop them from policy's state."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("policy", "0003_langfang_average_pension_statistics"),
        ("batch", "0001_initial"),
        ("contributions", "0005_run_references_batch_app"),
        ("funds", "0012_run_references_batch_app"),
        ("benefits", "0004_run_references_batch_app"),
        ("claims", "0006_run_references_batch_app"),
        ("retirement", "0002_run_references_batch_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel("BatchChunk"), migrations.DeleteModel("BatchRun")],
        ),
    ]
