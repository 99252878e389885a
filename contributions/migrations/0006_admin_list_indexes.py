# Indexes behind the admin lists' default orders and filters (issue #13 item 1).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contributions', '0005_run_references_batch_app'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='backpaymentbill',
            index=models.Index(fields=['-issued_on', '-id'], name='back_payment_bill_issued'),
        ),
        migrations.AddIndex(
            model_name='importjob',
            index=models.Index(fields=['-created_at', '-id'], name='import_job_created'),
        ),
        migrations.AddIndex(
            model_name='monthlydue',
            index=models.Index(fields=['-month', 'person'], name='due_month_desc_person'),
        ),
        migrations.AddIndex(
            model_name='monthlydue',
            index=models.Index(condition=models.Q(('deferred', True)), fields=['-month', 'person'], name='due_deferred_month'),
        ),
        migrations.AddIndex(
            model_name='monthlydue',
            index=models.Index(condition=models.Q(('settled_on__isnull', True)), fields=['-month', 'person'], name='due_unsettled_month'),
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(fields=['person', 'paid_on', 'id'], name='payment_person_paid'),
        ),
        migrations.AddIndex(
            model_name='wagedeclaration',
            index=models.Index(fields=['employer', 'person', '-year'], name='wage_decl_list_order'),
        ),
    ]
