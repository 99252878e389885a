"""The demo current to today (issue #19 item 7): ``setup_demo --today`` builds history up to that day.

Made with the real batch services; staff values the files leave open entered as 演示数据 staff entries;
the output is sentences naming people, never dicts or database ids; a second run changes nothing.
"""

from __future__ import annotations

import io
import re
from datetime import date

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
