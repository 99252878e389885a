"""费用承担 on a claim (issue #14 item 5): care inside an interruption of cover caused by the employer's arrears.

hunan 第二十条: the employer bears the costs except the person's own share, whatever the length; langfang 第二十三条:
only when the interruption is more than 3 months ("欠费期间及补缴当月发生的医疗费用由用人单位负担，统筹基金不予支付").
The claim stays refused for the fund; the payer is recorded on the claim and the employer gets a bill. The amounts
are those of the same stay for a covered person (tests/test_claims.py: langfang 一级 10000 → fund 9408, person 592;
hunan 基层 10000 → fund 9310, person 690).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.utils import timezone

from benefits.claims.models import ClaimStatus, EmployerLiabilityBill
from benefits.claims.services import claim_adjudicate
from benefits.models import EligibilityPeriod
from contributions.employer_events.services import employer_event_apply
from enrollment.models import EnrolmentSpan
from policy.models import Jurisdiction
from tests.test_claims import make_claim, make_person, stats  # noqa: F401  (stats: the fixture)
from tests.test_employer_events import due, employer

pytestmark = pytest.mark.django_db
AS_OF = date(2024, 6, 1)


def suspended_from(person, j: str, day: date) -> None:
    EligibilityPeriod.objects.filter(person=person, status="covered").update(end=day)
    EligibilityPeriod.objects.create(
        person=person,
        jurisdiction=Jurisdiction.objects.get(code=j),
        start=day,
        end=None,
        status="suspended",
        reason="单位欠费暂停",
        citation="test",
        computed_at=timezone.now(),
    )


def in_arrears(j: str, months: int, *, level: str = "level1", **person_kw):
    """A person whose employer left ``months`` months unpaid from January 2024; a stay 1–10 March 2024."""
    person = make_person(j, **person_kw)
    span = EnrolmentSpan.objects.get(person=person)
    for m in range(1, months + 1):
        due(person, span.employer, date(2024, m, 1))
    suspended_from(person, j, date(2024, 1, 26))
    return person, make_claim(person, j, hospital_level=level, inscp_scp_amt=D(10000))


def test_langfang_over_three_months_the_employer_bears_the_fund_part():
    person, claim = in_arrears("langfang", 4)
    claim = claim_adjudicate(claim, as_of=AS_OF)
    assert claim.status == ClaimStatus.REFUSED and claim.hifp_pay is None and claim.journal_entry is None
    assert (claim.cost_payer, claim.employer_liability) == ("employer", D("9408.00"))
    employer_id = EnrolmentSpan.objects.get(person=person).employer_id
    assert claim.liable_employer_id == employer_id
    bill = EmployerLiabilityBill.objects.get(claim=claim)
    assert (bill.employer_id, bill.amount, bill.person_share, bill.interruption_months) == (
        employer_id, D("9408.00"), D("592.00"), 4
    )  # fmt: skip
    assert bill.citation == "langfang 第二十三条"
    assert any(s["stage"] == "费用承担" and s["amount"] == "9408.00" for s in claim.steps)


def test_langfang_three_months_or_less_is_the_funds_once_made_up():
    _, claim = in_arrears("langfang", 3)
    claim = claim_adjudicate(claim, as_of=AS_OF)
    assert claim.status == ClaimStatus.REFUSED
    assert (claim.cost_payer, claim.employer_liability) == ("fund", None)
    assert not EmployerLiabilityBill.objects.filter(claim=claim).exists()


def test_hunan_any_interruption_the_employer_bears_it(stats):  # noqa: F811
    _, claim = in_arrears("hunan", 1, level="grassroots")
    claim = claim_adjudicate(claim, as_of=AS_OF)
    # the one unpaid month (January) was still unpaid on the day of care: the interruption covers 1 March
    assert (claim.cost_payer, claim.employer_liability) == ("employer", D("9310.00"))
    assert EmployerLiabilityBill.objects.get(claim=claim).person_share == D("690.00")


def test_a_merger_puts_the_bill_on_the_successor():
    # langfang 第二十七条: the successor took the arrears over, so it bears the cost of the interruption.
    person, claim = in_arrears("langfang", 5)
    predecessor = EnrolmentSpan.objects.get(person=person).employer
    successor = employer("langfang", "接收单位")
    employer_event_apply(
        employer=predecessor, kind="merger", occurred_on=date(2024, 5, 1), successor=successor, as_of=AS_OF
    )
    claim = claim_adjudicate(claim, as_of=AS_OF)
    assert (claim.cost_payer, claim.liable_employer_id) == ("employer", successor.pk)
    assert EmployerLiabilityBill.objects.get(claim=claim).employer_id == successor.pk


def test_a_flexible_workers_own_arrears_stay_with_the_person():
    person = make_person("langfang", category="flexible")
    emp = employer("langfang")
    for m in range(1, 6):
        d = due(person, emp, date(2024, m, 1))
        d.employer = None
        d.save(update_fields=["employer"])
    suspended_from(person, "langfang", date(2024, 1, 26))
    claim = claim_adjudicate(make_claim(person, "langfang", inscp_scp_amt=D(10000)), as_of=AS_OF)
    assert (claim.status, claim.cost_payer, claim.employer_liability) == (ClaimStatus.REFUSED, "person", None)
    assert not EmployerLiabilityBill.objects.exists()


def test_a_refusal_that_is_not_an_interruption_bills_nobody():
    person = make_person("langfang", covered_from=date(2024, 5, 1))  # 等待期, no arrears
    claim = claim_adjudicate(make_claim(person, "langfang", inscp_scp_amt=D(10000)), as_of=AS_OF)
    assert (claim.status, claim.cost_payer) == (ClaimStatus.REFUSED, "")
    assert not any(s["stage"] == "费用承担" for s in claim.steps)


def test_a_settlement_file_bills_the_employer_the_same_way(settings, tmp_path):
    # The bulk path (结算文件, one chunk) takes the same 费用承担 step and writes the bills in one INSERT.
    from batch.runs import run_in_process
    from benefits.claims.imports import settlement_file_import
    from benefits.claims.jobs import JOB
    from benefits.claims.models import Claim
    from tests.test_claims_bulk import _file, settlement_row

    person, _ = in_arrears("langfang", 4)
    row = settlement_row(
        business_key="ARREARS-1",
        id_number=person.id_number,
        med_type="21",
        start_date="2024-03-01",
        end_date="2024-03-10",
        hospital_level="level1",
        inscp_scp_amt="10000",
        medfee_sumamt="10000",
    )
    sfile = _file("langfang", [row], settings, tmp_path)
    assert settlement_file_import(sfile, today=sfile.as_of)["imported"] == 1
    run = run_in_process(JOB, as_of=sfile.as_of, jurisdiction="langfang", params={"file_id": sfile.pk})
    assert run.status == "done"
    claim = Claim.objects.get(settlement_file=sfile)
    assert (claim.status, claim.cost_payer, claim.employer_liability) == (ClaimStatus.REFUSED, "employer", D("9408.00"))
    bill = EmployerLiabilityBill.objects.get(claim=claim)
    assert bill.amount == D("9408.00") and bill.history.count() == 1
