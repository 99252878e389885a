"""Population-wide credits as set-based SQL: retirees' monthly credits and yearly interest.

Both work on the persons ``lo <= id < hi`` (one batch chunk) and return counts of
what they changed; both are idempotent through the entries' business keys
(``retiree-credit:<person>:<YYYY-MM>``, ``interest:<account>:<year>``).
The amounts come from the rules: calcA's ``monthly_account_credit`` for the
retiree credit (evaluated once per group of retirees that share it, never per
row), :func:`funds.interest.yearly_interest` for interest.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from batch.dates import first_of_next_month
from batch.dialect import is_postgres
from contributions.calculations.personal_account import monthly_account_credit
from contributions.models import EmployerBase
from policy.models import Jurisdiction
from policy.resolver import Policy

from .ledger_sql import TMP, SetPoster
from .models import AccountKind, EntryKind
from .posting import fund_account


def month_start(value: str | date) -> date:
    """'YYYY-MM' (or a date) → the first day of that month."""
    if isinstance(value, date):
        return value.replace(day=1)
    year, month = str(value).split("-")[:2]
    return date(int(year), int(month), 1)


next_month = first_of_next_month  # the month after a month's first day


def _jurisdictions(code: str | None) -> dict[int, Jurisdiction]:
    qs = Jurisdiction.objects.all() if code is None else Jurisdiction.objects.filter(code=code)
    return {j.pk: j for j in qs}


def employer_average_bases(employer_ids: list[int], month: date) -> dict[int, Decimal]:
    """本单位职工平均缴费基数 per employer (sanmenxia 第九条): the sum of its in-service members'
    individual bases ÷ their number, from the employer's base for the contribution year in force.

    Employers with no base row or no in-service members are absent: their retirees are
    credited on the jurisdiction's statistic, as retirees without an employer are
    (第九条 "所在单位无在职职工的", D-S4).
    """

    if not employer_ids:
        return {}
    averages: dict[int, Decimal] = {}
    rows = (
        EmployerBase.objects.filter(employer_id__in=employer_ids, year_start__lte=month)
        .order_by("employer_id", "-year_start")
        .values_list("employer_id", "sum_of_individual_bases", "headcount")
    )
    for employer_id, total, headcount in rows:
        if employer_id not in averages and headcount:
            averages[employer_id] = Decimal(total) / headcount
        averages.setdefault(employer_id, None)
    return {k: v for k, v in averages.items() if v is not None}


def retiree_monthly_amount(
    jurisdiction: str,
    month: date,
    *,
    scheme: str = "combined",
    employer_average_base: Decimal | None = None,
    employer_kind: str | None = None,
) -> Decimal:
    """The month's credit for a retiree (calcA's rule), with the employer's average base where it is the basis
    and the employer's kind where it picks the average pension (langfang 第三十六条(二))."""

    stats = {"employer_average_base": employer_average_base} if employer_average_base is not None else None
    policy = Policy(jurisdiction, month, stats=stats)
    return monthly_account_credit(
        policy, category="retiree", base=None, age=None, scheme=scheme, employer_kind=employer_kind
    )


def _by_employer_kind(jurisdiction: str, month: date) -> bool:
    return bool(Policy(jurisdiction, month).value("accounts.retiree_credit_stat_by_employer_kind", default=None))


def _employer_based(jurisdiction: str, month: date) -> bool:
    policy = Policy(jurisdiction, month)
    return policy.value("accounts.retiree_credit_stat", default=None) == "employer_average_base"


def credit_retirees(
    *,
    lo: int,
    hi: int,
    month: date,
    jurisdiction: str | None,
    run_id: int | None,
    user_id: int | None,
    capture: dict[tuple[int, int], Decimal] | None = None,
) -> dict[str, int]:
    """One month's credits from the pool to every retiree's account, for persons ``lo <= id < hi``.

    Eligible: a retiree enrolment span that started before the month (credits run
    from the month after retirement, D-X11, D-XN8, langfang 第三十七条, xianning 细则
    第十二条) and is still open on its first day (credits stop from the month after
    death, ziyang 第十一条(一)3). A death on the month's first day closes the span that
    day: whether the month is still credited is ``accounts.retiree_credit_in_death_month``
    (ziyang: yes, 第十一条(一)3; where the seed is silent, ``PolicyMissing`` names the key).
    A retiree who retired as a flexible worker where ``accounts.flexible_retiree_needs_shortfall_paid``
    (sanmenxia 第十七条) is credited only from the month after a :class:`ShortfallSettlement`.
    Retirees of an employer whose credits are suspended (sanmenxia 第十九条) are credited to
    their suspense account instead.

    With ``capture`` nothing is posted: each (person, jurisdiction)'s credit of the month is added to it
    (the simulation of a draft, 测算, which runs this inside a savepoint it rolls back).
    """
    first, after = month_start(month), next_month(month_start(month))
    jurs = _jurisdictions(jurisdiction)
    ops = connection.ops
    with SetPoster() as sp:
        where_j = ""
        d_first = ops.adapt_datefield_value(first)
        params: list = [d_first, d_first, d_first]
        fence = "OFFSET 0" if is_postgres() else "LIMIT -1 OFFSET 0"
        if jurisdiction is not None:
            where_j = " AND s.jurisdiction_id = %s"
            params.append(next(iter(jurs)) if jurs else -1)
        sp.execute(
            f"""
            INSERT INTO {TMP} (person_id, jurisdiction_id, employer_id, scheme, business_key, account_id, flag)
            SELECT s.person_id, s.jurisdiction_id, s.employer_id, s.scheme,
                   'retiree-credit:' || CAST(s.person_id AS varchar(20)) || ':' || %s,
                   -- one index probe per retiree (a join would read every account of the id range)
                   (SELECT a.id FROM funds_fundaccount a
                    WHERE a.person_id = s.person_id AND a.jurisdiction_id = s.jurisdiction_id AND a.kind = 'personal'),
                   CASE WHEN s."end" = %s THEN 'death_day1' END
            -- the chunk's spans by person id first (an optimisation fence): the planner would otherwise
            -- AND in the (jurisdiction, category, start) index, i.e. read every retiree's entry per chunk
            FROM (SELECT * FROM enrollment_enrolmentspan WHERE person_id >= %s AND person_id < %s {fence}) s
            WHERE s.category = 'retiree' AND s.start < %s
              AND (s."end" IS NULL OR s."end" > %s
                   -- died on the month's first day (the death closes the span that day)
                   OR (s."end" = %s AND EXISTS (
                       SELECT 1 FROM enrollment_lifeevent d
                       WHERE d.person_id = s.person_id AND d.kind = 'death' AND d.occurred_on = s."end"))){where_j}
            """,
            [f"{first:%Y-%m}", d_first, lo, hi, *params],
        )
        not_entitled = _drop_not_entitled(sp, jurs, first)
        groups = sp.fetchall(f"SELECT DISTINCT jurisdiction_id, employer_id, scheme FROM {TMP}")
        if not groups:
            return {"credited": 0, "suspense": 0, "accounts_opened": 0, "amount_fen": 0, "not_entitled": not_entitled}
        _set_amounts(sp, groups, jurs, first)
        # sanmenxia 第十九条: retirees of an employer refusing to pay are held in suspense.
        sp.execute(
            f"""
            UPDATE {TMP} SET target_kind = 'suspense', account_id = NULL WHERE employer_id IN (
                SELECT c.employer_id FROM funds_creditsuspension c
                WHERE c.start < %s AND (c."end" IS NULL OR c."end" > %s))
            """,
            [ops.adapt_datefield_value(after), ops.adapt_datefield_value(first)],
        )
        if capture is not None:
            rows = sp.fetchall(f"SELECT person_id, jurisdiction_id, amount FROM {TMP} WHERE amount > 0")
            for person_id, jid, amount in rows:
                capture[(person_id, jid)] = capture.get((person_id, jid), Decimal(0)) + Decimal(amount)
            return {"credited": len(rows), "suspense": 0, "accounts_opened": 0, "amount_fen": 0, "not_entitled": 0}
        opened = sp.open_accounts(first)
        counts = sp.post(
            kind=EntryKind.RETIREE_CREDIT,
            effective_on=first,
            memo=f"{first:%Y-%m} 退休人员个人账户划入",
            recorded_at=timezone.now(),
            run_id=run_id,
            user_id=user_id,
        )
    return {
        "credited": counts["entries"],
        "suspense": counts["suspense"],
        "accounts_opened": opened,
        "amount_fen": counts["amount_fen"],
        "not_entitled": not_entitled,
    }


def _drop_not_entitled(sp: SetPoster, jurs: dict[int, Jurisdiction], first: date) -> int:
    """Remove the rows of retirees who get no credit this month; returns how many.

    - died on the month's first day where ``accounts.retiree_credit_in_death_month`` is false
      (ziyang 第十一条(一)3 says true; a seed that is silent raises ``PolicyMissing``);
    - retired as flexible workers without the shortfall made up before the month
      (sanmenxia 第十七条, ``accounts.flexible_retiree_needs_shortfall_paid``).
    """
    dropped = 0
    ops = connection.ops
    for (jid,) in sp.fetchall(f"SELECT DISTINCT jurisdiction_id FROM {TMP} WHERE flag = 'death_day1'"):
        jur = jurs.get(jid) or Jurisdiction.objects.get(pk=jid)
        if not Policy(jur.code, first).value("accounts.retiree_credit_in_death_month"):
            dropped += sp.execute(f"DELETE FROM {TMP} WHERE jurisdiction_id = %s AND flag = 'death_day1'", [jid])
    for jid, jur in jurs.items():
        if not Policy(jur.code, first).value("accounts.flexible_retiree_needs_shortfall_paid", default=False):
            continue
        # former category = the person's latest span before retirement in the jurisdiction
        dropped += sp.execute(
            f"""
            DELETE FROM {TMP} WHERE jurisdiction_id = %s
              AND (SELECT p.category FROM enrollment_enrolmentspan p
                   WHERE p.person_id = {TMP}.person_id AND p.jurisdiction_id = {TMP}.jurisdiction_id
                     AND p.category <> 'retiree'
                   ORDER BY p.start DESC LIMIT 1) = 'flexible'
              AND NOT EXISTS (SELECT 1 FROM funds_shortfallsettlement f
                              WHERE f.person_id = {TMP}.person_id AND f.jurisdiction_id = {TMP}.jurisdiction_id
                                AND f.paid_on < %s)
            """,
            [jid, ops.adapt_datefield_value(first)],
        )
    return dropped


def _set_amounts(sp: SetPoster, groups: list[tuple], jurs: dict[int, Jurisdiction], month: date) -> None:
    """Evaluate the rule once per (jurisdiction, employer, scheme) group and write amount + pool account."""
    by_jur: dict[int, list[tuple]] = {}
    for jid, employer_id, scheme in groups:
        by_jur.setdefault(jid, []).append((employer_id, scheme))
    for jid, members in by_jur.items():
        jur = jurs.get(jid) or Jurisdiction.objects.get(pk=jid)
        pool = fund_account(jur, AccountKind.POOLED, on=month).pk
        if _employer_based(jur.code, month):
            averages = employer_average_bases(sorted({e for e, _ in members if e is not None}), month)
            for employer_id, scheme in members:
                amount = retiree_monthly_amount(
                    jur.code, month, scheme=scheme, employer_average_base=averages.get(employer_id)
                )
                cond, args = (
                    ("employer_id = %s", [employer_id]) if employer_id is not None else ("employer_id IS NULL", [])
                )
                _set_group_amount(sp, amount, pool, jid, scheme, cond, args)
        elif _by_employer_kind(jur.code, month):
            # langfang 第三十六条(二): the average pension of the retiree's group, by the employer's kind
            rows = sp.fetchall(
                f"""SELECT DISTINCT t.scheme, COALESCE(e.kind, 'none') FROM {TMP} t
                    LEFT JOIN enrollment_employer e ON e.id = t.employer_id WHERE t.jurisdiction_id = %s""",
                [jid],
            )
            for scheme, kind in sorted(rows):
                amount = retiree_monthly_amount(jur.code, month, scheme=scheme, employer_kind=kind)
                cond, args = (
                    ("employer_id IS NULL", [])
                    if kind == "none"
                    else ("employer_id IN (SELECT e.id FROM enrollment_employer e WHERE e.kind = %s)", [kind])
                )
                _set_group_amount(sp, amount, pool, jid, scheme, cond, args)
        else:
            for scheme in sorted({s for _, s in members}):
                amount = retiree_monthly_amount(jur.code, month, scheme=scheme)
                _set_group_amount(sp, amount, pool, jid, scheme)


def _set_group_amount(
    sp: SetPoster, amount: Decimal, pool: int, jid: int, scheme: str, cond: str = "1 = 1", args: list | None = None
) -> None:
    """Write the group's credit and the pool account (the counter leg) on its rows of the batch."""
    sp.execute(
        f"UPDATE {TMP} SET amount = %s, counter_id = %s WHERE jurisdiction_id = %s AND scheme = %s AND {cond}",
        [str(amount), pool, jid, scheme, *(args or [])],
    )


def _days_expr(day_param: str = "%s") -> str:
    """SQL for (DAY − p.effective_on + 1) in days, per database."""
    if is_postgres():
        return f"(CAST({day_param} AS date) - p.effective_on + 1)"
    return f"(CAST(julianday({day_param}) - julianday(p.effective_on) AS INTEGER) + 1)"


def interest_rates(year: int, jurisdiction: str | None) -> dict[int, Decimal]:
    """Yearly rate per jurisdiction, as a fraction, in force on 31 December (``PolicyMissing`` if absent)."""
    return {
        jid: Policy(j.code, date(year, 12, 31)).percent("funds.personal_account_interest_pct")
        for jid, j in _jurisdictions(jurisdiction).items()
    }


def post_interest_chunk(
    *, lo: int, hi: int, year: int, rates: dict[int, Decimal], run_id: int | None, user_id: int | None
) -> dict[str, int]:
    """Interest for YEAR on every personal account of persons ``lo <= id < hi`` in the jurisdictions rated.

    Set-based: the 积数 (sum of daily balances) is read in whole fen-days per account and
    the interest computed in integers — the rule of :func:`funds.interest.yearly_interest`
    (the year's own interest posting, on 31 December, is left out).
    """
    if not rates:
        return {"credited": 0, "amount_fen": 0}
    jan1, dec31 = date(year, 1, 1), date(year, 12, 31)
    ops = connection.ops
    d_jan1, d_dec31 = ops.adapt_datefield_value(jan1), ops.adapt_datefield_value(dec31)
    placeholders = ", ".join(["%s"] * len(rates))
    with SetPoster() as sp:
        # One index range scan per account (a correlated subquery over the covering index of postings):
        # each posting's fen × the days it stood in the year — all 365/366 days for one made before it.
        fen_days = f"""(SELECT SUM(CAST(ROUND(p.amount * 100) AS BIGINT)
                                   * CASE WHEN p.effective_on < %s THEN %s ELSE {_days_expr()} END)
                        FROM funds_posting p
                        WHERE p.account_id = a.id AND p.effective_on <= %s
                          AND NOT (p.kind = %s AND p.effective_on = %s))"""
        banks = {jid: fund_account(Jurisdiction.objects.get(pk=jid), AccountKind.BANK).pk for jid in rates}
        days = 366 if calendar.isleap(year) else 365
        # interest in fen = half-up(積数 in fen-days × rate ÷ days), in exact integer arithmetic on every
        # database: with rate = num/den, floor((2·W·num + days·den) / (2·days·den)) for W ≥ 0.
        # The same rule as funds.interest.yearly_interest (the tests hold them together).
        ratios = {jid: Decimal(rate).as_integer_ratio() for jid, rate in rates.items()}
        num = "CASE a.jurisdiction_id " + " ".join(f"WHEN {j} THEN {n}" for j, (n, _) in ratios.items()) + " END"
        den = "CASE a.jurisdiction_id " + " ".join(f"WHEN {j} THEN {d}" for j, (_, d) in ratios.items()) + " END"
        bank = "CASE a.jurisdiction_id " + " ".join(f"WHEN {j} THEN {b}" for j, b in banks.items()) + " END"
        amount = "CAST(x.fen AS numeric(14, 2)) / 100" if is_postgres() else "x.fen / 100.0"
        # an optimisation fence: the sum per account is computed once, not again for each use of fen_days
        fence = "OFFSET 0" if is_postgres() else "LIMIT -1"
        sp.execute(
            f"""
            INSERT INTO {TMP} (person_id, jurisdiction_id, target_kind, amount, counter_id, account_id, business_key)
            SELECT x.person_id, x.jurisdiction_id, %s, {amount}, x.bank, x.id,
                   'interest:' || CAST(x.id AS varchar(20)) || ':' || %s
            FROM (
                SELECT w.id, w.person_id, w.jurisdiction_id, w.bank,
                       (2 * w.fen_days * w.num + %s * w.den) / (2 * %s * w.den) AS fen
                FROM (
                    SELECT a.id, a.person_id, a.jurisdiction_id, {bank} AS bank, {num} AS num, {den} AS den,
                           CAST(COALESCE({fen_days}, 0) AS BIGINT) AS fen_days
                    FROM funds_fundaccount a
                    WHERE a.kind = %s AND a.person_id >= %s AND a.person_id < %s
                      AND a.jurisdiction_id IN ({placeholders})
                      AND NOT EXISTS (SELECT 1 FROM funds_journalentry e
                                      WHERE e.business_key = 'interest:' || CAST(a.id AS varchar(20)) || ':' || %s)
                    {fence}
                ) w
                WHERE w.fen_days > 0
            ) x
            WHERE x.fen > 0
            """,
            [
                AccountKind.PERSONAL,
                str(year),
                days,
                days,
                d_jan1,
                days,
                d_dec31,
                d_dec31,
                EntryKind.INTEREST,
                d_dec31,
                AccountKind.PERSONAL,
                lo,
                hi,
                *rates,
                str(year),
            ],
        )
        counts = sp.post(
            kind=EntryKind.INTEREST,
            effective_on=dec31,
            memo=f"{year} 年度个人账户利息",
            recorded_at=timezone.now(),
            run_id=run_id,
            user_id=user_id,
        )
    return {"credited": counts["entries"], "amount_fen": counts["amount_fen"]}
