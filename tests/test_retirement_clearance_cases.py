"""退休清缴 cases: the daily scan, the computation, approval, bill, payment → retiree status, keep paying.

Figures worked out by hand from the seeds:
* hunan 第二十八条: a woman cadre retires at 55 (born 1969-05-10 → 2024-05-10), a woman worker at 50.
  Minimums 第二十七条: 300 cumulative months for women, 120 local actual months.
  200 deemed + 12 paid local months = 212 → shortfall max(300 − 212, 120 − 12) = 108 months.
  Lump sum (第二十八条, D-H9): 缴费基准值 6000 × (8% + 2%, 第十一条) × 108 = 64 800.00.
  Paid on 2024-06-15 → retiree benefits from 2024-07-01 (the month after the later of the
  retirement date and the payment, sanmenxia-style 次月, D-X17 when nothing is owed).
* langfang 第三十二条, 第三十四条: a man needs 360 cumulative and 120 local months; 300 deemed + 60 paid
  = 360, local 60 → shortfall 60. Lump sum = 市社平工资 7000 × (6% + 2%, 第十二条) × 60 = 33 600.00;
  the account share "按在职职工比例" = 7000 × 2% (第三十六条(一)) × 60 = 8 400.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from contributions.models import MonthlyDue
from contributions.retirement import services
from contributions.retirement.models import CaseOption, CaseStatus, RetirementClearanceCase
from enrollment import services as enrol
from enrollment.models import EnrolmentSpan
from operations.demo.population import credit_code, id_number
from policy.models import Jurisdiction, ReferenceStatistic
from tests.policy_support import staff_enter

pytestmark = pytest.mark.django_db


def stat(code: str, value: int, on: date) -> None:
    ReferenceStatistic.objects.create(
        jurisdiction=Jurisdiction.objects.get(code=code),
        key="reference_monthly_wage",
        effective_from=on,
        period_label=f"{on.year}年度（测试）",
        value=Decimal(value),
        is_demo=True,
    )


def employee(code: str, region: str, n: int, birth: date, *, male: bool, role: str = "", deemed: int = 0, hired: date):
    employer = enrol.employer_register(
        credit_code=credit_code(region, 700 + n),
        name=f"{code}单位{n}",
        jurisdiction=code,
        registered_on=date(2015, 1, 1),
    )
    person = enrol.person_register(
        id_number=id_number(region, birth, n, male), name=f"清缴{n}", female_role=role, deemed_months=deemed
    )
    enrol.life_event_record(person=person, kind="hire", occurred_on=hired, jurisdiction=code, employer=employer)
    return person, employer


def paid_months(person, employer, first: date, count: int, base: int = 6000) -> None:
    rows = []
    y, m = first.year, first.month
    for _ in range(count):
        month = date(y, m, 1)
        rows.append(
            MonthlyDue(
                person=person,
                employer=employer,
                jurisdiction_id=employer.jurisdiction_id,
                month=month,
                category="employee",
                base=Decimal(base),
                employer_amount=Decimal(1),
                individual_amount=Decimal(1),
                personal_account_amount=Decimal(0),
                pool_amount=Decimal(2),
                total=Decimal(2),
                paid_principal=Decimal(2),
                settled_on=month.replace(day=20),
                created_at=timezone.now(),
            )
        )
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    MonthlyDue.objects.bulk_create(rows)


@pytest.fixture
def hunan_women():
    stat("hunan", 6000, date(2024, 1, 1))
    cadre, emp = employee(
        "hunan", "430102", 1, date(1969, 5, 10), male=False, role="cadre", deemed=200, hired=date(2023, 5, 1)
    )
    paid_months(cadre, emp, date(2023, 5, 1), 12)
    worker, _ = employee(
        "hunan", "430102", 2, date(1974, 5, 10), male=False, role="worker", deemed=300, hired=date(2010, 1, 1)
    )
    young_cadre, _ = employee("hunan", "430102", 3, date(1974, 5, 10), male=False, role="cadre", hired=date(2010, 1, 1))
    return cadre, worker, young_cadre


def test_scan_opens_cases_for_legal_age_by_role(hunan_women):
    cadre, worker, young_cadre = hunan_women
    counts = services.clearance_scan(date(2024, 5, 10), lo=0, hi=10**9)
    assert counts["clearance.opened"] == 2  # cadre at 55, worker at 50; the younger cadre is 50 only
    case = RetirementClearanceCase.objects.get(person=cadre)
    assert case.reason == "legal_age" and case.retire_on == date(2024, 5, 10)
    assert (case.required_months, case.required_local_months) == (300, 120)
    assert case.cumulative_months == 212 and case.local_months == 12
    assert case.shortfall_months == 108
    assert case.lump_sum == Decimal("64800.00")
    assert "hunan 第二十八条" in case.citation
    assert RetirementClearanceCase.objects.get(person=worker).retire_on == date(2024, 5, 10)
    assert not RetirementClearanceCase.objects.filter(person=young_cadre).exists()
    # the next day: nothing new, nothing changed
    again = services.clearance_scan(date(2024, 5, 11), lo=0, hi=10**9)
    assert again["clearance.opened"] == 0 and again["clearance.updated"] == 0 and again["clearance.pending"] == 2


def test_approve_bill_payment_moves_to_retiree(hunan_women):
    cadre, _, _ = hunan_women
    services.clearance_scan(date(2024, 5, 10), lo=0, hi=10**9)
    case = RetirementClearanceCase.objects.get(person=cadre)
    case = services.case_approve(case, on=date(2024, 5, 12))
    assert case.status == CaseStatus.BILLED and case.bill_amount == Decimal("64800.00") and case.bill_no
    with pytest.raises(ValidationError):
        services.case_approve(case, on=date(2024, 5, 12))
    case = services.case_record_payment(case, paid_on=date(2024, 6, 15), reference="TAX-1")
    assert case.status == CaseStatus.CLOSED and case.retiree_from == date(2024, 7, 1)
    spans = list(EnrolmentSpan.objects.filter(person=cadre).order_by("start").values_list("category", "start", "end"))
    assert spans == [("employee", date(2023, 5, 1), date(2024, 7, 1)), ("retiree", date(2024, 7, 1), None)]
    # hunan's document does not say where the lump sum goes: not posted, and said so (D-X16)
    assert case.ledger_entry_id is None and "未记账" in case.ledger_note
    assert case.history.count() >= 3


def test_eligible_person_retires_on_approval_without_bill():
    man, emp = employee("hunan", "430102", 4, date(1964, 3, 3), male=True, deemed=400, hired=date(2012, 1, 1))
    paid_months(man, emp, date(2013, 1, 1), 130)
    counts = services.clearance_scan(date(2024, 3, 3), lo=0, hi=10**9)
    assert counts["clearance.opened"] == 1
    case = RetirementClearanceCase.objects.get(person=man)
    assert case.shortfall_months == 0 and case.lump_sum == 0
    case = services.case_approve(case, on=date(2024, 3, 5))
    # D-X17: nothing owed → retiree benefits from the 1st of the month after the retirement date
    assert case.status == CaseStatus.CLOSED and case.retiree_from == date(2024, 4, 1) and not case.bill_no
    assert EnrolmentSpan.objects.get(person=man, category="retiree").start == date(2024, 4, 1)


@pytest.fixture
def langfang_deemed_cutoff(fresh_policy):
    """langfang 第三十条 gives no date for deemed years (D-L14): staff enter one (hypothetical, test only)."""
    staff_enter(
        "langfang",
        {"retirement.deemed_cutoff": "1995-01-01"},
        effective_from=date(2024, 1, 1),
        document="经办录入（测试假设值，并非政策）",
    )


def test_scan_counts_the_women_employees_it_cannot_select_by_role(hunan_women):
    # hunan 第二十八条 gives a woman employee's legal age by role (cadre 55, worker 50): one without a role cannot
    # be selected and is counted; a man, a woman with a role and a woman no longer in service are not
    no_role, _ = employee("hunan", "430102", 4, date(1970, 1, 1), male=False, hired=date(2010, 1, 1))
    employee("hunan", "430102", 5, date(1960, 1, 1), male=True, hired=date(2010, 1, 1))
    left, left_emp = employee("hunan", "430102", 6, date(1970, 1, 1), male=False, hired=date(2010, 1, 1))
    enrol.life_event_record(
        person=left, kind="separation", occurred_on=date(2024, 5, 1), jurisdiction="hunan", employer=left_emp
    )
    counts = services.clearance_scan(date(2024, 5, 10), lo=0, hi=10**9)
    assert counts["clearance.female_role_missing"] == 1
    assert not any(k.startswith("clearance.age_unknown") for k in counts)
    assert not RetirementClearanceCase.objects.filter(person=no_role).exists()
    # the day before she left she was still in service
    counts = services.clearance_scan(date(2024, 4, 30), lo=0, hi=10**9, full=True)
    assert counts["clearance.female_role_missing"] == 2
    # outside the ids scanned nobody is counted
    counts = services.clearance_scan(date(2024, 5, 10), lo=no_role.pk + 1, hi=left.pk, full=True)
    assert counts["clearance.female_role_missing"] == 0


def test_langfang_deemed_months_wait_for_the_cut_off():
    stat("langfang", 7000, date(2024, 1, 1))
    man, emp = employee("langfang", "131002", 7, date(1964, 9, 1), male=True, deemed=300, hired=date(2019, 1, 1))
    paid_months(man, emp, date(2019, 9, 1), 60)
    case = services.case_open(
        person=man, reason="pension_approved", retire_on=date(2024, 9, 30), opened_on=date(2024, 10, 8)
    )
    assert "retirement.deemed_cutoff" in case.problem and case.lump_sum is None
    with pytest.raises(ValidationError):
        services.case_approve(case, on=date(2024, 10, 8))


def test_langfang_pension_approved_keep_paying_and_account_share(langfang_deemed_cutoff):
    stat("langfang", 7000, date(2024, 1, 1))
    man, emp = employee("langfang", "131002", 5, date(1964, 9, 1), male=True, deemed=300, hired=date(2019, 1, 1))
    paid_months(man, emp, date(2019, 9, 1), 60)
    # langfang gives no legal age (第三十二条 "法定退休年龄"): the scan cannot select him, it counts him
    counts = services.clearance_scan(date(2024, 9, 30), lo=0, hi=10**9)
    assert counts["clearance.opened"] == 0 and counts["clearance.age_unknown:langfang"] == 1
    case = services.case_open(
        person=man, reason="pension_approved", retire_on=date(2024, 9, 30), opened_on=date(2024, 10, 8)
    )
    assert case.cumulative_months == 360 and case.local_months == 60 and case.shortfall_months == 60
    assert case.lump_sum == Decimal("33600.00")
    # 第三十四条: "或以在职身份继续缴费…达到规定缴费年限后，可申请享受退休人员医疗保险待遇"
    case = services.case_choose_keep_paying(case, on=date(2024, 10, 8))
    assert "retirement.keep_paying_allowed: langfang 第三十四条" in case.citation
    assert case.option == CaseOption.KEEP_PAYING and case.status == CaseStatus.OPEN
    with pytest.raises(ValidationError):
        services.case_approve(case, on=date(2024, 10, 9))  # still 60 months short
    # he keeps paying as in-service for 60 more months; the nightly recomputation sees the years met
    paid_months(man, emp, date(2024, 9, 1), 60)
    counts = services.pending_recompute(date(2029, 9, 5), lo=0, hi=10**9)
    assert counts["clearance.updated"] == 1
    case.refresh_from_db()
    assert (case.cumulative_months, case.local_months, case.shortfall_months) == (420, 120, 0)
    case = services.case_approve(case, on=date(2029, 9, 10))
    # retiree from the month after this approval, not back to the 2024 retirement date (D-X11)
    assert case.status == CaseStatus.CLOSED and case.retiree_from == date(2029, 10, 1) and not case.bill_no
    assert EnrolmentSpan.objects.get(person=man, category="retiree").start == date(2029, 10, 1)


def test_langfang_lump_sum_credits_the_personal_account(langfang_deemed_cutoff):
    stat("langfang", 7000, date(2024, 1, 1))
    man, emp = employee("langfang", "131002", 6, date(1964, 9, 1), male=True, deemed=300, hired=date(2019, 1, 1))
    paid_months(man, emp, date(2019, 9, 1), 60)
    case = services.case_open(
        person=man, reason="pension_approved", retire_on=date(2024, 9, 30), opened_on=date(2024, 10, 8)
    )
    case = services.case_approve(case, on=date(2024, 10, 8))
    case = services.case_record_payment(case, paid_on=date(2024, 10, 20), reference="TAX-LF-1")
    assert case.status == CaseStatus.CLOSED and case.retiree_from == date(2024, 11, 1)
    assert case.ledger_entry_id is not None
    from funds.posting import balance_of, personal_account

    assert balance_of(personal_account(man, "langfang", on=date(2024, 10, 20))) == Decimal("8400.00")


def test_keep_paying_is_offered_only_where_the_document_allows_it(hunan_women):
    """hunan 第二十八条 "一次性补缴…后，方可办理" (false); sanmenxia 第八条 silent (missing); langfang above."""
    cadre, _, _ = hunan_women
    services.clearance_scan(date(2024, 5, 10), lo=0, hi=10**9)
    case = RetirementClearanceCase.objects.get(person=cadre)
    with pytest.raises(ValidationError) as refused:
        services.case_choose_keep_paying(case, on=date(2024, 5, 12))
    assert "retirement.keep_paying_allowed" in str(refused.value)
    case.refresh_from_db()
    assert case.option == CaseOption.LUMP_SUM
    man, emp = employee("sanmenxia", "411202", 8, date(1964, 1, 5), male=True, hired=date(2015, 1, 1))
    paid_months(man, emp, date(2015, 1, 1), 100, base=5000)
    smx = services.case_open(
        person=man, reason="pension_approved", retire_on=date(2024, 3, 1), opened_on=date(2024, 3, 5)
    )
    # sanmenxia 第八条, D-S1: 5000 × (7% + 2% + 1%) × (360 − 100) = 130 000
    assert smx.shortfall_months == 260 and smx.lump_sum == Decimal("130000.00")
    assert smx.lump_sum_base == Decimal("5000")
    with pytest.raises(ValidationError) as silent:
        services.case_choose_keep_paying(smx, on=date(2024, 3, 5))
    assert "D-X16" in str(silent.value)


def test_daily_task_then_case_worker_approves_bills_and_records_payment_in_the_admin(client, case_worker, hunan_women):
    """End to end: the daily Celery task opens the case; the case worker approves it in the admin (a bill of
    64 800.00 is issued, hunan 第二十八条, D-H9); the payment screen records the tax receipt; the person is a
    retiree (人员类别 12, span category ``retiree``) from the 1st of the month after the payment."""
    from batch.models import BatchRun
    from contributions.retirement.tasks import clearance_scan_daily

    cadre, worker, _ = hunan_women
    run_id = clearance_scan_daily(as_of="2024-05-10")
    run = BatchRun.objects.get(pk=run_id)
    assert run.status == "done", run.status
    case = RetirementClearanceCase.objects.get(person=cadre)
    assert case.run_id == run_id and case.status == CaseStatus.OPEN and case.lump_sum == Decimal("64800.00")

    client.force_login(case_worker)
    page = client.get(f"/admin/retirement/retirementclearancecase/{case.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and "64800.00" in html and "不可选择，只能一次性补缴" in html
    listing = "/admin/retirement/retirementclearancecase/"
    resp = client.post(listing, {"action": "approve", "_selected_action": [case.pk]}, follow=True)
    assert resp.status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.BILLED and case.bill_amount == Decimal("64800.00") and case.bill_no
    assert case.approved_on is not None

    pay_url = f"/admin/retirement/retirementclearancecase/{case.pk}/pay/"
    assert "登记缴费到账" in client.get(pay_url).content.decode()
    resp = client.post(pay_url, {"paid_on": "2024-06-15", "reference": "TAX-2024-0615"})
    assert resp.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.paid_on == date(2024, 6, 15)
    assert case.retiree_from == date(2024, 7, 1) and case.payment_reference == "TAX-2024-0615"
    retiree = EnrolmentSpan.objects.get(person=cadre, category="retiree")
    assert retiree.start == date(2024, 7, 1) and retiree.end is None and retiree.psn_type == "1201"  # 人员类别 12
    assert EnrolmentSpan.objects.get(person=cadre, category="employee").end == date(2024, 7, 1)
    # the eligibility timeline follows: retiree benefits, not suspended for the dues a retiree no longer pays
    from benefits.selectors import status_on
    from benefits.services import eligibility_refresh

    eligibility_refresh([cadre.pk], date(2024, 9, 15))
    answer = status_on(cadre, date(2024, 9, 15))
    assert answer.status == "covered" and "退休人员" in answer.reason, answer
    # the worker's case was opened by the same run and is untouched
    assert RetirementClearanceCase.objects.get(person=worker).status == CaseStatus.OPEN


def test_ziyang_lump_sum_account_share_at_the_in_service_rate():
    """ziyang 第九条(五)1: last month's base 5000 × (7.0% + 0.7% + 2%) × 6 months short of 2024's 23 years
    (276 months, 第九条(七)1(1), D-Z4) = 2 910.00; 第九条(五): the in-service account standard of the
    clearance month (2% of the base, 第十条) for the 6 months = 600.00 goes to the account, the rest to the pool."""
    man, emp = employee("ziyang", "512002", 9, date(1964, 7, 10), male=True, hired=date(2001, 1, 1))
    paid_months(man, emp, date(2002, 1, 1), 270, base=5000)
    case = services.case_open(
        person=man, reason="pension_approved", retire_on=date(2024, 7, 10), opened_on=date(2024, 7, 12)
    )
    assert (case.required_months, case.shortfall_months) == (276, 6) and case.lump_sum == Decimal("2910.00")
    assert case.lump_sum_base == Decimal("5000")
    case = services.case_approve(case, on=date(2024, 7, 12))
    case = services.case_record_payment(case, paid_on=date(2024, 7, 20), reference="TAX-ZY-1")
    assert case.status == CaseStatus.CLOSED and case.retiree_from == date(2024, 8, 1)
    from funds.posting import balance_of, personal_account

    assert balance_of(personal_account(man, "ziyang", on=date(2024, 7, 20))) == Decimal("600.00")
