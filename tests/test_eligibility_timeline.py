"""The persisted eligibility timeline (待遇享受状态), its "why" page and the claim check.

Expected periods are worked out by hand from the langfang seed:
* 第二十二条 + D-X3: a new employee is covered once 3 contribution months are paid, from the 1st
  of the month after the third (2024-03, 04, 05 paid on the 20th → covered from 2024-06-01);
* 第二十三条 (suspension_start day_after_due, D-X5, D-X18): 2024-07 unpaid after its due date
  (contribution.due_day 25, 第十八条) → suspended from 2024-07-26;
* 第二十三条: arrears of 2 months (≤ 3) made up on 2024-09-05 → the arrears period is covered again.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from benefits.models import EligibilityPeriod, EligibilityState
from benefits.selectors import claim_allowed, status_on
from benefits.services import eligibility_refresh
from contributions.models import MonthlyDue
from contributions.selectors import payment_years
from enrollment import services
from enrollment.models import LifeEvent
from operations.demo.population import credit_code, id_number
from policy.resolver import PolicyMissing
from tests.policy_support import staff_enter

pytestmark = pytest.mark.django_db


def langfang_employee(n: int = 1, *, hired: date = date(2024, 3, 1)):
    employer = services.employer_register(
        credit_code=credit_code("131002", 900 + n),
        name=f"廊坊测试单位{n}",
        jurisdiction="langfang",
        registered_on=date(2020, 1, 1),
    )
    person = services.person_register(id_number=id_number("131002", date(1985, 1, n), 1, True), name=f"测试{n}")
    services.life_event_record(
        person=person, kind="hire", occurred_on=hired, jurisdiction="langfang", employer=employer
    )
    return person, employer


def add_dues(person, employer, paid: dict[str, date | None], jurisdiction_id=None) -> None:
    """One MonthlyDue per month given ('2024-03': settled_on or None); placeholder amounts (eligibility reads dates)."""
    jid = jurisdiction_id or employer.jurisdiction_id
    rows = []
    for label, settled in paid.items():
        y, m = map(int, label.split("-"))
        month = date(y, m, 1)
        rows.append(
            MonthlyDue(
                person=person,
                employer=employer,
                jurisdiction_id=jid,
                month=month,
                category="employee",
                base=Decimal("7000"),
                employer_amount=Decimal("420"),
                individual_amount=Decimal("140"),
                personal_account_amount=Decimal("140"),
                pool_amount=Decimal("420"),
                total=Decimal("560"),
                due_date=month.replace(day=25),
                paid_principal=Decimal("560") if settled else Decimal(0),
                settled_on=settled,
                created_at=timezone.now(),
            )
        )
    MonthlyDue.objects.bulk_create(rows)


def periods(person) -> list[tuple]:
    return list(EligibilityPeriod.objects.filter(person=person).order_by("start").values_list("start", "end", "status"))


def test_new_employee_waits_three_paid_months_then_covered():
    person, employer = langfang_employee()
    add_dues(person, employer, {f"2024-{m:02d}": date(2024, m, 20) for m in range(3, 9)})
    counts = eligibility_refresh([person.pk], date(2024, 9, 10))
    assert counts["eligibility.changed"] == 1
    # langfang 第二十二条, D-X3: 03, 04, 05 paid → covered from 2024-06-01
    assert periods(person) == [
        (date(2024, 3, 1), date(2024, 6, 1), "waiting"),
        (date(2024, 6, 1), None, "covered"),
    ]
    waiting = status_on(person, date(2024, 5, 31))
    assert waiting.status == "waiting" and "langfang 第二十二条" in waiting.citation
    assert waiting.facts["已到账月数"] == 6 and waiting.facts["人员类别"] == "在职职工"
    assert status_on(person, date(2024, 6, 1)).status == "covered"
    # the same facts again: nothing is written
    again = eligibility_refresh([person.pk], date(2024, 9, 10))
    assert again["eligibility.changed"] == 0 and again["eligibility.unchanged"] == 1
    assert again["eligibility.periods_written"] == 0


def test_arrears_suspend_from_day_after_due_and_make_up_within_3_months_is_retroactive():
    person, employer = langfang_employee(2)
    paid = {f"2024-{m:02d}": date(2024, m, 20) for m in range(3, 7)}
    paid.update({"2024-07": None, "2024-08": None})
    add_dues(person, employer, paid)
    eligibility_refresh([person.pk], date(2024, 9, 10))
    # 2024-07 unpaid past 07-25 → suspended from the day after, 2024-07-26 (langfang 第二十三条; D-X5; D-X18)
    assert status_on(person, date(2024, 7, 25)).status == "covered"
    assert status_on(person, date(2024, 7, 26)).status == "suspended"
    suspended = status_on(person, date(2024, 8, 15))
    assert suspended.status == "suspended" and "2024-07" in suspended.reason
    ok, why = claim_allowed(person, date(2024, 8, 15))
    assert not ok and "暂停" in why
    # 2 months made up on 2024-09-05 (≤ 3, 第二十三条): the arrears period is covered again
    MonthlyDue.objects.filter(person=person, settled_on__isnull=True).update(settled_on=date(2024, 9, 5))
    counts = eligibility_refresh([person.pk], date(2024, 9, 10))
    assert counts["eligibility.changed"] == 1
    assert status_on(person, date(2024, 8, 15)).status == "covered"
    assert claim_allowed(person, date(2024, 8, 15))[0]


def test_before_any_span_and_missing_policy_are_explained():
    person, employer = langfang_employee(3)
    add_dues(person, employer, {"2024-03": date(2024, 3, 20)})
    eligibility_refresh([person.pk], date(2024, 4, 10))
    assert status_on(person, date(2024, 2, 1)).status == "none"
    # xianning's documents give no waiting-period rule: the state says so, nothing is invented (D-X16)
    other = services.person_register(id_number=id_number("421202", date(1980, 2, 2), 3, True), name="咸宁测试")
    services.span_open(person=other, jurisdiction="xianning", category="flexible", start=date(2024, 1, 1))
    counts = eligibility_refresh([other.pk], date(2024, 4, 10))
    assert counts["eligibility.errors_changed"] == 1
    state = EligibilityState.objects.get(person=other)
    assert "eligibility." in state.error and "xianning" in state.error
    assert "无法计算" in status_on(other, date(2024, 3, 1)).reason


def test_why_page_shows_rule_and_facts_in_chinese(client):
    person, employer = langfang_employee(4)
    paid = {f"2024-{m:02d}": date(2024, m, 20) for m in range(3, 7)}
    paid.update({"2024-07": None, "2024-08": None})
    add_dues(person, employer, paid)
    eligibility_refresh([person.pk], date(2024, 9, 10))
    admin = get_user_model().objects.create_superuser("boss", "b@example.com", "pw-123456")
    client.force_login(admin)
    page = client.get(f"/admin/benefits/eligibilityperiod/person/{person.pk}/?day=2024-08-15")
    assert page.status_code == 200
    html = page.content.decode()
    assert "暂停享受待遇" in html and "langfang 第二十三条" in html and "未缴月份" in html
    listing = client.get(f"/admin/benefits/eligibilityperiod/?person__id__exact={person.pk}")
    assert listing.status_code == 200 and "等待期" in listing.content.decode()


def test_payment_years_by_kind(fresh_policy):
    person, employer = langfang_employee(5)
    add_dues(person, employer, {f"2024-{m:02d}": date(2024, m, 20) for m in range(3, 9)} | {"2024-09": None})
    services.life_event_record(
        person=person, kind="deemed_months", occurred_on=date(2024, 3, 1), jurisdiction="langfang", months=100
    )
    services.life_event_record(
        person=person, kind="military_months", occurred_on=date(2024, 3, 1), jurisdiction="langfang", months=24
    )
    LifeEvent.objects.create(
        person=person,
        kind="transfer_in",
        occurred_on=date(2024, 3, 1),
        jurisdiction_id=employer.jurisdiction_id,
        months=36,
    )
    # langfang 第三十条 gives no date for deemed years (D-L14): counted only once staff enter the cut-off
    with pytest.raises(PolicyMissing) as missing:
        payment_years(person, date(2024, 10, 1))
    assert missing.value.key == "retirement.deemed_cutoff" and missing.value.jurisdiction == "langfang"
    staff_enter(
        "langfang",
        {"retirement.deemed_cutoff": "1995-01-01"},
        effective_from=date(2024, 1, 1),
        document="经办录入（测试假设值，并非政策）",
    )
    years = payment_years(person, date(2024, 10, 1))
    # langfang 第三十条, 第三十三条: 100 deemed + 6 local paid + 36 transferred (actual, not local)
    # + 24 military (deemed) = 166
    assert years.kinds["local_months"] == 6
    assert years.counted.cumulative == 166
    assert years.counted.local == 6


def _employee(code: str, region: str, n: int, hired: date):
    employer = services.employer_register(
        credit_code=credit_code(region, 950 + n),
        name=f"离职测试单位{n}",
        jurisdiction=code,
        registered_on=date(2020, 1, 1),
    )
    person = services.person_register(id_number=id_number(region, date(1986, 2, n), 1, True), name=f"离职{n}")
    services.life_event_record(person=person, kind="hire", occurred_on=hired, jurisdiction=code, employer=employer)
    return person, employer


@pytest.mark.parametrize(
    "code, region, covered_to",
    [
        # sanmenxia 第十六条 "次月起…停止其享受职工基本医疗保险待遇": the separation month stays covered
        ("sanmenxia", "411202", date(2024, 4, 30)),
        # langfang: no such rule — cover ends with the span (the separation day is its last day)
        ("langfang", "131002", date(2024, 4, 15)),
    ],
)
def test_cover_after_a_separation(code, region, covered_to):
    person, employer = _employee(code, region, 1 if code == "sanmenxia" else 2, date(2024, 1, 1))
    add_dues(person, employer, {f"2024-{m:02d}": date(2024, m, 10) for m in range(1, 5)})
    span = services.current_span(person, date(2024, 4, 1))
    services.span_close(span=span, end=date(2024, 4, 16))  # separated on 2024-04-15 (the end is exclusive)
    eligibility_refresh([person.pk], date(2024, 5, 10))
    assert status_on(person, date(2024, 4, 15)).status == "covered"
    assert status_on(person, covered_to).status == "covered"
    after = covered_to + timedelta(days=1)
    assert status_on(person, after).status == "none", status_on(person, after)
