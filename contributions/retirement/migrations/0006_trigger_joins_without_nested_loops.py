# The clearance triggers' UPDATE functions (0004) join the statement's two transition tables on id; planned once
# per session with the row counts of the first call, a nested loop kept from a first UPDATE of no row is
# quadratic in every later one (benefits/0010 says the same of the eligibility triggers). Planned without nested
# loops, the join is a hash join whatever the first call's counts; the functions join no other table.

from django.db import migrations

TABLES = (
    "contributions_monthlydue",
    "enrollment_enrolmentspan",
    "enrollment_lifeevent",
    "enrollment_insuredperson",
    "retirement_retirementclearancecase",
)


def forwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER FUNCTION {table}_clr_update() SET enable_nestloop = off")


def backwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER FUNCTION {table}_clr_update() RESET enable_nestloop")


class Migration(migrations.Migration):
    dependencies = [("retirement", "0005_clearance_place_of_retirement")]

    operations = [migrations.RunPython(forwards, backwards)]
