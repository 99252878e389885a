"""The nightly run moved from benefits to operations: stored task and job names follow (data only)."""

from django.db import migrations


def rename(apps, schema_editor, old="benefits.nightly", new="operations.nightly"):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=old).update(task=new)
    apps.get_model("batch", "BatchRun").objects.filter(job=old).update(job=new)


def back(apps, schema_editor):
    rename(apps, schema_editor, old="operations.nightly", new="benefits.nightly")


class Migration(migrations.Migration):
    dependencies = [("benefits", "0002_beat_schedule"), ("policy", "0004_batch_models_move_to_batch")]

    operations = [migrations.RunPython(rename, back)]
