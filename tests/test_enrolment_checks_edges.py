"""Edge cases of the enrolment checks (enrollment.calculations.enrolment_checks): the boundaries each article
draws, so that a flipped comparison or a dropped branch in the rule fails a test.

hunan 第十六条 (age; employee + resident at once), 第二十三条 (retirees not transferred), 第二十八条、第二十九条
(legal retirement ages); langfang 第六条 (flexible workers over retirement age); ziyang 第九条(八) (单建统筹 →
统账结合 once), 第十三条 (a break over one year can no longer be made up).
"""

from __future__ import annotations

from datetime import date

import pytest

from enrollment.calculations import enrolment_checks as ec
from policy.resolver import Policy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

ON = date(2025, 6, 1)


def test_days_late_counts_from_the_day_after_the_deadline():
    assert ec.days_late(date(2025, 4, 9), date(2025, 4, 8)) == 0
    assert ec.days_late(date(2025, 4, 9), date(2025, 4, 10)) == 1


def test_retirement_age_per_sex_role_and_category():
    """hunan 第二十八条 (men 60, female cadres 55, female workers 50); 第二十九条 (flexible: men 60, women 55)."""
    hunan = Policy("hunan", ON)
    assert ec.retirement_age(hunan, sex="1", female_role="", category="employee") == 60
    assert ec.retirement_age(hunan, sex="2", female_role="cadre", category="employee") == 55
    assert ec.retirement_age(hunan, sex="2", female_role="worker", category="employee") == 50
    # 第二十九条: a flexible woman retires at 55 whatever her role (not 50 as a female worker).
    assert ec.retirement_age(hunan, sex="2", female_role="worker", category="flexible") == 55
    # The flexible key wins over the employee key for a flexible man, not for an employee.
    distinct = Policy("hunan", ON, params={"retirement.flexible_age_male": 63})
    assert ec.retirement_age(distinct, sex="1", female_role="", category="flexible") == 63
    assert ec.retirement_age(distinct, sex="1", female_role="", category="employee") == 60
    # No flexible key (langfang, value staff-entered): the employee age applies to a flexible man.
    langfang = Policy("langfang", ON, params={"retirement.age_male": 60})
    assert ec.retirement_age(langfang, sex="1", female_role="", category="flexible") == 60


def test_age_refusal_words_name_the_article_of_each_rule():
    """hunan 第十六条 refuses as 非劳动年龄段; langfang 第六条 as outside the flexible workers' scope."""
    hunan = ec.enrolment_age_refusal(
        Policy("hunan", ON), category="employee", birth_date=date(1965, 6, 1), sex="1", female_role="", on=ON
    )
    assert "非劳动年龄段" in hunan and "年满 60 周岁" in hunan and "法定退休年龄 60 周岁" in hunan
    policy = Policy("langfang", ON, params={"retirement.age_male": 60})
    langfang = ec.enrolment_age_refusal(
        policy, category="flexible", birth_date=date(1965, 6, 1), sex="1", female_role="", on=ON
    )
    assert "不列入灵活就业人员参保范围" in langfang and "非劳动年龄段" not in langfang
    # The day before the 60th birthday the flexible worker may still enrol (langfang 第六条: 超过).
    assert (
        ec.enrolment_age_refusal(
            policy, category="flexible", birth_date=date(1965, 6, 2), sex="1", female_role="", on=ON
        )
        is None
    )


@pytest.mark.parametrize(
    ("resident", "flagged"),
    [
        (ec.SpanFact("390", date(2024, 6, 1), None), True),  # both open
        (ec.SpanFact("390", date(2024, 12, 31), date(2025, 3, 1)), True),  # last day of employment
        (ec.SpanFact("390", date(2025, 1, 1), None), False),  # half-open: starts as employment ends
        (ec.SpanFact("390", date(2023, 1, 1), date(2024, 1, 2)), True),  # first day of employment
    ],
)
def test_dual_enrolment_on_both_edges_of_the_employee_span(resident, flagged):
    """hunan 第十六条 over half-open periods."""
    employee = ec.SpanFact("310", date(2024, 1, 1), date(2025, 1, 1))
    flag = ec.dual_enrolment(Policy("hunan", ON), [employee, resident])
    assert (flag is not None) is flagged
    if flagged:
        assert f"自 {max(employee.start, resident.start)} 起" in flag


def test_dual_enrolment_needs_one_span_of_each_insurance():
    two_employee = [ec.SpanFact("310", date(2024, 1, 1), None), ec.SpanFact("310", date(2024, 6, 1), None)]
    assert ec.dual_enrolment(Policy("hunan", ON), two_employee) is None


def test_retiree_transfer_refusal_only_for_retirees_where_the_document_says_so():
    """hunan 第二十三条; a jurisdiction whose value allows it transfers retirees."""
    refusal = ec.retiree_transfer_refusal(Policy("hunan", ON), category="retiree", on=ON)
    assert refusal is not None and "hunan 第二十三条" in refusal
    assert ec.retiree_transfer_refusal(Policy("hunan", ON), category="employee", on=ON) is None
    allowed = Policy("hunan", ON, params={"enrollment.retiree_transfer_out_allowed": True})
    assert ec.retiree_transfer_refusal(allowed, category="retiree", on=ON) is None


def test_scheme_change_refused_a_second_time_and_for_any_other_direction():
    """ziyang 第九条(八): only 单建统筹 → 统账结合, only once."""
    policy = Policy("ziyang", ON)
    with pytest.raises(ValueError, match="已变更过一次"):
        ec.scheme_change_start(policy, current="pool_only", target="combined", changed_before=True, on=ON)
    for current, target in (("pool_only", "pool_only"), ("combined", "combined")):
        with pytest.raises(ValueError, match="只能由单建统筹变更为统账结合"):
            ec.scheme_change_start(policy, current=current, target=target, changed_before=False, on=ON)
    assert ec.scheme_change_start(
        policy, current="pool_only", target="combined", changed_before=False, on=date(2024, 12, 1)
    ) == date(2025, 1, 1)


def test_makeup_limit_is_exactly_twelve_months():
    """ziyang 第十三条: 断保一年以上不再补缴 — a break of exactly a year may be made up, one day more may not."""
    policy = Policy("ziyang", ON)
    assert ec.makeup_refusal(policy, break_start=date(2024, 1, 1), resumed_on=date(2024, 12, 31)) is None
    refusal = ec.makeup_refusal(policy, break_start=date(2024, 1, 1), resumed_on=date(2025, 1, 2))
    assert refusal is not None and "超过 12 个月" in refusal
