"""The nightly path (set-based load, inputs digest, memo, temporary-table writes) gives, person by person,
exactly what the rule gives; transfers in and switches from resident insurance reach the rule.

A mixed population in every jurisdiction: paying employees, arrears (unpaid, made up late), flexible
workers, retirees, history older than the dues on file, re-enrolment after a break, 转入 from another
region, 居民医保转职工医保 (long and short resident coverage), deferred months and persons with no dues.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

import pytest
from django.db import transaction
from django.utils import timezone

from batch.runs import run_in_process
from benefits import services as svc
from benefits.calculations.eligibility import ContributionMonth, eligibility_timeline
from benefits.models import EligibilityPeriod, EligibilityState
from contributions.models import Deferral, MonthlyDue
from enrollment import services
from enrollment.models import EnrolmentSpan, InsuredPerson, LifeEvent
from operations.demo.population import credit_code, id_number
from operations.jobs import NIGHTLY
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyError
from tests.policy_support import staff_enter

pytestmark = pytest.mark.django_db
NIGHT = date(2024, 9, 10)
JURISDICTIONS = ("hunan", "langfang", "xianning", "sanmenxia", "ziyang")
REGION = {"hunan": "430102", "langfang": "131002", "xianning": "421202", "sanmenxia": "411202", "ziyang": "512002"}


def months(first: str, last: str) -> list[str]:
    y, m = map(int, first.split("-"))
    out = []
    while f"{y}-{m:02d}" <= last:
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def dues(person, jur: Jurisdiction, category: str, employer, paid: dict, deferred=()) -> None:
    rows = []
    for label, settled in paid.items():
        y, m = map(int, label.split("-"))
        month = date(y, m, 1)
        rows.append(
            MonthlyDue(
                person=person,
                employer=employer,
                jurisdiction=jur,
                month=month,
                category=category,
                base=Decimal("6000"),
                employer_amount=Decimal("360"),
                individual_amount=Decimal("120"),
                personal_account_amount=Decimal("120"),
                pool_amount=Decimal("360"),
                total=Decimal("480"),
                due_date=month.replace(day=25),
                paid_principal=Decimal("480") if settled else Decimal(0),
                settled_on=settled,
                deferred=label in deferred,
                created_at=timezone.now(),
            )
        )
    MonthlyDue.objects.bulk_create(rows)


def on_day(labels, day: int = 20) -> dict:
    return {m: date(int(m[:4]), int(m[5:]), day) for m in labels}


def mixed_population() -> list[InsuredPerson]:
    people = []
    seq = iter(range(1, 1000))

    def person(code: str) -> InsuredPerson:
        n = next(seq)
        p = services.person_register(
            id_number=id_number(REGION[code], date(1980, 1, 1) + timedelta(days=n), n, n % 2 == 1), name=f"人{n}"
        )
        people.append(p)
        return p

    for k, code in enumerate(JURISDICTIONS):
        jur = Jurisdiction.objects.get(code=code)
        emp = services.employer_register(
            credit_code=credit_code(REGION[code], 700 + k),
            name=f"{code}单位",
            jurisdiction=code,
            registered_on=date(2015, 1, 1),
        )

        def employee(start: date, paid: dict, deferred=(), code=code, jur=jur, emp=emp) -> InsuredPerson:
            p = person(code)
            services.span_open(person=p, jurisdiction=jur, category="employee", start=start, employer=emp)
            dues(p, jur, "employee", emp, paid, deferred)
            return p

        def flexible(start: date, paid: dict, code=code, jur=jur) -> InsuredPerson:
            p = person(code)
            services.span_open(person=p, jurisdiction=jur, category="flexible", start=start)
            dues(p, jur, "flexible", None, paid)
            return p

        employee(date(2024, 1, 1), on_day(months("2024-01", "2024-08")))  # paying employee
        employee(date(2024, 1, 1), on_day(months("2024-01", "2024-06")) | {"2024-07": None, "2024-08": None})
        late = on_day(months("2024-01", "2024-08")) | {"2024-04": date(2024, 8, 2), "2024-05": date(2024, 8, 2)}
        employee(date(2024, 1, 1), late)  # arrears made up
        employee(date(2024, 1, 1), on_day(months("2024-01", "2024-08")), deferred=("2024-03", "2024-04"))
        employee(date(2019, 5, 1), on_day(months("2024-01", "2024-08")))  # history older than the dues on file
        employee(date(2024, 8, 1), {})  # no dues yet
        flexible(date(2024, 2, 1), on_day(months("2024-02", "2024-08"), 5))
        flexible(date(2024, 2, 1), {m: None for m in months("2024-02", "2024-08")})  # never paid
        # re-enrolment after a break: 2023-01..2023-09, again from 2024-02
        p = person(code)
        services.span_open(
            person=p, jurisdiction=jur, category="employee", start=date(2023, 1, 1), employer=emp, end=date(2023, 10, 1)
        )
        services.span_open(person=p, jurisdiction=jur, category="employee", start=date(2024, 2, 1), employer=emp)
        dues(p, jur, "employee", emp, on_day(months("2023-01", "2023-09")) | on_day(months("2024-02", "2024-08")))
        # retiree
        p = person(code)
        services.span_open(person=p, jurisdiction=jur, category="retiree", start=date(2022, 6, 1))
        # 转入 from another region: covered there until 2024-01-31, here from 2024-03
        p = employee(date(2024, 3, 1), on_day(months("2024-03", "2024-08")))
        LifeEvent.objects.create(
            person=p,
            kind="transfer_in",
            occurred_on=date(2024, 2, 1),
            jurisdiction=jur,
            months=60,
            other_region="广东省广州市",
        )
        # 居民医保转职工医保: 3 years of resident cover, and 1 year
        for resident_months in (36, 12):
            p = flexible(date(2024, 3, 1), on_day(months("2024-03", "2024-08"), 10))
            LifeEvent.objects.create(
                person=p,
                kind="transfer_in",
                occurred_on=date(2024, 3, 1),
                jurisdiction=jur,
                months=resident_months,
                other_region="城乡居民基本医疗保险",
            )
    return people


def stored(pid: int) -> list[tuple]:
    return [
        (p.start, p.end, p.status, p.reason, p.citation, json.dumps(p.facts, ensure_ascii=False, sort_keys=True))
        for p in EligibilityPeriod.objects.filter(person_id=pid).order_by("start")
    ]


def deferral_end(due: MonthlyDue) -> str:
    """The end of the employer's deferral covering the due's date, as the nightly SQL tokens it ('' if none)."""
    ends = Deferral.objects.filter(employer_id=due.employer_id, start__lte=due.due_date, end__gt=due.due_date)
    last = max((d.end for d in ends), default=None)
    return svc._day_token(last) if last else ""


def expected(pid: int, ev: svc.Evaluator) -> tuple[list[tuple], str]:
    """The rule through :func:`person_evaluate`, from inputs read with the ORM (not the nightly SQL)."""
    spans = [
        svc.SpanFact(pid, s.jurisdiction.code, s.category, s.start, s.end)
        for s in EnrolmentSpan.objects.filter(person_id=pid).select_related("jurisdiction").order_by("start", "id")
    ]
    tokens = ",".join(
        f"{svc._day_token(d.month)}:{svc._day_token(d.settled_on) if d.settled_on else ''}"
        + (f":d{deferral_end(d)}" if d.deferred else "")
        for d in MonthlyDue.objects.filter(person_id=pid).order_by("month")
    )
    transfers = [
        svc.TransferIn(e.occurred_on, e.months, "居民" in e.other_region)
        for e in LifeEvent.objects.filter(person_id=pid, kind="transfer_in").order_by("occurred_on", "id")
    ]
    result = svc.person_evaluate(ev, spans, tokens or None, transfers)
    rows = [(start, end, status, reason, cite, facts) for _c, start, end, status, reason, cite, facts in result.rows()]
    return rows, result.error_key


def test_nightly_periods_equal_the_rule_for_every_person_in_every_jurisdiction():
    people = mixed_population()
    run = run_in_process(NIGHTLY, as_of=NIGHT, chunk_size=7)
    assert run.status == "done" and run.counts["eligibility.persons"] == len(people)
    ev = svc.Evaluator(NIGHT)  # a fresh memo: nothing shared with the run
    statuses = set()
    computed = 0
    for p in people:
        rows, error_key = expected(p.pk, ev)
        state = EligibilityState.objects.get(person_id=p.pk)
        assert state.error_key == error_key, p.pk
        if error_key:
            assert not EligibilityPeriod.objects.filter(person_id=p.pk).exists()
            continue
        assert stored(p.pk) == rows, p.pk
        statuses.update(r[2] for r in rows)
        computed += 1
    assert statuses == {"covered", "waiting", "suspended", "none"}
    assert computed >= 40  # most of the population is computable (xianning's values are missing, D-X16)


def test_simple_enrolments_equal_eligibility_timeline_called_directly():
    people = mixed_population()
    run_in_process(NIGHTLY, as_of=NIGHT)
    checked = 0
    for p in people:
        spans = list(EnrolmentSpan.objects.filter(person=p).select_related("jurisdiction"))
        due_rows = list(MonthlyDue.objects.filter(person=p).order_by("month"))
        if len(spans) != 1 or not due_rows or LifeEvent.objects.filter(person=p).exists():
            continue
        span = spans[0]
        if span.start.replace(day=1) < due_rows[0].month:
            continue  # history older than the dues on file: a convention of the services
        months_ = [ContributionMonth(d.month, d.settled_on, d.deferred) for d in due_rows]
        try:
            periods = eligibility_timeline(
                Policy(span.jurisdiction.code, NIGHT), category=span.category, months=months_, as_of=NIGHT
            )
        except PolicyError:
            assert EligibilityState.objects.get(person=p).error_key
            continue
        got = [(s, e, st, r, c) for s, e, st, r, c, _f in stored(p.pk)]
        want = [(max(x.start, span.start), x.end, x.status, x.reason, x.citation) for x in periods]
        assert got == want, p.pk
        checked += 1
    assert checked >= 20


def test_persons_of_the_same_dues_share_one_answer_only_where_their_span_start_cannot_change_it():
    """The fast path of :meth:`Evaluator.single` (one answer per jurisdiction, category, dues and ``legacy`` for
    open spans whose periods start on or after the span's start) gives, person by person, the rows of the
    general path: colleagues paid on the same days with span starts before the first month on file (legacy),
    on its first day, inside it (periods clipped: never shared) and a closed span; in arrears or not."""
    people = []
    seq = iter(range(200, 499))
    starts = (date(2019, 5, 1), date(2021, 3, 15), date(2023, 12, 31), date(2024, 1, 1), date(2024, 1, 10))
    patterns = (
        on_day(months("2024-01", "2024-08")),
        on_day(months("2024-01", "2024-06")) | {"2024-07": None, "2024-08": None},
        on_day(months("2024-01", "2024-08")) | {"2024-04": date(2024, 8, 2)},
    )
    for k, code in enumerate(JURISDICTIONS):
        jur = Jurisdiction.objects.get(code=code)
        emp = services.employer_register(
            credit_code=credit_code(REGION[code], 800 + k),
            name=f"{code}同日缴费单位",
            jurisdiction=code,
            registered_on=date(2015, 1, 1),
        )
        for paid in patterns:
            for start in (*starts, *starts):  # each start twice: the second of the pair hits either memo
                n = next(seq)
                p = services.person_register(
                    id_number=id_number(REGION[code], date(1975, 1, 1) + timedelta(days=n), n, n % 2 == 1),
                    name=f"同{n}",
                )
                services.span_open(person=p, jurisdiction=jur, category="employee", start=start, employer=emp)
                dues(p, jur, "employee", emp, paid)
                people.append(p)
        # a closed span with the same dues: never shared by the open-span path
        n = next(seq)
        p = services.person_register(
            id_number=id_number(REGION[code], date(1975, 1, 1) + timedelta(days=n), n, n % 2 == 1), name=f"同{n}"
        )
        services.span_open(
            person=p, jurisdiction=jur, category="employee", start=starts[0], employer=emp, end=date(2024, 7, 1)
        )
        dues(p, jur, "employee", emp, patterns[0])
        people.append(p)
    ev = svc.Evaluator(NIGHT)
    with transaction.atomic():
        svc.refresh(NIGHT, ids=[p.pk for p in people], evaluator=ev)
    shared = len(ev.open_people)
    assert 0 < shared < len(people) // 4  # the fast path was taken and shared across the starts
    fresh = svc.Evaluator(NIGHT)  # the general path, nothing shared
    computed = clipped = 0
    for p in people:
        rows, error_key = expected(p.pk, fresh)
        assert EligibilityState.objects.get(person_id=p.pk).error_key == error_key, p.pk
        if error_key:
            continue
        assert stored(p.pk) == rows, p.pk
        computed += 1
        span = EnrolmentSpan.objects.get(person_id=p.pk)
        clipped += rows[0][0] == span.start and span.start.day != 1
    assert computed >= 60 and clipped >= 6  # periods clipped to a start inside the first month are checked too


def test_second_run_skips_everybody_and_a_changed_fact_reevaluates_one_person():
    people = mixed_population()
    run_in_process(NIGHTLY, as_of=NIGHT)
    again = run_in_process(NIGHTLY, as_of=NIGHT)
    assert again.counts["eligibility.skipped"] == len(people)
    assert again.counts.get("eligibility.evaluated", 0) == 0 and again.counts.get("eligibility.changed", 0) == 0
    # langfang's employee in arrears pays 2024-07 and 2024-08: only that person is evaluated again
    debtor = MonthlyDue.objects.filter(jurisdiction__code="langfang", settled_on__isnull=True, category="employee")
    pid = debtor.first().person_id
    debtor.filter(person_id=pid).update(settled_on=date(2024, 9, 5), paid_principal=Decimal("480"))
    third = run_in_process(NIGHTLY, as_of=NIGHT)
    assert third.counts["eligibility.evaluated"] == 1 and third.counts["eligibility.changed"] == 1
    assert not EligibilityPeriod.objects.filter(person_id=pid, status="suspended").exists()
    rows, _ = expected(pid, svc.Evaluator(NIGHT))
    assert stored(pid) == rows
    # the next night nobody is evaluated: no fact changed and no month falls overdue between the 10th and
    # the 11th (the evaluation date is on the state row, not in the periods' facts)
    fourth = run_in_process(NIGHTLY, as_of=NIGHT + timedelta(days=1))
    assert fourth.counts.get("eligibility.evaluated", 0) == 0
    assert fourth.counts["eligibility.skipped"] == len(people)
    assert EligibilityState.objects.filter(evaluated_on=NIGHT).count() == len(people)


def test_a_policy_change_reevaluates_the_same_night(fresh_policy):
    people = mixed_population()
    run_in_process(NIGHTLY, as_of=NIGHT)
    staff_enter(
        "langfang",
        {"eligibility.employee_wait_months": "4"},
        effective_from=date(2024, 9, 1),
        document="测试假设值（并非政策）",
    )
    run = run_in_process(NIGHTLY, as_of=NIGHT)
    assert run.counts["eligibility.evaluated"] == len(people)
    assert run.counts["eligibility.changed"] >= 1
    assert EligibilityPeriod.objects.filter(citation__contains="测试假设值").exists()


def _span_person(code: str, n: int, category: str, start: date, paid: dict, employer=None) -> InsuredPerson:
    jur = Jurisdiction.objects.get(code=code)
    p = services.person_register(id_number=id_number(REGION[code], date(1990, 2, n), n, True), name=f"转{n}")
    services.span_open(person=p, jurisdiction=jur, category=category, start=start, employer=employer)
    dues(p, jur, category, employer, paid)
    return p


def test_transfer_in_within_three_months_has_no_waiting_period_in_hunan():
    """hunan 第五十九条: 转移接续 with a gap of at most 3 months: no waiting period, cover from the month of payment."""
    emp = services.employer_register(
        credit_code=credit_code("430102", 801),
        name="湖南转入单位",
        jurisdiction="hunan",
        registered_on=date(2015, 1, 1),
    )
    moved = _span_person("hunan", 1, "employee", date(2024, 3, 1), on_day(months("2024-03", "2024-08")), emp)
    services.life_event_record(
        person=moved,
        kind="transfer_in",
        occurred_on=date(2024, 2, 1),
        jurisdiction="hunan",
        months=48,
        other_region="广东省深圳市",
    )
    new = _span_person("hunan", 2, "employee", date(2024, 3, 1), on_day(months("2024-03", "2024-08")), emp)
    svc.eligibility_refresh([moved.pk, new.pk], NIGHT)
    first_moved = EligibilityPeriod.objects.filter(person=moved).order_by("start").first()
    assert (first_moved.start, first_moved.status) == (date(2024, 3, 1), "covered")
    assert "第五十九条" in first_moved.citation and "转移接续" in first_moved.reason
    assert first_moved.facts["转入"].startswith("2024-02-01 由外地转入")
    # without the transfer: 30 days after the first payment (第十七条)
    first_new = EligibilityPeriod.objects.filter(person=new).order_by("start").first()
    assert first_new.status == "waiting" and "第十七条" in first_new.citation


def test_transfer_in_after_a_long_gap_waits_again_in_hunan():
    """hunan 第五十九条: a gap of more than 3 months: 30 days after payment, nothing retroactive."""
    emp = services.employer_register(
        credit_code=credit_code("430102", 802),
        name="湖南转入单位2",
        jurisdiction="hunan",
        registered_on=date(2015, 1, 1),
    )
    p = _span_person("hunan", 3, "employee", date(2024, 3, 1), on_day(months("2024-03", "2024-08")), emp)
    LifeEvent.objects.create(
        person=p, kind="transfer_in", occurred_on=date(2023, 6, 1), jurisdiction=emp.jurisdiction, months=12
    )
    svc.eligibility_refresh([p.pk], NIGHT)
    periods = list(EligibilityPeriod.objects.filter(person=p).order_by("start"))
    assert periods[0].status == "waiting" and "超过" in periods[0].reason
    assert periods[1].start == date(2024, 4, 20) and periods[1].status == "covered"  # 2024-03-20 + 30 days + 1


def test_switch_from_resident_insurance_in_ziyang():
    """ziyang 第十四条 (D-Z10): ≥2 years resident cover and gap ≤3 months: covered on payment; <2 years:
    resident-level benefits for 6 months from the month of payment."""
    paid = on_day(months("2024-03", "2024-08"), 10)
    long_ = _span_person("ziyang", 4, "flexible", date(2024, 3, 1), paid)
    short = _span_person("ziyang", 5, "flexible", date(2024, 3, 1), paid)
    plain = _span_person("ziyang", 6, "flexible", date(2024, 3, 1), paid)
    for p, n in ((long_, 36), (short, 12)):
        LifeEvent.objects.create(
            person=p,
            kind="transfer_in",
            occurred_on=date(2024, 3, 1),
            jurisdiction=p.spans.get().jurisdiction,
            months=n,
            other_region="城乡居民基本医疗保险",
        )
    svc.eligibility_refresh([long_.pk, short.pk, plain.pk], NIGHT)

    def first_covered(p):
        return EligibilityPeriod.objects.filter(person=p, status="covered").order_by("start").first()

    assert first_covered(long_).start == date(2024, 3, 10) and "第十四条" in first_covered(long_).citation
    assert first_covered(long_).facts["居民医保连续参保月数"] == 36
    assert "原档次" in first_covered(short).reason and first_covered(short).start == date(2024, 3, 10)
    # without the switch: 6 months after the month of payment (第十三条)
    assert first_covered(plain).start == date(2024, 9, 1)


def test_switch_from_resident_insurance_in_langfang_and_hunan():
    """langfang 第二十五条: ≥2 years and gap ≤3 months: covered right after make-up (no gap here);
    hunan 第六十条: the employee waiting period applies (the resident scheme pays meanwhile)."""
    out = {}
    for code, n in (("langfang", 7), ("hunan", 8)):
        p = _span_person(code, n, "flexible", date(2024, 3, 1), on_day(months("2024-03", "2024-08"), 10))
        LifeEvent.objects.create(
            person=p,
            kind="transfer_in",
            occurred_on=date(2024, 3, 1),
            jurisdiction=p.spans.get().jurisdiction,
            months=30,
            other_region="居民医保",
        )
        svc.eligibility_refresh([p.pk], NIGHT)
        out[code] = list(EligibilityPeriod.objects.filter(person=p).order_by("start"))
    lf = next(x for x in out["langfang"] if x.status == "covered")
    assert lf.start == date(2024, 3, 10) and "第二十五条" in lf.citation
    hn = out["hunan"][0]
    assert hn.status == "waiting" and "第六十条" in hn.citation and "居民医保" in hn.reason


def tables() -> tuple[list[tuple], list[tuple]]:
    """Every stored period and every state's digest and error kind (what a full run must reproduce)."""
    periods = sorted(
        (p.person_id, p.start, p.end, p.status, p.reason, p.citation, json.dumps(p.facts, sort_keys=True))
        for p in EligibilityPeriod.objects.all()
    )
    states = sorted(EligibilityState.objects.values_list("person_id", "digest", "error_key"))
    return periods, states


T = TypeVar("T")


def rolled_back(produce: Callable[[], T]) -> T:
    """What ``produce`` gives, run in a savepoint that is then rolled back (the tables stay as they were)."""
    with transaction.atomic():
        out = produce()
        transaction.set_rollback(True)
    return out


def full_night(night: date) -> tuple[list[tuple], list[tuple]]:
    """The tables a full night (every person evaluated from all facts) leaves on ``night``, from the tables as
    they are now (rolled back): what the incremental night must leave too."""

    def produce() -> tuple[list[tuple], list[tuple]]:
        run = run_in_process(NIGHTLY, as_of=night, params={"full": True})
        assert run.status == "done" and run.counts["eligibility.evaluated"] == run.counts["eligibility.persons"]
        return tables()

    return rolled_back(produce)


def test_incremental_nights_give_the_tables_of_a_full_run_over_changes_and_date_boundaries():
    """Several nights, each with changed facts or a date crossing a rule boundary; after each, the incremental
    night's tables equal those of a full night computed from nothing, and the rule's answer person by person.

    Boundaries crossed: September billed (unpaid until its due date: langfang/ziyang 25th-day dues fall overdue
    on the 26th, D-X5; hunan "次月" on 1 October), a payment recorded ahead of its date (known from its date),
    a deferral ending unpaid (langfang 第二十六条: suspended from the day after).
    """
    people = mixed_population()
    langfang = Jurisdiction.objects.get(code="langfang")
    emp = services.employer_register(
        credit_code=credit_code(REGION["langfang"], 901),
        name="缓缴单位",
        jurisdiction="langfang",
        registered_on=date(2015, 1, 1),
    )
    deferred = _span_person("langfang", 11, "employee", date(2024, 1, 1), {}, emp)
    dues(
        deferred,
        langfang,
        "employee",
        emp,
        on_day(months("2024-01", "2024-06")) | {"2024-07": None, "2024-08": None},
        deferred=("2024-07", "2024-08"),
    )
    Deferral.objects.create(
        employer=emp,
        start=date(2024, 7, 1),
        end=date(2024, 9, 15),
        approved_on=date(2024, 7, 1),
        citation="langfang 第二十六条",
    )
    people.append(deferred)

    def check(night: date, *, expect_evaluated_at_most: int | None = None):
        want = full_night(night)
        run = run_in_process(NIGHTLY, as_of=night)
        assert run.status == "done"
        if expect_evaluated_at_most is not None:
            assert run.counts.get("eligibility.evaluated", 0) <= expect_evaluated_at_most, run.counts
        assert run.counts["eligibility.persons"] == len(people)
        got = tables()
        assert got == want, night
        ev = svc.Evaluator(night)
        for p in people:
            rows, error_key = expected(p.pk, ev)
            assert EligibilityState.objects.get(person_id=p.pk).error_key == error_key, (night, p.pk)
            if not error_key:
                assert stored(p.pk) == rows, (night, p.pk)
        return run

    first = check(date(2024, 9, 10))
    assert first.counts["eligibility.evaluated"] == len(people)
    check(date(2024, 9, 11), expect_evaluated_at_most=0)  # nothing changed, no boundary
    # September is billed for the paying employees (due the 25th); one pays it ahead of its date
    payers = [p for p in people if MonthlyDue.objects.filter(person=p, month=date(2024, 8, 1)).exclude(settled_on=None)]
    for p in payers:
        d = MonthlyDue.objects.filter(person=p, month=date(2024, 8, 1)).first()
        dues(p, d.jurisdiction, d.category, d.employer, {"2024-09": None})
    ahead = payers[0]
    MonthlyDue.objects.filter(person=ahead, month=date(2024, 9, 1)).update(settled_on=date(2024, 9, 22))
    second = check(date(2024, 9, 12), expect_evaluated_at_most=len(payers))
    assert second.counts["eligibility.evaluated"] == len(payers)
    # the deferral ended on the 14th unpaid: from the 15th suspended. Evaluated: that person by its date, and
    # the persons whose September is unpaid where no due day is on file (each day of the month may decide)
    lapse = check(date(2024, 9, 16), expect_evaluated_at_most=len(payers) + 1)
    assert EligibilityState.objects.get(person=deferred).evaluated_on == date(2024, 9, 16)
    assert EligibilityPeriod.objects.filter(person=deferred, status="suspended", start=date(2024, 9, 15)).exists()
    assert lapse.counts["eligibility.skipped"] >= len(people) - len(payers) - 1
    check(date(2024, 9, 23))  # the payment ahead of its date is known now
    overdue = check(date(2024, 9, 26))  # September's dues fell due on the 25th
    assert overdue.counts.get("eligibility.evaluated", 0) >= 1
    check(date(2024, 10, 2))  # hunan, sanmenxia: suspended from the month after
    # a person leaves (span closed) and another arrives by transfer in: facts, not dates
    span = EnrolmentSpan.objects.filter(person=payers[1]).first()
    services.span_close(span=span, end=date(2024, 10, 1))
    LifeEvent.objects.create(
        person=payers[2],
        kind="transfer_in",
        occurred_on=date(2023, 12, 1),
        jurisdiction=span.jurisdiction,
        months=30,
        other_region="广东省广州市",
    )
    changed = check(date(2024, 10, 3))
    assert 2 <= changed.counts["eligibility.evaluated"] <= 3
    # a full night on demand evaluates everybody and changes nothing
    full = run_in_process(NIGHTLY, as_of=date(2024, 10, 3), params={"full": True})
    assert full.counts["eligibility.evaluated"] == len(people)
    assert full.counts.get("eligibility.changed", 0) == 0 and full.counts.get("eligibility.periods_written", 0) == 0


# --- the late fees and the retirement clearance scan on incremental nights (issue #13) ----------------------


def clearance_tables() -> tuple[list[tuple], list[tuple]]:
    """Every clearance case's state and computed fields (not its id or run), and every due's fee and 缓缴 flag."""
    from contributions.retirement.models import RetirementClearanceCase

    cases = sorted(
        (
            c.person_id,
            c.status,
            c.opened_on,
            c.retire_on,
            c.required_months,
            c.required_local_months,
            c.deemed_months,
            c.actual_months,
            c.local_months,
            c.cumulative_months,
            c.shortfall_months,
            c.lump_sum,
            c.lump_sum_base,
            c.basis,
            bool(c.problem),
            c.citation,
            json.dumps(c.facts, sort_keys=True, default=str),
        )
        for c in RetirementClearanceCase.objects.all()
    )
    fees = sorted(MonthlyDue.objects.values_list("id", "late_fee", "deferred"))
    return cases, fees


def describing(run) -> dict:
    """The run's counts of the fee and clearance steps (what a full night must report too)."""
    return {
        k: v
        for k, v in run.counts.items()
        if (k.startswith("clearance.") or k.startswith("arrears.")) and k != "clearance.incremental"
    }


def full_clearance_night(night: date) -> tuple[tuple, dict]:
    def produce() -> tuple[tuple, dict]:
        run = run_in_process(NIGHTLY, as_of=night, params={"full": True}, chunk_size=5)
        assert run.status == "done" and not run.counts.get("clearance.incremental")
        return clearance_tables(), describing(run)

    return rolled_back(produce)


def test_incremental_fees_and_clearance_scan_give_the_tables_of_a_full_night():
    """hunan 第二十八条/第二十九条 (legal ages 60, 55 cadre, 50 worker; flexible 60/55): over nights with changed
    facts and crossed dates, the incremental scan (only persons noted by the triggers or carried by the date
    past a legal age, a span start or a dated payment) opens and recomputes exactly the cases a full scan does,
    reports the same counts, and the late fees (D-X14) are those of a full night."""
    from contributions.retirement import services as clearance
    from contributions.retirement.models import ClearanceInputChange, RetirementClearanceCase

    hunan = Jurisdiction.objects.get(code="hunan")
    emp = services.employer_register(
        credit_code=credit_code(REGION["hunan"], 950),
        name="清缴单位",
        jurisdiction="hunan",
        registered_on=date(2015, 1, 1),
    )
    seq = iter(range(400, 499))

    def worker(
        birth: date, *, male=True, role="", start=date(2024, 1, 1), paid=None, category="employee", enrolment=True
    ):
        n = next(seq)
        p = services.person_register(id_number=id_number(REGION["hunan"], birth, n, male), name=f"清{n}")
        if role:
            InsuredPerson.objects.filter(pk=p.pk).update(female_role=role)
            p.female_role = role
        services.span_open(
            person=p,
            jurisdiction=hunan,
            category=category,
            start=start,
            employer=emp if category == "employee" else None,
            enrolment=enrolment,
        )
        if paid is not None:
            dues(p, hunan, category, emp if category == "employee" else None, paid)
        return p

    paid = on_day(months("2024-01", "2024-08"))
    # over and arrives are past 60 on their spans' start: transferred in (转移接续), not new enrolments (第十六条)
    over = worker(date(1964, 1, 1), paid=paid, enrolment=False)  # 60 before the first night: opened on it
    turning = worker(date(1964, 9, 11), paid=paid)  # 60 on 2024-09-11
    later = worker(date(1964, 9, 20), paid=on_day(months("2024-01", "2024-06")) | {"2024-07": None, "2024-08": None})
    cadre = worker(date(1969, 9, 12), male=False, role="cadre", paid=paid)  # 55 on 2024-09-12
    # a woman employee without a role (registered before the role was asked): counted, never selected
    worker(date(1974, 9, 1), male=False, paid=paid, enrolment=False)
    young = worker(date(1990, 3, 3), paid=paid)  # its birth date is corrected below
    flexible = worker(date(1964, 9, 15), category="flexible", paid=on_day(months("2024-02", "2024-08"), 5))
    arrives = worker(
        date(1960, 5, 5), start=date(2024, 9, 20), paid={}, enrolment=False
    )  # over 60, insured from 2024-09-20
    nights = []

    def check(night: date) -> None:
        want, want_counts = full_clearance_night(night)
        run = run_in_process(NIGHTLY, as_of=night, chunk_size=5)
        assert run.status == "done"
        nights.append(run)
        assert clearance_tables() == want, night
        assert describing(run) == want_counts, night

    check(date(2024, 9, 10))
    assert set(RetirementClearanceCase.objects.values_list("person_id", flat=True)) == {over.pk}
    check(date(2024, 9, 11))  # turning reaches 60: opened although no fact of it changed
    assert nights[-1].counts.get("clearance.incremental", 0) >= 1
    assert RetirementClearanceCase.objects.filter(person=turning, opened_on=date(2024, 9, 11)).exists()
    # over pays September ahead of its date (到账 2024-09-16): counted from that day on, not before
    dues(over, hunan, "employee", emp, {"2024-09": date(2024, 9, 16)})
    check(date(2024, 9, 12))  # cadre reaches 55
    assert RetirementClearanceCase.objects.filter(person=cadre).exists()
    ClearanceInputChange.objects.all().delete()  # nothing noted: the date alone must bring the payment in
    check(date(2024, 9, 17))  # the payment dated ahead is counted now; flexible reaches 60 on the 15th
    assert RetirementClearanceCase.objects.filter(person=flexible).exists()
    # facts: later pays July and August (fees stop), young's birth date is corrected to 1963, a case is withdrawn
    MonthlyDue.objects.filter(person=later, settled_on=None).update(settled_on=date(2024, 9, 18), paid_principal=480)
    InsuredPerson.objects.filter(pk=young.pk).update(birth_date=date(1963, 3, 3))
    clearance.case_close(RetirementClearanceCase.objects.get(person=cadre), on=date(2024, 9, 18), note="测试撤销")
    check(date(2024, 9, 18))
    assert RetirementClearanceCase.objects.filter(person=young).exists()
    assert RetirementClearanceCase.objects.filter(person=cadre).exclude(status="closed").exists()  # opened again
    check(date(2024, 9, 23))  # later reached 60 on the 20th, arrives' span started on the 20th
    assert RetirementClearanceCase.objects.filter(person__in=[later, arrives]).count() == 2
    check(date(2024, 9, 23))  # the same night again: nothing to change
    assert all(nights[-1].counts.get(k, 0) == 0 for k in ("clearance.opened", "clearance.updated", "arrears.accrued"))
    check(date(2024, 9, 5))  # a night before the last scanned one: a full scan
    assert not nights[-1].counts.get("clearance.incremental")
