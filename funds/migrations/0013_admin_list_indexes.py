# Indexes behind the admin lists' default orders and filters (issue #13 item 1).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('funds', '0012_run_references_batch_app'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='creditsuspension',
            index=models.Index(fields=['-start', '-id'], name='funds_suspension_start'),
        ),
        migrations.AddIndex(
            model_name='reconciliation',
            index=models.Index(fields=['-ran_at', '-id'], name='funds_reconciliation_ran'),
        ),
        migrations.AddIndex(
            model_name='shortfallsettlement',
            index=models.Index(fields=['-paid_on', '-id'], name='funds_shortfall_paid'),
        ),
    ]
