# The eligibility triggers of dues, spans and life events (0005, 0006) join the UPDATE statement's two
# transition tables on id. PL/pgSQL plans a statement without parameters once per session, with the row counts
# of its first call: a session whose first UPDATE changed no row (a nightly chunk without fees to accrue, a
# payment screen) keeps a nested loop, quadratic in the rows of every later UPDATE (~60 ms a trigger for 350 dues,
# minutes for a 10,000-row allocation). Planned without nested loops, the join is a hash join whatever the first
# call's counts; the functions join no other table (the insert's ON CONFLICT uses its unique index either way).

from django.db import migrations

FUNCTIONS = (
    "contributions_monthlydue_elig_mark",
    "enrollment_enrolmentspan_elig_mark",
    "enrollment_lifeevent_elig_mark",
)


def forwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for fn in FUNCTIONS:
            schema_editor.execute(f"ALTER FUNCTION {fn}() SET enable_nestloop = off")


def backwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for fn in FUNCTIONS:
            schema_editor.execute(f"ALTER FUNCTION {fn}() RESET enable_nestloop")


class Migration(migrations.Migration):
    dependencies = [("benefits", "0009_eligibilitystate_error_filter")]

    operations = [migrations.RunPython(forwards, backwards)]
