"""Fund health (issue 5 item 4): levels, months of spending, risk reserve, deficit waterfall, the fund page.

Worked examples by hand from hunan 第六十五条, sanmenxia 第四十七条–第四十九条, xianning 办法 四(三)4.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from funds import posting
from funds.health import (
    Thresholds,
    balance_levels,
    deficit_waterfall,
    fund_health,
    monthly_series,
    months_of_spending,
    risk_reserve_extraction,
)
from funds.models import AccountKind, EntryKind
from funds.posting import Leg
from policy.calculations import REGISTRY, discover
from policy.resolver import Policy, PolicyMissing

from .test_funds_support import D, fresh_policy, person, stat  # noqa: F401

pytestmark = pytest.mark.django_db


def test_months_of_spending_trailing_average():
    # D-S25: balance ÷ average spending of the last 12 months; with 2 months of history, over 2
    # month 1: 1200 / 100 = 12.00; month 2: 1100 / ((100 + 300) / 2) = 5.50
    assert months_of_spending([D("1200"), D("1100")], [D("100"), D("300")], 12) == [D("12.00"), D("5.50")]
    # window 2 over 3 months: month 3 averages months 2–3: 900 / ((300 + 600) / 2) = 2.00
    assert months_of_spending([D("1"), D("1"), D("900")], [D("100"), D("300"), D("600")], 2)[2] == D("2.00")
    assert months_of_spending([D("5")], [D("0")], 12) == [None]


def test_hunan_levels():
    # 第六十五条: 6–9 months target, over 15 excessive, under 3 insufficient
    t = Thresholds.of(Policy("hunan", date(2024, 1, 1)))
    assert (t.target_min, t.target_max, t.excess, t.insufficient, t.window) == (6, 9, 15, 3, 12)
    levels = balance_levels([D("16"), D("15"), D("12"), D("8"), D("6"), D("5"), D("2.5")], t)
    assert levels == [
        ["excess"],
        ["above_target"],  # exactly 15 is not "超过 15"
        ["above_target"],
        ["target"],
        ["target"],  # 6 is inside 6–9
        ["below_target"],
        ["insufficient"],
    ]


def test_sanmenxia_warning_after_three_consecutive_months_under_six():
    # 第四十九条: warning when under 6 months for 3 consecutive months; under 3: report to the city government
    t = Thresholds.of(Policy("sanmenxia", date(2024, 1, 1)))
    months = [D("7"), D("5.9"), D("5.5"), D("5.0"), D("4.0"), D("6.1"), D("4"), D("2.9")]
    levels = balance_levels(months, t)
    warned = [i for i, lv in enumerate(levels) if "warning" in lv]
    assert warned == [3, 4]  # 3rd and 4th consecutive month under 6; 6.1 resets; then only 2 in a row
    assert "insufficient" in levels[7] and "target" in levels[0]


def test_jurisdictions_without_thresholds_show_no_levels():
    t = Thresholds.of(Policy("ziyang", date(2024, 1, 1)))  # 第三十六条(二): no figures
    assert not t.any and balance_levels([D("1"), D("20")], t) == [[], []]


def test_risk_reserve_extraction():
    # xianning 办法 四(三)4(3): 5% × budgeted income 80 000 000 = 4 000 000.00
    assert risk_reserve_extraction(Policy("xianning", date(2024, 1, 1)), budget_income=D("80000000")) == D("4000000.00")
    # sanmenxia 第四十八条: 10% × last year's pooled income 12 345 678.91 = 1 234 567.891 → 1 234 567.89
    assert risk_reserve_extraction(Policy("sanmenxia", date(2024, 1, 1)), last_year_pool_income=D("12345678.91")) == D(
        "1234567.89"
    )
    with pytest.raises(PolicyMissing):  # hunan 第六十四条 gives no percentage
        risk_reserve_extraction(Policy("hunan", date(2024, 1, 1)), budget_income=D("1"))
    with pytest.raises(ValueError):  # sanmenxia's base is last year's income, not a budget
        risk_reserve_extraction(Policy("sanmenxia", date(2024, 1, 1)), budget_income=D("1"))


def test_xianning_waterfall():
    # 办法 四(三)4(1): 100 000 caused by the county's failures → county government.
    # 4(4) on the other 900 000: county pre-pooling 300 000 → city pooled 200 000 → reserve 150 000;
    # 250 000 left: city 5% = 12 500, county 95% = 237 500.
    out = deficit_waterfall(
        Policy("xianning", date(2024, 1, 1)),
        gap=D("1000000"),
        plan_met=True,
        local_fault_gap=D("100000"),
        county_prepooling_balance=D("300000"),
        city_pooled_balance=D("200000"),
        risk_reserve_balance=D("150000"),
    )
    nonzero = {k: v for k, v in out.items() if v}
    assert nonzero == {
        "county_government": D("100000.00"),
        "from_county_prepooling_balance": D("300000.00"),
        "from_city_pooled_balance": D("200000.00"),
        "from_risk_reserve": D("150000.00"),
        "share_city": D("12500.00"),
        "share_county": D("237500.00"),
    }
    assert sum(out.values()) == D("1000000")
    # a small gap stops at the first source
    small = deficit_waterfall(
        Policy("xianning", date(2024, 1, 1)), gap=D("1000"), plan_met=True, county_prepooling_balance=D("300000")
    )
    assert {k: v for k, v in small.items() if v} == {"from_county_prepooling_balance": D("1000.00")}
    # the plan missed: the 办法 gives no sharing (D-X16)
    with pytest.raises(PolicyMissing, match=r"funds\.deficit_shares_plan_missed"):
        deficit_waterfall(Policy("xianning", date(2024, 1, 1)), gap=D("1000"), plan_met=False)


def test_sanmenxia_waterfall():
    # 第四十八条: own balance 200 000; reserve support ≤ 3 × 50 000 drawn this year = 150 000 (reserve holds
    # 400 000); 650 000 left. Plan met 5:5 → 325 000 each, but only 250 000 is left in the reserve:
    # reserve 250 000, finance 325 000, government subsidy 75 000.
    policy = Policy("sanmenxia", date(2024, 1, 1))
    figures = dict(
        gap=D("1000000"), area_balance=D("200000"), risk_reserve_balance=D("400000"), reserve_drawn_this_year=D("50000")
    )
    met = {k: v for k, v in deficit_waterfall(policy, plan_met=True, **figures).items() if v}
    assert met == {
        "from_area_balance": D("200000.00"),
        "from_risk_reserve_support": D("150000.00"),
        "share_risk_reserve": D("250000.00"),
        "share_finance": D("325000.00"),
        "government_subsidy": D("75000.00"),
    }
    # plan missed 2:8 → reserve 130 000 (≤ 250 000 left), finance 520 000
    missed = {k: v for k, v in deficit_waterfall(policy, plan_met=False, **figures).items() if v}
    assert missed["share_risk_reserve"] == D("130000.00") and missed["share_finance"] == D("520000.00")
    assert "government_subsidy" not in missed
    # odd amounts: 0.03 shared 2:8 → reserve 0.01 (0.006 → 0.01), finance takes the rest 0.02
    tiny = deficit_waterfall(policy, plan_met=False, gap=D("0.03"), risk_reserve_balance=D("100"))
    assert (tiny["share_finance"], tiny["share_risk_reserve"]) == (D("0.02"), D("0.01"))


def test_waterfall_is_a_registered_calculation():
    discover()
    out = REGISTRY["fund_deficit_waterfall"].run(
        Policy("sanmenxia", date(2024, 1, 1)),
        {"gap": 100, "plan_met": True, "area_balance": 40, "risk_reserve_balance": 1000, "reserve_drawn_this_year": 10},
    )
    # 40 from the balance, 30 (= 3 × 10) from the reserve, 30 left shared 5:5
    assert (out["from_area_balance"], out["from_risk_reserve_support"]) == (D("40.00"), D("30.00"))
    assert (out["share_risk_reserve"], out["share_finance"]) == (D("15.00"), D("15.00"))
    assert REGISTRY["fund_risk_reserve"].run(Policy("xianning", date(2024, 1, 1)), {"budget_income": "1000"}) == {
        "extraction": D("50.00")
    }


def _pool_movements():
    """hunan pool: contributions in, retiree credits and benefits out, over three months."""
    pool = posting.fund_account("hunan", AccountKind.POOLED)
    bank = posting.fund_account("hunan", AccountKind.BANK)
    p = person("hunan", category="retiree")
    acct = posting.personal_account(p, "hunan", on=date(2024, 1, 1))
    moves = [
        ("c1", EntryKind.CONTRIBUTION, date(2024, 1, 20), [(bank, "-1000"), (pool, "1000")]),
        ("r1", EntryKind.RETIREE_CREDIT, date(2024, 1, 1), [(pool, "-75"), (acct, "75")]),
        ("b1", EntryKind.BENEFIT_PAYMENT, date(2024, 1, 25), [(pool, "-125"), (bank, "125")]),
        ("c3", EntryKind.CONTRIBUTION, date(2024, 3, 20), [(bank, "-600"), (pool, "600")]),
        ("b3", EntryKind.BENEFIT_PAYMENT, date(2024, 3, 25), [(pool, "-300"), (bank, "300")]),
    ]
    for key, kind, day, legs in moves:
        posting.post_entry(
            business_key=key, kind=kind, jurisdiction="hunan", effective_on=day, legs=[Leg(a, D(x)) for a, x in legs]
        )
    posting.post_reserve_extraction(jurisdiction="hunan", year=2024, amount=D("50"), on=date(2024, 3, 31))
    return pool


def test_monthly_series_of_the_pool():
    pool = _pool_movements()
    series = monthly_series(pool)
    # Jan: income 1000, spending 75 + 125 = 200, balance 800; Feb: nothing, 800;
    # Mar: income 600, spending 300, reserve 50 moved out, balance 800 + 600 − 300 − 50 = 1050
    assert [(m.month, m.income, m.spending, m.other, m.balance) for m in series] == [
        (date(2024, 1, 1), D("1000.00"), D("200.00"), D("0.00"), D("800.00")),
        (date(2024, 2, 1), D("0.00"), D("0.00"), D("0.00"), D("800.00")),
        (date(2024, 3, 1), D("600.00"), D("300.00"), D("-50.00"), D("1050.00")),
    ]
    health = fund_health(pool, on=date(2024, 3, 31))
    # months: 800 / 200 = 4.00; 800 / (200 / 2) = 8.00; 1050 / (500 / 3) = 6.30
    assert [m.months_of_spending for m in health["series"]] == [D("4.00"), D("8.00"), D("6.30")]
    assert [m.levels for m in health["series"]] == [["below_target"], ["target"], ["target"]]


def test_fund_page_and_statement_in_the_admin(admin_user):
    _pool_movements()
    client = Client()
    client.force_login(admin_user)
    url = reverse("admin:funds_health") + "?jurisdiction=hunan&w_gap=100&w_plan_met=1"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<polyline" in html and "1,050.00" in html
    # hunan 第六十五条: the 6–9 months target band and the 3-month line are drawn behind the balance
    assert 'class="band"' in html and 'class="alarm"' in html and "控制目标 6–9 个月" in html
    assert "本统筹区政策文件未规定基金缺口分担办法" in html  # hunan has no waterfall
    acct = posting.personal_account(_any_person(), "hunan", on=date(2024, 1, 1))
    st = client.get(reverse("admin:funds_fundaccount_change", args=[acct.pk]))
    assert st.status_code == 200 and "明细账" in st.content.decode()
    assert client.get(reverse("admin:funds_fundaccount_changelist")).status_code == 200
    assert client.get(reverse("admin:funds_journalentry_changelist")).status_code == 200
    assert client.get(reverse("admin:funds_reconcile")).status_code == 200


def _any_person():
    from funds.models import FundAccount

    return FundAccount.objects.filter(kind="personal").first().person


def test_sanmenxia_page_runs_the_waterfall(admin_user):
    client = Client()
    client.force_login(admin_user)
    url = reverse("admin:funds_health") + (
        "?jurisdiction=sanmenxia&w_gap=1000000&w_plan_met=1&w_area_balance=200000"
        "&w_risk_reserve_balance=400000&w_reserve_drawn_this_year=50000&r_last_year_pool_income=12345678.91"
    )
    html = client.get(url).content.decode()
    assert "75,000.00" in html and "1,234,567.89" in html
    assert "市级风险储备金调剂" in html and "share_finance" not in html  # the outputs in Chinese


def test_auditor_cannot_reverse(auditor, admin_user):
    from funds.admin import JournalEntryAdmin
    from funds.models import JournalEntry

    class R:
        def __init__(self, user):
            self.user = user

    ma = JournalEntryAdmin(JournalEntry, None)
    assert not ma.has_reverse_permission(R(auditor))
    assert ma.has_reverse_permission(R(admin_user))


def test_staff_settle_a_deceased_persons_account_in_the_admin(admin_user):
    from funds.models import FundAccount, JournalEntry

    stat("ziyang", "average_pension_monthly", 3000)  # the month of death is credited before the payout
    p = person("ziyang", category="retiree")
    acct = posting.personal_account(p, "ziyang", on=date(2024, 1, 1))
    posting.post_entry(
        business_key="t:1",
        kind=EntryKind.RETIREE_CREDIT,
        jurisdiction="ziyang",
        effective_on=date(2024, 1, 1),
        legs=[Leg(acct, D("84")), Leg(posting.fund_account("ziyang", AccountKind.POOLED), D("-84"))],
    )
    client = Client()
    client.force_login(admin_user)
    url = reverse("admin:funds_fundaccount_changelist")
    form = client.post(url, {"action": "settle_accounts", "_selected_action": [acct.pk]})
    assert form.status_code == 200 and "个人账户结清" in form.content.decode()
    done = client.post(
        url,
        {
            "action": "settle_accounts",
            "_selected_action": [acct.pk],
            "apply": "1",
            "event": "death_no_heirs",
            "on": "2024-03-05",
            "destination": "out_of_province",
            "mode": "transfer",
            "region": "",
        },
    )
    assert done.status_code == 302
    assert JournalEntry.objects.get(business_key=f"death:{acct.pk}").kind == EntryKind.DEATH_TO_POOL
    assert FundAccount.objects.get(pk=acct.pk).balance.balance == D("0.00")


def test_staff_post_the_years_reserve_extraction(admin_user):
    from funds.models import AccountBalance

    client = Client()
    client.force_login(admin_user)
    resp = client.post(
        reverse("admin:funds_health"), {"jurisdiction": "xianning", "amount": "4000000.00", "on": "2024-01-31"}
    )
    assert resp.status_code == 302
    reserve = posting.fund_account("xianning", AccountKind.RISK_RESERVE)
    assert AccountBalance.objects.get(account=reserve).balance == D("4000000.00")
    again = client.post(reverse("admin:funds_health"), {"jurisdiction": "xianning", "amount": "1", "on": "2024-06-30"})
    assert again.status_code == 302  # refused: one extraction a year (business key)
    assert AccountBalance.objects.get(account=reserve).balance == D("4000000.00")


def test_month_totals_follow_every_posting_path_and_reconcile():
    from funds.models import AccountMonthTotal
    from funds.reconcile import reconcile

    pool = _pool_movements()  # post_entry
    assert {(t.month, t.kind): t.amount for t in AccountMonthTotal.objects.filter(account=pool)} == {
        (date(2024, 1, 1), "contribution"): D("1000.00"),
        (date(2024, 1, 1), "retiree_credit"): D("-75.00"),
        (date(2024, 1, 1), "benefit_payment"): D("-125.00"),
        (date(2024, 3, 1), "contribution"): D("600.00"),
        (date(2024, 3, 1), "benefit_payment"): D("-300.00"),
        (date(2024, 3, 1), "reserve_extraction"): D("-50.00"),
    }
    assert reconcile(record=False).ok
    AccountMonthTotal.objects.filter(account=pool, kind="contribution", month=date(2024, 3, 1)).update(amount=D("1"))
    result = reconcile(record=False)
    assert result.checks["month_totals"] == 1
    assert next(b for b in result.breaks if b.check == "month_totals").account == pool.pk


def test_person_page_link_opens_the_persons_statement(admin_user):
    # the person page links to the account list with ?q=<person id>: one account → straight to its statement
    from funds.models import FundAccount

    _pool_movements()
    acct = FundAccount.objects.filter(kind="personal").first()
    client = Client()
    client.force_login(admin_user)
    changelist = reverse("admin:funds_fundaccount_changelist")
    page = client.get(changelist, {"q": str(acct.person_id)})
    assert page.status_code == 302 and page["Location"] == reverse("admin:funds_fundaccount_change", args=[acct.pk])
    listed = client.get(changelist, {"q": str(acct.person_id), "kind__exact": "personal"})
    assert listed.status_code == 200 and acct.code in listed.content.decode()
    assert acct.code not in client.get(changelist, {"q": "999999"}).content.decode()
