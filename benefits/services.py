"""Writes of the eligibility timeline (待遇享受状态): :func:`refresh` (nightly chunks) and :func:`eligibility_refresh`.

The rule is :func:`benefits.calculations.eligibility.eligibility_timeline` — the
function the ``eligibility`` scenario calculation wraps; there is no second
implementation here. This module only turns stored facts into its inputs and its
output into rows, for a whole chunk of persons at once:

1. load the chunk's facts set-wise: each person's enrolment spans, monthly dues
   (month, 到账日 = ``settled_on``, 缓缴) and transfers in, each folded into one string
   by the database (``string_agg`` / ``group_concat``), with the stored state. On
   PostgreSQL this is one query; the digest of each person's inputs (``md5`` of the
   text loaded) is computed here;
2. skip every person whose inputs digest equals the stored one (same facts, same
   evaluation date, same policy, same rule code: the rule would give the same answer);
3. evaluate the rule per enrolment for the others. The rule is a pure function of
   its inputs, so results are memoised by those inputs (jurisdiction, category,
   previous coverage, the months string): the employees of one employer who pay
   together share one evaluation (:class:`Evaluator`, one per worker process and night);
4. compare a digest of each person's new periods with the stored one and write in
   bulk: the periods of the persons that changed, clipped to their spans, and every
   evaluated person's state go straight to their tables. On PostgreSQL the states by one
   COPY, the periods by one INSERT … SELECT that clips each rule answer (copied once
   per chunk into a temporary table) to the spans of the persons who got it; the
   old rows are deleted first only for persons that had some. Never a ``save()`` per row.

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
* 转入 (a ``transfer_in`` life event, 转移接续) applies to the span that contains its
  date, or else to the first span after it. Its date is read as the day the
  coverage brought in ended + 1 (the previous coverage ran to the day before), so the
  span is a re-enrolment: ``previous_end`` = the later of that day and the end of the
  previous local span; the jurisdiction's rejoin rule decides (hunan 第五十九条,
  langfang 第二十四条, sanmenxia 第十七条, ziyang 第十三条 and 第三十二条(一)).
  A transfer whose 转出地 names the resident scheme (contains "居民", e.g.
  "城乡居民基本医疗保险") is a switch from resident insurance (居民医保转职工医保):
  ``previous_scheme`` = resident and ``previous_continuous_years`` = its months / 12
  (hunan 第六十条, langfang 第二十五条, ziyang 第十四条).
* A span that began before its first due on file (history not migrated, 上线前参保)
  is treated as continuous coverage up to the first month on file: ``previous_end``
  = the day before that month, not a first enrolment (a transfer in is then moot).
* An employee span's stored periods end with the span, or where a seed keeps cover to the end of the
  separation month (sanmenxia 第十六条 "次月起…停止其享受职工基本医疗保险待遇",
  ``eligibility.separation_cover_until`` month_end) on the 1st of the month after — never past the
  start of the person's next span.
* A span with no dues yet is given its first month, unpaid (the rule then answers
  "尚无缴费到账记录", waiting); a retiree span with no dues (retirees pay nothing)
  its first month with nothing owed.
* A due waived as part of a break too old to make up (``makeup_closed_on``, ziyang 第十三条 断保一年以上不再补缴)
  reaches the rule as closed on that day (the payment that resumed contributions): the arrears episode ends
  there, over the retroactive window, so cover is not retroactive and a new waiting period runs from the
  payment (待遇不追溯; 第十三条 "从…重新续保缴费当月起6个月后"). It is not a paid month for payment years.
* When the rule cannot be evaluated (a policy value missing, D-X16) the person's
  last computed periods are kept and the reason is stored on the state row and
  counted (``eligibility.error:<key>``).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from batch.dialect import is_postgres
from benefits.calculations import eligibility as eligibility_rule
from benefits.calculations.eligibility import (
    ContributionMonth,
    Period,
    add_months,
    eligibility_timeline,
    month_start,
    next_change,
)
from contributions.models import Deferral, MonthlyDue
from enrollment.models import Category, EnrolmentSpan, LifeEvent, LifeEventKind
from policy.calculations import InputError
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyError, PolicyMissing, snapshot

from .models import EligibilityInputChange, EligibilityPeriod, EligibilityRangeSummary, EligibilityState

ONE_DAY = timedelta(days=1)
EPOCH = date(2000, 1, 1)
EPOCH_ORD = EPOCH.toordinal()
MEMO_LIMIT = 200_000
# An incremental night reads the whole chunk's facts (one range scan) rather than a list of persons' when the
# persons to evaluate are more than this share of the id range.
WHOLE_RANGE_SHARE = 0.25
# 转出地 naming the resident scheme: the transfer in is a switch 居民医保转职工医保 (see the module notes).
RESIDENT_MARK = "居民"

CATEGORY_ZH = dict(Category.choices)
#: How long cover lasts after an employee's span ends (解除或终止劳动关系): ``month_end`` — sanmenxia 第十六条
#: "次月起核减缴费基数并停止其享受职工基本医疗保险待遇", covered to the end of the separation month; absent
#: or null — the span's own end.
SEPARATION_KEY = "eligibility.separation_cover_until"

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


@dataclass(frozen=True)
class TransferIn:
    """转入 (``transfer_in`` life event): the date it took effect, months brought in, from the resident scheme?"""

    occurred_on: date
    months: int | None
    resident: bool


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _where(ids: Sequence[int] | None, lo: int | None, hi: int | None, col: str = "person_id") -> tuple[str, list]:
    if ids is not None:
        if is_postgres():
            return f"{col} = ANY(%s)", [list(ids)]
        return f"{col} IN ({', '.join(str(int(i)) for i in ids) or 'NULL'})", []
    return f"{col} >= %s AND {col} < %s", [lo, hi]


def _day_sql(expr: str) -> str:
    """A date column as the text token of this module: days since 2000-01-01 (PostgreSQL), ISO (SQLite)."""
    if is_postgres():
        return f"CAST({expr} - DATE '2000-01-01' AS text)"
    return expr


def _agg(expr: str, order: str) -> str:
    if is_postgres():
        return f"string_agg({expr}, ',' ORDER BY {order})"
    return f"group_concat({expr}, ',')"


def _spans_sql(where: str) -> str:
    """person id → spans ``code:category:start:end`` by start (``end`` empty while open).

    Employee insurance only (险种 310): a resident span (390, issue #15) is not an employee enrolment."""
    start, end = "s." + _q("start"), "s." + _q("end")
    where = f"({where}) AND s.insutype = '310'"
    token = f"j.code || ':' || s.category || ':' || {_day_sql(start)} || ':' || COALESCE({_day_sql(end)}, '')"
    table, jur = EnrolmentSpan._meta.db_table, Jurisdiction._meta.db_table
    if is_postgres():
        return f"""SELECT s.person_id, {_agg(token, start + ", s.id")} AS spans
            FROM {table} s JOIN {jur} j ON j.id = s.jurisdiction_id WHERE {where} GROUP BY s.person_id"""
    return f"""SELECT person_id, group_concat(tok, ',') FROM (
        SELECT s.person_id, {token} AS tok FROM {table} s JOIN {jur} j ON j.id = s.jurisdiction_id
        WHERE {where} ORDER BY s.person_id, {start}, s.id) GROUP BY person_id"""


def _dues_sql(where: str) -> str:
    """person id → dues ``month:paid[:d[end]]`` by month.

    ``d``: a deferred due (缓缴); ``end``: the exclusive end of the employer's deferral that
    covers its due date (langfang 第二十六条: cover stops when it runs out unpaid), looked up
    for deferred dues only.
    """
    table, deferral = MonthlyDue._meta.db_table, Deferral._meta.db_table
    deferral_end = f"""(SELECT {_day_sql(f"MAX(df.{_q('end')})")} FROM {deferral} df
        WHERE df.employer_id = {table}.employer_id AND df.{_q("start")} <= {table}.due_date
          AND df.{_q("end")} > {table}.due_date)"""
    token = (
        f"{_day_sql('month')} || ':' || COALESCE({_day_sql('settled_on')}, {_day_sql('makeup_closed_on')}, '')"
        f" || CASE WHEN deferred THEN ':d' || COALESCE({deferral_end}, '') ELSE '' END"
    )
    if is_postgres():
        return f"SELECT person_id, {_agg(token, 'month')} AS tokens FROM {table} WHERE {where} GROUP BY person_id"
    return f"""SELECT person_id, group_concat(tok, ',') FROM (
        SELECT person_id, {token} AS tok FROM {table} WHERE {where} ORDER BY person_id, month) GROUP BY person_id"""


def _transfers_sql(where: str) -> str:
    """person id → transfers in ``date:months:r|e`` by date (r: from the resident scheme)."""
    table = LifeEvent._meta.db_table
    token = (
        f"{_day_sql('occurred_on')} || ':' || COALESCE(CAST(months AS text), '') || ':' "
        "|| CASE WHEN other_region LIKE %s THEN 'r' ELSE 'e' END"
    )
    cond = f"{where} AND kind = %s"
    if is_postgres():
        return f"""SELECT person_id, {_agg(token, "occurred_on, id")} AS transfers FROM {table}
            WHERE {cond} GROUP BY person_id"""
    return f"""SELECT person_id, group_concat(tok, ',') FROM (
        SELECT person_id, {token} AS tok FROM {table} WHERE {cond} ORDER BY person_id, occurred_on, id)
        GROUP BY person_id"""


def _transfer_params() -> list:
    return [f"%{RESIDENT_MARK}%"]


def _fetch_map(sql: str, params: list) -> dict[int, str]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return dict(cur.fetchall())


@lru_cache(maxsize=1 << 16)
def _parse_day(text: str) -> date:
    """A day token as loaded (days since 2000-01-01, or ISO on SQLite); the same days recur across persons."""
    if "-" in text:
        return date.fromisoformat(text)
    return date.fromordinal(EPOCH_ORD + int(text))


def _parse_spans(pid: int, text: str) -> list[SpanFact]:
    out = []
    for tok in text.split(","):
        code, category, start, end = tok.split(":")
        out.append(SpanFact(pid, code, category, _parse_day(start), _parse_day(end) if end else None))
    return out


def _parse_transfers(text: str | None) -> list[TransferIn]:
    if not text:
        return []
    out = []
    for tok in text.split(","):
        day, months, kind = tok.split(":")
        out.append(TransferIn(_parse_day(day), int(months) if months else None, kind == "r"))
    return out


def _parse_months(tokens: Sequence[str]) -> list[ContributionMonth]:
    out = []
    for tok in tokens:
        parts = tok.split(":")
        deferred = len(parts) > 2
        until = _parse_day(parts[2][1:]) - ONE_DAY if deferred and len(parts[2]) > 1 else None
        out.append(ContributionMonth(_parse_day(parts[0]), _parse_day(parts[1]) if parts[1] else None, deferred, until))
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
    sid: int = 0  # the evaluator's number for this answer (key of the chunk's segments in :func:`_write`)
    next_check: date | None = None  # the next day the same inputs may give another answer (:func:`next_change`)


@dataclass(frozen=True)
class Previous:
    """What a transfer in tells the rule about the coverage before a span (转移接续 / 居民医保转职工医保)."""

    scheme: str | None = None  # "employee" for a transfer in, "resident" for a switch; None: a local re-enrolment
    continuous_years: Decimal | None = None
    transfer: TransferIn | None = None


def _code_version() -> str:
    """Digest of the rule's and this module's source: a new rule version re-evaluates everybody."""
    global _CODE_VERSION
    if _CODE_VERSION is None:
        text = inspect.getsource(eligibility_rule) + inspect.getsource(sys.modules[__name__])
        _CODE_VERSION = hashlib.md5(text.encode()).hexdigest()
    return _CODE_VERSION


_CODE_VERSION: str | None = None


def _policy_version(snap) -> str:
    """Digest of every dated policy value on file (any change re-evaluates everybody that night)."""
    rows = sorted((code, key, repr(v.dates), repr(v.rows)) for (code, key), v in snap.parameters.items())
    return hashlib.md5(repr(rows).encode()).hexdigest()


class Evaluator:
    """Evaluates the rule for one ``as_of``; one policy object per jurisdiction; memoised by the rule's inputs."""

    def __init__(self, as_of: date):
        self.as_of = as_of
        self.policies: dict[str, Policy] = {}
        self.memo: dict[tuple, Segment] = {}
        self.people: dict[tuple[str, str], PersonResult] = {}
        self.open_people: dict[tuple, PersonResult] = {}  # see :meth:`single`
        self.others: dict[tuple, PersonResult] = {}  # see :meth:`general`
        self.hits = 0
        self.misses = 0
        self.snap = snapshot()
        # salt of the inputs digest: the policy on file and the rule's code (not the evaluation date: the
        # answer of the same inputs holds until the date stored with it, ``next_check``)
        self.salt = hashlib.md5(
            f"{_policy_version(self.snap)}|{_code_version()}|{connection.vendor}".encode()
        ).hexdigest()
        self._sid = 0
        self._policy_next: dict[str, date | None] = {}
        self.pg = is_postgres()  # the token format of the loaded facts (:func:`_day_sql`)

    def policy_next(self, code: str) -> date | None:
        """The first date after ``as_of`` on which a policy value of ``code`` takes effect (None: none on file)."""
        if code not in self._policy_next:
            later = [d for (c, _key), v in self.snap.parameters.items() if c == code for d in v.dates if d > self.as_of]
            self._policy_next[code] = min(later, default=None)
        return self._policy_next[code]

    def policy(self, code: str) -> Policy:
        p = self.policies.get(code)
        if p is None:
            p = self.policies[code] = Policy(code, self.as_of)
        return p

    def single(self, span_text: str, dues: str) -> PersonResult:
        """:func:`_single` for a span given as loaded (``code:category:start:end``), memoised by span and dues:
        persons with the same span dates and the same dues share one result (it holds no person id).

        An open span's start matters to :func:`_single` only through ``legacy`` (a start before the first month
        on file) and the clip of periods starting before it: persons of the same jurisdiction, category, dues
        and ``legacy`` whose periods all start on or after their span's start get the same rows whatever the
        start (the clip is then the identity), so they share one result too (:attr:`open_people`)."""
        key = (span_text, dues)
        result = self.people.get(key)
        if result is not None:
            return result
        code, category, start_text, end = span_text.split(":")
        start = _parse_day(start_text)
        open_key = None
        if not end:
            legacy = category != "retiree" and start < _parse_day(dues[: dues.index(":")])
            open_key = (code, category, legacy, dues)
            result = self.open_people.get(open_key)
            if result is not None and _unclipped(result, start):
                self.hits += 1
                return result
        result = _single(self, SpanFact(0, code, category, start, _parse_day(end) if end else None), dues)
        if len(self.people) >= MEMO_LIMIT:
            self.people.clear()
            self.open_people.clear()
        self.people[key] = result
        if open_key is not None and _unclipped(result, start):
            self.open_people[open_key] = result
        return result

    def general(self, spans: str, dues: str | None, transfers: str | None) -> PersonResult:
        """:func:`person_evaluate` for the shapes :meth:`single` does not take (no dues: retirees, a span not
        billed yet; several spans; a transfer in), memoised by the person's facts exactly as loaded (spans with
        their dates, dues, transfers): the result is a function of that text alone (it holds no person id), so
        persons with the same facts — retirees of one jurisdiction enrolled on the same day — share one."""
        key = (spans, dues, transfers)
        result = self.others.get(key)
        if result is not None:
            self.hits += 1
            return result
        result = person_evaluate(self, _parse_spans(0, spans), dues, _parse_transfers(transfers))
        if len(self.others) >= MEMO_LIMIT:
            self.others.clear()
        self.others[key] = result
        return result

    def inputs_digest(self, spans: str | None, dues: str | None, transfers: str | None) -> str:
        """Digest of one person's facts as loaded (the text of :func:`_load_chunk`), salted."""
        text = f"{self.salt}|{spans or ''}|{dues or ''}|{transfers or ''}"
        return hashlib.md5(text.encode()).hexdigest()

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
        previous: Previous | None = None,
    ) -> Segment:
        scheme = previous.scheme if previous is not None else None
        years = previous.continuous_years if previous is not None else None
        transfer = previous.transfer if previous is not None else None
        key = (code, category, first_enrolment, previous_end, legacy, synthetic, scheme, years, transfer, tokens)
        seg = self.memo.get(key)
        if seg is not None:
            self.hits += 1
            return seg
        self.misses += 1
        self._sid += 1
        months = _parse_months(tokens.split(","))
        facts = _facts(category, months, first_enrolment, previous_end, legacy, synthetic, code, transfer)
        # the evaluation date is kept on the state row (判定依据截至), not in the facts: an unchanged
        # timeline stays as stored from one night to the next
        nxt = _earliest(next_change(self.policy(code), months, self.as_of), self.policy_next(code))
        facts_json = json.dumps(facts, ensure_ascii=False, sort_keys=True)
        extra: dict[str, Any] = {}
        if scheme == "resident":  # only then: keeps the call valid for rule versions without these inputs
            extra = {"previous_scheme": "resident", "previous_continuous_years": years}
        try:
            periods = tuple(
                eligibility_timeline(
                    self.policy(code),
                    category=category,
                    months=months,
                    as_of=self.as_of,
                    first_enrolment=first_enrolment,
                    previous_end=previous_end,
                    **extra,
                )
            )
            seg = Segment(
                periods,
                facts_json,
                facts,
                digest=_digest(_rows(code, periods, facts_json)),
                sid=self._sid,
                next_check=nxt,
            )
        except PolicyMissing as exc:
            seg = Segment((), facts_json, facts, str(exc), f"missing:{exc.key}", sid=self._sid, next_check=nxt)
        except (PolicyError, InputError) as exc:
            seg = Segment((), facts_json, facts, str(exc), type(exc).__name__, sid=self._sid, next_check=nxt)
        if len(self.memo) >= MEMO_LIMIT:
            self.memo.clear()
        self.memo[key] = seg
        return seg


def _label(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def _earliest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


def _facts(
    category: str,
    months: Sequence[ContributionMonth],
    first_enrolment: bool,
    previous_end: date | None,
    legacy: bool,
    synthetic: bool,
    code: str,
    transfer: TransferIn | None = None,
) -> dict[str, Any]:
    """The facts the rule is given, compactly, in Chinese a case worker can read."""
    facts: dict[str, Any] = {
        "统筹区": snapshot().jurisdictions.get(code, code),
        "人员类别": CATEGORY_ZH.get(category, category),
    }
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
            facts["未缴月份"] = "、".join(unpaid)
        late = [
            f"{_label(m.month)}（{m.paid_on.isoformat()} 到账）"
            for m in months
            if m.paid_on is not None and m.paid_on >= add_months(m.month, 2)
        ]
        if late:
            facts["逾期到账"] = "、".join(late[-12:])
        deferred = [_label(m.month) for m in months if m.deferred]
        if deferred:
            facts["缓缴月份"] = "、".join(deferred)
            ends = sorted({m.deferred_until.isoformat() for m in months if m.deferred_until is not None})
            if ends:
                facts["缓缴期满日"] = "、".join(ends)
    facts["首次参保"] = "是" if first_enrolment else "否"
    if previous_end is not None and not legacy:  # legacy: a convention, explained under 说明
        facts["上一段参保截止日"] = previous_end.isoformat()
    if transfer is not None:
        source = "由居民医保转入职工医保" if transfer.resident else "由外地转入（转移接续）"
        facts["转入"] = f"{transfer.occurred_on} {source}"
        if transfer.months is not None:
            label = "居民医保连续参保月数" if transfer.resident else "转入缴费月数"
            facts[label] = transfer.months
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
    next_check: date | None = None  # the earliest of its segments' (:attr:`Segment.next_check`)

    def rows(self) -> list[tuple]:
        """(code, start, end, status, reason, citation, facts_json) for every stored period."""
        out: list[tuple] = []
        for seg, code, lo, hi in self.parts:
            out += _rows(code, seg.periods, seg.facts_json, lo, hi)
        return out


def period_facts(facts_json: str, p: Period) -> str:
    """The facts stored with a period: the segment's, plus ``benefit_level`` where the period has one
    (原档次待遇, ziyang 第十四条: read by the claims' coverage check)."""
    if not p.benefit_level:
        return facts_json
    return json.dumps({**json.loads(facts_json), "benefit_level": p.benefit_level}, ensure_ascii=False, sort_keys=True)


def _rows(code: str, periods: Sequence[Period], facts_json: str, lo: date | None = None, hi: date | None = None):
    rows = []
    for p in periods:
        start = p.start if lo is None else max(p.start, lo)
        end = p.end if hi is None else (hi if p.end is None else min(p.end, hi))
        if end is not None and end <= start:
            continue
        rows.append((code, start, end, p.status, p.reason, p.citation, period_facts(facts_json, p)))
    return rows


def _transfers_by_span(spans: Sequence[SpanFact], transfers: Sequence[TransferIn]) -> dict[int, TransferIn]:
    """Span index → the latest transfer in that applies to it (the span containing its date, else the next)."""
    out: dict[int, TransferIn] = {}
    for t in transfers:
        for i, span in enumerate(spans):
            if span.end is None or span.end > t.occurred_on:
                if i not in out or out[i].occurred_on <= t.occurred_on:
                    out[i] = t
                break
    return out


def person_evaluate(
    ev: Evaluator, spans: Sequence[SpanFact], dues: str | None, transfers: Sequence[TransferIn] = ()
) -> PersonResult:
    """Every span of one person through the rule; periods clipped to the spans (see the module notes).

    Only the digest is computed here; the rows are built (``PersonResult.rows``) for persons that changed.
    """
    if len(spans) == 1 and not transfers and dues:
        return _single(ev, spans[0], dues)
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
    moved_in = _transfers_by_span(spans, transfers) if transfers else {}
    parts = []
    prev_hi: date | None = None
    nxt: date | None = None
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
            paid = "" if span.category != "retiree" else _day_token(span.start, ev.pg)
            mine = [f"{_day_token(first_month, ev.pg)}:{paid}"]
        transfer = moved_in.get(n) if not legacy and span.category != "retiree" else None
        if transfer is not None:
            # 转移接续 / 居民医保转职工医保: covered elsewhere until the day before the transfer took effect
            elsewhere = transfer.occurred_on - ONE_DAY
            previous_end = elsewhere if previous_end is None else max(previous_end, elsewhere)
        if previous_end is not None and previous_end >= first_month:
            previous_end = first_month - ONE_DAY
        previous = None
        if transfer is not None:
            years = Decimal(transfer.months) / 12 if transfer.resident and transfer.months is not None else None
            previous = Previous(
                scheme="resident" if transfer.resident else "employee",
                continuous_years=years,
                transfer=transfer,
            )
        seg = ev.segment(
            span.jurisdiction,
            span.category,
            ",".join(mine),
            first_enrolment=prev is None and not legacy and transfer is None,
            previous_end=previous_end,
            legacy=legacy,
            synthetic=synthetic,
            previous=previous,
        )
        if seg.error:
            # digest of the kind of error, not its message (which names the date): a lasting gap is no change
            return PersonResult(
                _digest([("error", seg.error_key)]), seg.error, seg.error_key, next_check=_earliest(nxt, seg.next_check)
            )
        nxt = _earliest(nxt, seg.next_check)
        lo = span.start if prev is None or prev_hi is None else min(prev_hi, span.start)
        prev_hi = _cover_until(ev, span, spans[n + 1] if n + 1 < len(spans) else None)
        parts.append((seg, span.jurisdiction, lo, prev_hi))
    if len(parts) == 1:
        seg, _code, lo, hi = parts[0]
        if hi is None and (not seg.periods or seg.periods[0].start >= lo):
            return PersonResult(seg.digest, parts=tuple(parts), next_check=nxt)  # the clip changes nothing
    result = PersonResult("", parts=tuple(parts), next_check=nxt)
    result.digest = _digest(result.rows())
    return result


def _unclipped(result: PersonResult, start: date) -> bool:
    """A one-span result (of :func:`_single`) for an open span: an error, or periods that all start on or after
    ``start``, and so the same rows for any such span start (see :meth:`Evaluator.single`)."""
    if result.error:
        return True
    ((seg, _code, _lo, hi),) = result.parts
    return hi is None and (not seg.periods or seg.periods[0].start >= start)


def _single(ev: Evaluator, span: SpanFact, dues: str) -> PersonResult:
    """The common shape, one span with dues and no transfer in: :func:`person_evaluate` without the bookkeeping."""
    first_month = _parse_day(dues[: dues.index(":")])
    legacy = span.start < first_month and span.category != "retiree"  # spans start on a date, months on the 1st
    seg = ev.segment(
        span.jurisdiction,
        span.category,
        dues,
        first_enrolment=not legacy,
        previous_end=first_month - ONE_DAY if legacy else None,
        legacy=legacy,
        synthetic=False,
    )
    if seg.error:
        return PersonResult(_digest([("error", seg.error_key)]), seg.error, seg.error_key, next_check=seg.next_check)
    parts = ((seg, span.jurisdiction, span.start, _cover_until(ev, span, None)),)
    if span.end is None and (not seg.periods or seg.periods[0].start >= span.start):
        return PersonResult(seg.digest, parts=parts, next_check=seg.next_check)  # the clip changes nothing
    result = PersonResult("", parts=parts, next_check=seg.next_check)
    result.digest = _digest(result.rows())
    return result


def _cover_until(ev: Evaluator, span: SpanFact, following: SpanFact | None) -> date | None:
    """The (exclusive) end of a span's stored periods: the span's end, or where a seed keeps cover to the end
    of the separation month (sanmenxia 第十六条 次月起停止享受待遇, ``eligibility.separation_cover_until``)
    the 1st of the month after; never past the start of the person's next span."""
    hi = span.end
    if hi is None:
        return None
    if span.category == Category.EMPLOYEE:
        if ev.policy(span.jurisdiction).value(SEPARATION_KEY, default=None) == "month_end":
            hi = add_months(month_start(hi - ONE_DAY), 1)
    return hi if following is None else min(hi, following.start)


def _day_token(day: date, pg: bool | None = None) -> str:
    """A day as :func:`_day_sql` loads it (``pg``: the evaluator's dialect, asked once per night)."""
    if pg is None:
        pg = is_postgres()
    return str(day.toordinal() - EPOCH_ORD) if pg else day.isoformat()


def _digest(rows: Iterable[tuple]) -> str:
    text = "\x1e".join("\x1f".join("" if v is None else str(v) for v in row) for row in rows)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


# --- the chunk's facts and stored state, in one pass ------------------------------------------


def _load_chunk(ev: Evaluator, ids: Sequence[int] | None, lo: int | None, hi: int | None) -> list[tuple]:
    """Rows (person id, changed, spans, dues, transfers, inputs digest, old digest, old error key).

    Every person with spans or a stored state. ``changed`` is False when the digest of the facts
    as loaded equals the stored one and the stored answer still holds on ``as_of`` (evaluated on
    or before it, its ``next_check`` after it). The digest is computed here rather than by the
    database: PostgreSQL's ``md5`` over the chunk costs more than shipping the text.
    """
    state_t = EligibilityState._meta.db_table
    w_s, p_s = _where(ids, lo, hi, "s.person_id")
    w, p = _where(ids, lo, hi)
    transfer_params = [*_transfer_params(), *p, LifeEventKind.TRANSFER_IN]
    if is_postgres():  # one round trip
        sql = f"""
        WITH sp AS ({_spans_sql(w_s)}),
             du AS ({_dues_sql(w)}),
             tr AS ({_transfers_sql(w)}),
             st AS (SELECT person_id, digest, inputs, error_key, evaluated_on, next_check
                    FROM {state_t} WHERE {w})
        SELECT COALESCE(sp.person_id, st.person_id), sp.spans, du.tokens, tr.transfers,
               st.digest, st.inputs, st.error_key, st.evaluated_on, st.next_check
        FROM sp FULL JOIN st ON st.person_id = sp.person_id
        LEFT JOIN du ON du.person_id = sp.person_id
        LEFT JOIN tr ON tr.person_id = sp.person_id
        ORDER BY 1"""
        with connection.cursor() as cur:
            cur.execute(sql, [*p_s, *p, *transfer_params, *p])
            rows = cur.fetchall()
    else:
        spans = _fetch_map(_spans_sql(w_s), p_s)
        dues = _fetch_map(_dues_sql(w), p)
        transfers = _fetch_map(_transfers_sql(w), transfer_params)
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT person_id, digest, inputs, error_key, evaluated_on, next_check FROM {state_t} WHERE {w}", p
            )
            states = {row[0]: row[1:] for row in cur.fetchall()}
        rows = [
            (pid, spans.get(pid), dues.get(pid), transfers.get(pid), *states.get(pid, (None,) * 5))
            for pid in sorted(set(spans) | set(states))
        ]
    out = []
    as_of = ev.as_of
    for pid, spans_text, dues_text, transfers_text, digest, inputs, key, evaluated_on, next_check in rows:
        new = ev.inputs_digest(spans_text, dues_text, transfers_text)
        evaluated_on = _as_date(evaluated_on) if evaluated_on else None
        holds = evaluated_on is not None and _holds(evaluated_on, _as_date(next_check) if next_check else None, as_of)
        out.append((pid, inputs != new or not holds, spans_text, dues_text, transfers_text, new, digest, key))
    return out


@dataclass
class _Known:
    """What an incremental night knows of a range's stored states before it evaluates anybody: the persons to
    evaluate, how many persons have a state, their error kinds (a count per ``eligibility.error:<key>``), and of
    the states it will not rewrite by date the earliest ``next_check`` and the latest ``evaluated_on`` (None:
    none)."""

    ids: list[int]
    stored: int
    errors: Counter
    next_check: date | None
    evaluated_on: date | None


def _candidates(ev: Evaluator, lo: int, hi: int) -> _Known:
    """The persons of ``[lo, hi)`` an incremental night must evaluate, and what their stored states tell.

    Evaluated: every person whose inputs changed since the last night (noted by the database's triggers in
    :class:`~benefits.models.EligibilityInputChange`, taken out of it here, in the chunk's transaction), whose
    stored answer no longer holds on ``as_of`` (``next_check`` reached, evaluated after ``as_of``, or under
    another policy or rule version) and every person with spans and no state yet — those are not listed when the
    range has no state row at all (a first night: the caller evaluates everybody of the range). Only the state rows
    and the spans of the chunk are read, never the dues; and not even those where the range's summary
    (:class:`~benefits.models.EligibilityRangeSummary`, PostgreSQL) shows that no stored answer can have expired
    by ``as_of`` and no state was written since: then only the noted persons are evaluated.
    """
    state_t, change_t = EligibilityState._meta.db_table, EligibilityInputChange._meta.db_table
    span_t = EnrolmentSpan._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {change_t} WHERE person_id >= %s AND person_id < %s RETURNING person_id", [lo, hi])
        ids = {r[0] for r in cur.fetchall()}
        summary = _summary_holding(ev, lo, hi)
        if summary is not None:
            errors = Counter({f"eligibility.error:{k}": n for k, n in summary.errors.items()})
            return _Known(sorted(ids), summary.persons, errors, summary.next_check, summary.evaluated_on)
        # one round trip, one pass over the chunk's states: the stored error kinds with the persons whose answer
        # no longer holds (and of the others the earliest next check and the latest evaluation), then the persons
        # with spans and no state yet — not listed where the range has no state at all (a first night: the caller
        # then reads the whole range)
        agg = "string_agg({0}, ',')" if is_postgres() else "group_concat({0}, ',')"
        needs = "(evaluated_on IS NULL OR evaluated_on > %s OR COALESCE(next_check <= %s, FALSE) OR version <> %s)"
        cur.execute(
            f"""SELECT error_key, COUNT(*), {agg.format(f"CASE WHEN {needs} THEN CAST(person_id AS text) END")},
                       MIN(CASE WHEN NOT {needs} THEN next_check END),
                       MAX(CASE WHEN NOT {needs} THEN evaluated_on END)
                FROM {state_t} WHERE person_id >= %s AND person_id < %s GROUP BY error_key
                UNION ALL
                SELECT NULL, 0, {agg.format("CAST(s.person_id AS text)")}, NULL, NULL FROM {span_t} s
                WHERE s.person_id >= %s AND s.person_id < %s
                  AND EXISTS (SELECT 1 FROM {state_t} t0 WHERE t0.person_id >= %s AND t0.person_id < %s)
                  AND NOT EXISTS (SELECT 1 FROM {state_t} t
                                  WHERE t.person_id = s.person_id AND t.person_id >= %s AND t.person_id < %s)""",
            [*([ev.as_of, ev.as_of, ev.salt] * 3), lo, hi, lo, hi, lo, hi, lo, hi],
        )
        errors: Counter = Counter()
        stored = 0
        next_checks, evaluated = [], []
        for key, n, due, next_check, evaluated_on in cur.fetchall():
            stored += n
            if key:
                errors[f"eligibility.error:{key}"] += n
            if due:
                ids.update(int(x) for x in due.split(","))
            if next_check is not None:
                next_checks.append(_as_date(next_check))
            if evaluated_on is not None:
                evaluated.append(_as_date(evaluated_on))
    return _Known(sorted(ids), stored, errors, min(next_checks, default=None), max(evaluated, default=None))


def _holds(evaluated_on: date | None, next_check: date | None, as_of: date) -> bool:
    """Whether an answer evaluated on ``evaluated_on`` (None: no answer's date) and due again on ``next_check``
    (None: never by date) still holds on ``as_of``: not evaluated after it, not due by it."""
    return (evaluated_on is None or evaluated_on <= as_of) and (next_check is None or as_of < next_check)


def _as_date(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value  # SQLite gives text


def _summary_holding(ev: Evaluator, lo: int, hi: int) -> EligibilityRangeSummary | None:
    """The summary of exactly ``[lo, hi)`` where it holds on ``as_of``: put under the evaluator's version, no
    state evaluated after ``as_of`` and none due for a new evaluation by then (PostgreSQL; None elsewhere)."""
    if not is_postgres():
        return None
    summary = EligibilityRangeSummary.objects.filter(lo=lo, hi=hi, version=ev.salt).first()
    if summary is None or not _holds(summary.evaluated_on, summary.next_check, ev.as_of):
        return None
    return summary


def _put_summary(
    ev: Evaluator, lo: int, hi: int, counts: Counter, next_check: date | None, evaluated_on: date | None
) -> None:
    """The range's summary after its refresh (PostgreSQL): the states now in it — the persons and error kinds
    the refresh counted, the earliest next check and latest evaluation of the states it kept and wrote. Put
    after the states are written (their trigger has removed the range's summaries by then)."""
    if not is_postgres():
        return
    EligibilityRangeSummary.objects.filter(lo__lt=hi, hi__gt=lo).delete()
    prefix = "eligibility.error:"
    EligibilityRangeSummary.objects.create(
        lo=lo,
        hi=hi,
        persons=counts["eligibility.persons"],
        errors={k[len(prefix) :]: n for k, n in counts.items() if k.startswith(prefix) and n},
        next_check=next_check,
        evaluated_on=evaluated_on,
        version=ev.salt,
    )


# --- bulk writes, straight into the tables -------------------------------------------------------


def _copy_text(value: Any) -> str:
    """One value in COPY's text format (dates ISO, booleans t/f, NULL as \\N)."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    return str(value)


_NULL = "\\N"
PERIOD_COLUMNS = (
    *("person_id", "jurisdiction_id", "start", "end", "status", "reason", "citation", "facts"),
    *("computed_at", "run_id"),
)
STATE_COLUMNS = (
    *("person_id", "digest", "inputs", "error", "error_key", "computed_at", "run_id"),
    *("evaluated_on", "next_check", "version"),
)


def _insert(table: str, columns: Sequence[str], rows: list) -> None:
    """Rows into ``table``: COPY text lines on PostgreSQL (one round trip), tuples by ``executemany`` elsewhere."""
    if not rows:
        return
    cols = ", ".join(_q(c) for c in columns)
    with connection.cursor() as cur:
        if is_postgres():
            with cur.connection.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for k in range(0, len(rows), 5000):
                    copy.write("".join(rows[k : k + 5000]))
        else:
            marks = ", ".join("%s" for _ in columns)
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)


def _delete(table: str, person_ids: list[int]) -> None:
    if person_ids:
        where, params = _where(person_ids, None, None)
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {table} WHERE {where}", params)


def _period_rows(segments: dict[int, tuple[Segment, int]], parts: list[tuple], *, now, run_id: int | None) -> list:
    """The rows of ``parts`` (person, sid, lo, hi): each segment's periods clipped to the span as :func:`_rows`
    clips them (SQLite; PostgreSQL clips the same way in SQL, :func:`_insert_periods_pg`)."""
    out: list = []
    for pid, sid, lo, hi in parts:
        seg, jid = segments[sid]
        for p in seg.periods:
            start = p.start if lo is None or p.start >= lo else lo
            end = p.end if hi is None else (hi if p.end is None or p.end > hi else p.end)
            if end is not None and end <= start:
                continue
            out.append(
                (pid, jid, start, end, p.status, p.reason, p.citation, period_facts(seg.facts_json, p), now, run_id)
            )
    return out


_SEGMENT_PERIODS, _PARTS = "elig_segment_periods", "elig_parts"
PERIODS_SORT_MEMORY = "64MB"  # the periods INSERT sorts a chunk in memory (50,000 persons: ~40 MB; _insert_periods_pg)


def _insert_periods_pg(segments: dict[int, tuple[Segment, int]], parts: list[tuple], *, now, run_id: int | None) -> int:
    """:func:`_period_rows` into the periods table on PostgreSQL, with fewer rows shipped: each segment's periods
    once (the text of a rule answer, its facts parsed once) and one short line per span (person, segment, clip
    bounds) into two temporary tables, then one INSERT … SELECT that clips and writes the rows in the order of
    :func:`_period_rows`. Returns the periods written."""
    if not parts:
        return 0
    with connection.cursor() as cur:
        # session tables, emptied at commit and before use (several refreshes may share one transaction): by
        # DELETE, not TRUNCATE, which gives each table new files on every chunk
        cur.execute(
            f"""CREATE TEMPORARY TABLE IF NOT EXISTS {_SEGMENT_PERIODS} (sid integer, n integer, start date,
                    "end" date, status varchar(16), reason text, citation varchar(255), facts jsonb)
                ON COMMIT DELETE ROWS;
                CREATE TEMPORARY TABLE IF NOT EXISTS {_PARTS} (k integer, person_id bigint, jurisdiction_id bigint,
                    sid integer, lo date, hi date) ON COMMIT DELETE ROWS;
                DELETE FROM {_SEGMENT_PERIODS}; DELETE FROM {_PARTS}"""
        )
        used = {sid for _pid, sid, _lo, _hi in parts}
        with cur.connection.cursor().copy(f"COPY {_SEGMENT_PERIODS} FROM STDIN") as copy:
            for sid in used:
                seg, _jid = segments[sid]
                copy.write(
                    "".join(
                        f"{sid}\t{n}\t{p.start}\t{_NULL if p.end is None else p.end}\t{p.status}"
                        f"\t{_copy_text(p.reason)}\t{_copy_text(p.citation)}"
                        f"\t{_copy_text(period_facts(seg.facts_json, p))}\n"
                        for n, p in enumerate(seg.periods)
                    )
                )
        with cur.connection.cursor().copy(f"COPY {_PARTS} FROM STDIN") as copy:
            lines = [
                f"{k}\t{pid}\t{segments[sid][1]}\t{sid}\t{_NULL if lo is None else lo}\t{_NULL if hi is None else hi}\n"
                for k, (pid, sid, lo, hi) in enumerate(parts)
            ]
            for k in range(0, len(lines), 5000):
                copy.write("".join(lines[k : k + 5000]))
        cols = ", ".join(_q(c) for c in PERIOD_COLUMNS)
        # the rows are sorted whole (facts included, ~700 bytes each): a chunk of 50,000 persons sorts ~40 MB, which
        # with the server's usual work_mem (4 MB) goes to disk; in memory for this statement (~60–90 ms a chunk)
        cur.execute("SELECT current_setting('work_mem'), set_config('work_mem', %s, true)", [PERIODS_SORT_MEMORY])
        work_mem = cur.fetchone()[0]
        cur.execute(
            f"""INSERT INTO {EligibilityPeriod._meta.db_table} ({cols})
            SELECT person_id, jurisdiction_id, s, e, status, reason, citation, facts, %s, %s FROM (
                SELECT p.k, x.n, p.person_id, p.jurisdiction_id, x.status, x.reason, x.citation, x.facts,
                       CASE WHEN p.lo IS NULL OR x.start >= p.lo THEN x.start ELSE p.lo END AS s,
                       CASE WHEN p.hi IS NULL THEN x."end" WHEN x."end" IS NULL OR x."end" > p.hi THEN p.hi
                            ELSE x."end" END AS e
                FROM {_PARTS} p JOIN {_SEGMENT_PERIODS} x ON x.sid = p.sid) r
            WHERE e IS NULL OR e > s
            ORDER BY k, n""",
            [now, run_id],
        )
        written = cur.rowcount
        cur.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
        return written


def _write(
    segments: dict[int, tuple[Segment, int]],
    parts: list[tuple],
    states: list[tuple],
    *,
    stored: set[int],
    now,
    run_id: int | None,
    as_of: date,
    version: str,
) -> int:
    """Replace the periods of the persons marked ``rewrite`` and the states of all persons given.

    ``segments``: sid → (segment, jurisdiction id); ``parts``: (person, sid, lo, hi), one per span;
    ``states``: (person, digest, inputs, error, error_key, rewrite, next_check); ``stored``: the persons that
    had a state row, the only ones with rows to delete (a first night deletes nothing). Periods and
    states go straight to their tables (COPY on PostgreSQL). Returns the periods written.
    """
    _delete(EligibilityPeriod._meta.db_table, [s[0] for s in states if s[5] and s[0] in stored])
    if is_postgres():
        written = _insert_periods_pg(segments, parts, now=now, run_id=run_id)
    else:
        periods = _period_rows(segments, parts, now=now, run_id=run_id)
        _insert(EligibilityPeriod._meta.db_table, PERIOD_COLUMNS, periods)
        written = len(periods)
    _delete(EligibilityState._meta.db_table, [s[0] for s in states if s[0] in stored])
    run = _NULL if run_id is None else run_id
    tail = f"\t{now}\t{run}\t{as_of}\t"
    _insert(
        EligibilityState._meta.db_table,
        STATE_COLUMNS,
        [
            f"{pid}\t{digest}\t{inputs}\t{_copy_text(error)}\t{_copy_text(key)}{tail}"
            f"{_NULL if nxt is None else nxt}\t{version}\n"
            for pid, digest, inputs, error, key, _rewrite, nxt in states
        ]
        if is_postgres()
        else [
            (pid, digest, inputs, error, key, now, run_id, as_of, nxt, version)
            for pid, digest, inputs, error, key, _rewrite, nxt in states
        ],
    )
    return written


# --- the chunk refresh --------------------------------------------------------------------------


def refresh(
    as_of: date,
    *,
    ids: Sequence[int] | None = None,
    lo: int | None = None,
    hi: int | None = None,
    run_id: int | None = None,
    evaluator: Evaluator | None = None,
    incremental: bool = False,
    full: bool = False,
) -> Counter:
    """Recompute the timelines of the persons given (ids, or ``lo <= id < hi``) and rewrite those that changed.

    ``incremental`` (a range only): read the facts of the persons :func:`_candidates` names, not of the whole
    range (an incremental night); otherwise every person's facts are read and compared with the stored digest.
    ``full``: every person is evaluated again, whatever the stored digest and date (a full night, on demand).
    All give the same tables. Runs in the caller's transaction. Counts: persons, skipped
    (inputs unchanged since the last evaluation and the answer still holding), evaluated, unchanged (same
    periods as stored), eligibility.changed (persons rewritten), periods_written, errors_changed,
    error:<key> (persons whose rule cannot be evaluated now), cache_hits / evaluations.
    """
    ev = evaluator if evaluator is not None and evaluator.as_of == as_of else Evaluator(as_of)
    hits0, misses0 = ev.hits, ev.misses
    counts: Counter = Counter()
    jur_ids: dict[str, int] | None = None
    segments: dict[int, tuple[Segment, int]] = {}
    parts: list[tuple] = []
    states: list[tuple] = []
    stored: set[int] = set()  # persons with a state row (and so, perhaps, periods) to replace
    persons = skipped = 0
    known: _Known | None = None
    next_checks: list[date] = []  # of the persons evaluated now
    if incremental and ids is None and not full:
        assert lo is not None and hi is not None
        known = _candidates(ev, lo, hi)
        chosen, with_state, counts = known.ids, known.stored, known.errors
        if not with_state or len(chosen) > (hi - lo) * WHOLE_RANGE_SHARE:
            # no state in the range (a first night: every person with spans is evaluated) or most of it: read it whole
            chosen_set = set(chosen)
            rows = [r for r in _load_chunk(ev, None, lo, hi) if r[0] in chosen_set or r[1]]
        else:
            rows = _load_chunk(ev, chosen, None, None) if chosen else []
        persons = skipped = with_state  # those not loaded are skipped; the loaded are counted below
        for row in rows:
            if row[6] is not None:
                persons -= 1
                skipped -= 1
                if row[7]:
                    counts[f"eligibility.error:{row[7]}"] -= 1  # counted again below, as it is now
    else:
        rows = _load_chunk(ev, ids, lo, hi)
        _forget_changes(ids, lo, hi)
    for pid, changed, spans_text, dues, transfers, inputs, old_digest, old_key in rows:
        persons += 1
        if old_digest is not None:
            stored.add(pid)
        if not changed and not full:
            skipped += 1
            if old_key:
                counts[f"eligibility.error:{old_key}"] += 1
            continue
        if spans_text and dues and not transfers and "," not in spans_text:
            result = ev.single(spans_text, dues)  # the common shape: one span, dues, no transfer in
        elif spans_text:
            result = ev.general(spans_text, dues, transfers)
        else:
            result = PersonResult(_digest([]))
        if result.error_key:
            counts[f"eligibility.error:{result.error_key}"] += 1
        nxt = result.next_check
        if nxt is not None:
            next_checks.append(nxt)
        if old_digest == result.digest:
            counts["eligibility.unchanged"] += 1
            states.append((pid, result.digest, inputs, result.error, result.error_key, False, nxt))
            continue
        if result.error:
            counts["eligibility.errors_changed"] += 1  # periods kept: the last timeline computed stands
            states.append((pid, result.digest, inputs, result.error, result.error_key, False, nxt))
            continue
        counts["eligibility.changed"] += 1
        states.append((pid, result.digest, inputs, "", "", True, nxt))
        if jur_ids is None:
            jur_ids = dict(Jurisdiction.objects.values_list("code", "pk"))
        for seg, code, p_lo, p_hi in result.parts:
            segments.setdefault(seg.sid, (seg, jur_ids[code]))
            parts.append((pid, seg.sid, p_lo, p_hi))
    counts["eligibility.persons"] += persons
    counts["eligibility.skipped"] += skipped
    counts["eligibility.evaluated"] += persons - skipped
    counts["eligibility.unchanged"] += skipped
    if states:
        counts["eligibility.periods_written"] += _write(
            segments, parts, states, stored=stored, now=timezone.now(), run_id=run_id, as_of=as_of, version=ev.salt
        )
    counts["eligibility.cache_hits"] += ev.hits - hits0
    counts["eligibility.evaluations"] += ev.misses - misses0
    if incremental and ids is None and (known is not None or full):
        # the range's summary for the next night: every state of it kept (known) or written now (next_checks)
        kept = [] if known is None or known.next_check is None else [known.next_check]
        latest = [d for d in (known.evaluated_on if known else None, as_of if persons > skipped else None) if d]
        _put_summary(ev, lo, hi, counts, min(kept + next_checks, default=None), max(latest, default=None))
    return counts


def _forget_changes(ids: Sequence[int] | None, lo: int | None, hi: int | None) -> None:
    """The persons about to be evaluated from all their facts need no incremental evaluation any more."""
    where, params = _where(ids, lo, hi)
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {EligibilityInputChange._meta.db_table} WHERE {where}", params)


def eligibility_refresh(person_ids: Iterable[int], as_of: date, *, run_id: int | None = None) -> Counter:
    """Refresh the timelines of these persons as known on ``as_of`` (a case worker's "recompute", tests)."""
    ids = sorted(set(int(i) for i in person_ids))
    if not ids:
        return Counter()
    with transaction.atomic():
        return refresh(as_of, ids=ids, run_id=run_id)
