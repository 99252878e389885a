"""退休清缴 services: the daily scan, the computation of a case, and the case worker's actions.

The rule is :func:`contributions.calculations.retirement.clearance` (the
``retirement_clearance`` scenario calculation wraps it); the legal retirement age
is :func:`contributions.calculations.retirement.legal_age_date` with the
``retirement.age_*`` parameters (only hunan gives ages, 第二十八条, 第二十九条; elsewhere
the scan cannot select by age and counts the persons it skipped, and a case is
opened by a case worker when the pension is approved). Months by kind come from
:func:`contributions.selectors.months_by_kind` and are counted by calcB's
``count_payment_months``.

Flow: open (scan or case worker) → approve: nothing owed → retiree status from
``retiree_from``, closed; owed → a bill is issued (billed) → payment recorded →
retiree status from the date the rule gives (the month after the later of the
retirement date and the payment) and the personal-account share of the lump sum
credited where the seed says so (fundsC's ``post_retirement_clearance``) → closed.
Option "keep paying as in-service" (langfang 第三十四条, ziyang 第九条(五)2) where
``retirement.keep_paying_allowed`` is true: the case stays open and is recomputed
every night until the years are met.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from batch.bulk import insert_objects
from batch.dates import first_of_next_month, latest_birth_for_age
from batch.history import history_record
from contributions.calculations.payment_years import LOSS_EVENTS, count_payment_months
from contributions.calculations.retirement import KEEP_PAYING_KEY, clearance, legal_age_date
from contributions.calculations.retirement_place import RetirementPlace, place_rule, retirement_place
from contributions.models import MonthlyDue
from contributions.selectors import months_by_kind
from enrollment.models import EnrolmentSpan, InsuranceStatus, InsuredPerson, LifeEvent, Sex
from enrollment.services import life_event_record
from policy.calculations import InputError
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyError, snapshot

from .models import (
    CaseOption,
    CaseReason,
    CaseStatus,
    ClearanceInputChange,
    ClearanceScanMark,
    RetirementClearanceCase,
    StatusAtRetirement,
)

IN_SERVICE = ("employee", "flexible", "unemployed")
KIND_ZH = {
    "deemed_months": "视同缴费月数",
    "military_months": "军人服现役月数",
    "local_months": "本地实际缴费月数",
    "other_region_months": "统筹区外转入实际缴费月数",
    "resident_years": "居民医保年数",
    "pre2000_pooling_months": "2000年12月以前大病统筹月数",
    "deemed_lost_by": "视同缴费年限丧失事由（被开除/判刑，hunan 第三十条）",
}
# Fields a nightly recomputation may change on a case still open.
COMPUTED = (
    "category",
    "place_basis",
    "required_months",
    "required_local_months",
    "deemed_months",
    "actual_months",
    "local_months",
    "cumulative_months",
    "shortfall_months",
    "lump_sum",
    "lump_sum_base",
    "basis",
    "problem",
    "citation",
    "facts",
)


# --- legal age ---------------------------------------------------------------------------------


def _age_groups(policy: Policy) -> list[tuple[str, str, str | None, int]]:
    """(sex code, span group, female role, age) for each group whose legal age the document gives."""
    groups = []
    for sex, sex_code in (("male", Sex.MALE), ("female", Sex.FEMALE)):
        key = f"retirement.flexible_age_{sex}"
        if policy.has(key):
            groups.append((sex_code, "flexible", None, int(policy.decimal(key))))
    if policy.has("retirement.age_male"):
        groups.append((Sex.MALE, "employee", None, int(policy.decimal("retirement.age_male"))))
    for role in ("cadre", "worker"):
        key = f"retirement.age_female_{role}"
        if policy.has(key):
            groups.append((Sex.FEMALE, "employee", role, int(policy.decimal(key))))
    return groups


# --- one case's numbers --------------------------------------------------------------------------


@dataclass
class PersonFacts:
    person_id: int
    sex: str
    birth_date: date
    female_role: str
    category: str  # employee | flexible (the unemployed clear as employees)
    status: str = "normal"  # 退休时参保状态: normal 正常参保 | suspended 暂停缴费 (hunan 第三十一条)


def _last_bases(person_ids: Sequence[int], jurisdiction_id: int) -> dict[int, Decimal]:
    """Each person's base of their latest month of in-service dues in the jurisdiction (上月缴费基数)."""
    if connection.vendor == "postgresql":  # one row per person, not every month of every person
        return dict(
            MonthlyDue.objects.filter(person_id__in=person_ids, jurisdiction_id=jurisdiction_id)
            .exclude(category="retiree")
            .order_by("person_id", "-month")
            .distinct("person_id")
            .values_list("person_id", "base")
        )
    out: dict[int, Decimal] = {}
    for pid, base in (
        MonthlyDue.objects.filter(person_id__in=person_ids, jurisdiction_id=jurisdiction_id)
        .exclude(category="retiree")
        .order_by("person_id", "month")
        .values_list("person_id", "base")
    ):
        out[pid] = base
    return out


def compute(
    policy: Policy,
    facts: PersonFacts,
    kinds: dict[str, Decimal],
    *,
    retire_on: date | None,
    last_base: Decimal | None,
    paid_on: date | None = None,
) -> dict[str, Any]:
    """A case's computed fields from calcB's rules; a missing value lands in ``problem`` (D-X16)."""
    # a view of its own: the citation lists what this case's computation read, not what earlier cases
    # computed on the shared policy object read (else opening and recomputation cite differently)
    policy = policy.at(policy.on)
    policy.used = {}
    sex = "male" if facts.sex == Sex.MALE else "female"
    out: dict[str, Any] = {
        "facts": {
            "性别": "男" if sex == "male" else "女",
            "出生日期": facts.birth_date.isoformat(),
            "女职工身份": {"cadre": "干部", "worker": "工人"}.get(facts.female_role, ""),
            "人员类别": "灵活就业人员" if facts.category == "flexible" else "在职职工",
            **{KIND_ZH.get(k, k): LOSS_EVENTS.get(str(v), str(v)) for k, v in kinds.items()},
            "上月缴费基数": None if last_base is None else str(last_base),
        },
        "problem": "",
    }
    try:
        place = _place(policy, facts, kinds)  # 退休地: hunan 第三十一条
    except InputError as exc:
        out["problem"] = f"退休地未能确定：{exc}"
        return out
    if place is not None:
        out["place_basis"] = place.reason
        if place.as_flexible:
            facts = dataclasses.replace(facts, category="flexible")
            out["category"] = "flexible"
            out["facts"]["人员类别"] = "灵活就业人员"
    try:
        counted = count_payment_months(policy, **kinds)  # deemed_lost_by: hunan 第三十条
        actual = kinds["local_months"] + kinds["other_region_months"]
        result = clearance(
            policy,
            sex=sex,
            birth_date=facts.birth_date,
            female_role=facts.female_role or None,
            category=facts.category,
            retire_on=retire_on,
            deemed_months=counted.cumulative - actual,
            actual_months=actual,
            local_months=counted.local,
            last_monthly_base=last_base,
            lump_sum_paid_on=paid_on,
        )
    except (PolicyError, InputError) as exc:
        out["problem"] = str(exc)
        return out
    out.update(
        retire_on=result.retire_on,
        required_months=result.required_months,
        required_local_months=result.required_local_months,
        deemed_months=counted.cumulative - actual,
        actual_months=actual,
        local_months=result.local_months,
        cumulative_months=result.cumulative_months,
        shortfall_months=result.shortfall_months,
        lump_sum=result.lump_sum,
        basis=result.basis,
        citation="; ".join(f"{k}: {v}" for k, v in sorted(result.citations.items())),
        retiree_from=result.retiree_from,
        lump_sum_base=result.lump_sum_base,
        keep_paying_allowed=result.keep_paying_allowed,
    )
    out["facts"]["计入的年限"] = {k: str(v) for k, v in counted.parts.items()}
    return out


def _place(policy: Policy, facts: PersonFacts, kinds: dict[str, Any]) -> RetirementPlace | None:
    """退休地 (hunan 第三十一条) from the status at retirement. Each pooling area of this system lies in its own
    province, so the province's places known here are the case's own area, with its actual months."""
    here = policy.jurisdiction
    return retirement_place(
        policy, status=facts.status, current_place=here, months_by_place={here: Decimal(kinds["local_months"])}
    )


def _person_facts(person: InsuredPerson, category: str) -> PersonFacts:
    return PersonFacts(
        person.pk,
        person.sex,
        person.birth_date,
        person.female_role,
        "flexible" if category == "flexible" else "employee",
    )


def case_compute(case: RetirementClearanceCase, *, on: date, paid_on: date | None = None) -> dict[str, Any]:
    """Recompute one case as of ``on`` (the case worker's screen and the nightly recomputation)."""
    person = case.person
    policy = Policy(case.jurisdiction.code, on)
    kinds = months_by_kind([person.pk], on)[person.pk]
    last = _last_bases([person.pk], case.jurisdiction_id).get(person.pk)
    facts = PersonFacts(
        person.pk, person.sex, person.birth_date, person.female_role, case.category, case.status_at_retirement
    )
    return compute(policy, facts, kinds, retire_on=case.retire_on, last_base=last, paid_on=paid_on)


def _apply(case: RetirementClearanceCase, values: dict[str, Any]) -> bool:
    """Copy computed values onto the case; True if any changed (a problem still there is no change)."""
    changed = False
    for name in COMPUTED:
        if name == "problem" and case.problem and values.get("problem"):
            continue  # the same gap, worded with another date
        if name in values and getattr(case, name) != values[name]:
            setattr(case, name, values[name])
            changed = True
    return changed


# --- opening cases -------------------------------------------------------------------------------


def _in_service_span(person_id: int, on: date) -> EnrolmentSpan | None:
    return (
        EnrolmentSpan.objects.filter(person_id=person_id, start__lte=on, category__in=IN_SERVICE)
        .filter(Q(end__isnull=True) | Q(end__gt=on))
        .select_related("jurisdiction")
        .first()
    )


def _last_in_service_span(person_id: int, before: date) -> EnrolmentSpan | None:
    """The latest in-service span that ended on or before ``before`` (contributions stopped: 暂停缴费)."""
    return (
        EnrolmentSpan.objects.filter(person_id=person_id, category__in=IN_SERVICE, end__isnull=False, end__lte=before)
        .select_related("jurisdiction")
        .order_by("-end", "-id")
        .first()
    )


def _status_of(span_status: str) -> str:
    """参保状态 of the span (psn_insu_stas) in the words of 第三十一条: 暂停参保 → 暂停缴费, else 正常参保."""
    return StatusAtRetirement.SUSPENDED if span_status == InsuranceStatus.SUSPENDED else StatusAtRetirement.NORMAL


@transaction.atomic
def case_open(
    *, person: InsuredPerson, reason: str, retire_on: date | None, opened_on: date, user=None
) -> RetirementClearanceCase:
    """A case worker opens a case (pension approved, or legal age reached where the scan cannot tell)."""
    if reason not in CaseReason.values:
        raise ValidationError({"reason": f"未知立案原因 {reason!r}"})
    span = _in_service_span(person.pk, retire_on or opened_on)
    status = StatusAtRetirement.NORMAL
    if span is None:
        # 第三十一条（二）: contributions stopped before the retirement date (暂停缴费) — cleared in the place
        # of the longest actual years as a flexible worker, where the document has that rule
        span = _last_in_service_span(person.pk, retire_on or opened_on)
        if span is None or place_rule(Policy(span.jurisdiction.code, retire_on or opened_on)) is None:
            raise ValidationError({"person": "该人员在退休日期没有在职参保关系，无需退休清缴。"})
        status = StatusAtRetirement.SUSPENDED
    elif span.status == InsuranceStatus.SUSPENDED:
        status = StatusAtRetirement.SUSPENDED
    if RetirementClearanceCase.objects.filter(person=person).exclude(status=CaseStatus.CLOSED).exists():
        raise ValidationError({"person": "该人员已有办理中的退休清缴案件。"})
    case = RetirementClearanceCase(
        person=person,
        jurisdiction=span.jurisdiction,
        category="flexible" if span.category == "flexible" else "employee",
        opened_on=opened_on,
        reason=reason,
        retire_on=retire_on or opened_on,
        status_at_retirement=status,
    )
    values = case_compute(case, on=opened_on)
    case.retire_on = values.get("retire_on", case.retire_on)
    _apply(case, values)
    case.save()
    return case


# --- the daily scan -----------------------------------------------------------------------------


def scan_version() -> str:
    """Digest of the policy on file (every dated parameter and statistic) and of the clearance rule's code:
    a scan under another version reads every person of its ids again (a policy change, a new rule)."""
    snap = snapshot()
    cached = _VERSION.get(snap.built_at)
    if cached is None:
        rows = sorted(
            (kind, code, key, repr(v.dates), repr(v.rows))
            for kind, table in (("p", snap.parameters), ("s", snap.statistics))
            for (code, key), v in table.items()
        )
        code_text = "".join(inspect.getsource(m) for m in _rule_modules())
        cached = hashlib.md5(f"{rows!r}|{code_text}|{connection.vendor}".encode()).hexdigest()
        _VERSION.clear()
        _VERSION[snap.built_at] = cached
    return cached


_VERSION: dict[float, str] = {}


def _rule_modules():  # imported late: this module is one of them
    from contributions import selectors
    from contributions.calculations import payment_years, retirement

    return (retirement, payment_years, selectors, sys.modules[__name__])


def _policy_dated_between(since: date, as_of: date) -> bool:
    """Whether a parameter or statistic of any jurisdiction takes effect in ``(since, as_of]``."""
    snap = snapshot()
    return any(
        since < d <= as_of for table in (snap.parameters, snap.statistics) for v in table.values() for d in v.dates
    )


def _marks(lo: int, hi: int) -> list[tuple]:
    """The scan marks over ``[lo, hi)``: (lo, hi, as_of, version, id) by lo."""
    return sorted(
        ClearanceScanMark.objects.filter(lo__lt=hi, hi__gt=lo).values_list("lo", "hi", "as_of", "version", "id")
    )


def _scanned_since(rows: list[tuple], lo: int, hi: int, as_of: date, version: str) -> date | None:
    """The date up to which ``[lo, hi)`` was scanned under ``version`` (the earliest of its marks ``rows``), or
    None when an id of it was never scanned, was scanned after ``as_of`` or under another version, or when a
    policy value takes effect in between: then the scan reads everybody (a full scan)."""
    if not rows or any(day > as_of or v != version for _lo, _hi, day, v, _id in rows):
        return None
    covered = lo
    for r_lo, r_hi, _day, _v, _id in rows:
        if r_lo > covered:
            return None  # a gap: ids never scanned
        covered = max(covered, r_hi)
    if covered < hi:
        return None
    since = min(day for _lo, _hi, day, _v, _id in rows)
    return None if _policy_dated_between(since, as_of) else since


def _mark_scanned(rows: list[tuple], lo: int, hi: int, as_of: date, version: str) -> None:
    if len(rows) == 1 and rows[0][:2] == (lo, hi):  # the same ids as last night: one UPDATE
        ClearanceScanMark.objects.filter(pk=rows[0][4]).update(as_of=as_of, version=version)
        return
    ClearanceScanMark.objects.filter(lo__gte=lo, hi__lte=hi).delete()
    ClearanceScanMark.objects.create(lo=lo, hi=hi, as_of=as_of, version=version)


def _jurisdictions() -> list[tuple[int, str]]:
    """(id, code) of every jurisdiction, read once per policy snapshot (jurisdictions come with the policy)."""
    key = snapshot().built_at
    if key not in _JURISDICTIONS:
        _JURISDICTIONS.clear()
        _JURISDICTIONS[key] = list(Jurisdiction.objects.values_list("pk", "code"))
    return _JURISDICTIONS[key]


_JURISDICTIONS: dict[float, list[tuple[int, str]]] = {}


def scan_prepare() -> None:
    """Read what every scan of a policy snapshot reads once (its version, the jurisdictions) in this process: a
    process that then forks the chunk processes reads it for all of them."""
    scan_version()
    _jurisdictions()


@contextmanager
def _own_writes():
    """The scan's own case writes are its answer, not a change of its inputs: on PostgreSQL the case triggers
    skip them while this is set (transaction-local); SQLite's are undone after (see :func:`_scan`)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("SELECT set_config('retirement.scanning', 'on', true)")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('retirement.scanning', 'off', true)")


def _take_changes(lo: int, hi: int) -> set[int]:
    """The persons of ``[lo, hi)`` noted since the last scan (taken out of the notes, in the caller's transaction)."""
    table = ClearanceInputChange._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"DELETE FROM {table} WHERE person_id >= %s AND person_id < %s RETURNING person_id", [lo, hi])
            return {r[0] for r in cur.fetchall()}
        cur.execute(f"SELECT person_id FROM {table} WHERE person_id >= %s AND person_id < %s", [lo, hi])
        ids = {r[0] for r in cur.fetchall()}
        cur.execute(f"DELETE FROM {table} WHERE person_id >= %s AND person_id < %s", [lo, hi])
        return ids


def _ids_sql(column: str, ids: Sequence[int]) -> str:
    return f"{column} IN ({', '.join(str(int(i)) for i in ids) or 'NULL'})"


def _date_crossers(
    lo: int, hi: int, since: date, as_of: date, policies: dict[int, Policy]
) -> tuple[set[int], set[int], set[int]]:
    """Persons of ``[lo, hi)`` for whom the date alone may change the scan's answer between ``since`` and
    ``as_of``, in one statement: (to select) those reaching a legal age in ``(since, as_of]`` (birth date
    between the two cut-offs, :func:`latest_birth_for_age`) or whose span starts in it; (to recompute) the
    persons of the pending cases with a payment (到账日), a span start or a transfer in dated in it (months are
    counted as of a date); and the persons with a pending case."""
    span_t, person_t = EnrolmentSpan._meta.db_table, InsuredPerson._meta.db_table
    case_t, due_t, event_t = RetirementClearanceCase._meta.db_table, MonthlyDue._meta.db_table, LifeEvent._meta.db_table
    q = connection.ops.quote_name
    ages = sorted({age for policy in policies.values() for *_g, age in _age_groups(policy)})
    parts, params = [], []
    if ages:
        windows = " OR ".join("(birth_date > %s AND birth_date <= %s)" for _ in ages)
        parts.append(f"SELECT 1, id FROM {person_t} WHERE ({windows}) AND id >= %s AND id < %s")
        for age in ages:
            params += [latest_birth_for_age(since, age), latest_birth_for_age(as_of, age)]
        params += [lo, hi]
    parts.append(
        f"""SELECT 2, person_id FROM {span_t} WHERE person_id >= %s AND person_id < %s
            AND {q("start")} > %s AND {q("start")} <= %s"""
    )
    params += [lo, hi, since, as_of]
    parts.append(
        f"""SELECT 3, c.person_id FROM {case_t} c WHERE c.person_id >= %s AND c.person_id < %s AND c.status = %s
            AND (EXISTS (SELECT 1 FROM {due_t} d WHERE d.person_id = c.person_id
                         AND d.settled_on > %s AND d.settled_on <= %s)
              OR EXISTS (SELECT 1 FROM {event_t} e WHERE e.person_id = c.person_id
                         AND e.occurred_on > %s AND e.occurred_on <= %s))"""
    )
    params += [lo, hi, CaseStatus.OPEN, since, as_of, since, as_of]
    parts.append(f"SELECT 4, person_id FROM {case_t} WHERE person_id >= %s AND person_id < %s AND status = %s")
    params += [lo, hi, CaseStatus.OPEN]
    select: set[int] = set()
    recompute: set[int] = set()
    pending: set[int] = set()
    with connection.cursor() as cur:
        cur.execute(" UNION ALL ".join(parts), params)
        for kind, value in cur.fetchall():
            if kind == 4:
                pending.add(value)
            elif kind == 3:
                recompute.add(value)
            else:
                select.add(value)
                if kind == 2:
                    recompute.add(value)
    return select, recompute, pending


def clearance_scan(
    as_of: date, *, lo: int, hi: int, run_id: int | None = None, incremental: bool = False, full: bool = False
) -> Counter:
    """退休清缴 daily: open a case for every in-service person of ``[lo, hi)`` who has reached the legal age.

    Set-based selection per jurisdiction and age group (birth date on or before the cut-off,
    an in-service span open on ``as_of``, no case in progress); then recompute the cases
    still pending (open, or keep-paying) and update those whose numbers changed.

    ``incremental`` (the nightly run, issue #13): where the ids were scanned before under the same policy and
    rule (:class:`ClearanceScanMark`, no policy value dated in between), only the persons that may give
    another answer are read — those noted by the triggers since (:class:`ClearanceInputChange`) and those
    the dates cross (:func:`_date_crossers`); otherwise, and with ``full``, everybody. Both leave the same
    tables (``tests/test_nightly_equivalence.py``).
    Counts: clearance.opened, clearance.updated, clearance.pending, clearance.problem,
    clearance.age_unknown:<code> (in-service persons the scan cannot select by age),
    clearance.female_role_missing, clearance.incremental (1 when the chunk was scanned incrementally).
    """
    counts: Counter = Counter()
    jurs = _jurisdictions()
    policies = {jid: Policy(code, as_of) for jid, code in jurs}
    groups_of = {jid: _age_groups(policies[jid]) for jid, _code in jurs}
    version = scan_version()
    noted = _take_changes(lo, hi)
    marks = _marks(lo, hi)
    since = _scanned_since(marks, lo, hi, as_of, version) if incremental and not full else None
    counts += _scan(as_of, lo, hi, run_id, noted, since, jurs, policies, groups_of)
    _mark_scanned(marks, lo, hi, as_of, version)
    return counts


def _scan(
    as_of: date,
    lo: int,
    hi: int,
    run_id: int | None,
    noted: set[int],
    since: date | None,
    jurs: list[tuple[int, str]],
    policies: dict[int, Policy],
    groups_of: dict[int, list],
) -> Counter:
    """The scan of :func:`clearance_scan`: everybody of ``[lo, hi)`` (``since`` None) or only the persons noted
    and those the dates cross since ``since``."""
    counts: Counter = Counter()
    span_t, case_t = EnrolmentSpan._meta.db_table, RetirementClearanceCase._meta.db_table
    person_t = InsuredPerson._meta.db_table
    q = connection.ops.quote_name
    new_cases: list[RetirementClearanceCase] = []
    select_only: set[int] | None = None
    recompute_only: set[int] | None = None
    pending_before: int | None = None
    if since is not None:
        to_select, to_recompute, pending = _date_crossers(lo, hi, since, as_of, policies)
        # only the pending cases are recomputed: of the persons to look at, those with one
        select_only, recompute_only = noted | to_select, (noted | to_recompute) & pending
        pending_before = len(pending)
        counts["clearance.incremental"] += 1
    in_service = f"""FROM {span_t} s JOIN {person_t} p ON p.id = s.person_id
        WHERE s.person_id >= %s AND s.person_id < %s AND p.id >= %s AND p.id < %s
          AND s.{q("start")} <= %s AND (s.{q("end")} IS NULL OR s.{q("end")} > %s)
          AND s.category IN ('employee', 'flexible', 'unemployed')"""
    counts += _unselectable(as_of, lo, hi, in_service, jurs, groups_of)
    for jid, _code in jurs:
        groups = groups_of[jid]
        if not groups or (select_only is not None and not select_only):
            continue
        policy = policies[jid]
        clauses, gparams = [], []
        for sex_code, group, role, age in groups:
            cats = "('flexible')" if group == "flexible" else "('employee', 'unemployed')"
            role_sql = " AND p.female_role = %s" if role else ""
            clauses.append(f"(p.sex = %s AND s.category IN {cats}{role_sql} AND p.birth_date <= %s)")
            gparams += [sex_code] + ([role] if role else []) + [latest_birth_for_age(as_of, age)]
        only_sql = "" if select_only is None else f" AND {_ids_sql('p.id', sorted(select_only))}"
        with connection.cursor() as cur:
            cur.execute(
                f"""SELECT p.id, p.sex, p.birth_date, p.female_role, s.category, s.status {in_service}
                    AND s.jurisdiction_id = %s AND ({" OR ".join(clauses)}){only_sql}
                    AND NOT EXISTS (SELECT 1 FROM {case_t} c WHERE c.person_id = p.id AND c.status <> 'closed')
                    ORDER BY p.id""",
                [lo, hi, lo, hi, as_of, as_of, jid, *gparams],
            )
            rows = cur.fetchall()
        if not rows:
            continue
        ids = [r[0] for r in rows]
        kinds = months_by_kind(ids, as_of)
        last = _last_bases(ids, jid)
        for pid, sex, birth, role, category, span_status in rows:
            if isinstance(birth, str):
                birth = date.fromisoformat(birth)
            facts = PersonFacts(
                pid, sex, birth, role, "flexible" if category == "flexible" else "employee", _status_of(span_status)
            )
            legal = legal_age_date(
                policy,
                sex="male" if sex == Sex.MALE else "female",
                birth_date=birth,
                category=facts.category,
                female_role=role or None,
            )
            if legal > as_of:
                continue
            values = compute(policy, facts, kinds[pid], retire_on=legal, last_base=last.get(pid))
            case = RetirementClearanceCase(
                person_id=pid,
                jurisdiction_id=jid,
                category=facts.category,
                opened_on=as_of,
                reason=CaseReason.LEGAL_AGE,
                retire_on=legal,
                status_at_retirement=facts.status,
                run_id=run_id,
            )
            _apply(case, values)
            counts["clearance.problem"] += bool(case.problem)
            new_cases.append(case)
    if new_cases:
        # set-wise, with their history rows (bulk_create_with_history prepares every value through the ORM)
        with _own_writes():
            insert_objects(RetirementClearanceCase, new_cases)
        table, history = case_t, RetirementClearanceCase.history.model._meta.db_table
        history_record(
            RetirementClearanceCase,
            f"person_id >= %s AND person_id < %s AND opened_on = %s"
            f" AND NOT EXISTS (SELECT 1 FROM {history} h WHERE h.id = {table}.id)",
            [lo, hi, as_of],
            when=timezone.now(),
            reason="退休清缴日常扫描立案",
        )
        counts["clearance.opened"] += len(new_cases)
    # the cases just opened were computed from tonight's facts: recomputing them now is redundant work
    opened = {c.person_id for c in new_cases}
    written: set[int] = set(opened)
    counts += pending_recompute(
        as_of, lo=lo, hi=hi, skip=opened, only=recompute_only, written=written, pending=pending_before
    )
    counts["clearance.pending"] += len(opened)
    if connection.vendor != "postgresql" and written:
        # SQLite's row triggers noted the scan's own case writes (its answer, not a change of its inputs); one
        # writer at a time there, so nothing else can have noted these persons meanwhile
        ClearanceInputChange.objects.filter(person_id__in=sorted(written)).delete()
    return counts


def _unselectable(
    as_of: date, lo: int, hi: int, in_service: str, jurs: list[tuple[int, str]], groups_of: dict[int, list]
) -> Counter:
    """What the scan cannot select among the in-service persons of ``[lo, hi)``: everybody of a jurisdiction
    without legal ages (clearance.age_unknown:<code>), and where a woman employee's age goes by her role, the women
    employees without a cadre/worker role (clearance.female_role_missing). Only those rows are counted (the second
    through the partial index ``person_female_no_role``) instead of every in-service person of the chunk with
    their person rows (issue #13: 37–52 ms a chunk of 50,000 ids)."""
    counts: Counter = Counter()
    code_of = dict(jurs)
    no_ages = [jid for jid, _code in jurs if not groups_of.get(jid)]
    by_role = [
        jid for jid, _code in jurs if any(g[0] == Sex.FEMALE and g[1] == "employee" for g in groups_of.get(jid) or ())
    ]
    with connection.cursor() as cur:
        if no_ages:  # the spans alone: every span has its person
            span_t, q = EnrolmentSpan._meta.db_table, connection.ops.quote_name
            cur.execute(
                f"""SELECT jurisdiction_id, COUNT(*) FROM {span_t} WHERE person_id >= %s AND person_id < %s
                      AND {q("start")} <= %s AND ({q("end")} IS NULL OR {q("end")} > %s)
                      AND category IN ('employee', 'flexible', 'unemployed')
                      AND {_ids_sql("jurisdiction_id", no_ages)} GROUP BY 1""",
                [lo, hi, as_of, as_of],
            )
            for jid, n in cur.fetchall():
                counts[f"clearance.age_unknown:{code_of[jid]}"] += n
        if by_role:
            cur.execute(
                f"""SELECT COUNT(*) {in_service} AND {_ids_sql("s.jurisdiction_id", by_role)}
                    AND p.sex = %s AND p.female_role = '' AND s.category IN ('employee', 'unemployed')""",
                [lo, hi, lo, hi, as_of, as_of, Sex.FEMALE],
            )
            n = cur.fetchone()[0]
            if n:
                counts["clearance.female_role_missing"] += n
    return counts


def pending_recompute(
    as_of: date,
    *,
    lo: int,
    hi: int,
    skip: set[int] | frozenset[int] = frozenset(),
    only: set[int] | None = None,
    written: set[int] | None = None,
    pending: int | None = None,
) -> Counter:
    """Recompute the cases still pending (status open) of ``[lo, hi)``; save only those that changed.

    Facts for all of them are loaded at once (months by kind, last bases), per jurisdiction.
    ``skip``: persons whose case was opened by this very scan (computed from the same facts).
    ``only``: of them, just these persons' cases (an incremental scan: the others cannot have changed);
    ``clearance.pending`` still counts them all (``pending``: their number, when the caller counted them
    before opening tonight's cases). ``written``: gets the persons whose case was saved.
    """
    counts: Counter = Counter()
    cases = RetirementClearanceCase.objects.filter(person_id__gte=lo, person_id__lt=hi, status=CaseStatus.OPEN)
    if only is not None:
        counts["clearance.pending"] += pending if pending is not None else cases.exclude(person_id__in=skip).count()
        if not only:
            return counts
        cases = cases.filter(person_id__in=sorted(only))
    if skip:  # tonight's new cases (a first night: every case of the chunk) are not read only to be dropped
        cases = cases.exclude(person_id__in=sorted(skip))
    pending = list(cases.select_related("person", "jurisdiction").order_by("id"))
    if only is None:
        counts["clearance.pending"] += len(pending)
    if not pending:
        return counts
    kinds = months_by_kind([c.person_id for c in pending], as_of)
    by_jur: dict[int, list[RetirementClearanceCase]] = {}
    for case in pending:
        by_jur.setdefault(case.jurisdiction_id, []).append(case)
    changed: list[RetirementClearanceCase] = []
    for jid, cases in by_jur.items():
        policy = Policy(cases[0].jurisdiction.code, as_of)
        last = _last_bases([c.person_id for c in cases], jid)
        for case in cases:
            p = case.person
            facts = PersonFacts(p.pk, p.sex, p.birth_date, p.female_role, case.category, case.status_at_retirement)
            values = compute(policy, facts, kinds[p.pk], retire_on=case.retire_on, last_base=last.get(p.pk))
            if _apply(case, values):
                changed.append(case)
    if changed:
        with _own_writes():
            for case in changed:  # few: a case changes when a month is paid or a parameter is entered
                case.save()
                if written is not None:
                    written.add(case.person_id)
    counts["clearance.updated"] += len(changed)
    return counts


# --- the case worker's actions ------------------------------------------------------------------


def keep_paying_offer(case: RetirementClearanceCase, *, on: date) -> tuple[bool | None, str]:
    """Whether 按在职职工继续缴费 may replace the lump sum for this case on ``on``, with the article (None: silent)."""
    policy = Policy(case.jurisdiction.code, on)
    allowed = policy.value(KEEP_PAYING_KEY, None)
    if allowed is None:
        return None, KEEP_PAYING_KEY
    return bool(allowed), f"{KEEP_PAYING_KEY}: {policy.citation(KEEP_PAYING_KEY)}"


@transaction.atomic
def case_choose_keep_paying(case: RetirementClearanceCase, *, on: date, user=None) -> RetirementClearanceCase:
    """按在职职工继续缴费 (langfang 第三十四条; ziyang 第九条(五)2): only where the parameter allows it."""
    allowed, cite = keep_paying_offer(case, on=on)
    if allowed is None:
        raise ValidationError(
            {
                "option": f"{case.jurisdiction.name}在 {on} 没有允许继续缴费的政策参数 {KEEP_PAYING_KEY}"
                "（文件未规定，需由经办人员录入，D-X16）。"
            }
        )
    if not allowed:
        raise ValidationError({"option": f"{case.jurisdiction.name}只能一次性补缴，不能选择继续缴费（{cite}）。"})
    if case.status != CaseStatus.OPEN:
        raise ValidationError({"option": "只有待审核的案件可以改为继续缴费。"})
    case.option = CaseOption.KEEP_PAYING
    case.citation = f"{case.citation}; {cite}".strip("; ")
    case.save()
    return case


def _retire(case: RetirementClearanceCase, *, retiree_from: date, user=None) -> None:

    life_event_record(
        person=case.person,
        kind="retirement",
        occurred_on=retiree_from,
        jurisdiction=case.jurisdiction,
        note=f"退休清缴案件 #{case.pk} 办结，自 {retiree_from} 起享受退休人员待遇",
        user=user,
    )
    case.retiree_from = retiree_from


@transaction.atomic
def case_approve(case: RetirementClearanceCase, *, on: date, user=None) -> RetirementClearanceCase:
    """审核: nothing owed → retiree status from ``retiree_from`` and closed; owed → a bill is issued."""
    case = RetirementClearanceCase.objects.select_for_update().select_related("person", "jurisdiction").get(pk=case.pk)
    if case.status != CaseStatus.OPEN:
        raise ValidationError({"status": f"案件状态为“{case.get_status_display()}”，不能审核。"})
    values = case_compute(case, on=on)
    if values["problem"]:
        raise ValidationError({"status": f"无法核定：{values['problem']}"})
    _apply(case, values)
    case.approved_by = user if user is not None and getattr(user, "is_authenticated", False) else None
    case.approved_on = on
    if case.option == CaseOption.KEEP_PAYING and case.shortfall_months:
        raise ValidationError({"status": f"选择继续缴费，尚差{case.shortfall_months}个月，年限满后再审核。"})
    if not case.shortfall_months:
        retiree_from = values["retiree_from"]
        if case.option == CaseOption.KEEP_PAYING:
            # langfang 第三十四条 "达到规定缴费年限后，可申请享受退休人员医疗保险待遇"; ziyang 第九条(五)2 "退休清算前
            # 享受在职职工医疗保险待遇": in service until this approval, retiree from the next month (D-X11)
            retiree_from = max(retiree_from, first_of_next_month(on))
        _retire(case, retiree_from=retiree_from, user=case.approved_by)
        case.status, case.closed_on = CaseStatus.CLOSED, on
    else:
        case.status = CaseStatus.BILLED
        case.bill_amount = case.lump_sum
        case.bill_issued_on = on
        case.bill_no = f"TXQJ{on:%Y%m%d}{case.pk:08d}"
    case.save()
    return case


@transaction.atomic
def case_record_payment(
    case: RetirementClearanceCase, *, paid_on: date, reference: str, user=None
) -> RetirementClearanceCase:
    """缴费到账: retiree status from the date the rule gives; the account share credited where the seed says so."""
    case = RetirementClearanceCase.objects.select_for_update().select_related("person", "jurisdiction").get(pk=case.pk)
    if case.status != CaseStatus.BILLED:
        raise ValidationError({"status": "只有已开具补缴单的案件可以登记缴费。"})
    if not (reference or "").strip():
        raise ValidationError({"payment_reference": "请填写电子税票号。"})
    values = case_compute(case, on=case.bill_issued_on or paid_on, paid_on=paid_on)
    if values.get("retiree_from") is None:
        raise ValidationError({"status": f"无法确定退休人员待遇起始日：{values['problem']}"})
    case.status, case.paid_on, case.payment_reference = CaseStatus.PAID, paid_on, reference.strip()
    case.save()
    _post_ledger(case, paid_on=paid_on, user=user)
    _retire(case, retiree_from=values["retiree_from"], user=user)
    case.status, case.closed_on = CaseStatus.CLOSED, paid_on
    case.save()
    return case


#: 记账接口 (a port): the ledger sits above contributions, so it registers its clearance poster here when
#: the funds app starts (:meth:`funds.apps.FundsConfig.ready`) instead of being imported from below.
#: Signature: ``poster(case, *, paid_on, user) -> None``; it sets ``ledger_entry_id`` / ``ledger_note``.
_ledger_poster: Callable[..., None] | None = None


def ledger_poster_register(poster: Callable[..., None]) -> None:
    global _ledger_poster
    _ledger_poster = poster


def _post_ledger(case: RetirementClearanceCase, *, paid_on: date, user=None) -> None:
    if _ledger_poster is None:
        case.ledger_note = "未记账：基金账簿未启用（funds 应用未安装）。"
        return
    _ledger_poster(case, paid_on=paid_on, user=user)


def case_close(case: RetirementClearanceCase, *, on: date, note: str = "") -> RetirementClearanceCase:
    """撤销 a case opened in error (the person stays in service); a case already paid cannot be undone here."""
    if case.status in (CaseStatus.PAID, CaseStatus.CLOSED):
        raise ValidationError({"status": f"案件状态为「{case.get_status_display()}」，不能撤销。"})
    case.status, case.closed_on = CaseStatus.CLOSED, on
    case.ledger_note = (case.ledger_note + "\n" + note).strip()
    case.save()
    return case
