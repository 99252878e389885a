# Indexes behind the admin lists' default orders and filters (issue #13 item 1).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enrollment', '0002_span_no_overlap_postgres'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='employer',
            index=models.Index(fields=['name'], name='employer_name'),
        ),
        migrations.AddIndex(
            model_name='enrolmentspan',
            index=models.Index(fields=['person', 'start'], name='span_person_start'),
        ),
        migrations.AddIndex(
            model_name='insuredperson',
            index=models.Index(fields=['name'], name='person_name_prefix', opclasses=['varchar_pattern_ops']),
        ),
        migrations.AddIndex(
            model_name='insuredperson',
            index=models.Index(fields=['female_role', 'id'], name='person_female_role'),
        ),
        migrations.AddIndex(
            model_name='lifeevent',
            index=models.Index(fields=['person', 'occurred_on', 'id'], name='event_person_occurred'),
        ),
    ]
