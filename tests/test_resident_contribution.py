"""城乡居民医保征缴与基金 (issue #15 items 2, 3, 6): yearly bills (sanmenxia 第三十条、第三十一条), payments by 险种,
the resident fund in its own books (xianning 办法 四(三)), staff-entered figures named when missing."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from contributions import services as cs
from contributions.calculations import resident as rr
from contributions.imports.payments import payment_validate
from contributions.imports.readers import Table
from contributions.models import Payment, ResidentAllocation, ResidentDue
from contributions.residents.selectors import resident_covered_on, resident_paid_for
from enrollment import services as es
from enrollment.residents import services as rs
from funds import posting
from funds.health import fund_health, pooled_fund
from funds.models import AccountKind, EntryKind, FundAccount, JournalEntry
from funds.resident_fund import receipt_record
from operations.demo.population import credit_code, id_number
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyMissing
from tests.policy_support import assert_cases_fail_naming, assert_cases_pass, staff_enter

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

D = Decimal
SMX = "411202"
JURISDICTIONS = ("hunan", "langfang", "sanmenxia", "xianning", "ziyang")
# What staff would enter from the province's yearly figures: hypothetical values for the test only, not policy.
STAFF = {"resident.individual_contribution": "380", "resident.fiscal_subsidy": "670"}


def _enter(code: str = "sanmenxia", on: date = date(2024, 1, 1)) -> None:
    staff_enter(code, STAFF, effective_from=on, document="全省统一标准（经办录入，测试假设值）")


# --- the scenario cases waiting for staff values (item 6) ----------------------------------------------------


@pytest.mark.parametrize("code", JURISDICTIONS)
def test_resident_contribution_pending_until_staff_enter_it(code):
    name = f"{code}/resident_contribution.yaml"
    assert_cases_fail_naming(name, ["resident.individual_contribution"])
    _enter(code)
    assert_cases_pass(name, 1)


# --- the rule functions (第三十条、第三十一条) ----------------------------------------------------------------


def test_collection_window_and_benefit_year_sanmenxia():
    p = Policy("sanmenxia", date(2024, 9, 1))
    assert rr.collection_window(p, 2024) == (date(2024, 9, 1), date(2025, 1, 1))
    assert rr.benefit_year_of(p, 2024) == 2025 and rr.collection_year_of(p, 2025) == 2024
    assert rr.cover_period(2025) == (date(2025, 1, 1), date(2026, 1, 1))
    assert not rr.in_collection_window(p, date(2024, 8, 31))
    assert rr.in_collection_window(p, date(2024, 9, 1))
    assert rr.in_collection_window(p, date(2024, 12, 31))
    assert not rr.in_collection_window(p, date(2025, 1, 1))


def test_yearly_amounts_name_the_missing_key_then_round_to_the_fen():
    with pytest.raises(PolicyMissing, match=r"resident\.individual_contribution"):
        rr.yearly_amounts(Policy("sanmenxia", date(2024, 9, 1)))
    staff_enter(
        "sanmenxia",
        {"resident.individual_contribution": "380"},
        effective_from=date(2024, 1, 1),
        document="测试假设值",
    )
    with pytest.raises(PolicyMissing, match=r"resident\.fiscal_subsidy"):
        rr.yearly_amounts(Policy("sanmenxia", date(2024, 9, 1)))
    staff_enter("sanmenxia", {"resident.fiscal_subsidy": "670.5"}, effective_from=date(2024, 1, 1), document="测试")
    yearly = rr.yearly_amounts(Policy("sanmenxia", date(2024, 9, 1)))
    assert (yearly.individual, yearly.subsidy, yearly.total) == (D("380.00"), D("670.50"), D("1050.50"))
    with pytest.raises(FrozenInstanceError):  # the year's figures are facts read from policy, never edited
        yearly.individual = D("0")
    with pytest.raises(PolicyMissing):  # the day before the staff entry takes effect
        rr.yearly_amounts(Policy("sanmenxia", date(2023, 12, 31)))


def test_other_jurisdictions_name_the_collection_keys():
    with pytest.raises(PolicyMissing, match=r"resident\.cover_next_year"):
        rr.benefit_year_of(Policy("hunan", date(2024, 9, 1)), 2024)
    with pytest.raises(PolicyMissing, match=r"resident\.collection_start"):
        rr.collection_window(Policy("ziyang", date(2024, 9, 1)), 2024)


# --- billing, payments and the resident fund ------------------------------------------------------------------


@pytest.fixture
def household():
    smx = Jurisdiction.objects.get(code="sanmenxia")
    hh = rs.household_register(
        jurisdiction=smx,
        head_id_number=id_number(SMX, date(1970, 3, 2), 1, True),
        head_name="李大田",
        kind="rural",
        start=date(2024, 1, 1),
        registered_on=date(2023, 9, 10),
        today=date(2024, 12, 1),
    )
    rs.member_add(
        household=hh,
        id_number=id_number(SMX, date(2020, 6, 1), 2, False),
        name="李小苗",
        relation="child",
        kind="preschool",
        start=date(2025, 1, 1),
        joined_on=date(2024, 9, 10),
        today=date(2024, 12, 1),
    )
    rs.newborn_register(
        household=hh,
        id_number=id_number(SMX, date(2024, 7, 1), 3, True),
        name="李新生",
        parents_insured="here",
        registered_on=date(2024, 7, 20),
        today=date(2024, 12, 1),
    )
    return hh


def _bill(on=date(2024, 9, 15), **kw):
    return cs.resident_billing(on=on, in_process=True, **kw)


def test_yearly_billing_is_set_based_idempotent_and_skips_newborns_and_employees(household):
    employer = es.employer_register(
        credit_code=credit_code(SMX, 5), name="三门峡乙厂", jurisdiction="sanmenxia", registered_on=date(2020, 1, 1)
    )
    worker = es.person_register(id_number=id_number(SMX, date(1990, 1, 1), 9, True), name="赵工")
    es.span_open(
        person=worker, jurisdiction="sanmenxia", category="employee", start=date(2024, 1, 1), employer=employer
    )
    run = _bill()
    assert run.counts.get("missing:resident.individual_contribution") == 2  # nothing billed, the key named
    assert not ResidentDue.objects.exists()
    _enter()
    run = _bill()
    assert run.counts["billed"] == 2
    dues = {d.person.name: d for d in ResidentDue.objects.select_related("person")}
    assert set(dues) == {"李大田", "李小苗"}  # not the newborn (covered in 2024 only), not the employee
    head = dues["李大田"]
    assert (head.benefit_year, head.individual_amount, head.subsidy_amount) == (2025, D("380.00"), D("670.00"))
    assert (head.window_start, head.window_end, head.resident_kind) == (date(2024, 9, 1), date(2025, 1, 1), "rural")
    assert _bill().counts.get("billed", 0) == 0  # idempotent


def test_payment_settles_the_bill_and_goes_to_the_resident_fund_only(household):
    _enter()
    _bill()
    head = household.head
    assert not resident_covered_on(head.pk, date(2025, 3, 1))
    part = cs.payment_record(
        person=head, amount=D("200"), paid_on=date(2024, 10, 8), reference="R390-1", insutype="390"
    )
    due = ResidentDue.objects.get(person=head)
    assert (due.paid_amount, due.settled_on, part.unapplied_amount) == (D("200.00"), None, D("0.00"))
    rest = cs.payment_record(
        person=head, amount=D("200"), paid_on=date(2024, 11, 2), reference="R390-2", insutype="390"
    )
    due.refresh_from_db()
    assert (due.paid_amount, due.settled_on) == (D("380.00"), date(2024, 11, 2))
    assert rest.unapplied_amount == D("20.00")  # held for the next year's bill
    assert resident_paid_for(head.pk, 2025) and not resident_paid_for(head.pk, 2024)
    assert resident_covered_on(head.pk, date(2025, 3, 1))
    assert ResidentAllocation.objects.filter(due=due).count() == 2
    # the resident fund's own books: 380 into its pooled fund, nothing into the employee fund
    pool = pooled_fund(due.jurisdiction_id, "390")
    assert posting.balance_of(pool) == D("380.00")
    assert pool.kind == AccountKind.RESIDENT_POOLED
    assert pooled_fund(due.jurisdiction_id, "310") is None
    assert set(JournalEntry.objects.values_list("kind", flat=True)) == {EntryKind.RESIDENT_CONTRIBUTION}
    # the newborn is covered in the birth year without a bill (第三十八条)
    newborn = household.members.get(person__name="李新生").person
    assert resident_covered_on(newborn.pk, date(2024, 12, 31)) and not resident_covered_on(newborn.pk, date(2025, 1, 1))


def test_a_resident_payment_never_pays_monthly_dues(household):
    _enter()
    payment = cs.payment_record(
        person=household.head, amount=D("100"), paid_on=date(2024, 8, 1), reference="R390-early", insutype="390"
    )
    assert payment.unapplied_amount == D("100.00")  # no bill yet: held
    assert not payment.allocations.exists()
    run = _bill()
    assert run.counts["resident_allocations"] == 1  # the billing run applies held resident payments
    assert ResidentDue.objects.get(person=household.head).paid_amount == D("100.00")


def test_payment_record_refuses_an_unknown_insutype(household):
    with pytest.raises(ValidationError) as exc:
        cs.payment_record(
            person=household.head, amount=D("1"), paid_on=date(2024, 8, 1), reference="X1", insutype="999"
        )
    assert "insutype" in exc.value.message_dict
    assert not Payment.objects.exists()


def test_payment_file_with_insutype_column(household):
    worker = es.person_register(id_number=id_number(SMX, date(1990, 1, 1), 9, True), name="赵工")
    table = Table(
        headers=["电子税票号", "身份证号", "金额", "缴款日期", "险种"],
        rows=[
            (2, ("T1", household.head.id_number, "380", "2024-10-01", "390")),
            (3, ("T2", worker.id_number, "380", "2024-10-01", "城乡居民")),  # not a resident
            (4, ("T3", household.head.id_number, "10", "2024-10-01", "510")),
            (5, ("T4", household.head.id_number, "10", "2024-10-01", "")),
        ],
    )
    result = payment_validate(table, as_of=date(2024, 12, 1))
    assert result.valid[2]["insutype"] == "390" and result.valid[5]["insutype"] == "310"
    errors = {e.row: e.message for e in result.errors}
    assert "没有城乡居民医保参保登记" in errors[3] and "险种“510”无效" in errors[4]


def test_subsidy_and_interest_receipts_post_to_the_resident_fund():
    smx = Jurisdiction.objects.get(code="sanmenxia")
    receipt = receipt_record(
        jurisdiction=smx,
        kind="subsidy_provincial",
        year=2025,
        amount=D("670000"),
        received_on=date(2025, 2, 10),
        reference="豫财社〔2025〕1号",
        today=date(2025, 3, 1),
    )
    assert receipt.entry.kind == EntryKind.RESIDENT_SUBSIDY
    receipt_record(
        jurisdiction=smx,
        kind="interest",
        year=2024,
        amount=D("1234.56"),
        received_on=date(2025, 1, 5),
        reference="INT-2024",
        today=date(2025, 3, 1),
    )
    pool = pooled_fund(smx.pk, "390")
    assert posting.balance_of(pool) == D("671234.56")
    bank = FundAccount.objects.get(jurisdiction=smx, kind=AccountKind.RESIDENT_BANK)
    assert posting.balance_of(bank) == D("-671234.56")
    series = fund_health(pool, on=date(2025, 3, 1))["series"]
    assert [(m.month, m.income) for m in series] == [
        (date(2025, 1, 1), D("1234.56")),
        (date(2025, 2, 1), D("670000.00")),
    ]
    # spending by benefit out of the resident fund (险种 390), never the employee pool
    posting.post_benefit_payment(
        jurisdiction=smx, amount=D("1000"), on=date(2025, 3, 1), business_key="claim:r1", insutype="390"
    )
    assert posting.balance_of(pool) == D("670234.56")
    assert FundAccount.objects.filter(jurisdiction=smx, kind=AccountKind.POOLED).exists() is False
    with pytest.raises(ValueError, match="未知险种"):
        posting.scheme_accounts(smx, "999")


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("amount", {"amount": D("0")}),
        ("amount", {"amount": D("1.234")}),
        ("received_on", {"received_on": date(2025, 3, 2)}),
        ("year", {"year": 1999}),
        ("year", {"year": 2027}),
        ("reference", {"reference": "  "}),
        ("kind", {"kind": "gift"}),
    ],
)
def test_receipt_bounds(field, kw):
    smx = Jurisdiction.objects.get(code="sanmenxia")
    args = dict(
        jurisdiction=smx,
        kind="subsidy_central",
        year=2025,
        amount=D("100"),
        received_on=date(2025, 3, 1),
        reference="OK-1",
        today=date(2025, 3, 1),
    )
    with pytest.raises(ValidationError) as exc:
        receipt_record(**{**args, **kw})
    assert field in exc.value.message_dict
    assert not JournalEntry.objects.exists()
    receipt_record(**args)
    with pytest.raises(ValidationError, match="已登记"):
        receipt_record(**args)


def test_collection_rules_follow_the_staff_entered_values_elsewhere():
    """A jurisdiction whose staff enter the same-year cover and a short window (hypothetical values)."""
    staff_enter(
        "ziyang",
        {"resident.collection_start": "10-15", "resident.collection_end": "11-30", "resident.cover_next_year": False},
        effective_from=date(2024, 1, 1),
        document="测试假设值",
    )
    p = Policy("ziyang", date(2024, 10, 1))
    assert rr.collection_window(p, 2024) == (date(2024, 10, 15), date(2024, 12, 1))
    assert rr.benefit_year_of(p, 2024) == 2024 and rr.collection_year_of(p, 2025) == 2025
    assert not rr.in_collection_window(p, date(2024, 10, 14)) and rr.in_collection_window(p, date(2024, 10, 15))
    assert rr.in_collection_window(p, date(2024, 11, 30)) and not rr.in_collection_window(p, date(2024, 12, 1))


def test_a_window_ending_before_it_starts_or_declared_absent_is_an_error():
    from policy.resolver import PolicyError

    staff_enter(
        "langfang",
        {"resident.collection_start": "12-01", "resident.collection_end": "11-30"},
        effective_from=date(2024, 1, 1),
        document="测试假设值",
    )
    with pytest.raises(PolicyError, match="早于起始"):
        rr.collection_window(Policy("langfang", date(2024, 10, 1)), 2024)
    staff_enter("hunan", {"resident.collection_start": None}, effective_from=date(2024, 1, 1), document="测试")
    with pytest.raises(PolicyError, match="未设居民医保集中缴费期"):
        rr.collection_window(Policy("hunan", date(2024, 10, 1)), 2024)


def test_a_same_day_window_is_one_day_long():
    staff_enter(
        "xianning",
        {"resident.collection_start": "12-31", "resident.collection_end": "12-31"},
        effective_from=date(2024, 1, 1),
        document="测试假设值",
    )
    assert rr.collection_window(Policy("xianning", date(2024, 10, 1)), 2024) == (date(2024, 12, 31), date(2025, 1, 1))


def test_case_worker_starts_the_yearly_billing_from_the_operations_page(client, case_worker, household):
    """批处理操作 → 生成居民年度应缴: the run bills the collection year of the business date (in-process here)."""
    from django.urls import reverse

    from batch.models import BatchRun

    _enter()
    client.force_login(case_worker)
    assert "生成居民年度应缴" in client.get(reverse("operations:index")).content.decode()
    response = client.post(reverse("operations:index"), {"operation": "resident_billing", "as_of": "2024-09-15"})
    assert response.status_code == 302
    run = BatchRun.objects.get(job="contributions.resident_billing")
    assert run.params == {"collection_year": 2024} and run.created_by == case_worker
    assert ResidentDue.objects.filter(benefit_year=2025).count() == 2
