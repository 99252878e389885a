"""The demo current to today (issue #19 item 7): ``setup_demo --today`` builds history up to that day.

Made with the real batch services; staff values the files leave open entered as 演示数据 staff entries;
the output is sentences naming people, never dicts or database ids; a second run changes nothing.
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from benefits.models import EligibilityPeriod, EligibilityStatus
from contributions.models import Deferral, MonthlyDue, Payment
from enrollment.models import InsuredPerson
from operations.demo.current import STAFF_CITATION, STAFF_VALUES, add_months
from policy.catalog import read_yaml
from policy.models import ParameterOrigin, PolicyParameter

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.usefixtures("fresh_policy")]

TODAY = date(2026, 12, 7)


def _setup(today: date = TODAY) -> str:
    out = io.StringIO()
    call_command("setup_demo", persons=30, employers=3, today=today, stdout=out)
    return out.getvalue()


def test_demo_runs_up_to_today_in_every_jurisdiction_and_names_people():
    text = _setup()
    for code in ("hunan", "langfang", "xianning", "sanmenxia", "ziyang"):
        months = set(MonthlyDue.objects.filter(jurisdiction__code=code).values_list("month", flat=True))
        assert date(2026, 12, 1) in months and add_months(date(2026, 12, 1), -17) in months, code
        assert max(months) == date(2026, 12, 1), code
        assert MonthlyDue.objects.filter(jurisdiction__code=code, settled_on__isnull=False).exists(), code
    # hunan's due day (left to staff) now gives due dates and arrears; xianning's rates give dues
    assert not MonthlyDue.objects.filter(jurisdiction__code="hunan", due_date__isnull=True).exists()
    assert MonthlyDue.objects.filter(jurisdiction__code="xianning", total__gt=0).exists()
    assert Deferral.objects.filter(employer__jurisdiction__code="hunan").count() == 1
    assert Payment.objects.filter(paid_on__gt=TODAY).count() == 0  # nothing paid in the future
    current = EligibilityPeriod.objects.filter(start__lte=TODAY).exclude(end__lte=TODAY)
    assert current.filter(status=EligibilityStatus.COVERED).count() > 50
    suspended = set(current.filter(status=EligibilityStatus.SUSPENDED).values_list("jurisdiction__code", flat=True))
    assert {"hunan", "xianning", "ziyang"} <= suspended
    # sentences: no dict reprs, no database ids; demo people by name
    assert "{" not in text and "'" not in text and "#" not in text
    assert "值得一看的演示人员" in text and "在「参保人员」中搜索姓名" in text
    names = set(InsuredPerson.objects.values_list("name", flat=True))
    named = re.findall(r"[：；]([\u4e00-\u9fff]{2,4})（", text.split("值得一看的演示人员", 1)[1])
    assert len(named) >= 5 and set(named) <= names
    assert not re.search(r"参保人员 ?\d", text)


def test_demo_has_claims_of_every_kind_settled_refused_or_pending_by_the_rules():
    """Inpatient, outpatient and birth claims in every jurisdiction, through the ordinary adjudication: settled
    and posted where the rules settle them, never paid without a decision (issue #19 item 7)."""
    from benefits.claims.models import Claim, ClaimStatus, MedType

    text = _setup()
    for code in ("hunan", "langfang", "xianning", "sanmenxia", "ziyang"):
        kinds = set(Claim.objects.filter(jurisdiction__code=code).values_list("med_type", flat=True))
        assert {MedType.INPATIENT, MedType.OUTPATIENT} <= kinds, code
    settled = Claim.objects.filter(status=ClaimStatus.ADJUDICATED)
    assert settled.filter(fund_pay_sumamt__gt=0).exists()
    assert not settled.filter(fund_pay_sumamt__gt=0, journal_entry__isnull=True).exists()  # what is paid is posted
    assert all(c.start_date <= TODAY for c in Claim.objects.all())
    # a draft names what it waits for; a refusal names its reason
    assert not Claim.objects.filter(status=ClaimStatus.DRAFT, error="").exists()
    assert not Claim.objects.filter(status=ClaimStatus.REFUSED, refusal_reason="").exists()
    assert "演示报销" in text


def test_demo_staff_values_are_staff_entries_marked_as_demo_never_file_data():
    _setup()
    rows = read_yaml(STAFF_VALUES)
    assert rows
    for row in rows:
        param = PolicyParameter.objects.get(jurisdiction__code=row["jurisdiction"], key=row["key"])
        assert param.origin == ParameterOrigin.STAFF
        assert param.citation == STAFF_CITATION and param.note.startswith("演示数据")
    hunan_due = PolicyParameter.objects.get(jurisdiction__code="hunan", key="contribution.due_day")
    assert hunan_due.origin == ParameterOrigin.STAFF


def test_demo_is_idempotent():
    _setup()
    counts = (MonthlyDue.objects.count(), Payment.objects.count(), PolicyParameter.objects.count())
    text = _setup()
    assert (MonthlyDue.objects.count(), Payment.objects.count(), PolicyParameter.objects.count()) == counts
    assert "未重复生成" in text and "未改动" in text


@pytest.mark.parametrize("today", [TODAY, date(2027, 1, 28)])  # the second: the stay is cut at 1 January
def test_demo_has_resident_claims_settled_by_the_resident_rules_and_paid_from_the_resident_fund(today):
    """Issue #15: a sanmenxia resident's stay at a registered county hospital (tier from the register) and a
    caesarean birth settled through the ordinary adjudication and posted to the resident pooled fund; hunan's
    resident stay stays a draft naming the resident value staff must enter; the two funds' books stay apart."""
    from benefits.claims.models import Claim, ClaimStatus, MedType
    from funds.models import AccountKind, Posting

    text = _setup(today)
    residents = Claim.objects.filter(person__household_membership__isnull=False)
    stay = residents.get(jurisdiction__code="sanmenxia", med_type=MedType.INPATIENT)
    birth = residents.get(jurisdiction__code="sanmenxia", med_type=MedType.MATERNITY_INPATIENT)
    assert stay.status == ClaimStatus.ADJUDICATED, stay.error or stay.refusal_reason
    # 第三十三条 县级二级: 起付 400; (1500 − 400) × 63% + (9600 − 1500) × 83% = 693 + 6723
    assert (stay.act_pay_dedc, stay.hifp_pay) == (Decimal("400.00"), Decimal("7416.00"))
    assert stay.start_date.year == stay.end_date.year and stay.end_date < today
    assert any(s["stage"] == "险种" and "390" in s["description"] for s in stay.steps)
    # 第三十七条 剖宫产 1870 (the cost above it)
    assert (birth.status, birth.maternity_event, birth.hifp_pay) == (
        ClaimStatus.ADJUDICATED,
        "caesarean",
        Decimal("1870.00"),
    )
    hunan = residents.get(jurisdiction__code="hunan")
    assert hunan.status == ClaimStatus.DRAFT and "resident_benefits." in hunan.error
    assert hunan.journal_entry_id is None
    # the resident claims are booked in the resident fund only, the employees' in the employee fund only
    resident_entries = [c.journal_entry_id for c in (stay, birth)]
    kinds = set(Posting.objects.filter(entry_id__in=resident_entries).values_list("account__kind", flat=True))
    assert kinds == {AccountKind.RESIDENT_POOLED, AccountKind.RESIDENT_BANK}
    assert Posting.objects.filter(
        entry_id=stay.journal_entry_id, account__kind=AccountKind.RESIDENT_POOLED
    ).get().amount == Decimal("-7416.00")
    employee_entries = Claim.objects.filter(
        person__household_membership__isnull=True, journal_entry__isnull=False
    ).values_list("journal_entry_id", flat=True)
    assert employee_entries
    employee_kinds = set(Posting.objects.filter(entry_id__in=employee_entries).values_list("account__kind", flat=True))
    assert AccountKind.POOLED in employee_kinds
    assert not employee_kinds & {AccountKind.RESIDENT_POOLED, AccountKind.RESIDENT_BANK}
    assert "演示居民报销" in text
    # a second run adds no resident claim
    count = residents.count()
    _setup(today)
    assert Claim.objects.filter(person__household_membership__isnull=False).count() == count
