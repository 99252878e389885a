# PostgreSQL: the claims' business-key table (claims_claim_business_key_key) kept in step on UPDATE by a row
# trigger firing only where the key changes, instead of a statement trigger copying every updated row into
# transition tables (issue #13 item 4: the bulk run's result UPDATE). No-op on SQLite and on a plain table.

from django.db import migrations


def forwards(apps, schema_editor):
    from batch.partitioning import key_update_by_row

    key_update_by_row("claims_claim", "business_key")


def backwards(apps, schema_editor):
    from batch.partitioning import key_update_by_row

    key_update_by_row("claims_claim", "business_key", forwards=False)


class Migration(migrations.Migration):
    dependencies = [("claims", "0018_claim_claim_source_not_file")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
