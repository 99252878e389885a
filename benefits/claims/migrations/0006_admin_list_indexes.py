# Indexes behind the admin lists' default orders and filters (issue #13 item 1).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('claims', '0005_counted_as_inpatient_oth_pay_payer'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='settlementfile',
            index=models.Index(fields=['-created_at', '-id'], name='settlement_file_created'),
        ),
    ]
