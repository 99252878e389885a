"""The contribution engine: bases, dues, late fees — set-based SQL against the scalar rules.

Hand-computed cases write their arithmetic next to the assertion. Reference wages are
test statistics (the seeds give none): 6789.41 a month everywhere, 7123.45 in langfang.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest

from contributions import services
from contributions.calculations.contribution import contribution_breakdown
from contributions.calculations.late_fee import late_fee_amount
from contributions.calculations.personal_account import age_in_month
from contributions.models import ContributionBase, EmployerBase, MonthlyDue, WageDeclaration
from enrollment.models import Employer, EnrolmentSpan, InsuredPerson
from operations.demo.population import credit_code, id_number
from policy.models import Jurisdiction, ReferenceStatistic
from policy.resolver import Policy, PolicyError

pytestmark = pytest.mark.django_db

REF = {"hunan": "6789.41", "langfang": "7123.45", "xianning": "6789.41", "sanmenxia": "6789.41", "ziyang": "6789.41"}
REGION = {"hunan": "430102", "langfang": "131002", "xianning": "421202", "sanmenxia": "411202", "ziyang": "512002"}
JULY = date(2025, 7, 1)


@pytest.fixture(autouse=True)
def reference_wages(db):
    for code, value in REF.items():
        ReferenceStatistic.objects.create(
            jurisdiction=Jurisdiction.objects.get(code=code),
            key="reference_monthly_wage",
            effective_from=date(2023, 1, 1),
            period_label="测试",
            value=Decimal(value),
            is_demo=True,
        )


class Register:
    """A small register built directly (fast): employers, persons with valid 身份证号, spans."""

    def __init__(self):
        self.n = 0

    def employer(self, code: str, **fields) -> Employer:
        self.n += 1
        return Employer.objects.create(
            credit_code=credit_code(REGION[code], self.n),
            name=f"单位{self.n}",
            jurisdiction=Jurisdiction.objects.get(code=code),
            registered_on=date(2015, 1, 1),
            **fields,
        )

    def person(
        self,
        code: str,
        *,
        category: str = "employee",
        employer: Employer | None = None,
        birth: date = date(1985, 3, 9),
        start: date = date(2020, 1, 1),
        scheme: str = "combined",
        male: bool = True,
    ) -> InsuredPerson:
        self.n += 1
        person = InsuredPerson.objects.create(
            id_number=id_number(REGION[code], birth, self.n % 500, male),
            name=f"人{self.n}",
            sex="1" if male else "2",
            birth_date=birth,
        )
        EnrolmentSpan.objects.create(
            person=person,
            jurisdiction=Jurisdiction.objects.get(code=code),
            category=category,
            employer=employer,
            scheme=scheme,
            start=start,
        )
        return person


@pytest.fixture
def reg():
    return Register()


def declare(person, employer, *, year=2025, monthly=None, annual=None, first_pay_month=None):
    return WageDeclaration.objects.create(
        person=person,
        employer=employer,
        year=year,
        monthly_wage=None if monthly is None else Decimal(monthly),
        annual_wage_total=None if annual is None else Decimal(annual),
        first_pay_month=first_pay_month,
    )


def reset(code: str, on: date = JULY, **kw):
    return services.base_reset(jurisdiction=code, on=on, in_process=True, **kw)


def bill(month: date, code: str | None = None):
    return services.dues_generate(month=month, jurisdiction=code, in_process=True)


def accrue(on: date, code: str | None = None):
    return services.arrears_accrue(on=on, jurisdiction=code, in_process=True)


# --- hand-computed cases ----------------------------------------------------------------------


def test_hunan_low_wage_is_billed_on_the_floor(reg):
    # hunan 第十条: floor 60% × 6789.41 = 4073.646; 第十一条: 8% → 325.89168 → 325.89, 2% → 81.47292 → 81.47;
    # 第四十一条: account 2% = 81.47; pool = 325.89 + 81.47 − 81.47 = 325.89; 第五十三条: 180 / 12 = 15.00;
    # maternity: no rate in the seed (unknown, null); total = 325.89 + 81.47 + 15.00 = 422.36; no due day.
    e = reg.employer("hunan")
    p = reg.person("hunan", employer=e)
    declare(p, e, monthly="3000.00")
    run = reset("hunan")
    assert run.counts["recomputed"] == 1 and run.counts["clamped_floor"] == 1
    base = ContributionBase.objects.get(person=p)
    assert (base.base, base.basis, base.year_start) == (Decimal("4073.6460"), "floor", date(2025, 1, 1))
    run = bill(JULY, "hunan")
    due = MonthlyDue.objects.get(person=p, month=JULY)
    assert (due.employer_amount, due.individual_amount, due.personal_account_amount) == (
        Decimal("325.89"),
        Decimal("81.47"),
        Decimal("81.47"),
    )
    assert (due.pool_amount, due.critical_illness_amount, due.maternity_amount) == (Decimal("325.89"), 15, None)
    assert due.total == Decimal("422.36") and due.due_date is None
    assert run.counts["missing:contribution.due_day"] == 1


def test_hunan_high_wage_is_capped_and_employer_base_is_the_larger(reg):
    # ceiling 300% × 6789.41 = 20368.23 (第十条); employer base = max(wage bill, Σ bases) (第九条):
    # wages 30000 + 5000 = 35000 > Σ bases 20368.23 + 5000 = 25368.23 → 35000.
    e = reg.employer("hunan")
    rich, plain = reg.person("hunan", employer=e), reg.person("hunan", employer=e)
    declare(rich, e, monthly="30000")
    declare(plain, e, monthly="5000")
    run = reset("hunan")
    assert run.counts["clamped_ceiling"] == 1
    assert ContributionBase.objects.get(person=rich).base == Decimal("20368.23")
    eb = EmployerBase.objects.get(employer=e)
    assert (eb.wage_bill, eb.sum_of_individual_bases, eb.base, eb.basis, eb.headcount) == (
        Decimal("35000"),
        Decimal("25368.23"),
        Decimal("35000"),
        "wage_bill",
        2,
    )


def test_langfang_quarterly_payer_is_billed_for_the_quarter_in_its_first_month(reg):
    # langfang 第十八条: quarterly payers declare in the quarter's first month → Jul, Aug, Sep all due 2025-07-25.
    # wage 10000 > 市社平工资 7123.45 (第十二条): 6% = 600.00, 2% = 200.00, account 2% = 200.00, total 800.00.
    e = reg.employer("langfang", payment_frequency="quarterly")
    p = reg.person("langfang", employer=e)
    declare(p, e, annual="120000")  # 本人上年度工资总额 120000 ÷ 12 = 10000
    reset("langfang")
    run = bill(JULY, "langfang")
    assert run.counts["generated"] == 3
    dues = list(MonthlyDue.objects.filter(person=p).order_by("month"))
    assert [d.month.month for d in dues] == [7, 8, 9]
    assert {d.due_date for d in dues} == {date(2025, 7, 25)}
    assert {(d.employer_amount, d.individual_amount, d.personal_account_amount, d.total) for d in dues} == {
        (Decimal("600.00"), Decimal("200.00"), Decimal("200.00"), Decimal("800.00"))
    }
    assert bill(date(2025, 8, 1), "langfang").counts.get("generated", 0) == 0  # already billed


def test_langfang_missed_audit_raises_last_years_base_by_ten_percent(reg):
    # langfang 第二十一条, D-L19: no declaration for 2025 → 8000.00 × 1.10 = 8800.00 (above the 7123.45 floor);
    # the employer base 8000 × 1.1 = 8800 too; bills 6% = 528.00 and 2% = 176.00.
    e = reg.employer("langfang")
    p = reg.person("langfang", employer=e)
    declare(p, e, year=2024, monthly="8000")
    reset("langfang", date(2024, 7, 1))
    assert ContributionBase.objects.get(person=p, year_start=date(2024, 7, 1)).base == Decimal("8000")
    run = reset("langfang")
    assert run.counts["raised_by_penalty"] == 1
    base = ContributionBase.objects.get(person=p, year_start=JULY)
    assert (base.base, base.basis) == (Decimal("8800.0000"), "penalty_uplift")
    eb = EmployerBase.objects.get(employer=e, year_start=JULY)
    assert (eb.base, eb.basis, eb.audited) == (Decimal("8800.0000"), "penalty_uplift", False)
    bill(JULY, "langfang")
    due = MonthlyDue.objects.get(person=p, month=JULY)
    assert (due.employer_amount, due.individual_amount) == (Decimal("528.00"), Decimal("176.00"))


def test_langfang_difficult_enterprise_floor(reg):
    # langfang 第十六条: certified difficult enterprise → floor 60% × 7123.45 = 4274.07; wage 3000 → 4274.07.
    e = reg.employer("langfang", is_difficult=True, difficult_from=date(2025, 1, 1))
    p = reg.person("langfang", employer=e)
    declare(p, e, monthly="3000")
    reset("langfang")
    assert ContributionBase.objects.get(person=p).base == Decimal("4274.07")


def test_sanmenxia_account_share_changes_in_the_month_of_the_45th_birthday(reg):
    # sanmenxia 第九条, D-S5: wage 5000 (between 4073.646 and 20368.23): 7% = 350.00, 2% = 100.00,
    # maternity 1% = 50.00 (第二十二条); account 2% + 1.5% = 175.00 from the month of turning 45, else 2% + 1% = 150.00.
    e = reg.employer("sanmenxia")
    turning = reg.person("sanmenxia", employer=e, birth=date(1980, 7, 31))
    younger = reg.person("sanmenxia", employer=e, birth=date(1980, 8, 1))
    for p in (turning, younger):
        declare(p, e, monthly="5000")
    reset("sanmenxia")
    bill(JULY, "sanmenxia")
    t, y = MonthlyDue.objects.get(person=turning), MonthlyDue.objects.get(person=younger)
    assert (t.employer_amount, t.individual_amount, t.maternity_amount, t.total) == (
        Decimal("350.00"),
        Decimal("100.00"),
        Decimal("50.00"),
        Decimal("500.00"),
    )
    assert (t.personal_account_amount, t.pool_amount) == (Decimal("175.00"), Decimal("275.00"))
    assert (y.personal_account_amount, y.pool_amount) == (Decimal("150.00"), Decimal("300.00"))


def test_sanmenxia_unknown_wage_uses_the_average_wage(reg):
    # sanmenxia 第六条: 不能确定 → 100% of 6789.41; flexible 第十七条: 60% = 4073.646 at 4.9% = 199.608654 → 199.61,
    # maternity 1% = 40.73646 → 40.74, no account.
    e = reg.employer("sanmenxia")
    unknown = reg.person("sanmenxia", employer=e)
    flexible = reg.person("sanmenxia", category="flexible")
    reset("sanmenxia")
    assert ContributionBase.objects.get(person=unknown).base == Decimal("6789.41")
    assert ContributionBase.objects.get(person=unknown).basis == "default_unknown"
    bill(JULY, "sanmenxia")
    due = MonthlyDue.objects.get(person=flexible)
    assert (due.base, due.employer_amount, due.individual_amount, due.maternity_amount) == (
        Decimal("4073.6460"),
        Decimal("0.00"),
        Decimal("199.61"),
        Decimal("40.74"),
    )
    assert due.personal_account_amount == 0


def test_xianning_reports_every_missing_parameter_instead_of_inventing(reg):
    e = reg.employer("xianning")
    p = reg.person("xianning", employer=e)
    declare(p, e, monthly="5000")
    flexible = reg.person("xianning", category="flexible")
    run = reset("xianning")
    # D-XN1, D-X16: no floor, no flexible base → each reported by its parameter, nothing computed.
    assert run.counts["missing:contribution.base_floor_pct"] == 1
    assert run.counts["missing:contribution.flexible_base_pct"] == 1 and not run.counts.get("recomputed")
    assert not ContributionBase.objects.exists()
    run = bill(JULY, "xianning")
    assert not MonthlyDue.objects.filter(person__in=[p, flexible]).exists()
    assert run.counts["base_missing:contribution.base_floor_pct"] == 1


def test_reset_is_idempotent_and_preview_keeps_nothing(reg):
    e = reg.employer("ziyang")
    people = [reg.person("ziyang", employer=e) for _ in range(5)]
    for i, p in enumerate(people):
        declare(p, e, monthly=str(3000 + 4000 * i))
    preview = reset("ziyang", preview=True)
    assert preview.counts["recomputed"] == 5 and not ContributionBase.objects.exists()
    first = reset("ziyang")
    assert first.counts["recomputed"] == 5
    again = reset("ziyang")
    assert again.counts.get("recomputed", 0) == 0 and again.counts["unchanged"] == 5
    assert not again.counts.get("clamped_floor") and not again.counts.get("employer_bases")
    WageDeclaration.objects.filter(person=people[0]).update(monthly_wage=Decimal("9000"))
    third = reset("ziyang")
    assert third.counts["recomputed"] == 1 and third.counts["unchanged"] == 4


def test_dues_and_accrual_are_idempotent(reg):
    e = reg.employer("ziyang")
    people = [reg.person("ziyang", employer=e) for _ in range(4)]
    for p in people:
        declare(p, e, monthly="8000")
    reset("ziyang")
    assert bill(JULY).counts["generated"] == 4
    again = bill(JULY)
    assert again.counts.get("generated", 0) == 0 and again.counts["existing"] == 4
    first = accrue(date(2025, 8, 10))
    assert first.counts["accrued"] == 4 and first.counts["in_arrears"] == 4
    assert accrue(date(2025, 8, 10)).counts.get("accrued", 0) == 0
    assert accrue(date(2025, 8, 11)).counts["accrued"] == 4


def test_late_fee_and_deferral(reg):
    # ziyang wage 10000: 7.0% = 700.00, 2% = 200.00, maternity 0.7% = 70.00, 大额 no premium (0.00) → total 970.00,
    # due 2025-07-25 (第九条(四)). As of 2025-08-10: 16 days × 970 × 0.05% = 7.76 (D-X14).
    e = reg.employer("ziyang")
    p = reg.person("ziyang", employer=e)
    declare(p, e, monthly="10000")
    reset("ziyang")
    bill(JULY, "ziyang")
    due = MonthlyDue.objects.get(person=p)
    assert (due.total, due.critical_illness_amount, due.due_date) == (Decimal("970.00"), 0, date(2025, 7, 25))
    accrue(date(2025, 7, 25))
    due.refresh_from_db()
    assert due.late_fee == 0  # paying on the due date costs nothing
    accrue(date(2025, 8, 10))
    due.refresh_from_db()
    assert due.late_fee == Decimal("7.76")
    # 缓缴 2025-07-01 … 2025-08-01: 26–31 July carry no fee → 10 days × 970 × 0.05% = 4.85.
    services.deferral_approve(
        employer=e, start=date(2025, 7, 1), end=date(2025, 8, 1), approved_on=date(2025, 7, 1), citation="测试批准"
    )
    run = accrue(date(2025, 8, 10))
    due.refresh_from_db()
    assert (due.late_fee, due.deferred, run.counts["accrued"]) == (Decimal("4.85"), True, 1)


def test_accrued_fees_follow_the_late_fee_rule(reg):
    rnd = random.Random(7)
    e = reg.employer("langfang")
    people = [reg.person("langfang", employer=e) for _ in range(30)]
    for p in people:
        declare(p, e, monthly=f"{rnd.randrange(500000, 2500000) / 100:.2f}")
    reset("langfang")
    bill(JULY, "langfang")
    for d in MonthlyDue.objects.filter(person__in=people[:10]):
        MonthlyDue.objects.filter(pk=d.pk).update(paid_principal=(d.total / 3).quantize(Decimal("0.01")))
    as_of = date(2025, 11, 3)
    accrue(as_of)
    policy = Policy("langfang", as_of)
    for d in MonthlyDue.objects.filter(person__in=people):
        days, fee = late_fee_amount(policy, amount=d.total - d.paid_principal, due_date=d.due_date, paid_on=as_of)
        assert days == 101 and d.late_fee == fee, (d.total, d.paid_principal, d.late_fee, fee)


# --- the set-based SQL evaluates the scalar rules ----------------------------------------------


def _population(reg: Register, code: str, n: int, rnd: random.Random) -> list[InsuredPerson]:
    employers = [
        reg.employer(code),
        reg.employer(code),
        reg.employer(code, kind="fiscal_institution"),
        reg.employer(code, is_difficult=True, difficult_from=date(2024, 1, 1)),
        reg.employer(code, payment_frequency=rnd.choice(["quarterly", "half_yearly", "yearly"])),
    ]
    people = []
    for _ in range(n):
        category = rnd.choices(["employee", "flexible", "unemployed", "retiree"], [70, 14, 10, 6])[0]
        employer = rnd.choice(employers) if category == "employee" else None
        scheme = "pool_only" if code == "ziyang" and rnd.random() < 0.2 else "combined"
        birth = date(1980, 7, 1) if rnd.random() < 0.1 else date(rnd.randrange(1962, 2003), rnd.randrange(1, 13), 15)
        p = reg.person(code, category=category, employer=employer, birth=birth, scheme=scheme, male=rnd.random() < 0.5)
        people.append(p)
        if category != "employee":
            continue
        r = rnd.random()
        wage = f"{rnd.randrange(100000, 3500000) / 100:.2f}"
        if r < 0.45:
            declare(p, employer, monthly=wage)
        elif r < 0.7:
            declare(p, employer, annual=f"{rnd.randrange(1000000, 40000000) / 100:.2f}")
        elif r < 0.8:
            declare(p, employer, monthly=wage, first_pay_month=date(2025, 3, 1))
        elif r < 0.9 and code == "langfang":  # last year's base only: the employer missed the audit
            declare(p, employer, year=2024, monthly=wage)
    return people


def _scalar_kind(employer: Employer | None) -> str:
    return services.employer_kind_for_base(employer, date(2025, 1, 1))


@pytest.mark.parametrize("code", ["hunan", "langfang", "xianning", "sanmenxia", "ziyang"])
def test_set_based_bases_and_dues_equal_the_scalar_rules(reg, code):
    """A few hundred generated persons per run: each stored base and each bill line equals the scalar result."""
    rnd = random.Random(hash(code) % 1000)
    people = _population(reg, code, 90, rnd)
    if code == "langfang":
        reset(code, date(2024, 7, 1))  # last year's bases, for the missed-audit uplift
    run = reset(code)
    checked = 0
    for p in people:
        try:
            expected = services.base_for(p.pk, JULY)
        except PolicyError:
            assert not ContributionBase.objects.filter(person=p, year_start__gte=date(2025, 1, 1)).exists()
            continue
        if expected is None:
            continue
        row = ContributionBase.objects.get(person=p, year_start=expected.year_start)
        assert (row.base, row.basis, row.category) == (expected.base, expected.basis, expected.category), p.pk
        assert row.wage == expected.wage
        checked += 1
    assert checked == run.counts.get("recomputed", 0) + run.counts.get("unchanged", 0)
    if code != "xianning":
        assert checked > 40

    for month in (JULY, date(2025, 12, 1)):
        bill(month, code)
    dues = MonthlyDue.objects.filter(person__in=people).exclude(category="retiree").select_related("person")
    compared = 0
    for due in dues:
        row = ContributionBase.objects.get(
            person=due.person, year_start__lte=due.month, year_start__gt=date(2024, 7, 1)
        )
        span = EnrolmentSpan.objects.select_related("employer").get(person=due.person)
        policy = Policy(code, due.month)
        wage = row.wage if row.category == "employee" and row.basis != "default_unknown" else None
        kind = _scalar_kind(span.employer)
        bd = contribution_breakdown(
            policy,
            category=due.category,
            monthly_wage=wage,
            employer_kind=kind,
            scheme=span.scheme,
            age=age_in_month(due.person.birth_date, due.month),
        )
        got = (
            due.base,
            due.employer_amount,
            due.individual_amount,
            due.maternity_amount,
            due.critical_illness_amount,
            due.personal_account_amount,
            due.pool_amount,
        )
        want = (bd.base, bd.employer, bd.individual, bd.maternity, bd.critical_illness, bd.personal_account, bd.pool)
        assert got == want, (code, due.category, kind, span.scheme, got, want)
        assert due.total == bd.employer + bd.individual + (bd.maternity or 0) + (bd.critical_illness or 0)
        compared += 1
    # every person the scalar rule can bill was billed
    billable = 0
    for p in people:
        span = EnrolmentSpan.objects.select_related("employer").get(person=p)
        if span.category == "retiree":
            continue
        try:
            sel = services.base_for(p.pk, JULY)
            contribution_breakdown(
                Policy(code, JULY),
                category=span.category,
                monthly_wage=sel.wage if sel.category == "employee" and sel.basis != "default_unknown" else None,
                employer_kind=_scalar_kind(span.employer),
                scheme=span.scheme,
                age=40,
            )
        except PolicyError:
            continue
        billable += 1
    assert MonthlyDue.objects.filter(person__in=people, month=JULY).exclude(category="retiree").count() == billable
    if code != "xianning":
        assert compared > 40


def test_unpaid_dues_follow_a_corrected_declaration_paid_ones_do_not(reg):
    # ziyang: 10000 → 970.00 a month; corrected to 12000 → 7.0% 840.00 + 2% 240.00 + 0.7% 84.00 = 1164.00.
    e = reg.employer("ziyang")
    p = reg.person("ziyang", employer=e)
    d = declare(p, e, monthly="10000")
    reset("ziyang")
    bill(JULY)
    bill(date(2025, 8, 1))
    services.payment_record(person=p, amount=Decimal("100"), paid_on=date(2025, 7, 20), reference="R1")
    d.monthly_wage = Decimal("12000")
    d.save()
    reset("ziyang")
    assert bill(JULY).counts.get("recalculated", 0) == 0  # July is partly paid: left as billed
    run = bill(date(2025, 8, 1))
    assert run.counts["recalculated"] == 1 and not run.counts.get("generated")
    jul, aug = MonthlyDue.objects.filter(person=p).order_by("month")
    assert (jul.total, aug.total, aug.base) == (Decimal("970.00"), Decimal("1164.00"), Decimal("12000"))
    assert bill(date(2025, 8, 1)).counts.get("recalculated", 0) == 0
