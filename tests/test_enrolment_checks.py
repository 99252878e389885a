"""Registration deadlines and enrolment checks (issue #14 item 2), each citing its article.

hunan 第十六条 (age, employee + resident at once), 第十七条 (30 days), 第二十三条 (retirees not transferred);
langfang 第六条 (flexible workers over retirement age), 第十条 (30 days), 第十三条 (new employer's base);
sanmenxia 第十六条 (30 days); ziyang 第九条(八) (单建统筹 → 统账结合 once, from the next month), 第十三条
(a break over one year can no longer be made up).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from contributions.calculations.new_employer import new_employer_base
from contributions.services import back_payment_bill_issue
from enrollment import services
from enrollment.calculations import enrolment_checks as ec
from enrollment.models import EnrolmentSpan, LifeEvent
from enrollment.requests.selectors import late_registrations
from operations.demo.population import credit_code, id_number
from policy.resolver import Policy, PolicyMissing

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]


# --- 登记时限 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "on", "deadline", "cite"),
    [
        ("hunan", date(2025, 3, 10), date(2025, 4, 9), "hunan 第十七条"),
        ("langfang", date(2025, 3, 10), date(2025, 4, 9), "langfang 第十条"),
        ("sanmenxia", date(2025, 3, 10), date(2025, 4, 9), "sanmenxia 第十六条"),
        ("xianning", date(2025, 3, 10), None, ""),  # silent: not judged
    ],
)
def test_registration_deadline_is_30_days_where_a_seed_says_so(code, on, deadline, cite):
    policy = Policy(code, on)
    assert ec.registration_deadline(policy, on) == deadline
    assert policy.citation(ec.DEADLINE) == cite


def test_days_late():
    assert ec.days_late(date(2025, 4, 9), date(2025, 4, 9)) == 0  # the 30th day is on time
    assert ec.days_late(date(2025, 4, 9), date(2025, 4, 12)) == 3
    assert ec.days_late(None, date(2030, 1, 1)) == 0


def test_life_event_records_the_report_and_the_late_list_shows_it(employer_a, person_factory, case_worker):
    """hunan 第十七条: a hire reported 31 days after the start of employment is late; one on day 30 is not."""
    on_time = services.person_register(id_number=id_number("430105", date(1990, 1, 1), 1, True), name="按期")
    late = services.person_register(id_number=id_number("430105", date(1990, 1, 1), 2, True), name="逾期")
    for person, reported in ((on_time, date(2025, 4, 9)), (late, date(2025, 4, 10))):
        services.life_event_record(
            person=person,
            kind="hire",
            occurred_on=date(2025, 3, 10),
            jurisdiction="hunan",
            employer=employer_a,
            reported_on=reported,
        )
    assert list(late_registrations(case_worker).values_list("person__name", flat=True)) == ["逾期"]
    assert LifeEvent.objects.get(person=late).report_deadline == date(2025, 4, 9)


# --- 参保年龄 --------------------------------------------------------------------------------------------------


def _age(code: str, *, birth: date, sex: str = "1", role: str = "", category: str = "employee", on=date(2025, 6, 1)):
    return ec.enrolment_age_refusal(
        Policy(code, on), category=category, birth_date=birth, sex=sex, female_role=role, on=on
    )


def test_hunan_refuses_enrolment_at_the_retirement_age():
    """hunan 第十六条 with 第二十八条: men 60, female cadres 55, female workers 50."""
    assert _age("hunan", birth=date(1965, 6, 2)) is None  # 59 on 2025-06-01
    refusal = _age("hunan", birth=date(1965, 6, 1))
    assert "60" in refusal and "hunan 第十六条" in refusal
    assert _age("hunan", birth=date(1975, 6, 1), sex="2", role="worker") is not None  # 50
    assert _age("hunan", birth=date(1975, 6, 1), sex="2", role="cadre") is None
    assert _age("hunan", birth=date(1960, 1, 1), category="retiree") is None
    with pytest.raises(ec.AgeFactMissing):
        _age("hunan", birth=date(1975, 6, 1), sex="2")


def test_langfang_refuses_only_flexible_workers_over_retirement_age():
    """langfang 第六条; the legal retirement age is not in its document: staff enter it (missing → error)."""
    assert _age("langfang", birth=date(1950, 1, 1)) is None  # an employee: not this article
    with pytest.raises(PolicyMissing, match=r"retirement\.age_male"):
        _age("langfang", birth=date(1950, 1, 1), category="flexible")
    policy = Policy("langfang", date(2025, 6, 1), params={"retirement.age_male": 60})
    refusal = ec.enrolment_age_refusal(
        policy, category="flexible", birth_date=date(1960, 1, 1), sex="1", female_role="", on=date(2025, 6, 1)
    )
    assert "langfang 第六条" in refusal


def test_no_age_rule_where_the_seed_is_silent():
    assert _age("sanmenxia", birth=date(1940, 1, 1)) is None


# --- 职工医保与居民医保同时参保 ---------------------------------------------------------------------------------


def test_employee_and_resident_at_once_is_flagged_in_hunan():
    """hunan 第十六条: 不得同时参加职工医保和居民医保 (on the spans' 险种: 310 and 390)."""
    employee = ec.SpanFact("310", date(2024, 1, 1), None)
    resident = ec.SpanFact("390", date(2023, 1, 1), date(2024, 3, 1))
    flag = ec.dual_enrolment(Policy("hunan", date(2024, 6, 1)), [employee, resident])
    assert "2024-01-01" in flag and "hunan 第十六条" in flag
    earlier = ec.SpanFact("390", date(2023, 1, 1), date(2024, 1, 1))  # half-open: ends as employment starts
    assert ec.dual_enrolment(Policy("hunan", date(2024, 6, 1)), [employee, earlier]) is None
    assert ec.dual_enrolment(Policy("langfang", date(2024, 6, 1)), [employee, resident]) is None


# --- 退休人员转出 ---------------------------------------------------------------------------------------------


def test_hunan_retiree_is_not_transferred_out(person_factory):
    """hunan 第二十三条: 退休人员原则上不办理医保关系转移接续; nothing changes."""
    retiree = person_factory(category="retiree", start=date(2023, 1, 1))
    with pytest.raises(ValidationError, match="hunan 第二十三条"):
        services.life_event_record(
            person=retiree, kind="transfer_out", occurred_on=date(2025, 1, 1), jurisdiction="hunan"
        )
    assert EnrolmentSpan.objects.get(person=retiree).end is None
    assert not LifeEvent.objects.filter(person=retiree).exists()


def test_employee_transfer_out_still_allowed(employer_a, person_factory):
    worker = person_factory(employer=employer_a, start=date(2023, 1, 1))
    services.life_event_record(person=worker, kind="transfer_out", occurred_on=date(2025, 1, 1), jurisdiction="hunan")
    assert EnrolmentSpan.objects.get(person=worker).end == date(2025, 1, 1)


def test_retiree_transfer_elsewhere_needs_the_staff_value():
    with pytest.raises(PolicyMissing, match=r"enrollment\.retiree_transfer_out_allowed"):
        ec.retiree_transfer_refusal(Policy("langfang", date(2025, 1, 1)), category="retiree", on=date(2025, 1, 1))


# --- ziyang 参保方式变更 ----------------------------------------------------------------------------------------


@pytest.fixture
def ziyang_pool_worker(db):
    employer = services.employer_register(
        credit_code=credit_code("512002", 7),
        name="资阳单建",
        jurisdiction="ziyang",
        registered_on=date(2023, 1, 1),
        scheme="pool_only",
    )
    person = services.person_register(id_number=id_number("512002", date(1985, 3, 3), 5, True), name="单建人")
    services.span_open(
        person=person, jurisdiction="ziyang", category="employee", start=date(2023, 2, 1), employer=employer
    )
    return person


def test_ziyang_pool_only_to_combined_once_from_next_month(ziyang_pool_worker):
    """ziyang 第九条(八): 变更次月起按统账结合方式; 变更参保方式后不得再次变更."""
    person = ziyang_pool_worker
    services.life_event_record(
        person=person, kind="scheme_change", occurred_on=date(2025, 5, 20), jurisdiction="ziyang"
    )
    spans = list(EnrolmentSpan.objects.filter(person=person).order_by("start").values_list("scheme", "start", "end"))
    assert spans == [("pool_only", date(2023, 2, 1), date(2025, 6, 1)), ("combined", date(2025, 6, 1), None)]
    with pytest.raises(ValidationError, match="ziyang 第九条"):
        services.life_event_record(
            person=person, kind="scheme_change", occurred_on=date(2025, 8, 1), jurisdiction="ziyang"
        )
    assert EnrolmentSpan.objects.filter(person=person).count() == 2


def test_scheme_change_rule_refusals():
    policy = Policy("ziyang", date(2025, 1, 1))
    with pytest.raises(ValueError, match="不得变更回单建统筹"):
        ec.scheme_change_start(
            policy, current="combined", target="pool_only", changed_before=False, on=date(2025, 1, 1)
        )
    assert ec.scheme_change_start(
        policy, current="pool_only", target="combined", changed_before=False, on=date(2025, 1, 31)
    ) == date(2025, 2, 1)
    with pytest.raises(PolicyMissing):
        ec.scheme_change_start(
            Policy("hunan", date(2025, 1, 1)),
            current="pool_only",
            target="combined",
            changed_before=False,
            on=date(2025, 1, 1),
        )


# --- ziyang 断保补缴时限 -----------------------------------------------------------------------------------------


def test_ziyang_break_over_a_year_cannot_be_made_up():
    """ziyang 第十三条: 断保一年以上不再补缴断保期间基本医疗保险费."""
    policy = Policy("ziyang", date(2025, 1, 1))
    assert ec.makeup_refusal(policy, break_start=date(2024, 1, 1), resumed_on=date(2025, 1, 1)) is None
    refusal = ec.makeup_refusal(policy, break_start=date(2023, 12, 1), resumed_on=date(2025, 1, 2))
    assert "ziyang 第十三条" in refusal
    assert (
        ec.makeup_refusal(Policy("hunan", date(2025, 1, 1)), break_start=date(2020, 1, 1), resumed_on=date(2025, 1, 1))
        is None
    )


def test_ziyang_back_payment_bill_for_a_long_break_is_refused(ziyang_pool_worker):
    with pytest.raises(ValidationError, match="ziyang 第十三条"):
        back_payment_bill_issue(
            person=ziyang_pool_worker,
            jurisdiction="ziyang",
            start_month=date(2023, 6, 1),
            end_month=date(2024, 9, 1),
            issued_on=date(2025, 1, 10),
            due_date=date(2025, 1, 25),
        )


# --- langfang 新成立单位缴费基数 ---------------------------------------------------------------------------------


def test_langfang_new_employer_base_is_the_current_month_wage_bill():
    """langfang 第十三条: 新成立的用人单位按当月发放的工资总额申报缴费基数."""
    policy = Policy("langfang", date(2025, 7, 1))
    wages = [Decimal("5000.00"), Decimal("6200.50"), None]
    base, cite = new_employer_base(
        policy, registered_on=date(2025, 8, 1), year_start=date(2025, 7, 1), monthly_wages=wages
    )
    assert base == Decimal("11200.50") and cite == "langfang 第十三条"
    old, _ = new_employer_base(policy, registered_on=date(2020, 1, 1), year_start=date(2025, 7, 1), monthly_wages=wages)
    assert old is None
    hunan, _ = new_employer_base(
        Policy("hunan", date(2025, 1, 1)),
        registered_on=date(2025, 2, 1),
        year_start=date(2025, 1, 1),
        monthly_wages=wages,
    )
    assert hunan is None


def test_base_reset_gives_a_new_langfang_employer_its_current_wage_bill():
    """langfang 第十三条 wired into the annual base reset (contributions.jobs, after the employer bases)."""
    from django.utils import timezone

    from contributions.jobs import new_employer_bases_apply
    from contributions.models import EmployerBase, WageDeclaration

    new = services.employer_register(
        credit_code=credit_code("131002", 3), name="廊坊新单位", jurisdiction="langfang", registered_on=date(2025, 8, 1)
    )
    for n, wage in ((1, "5000.00"), (2, "7000.00")):
        p = services.person_register(id_number=id_number("131002", date(1990, 1, 1), n, True), name=f"员工{n}")
        WageDeclaration.objects.create(person=p, employer=new, year=2025, monthly_wage=Decimal(wage))
    EmployerBase.objects.create(
        employer=new, year_start=date(2025, 7, 1), sum_of_individual_bases=Decimal("0"), updated_at=timezone.now()
    )
    assert new_employer_bases_apply("langfang", date(2025, 7, 1), 2025) == 1
    row = EmployerBase.objects.get(employer=new)
    assert row.base == Decimal("12000.00") and row.basis == "wage_bill"
    assert new_employer_bases_apply("hunan", date(2025, 1, 1), 2025) == 0


def test_dual_enrolment_list_flags_employee_and_resident_spans_at_once(client, employer_a, person_factory, case_worker):
    """hunan 第十六条: the late-registration page lists persons in employee (310) and resident (390) insurance
    over the same period. Resident spans do not exist yet; one is written directly to show the check works."""
    from django.db import connection
    from django.urls import reverse

    from enrollment.requests.selectors import dual_enrolments

    if connection.vendor == "postgresql":
        pytest.skip("the no-overlap constraint (enrollment 0002) covers every 险种 until resident insurance exists")
    both = person_factory(employer=employer_a, start=date(2024, 1, 1), name="两保人")
    person_factory(employer=employer_a, start=date(2024, 1, 1), name="单保人")
    EnrolmentSpan.objects.create(
        person=both,
        jurisdiction=employer_a.jurisdiction,
        category="resident",
        resident_kind="rural",
        start=date(2023, 6, 1),
        end=date(2024, 2, 1),
        insutype="390",
    )
    assert [s.person.name for s in dual_enrolments(case_worker, jurisdictions=["hunan"])] == ["两保人"]
    assert not dual_enrolments(case_worker, jurisdictions=["langfang"]).exists()
    client.force_login(case_worker)
    page = client.get(reverse("admin:enrollment_employerrequest_late")).content.decode()
    assert "两保人" in page and "单保人" not in page
