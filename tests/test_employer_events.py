"""用人单位变动 and 中断缴费期间的费用承担 (issue #14 items 4 and 5), with the articles they apply.

- langfang 第七条 (单位自成立之日起30日内登记), 第八条 (变更、终止之日起30日内);
- langfang 第二十七条, sanmenxia 第二十条, ziyang 第三十六条(五): the successor takes over arrears and late fees;
- hunan 第二十四条, langfang 第二十八条, sanmenxia 第二十条: bankruptcy and closure (settlement, trustee, reserve);
- hunan 第二十条, langfang 第二十三条: who bears the cost of care in an interruption caused by the employer.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from contributions.employer_events import calculations as rules
from contributions.employer_events.calculations import DueFact
from contributions.employer_events.services import closure_reserve_paid, employer_event_apply
from contributions.models import EmployerEvent, EmployerEventDueMove, MonthlyDue
from enrollment import services as enrol
from enrollment.calculations.enrolment_checks import employer_change_deadline, employer_registration_deadline
from enrollment.models import Employer, EnrolmentSpan
from funds.models import AccountKind, JournalEntry
from funds.posting import balance_of, fund_account
from operations.demo.population import credit_code, id_number
from policy.models import Jurisdiction, PolicyParameter, ReferenceStatistic
from policy.resolver import Policy, PolicyMissing, invalidate

pytestmark = pytest.mark.django_db

REGION = {"hunan": "430102", "langfang": "131002", "sanmenxia": "411202", "ziyang": "512002", "xianning": "421202"}
_seq = iter(range(1, 100_000))


def employer(j: str, name: str = "", **kw) -> Employer:
    n = next(_seq)
    kw.setdefault("registered_on", date(2020, 1, 1))
    return enrol.employer_register(
        credit_code=credit_code(REGION[j], 700 + n), name=name or f"单位{n}", jurisdiction=j, **kw
    )


def person(j: str, emp: Employer | None, *, category: str = "employee", start: date = date(2022, 1, 1)):
    n = next(_seq)
    p = enrol.person_register(id_number=id_number(REGION[j], date(1970, 3, 3), n % 500, True), name=f"职工{n}")
    enrol.span_open(person=p, jurisdiction=j, category=category, start=start, employer=emp)
    return p


def due(p, emp, month: date, total: str = "600.00", **kw) -> MonthlyDue:
    amount = D(total)
    return MonthlyDue.objects.create(
        person=p,
        employer=emp,
        jurisdiction=emp.jurisdiction,
        month=month,
        category="employee",
        base=D("5000"),
        employer_amount=amount - D(100),
        individual_amount=D(100),
        personal_account_amount=D(0),
        pool_amount=amount,
        total=amount,
        due_date=date(month.year, month.month, 25),
        created_at=timezone.make_aware(datetime.combine(month, time())),
        **kw,
    )


def stat(j: str, key: str, value: str, on: date) -> None:
    ReferenceStatistic.objects.create(
        jurisdiction=Jurisdiction.objects.get(code=j), key=key, effective_from=on, period_label="测试", value=D(value)
    )
    invalidate()


def param(j: str, key: str, value, on: date) -> None:
    PolicyParameter.objects.create(
        jurisdiction=Jurisdiction.objects.get(code=j), key=key, effective_from=on, value=value, citation="经办人员录入"
    )
    invalidate()


# --- 登记时限 (langfang 第七条、第八条) ------------------------------------------------------------------------


def test_langfang_employer_registration_deadline_is_30_days_from_founding():
    p = Policy("langfang", date(2024, 3, 1))
    assert employer_registration_deadline(p, date(2024, 3, 1)) == date(2024, 3, 31)
    assert employer_registration_deadline(p, date(2024, 2, 1)) == date(2024, 3, 2)  # leap year: 29 days of Feb
    assert employer_change_deadline(p, date(2024, 6, 30)) == date(2024, 7, 30)
    assert rules.days_late(date(2024, 3, 31), date(2024, 3, 31)) == 0
    assert rules.days_late(date(2024, 3, 31), date(2024, 4, 1)) == 1
    assert rules.days_late(date(2024, 3, 31), None) == 0
    assert rules.days_late(None, date(2030, 1, 1)) == 0


def test_hunan_sets_no_employer_registration_deadline():
    assert employer_registration_deadline(Policy("hunan", date(2024, 3, 1)), date(2024, 3, 1)) is None


def test_late_employer_registrations_are_found_by_the_deadline_from_founding(admin_client):
    late = employer("langfang", "逾期单位", founded_on=date(2024, 3, 1), registered_on=date(2024, 4, 1))
    on_time = employer("langfang", "按期单位", founded_on=date(2024, 3, 1), registered_on=date(2024, 3, 31))
    assert late.registration_deadline == on_time.registration_deadline == date(2024, 3, 31)
    found = set(
        Employer.objects.filter(registered_on__gt=models_F("registration_deadline")).values_list("pk", flat=True)
    )
    assert late.pk in found and on_time.pk not in found
    page = admin_client.get("/admin/enrollment/employer/?late_registration=late")
    assert "逾期单位" in page.content.decode() and "按期单位" not in page.content.decode()


def models_F(name):
    from django.db.models import F

    return F(name)


def test_registration_before_founding_is_refused():
    with pytest.raises(ValidationError) as exc:
        employer("langfang", founded_on=date(2024, 3, 1), registered_on=date(2024, 2, 29))
    assert "registered_on" in exc.value.message_dict


# --- 欠费承继 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("j", ["langfang", "sanmenxia", "ziyang"])
def test_successor_takes_arrears_where_the_document_says(j):
    assert rules.successor_takes_arrears(Policy(j, date(2024, 6, 1))) is True


@pytest.mark.parametrize("j", ["hunan", "xianning"])
def test_successor_liability_is_staff_entered_where_silent(j):
    with pytest.raises(PolicyMissing, match=r"employers\.successor_takes_arrears"):
        rules.successor_takes_arrears(Policy(j, date(2024, 6, 1)))


def test_successor_refusals():
    ok = {"predecessor_id": 1, "successor_terminated": False, "same_jurisdiction": True}
    assert rules.successor_refusal(successor_id=2, **ok) is None
    assert "指定" in rules.successor_refusal(successor_id=None, **ok)
    assert "本身" in rules.successor_refusal(successor_id=1, **ok)
    assert "终止" in rules.successor_refusal(successor_id=2, **{**ok, "successor_terminated": True})
    assert "统筹区" in rules.successor_refusal(successor_id=2, **{**ok, "same_jurisdiction": False})


def test_langfang_merger_moves_arrears_late_fees_and_employees_in_one_go():
    # langfang 第二十七条: the successor takes over the predecessor's insurance liability.
    a, b = employer("langfang", "原单位"), employer("langfang", "接收单位")
    p1, p2 = person("langfang", a), person("langfang", a)
    owed = [due(p1, a, date(2024, 1, 1), late_fee=D("9.00")), due(p2, a, date(2024, 2, 1), late_fee=D("3.00"))]
    paid = due(p1, a, date(2023, 12, 1), paid_principal=D("600.00"), settled_on=date(2023, 12, 20))
    fee_only = due(p2, a, date(2023, 11, 1), paid_principal=D("600.00"), settled_on=date(2024, 1, 5), late_fee=D(5))
    event = employer_event_apply(
        employer=a, kind="merger", occurred_on=date(2024, 6, 1), successor=b, as_of=date(2024, 7, 5),
        reported_on=date(2024, 7, 5),
    )  # fmt: skip
    assert event.dues_moved == 3
    assert event.moved_principal == D("1200.00") and event.moved_late_fee == D("17.00")
    assert set(MonthlyDue.objects.filter(employer=b).values_list("pk", flat=True)) == {
        owed[0].pk, owed[1].pk, fee_only.pk
    }  # fmt: skip
    assert MonthlyDue.objects.get(pk=paid.pk).employer_id == a.pk  # a settled month stays where it was paid
    trail = EmployerEventDueMove.objects.filter(event=event)
    assert trail.count() == 3 and set(trail.values_list("from_employer", "to_employer").distinct()) == {(a.pk, b.pk)}
    for p in (p1, p2):
        old, new = EnrolmentSpan.objects.filter(person=p).order_by("start")
        assert (old.employer_id, old.end) == (a.pk, date(2024, 6, 1))
        assert (new.employer_id, new.start, new.end) == (b.pk, date(2024, 6, 1), None)
        assert new.history.filter(history_type="+").exists() and old.history.filter(history_type="~").exists()
    a.refresh_from_db()
    assert a.status == "4"
    assert event.report_deadline == date(2024, 7, 1)  # langfang 第八条: 30 days
    assert "逾期 4 日" in event.rules


def test_the_late_fee_keeps_accruing_under_the_successor():
    from contributions.services import arrears_accrue

    a, b = employer("langfang"), employer("langfang")
    p = person("langfang", a)
    d = due(p, a, date(2024, 1, 1))
    employer_event_apply(employer=a, kind="transfer", occurred_on=date(2024, 3, 1), successor=b, as_of=date(2024, 3, 1))
    arrears_accrue(on=date(2024, 3, 1), jurisdiction="langfang", in_process=True)
    d.refresh_from_db()
    # 600 × 0.05% × (2024-03-01 − 2024-01-25 = 36 days) = 10.80 (D-X14)
    assert (d.employer_id, d.late_fee) == (b.pk, D("10.80"))


def test_split_moves_only_the_persons_named_and_their_arrears():
    a, b = employer("ziyang"), employer("ziyang")
    going, staying = person("ziyang", a), person("ziyang", a)
    d_going, d_staying = due(going, a, date(2024, 1, 1)), due(staying, a, date(2024, 1, 1))
    event = employer_event_apply(
        employer=a,
        kind="split",
        occurred_on=date(2024, 5, 1),
        successor=b,
        moved_persons=[going],
        as_of=date(2024, 5, 2),
    )
    assert event.dues_moved == 1 and event.spans_moved == 1
    assert MonthlyDue.objects.get(pk=d_going.pk).employer_id == b.pk
    assert MonthlyDue.objects.get(pk=d_staying.pk).employer_id == a.pk
    a.refresh_from_db()
    assert a.status == "2"  # the predecessor continues after a split
    assert EnrolmentSpan.objects.get(person=staying).end is None


def _nothing_written(before: tuple[int, int, int]) -> bool:
    return (
        EmployerEvent.objects.count(),
        EmployerEventDueMove.objects.count(),
        EnrolmentSpan.objects.count(),
    ) == before


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("into_itself", "successor"),
        ("into_closed", "successor"),
        ("before_founding", "occurred_on"),
        ("in_future", "occurred_on"),
        ("other_jurisdiction", "successor"),
        ("split_without_persons", "moved_persons"),
        ("report_before_event", "reported_on"),
        ("closed_predecessor", "employer"),
    ],
)
def test_bad_merger_requests_are_refused_and_change_nothing(case, field):
    a = employer("langfang", founded_on=date(2019, 6, 1), registered_on=date(2019, 6, 20))
    b = employer("langfang")
    p = person("langfang", a)
    due(p, a, date(2024, 1, 1))
    kw = {"employer": a, "kind": "merger", "occurred_on": date(2024, 6, 1), "successor": b, "as_of": date(2024, 6, 5)}
    if case == "into_itself":
        kw["successor"] = a
    elif case == "into_closed":
        Employer.objects.filter(pk=b.pk).update(status="4")
        b.refresh_from_db()
    elif case == "before_founding":
        kw["occurred_on"] = date(2019, 5, 31)
    elif case == "in_future":
        kw["occurred_on"] = date(2024, 6, 6)
    elif case == "other_jurisdiction":
        kw["successor"] = employer("sanmenxia")
    elif case == "split_without_persons":
        kw["kind"] = "split"
    elif case == "report_before_event":
        kw["reported_on"] = date(2024, 5, 31)
    elif case == "closed_predecessor":
        Employer.objects.filter(pk=a.pk).update(status="4")
        a.refresh_from_db()
    before = (EmployerEvent.objects.count(), EmployerEventDueMove.objects.count(), EnrolmentSpan.objects.count())
    with pytest.raises(ValidationError) as exc:
        employer_event_apply(**kw)
    assert field in exc.value.message_dict
    assert _nothing_written(before)
    assert MonthlyDue.objects.get(person=p).employer_id == a.pk


def test_hunan_merger_names_the_missing_key_and_changes_nothing():
    a, b = employer("hunan"), employer("hunan")
    person("hunan", a)
    before = (EmployerEvent.objects.count(), EmployerEventDueMove.objects.count(), EnrolmentSpan.objects.count())
    with pytest.raises(ValidationError, match=r"employers\.successor_takes_arrears"):
        employer_event_apply(
            employer=a, kind="merger", occurred_on=date(2024, 6, 1), successor=b, as_of=date(2024, 6, 1)
        )
    assert _nothing_written(before)


# --- 破产、关闭 -------------------------------------------------------------------------------------------


def _retire(p, emp, on: date):
    span = EnrolmentSpan.objects.get(person=p, end__isnull=True)
    enrol.span_close(span=span, end=on)
    enrol.span_open(person=p, jurisdiction=emp.jurisdiction.code, category="retiree", start=on)


def test_langfang_bankruptcy_needs_a_trustee_for_its_retirees():
    # langfang 第二十八条: retirees go to a trustee unit; arrears are settled.
    a, trustee = employer("langfang"), employer("langfang", "托管中心")
    worker, retiree = person("langfang", a), person("langfang", a)
    _retire(retiree, a, date(2023, 5, 1))
    due(worker, a, date(2024, 1, 1), late_fee=D("12.34"))
    due(worker, a, date(2024, 2, 1), paid_principal=D(100))
    with pytest.raises(ValidationError) as exc:
        employer_event_apply(employer=a, kind="bankruptcy", occurred_on=date(2024, 6, 1), as_of=date(2024, 6, 1))
    assert "trustee" in exc.value.message_dict and "第二十八条" in str(exc.value)
    event = employer_event_apply(
        employer=a, kind="bankruptcy", occurred_on=date(2024, 6, 1), trustee=trustee, as_of=date(2024, 6, 1)
    )
    assert (event.arrears_principal, event.arrears_late_fee) == (D("1100.00"), D("12.34"))
    assert (event.spans_closed, event.retirees_handed) == (1, 1)
    assert EnrolmentSpan.objects.get(person=worker).end == date(2024, 6, 1)
    handed = EnrolmentSpan.objects.get(person=retiree, start=date(2024, 6, 1))
    assert (handed.category, handed.employer_id, handed.end) == ("retiree", trustee.pk, None)
    assert event.reserve_status == "none" and event.reserve_amount == 0  # langfang: no reserve in the document


def test_hunan_closure_of_a_state_owned_firm_bills_ten_years_for_each_retiree_and_posts_it():
    # hunan 第二十四条: 当年度缴费基准值 × 单位缴费率 (8%) × 10 years, per retiree.
    stat("hunan", "reference_monthly_wage", "6000", date(2024, 1, 1))
    a = employer("hunan", ownership="state")
    r1, r2 = person("hunan", a), person("hunan", a)
    _retire(r1, a, date(2023, 1, 1))
    _retire(r2, a, date(2023, 2, 1))
    person("hunan", a)
    event = employer_event_apply(employer=a, kind="closure", occurred_on=date(2024, 6, 1), as_of=date(2024, 6, 3))
    assert event.reserve_persons == 2
    assert event.reserve_per_person == D("57600.00")  # 6000 × 8% × 12 × 10
    assert event.reserve_amount == D("115200.00")
    assert event.reserve_status == "billed" and event.ledger_entry_id
    jur = Jurisdiction.objects.get(code="hunan")
    assert balance_of(fund_account(jur, AccountKind.RECEIVABLE)) == D("-115200.00")  # debit-normal: an asset
    closure_reserve_paid(event, paid_on=date(2024, 6, 20), as_of=date(2024, 6, 21))
    event.refresh_from_db()
    assert event.reserve_status == "paid"
    assert balance_of(fund_account(jur, AccountKind.RECEIVABLE)) == 0
    assert JournalEntry.objects.filter(business_key=f"closure-reserve-paid:{event.pk}").exists()
    with pytest.raises(ValidationError):
        closure_reserve_paid(event, paid_on=date(2024, 6, 20), as_of=date(2024, 6, 21))  # paid once


def test_hunan_private_firm_owes_no_reserve():
    a = employer("hunan", ownership="other")
    r = person("hunan", a)
    _retire(r, a, date(2023, 1, 1))
    event = employer_event_apply(employer=a, kind="bankruptcy", occurred_on=date(2024, 6, 1), as_of=date(2024, 6, 1))
    assert event.reserve_status == "none" and "非国有" in event.rules


def test_sanmenxia_counts_resigned_persons_and_needs_the_staff_entered_cost():
    # sanmenxia 第二十条: 全市上年度退休人员人均医疗费 × 10 years; 退职人员 managed like retirees.
    a = employer("sanmenxia", ownership="other")
    r = person("sanmenxia", a)
    _retire(r, a, date(2023, 1, 1))
    before = EmployerEvent.objects.count()
    with pytest.raises(ValidationError, match=r"employers\.retiree_average_medical_cost"):
        employer_event_apply(
            employer=a, kind="closure", occurred_on=date(2024, 6, 1), resigned_count=2, as_of=date(2024, 6, 1)
        )
    assert EmployerEvent.objects.count() == before
    param("sanmenxia", "employers.retiree_average_medical_cost", "4321.50", date(2024, 1, 1))
    event = employer_event_apply(
        employer=a, kind="closure", occurred_on=date(2024, 6, 1), resigned_count=2, as_of=date(2024, 6, 1)
    )
    assert (event.reserve_persons, event.reserve_per_person, event.reserve_amount) == (
        3, D("43215.00"), D("129645.00")
    )  # fmt: skip


def test_reserve_rules_at_their_boundaries():
    hunan = Policy("hunan", date(2024, 6, 1), stats={"reference_monthly_wage": "5000.05"})
    assert rules.reserve_per_person(hunan) == D("48000.48")  # 5000.05 × 0.08 × 120 = 48000.48
    assert rules.reserve_applies(hunan, ownership="collective")[0] is True
    assert rules.reserve_applies(hunan, ownership="state_controlled")[0] is True
    assert rules.reserve_applies(hunan, ownership="")[0] is False
    assert rules.reserve_persons(hunan, retirees=3, resigned=0) == 3
    with pytest.raises(PolicyMissing, match=r"employers\.closure_reserve_resigned_as_retirees"):
        rules.reserve_persons(hunan, retirees=3, resigned=1)
    sm = Policy("sanmenxia", date(2024, 6, 1), params={"employers.retiree_average_medical_cost": "0.05"})
    assert rules.reserve_per_person(sm) == D("0.50")
    assert rules.reserve_persons(sm, retirees=0, resigned=1) == 1
    assert rules.reserve_applies(sm, ownership="")[0] is True
    assert rules.reserve_applies(Policy("langfang", date(2024, 6, 1)), ownership="state")[0] is False
    with pytest.raises(ValueError):
        rules.reserve_persons(sm, retirees=-1, resigned=0)
    none = rules.closure_reserve(hunan, ownership="other", retirees=5, resigned=0)
    assert (none.applies, none.amount) == (False, 0)
    some = rules.closure_reserve(hunan, ownership="state", retirees=2, resigned=0)
    assert (some.persons, some.amount) == (2, D("96000.96"))


def test_settlement_totals_round_half_up():
    assert rules.settlement_totals([(D("0.005"), D("0.004")), (D("1"), D("0"))]) == (D("1.01"), D("0.00"))
    assert rules.settlement_totals([]) == (D("0.00"), D("0.00"))


# --- 中断缴费 (D-X5: unpaid months; langfang 第二十三条 "欠费期间及补缴当月") ----------------------------------------


def _dues(months: list[tuple[int, int]], settled: dict[int, date] | None = None, employer_id: int | None = 7):
    settled = settled or {}
    return [DueFact(date(y, m, 1), date(y, m, 25), settled.get(i), employer_id) for i, (y, m) in enumerate(months)]


def test_interruption_starts_the_day_after_the_due_date_and_counts_months():
    dues = _dues([(2024, 1), (2024, 2), (2024, 3), (2024, 4)])
    as_of = date(2024, 6, 1)
    assert rules.interruption_months(dues, day=date(2024, 1, 25), as_of=as_of) == 0
    assert rules.interruption_months(dues, day=date(2024, 1, 26), as_of=as_of) == 4
    assert rules.interruption_months(dues, day=date(2024, 5, 31), as_of=as_of) == 4
    assert rules.interruption_months(dues, day=date(2023, 12, 31), as_of=as_of) == 0


def test_interruption_ends_with_the_make_up_month():
    made_up = date(2024, 5, 10)
    dues = _dues([(2024, 1), (2024, 2)], {0: made_up, 1: made_up})
    as_of = date(2024, 7, 1)
    assert rules.interruption_months(dues, day=date(2024, 5, 31), as_of=as_of) == 2  # 补缴当月 included
    assert rules.interruption_months(dues, day=date(2024, 6, 1), as_of=as_of) == 0
    # a payment dated after the evaluation date is not known yet: still interrupted
    assert rules.interruption_months(dues, day=date(2024, 6, 1), as_of=date(2024, 5, 9)) == 2
    assert rules.interruption_months(dues, day=date(2024, 3, 1), as_of=date(2024, 5, 9)) == 2


def test_a_month_paid_on_time_breaks_the_run():
    dues = _dues([(2024, 1), (2024, 2), (2024, 3)], {1: date(2024, 2, 25)})
    as_of = date(2024, 6, 1)
    assert rules.interruption_months(dues, day=date(2024, 2, 1), as_of=as_of) == 1
    assert rules.interruption_months(dues, day=date(2024, 3, 26), as_of=as_of) == 1
    on_time = _dues([(2024, 1)], {0: date(2024, 1, 25)})
    assert rules.interruption_months(on_time, day=date(2024, 2, 1), as_of=as_of) == 0
    not_due = [DueFact(date(2024, 1, 1), None, None, 7)]
    assert rules.interruption_months(not_due, day=date(2024, 2, 1), as_of=as_of) == 0
    not_yet = _dues([(2024, 5)])
    assert rules.interruption_months(not_yet, day=date(2024, 5, 31), as_of=date(2024, 5, 25)) == 0


@pytest.mark.parametrize(
    ("j", "months", "payer", "amount"),
    [
        ("langfang", 3, "fund", D(0)),  # 3个月以内（含3个月）: the fund pays once made up
        ("langfang", 4, "employer", D("800.13")),  # 超过3个月: the employer
        ("hunan", 1, "employer", D("800.13")),  # hunan 第二十条: any length
        ("sanmenxia", 6, "", D(0)),  # silent: nobody billed, the step names the key
    ],
)
def test_cost_bearer(j, months, payer, amount):
    bearer = rules.cost_bearer(
        Policy(j, date(2024, 6, 1)),
        employer_caused=True,
        months=months,
        fund_share=D("800.125"),
        person_share=D("199.875"),
    )
    assert (bearer.payer, bearer.employer_amount) == (payer, amount)
    if payer == "employer":
        assert "199.88" in bearer.reason and bearer.citation
    if not payer:
        assert "employers.interruption_costs_on_employer" in bearer.reason


def test_cost_bearer_own_fault_and_no_interruption():
    p = Policy("hunan", date(2024, 6, 1))
    kw = {"fund_share": D(100), "person_share": D(10)}
    assert rules.cost_bearer(p, employer_caused=False, months=2, **kw).payer == "person"
    assert rules.cost_bearer(p, employer_caused=True, months=0, **kw).payer == ""
    assert (
        rules.cost_bearer(p, employer_caused=True, months=1, fund_share=D(-5), person_share=D(0)).employer_amount == 0
    )


def test_late_change_reports_are_listed(admin_client):
    # langfang 第八条: termination reported more than 30 days after it happened.
    a, b = employer("langfang", "迟报单位"), employer("langfang", "准时单位")
    employer_event_apply(
        employer=a, kind="closure", occurred_on=date(2024, 6, 1), reported_on=date(2024, 7, 2), as_of=date(2024, 7, 2)
    )
    employer_event_apply(
        employer=b, kind="closure", occurred_on=date(2024, 6, 1), reported_on=date(2024, 7, 1), as_of=date(2024, 7, 2)
    )
    page = admin_client.get("/admin/contributions/employerevent/?late_report=late").content.decode()
    assert "迟报单位" in page and "准时单位" not in page
