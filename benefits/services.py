"""Writes of the eligibility timeline (待遇享受状态): :func:`eligibility_refresh`.

The rule is :func:`benefits.calculations.eligibility.eligibility_timeline` — the
function the ``eligibility`` scenario calculation wraps; there is no second
implementation here. This module only turns stored facts into its inputs and its
output into rows, for a whole chunk of persons at once:

1. load the chunk's facts with two set-based queries — enrolment spans, and each
   person's monthly dues folded into one string (month, 到账日 = ``settled_on``,
   缓缴) by the database (``string_agg`` / ``group_concat``);
2. evaluate the rule per enrolment in memory. The rule is a pure function of its
   inputs, so results are memoised by those inputs (jurisdiction, category,
   previous coverage, the months string): the employees of one employer who pay
   together share one evaluation;
3. compare a digest of each person's new periods with the stored one
   (:class:`~benefits.models.EligibilityState`) and rewrite only the persons that
   differ — one bulk DELETE and one COPY / bulk_create, never a ``save()`` per row.

How enrolment spans become the rule's inputs (conventions of this module, listed in the report):

* One evaluation per enrolment span, with the policy of the span's jurisdiction
  on ``as_of``. A due belongs to the span whose start month is the latest not
  after the due's month (dues of a gap between spans, e.g. a make-up bill, belong
  to the span after the gap, where the rule looks for them).
* A later span is a re-enrolment: ``first_enrolment`` False and ``previous_end`` the
  last day of the span before it (the rule then decides continuity, transfer,
  make-up or a new waiting period). The stored periods of a later span run from
  the end of the span before it, so that retroactive cover of made-up gap months
  is kept; those of the first span from its start; all end at the span's end.
* A span that began before its first due on file (history not migrated, 上线前参保)
  is treated as continuous coverage up to the first month on file: ``previous_end``
  = the day before that month, not a first enrolment.
* A span with no dues yet is given its first month, unpaid (the rule then answers
  "尚无缴费到账记录", waiting); a retiree span with no dues (retirees pay nothing)
  its first month with nothing owed.
* When the rule cannot be evaluated (a policy value missing, D-X16) the person's
  last computed periods are kept and the reason is stored on the state row and
  counted (``eligibility.error:<key>``).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from benefits.calculations.eligibility import (
    ContributionMonth,
    Period,
    add_months,
    eligibility_timeline,
    month_start,
)
from config.bulk import copy_rows
from config.calculations import InputError
from config.models import Jurisdiction
from config.policy import Policy, PolicyError, PolicyMissing, snapshot
from contributions.models import MonthlyDue
from enrollment.models import EnrolmentSpan

from .models import EligibilityPeriod, EligibilityState

ONE_DAY = timedelta(days=1)
EPOCH = date(2000, 1, 1)
EPOCH_ORD = EPOCH.toordinal()
MEMO_LIMIT = 200_000

# Kinds of change a refresh reports (the rest of its counts describe, they do not change anything).
CHANGE_KINDS = ("eligibility.changed", "eligibility.periods_written", "eligibility.errors_changed")


# --- facts, loaded set-wise ----------------------------------------------------------------------


@dataclass(frozen=True)
class SpanFact:
    person_id: int
    jurisdiction: str
    category: str
    start: date
    end: date | None


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _where(ids: Sequence[int] | None, lo: int | None, hi: int | None, col: str = "person_id") -> tuple[str, list]:
    if ids is not None:
        if _pg():
            return f"{col} = ANY(%s)", [list(ids)]
        return f"{col} IN ({', '.join(str(int(i)) for i in ids) or 'NULL'})", []
    return f"{col} >= %s AND {col} < %s", [lo, hi]


def load_spans(*, ids: Sequence[int] | None = None, lo: int | None = None, hi: int | None = None) -> dict:
    """person id → spans sorted by start (one query)."""
    where, params = _where(ids, lo, hi, "s.person_id")
    sql = f"""SELECT s.person_id, j.code, s.category, s.{_q("start")}, s.{_q("end")}
        FROM {EnrolmentSpan._meta.db_table} s JOIN {Jurisdiction._meta.db_table} j ON j.id = s.jurisdiction_id
        WHERE {where} ORDER BY s.person_id, s.{_q("start")}, s.id"""
    out: dict[int, list[SpanFact]] = {}
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for pid, code, cat, start, end in cur.fetchall():
            if isinstance(start, str):
                start = date.fromisoformat(start)
                end = date.fromisoformat(end) if end else None
            out.setdefault(pid, []).append(SpanFact(pid, code, cat, start, end))
    return out


def load_dues(*, ids: Sequence[int] | None = None, lo: int | None = None, hi: int | None = None) -> dict[int, str]:
    """person id → the person's dues folded into one string ``month:paid[:d],...`` by month (one query).

    PostgreSQL gives days since 2000-01-01, SQLite ISO dates; :func:`_parse_months` reads both.
    """
    table = MonthlyDue._meta.db_table
    where, params = _where(ids, lo, hi)
    if _pg():
        token = (
            "CAST(month - DATE '2000-01-01' AS text) || ':'"
            " || COALESCE(CAST(settled_on - DATE '2000-01-01' AS text), '')"
            " || CASE WHEN deferred THEN ':d' ELSE '' END"
        )
        sql = f"SELECT person_id, string_agg({token}, ',' ORDER BY month) FROM {table} WHERE {where} GROUP BY person_id"
    else:
        token = "month || ':' || COALESCE(settled_on, '') || CASE WHEN deferred THEN ':d' ELSE '' END"
        sql = f"""SELECT person_id, group_concat(tok, ',') FROM (
            SELECT person_id, {token} AS tok FROM {table} WHERE {where} ORDER BY person_id, month
        ) GROUP BY person_id"""
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return dict(cur.fetchall())


def _parse_day(text: str) -> date:
    if "-" in text:
        return date.fromisoformat(text)
    return date.fromordinal(EPOCH_ORD + int(text))


def _parse_months(tokens: Sequence[str]) -> list[ContributionMonth]:
    out = []
    for tok in tokens:
        parts = tok.split(":")
        out.append(
            ContributionMonth(
                _parse_day(parts[0]),
                _parse_day(parts[1]) if parts[1] else None,
                len(parts) > 2 and parts[2] == "d",
            )
        )
    return out


def _token_month(tok: str) -> date:
    return _parse_day(tok.split(":", 1)[0])


# --- the rule, evaluated per enrolment and memoised ---------------------------------------------


@dataclass(frozen=True)
class Segment:
    """The rule's answer for one enrolment span: periods, the facts behind them (JSON text), or an error."""

    periods: tuple[Period, ...]
    facts_json: str
    facts: dict
    error: str = ""
    error_key: str = ""
    digest: str = ""  # of the periods unclipped (see :func:`person_evaluate`)


class Evaluator:
    """Evaluates the rule for one ``as_of``; one policy object per jurisdiction; memoised by the rule's inputs."""

    def __init__(self, as_of: date):
        self.as_of = as_of
        self.policies: dict[str, Policy] = {}
        self.memo: dict[tuple, Segment] = {}
        self.hits = 0
        self.misses = 0
        self.snap = snapshot()

    def policy(self, code: str) -> Policy:
        p = self.policies.get(code)
        if p is None:
            p = self.policies[code] = Policy(code, self.as_of)
        return p

    def segment(
        self,
        code: str,
        category: str,
        tokens: str,
        *,
        first_enrolment: bool,
        previous_end: date | None,
        legacy: bool,
        synthetic: bool,
    ) -> Segment:
        key = (code, category, first_enrolment, previous_end, legacy, synthetic, tokens)
        seg = self.memo.get(key)
        if seg is not None:
            self.hits += 1
            return seg
        self.misses += 1
        months = _parse_months(tokens.split(","))
        facts = _facts(category, months, first_enrolment, previous_end, legacy, synthetic, code)
        facts_json = json.dumps(facts, ensure_ascii=False, sort_keys=True)
        try:
            periods = tuple(
                eligibility_timeline(
                    self.policy(code),
                    category=category,
                    months=months,
                    as_of=self.as_of,
                    first_enrolment=first_enrolment,
                    previous_end=previous_end,
                )
            )
            seg = Segment(periods, facts_json, facts, digest=_digest(_rows(code, periods, facts_json)))
        except PolicyMissing as exc:
            seg = Segment((), facts_json, facts, str(exc), f"missing:{exc.key}")
        except (PolicyError, InputError) as exc:
            seg = Segment((), facts_json, facts, str(exc), type(exc).__name__)
        if len(self.memo) >= MEMO_LIMIT:
            self.memo.clear()
        self.memo[key] = seg
        return seg


def _label(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def _facts(
    category: str,
    months: Sequence[ContributionMonth],
    first_enrolment: bool,
    previous_end: date | None,
    legacy: bool,
    synthetic: bool,
    code: str,
) -> dict[str, Any]:
    """The facts the rule is given, compactly, in Chinese keys a case worker can read."""
    facts: dict[str, Any] = {"统筹区": code, "人员类别": category}
    if synthetic:
        facts["缴费记录"] = "尚无应缴记录" if category != "retiree" else "退休人员，无应缴费用"
    else:
        paid = [m for m in months if m.paid_on]
        facts["缴费月份"] = f"{_label(months[0].month)}～{_label(months[-1].month)}，共{len(months)}个月"
        facts["已到账月数"] = len(paid)
        if paid:
            facts["首次到账日"] = min(m.paid_on for m in paid).isoformat()  # type: ignore[union-attr]
            facts["最近到账日"] = max(m.paid_on for m in paid).isoformat()  # type: ignore[union-attr]
        unpaid = [_label(m.month) for m in months if m.paid_on is None]
        if unpaid:
            facts["未缴月份"] = unpaid
        late = {
            _label(m.month): m.paid_on.isoformat()
            for m in months
            if m.paid_on is not None and m.paid_on >= add_months(m.month, 2)
        }
        if late:
            facts["逾期到账"] = dict(list(late.items())[-12:])
        deferred = [_label(m.month) for m in months if m.deferred]
        if deferred:
            facts["缓缴月份"] = deferred
    facts["首次参保"] = first_enrolment
    if previous_end is not None:
        facts["上一段参保截止日"] = previous_end.isoformat()
    if legacy:
        facts["说明"] = "参保早于系统内最早缴费记录，此前视为连续参保"
    return facts


# --- one person ---------------------------------------------------------------------------------


@dataclass
class PersonResult:
    digest: str
    error: str = ""
    error_key: str = ""
    parts: tuple = ()  # (segment, code, lo, hi) for each span

    def rows(self) -> list[tuple]:
        """(code, start, end, status, reason, citation, facts_json) for every stored period."""
        out: list[tuple] = []
        for seg, code, lo, hi in self.parts:
            out += _rows(code, seg.periods, seg.facts_json, lo, hi)
        return out


def _rows(code: str, periods: Sequence[Period], facts_json: str, lo: date | None = None, hi: date | None = None):
    rows = []
    for p in periods:
        start = p.start if lo is None else max(p.start, lo)
        end = p.end if hi is None else (hi if p.end is None else min(p.end, hi))
        if end is not None and end <= start:
            continue
        rows.append((code, start, end, p.status, p.reason, p.citation, facts_json))
    return rows


def person_evaluate(ev: Evaluator, spans: Sequence[SpanFact], dues: str | None) -> PersonResult:
    """Every span of one person through the rule; periods clipped to the spans (see the module notes).

    Only the digest is computed here; the rows are built (``PersonResult.rows``) for persons that changed.
    """
    if len(spans) == 1:
        buckets = [dues.split(",")] if dues else [[]]
    else:
        tokens = dues.split(",") if dues else []
        starts = [month_start(s.start) for s in spans]
        buckets = [[] for _ in spans]
        i = 0
        for tok in tokens:
            m = _token_month(tok)
            while i + 1 < len(spans) and starts[i + 1] <= m:
                i += 1
            buckets[i].append(tok)
    parts = []
    for n, span in enumerate(spans):
        prev = spans[n - 1] if n else None
        mine = buckets[n]
        previous_end = prev.end - ONE_DAY if prev is not None and prev.end is not None else None
        legacy = synthetic = False
        if mine:
            first_month = _token_month(mine[0])
            if prev is None and month_start(span.start) < first_month and span.category != "retiree":
                legacy = True
                previous_end = first_month - ONE_DAY
        else:
            synthetic = True
            first_month = month_start(span.start)
            if previous_end is not None and first_month <= previous_end:
                first_month = add_months(previous_end, 1)
            paid = "" if span.category != "retiree" else _day_token(span.start)
            mine = [f"{_day_token(first_month)}:{paid}"]
        if previous_end is not None and previous_end >= first_month:
            previous_end = first_month - ONE_DAY
        seg = ev.segment(
            span.jurisdiction,
            span.category,
            ",".join(mine),
            first_enrolment=prev is None and not legacy,
            previous_end=previous_end,
            legacy=legacy,
            synthetic=synthetic,
        )
        if seg.error:
            # digest of the kind of error, not its message (which names the date): a lasting gap is no change
            return PersonResult(_digest([("error", seg.error_key)]), seg.error, seg.error_key)
        lo = span.start if prev is None or prev.end is None else min(prev.end, span.start)
        parts.append((seg, span.jurisdiction, lo, span.end))
    if len(parts) == 1:
        seg, _code, lo, hi = parts[0]
        if hi is None and (not seg.periods or seg.periods[0].start >= lo):
            return PersonResult(seg.digest, parts=tuple(parts))  # the clip changes nothing
    result = PersonResult("", parts=tuple(parts))
    result.digest = _digest(result.rows())
    return result


def _day_token(day: date) -> str:
    return str(day.toordinal() - EPOCH_ORD) if _pg() else day.isoformat()


def _digest(rows: Iterable[tuple]) -> str:
    text = "\x1e".join("\x1f".join("" if v is None else str(v) for v in row) for row in rows)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


# --- the chunk refresh --------------------------------------------------------------------------


def _load_states(ids: Sequence[int] | None, lo: int | None, hi: int | None) -> dict[int, tuple[str, str]]:
    where, params = _where(ids, lo, hi)
    with connection.cursor() as cur:
        cur.execute(f"SELECT person_id, digest, error FROM {EligibilityState._meta.db_table} WHERE {where}", params)
        return {pid: (digest, error) for pid, digest, error in cur.fetchall()}


def _delete(model, person_ids: list[int]) -> int:
    table = model._meta.db_table
    n = 0
    with connection.cursor() as cur:
        if _pg():
            cur.execute(f"DELETE FROM {table} WHERE person_id = ANY(%s)", [person_ids])
            return cur.rowcount
        for k in range(0, len(person_ids), 500):
            part = person_ids[k : k + 500]
            cur.execute(f"DELETE FROM {table} WHERE person_id IN ({', '.join(map(str, part))})")
            n += cur.rowcount
    return n


def refresh(
    as_of: date,
    *,
    ids: Sequence[int] | None = None,
    lo: int | None = None,
    hi: int | None = None,
    run_id: int | None = None,
    evaluator: Evaluator | None = None,
) -> Counter:
    """Recompute the timelines of the persons given (ids, or ``lo <= id < hi``) and rewrite those that changed.

    Runs in the caller's transaction. Counts: persons, unchanged, eligibility.changed (persons
    rewritten), periods_written, errors_changed, error:<key> (persons whose rule cannot be
    evaluated now), cache_hits / evaluations.
    """
    ev = evaluator if evaluator is not None and evaluator.as_of == as_of else Evaluator(as_of)
    hits0, misses0 = ev.hits, ev.misses
    spans = load_spans(ids=ids, lo=lo, hi=hi)
    dues = load_dues(ids=ids, lo=lo, hi=hi)
    states = _load_states(ids, lo, hi)
    counts: Counter = Counter()
    now = timezone.now()
    jur_ids = dict(Jurisdiction.objects.values_list("code", "pk"))
    pg = _pg()

    rewrite: list[int] = []
    period_rows: list[tuple] = []
    state_rows: list[tuple] = []
    for pid in sorted(set(spans) | set(states)):
        person_spans = spans.get(pid, [])
        result = person_evaluate(ev, person_spans, dues.get(pid)) if person_spans else PersonResult(_digest([]))
        counts["eligibility.persons"] += 1
        if result.error_key:
            counts[f"eligibility.error:{result.error_key}"] += 1
        old = states.get(pid)
        if old is not None and old[0] == result.digest:
            counts["eligibility.unchanged"] += 1
            continue
        state_rows.append((pid, result.digest, result.error, now, run_id))
        if result.error:
            counts["eligibility.errors_changed"] += 1  # periods kept: the last timeline computed stands
            continue
        counts["eligibility.changed"] += 1
        rewrite.append(pid)
        for code, start, end, status, reason, citation, facts_json in result.rows():
            facts = facts_json if pg else json.loads(facts_json)
            period_rows.append((pid, jur_ids[code], start, end, status, reason, citation, facts, now, run_id))

    if rewrite:
        _delete(EligibilityPeriod, rewrite)
    if period_rows:
        counts["eligibility.periods_written"] += copy_rows(
            EligibilityPeriod,
            [
                "person_id",
                "jurisdiction_id",
                "start",
                "end",
                "status",
                "reason",
                "citation",
                "facts",
                "computed_at",
                "run_id",
            ],
            period_rows,
        )
    if state_rows:
        _delete(EligibilityState, [r[0] for r in state_rows])
        copy_rows(EligibilityState, ["person_id", "digest", "error", "computed_at", "run_id"], state_rows)
    counts["eligibility.cache_hits"] += ev.hits - hits0
    counts["eligibility.evaluations"] += ev.misses - misses0
    return counts


def eligibility_refresh(person_ids: Iterable[int], as_of: date, *, run_id: int | None = None) -> Counter:
    """Refresh the timelines of these persons as known on ``as_of`` (a case worker's "recompute", tests)."""
    ids = sorted(set(int(i) for i in person_ids))
    if not ids:
        return Counter()
    with transaction.atomic():
        return refresh(as_of, ids=ids, run_id=run_id)
