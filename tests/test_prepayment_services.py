"""Prepayment and refund services (funds.prepayment): the bill, the held payment, the refund, the ledger.

hunan 第十三条 (灵活就业人员次年预缴; 就业、死亡退还当年剩余月份), hunan 第五十四条 (大病保险费按年、一次性缴纳，
可从个人账户代扣，不予退费), ziyang 第九条(三) (待遇享受期前退费).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from contributions import selectors
from contributions.models import MonthlyDue, Payment
from contributions.services import payment_record
from funds import prepayment as svc
from funds.models import AccountKind, ContributionRefund, EntryKind, JournalEntry, Posting, PrepaymentKind
from funds.posting import Leg, balance_of, fund_account, personal_account, post_entry
from funds.reconcile import reconcile
from policy.models import Jurisdiction, ReferenceStatistic
from policy.resolver import PolicyMissing

from .test_contributions_engine import Register, bill, reference_wages, reset  # noqa: F401

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def reg():
    return Register()


@pytest.fixture(autouse=True)
def fresh_policy():
    from policy import resolver

    resolver.invalidate()
    yield
    resolver.invalidate()


def _life_expectancy(value="78.6"):
    ReferenceStatistic.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="hunan"),
        key="national_life_expectancy",
        effective_from=date(2024, 1, 1),
        period_label="2024年",
        value=D(value),
    )


def _credit_account(person, code: str, amount: str, on: date):
    jur = Jurisdiction.objects.get(code=code)
    return post_entry(
        business_key=f"opening:{person.pk}",
        kind=EntryKind.OPENING,
        jurisdiction=jur,
        effective_on=on,
        legs=[
            Leg(personal_account(person, jur, on=on), D(amount)),
            Leg(fund_account(jur, AccountKind.BANK), -D(amount)),
        ],
        person=person,
    )


# --- hunan 第十三条 ---------------------------------------------------------------------------------------------


@pytest.fixture
def hunan_flexible(reg):
    return reg.person("hunan", category="flexible", start=date(2024, 1, 1))


def test_flexible_worker_prepays_next_year_and_the_monthly_billing_uses_the_money(hunan_flexible):
    p = hunan_flexible
    # 6789.41 × 60% × 8% = 325.89168 → 325.89 + 大病 15.00 = 340.89 a month; × 12 = 4090.68 (第十三条, 第五十三条).
    pre = svc.flexible_prepay(person=p, jurisdiction="hunan", year=2025, paid_on=date(2024, 12, 31), reference="YJ-1")
    assert (pre.kind, pre.start_month, pre.months) == (PrepaymentKind.FLEXIBLE_ANNUAL, date(2025, 1, 1), 12)
    assert (pre.monthly_amount, pre.monthly_refundable, pre.total) == (D("340.89"), D("325.89"), D("4090.68"))
    assert pre.citation == "hunan 第十三条"
    assert pre.payment.unapplied_amount == D("4090.68")  # held: no month of 2025 is billed yet
    reset("hunan", on=date(2025, 1, 1))
    bill(date(2025, 1, 1))
    jan = MonthlyDue.objects.get(person=p, month=date(2025, 1, 1))
    assert (jan.total, jan.settled_on) == (D("340.89"), date(2024, 12, 31))
    pre.payment.refresh_from_db()
    assert pre.payment.unapplied_amount == D("3749.79")

    # Employed on 2025-01-20: February–December come back, without the 大病 premium (第五十四条): 11 × 325.89.
    refund = svc.prepayment_refund(
        prepayment=pre, ground="employment", event_on=date(2025, 1, 20), refunded_on=date(2025, 2, 5)
    )
    assert (refund.months, refund.amount, refund.entry) == (11, D("3584.79"), None)
    payment = Payment.objects.get(pk=pre.payment_id)
    assert (payment.refunded_amount, payment.unapplied_amount) == (D("3584.79"), D("165.00"))
    # The held 165.00 (11 × 15) pays the next due; the refunded money is never held again.
    bill(date(2025, 2, 1))
    payment.refresh_from_db()
    feb = MonthlyDue.objects.get(person=p, month=date(2025, 2, 1))
    assert (feb.paid_principal, payment.unapplied_amount, payment.refunded_amount) == (D("165.00"), 0, D("3584.79"))
    # A second refund finds nothing held.
    with pytest.raises(ValidationError) as err:
        svc.prepayment_refund(prepayment=pre, ground="death", event_on=date(2025, 2, 10), refunded_on=date(2025, 2, 11))
    assert "已全部冲抵" in str(err.value)


def test_prepayment_refund_in_the_last_month_or_before_the_event_is_refused(hunan_flexible):
    p = hunan_flexible
    pre = svc.flexible_prepay(person=p, jurisdiction="hunan", year=2025, paid_on=date(2024, 12, 1), reference="YJ-2")
    with pytest.raises(ValidationError) as err:
        svc.prepayment_refund(prepayment=pre, ground="death", event_on=date(2025, 12, 3), refunded_on=date(2025, 12, 9))
    assert "没有剩余月份" in str(err.value)
    with pytest.raises(ValidationError) as err:
        svc.prepayment_refund(prepayment=pre, ground="death", event_on=date(2025, 3, 3), refunded_on=date(2025, 3, 2))
    assert "不能晚于退费日期" in str(err.value)
    # Death before the year began: all twelve months' basic part.
    refund = svc.prepayment_refund(
        prepayment=pre, ground="death", event_on=date(2024, 12, 31), refunded_on=date(2025, 1, 4)
    )
    assert (refund.months, refund.amount) == (12, D("3910.68"))


@pytest.mark.parametrize(
    ("paid_on", "year", "message"),
    [
        (date(2025, 1, 1), 2025, "只能预缴次年（2026 年）"),  # 1 January is too late
        (date(2024, 12, 31), 2026, "只能预缴次年（2025 年）"),
    ],
)
def test_prepayment_outside_the_window_is_refused(hunan_flexible, paid_on, year, message):
    with pytest.raises(ValidationError) as err:
        svc.flexible_prepay(person=hunan_flexible, jurisdiction="hunan", year=year, paid_on=paid_on, reference="YJ-3")
    assert message in str(err.value)
    assert not Payment.objects.filter(reference="YJ-3").exists()


def test_only_flexible_workers_without_open_dues_prepay_once(reg, hunan_flexible):
    employee = reg.person("hunan", employer=reg.employer("hunan"))
    with pytest.raises(ValidationError) as err:
        svc.flexible_prepay(person=employee, jurisdiction="hunan", year=2025, paid_on=date(2024, 12, 1), reference="A1")
    assert "不是本统筹区参保的灵活就业人员" in str(err.value)
    reset("hunan", on=date(2024, 1, 1))
    bill(date(2024, 11, 1))
    with pytest.raises(ValidationError) as err:
        svc.flexible_prepay(
            person=hunan_flexible, jurisdiction="hunan", year=2025, paid_on=date(2024, 12, 1), reference="A2"
        )
    assert "应缴未缴清（最早 2024-11）" in str(err.value)
    payment_record(person=hunan_flexible, amount=D("340.89"), paid_on=date(2024, 11, 20), reference="A3")
    svc.flexible_prepay(
        person=hunan_flexible, jurisdiction="hunan", year=2025, paid_on=date(2024, 12, 1), reference="A4"
    )
    with pytest.raises(ValidationError) as err:
        svc.flexible_prepay(
            person=hunan_flexible, jurisdiction="hunan", year=2025, paid_on=date(2024, 12, 2), reference="A5"
        )
    assert "与已登记的预缴重叠" in str(err.value)


def test_ziyang_flexible_workers_pay_monthly(reg):
    p = reg.person("ziyang", category="flexible", start=date(2024, 1, 1))
    with pytest.raises(ValidationError) as err:
        svc.flexible_prepay(person=p, jurisdiction="ziyang", year=2025, paid_on=date(2024, 12, 1), reference="Z1")
    assert "不办理次年一次性预缴（ziyang 第九条）" in str(err.value)


# --- hunan 第五十四条 -------------------------------------------------------------------------------------------


@pytest.fixture
def hunan_retiree(reg):
    return reg.person("hunan", category="retiree", birth=date(1960, 3, 10), start=date(2020, 4, 1))


def test_lump_sum_from_the_personal_account(hunan_retiree):
    p = hunan_retiree
    _life_expectancy()
    _credit_account(p, "hunan", "3000.00", date(2025, 1, 1))
    # 78.6 − 65 = 13.6 → 14 years × 180 = 2520.00, from April 2025 for 168 months.
    pre = svc.critical_illness_prepay(
        person=p,
        jurisdiction="hunan",
        kind=PrepaymentKind.CRITICAL_ILLNESS_LUMP_SUM,
        paid_on=date(2025, 3, 10),
        paid_from="personal_account",
        ground="retiree_choice",
    )
    assert (pre.total, pre.months, pre.start_month, pre.detail["years"]) == (D("2520.00"), 168, date(2025, 4, 1), 14)
    assert pre.detail["age"] == "65.00" and pre.citation == "hunan 第五十四条"
    assert pre.entry.kind == EntryKind.PREMIUM_FROM_ACCOUNT
    jur = Jurisdiction.objects.get(code="hunan")
    assert balance_of(personal_account(p, jur, on=date(2025, 3, 10))) == D("480.00")
    assert pre.payment.reference == f"ZHKK-{pre.entry.pk}" and pre.payment.unapplied_amount == D("2520.00")
    # Not refunded on transfer or death (第五十四条).
    with pytest.raises(ValidationError) as err:
        svc.prepayment_refund(prepayment=pre, ground="death", event_on=date(2026, 1, 5), refunded_on=date(2026, 2, 1))
    assert "不予退还（hunan 第五十四条）" in str(err.value)
    assert reconcile().ok


def test_lump_sum_needs_the_life_expectancy_and_enough_in_the_account(hunan_retiree):
    p = hunan_retiree
    args = dict(
        person=p,
        jurisdiction="hunan",
        kind=PrepaymentKind.CRITICAL_ILLNESS_LUMP_SUM,
        paid_on=date(2025, 3, 10),
        paid_from="personal_account",
        ground="retiree_choice",
    )
    with pytest.raises(PolicyMissing) as err:
        svc.critical_illness_prepay(**args)
    assert err.value.key == "national_life_expectancy"
    _life_expectancy()
    _credit_account(p, "hunan", "2519.99", date(2025, 1, 1))
    with pytest.raises(ValidationError) as err:
        svc.critical_illness_prepay(**args)
    assert "个人账户余额不足：应扣 2520.00 元，可用 2519.99 元" in str(err.value)
    assert not JournalEntry.objects.filter(kind=EntryKind.PREMIUM_FROM_ACCOUNT).exists()
    assert not Payment.objects.filter(person=p).exists()
    with pytest.raises(ValidationError) as err:
        svc.critical_illness_prepay(**{**args, "ground": "holiday"})
    assert "只适用于" in str(err.value)


def test_retiree_pays_next_years_premium_and_an_employee_may_not(reg, hunan_retiree):
    pre = svc.critical_illness_prepay(
        person=hunan_retiree,
        jurisdiction="hunan",
        kind=PrepaymentKind.CRITICAL_ILLNESS_ANNUAL,
        paid_on=date(2024, 12, 31),
        reference="DB-1",
        year=2025,
    )
    assert (pre.total, pre.months, pre.monthly_refundable) == (D("180.00"), 12, D("0"))
    employee = reg.person("hunan", employer=reg.employer("hunan"))
    with pytest.raises(ValidationError) as err:
        svc.critical_illness_prepay(
            person=employee,
            jurisdiction="hunan",
            kind=PrepaymentKind.CRITICAL_ILLNESS_ANNUAL,
            paid_on=date(2024, 12, 31),
            reference="DB-2",
            year=2025,
        )
    assert "按月缴纳大病保险费，不能按年预缴（hunan 第五十四条）" in str(err.value)
    flexible = reg.person("hunan", category="flexible", start=date(2024, 1, 1))
    with pytest.raises(ValidationError) as err:
        svc.critical_illness_prepay(
            person=flexible,
            jurisdiction="hunan",
            kind=PrepaymentKind.CRITICAL_ILLNESS_ANNUAL,
            paid_on=date(2024, 12, 31),
            reference="DB-4",
            year=2025,
        )
    assert "请办理次年预缴（含大病保险费" in str(err.value)
    ziyang = reg.person("ziyang", category="retiree", start=date(2020, 1, 1))
    with pytest.raises(ValidationError) as err:
        svc.critical_illness_prepay(
            person=ziyang,
            jurisdiction="ziyang",
            kind=PrepaymentKind.CRITICAL_ILLNESS_ANNUAL,
            paid_on=date(2024, 12, 31),
            reference="DB-3",
            year=2025,
        )
    assert "个人不缴纳大病保险费（ziyang 第二十六条）" in str(err.value)


# --- ziyang 第九条(三) -----------------------------------------------------------------------------------------


@pytest.fixture
def ziyang_flexible(reg):
    p = reg.person("ziyang", category="flexible", start=date(2025, 3, 1))
    reset("ziyang", on=date(2025, 3, 1))
    for month, paid_on in ((date(2025, 3, 1), date(2025, 3, 20)), (date(2025, 4, 1), date(2025, 4, 20))):
        bill(month)
        due = MonthlyDue.objects.get(person=p, month=month)
        payment_record(person=p, amount=due.total, paid_on=paid_on, reference=f"ZY-{month:%m}", recompute_as_of=paid_on)
    return p


def test_refund_before_the_benefit_period_gives_back_booked_contributions(ziyang_flexible):
    p = ziyang_flexible
    dues = list(MonthlyDue.objects.filter(person=p).order_by("month"))
    assert all(d.settled_on for d in dues)
    jur = Jurisdiction.objects.get(code="ziyang")
    account = personal_account(p, jur, on=date(2025, 4, 10))
    credited = balance_of(account)
    assert credited == sum(d.personal_account_amount for d in dues) > 0
    refund = svc.benefit_period_refund(
        person=p, jurisdiction="ziyang", ground="employment", event_on=date(2025, 5, 15), refunded_on=date(2025, 5, 20)
    )
    assert (refund.kind, refund.months, refund.amount) == ("before_benefit_period", 2, sum(d.total for d in dues))
    assert refund.citation == "ziyang 第九条(三)"
    assert refund.entry.kind == EntryKind.CONTRIBUTION_REFUND
    legs = {pp.account.kind: pp.amount for pp in Posting.objects.filter(entry=refund.entry).select_related("account")}
    assert legs[AccountKind.BANK] == refund.amount  # paid out of the bank
    assert legs[AccountKind.PERSONAL] == -credited
    assert legs[AccountKind.POOLED] == -(refund.amount - credited)
    assert balance_of(account) == 0
    assert set(MonthlyDue.objects.filter(person=p).values_list("refunded_on", flat=True)) == {date(2025, 5, 20)}
    # The refunded months no longer count as paid months (payment years), from the refund date.
    assert selectors.months_by_kind([p.pk], date(2025, 5, 19))[p.pk]["local_months"] == 2
    assert selectors.months_by_kind([p.pk], date(2025, 5, 20))[p.pk]["local_months"] == 0
    assert reconcile().ok
    with pytest.raises(ValidationError) as err:  # nothing left to refund
        svc.benefit_period_refund(
            person=p, jurisdiction="ziyang", ground="death", event_on=date(2025, 5, 25), refunded_on=date(2025, 5, 26)
        )
    assert "没有已缴清、未退费的缴费记录" in str(err.value)


def test_no_refund_once_the_benefit_period_began(ziyang_flexible, monkeypatch):
    p = ziyang_flexible
    monkeypatch.setattr(svc, "_benefit_start", [lambda pid, code: date(2025, 5, 15)])
    args = dict(person=p, jurisdiction="ziyang", ground="employment", refunded_on=date(2025, 5, 20))
    with pytest.raises(ValidationError) as err:
        svc.benefit_period_refund(**args, event_on=date(2025, 5, 15))
    assert "待遇享受期已于 2025-05-15 开始，不再办理退费（ziyang 第九条(三)）" in str(err.value)
    assert not ContributionRefund.objects.exists()
    assert svc.benefit_period_refund(**args, event_on=date(2025, 5, 14)).months == 2


def test_hunan_has_no_refund_before_benefit_period_key(hunan_flexible):
    with pytest.raises(PolicyMissing) as err:
        svc.benefit_period_refund(
            person=hunan_flexible,
            jurisdiction="hunan",
            ground="death",
            event_on=date(2025, 5, 15),
            refunded_on=date(2025, 5, 20),
        )
    assert err.value.key == "contribution.refund_before_benefit_period_only"
