# Indexes behind the admin lists' default orders and filters (issue #13 item 1).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('claims', '0006_run_references_batch_app'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='settlementfile',
            index=models.Index(fields=['-created_at', '-id'], name='settlement_file_created'),
        ),
    ]
