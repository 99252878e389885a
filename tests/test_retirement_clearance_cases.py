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

from config.models import Jurisdiction, PolicyParameter, ReferenceStatistic
from contributions.models import MonthlyDue
from contributions.retirement import services
from contributions.retirement.models import CaseOption, CaseStatus, RetirementClearanceCase
from enrollment import services as enrol
from enrollment.demo import credit_code, id_number
from enrollment.models import EnrolmentSpan

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


def test_langfang_pension_approved_keep_paying_and_account_share():
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
    # keeping on paying needs the parameter (第三十四条); until staff enter it, refused
    with pytest.raises(ValidationError):
        services.case_choose_keep_paying(case, on=date(2024, 10, 8))
    PolicyParameter.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="langfang"),
        key="retirement.keep_paying_allowed",
        effective_from=date(2024, 1, 1),
        value=True,
        citation="langfang 第三十四条",
    )
    case = services.case_choose_keep_paying(case, on=date(2024, 10, 8))
    assert case.option == CaseOption.KEEP_PAYING and case.status == CaseStatus.OPEN
    with pytest.raises(ValidationError):
        services.case_approve(case, on=date(2024, 10, 9))  # still 60 months short


def test_langfang_lump_sum_credits_the_personal_account():
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
