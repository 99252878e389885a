"""Search by any fragment (issue #19): pg_trgm GIN indexes on PostgreSQL; nothing on other databases.

``LIKE '%0517%'`` on 身份证号, ``LIKE '%志%'`` on 姓名, ``LIKE 'zs%'`` on 拼音首字母 and the employer's name and
统一社会信用代码 are answered from these indexes (and ``LIKE '% 刚 志 %'`` on each name's characters, spaced,
for a fragment too short to hold a trigram) (a plain scan elsewhere: SQLite is for small installs).
The indexes are kept out of the models' state so that SQLite never sees a GIN index.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from enrollment.names import SpacedChars

# a one- or two-character name fragment: each character a word (the query's own expression, SpacedChars)
CHARS = "person_name_chars_trgm"
CHARS_EXPRESSION = SpacedChars.template % {"expressions": '"name"'}

INDEXES = (
    ("InsuredPerson", "id_number", "person_id_number_trgm"),
    ("InsuredPerson", "name", "person_name_trgm"),
    ("InsuredPerson", "name_initials", "person_initials_trgm"),
    ("Employer", "name", "employer_name_trgm"),
    ("Employer", "credit_code", "employer_credit_code_trgm"),
)


def _indexes(apps):
    for model, field, name in INDEXES:
        yield apps.get_model("enrollment", model), GinIndex(fields=[field], name=name, opclasses=["gin_trgm_ops"])


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes(apps):
        schema_editor.add_index(model, index)
    table = apps.get_model("enrollment", "InsuredPerson")._meta.db_table
    schema_editor.execute(f'CREATE INDEX "{CHARS}" ON "{table}" USING gin (({CHARS_EXPRESSION}) gin_trgm_ops)')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes(apps):
        schema_editor.remove_index(model, index)
    schema_editor.execute(f'DROP INDEX IF EXISTS "{CHARS}"')


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0006_fill_name_initials")]
    operations = [TrigramExtension(), migrations.RunPython(create, drop)]
