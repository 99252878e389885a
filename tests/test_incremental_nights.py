"""Incremental nights (issue #13 item 3): which dates change a timeline, which writes mark a person.

:func:`benefits.calculations.eligibility.next_change` names the next day the date alone can change the answer
of the same inputs (D-X5: an unpaid month falls overdue the day after its due date; langfang 第二十六条: a
deferral lapses the day after it ends; a payment dated ahead is known from its date). The triggers of
migration ``benefits/0005`` note the persons whose inputs change, and only those.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from benefits.calculations.eligibility import ContributionMonth, eligibility_timeline, next_change
from benefits.models import EligibilityInputChange
from contributions.models import MonthlyDue
from enrollment import services
from policy.resolver import Policy, PolicyMissing

pytestmark = pytest.mark.django_db


def test_an_unpaid_month_changes_the_answer_the_day_after_its_due_date():
    """langfang 第十八条 (due the 25th), D-X5: overdue from the 26th; a paid month never changes it."""
    policy = Policy("langfang", date(2024, 9, 10))
    paid = ContributionMonth(date(2024, 8, 1), date(2024, 8, 20))
    unpaid = ContributionMonth(date(2024, 9, 1))
    assert next_change(policy, [paid, unpaid], date(2024, 9, 10)) == date(2024, 9, 26)
    assert next_change(policy, [paid], date(2024, 9, 10)) is None
    # overdue already (the 26th on): nothing more to wait for in that month
    assert next_change(policy, [paid, unpaid], date(2024, 9, 26)) is None
    # a month billed ahead: overdue from the day after its own due date
    assert next_change(policy, [ContributionMonth(date(2024, 10, 1))], date(2024, 9, 26)) == date(2024, 10, 26)


def test_a_payment_dated_ahead_and_a_deferral_ending_are_boundaries():
    policy = Policy("langfang", date(2024, 9, 10))
    ahead = ContributionMonth(date(2024, 8, 1), date(2024, 9, 15))  # known from the 15th
    assert next_change(policy, [ahead], date(2024, 9, 10)) == date(2024, 9, 15)
    deferred = ContributionMonth(date(2024, 7, 1), None, True, date(2024, 9, 14))  # langfang 第二十六条
    assert next_change(policy, [deferred], date(2024, 9, 10)) == date(2024, 9, 15)


def test_without_a_due_day_the_month_decides_on_its_2nd_and_on_the_1st_of_the_next():
    """hunan gives no due day (D-X16): an unpaid month cannot be told overdue from its 2nd to its last day (the
    same missing parameter each day) and is overdue from the 1st of the next month: those two are the boundaries,
    not every day of the month."""
    policy = Policy("hunan", date(2024, 9, 10))
    unpaid = ContributionMonth(date(2024, 9, 1))
    assert next_change(policy, [unpaid], date(2024, 9, 10)) == date(2024, 10, 1)
    assert next_change(policy, [unpaid], date(2024, 9, 2)) == date(2024, 10, 1)
    assert next_change(policy, [unpaid], date(2024, 9, 1)) == date(2024, 9, 2)
    assert next_change(policy, [unpaid], date(2024, 8, 20)) == date(2024, 9, 2)


@pytest.mark.parametrize("code", ["hunan", "sanmenxia"])
def test_the_answer_without_a_due_day_changes_only_on_the_days_next_change_names(code):
    """Day by day over the end of August to October, the timeline of the same months (paid to August, September
    unpaid) read on ``d + 1`` differs from that on ``d`` only where ``next_change`` on ``d`` named a day no later
    than ``d + 1`` (the evaluation date in an error's text aside: it is the state row's 判定依据截至)."""
    months = [ContributionMonth(date(2024, m, 1), date(2024, m, 10)) for m in range(1, 9)]
    months.append(ContributionMonth(date(2024, 9, 1)))

    def answer(day: date):
        try:
            rows = eligibility_timeline(Policy(code, day), category="employee", months=months, as_of=day)
            return [(p.start, p.end, p.status, p.reason) for p in rows]
        except PolicyMissing as exc:
            return ("missing", exc.key, str(exc).replace(day.isoformat(), "…"))

    day, changes = date(2024, 8, 25), []
    while day < date(2024, 10, 5):
        following = day + timedelta(days=1)
        if answer(following) != answer(day):
            changes.append(following)
            nxt = next_change(Policy(code, day), months, day)
            assert nxt is not None and nxt <= following, (day, nxt)
        day = following
    assert changes == [date(2024, 9, 2), date(2024, 10, 1)]


def _due(person, employer, month: date) -> MonthlyDue:
    return MonthlyDue.objects.create(
        person=person,
        employer=employer,
        jurisdiction=employer.jurisdiction,
        month=month,
        category="employee",
        base=Decimal("6000"),
        employer_amount=Decimal("360"),
        individual_amount=Decimal("120"),
        personal_account_amount=Decimal("120"),
        pool_amount=Decimal("360"),
        total=Decimal("480"),
        due_date=month.replace(day=25),
        created_at=timezone.now(),
    )


def marked() -> set[int]:
    return set(EligibilityInputChange.objects.values_list("person_id", flat=True))


def test_the_triggers_mark_the_persons_whose_inputs_change_and_no_other(employer_a, person_factory):
    a, b = person_factory(employer=employer_a), person_factory(employer=employer_a)
    assert marked() == {a.pk, b.pk}  # new spans
    EligibilityInputChange.objects.all().delete()
    due = _due(a, employer_a, date(2024, 9, 1))
    assert marked() == {a.pk}  # a new due
    EligibilityInputChange.objects.all().delete()
    MonthlyDue.objects.filter(pk=due.pk).update(late_fee=Decimal("1.20"))  # not an eligibility input
    assert marked() == set()
    MonthlyDue.objects.filter(pk=due.pk).update(settled_on=date(2024, 9, 20))  # a payment
    assert marked() == {a.pk}
    EligibilityInputChange.objects.all().delete()
    services.life_event_record(
        person=b,
        kind="transfer_in",
        occurred_on=date(2022, 12, 1),
        jurisdiction="hunan",
        months=12,
        other_region="广东省深圳市",
    )
    assert marked() == {b.pk}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_the_note_triggers_join_their_transition_tables_without_nested_loops(employer_a, person_factory):
    """benefits/0010, retirement/0006: a note trigger's join of OLD and NEW rows is planned once per session, with
    the row counts of its first call; a nested loop kept from a first UPDATE of no row would be quadratic in every
    later UPDATE. Every note function joining the two transition tables is planned without nested loops."""
    with connection.cursor() as cur:
        cur.execute(
            """SELECT proname, COALESCE(array_to_string(proconfig, ','), '') FROM pg_proc
               WHERE prosrc LIKE '%%new_rows n JOIN old_rows o%%'
                 AND (proname LIKE '%%\\_elig\\_mark' OR proname LIKE '%%\\_clr\\_update')"""
        )
        functions = dict(cur.fetchall())
    assert {"contributions_monthlydue_elig_mark", "contributions_monthlydue_clr_update"} <= set(functions)
    assert len(functions) == 8, functions
    assert all("enable_nestloop=off" in config for config in functions.values()), functions
    # and they still note the persons of a many-row UPDATE after a first UPDATE of none in the same session
    people = [person_factory(employer=employer_a) for _ in range(12)]
    dues = [_due(p, employer_a, date(2024, 9, 1)).pk for p in people]
    EligibilityInputChange.objects.all().delete()
    assert MonthlyDue.objects.filter(pk__in=[]).update(settled_on=date(2024, 9, 20)) == 0
    assert MonthlyDue.objects.filter(pk__in=dues).update(settled_on=date(2024, 9, 20)) == len(people)
    assert marked() == {p.pk for p in people}
