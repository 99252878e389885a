"""ziyang 第十三条: 断保一年以上不再补缴断保期间基本医疗保险费，原有缴费年限合并计算 — on every path.

The rule (:func:`enrollment.calculations.enrolment_checks.makeup_closed_months`), its set-wise form in the
allocation (:func:`contributions.sql.allocation.dues_close_breaks`), what a case worker sees (the due list's
filter and column, arrears, the manual payment form) and the other jurisdictions left as they were.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from batch.dates import add_months
from contributions import selectors, services
from contributions.models import MonthlyDue, Payment, PaymentAllocation
from enrollment.calculations import enrolment_checks as ec
from policy.models import Jurisdiction
from policy.resolver import Policy

from .test_contributions_engine import Register


def ziyang() -> Policy:
    return Policy("ziyang", date(2025, 1, 1))


CITE = "ziyang 第十三条"


def months(first: date, n: int) -> list[date]:
    return [add_months(first, i) for i in range(n)]


# --- the rule ------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("on", "cutoff"),
    [
        (date(2025, 1, 1), date(2023, 12, 1)),  # exactly 12 months after a break begun 2024-01-01: still payable
        (date(2025, 1, 2), date(2024, 1, 1)),  # 12 months + 1 day: 2024-01 closed
        (date(2024, 12, 31), date(2023, 12, 1)),
        (date(2024, 2, 29), date(2023, 2, 1)),  # leap day
        (date(2024, 3, 1), date(2023, 2, 1)),  # a year after 2023-03-01 (across the leap day): payable
        (date(2024, 3, 2), date(2023, 3, 1)),
    ],
)
def test_cutoff_boundaries(on, cutoff):
    """第十三条 断保一年以上: a break begun on the 1st B is closed on D when D > B + 12 months."""
    assert ec.makeup_closed_before(ziyang(), on) == cutoff


@pytest.mark.django_db
def test_cutoff_agrees_with_the_refusal_day_by_day():
    """The cut-off is :func:`makeup_refusal` read backwards: same answer for every break start and day,
    leap years included (2023-12 … 2025-03)."""
    starts = months(date(2022, 10, 1), 30)
    day = date(2023, 12, 1)
    while day < date(2025, 3, 5):
        cutoff = ec.makeup_closed_before(ziyang(), day)
        for start in starts:
            refused = ec.makeup_refusal(ziyang(), break_start=start, resumed_on=day) is not None
            assert (start <= cutoff) == refused, (start, day)
        day += timedelta(days=1)


@pytest.mark.django_db
def test_jurisdictions_without_the_key_close_nothing():
    for code in ("hunan", "langfang", "sanmenxia"):
        policy = Policy(code, date(2025, 1, 1))
        assert ec.makeup_closed_before(policy, date(2025, 6, 2)) is None
        assert ec.makeup_closed_months(policy, unpaid=months(date(2020, 1, 1), 30), paid=[], on=date(2025, 6, 2)) == []


def test_break_runs_are_cut_by_paid_months_only():
    jan, feb, mar, apr, jun = (date(2024, m, 1) for m in (1, 2, 3, 4, 6))
    assert ec.break_runs([apr, jan, feb], [mar]) == [[jan, feb], [apr]]
    assert ec.break_runs([jan, feb, apr], []) == [[jan, feb, apr]]  # no due in March: one break
    assert ec.break_runs([jan, jun], [mar]) == [[jan], [jun]]
    assert ec.break_runs([], [mar]) == []


@pytest.mark.django_db
def test_closed_months_are_the_old_break_before_the_payment_month():
    """A break begun 2023-11 resumed 2025-01-10: 2023-11 … 2024-12 不再补缴; 2025-01 (续保当月) stays payable."""
    unpaid = months(date(2023, 11, 1), 15)  # 2023-11 … 2025-01
    closed = ec.makeup_closed_months(ziyang(), unpaid=unpaid, paid=[], on=date(2025, 1, 10))
    assert closed == months(date(2023, 11, 1), 14)
    # resumed a day earlier than a year after: nothing closed
    unpaid = months(date(2024, 1, 1), 13)
    assert ec.makeup_closed_months(ziyang(), unpaid=unpaid, paid=[], on=date(2025, 1, 1)) == []
    assert ec.makeup_closed_months(ziyang(), unpaid=unpaid, paid=[], on=date(2025, 1, 2)) == months(
        date(2024, 1, 1), 12
    )


@pytest.mark.django_db
def test_only_the_break_older_than_a_year_is_closed():
    """Two breaks split by a paid month: the older (begun on or before the cut-off) is closed, the later not."""
    old = months(date(2023, 1, 1), 6)  # 2023-01 … 2023-06
    later = months(date(2023, 10, 1), 11)  # 2023-10 … 2024-08
    on = date(2024, 9, 15)  # cut-off 2023-09-01
    closed = ec.makeup_closed_months(ziyang(), unpaid=old + later, paid=[date(2023, 7, 1)], on=on)
    assert closed == old
    # begun on the cut-off itself: closed
    edge = months(date(2023, 9, 1), 12)
    assert ec.makeup_closed_months(ziyang(), unpaid=edge, paid=[], on=on) == edge


# --- applied set-wise -----------------------------------------------------------------------------------


def _person_with_dues(code: str, first: date, n: int, total: str = "100.00"):
    reg = Register()
    person = reg.person(code, category="flexible", start=date(2020, 1, 1))
    jur = Jurisdiction.objects.get(code=code)
    now = timezone.now()
    MonthlyDue.objects.bulk_create(
        MonthlyDue(
            person=person,
            jurisdiction=jur,
            month=m,
            category="flexible",
            base=Decimal("5000"),
            employer_amount=Decimal(0),
            individual_amount=Decimal(total),
            personal_account_amount=Decimal(0),
            pool_amount=Decimal(total),
            total=Decimal(total),
            due_date=m.replace(day=25),
            late_fee=Decimal("3.00"),
            created_at=now,
        )
        for m in months(first, n)
    )
    return person


@pytest.mark.django_db
def test_payment_after_a_break_over_a_year_pays_only_the_resumption(db):
    """资阳 第十三条: dues 2024-01 … 2025-02 unpaid, 250.00 paid on 2025-02-10 (break begun 2024-01-01 ended
    more than 12 months before): 2024-01 … 2025-01 are waived (不再补缴, no arrears, no fee), February is paid
    (100.00 + its fee) and the rest is held."""
    person = _person_with_dues("ziyang", date(2024, 1, 1), 14)
    payment = services.payment_record(person=person, amount=Decimal("250"), paid_on=date(2025, 2, 10), reference="Z1")
    dues = {d.month: d for d in MonthlyDue.objects.filter(person=person)}
    waived = sorted(m for m, d in dues.items() if d.makeup_closed_on is not None)
    assert waived == ec.makeup_closed_months(ziyang(), unpaid=list(dues), paid=[], on=date(2025, 2, 10))
    assert waived == months(date(2024, 1, 1), 13)
    assert {dues[m].makeup_closed_on for m in waived} == {date(2025, 2, 10)}
    assert all(dues[m].late_fee == dues[m].late_fee_paid == 0 and dues[m].settled_on is None for m in waived)
    feb = dues[date(2025, 2, 1)]
    assert feb.settled_on == date(2025, 2, 10) and feb.makeup_closed_on is None
    assert set(PaymentAllocation.objects.filter(payment=payment).values_list("due__month", flat=True)) == {feb.month}
    payment.refresh_from_db()
    assert payment.unapplied_amount == Decimal("250") - feb.paid_principal - feb.late_fee_paid > 0
    # neither arrears nor paid months
    assert not selectors.arrears(date(2025, 6, 1)).filter(person=person).exists()
    assert selectors.months_by_kind([person.pk], date(2025, 6, 1))[person.pk]["local_months"] == 1


@pytest.mark.django_db
def test_a_break_of_exactly_a_year_is_still_made_up(db):
    """Break begun 2024-02-01, payment on 2025-02-01 (exactly 12 months): every month is payable, oldest first."""
    person = _person_with_dues("ziyang", date(2024, 2, 1), 13)
    services.payment_record(person=person, amount=Decimal("250"), paid_on=date(2025, 2, 1), reference="Z2")
    assert not MonthlyDue.objects.filter(person=person, makeup_closed_on__isnull=False).exists()
    first = MonthlyDue.objects.get(person=person, month=date(2024, 2, 1))
    assert first.settled_on == date(2025, 2, 1)
    # one day later the rest of the break (begun 2024-03-01 after February was paid) is 11 months old: payable
    services.payment_record(person=person, amount=Decimal("50"), paid_on=date(2025, 2, 2), reference="Z3")
    assert not MonthlyDue.objects.filter(person=person, makeup_closed_on__isnull=False).exists()


@pytest.mark.django_db
def test_a_break_of_a_year_and_a_day_is_waived(db):
    person = _person_with_dues("ziyang", date(2024, 2, 1), 13)
    services.payment_record(person=person, amount=Decimal("150"), paid_on=date(2025, 2, 2), reference="Z4")
    waived = list(
        MonthlyDue.objects.filter(person=person, makeup_closed_on__isnull=False).values_list("month", flat=True)
    )
    assert waived == months(date(2024, 2, 1), 12)
    assert MonthlyDue.objects.get(person=person, month=date(2025, 2, 1)).settled_on == date(2025, 2, 2)


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["hunan", "langfang"])
def test_other_jurisdictions_still_make_up_old_months(db, code):
    """No ``enrollment.makeup_break_limit_months`` outside ziyang: the payment goes to the oldest month."""
    person = _person_with_dues(code, date(2023, 1, 1), 26)
    services.payment_record(person=person, amount=Decimal("150"), paid_on=date(2025, 3, 10), reference=f"O-{code}")
    assert not MonthlyDue.objects.filter(person=person, makeup_closed_on__isnull=False).exists()
    assert MonthlyDue.objects.get(person=person, month=date(2023, 1, 1)).paid_principal > 0


@pytest.mark.django_db
def test_waived_dues_accrue_no_fee_at_night(db):
    person = _person_with_dues("ziyang", date(2024, 1, 1), 15)
    services.payment_record(person=person, amount=Decimal("100"), paid_on=date(2025, 2, 10), reference="Z5")
    services.arrears_accrue(on=date(2025, 6, 1), jurisdiction="ziyang", in_process=True)
    old = MonthlyDue.objects.filter(person=person, makeup_closed_on__isnull=False)
    assert old.count() == 13 and all(d.late_fee == 0 for d in old)
    march = MonthlyDue.objects.get(person=person, month=date(2025, 3, 1))
    assert march.settled_on is None and march.late_fee > 0  # still owed (续保后欠费), still accrues


# --- what a case worker sees ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_manual_payment_for_a_closed_month_names_the_article(db):
    person = _person_with_dues("ziyang", date(2024, 1, 1), 14)
    with pytest.raises(ValidationError) as err:
        services.payment_record(
            person=person, amount=Decimal("100"), paid_on=date(2025, 2, 10), reference="Z6", for_month=date(2024, 5, 1)
        )
    assert CITE in err.value.message_dict["for_month"][0] and "不再补缴" in err.value.message_dict["for_month"][0]
    assert not Payment.objects.exists()
    # the resumption month itself is accepted
    services.payment_record(
        person=person, amount=Decimal("100"), paid_on=date(2025, 2, 10), reference="Z7", for_month=date(2025, 2, 1)
    )
    # and a month already waived is refused too
    with pytest.raises(ValidationError, match=CITE):
        services.payment_record(
            person=person, amount=Decimal("1"), paid_on=date(2025, 2, 11), reference="Z8", for_month=date(2024, 12, 1)
        )


@pytest.mark.bad_input(area="admin_form", outcome="form_error")
@pytest.mark.django_db
def test_manual_payment_form_refuses_a_closed_month(client, case_worker):
    person = _person_with_dues("ziyang", date(2024, 1, 1), 14)
    client.force_login(case_worker)
    post = {
        "person": person.pk,
        "amount": "100.00",
        "paid_on": "2025-02-10",
        "reference": "F-1",
        "insutype": "310",
        "for_month": "2024-03-01",
    }
    response = client.post(reverse("admin:contributions_payment_add"), post)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert CITE in str(errors.get("for_month")), errors
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_due_list_filter_and_column(client, case_worker):
    person = _person_with_dues("ziyang", date(2024, 1, 1), 14)
    services.payment_record(person=person, amount=Decimal("100"), paid_on=date(2025, 2, 10), reference="Z9")
    client.force_login(case_worker)
    url = reverse("admin:contributions_monthlydue_changelist")
    closed = client.get(url, {"state": "makeup_closed"})
    assert closed.status_code == 200 and closed.context["cl"].result_count == 13
    assert "起不再补缴" in closed.content.decode()
    assert client.get(url, {"state": "open"}).context["cl"].result_count == 0
    assert client.get(url, {"state": "arrears"}).context["cl"].result_count == 0
    due = MonthlyDue.objects.filter(person=person, makeup_closed_on__isnull=False).first()
    page = client.get(reverse("admin:contributions_monthlydue_change", args=[due.pk]))
    assert page.status_code == 200 and "资阳 第十三条" in page.content.decode()


@pytest.mark.django_db
def test_eligibility_after_a_waived_break_is_a_new_waiting_period(db):
    """第十三条: 断保…从重新续保缴费当月起6个月后开始享受; 待遇不追溯. Dues 2024-01 … 2025-09, 800.00 paid on
    2025-02-10: 2024-01 … 2025-01 waived, 2025-02 … 2025-09 paid. The break is not covered, the months after
    the resumption wait (6 months from the payment month), then the person is covered again."""
    from benefits.selectors import status_on
    from benefits.services import eligibility_refresh

    person = _person_with_dues("ziyang", date(2024, 1, 1), 21)
    services.payment_record(person=person, amount=Decimal("800"), paid_on=date(2025, 2, 10), reference="E1")
    assert MonthlyDue.objects.filter(person=person, makeup_closed_on__isnull=False).count() == 13
    assert MonthlyDue.objects.filter(person=person, settled_on__isnull=False).count() == 8
    eligibility_refresh([person.pk], date(2025, 9, 1))
    gap = status_on(person, date(2024, 6, 15))
    assert gap.status == "none" and "中断期间未补缴" in gap.reason  # 中断期间待遇不追溯
    assert status_on(person, date(2025, 1, 31)).status == "none"
    waiting = status_on(person, date(2025, 2, 1))
    assert waiting.status == "waiting" and "2025-08-01" in waiting.reason
    assert status_on(person, date(2025, 7, 31)).status == "waiting"
    assert status_on(person, date(2025, 8, 1)).status == "covered"
