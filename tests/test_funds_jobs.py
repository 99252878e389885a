"""Batch jobs of the ledger: monthly retiree credits and yearly interest (set-based, idempotent).

Amounts by hand from the seeds:
- hunan 第四十二条: 75/month;
- xianning 细则 第十一条, D-XN8: 840/year credited as 840 ÷ 12 = 70/month;
- langfang 第三十六条(二): 2% × the enterprise retirees' average pension 3500 = 70.00 (no employer:
  flexible workers count with enterprises); organ/institution retirees 2% × 4500 = 90.00;
- ziyang 第十条: 2.8% × 2022 average pension 3000 = 84.00;
- sanmenxia 第九条: 3.8% × the employer's average base (30000 ÷ 6 = 5000) = 190.00;
  no employer: 3.8% × the statistic 2500 = 95.00.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from batch.models import RunStatus
from batch.runs import run_in_process
from enrollment import services
from funds import death, posting
from funds.interest import interest_for_year, yearly_interest
from funds.models import AccountBalance, AccountKind, EntryKind, FundAccount, JournalEntry, Posting
from funds.posting import Leg
from funds.reconcile import reconcile

from .test_funds_support import D, employer, fresh_policy, person, stat  # noqa: F401

pytestmark = pytest.mark.django_db


def credits_run(month: str, **kw):
    return run_in_process(
        "funds.retiree_credits", as_of=date.fromisoformat(month + "-01"), params={"month": month}, **kw
    )


def skipped_naming(run, parameter: str, persons: int = 1) -> None:
    """A missing policy value: the persons it concerns are skipped with the parameter named (issue #12 item 5)."""
    assert run.status == RunStatus.DONE_WITH_ERRORS
    reasons = list(run.skips.values_list("reason", flat=True))
    assert len(reasons) == persons and all(parameter in r for r in reasons), reasons


def personal_balance(p) -> Decimal:
    acct = FundAccount.objects.filter(person=p, kind=AccountKind.PERSONAL).first()
    return AccountBalance.objects.get(account=acct).balance if acct else D("0")


@pytest.fixture
def stats(db):
    stat("langfang", "average_pension_enterprise_monthly", 3500)
    stat("langfang", "average_pension_institution_monthly", 4500)
    stat("ziyang", "average_pension_monthly", 3000)
    stat("sanmenxia", "employer_average_base", 2500)


@pytest.mark.parametrize(
    ("jurisdiction", "start", "amount"),
    [
        ("hunan", date(2023, 6, 10), D("75.00")),
        ("xianning", date(2023, 6, 10), D("70.00")),
        ("langfang", date(2024, 1, 1), D("70.00")),
        ("ziyang", date(2023, 6, 10), D("84.00")),
        ("sanmenxia", date(2023, 6, 10), D("95.00")),
    ],
)
def test_monthly_credit_per_jurisdiction_and_idempotent(stats, jurisdiction, start, amount):
    p = person(jurisdiction, category="retiree", start=start)
    run = credits_run("2024-03", jurisdiction=jurisdiction)
    assert run.status == RunStatus.DONE
    assert run.counts["credited"] == 1 and run.counts["amount_fen"] == int(amount * 100)
    assert personal_balance(p) == amount
    entry = JournalEntry.objects.get(business_key=f"retiree-credit:{p.pk}:2024-03")
    assert entry.effective_on == date(2024, 3, 1) and entry.run_id == run.pk and entry.kind == EntryKind.RETIREE_CREDIT
    assert sorted(entry.postings.values_list("amount", flat=True)) == [-amount, amount]
    pool = FundAccount.objects.get(jurisdiction__code=jurisdiction, kind=AccountKind.POOLED)
    assert AccountBalance.objects.get(account=pool).balance == -amount
    again = credits_run("2024-03", jurisdiction=jurisdiction)
    assert again.counts == {"credited": 0, "suspense": 0, "accounts_opened": 0, "amount_fen": 0, "not_entitled": 0}
    assert personal_balance(p) == amount and Posting.objects.count() == 2
    assert reconcile(record=False).ok


def test_credits_start_the_month_after_retirement_and_stop_after_death(stats):
    # D-X11 / D-XN8 / langfang 第三十七条: from the month after; ziyang 第十一条(一)3: stop from the month after death
    mid = person("hunan", category="retiree", start=date(2024, 3, 15))  # retired 15 March → April first
    first = person("hunan", category="retiree", start=date(2024, 4, 1))  # retired 1 April → May first
    dies = person("hunan", category="retiree", start=date(2020, 1, 1))
    services.life_event_record(person=dies, kind="death", occurred_on=date(2024, 6, 10), jurisdiction="hunan")
    for month in ("2024-03", "2024-04", "2024-05", "2024-06", "2024-07"):
        credits_run(month)
    months = lambda p: sorted(  # noqa: E731
        JournalEntry.objects.filter(person=p, kind=EntryKind.RETIREE_CREDIT).values_list("effective_on", flat=True)
    )
    assert months(mid) == [date(2024, m, 1) for m in (4, 5, 6, 7)]
    assert months(first) == [date(2024, m, 1) for m in (5, 6, 7)]
    assert months(dies) == [date(2024, m, 1) for m in (3, 4, 5, 6)]  # June (month of death) credited, July not
    assert personal_balance(dies) == D("300.00")  # 4 × 75


def test_pool_only_retirees_get_no_account(stats):
    # ziyang 第十条: 单建统筹参保人员不建立个人账户
    emp = employer("ziyang", scheme="pool_only")
    p = person("ziyang", category="retiree", start=date(2023, 1, 1), scheme="pool_only")
    assert emp.scheme == "pool_only"
    run = credits_run("2024-03", jurisdiction="ziyang")
    assert run.counts["credited"] == 0
    assert not FundAccount.objects.filter(person=p).exists()


def test_missing_statistic_skips_the_persons_naming_it():
    # langfang 第三十六条(二): 2% of the enterprise retirees' average pension — not entered (D-X16)
    person("langfang", category="retiree", start=date(2024, 1, 1))
    skipped_naming(credits_run("2024-03", jurisdiction="langfang"), "average_pension_enterprise_monthly")


def test_langfang_two_average_pensions_by_the_retirees_group(stats):
    # 第三十六条(二): 机关事业单位退休人员 → the organ/institution average (4500 × 2% = 90.00);
    # 企业、其他用人单位以及灵活就业退休人员 → the enterprise average (3500 × 2% = 70.00)
    kinds = ("fiscal_institution", "other_institution", "enterprise", "social_organisation")
    retirees = {}
    for kind in kinds:
        emp = employer("langfang")
        emp.kind = kind
        emp.save()
        retirees[kind] = person("langfang", category="retiree", start=date(2024, 1, 1), employer_obj=emp)
    retirees["none"] = person("langfang", category="retiree", start=date(2024, 1, 1))
    run = credits_run("2024-03", jurisdiction="langfang")
    assert run.counts["credited"] == 5 and run.counts["amount_fen"] == 2 * 9000 + 3 * 7000
    expected = {"fiscal_institution": "90.00", "other_institution": "90.00"}
    for kind, p in retirees.items():
        assert personal_balance(p) == D(expected.get(kind, "70.00")), kind
    assert reconcile(record=False).ok


def test_langfang_missing_institution_average_names_it():
    stat("langfang", "average_pension_enterprise_monthly", 3500)
    emp = employer("langfang")
    emp.kind = "fiscal_institution"
    emp.save()
    person("langfang", category="retiree", start=date(2024, 1, 1), employer_obj=emp)
    skipped_naming(credits_run("2024-03", jurisdiction="langfang"), "average_pension_institution_monthly")


def test_sanmenxia_flexible_retiree_needs_the_shortfall_made_up(stats):
    # 第十七条: flexible workers have no account; after retirement only if the shortfall was made up,
    # from the month after (as in service, "次月起"). No employer: 3.8% × 2500 = 95.00 (第九条, D-S4).
    from funds.models import ShortfallSettlement

    flexible = person("sanmenxia", category="flexible", start=date(2010, 1, 1))
    retire = {"kind": "retirement", "occurred_on": date(2024, 1, 10), "jurisdiction": "sanmenxia"}
    services.life_event_record(person=flexible, **retire)
    employee = person("sanmenxia", category="employee", start=date(2010, 1, 1))
    services.life_event_record(person=employee, **retire)
    employee.spans.filter(category="retiree").update(employer=None)
    run = credits_run("2024-03", jurisdiction="sanmenxia")
    assert run.counts["credited"] == 1 and run.counts["not_entitled"] == 1
    assert personal_balance(flexible) == D("0") and personal_balance(employee) == D("95.00")
    ShortfallSettlement.objects.create(
        person=flexible, jurisdiction=flexible.spans.first().jurisdiction, paid_on=date(2024, 3, 15)
    )
    assert credits_run("2024-03", jurisdiction="sanmenxia").counts["credited"] == 0  # paid in March: not March
    run = credits_run("2024-04", jurisdiction="sanmenxia")
    assert run.counts["credited"] == 2 and run.counts["not_entitled"] == 0
    assert personal_balance(flexible) == D("95.00")
    # no such rule elsewhere: a hunan retiree who was a flexible worker is credited
    h = person("hunan", category="flexible", start=date(2010, 1, 1))
    services.life_event_record(person=h, kind="retirement", occurred_on=date(2024, 1, 10), jurisdiction="hunan")
    assert credits_run("2024-03", jurisdiction="hunan").counts["credited"] == 1


def test_death_on_the_first_of_the_month(stats):
    # ziyang 第十一条(一)3: credits stop from the month AFTER death — a death on 1 June still gets June
    z = person("ziyang", category="retiree", start=date(2020, 1, 1))
    services.life_event_record(person=z, kind="death", occurred_on=date(2024, 6, 1), jurisdiction="ziyang")
    for month in ("2024-05", "2024-06", "2024-07"):
        credits_run(month, jurisdiction="ziyang")
    assert sorted(
        JournalEntry.objects.filter(person=z, kind=EntryKind.RETIREE_CREDIT).values_list("effective_on", flat=True)
    ) == [date(2024, 5, 1), date(2024, 6, 1)]
    assert personal_balance(z) == D("168.00")  # 2 × 84
    # hunan is silent: the month's run names the missing parameter (D-X16) …
    from policy.models import Jurisdiction, PolicyParameter

    h = person("hunan", category="retiree", start=date(2020, 1, 1))
    services.life_event_record(person=h, kind="death", occurred_on=date(2024, 6, 1), jurisdiction="hunan")
    alive = person("hunan", category="retiree", start=date(2020, 1, 1))  # alive: credited, not held up by h
    first = credits_run("2024-06", jurisdiction="hunan")
    skipped_naming(first, "accounts.retiree_credit_in_death_month")
    assert first.skips.get().person_id == h.pk and first.counts["credited"] == 1 and personal_balance(alive) > 0
    # … until staff enter it (here: not credited)
    PolicyParameter.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="hunan"),
        key="accounts.retiree_credit_in_death_month",
        effective_from=date(2024, 1, 1),
        value=False,
        citation="经办决定（测试）",
    )
    from policy import resolver as policy

    policy.invalidate()
    run = credits_run("2024-06", jurisdiction="hunan")
    assert run.status == RunStatus.DONE
    assert run.counts["credited"] == 0 and run.counts["not_entitled"] == 1  # the alive one was credited before
    assert personal_balance(h) == D("0")


def test_sanmenxia_credit_uses_the_employers_average_base_and_suspension(stats):
    from contributions.models import EmployerBase

    emp = employer("sanmenxia")
    EmployerBase.objects.create(
        employer=emp,
        year_start=date(2023, 7, 1),
        headcount=6,
        sum_of_individual_bases=D("30000"),
        base=D("30000"),
        updated_at=timezone.now(),
    )
    p = person("sanmenxia", category="retiree", start=date(2023, 1, 1))
    span = p.spans.get()
    span.employer = emp
    span.save()
    credits_run("2024-03", jurisdiction="sanmenxia")
    assert personal_balance(p) == D("190.00")  # 3.8% × 30000/6
    # 第十九条: the employer refuses to pay from April → April's credit is held in suspense
    suspension = posting.suspension_open(employer=emp, start=date(2024, 4, 1))
    run = credits_run("2024-04", jurisdiction="sanmenxia")
    assert run.counts["suspense"] == 1
    assert personal_balance(p) == D("190.00")
    suspense = FundAccount.objects.get(person=p, kind=AccountKind.SUSPENSE)
    assert AccountBalance.objects.get(account=suspense).balance == D("190.00")
    posting.suspension_release(suspension, on=date(2024, 5, 20))
    assert personal_balance(p) == D("380.00")
    assert reconcile(record=False).ok


def test_preview_counts_but_writes_nothing(stats):
    person("hunan", category="retiree", start=date(2023, 1, 1))
    run = credits_run("2024-03", preview=True)
    assert run.counts["credited"] == 1
    assert not JournalEntry.objects.exists() and not FundAccount.objects.filter(kind="personal").exists()


def test_chunks_cover_everyone_once(stats):
    people = [person("hunan", category="retiree", start=date(2023, 1, 1)) for _ in range(7)]
    run = credits_run("2024-03", chunk_size=3)
    assert run.chunk_count == 3 and run.counts["credited"] == 7
    assert all(personal_balance(p) == D("75.00") for p in people)
    assert AccountBalance.objects.get(account__kind="pooled", account__jurisdiction__code="hunan").balance == D(
        "-525.00"
    )


# --- interest ------------------------------------------------------------------------------


def test_interest_rule_by_hand():
    # 2024 has 366 days. 1000 all year + 365 from 1 July (184 days to 31 Dec):
    # (1000 × 366 + 365 × 184) / 366 = 433160 / 366 = 1183.497…; × 0.35% = 4.1422… → 4.14
    got = interest_for_year(opening=D("1000"), movements=[(date(2024, 7, 1), D("365"))], year=2024, rate=D("0.0035"))
    assert got == D("4.14")
    # a full year's balance earns exactly the rate: 1000 × 1.5% = 15.00
    assert yearly_interest(opening=D("1000"), weighted_day_amount=D("0"), days_in_year=365, rate=D("0.015")) == D(
        "15.00"
    )
    # half-up to the fen: 1000 × 0.0005 = 0.50; 10 × 0.0005 = 0.005 → 0.01
    assert yearly_interest(opening=D("10"), weighted_day_amount=D("0"), days_in_year=365, rate=D("0.0005")) == D("0.01")


def test_interest_job_posts_the_year_once(stats):
    from policy.models import Jurisdiction, PolicyParameter

    PolicyParameter.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="sanmenxia"),
        key="funds.personal_account_interest_pct",
        effective_from=date(2024, 1, 1),
        value="0.35",
        citation="sanmenxia 第九条",
        note="同期居民活期存款利率（测试）",
    )
    p = person("sanmenxia", category="retiree", start=date(2020, 1, 1))
    acct = posting.personal_account(p, "sanmenxia", on=date(2023, 1, 1))
    pool = posting.fund_account("sanmenxia", AccountKind.POOLED)
    for key, day, amount in (("o", date(2023, 12, 31), "1000"), ("j", date(2024, 7, 1), "365")):
        posting.post_entry(
            business_key=key,
            kind=EntryKind.OPENING,
            jurisdiction="sanmenxia",
            effective_on=day,
            legs=[Leg(acct, D(amount)), Leg(pool, -D(amount))],
        )
    run = run_in_process(
        "funds.interest_post", as_of=date(2024, 12, 31), jurisdiction="sanmenxia", params={"year": 2024}
    )
    assert run.counts == {"credited": 1, "amount_fen": 414}  # 4.14 as computed by hand above
    e = JournalEntry.objects.get(business_key=f"interest:{acct.pk}:2024")
    assert e.effective_on == date(2024, 12, 31)
    assert AccountBalance.objects.get(account=acct).balance == D("1369.14")
    again = run_in_process(
        "funds.interest_post", as_of=date(2024, 12, 31), jurisdiction="sanmenxia", params={"year": 2024}
    )
    assert again.counts == {"credited": 0, "amount_fen": 0}
    assert reconcile(record=False).ok


def test_interest_without_a_rate_fails_naming_the_parameter():
    person("hunan", category="retiree")
    run = run_in_process("funds.interest_post", as_of=date(2024, 12, 31), jurisdiction="hunan", params={"year": 2024})
    skipped_naming(run, "funds.personal_account_interest_pct")


# --- schedule and tasks --------------------------------------------------------------------


def test_beat_schedule_is_installed():
    from django_celery_beat.models import PeriodicTask

    tasks = set(PeriodicTask.objects.filter(task__startswith="funds.").values_list("task", flat=True))
    assert tasks == {
        "funds.retiree_credits_month",
        "funds.interest_year",
        "funds.contributions_post_nightly",
        "funds.reconcile_nightly",
    }


def test_schedules_command_rewrites_the_beat_rows():
    # monthly credits on the 1st 02:00, interest on 2 January 03:00, nightly posting 01:30 and reconciliation 04:00
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.filter(task="funds.reconcile_nightly").delete()
    PeriodicTask.objects.filter(task="funds.interest_year").update(enabled=False)  # staff switched it off
    call_command("funds_schedules", stdout=io.StringIO())
    call_command("funds_schedules", stdout=io.StringIO())  # twice: nothing duplicated
    rows = {
        t.task: (t.crontab.minute, t.crontab.hour, t.crontab.day_of_month, t.crontab.month_of_year, t.enabled)
        for t in PeriodicTask.objects.filter(task__startswith="funds.").select_related("crontab")
    }
    assert rows == {
        "funds.retiree_credits_month": ("0", "2", "1", "*", True),
        "funds.interest_year": ("0", "3", "2", "1", False),
        "funds.contributions_post_nightly": ("30", "1", "*", "*", True),
        "funds.reconcile_nightly": ("0", "4", "*", "*", True),
    }
    assert str(PeriodicTask.objects.get(task="funds.reconcile_nightly").crontab.timezone) == "Asia/Shanghai"


def test_monthly_task_runs_each_jurisdiction_on_its_own(stats):
    # one run per jurisdiction (each fails or succeeds on its own); xianning needs no statistic (840 ÷ 12)
    from batch.models import BatchRun
    from funds.tasks import reconcile_nightly, retiree_credits_month

    h = person("hunan", category="retiree", start=date(2023, 1, 1))
    x = person("xianning", category="retiree", start=date(2023, 1, 1))
    runs = retiree_credits_month(month="2024-03")
    assert set(runs) == {"hunan", "langfang", "sanmenxia", "xianning", "ziyang"}
    assert BatchRun.objects.filter(job="funds.retiree_credits", status=RunStatus.DONE).count() == 5
    assert (personal_balance(h), personal_balance(x)) == (D("75.00"), D("70.00"))
    assert reconcile_nightly() == {
        "ok": True,
        "checks": dict.fromkeys(
            [
                "entries_balanced",
                "balances_match",
                "month_totals",
                "no_negative_personal",
                "contributions_posted",
                "contribution_split",
            ],
            0,
        ),
    }


def test_interest_task_skips_jurisdictions_without_a_rate():
    from funds.tasks import interest_year

    assert interest_year(year=2024) == {}


def test_interest_sql_matches_the_rule_for_many_accounts():
    """The set-based job and funds.interest.interest_for_year agree to the fen (2023: 365 days, 1.15%)."""
    import random

    from policy.models import Jurisdiction, PolicyParameter

    PolicyParameter.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="hunan"),
        key="funds.personal_account_interest_pct",
        effective_from=date(2023, 1, 1),
        value="1.15",
        citation="测试",
        note="测试利率",
    )
    rnd = random.Random(5)
    pool = posting.fund_account("hunan", AccountKind.POOLED)
    expected = {}
    for i in range(12):
        p = person("hunan", category="retiree", start=date(2020, 1, 1))
        acct = posting.personal_account(p, "hunan", on=date(2022, 1, 1))
        opening = D(rnd.randrange(0, 500000)) / 100
        moves = sorted(
            (date(2023, rnd.randrange(1, 13), rnd.randrange(1, 29)), D(rnd.randrange(1, 20000)) / 100)
            for _ in range(rnd.randrange(0, 6))
        )
        if opening:
            posting.post_entry(
                business_key=f"o{i}",
                kind=EntryKind.OPENING,
                jurisdiction="hunan",
                effective_on=date(2022, 6, 1),
                legs=[Leg(acct, opening), Leg(pool, -opening)],
            )
        for j, (day, amount) in enumerate(moves):
            posting.post_entry(
                business_key=f"m{i}:{j}",
                kind=EntryKind.RETIREE_CREDIT,
                jurisdiction="hunan",
                effective_on=day,
                legs=[Leg(acct, amount), Leg(pool, -amount)],
            )
        expected[acct.pk] = interest_for_year(opening=opening, movements=moves, year=2023, rate=D("0.0115"))
    run = run_in_process("funds.interest_post", as_of=date(2023, 12, 31), jurisdiction="hunan", params={"year": 2023})
    got = {
        e.postings.get(account__kind="personal").account_id: e.postings.get(account__kind="personal").amount
        for e in JournalEntry.objects.filter(kind=EntryKind.INTEREST)
    }
    assert got == {k: v for k, v in expected.items() if v > 0}
    assert run.counts["amount_fen"] == int(sum(got.values()) * 100)


def test_death_payout_takes_the_death_months_credit_with_it(stats):
    # ziyang 第十一条(一)3: June is credited for a death on 1 June; the payout, made before June's run, includes it
    z = person("ziyang", category="retiree", start=date(2020, 1, 1))
    credits_run("2024-05", jurisdiction="ziyang")
    services.life_event_record(person=z, kind="death", occurred_on=date(2024, 6, 1), jurisdiction="ziyang")
    entry = death.post_death(person=z, jurisdiction="ziyang", on=date(2024, 6, 1), heirs=True)
    assert entry.kind == EntryKind.DEATH_INHERITANCE
    assert -entry.postings.get(account__kind=AccountKind.PERSONAL).amount == D("168.00")  # May and June, 2 × 84
    # June's run later finds the credit posted; July is past the death: nothing is left in the account
    assert credits_run("2024-06", jurisdiction="ziyang").counts["credited"] == 0
    assert credits_run("2024-07", jurisdiction="ziyang").counts["credited"] == 0
    assert personal_balance(z) == D("0")
