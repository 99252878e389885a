"""Fill 姓名拼音首字母 for persons registered before the column existed (in chunks of ids)."""

from django.db import migrations

from enrollment.names import name_initials

CHUNK = 5000


def fill(apps, schema_editor):
    person = apps.get_model("enrollment", "InsuredPerson")
    db = schema_editor.connection.alias
    last = 0
    while True:
        rows = list(person.objects.using(db).filter(pk__gt=last).order_by("pk").values_list("pk", "name")[:CHUNK])
        if not rows:
            return
        changed = [person(pk=pk, name_initials=name_initials(name)) for pk, name in rows]
        person.objects.using(db).bulk_update(changed, ["name_initials"], batch_size=1000)
        last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0005_person_name_initials")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
