"""Reads for adjudication, set-based so that one claim and a chunk of a file read the same way.

- :func:`person_contexts` — per person: birth date, sex, enrolment spans (with the
  employer's kind) and the stored eligibility timeline (eligH's
  :class:`~benefits.models.EligibilityPeriod`; a person whose timeline was never
  computed is computed first by :func:`benefits.services.eligibility_refresh`).
- :func:`coverage_of` — covered on every day of the claim? (refusal reason as
  :func:`benefits.selectors.claim_allowed` words it).
- :func:`accumulators_of`, :func:`balances_of` — the year's accumulators, personal-account balances.
- :func:`draft_person_ranges` — a file's draft claims cut into person-id ranges of about N claims each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q
from django.db.models.fields.json import KT

from batch.partitioning import is_partitioned
from benefits.models import EligibilityPeriod, EligibilityState, EligibilityStatus
from benefits.services import eligibility_refresh
from contributions.employer_events.calculations import DueFact
from contributions.models import MonthlyDue
from contributions.residents.models import ResidentDue
from enrollment.models import Category, EnrolmentSpan, InsuredPerson, ResidentKind
from funds.models import AccountBalance, AccountKind
from policy.resolver import Policy

from .adjudication import Acc, Coverage, PersonFacts
from .families.employer_liability import Interruption, interruption_on
from .models import ACCUMULATOR_AMOUNTS, ACCUMULATOR_COUNTS, BenefitAccumulator, Claim, ClaimStatus

ONE_DAY = timedelta(days=1)
STATUS_ZH = dict(EligibilityStatus.choices)


@dataclass(frozen=True)
class SpanFact:
    jurisdiction: str
    start: date
    end: date | None
    category: str
    scheme: str
    employer_kind: str
    insutype: str = "310"  # 险种: 310 职工, 390 城乡居民
    resident_kind: str = ""  # 居民类型 (newborn: the birth year's cover without a contribution, 第三十八条)


@dataclass(frozen=True)
class PeriodFact:
    start: date
    end: date | None
    status: str
    reason: str
    citation: str
    benefit_level: str = ""  # previous_scheme: 原档次待遇 (ziyang 第十四条)


@dataclass
class PersonContext:
    person_id: int
    birth_date: date
    sex: str
    spans: list[SpanFact] = field(default_factory=list)
    periods: list[PeriodFact] = field(default_factory=list)
    timeline_error: str = ""
    timeline_known: bool = False
    resident_paid_years: set[int] = field(default_factory=set)  # benefit years whose 居民年度应缴 is settled

    def span_on(self, jurisdiction: str, day: date) -> SpanFact | None:
        for s in self.spans:
            if s.jurisdiction == jurisdiction and s.start <= day and (s.end is None or day < s.end):
                return s
        return None

    def facts_on(self, jurisdiction: str, day: date) -> PersonFacts | None:
        span = self.span_on(jurisdiction, day)
        if span is None:
            return None
        return PersonFacts(
            person_id=self.person_id,
            birth_date=self.birth_date,
            sex=self.sex,
            category=span.category,
            scheme=span.scheme,
            employer_kind=span.employer_kind,
            insutype=span.insutype,
        )

    def scheme_on(self, jurisdiction: str, day: date) -> str | None:
        """险种 of the span in force on ``day`` (310 职工, 390 城乡居民), None when not enrolled."""
        span = self.span_on(jurisdiction, day)
        return None if span is None else span.insutype


def _employer_kind(kind: str | None, difficult: bool) -> str:
    if difficult:
        return "difficult_enterprise"
    return "fiscal_institution" if kind == "fiscal_institution" else "enterprise"


#: From this many persons on, a dense set of ids is read as a range (:func:`_persons_q`).
RANGE_FROM = 500


def _persons_q(ids: list[int], field: str = "person_id") -> Q:
    """These persons (sorted ids) as a filter: a range when they are dense (a chunk of the bulk run: thousands
    of ids an IN list would spell out and the database look up one by one), else the list itself. A range
    reads persons not asked for: callers skip them."""
    if len(ids) >= RANGE_FROM and ids[-1] - ids[0] < 4 * len(ids):
        return Q(**{f"{field}__gte": ids[0], f"{field}__lte": ids[-1]})
    return Q(**{f"{field}__in": ids})


def person_contexts(
    person_ids: Iterable[int], *, as_of: date, refresh_missing: bool = True
) -> dict[int, PersonContext]:
    """Everything adjudication reads about these persons, in four queries (plus a refresh of missing timelines)."""
    ids = sorted(set(person_ids))
    wanted = set(ids)
    out = {
        pid: PersonContext(pid, birth, "male" if sex == "1" else "female")
        for pid, birth, sex in InsuredPerson.objects.filter(_persons_q(ids, "pk")).values_list(
            "pk", "birth_date", "sex"
        )
        if pid in wanted
    }
    for row in (
        EnrolmentSpan.objects.filter(_persons_q(ids))
        .order_by("person_id", "start")
        .values_list(
            "person_id",
            "jurisdiction__code",
            "start",
            "end",
            "category",
            "scheme",
            "employer__kind",
            "employer__is_difficult",
            "insutype",
            "resident_kind",
        )
    ):
        pid, code, start, end, category, scheme, kind, difficult, insutype, resident_kind = row
        if pid not in out:
            continue
        out[pid].spans.append(
            SpanFact(code, start, end, category, scheme, _employer_kind(kind, bool(difficult)), insutype, resident_kind)
        )
    for pid, year in ResidentDue.objects.filter(_persons_q(ids), settled_on__isnull=False).values_list(
        "person_id", "benefit_year"
    ):
        if pid in out:
            out[pid].resident_paid_years.add(year)
    states = dict(EligibilityState.objects.filter(_persons_q(ids)).values_list("person_id", "error"))
    missing = [pid for pid in ids if pid not in states]
    if missing and refresh_missing:
        eligibility_refresh(missing, as_of)
        states = dict(EligibilityState.objects.filter(_persons_q(ids)).values_list("person_id", "error"))
    for pid, error in states.items():
        if pid in out:
            out[pid].timeline_known = True
            out[pid].timeline_error = error or ""
    for pid, start, end, status, reason, citation, level in (
        EligibilityPeriod.objects.filter(_persons_q(ids))
        .order_by("person_id", "start")
        # KT, not the lookup "facts__benefit_level": Django resolves that lookup by catching a FieldError and
        # keeping it, a reference cycle (frame, exception, traceback) that holds the caller's frames — a whole
        # chunk's claims — until the cyclic collector runs (issue #13: ~0.2 s of every 5,000-claim chunk)
        .annotate(benefit_level=KT("facts__benefit_level"))
        .values_list("person_id", "start", "end", "status", "reason", "citation", "benefit_level")
    ):
        if pid in out:
            out[pid].periods.append(PeriodFact(start, end, status, reason, citation, level or ""))
    return out


def coverage_of(ctx: PersonContext, first: date, last: date) -> Coverage:
    """Covered on every day from ``first`` to ``last`` (both included), by the stored eligibility timeline."""
    if ctx.timeline_error:
        return Coverage(False, f"{first} 待遇状态无法计算：{ctx.timeline_error}")
    if not ctx.timeline_known:
        return Coverage(False, f"{first} 尚未计算待遇享受状态")
    day = first
    level = ""  # 原档次待遇 on any day of the claim: settled at the previous scheme's values (ziyang 第十四条)
    for p in ctx.periods:
        if p.end is not None and p.end <= day:
            continue
        if p.start > day:
            break
        if p.status != EligibilityStatus.COVERED:
            text = f"{day} {STATUS_ZH.get(p.status, p.status)}：{p.reason}"
            return Coverage(False, f"{text}（{p.citation}）" if p.citation else text, p.citation, status=p.status)
        level = level or p.benefit_level
        if p.end is None or p.end > last:
            when = f"{first}" if first == last else f"{first} 至 {last}"
            why = p.reason if not level or p.benefit_level else f"{p.reason}；其中部分日期享受原档次待遇"
            return Coverage(True, f"{when} 享受待遇：{why}", p.citation, benefit_level=level)
        day = p.end
    return Coverage(False, f"{day} {STATUS_ZH[EligibilityStatus.NONE]}：该日不在任何参保期间内")


def resident_coverage_of(ctx: PersonContext, jurisdiction: str, first: date, last: date) -> Coverage:
    """居民医保待遇 from ``first`` to ``last``: the resident span covers every day and each benefit year's
    contribution is settled (缴费次年享受, sanmenxia 第三十一条), or the span is a newborn's birth-year cover
    (第三十八条) — the set-wise reading of :func:`contributions.residents.selectors.resident_covered_on`."""
    span = ctx.span_on(jurisdiction, first)
    source = Policy(jurisdiction, first).citation("resident.cover_next_year")
    if span is None:
        return Coverage(False, f"{first} 不在居民医保参保期间内", status=EligibilityStatus.NONE)
    if span.end is not None and span.end <= last:
        return Coverage(False, f"{span.end} 起不在居民医保参保期间内", status=EligibilityStatus.NONE)
    when = f"{first}" if first == last else f"{first} 至 {last}"
    if span.resident_kind == ResidentKind.NEWBORN:
        why = f"{when} 享受居民医保待遇：新生儿出生当年随参保父母享受"
        return Coverage(True, why, Policy(jurisdiction, first).citation("resident.newborn_birth_year_cover"))
    for year in range(first.year, last.year + 1):
        if year not in ctx.resident_paid_years:
            why = f"{year} 年度居民医保个人缴费未缴清：参保居民缴费次年享受待遇，本年度无居民医保待遇"
            return Coverage(False, f"{why}（{source}）" if source else why, source, status=EligibilityStatus.NONE)
    return Coverage(True, f"{when} 享受居民医保待遇：年度个人缴费已缴清（缴费次年享受）", source)


def accumulators_of(keys: Iterable[tuple[int, int, int]]) -> dict[tuple[int, int, int], Acc]:
    """(person_id, jurisdiction_id, year) → :class:`Acc` (empty when no row exists yet)."""
    keys = set(keys)
    out = {k: Acc() for k in keys}
    if not keys:
        return out
    persons = {k[0] for k in keys}
    years = {k[2] for k in keys}
    for row in BenefitAccumulator.objects.filter(person_id__in=persons, year__in=years).values(
        "person_id", "jurisdiction_id", "year", "admissions_by_level", *ACCUMULATOR_AMOUNTS, *ACCUMULATOR_COUNTS
    ):
        key = (row.pop("person_id"), row.pop("jurisdiction_id"), row.pop("year"))
        if key in out:
            by_level = row.pop("admissions_by_level") or {}
            out[key] = Acc(row, by_level)
    return out


def balances_of(pairs: Iterable[tuple[int, int]], *, lock: bool = False) -> dict[tuple[int, int], Decimal]:
    """(person_id, jurisdiction_id) → personal-account balance (0 when the person has no account)."""
    pairs = set(pairs)
    out: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    if not pairs:
        return out
    qs = AccountBalance.objects.filter(account__kind=AccountKind.PERSONAL, account__person_id__in={p for p, _ in pairs})
    if lock:
        qs = qs.select_for_update(of=("self",))
    for pid, jid, bal in qs.values_list("account__person_id", "account__jurisdiction_id", "balance"):
        if (pid, jid) in pairs:
            out[(pid, jid)] = bal
    return out


def interruption_of(person_id: int, jurisdiction_id: int, *, day: date, as_of: date) -> Interruption | None:
    """The interruption of cover the person's ``day`` fell in, from their dues (费用承担, hunan 第二十条,
    langfang 第二十三条); ``None`` when the day is in none or the person has no span that day."""
    category = (
        EnrolmentSpan.objects.filter(person_id=person_id, jurisdiction_id=jurisdiction_id, start__lte=day)
        .filter(Q(end__isnull=True) | Q(end__gt=day))
        .values_list("category", flat=True)
        .first()
    )
    if category is None:
        return None
    rows = MonthlyDue.objects.filter(person_id=person_id, jurisdiction_id=jurisdiction_id, month__lte=as_of)
    facts = rows.values_list("month", "due_date", "settled_on", "employer_id")
    dues = [DueFact(month, due_date, settled_on, employer_id) for month, due_date, settled_on, employer_id in facts]
    return interruption_on(dues, day=day, as_of=as_of, employee=category == Category.EMPLOYEE)


def claim_ids_by_key(keys: Iterable[str]) -> dict[str, int]:
    """业务流水号 → claim id of the claims holding these keys (a file's duplicates, the stays it continues).

    On the partitioned claims table the narrow key table ``claims_claim_business_key_key`` answers (one
    primary-key probe per key, kept in step by triggers within the same transaction), not the key index of
    every year's partition.
    """
    keys = list(set(keys))
    if not keys:
        return {}
    table = Claim._meta.db_table
    if is_partitioned(table):
        with connection.cursor() as cur:
            cur.execute(f"SELECT business_key, id FROM {table}_business_key_key WHERE business_key = ANY(%s)", [keys])
            return dict(cur.fetchall())
    return dict(Claim.objects.filter(business_key__in=keys).values_list("business_key", "pk"))


def draft_person_ranges(file_id: int, claims_per_range: int) -> list[tuple[int, int]]:
    """The persons of the file's draft claims cut into ``(lo, hi)`` id ranges (``lo <= person_id < hi``) holding
    about ``claims_per_range`` claims each: a range is closed once it holds that many, so a person's claims are
    never split (a range can hold more, by the last person's claims). Sorted and disjoint; none for a file
    without draft claims. One query, the claims counted per person in the database."""
    per_person = (
        Claim.objects.filter(settlement_file_id=file_id, status=ClaimStatus.DRAFT)
        .values_list("person_id")
        .annotate(n=Count("id"))
        .order_by("person_id")
    )
    ranges: list[tuple[int, int]] = []
    lo, held = None, 0
    for person_id, n in per_person:
        if lo is None:
            lo = person_id
        held += n
        if held >= claims_per_range:
            ranges.append((lo, person_id + 1))
            lo, held = None, 0
    if lo is not None:
        ranges.append((lo, person_id + 1))
    return ranges
