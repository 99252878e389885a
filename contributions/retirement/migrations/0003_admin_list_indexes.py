# Indexes behind the admin lists' default orders and filters (issue #13 item 1).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('retirement', '0002_run_references_batch_app'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='retirementclearancecase',
            index=models.Index(fields=['-opened_on', '-id'], name='clearance_opened'),
        ),
    ]
