"""Eligibility timeline, payment years and retirement clearance: what scenario files cannot express.

The scenario files under tests/scenarios/<jurisdiction>/{eligibility,payment_years,
retirement_clearance}.yaml are run by tests/test_scenarios.py. Here: the shape of
the timeline (contiguous, half-open, reasons and citations on every period), the
cases that must fail with ``PolicyMissing`` because a document is silent (xianning
throughout, D-XN1; hunan's due day; sanmenxia's flexible lump-sum rate; deferral in
ziyang), and the plain functions' extra results.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benefits.calculations.eligibility import (
    COVERED,
    NONE,
    STATUSES,
    SUSPENDED,
    WAITING,
    ContributionMonth,
    Period,
    add_months,
    covered_from,
    eligibility_timeline,
    status_on,
)
from contributions.calculations.payment_years import count_payment_months
from contributions.calculations.retirement import clearance
from policy.calculations import InputError, money
from policy.resolver import Policy, PolicyMissing
from policy.scenarios import Case, run_case

D = Decimal


pytestmark = pytest.mark.usefixtures("fresh_policy")


def months(first: date, paid: list[date | None], *, deferred: tuple[int, ...] = ()) -> list[ContributionMonth]:
    """Consecutive contribution months from ``first``, the i-th paid on ``paid[i]``."""
    return [ContributionMonth(add_months(first, i), p, i in deferred) for i, p in enumerate(paid)]


def monthly(first: date, n: int, day: int = 10) -> list[date | None]:
    return [add_months(first, i).replace(day=day) for i in range(n)]


def assert_well_formed(timeline: list[Period]) -> None:
    assert timeline, "a timeline has at least one period"
    for p in timeline:
        assert p.status in STATUSES
        assert p.reason.strip(), f"period {p} has no reason"
        assert p.end is None or p.start < p.end, f"empty or reversed period {p}"
        if p.status != NONE:
            assert p.citation.strip(), f"period {p} has no citation"
    for a, b in pairwise(timeline):
        assert a.end == b.start, f"gap or overlap between {a} and {b}"
        assert (a.status, a.reason, a.citation) != (b.status, b.reason, b.citation), "unmerged neighbours"
    assert timeline[-1].end is None, "the last period is open-ended"


# --- the timeline -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_timeline_hunan_arrears_over_window_is_contiguous_half_open_and_explained() -> None:
    policy = Policy("hunan", date(2024, 8, 10))
    paid = monthly(date(2024, 1, 1), 3) + [date(2024, 8, 1)] * 5  # Apr–Aug made up on 1 Aug
    timeline = eligibility_timeline(policy, category="employee", months=months(date(2024, 1, 1), paid), as_of=policy.on)
    assert_well_formed(timeline)
    assert [(p.start, p.status) for p in timeline] == [
        (date(2024, 1, 1), WAITING),
        (date(2024, 2, 10), COVERED),  # 10 Jan + 31 days (D-X2)
        (date(2024, 5, 1), SUSPENDED),  # month after April's due date (第十八条)
        (date(2024, 8, 2), COVERED),  # day after the make-up (D-H3)
    ]
    assert "30" in timeline[0].reason and "hunan 第十七条" in timeline[0].citation
    assert "4个月" in timeline[2].reason and "hunan 第十八条" in timeline[2].citation
    # half-open: the start day belongs to the period, the end day to the next one
    assert status_on(timeline, date(2024, 5, 1)).status == SUSPENDED
    assert status_on(timeline, date(2024, 4, 30)).status == COVERED
    assert status_on(timeline, date(2024, 8, 1)).status == SUSPENDED
    assert status_on(timeline, date(2024, 8, 2)).status == COVERED
    before = status_on(timeline, date(2023, 12, 31))
    assert before.status == NONE and before.end == date(2024, 1, 1) and before.reason
    assert covered_from(timeline) == date(2024, 2, 10)


@pytest.mark.django_db
def test_timeline_is_as_known_on_as_of() -> None:
    """Before the make-up the arrears are an open suspension; after it they are covered retroactively."""
    facts = months(date(2024, 1, 1), monthly(date(2024, 1, 1), 4) + [date(2024, 8, 20)] * 3)  # May–Jul paid 20 Aug
    before = eligibility_timeline(
        Policy("langfang", date(2024, 8, 1)), category="employee", months=facts, as_of=date(2024, 8, 1)
    )
    after = eligibility_timeline(
        Policy("langfang", date(2024, 8, 21)), category="employee", months=facts, as_of=date(2024, 8, 21)
    )
    assert_well_formed(before)
    assert_well_formed(after)
    assert status_on(before, date(2024, 6, 15)).status == SUSPENDED
    assert before[-1].status == SUSPENDED and before[-1].end is None
    period = status_on(after, date(2024, 6, 15))
    assert period.status == COVERED and "追溯" in period.reason
    assert all(p.status == COVERED for p in after if p.start >= date(2024, 4, 1))


@pytest.mark.django_db
def test_timeline_rejoin_shows_the_gap() -> None:
    policy = Policy("langfang", date(2024, 7, 5))
    facts = months(date(2024, 4, 1), [date(2024, 6, 10)] * 3)
    timeline = eligibility_timeline(
        policy,
        category="employee",
        months=facts,
        as_of=policy.on,
        first_enrolment=False,
        previous_end=date(2024, 3, 31),
    )
    assert_well_formed(timeline)
    assert timeline[0].start == date(2024, 4, 1)
    assert [p.status for p in timeline] == [COVERED, WAITING, COVERED]
    assert "中断" in timeline[0].reason and "langfang 第二十四条" in timeline[0].citation


@pytest.mark.django_db
@pytest.mark.parametrize("jurisdiction", ["hunan", "langfang", "sanmenxia", "ziyang"])
def test_timeline_invariants_on_random_histories(jurisdiction: str) -> None:
    """Random payment histories: the timeline is always contiguous, half-open, explained (property test)."""
    rng = random.Random(f"calcB-{jurisdiction}")
    checked = 0
    for _ in range(150):
        first = date(2024, rng.randint(1, 6), 1)
        n = rng.randint(1, 12)
        paid: list[date | None] = []
        for i in range(n):
            r = rng.random()
            due_month = add_months(first, i)
            if r < 0.6:
                paid.append(due_month + timedelta(days=rng.randint(0, 20)))
            elif r < 0.85:
                paid.append(due_month + timedelta(days=rng.randint(25, 150)))
            else:
                paid.append(None)
        as_of = add_months(first, n + rng.randint(0, 4)) + timedelta(days=rng.randint(0, 27))
        deferred = tuple(i for i in range(n) if paid[i] is None and rng.random() < 0.3)
        category = rng.choice(["employee", "flexible", "unemployed", "retiree"])
        previous_end = first - timedelta(days=rng.randint(1, 200)) if rng.random() < 0.4 else None
        kwargs = {
            "first_enrolment": previous_end is None and rng.random() < 0.8,
            "previous_end": previous_end,
            "previous_scheme": rng.choice([None, "employee", "resident"]) if previous_end else None,
            "previous_continuous_years": rng.choice([None, 1, 3]),
        }
        policy = Policy(jurisdiction, as_of)
        try:
            timeline = eligibility_timeline(
                policy, category=category, months=months(first, paid, deferred=deferred), as_of=as_of, **kwargs
            )
        except PolicyMissing as exc:
            # silent points: hunan/sanmenxia due day, sanmenxia resident switch, deferral in sanmenxia/ziyang
            assert exc.key in {"contribution.due_day", "eligibility.switch_rule", "eligibility.deferral_keeps_cover"}
            continue
        assert_well_formed(timeline)
        for offset in range(0, 400, 7):
            assert status_on(timeline, first + timedelta(days=offset)).status in STATUSES
        checked += 1
    assert checked > 50


@pytest.mark.django_db
def test_bad_inputs_are_input_errors() -> None:
    policy = Policy("langfang", date(2024, 6, 1))
    with pytest.raises(InputError):
        eligibility_timeline(policy, category="employee", months=[], as_of=policy.on)
    with pytest.raises(InputError):
        eligibility_timeline(policy, category="student", months=months(date(2024, 1, 1), [None]), as_of=policy.on)
    with pytest.raises(InputError):
        eligibility_timeline(
            policy, category="employee", months=[{"month": "2024-01"}, {"month": "2024-01"}], as_of=policy.on
        )
    with pytest.raises(InputError):
        eligibility_timeline(
            policy,
            category="employee",
            months=months(date(2024, 1, 1), [None]),
            as_of=policy.on,
            previous_end=date(2024, 1, 15),
        )


# --- silent documents: PolicyMissing ------------------------------------------------------------------


def _case(calculation: str, jurisdiction: str, on: str, inputs: dict, output: dict) -> Case:
    data = {
        "name": "t",
        "jurisdiction": jurisdiction,
        "on": on,
        "calculation": calculation,
        "input": inputs,
        "output": output,
    }
    return Case(Path("inline.yaml"), 1, data)


XIANNING_CASES = [
    _case(
        "eligibility",
        "xianning",
        "2024-03-01",
        {"category": "employee", "months": [{"month": "2024-01", "paid_on": "2024-01-20"}], "ask": ["2024-02-20"]},
        {"status": {"2024-02-20": "covered"}},
    ),
    _case(
        "retirement_clearance",
        "xianning",
        "2024-06-01",
        {"sex": "male", "retire_on": "2024-06-01", "actual_months": 300, "local_months": 300},
        {"eligible": False},
    ),
    _case("payment_years", "xianning", "2024-06-01", {"local_months": 300}, {"cumulative_months": 300}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("case", XIANNING_CASES, ids=lambda c: c.data["calculation"])
def test_xianning_cases_fail_naming_xianning(case: Case) -> None:
    result = run_case(case)
    assert not result.passed
    message = "; ".join(result.problems)
    assert "xianning" in message and ("eligibility." in message or "retirement." in message), message


@pytest.mark.django_db
def test_xianning_functions_raise_policy_missing() -> None:
    policy = Policy("xianning", date(2024, 3, 1))
    with pytest.raises(PolicyMissing) as exc:
        eligibility_timeline(
            policy, category="flexible", months=months(date(2024, 1, 1), [date(2024, 1, 5)]), as_of=policy.on
        )
    assert exc.value.jurisdiction == "xianning" and exc.value.key.startswith("eligibility.")
    with pytest.raises(PolicyMissing) as exc:
        clearance(policy, sex="female", retire_on=date(2024, 3, 1), actual_months=200, local_months=200)
    assert exc.value.jurisdiction == "xianning" and exc.value.key.startswith("retirement.")
    with pytest.raises(PolicyMissing):
        count_payment_months(policy, local_months=120)


@pytest.mark.django_db
def test_hunan_due_day_is_asked_for_only_when_it_decides() -> None:
    """hunan gives no monthly deadline: a make-up on 10 July of Apr–Jun (+Jul) is 3 or 4 months."""
    facts = months(date(2024, 1, 1), monthly(date(2024, 1, 1), 3) + [date(2024, 7, 10)] * 4)
    policy = Policy("hunan", date(2024, 7, 20))
    with pytest.raises(PolicyMissing) as exc:
        eligibility_timeline(policy, category="employee", months=facts, as_of=policy.on)
    assert exc.value.key == "contribution.due_day" and exc.value.jurisdiction == "hunan"
    # made up on 1 July: July cannot be overdue yet, so three months for certain → retroactive, no due day needed
    facts = months(date(2024, 1, 1), monthly(date(2024, 1, 1), 3) + [date(2024, 7, 1)] * 4)
    timeline = eligibility_timeline(policy, category="employee", months=facts, as_of=policy.on)
    assert status_on(timeline, date(2024, 6, 1)).status == COVERED
    # five months for certain: over the window whatever the due day
    facts = months(date(2024, 1, 1), monthly(date(2024, 1, 1), 1) + [date(2024, 7, 10)] * 6)
    timeline = eligibility_timeline(policy, category="employee", months=facts, as_of=policy.on)
    assert status_on(timeline, date(2024, 7, 10)).status == SUSPENDED
    assert status_on(timeline, date(2024, 7, 11)).status == COVERED


@pytest.mark.django_db
def test_deferral_where_the_document_has_none_is_missing() -> None:
    policy = Policy("ziyang", date(2024, 6, 1))
    facts = months(date(2024, 1, 1), [date(2024, 1, 10), None, None], deferred=(1, 2))
    with pytest.raises(PolicyMissing) as exc:
        eligibility_timeline(policy, category="employee", months=facts, as_of=policy.on)
    assert exc.value.key == "eligibility.deferral_keeps_cover"


@pytest.mark.django_db
def test_sanmenxia_resident_switch_is_missing() -> None:
    policy = Policy("sanmenxia", date(2024, 6, 1))
    with pytest.raises(PolicyMissing) as exc:
        eligibility_timeline(
            policy,
            category="employee",
            months=months(date(2024, 5, 1), [date(2024, 5, 5)]),
            as_of=policy.on,
            previous_scheme="resident",
            previous_end=date(2024, 3, 31),
        )
    assert exc.value.key == "eligibility.switch_rule"


# --- payment years -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_payment_months_parts_and_silent_kinds() -> None:
    counted = count_payment_months(
        Policy("hunan", date(2024, 6, 1)), local_months=150, other_region_months=60, resident_years=5
    )
    assert counted.cumulative == D(210) and counted.local == D(150)
    assert counted.parts["统筹区外转入（作为视同缴费年限）"] == D(60)
    assert "hunan 第二十六条" in counted.citations["retirement.other_region_counts_as"]
    # ziyang gives no rule for months transferred in from elsewhere (第三十二条(一) 按国家规定)
    with pytest.raises(PolicyMissing) as exc:
        count_payment_months(Policy("ziyang", date(2024, 6, 1)), local_months=100, other_region_months=12)
    assert exc.value.key == "retirement.other_region_counts_as"
    # ... but a person without such months is counted
    assert count_payment_months(Policy("ziyang", date(2024, 6, 1)), local_months=100).cumulative == D(100)
    with pytest.raises(InputError):
        count_payment_months(Policy("ziyang", date(2024, 6, 1)), local_months=-1)


# --- retirement clearance ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_clearance_flags_early_retirement_and_legal_age() -> None:
    policy = Policy("hunan", date(2024, 3, 10))
    early = clearance(
        policy,
        sex="female",
        female_role="cadre",
        birth_date=date(1974, 3, 10),
        retire_on=date(2024, 3, 10),
        deemed_months=100,
        actual_months=200,
        local_months=200,
    )
    assert early.legal_age_date == date(2029, 3, 10) and early.early is True
    assert early.eligible and early.retiree_from == date(2024, 4, 1)  # D-H9: only the minimums count
    worker = clearance(
        policy,
        sex="female",
        female_role="worker",
        birth_date=date(1974, 3, 10),
        deemed_months=100,
        actual_months=200,
        local_months=200,
    )
    assert worker.retire_on == date(2024, 3, 10) and worker.early is False
    # a worker who turned 50 before the draft's 2023 date: no hunan rule was in force then (D-X13)
    with pytest.raises(PolicyMissing):
        clearance(
            policy,
            sex="female",
            female_role="worker",
            birth_date=date(1972, 1, 10),
            actual_months=300,
            local_months=300,
        )
    with pytest.raises(InputError):
        clearance(policy, sex="female", birth_date=date(1974, 3, 10), actual_months=300, local_months=300)


@pytest.mark.django_db
def test_clearance_needs_ages_where_the_document_has_none() -> None:
    with pytest.raises(PolicyMissing) as exc:
        clearance(
            Policy("langfang", date(2024, 6, 1)),
            sex="male",
            birth_date=date(1964, 6, 1),
            actual_months=360,
            local_months=360,
        )
    assert exc.value.key == "retirement.age_male"


@pytest.mark.django_db
def test_clearance_after_lump_sum_starts_the_month_after_payment() -> None:
    result = clearance(
        Policy("sanmenxia", date(2024, 6, 1)),
        sex="male",
        retire_on=date(2024, 6, 1),
        actual_months=330,
        local_months=330,
        last_monthly_base=5000,
        lump_sum_paid_on=date(2024, 6, 20),
    )
    assert result.lump_sum == D("15000.00") and result.retiree_from == date(2024, 7, 1)
    assert "5000" in result.basis and "sanmenxia 第八条" in result.citations["retirement.lump_sum_base"]


@pytest.mark.django_db
def test_sanmenxia_flexible_lump_sum_rate_is_missing() -> None:
    policy = Policy("sanmenxia", date(2024, 6, 1), stats={"reference_monthly_wage": 6000})
    with pytest.raises(PolicyMissing) as exc:
        clearance(
            policy, sex="female", category="flexible", retire_on=date(2024, 6, 1), actual_months=280, local_months=280
        )
    assert exc.value.key == "retirement.flexible_lump_sum_rates"
    # nothing owed: no rate needed
    ok = clearance(
        policy, sex="female", category="flexible", retire_on=date(2024, 6, 1), actual_months=300, local_months=300
    )
    assert ok.eligible and ok.lump_sum == 0


@pytest.mark.django_db
def test_clearance_uses_the_minimum_of_the_retirement_year() -> None:
    """ziyang D-Z4: the minimum follows the retirement date, not the clearance date."""
    policy = Policy("ziyang", date(2025, 1, 5))
    result = clearance(policy, sex="male", retire_on=date(2024, 12, 20), actual_months=276, local_months=276)
    assert result.required_months == 276 and result.eligible


# --- properties of the clearance (hypothesis) -------------------------------------------------------------

CLEARANCE_CASES = st.tuples(
    st.sampled_from(["hunan", "langfang", "sanmenxia", "ziyang"]),
    st.sampled_from(["male", "female"]),
    st.integers(0, 200),  # deemed (hunan and sanmenxia date them; langfang and ziyang wait for the cut-off)
    st.integers(0, 420),  # actual
    st.integers(0, 100),  # % of actual that is local
    st.dates(date(2024, 1, 1), date(2027, 12, 31)),
)


@pytest.mark.django_db
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(CLEARANCE_CASES)
def test_clearance_buys_the_fewest_months_that_meet_both_minimums(case) -> None:
    """For every jurisdiction with minimums: cumulative + s ≥ required and local + s ≥ local minimum, s minimal;
    the lump sum is base × rates × s rounded once (D-X12); retiree benefits start the month after when s = 0."""
    code, sex, deemed, actual, local_pct, retire_on = case
    if code in ("langfang", "ziyang"):
        deemed = 0  # D-L14 / §3.7: no cut-off date for deemed years in these documents
    local = actual * local_pct // 100
    policy = Policy(code, retire_on, stats={"reference_monthly_wage": D("6543.21")})
    result = clearance(
        policy,
        sex=sex,
        retire_on=retire_on,
        deemed_months=deemed,
        actual_months=actual,
        local_months=local,
        last_monthly_base=D("4321.09"),
    )
    s = result.shortfall_months
    assert result.cumulative_months == deemed + actual
    assert deemed + actual + s >= result.required_months and local + s >= result.required_local_months
    assert s == 0 or deemed + actual + s - 1 < result.required_months or local + s - 1 < result.required_local_months
    assert result.eligible is (s == 0)
    if s == 0:
        assert result.lump_sum == 0 and result.lump_sum_base is None
        assert result.retiree_from == add_months(retire_on, 1)
    else:
        rates = sum((policy.decimal(k) for k in policy.value("retirement.lump_sum_rates")), D(0))
        assert result.lump_sum == money(result.lump_sum_base * rates / 100 * s)
        assert result.retiree_from is None
        assert result.keep_paying_allowed is {"hunan": False, "langfang": True, "sanmenxia": None, "ziyang": True}[code]
