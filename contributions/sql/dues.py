"""应缴 for one month (dues_insert) and the retirees' 大病保险 premium."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from enrollment.models import Employer, EnrolmentSpan, InsuredPerson
from policy.resolver import Policy

from ..models import (
    ContributionBase,
    Deferral,
    MonthlyDue,
)
from ..periods import add_months, base_year_start
from ..rules import MonthConstants
from .dialect import (
    BASE_RATE_TO_CENTS,
    _named,
    base_units,
    div_half_up,
    dparam,
    execute,
    fetchall,
    from_cents,
    lit,
    q,
    t,
    text_lit,
    tparam,
)
from .spans import _latest_span_sql, jurisdiction_id

# --- monthly dues -----------------------------------------------------------------------------


def _rates_table(mc: MonthConstants) -> str:
    """The month's rate rows as a derived table (column1…): category, fiscal, scheme, er, ir, mr, err, a0, a1…"""
    width = max((len(r.account) for r in mc.rows), default=1) or 1
    values = []
    for r in mc.rows:
        acct = list(r.account) + [None] * (width - len(r.account))
        cells = [
            text_lit(r.category),
            str(r.fiscal),
            text_lit(r.scheme),
            lit(r.employer),
            lit(r.individual),
            lit(r.maternity),
            text_lit(r.error or None),
            *[lit(a) for a in acct],
        ]
        values.append("(" + ", ".join(cells) + ")")
    names = ["category", "fiscal", "scheme", "er", "ir", "mr", "err"] + [f"a{i}" for i in range(width)]
    cols = ", ".join(f"v.column{i + 1} AS {n}" for i, n in enumerate(names))
    return f"(SELECT {cols} FROM (VALUES {', '.join(values)}) AS v)", width


def dues_insert(
    mc: MonthConstants,
    *,
    lo: int,
    hi: int,
    frequency_filter: str,
    due_date: date | None,
    run_id: int | None,
    now: datetime,
) -> Counter:
    """Bill the month for the chunk: insert missing dues; re-bill dues nothing of which is paid yet
    if their base or rates changed since (a declaration corrected after billing); leave the rest.

    ``frequency_filter`` is an SQL condition on ``e`` (the employer, may be NULL) choosing
    the persons billed under this payment period. Lines: employer, individual, maternity
    = money(base × rate); personal account = money(base × account rate of the age band in
    the month, D-S5); pool = employer + individual − account; critical illness = the
    monthly premium (hunan 第五十三条). Counts: generated, recalculated, existing, no_base,
    missing:<parameter> (the caller adds missing:contribution.due_day for dues without a deadline).
    """
    S, E, P, B, DU, DF = (
        t(EnrolmentSpan),
        t(Employer),
        t(InsuredPerson),
        t(ContributionBase),
        t(MonthlyDue),
        t(Deferral),
    )
    jid = jurisdiction_id(mc.jurisdiction)
    month = mc.month
    next_month = add_months(month, 1)
    ys = base_year_start(Policy(mc.jurisdiction, month), month)
    rates, width = _rates_table(mc)
    p = {
        "lo": lo,
        "hi": hi,
        "jid": jid,
        "m": dparam(month),
        "w_from": dparam(month),
        "w_to": dparam(next_month),
        "ys": dparam(ys),
        "dd": dparam(due_date),
    }
    account = "r.a0"
    for i, threshold in enumerate(mc.band_thresholds, start=1):
        if i < width:
            account = f"CASE WHEN pe.birth_date <= {text_lit(threshold.isoformat())} THEN r.a{i} ELSE {account} END"
    fiscal = "CASE WHEN e.kind = 'fiscal_institution' THEN 1 ELSE 0 END"
    crit = lit(mc.critical_illness_cents)
    base_match = """b.person_id = s.person_id AND b.year_start = %(ys)s AND b.category = s.category
        AND b.person_id >= %(lo)s AND b.person_id < %(hi)s
        AND b.jurisdiction_id = s.jurisdiction_id AND COALESCE(b.employer_id, 0) = COALESCE(s.employer_id, 0)"""
    where = f"""s.jurisdiction_id = %(jid)s AND s.category IN ('employee', 'flexible', 'unemployed')
        AND ({frequency_filter}) AND {_latest_span_sql("%(w_from)s", "%(w_to)s")}"""
    frm = f"""FROM {S} s
        LEFT JOIN {E} e ON e.id = s.employer_id
        JOIN {P} pe ON pe.id = s.person_id AND pe.id >= %(lo)s AND pe.id < %(hi)s
        LEFT JOIN {rates} r ON r.category = s.category AND r.scheme = s.scheme AND r.fiscal = {fiscal}
        LEFT JOIN {B} b ON {base_match}"""
    counts: Counter = Counter()
    sql, params = _named(
        f"""SELECT CASE WHEN r.err IS NOT NULL THEN r.err WHEN b.id IS NULL THEN 'no_base' ELSE 'ok' END, COUNT(*)
        {frm} WHERE {where} GROUP BY 1""",
        p,
    )
    billable = 0
    for key, n in fetchall(sql, params):
        if key == "ok":
            billable = n
        else:
            counts[key] += n
    if not billable:
        return counts
    deferred = "FALSE"
    if due_date is not None:
        deferred = f"""EXISTS (SELECT 1 FROM {DF} df WHERE df.employer_id = x.employer_id
            AND df.{q("start")} <= %(dd)s AND df.{q("end")} > %(dd)s)"""
    sql, params = _named(
        f"""INSERT INTO {DU} (person_id, employer_id, jurisdiction_id, month, category, scheme, base,
            employer_amount, individual_amount, maternity_amount, critical_illness_amount, personal_account_amount,
            pool_amount, total, due_date, paid_principal, settled_on, late_fee, late_fee_paid, deferred,
            back_payment_bill_id, run_id, created_at)
        SELECT x.person_id, x.employer_id, %(jid)s, %(m)s, x.category, x.scheme, x.base,
            {from_cents("x.er_c")}, {from_cents("x.ir_c")}, {from_cents("x.mr_c")}, {from_cents("x.crit_c")},
            {from_cents("x.acct_c")}, {from_cents("x.er_c + x.ir_c - x.acct_c")},
            {from_cents("x.er_c + x.ir_c + COALESCE(x.mr_c, 0) + COALESCE(x.crit_c, 0)")},
            %(dd)s, 0, NULL, 0, 0, {deferred}, NULL, %(run)s, %(now)s
        FROM (
            SELECT s.person_id, s.employer_id, s.category, s.scheme, b.base,
                {div_half_up(f"{base_units('b.base')} * r.er", BASE_RATE_TO_CENTS)} AS er_c,
                {div_half_up(f"{base_units('b.base')} * r.ir", BASE_RATE_TO_CENTS)} AS ir_c,
                {div_half_up(f"{base_units('b.base')} * r.mr", BASE_RATE_TO_CENTS)} AS mr_c,
                {div_half_up(f"{base_units('b.base')} * ({account})", BASE_RATE_TO_CENTS)} AS acct_c,
                {crit} AS crit_c
            {frm} WHERE {where} AND r.err IS NULL AND b.id IS NOT NULL
        ) x
        WHERE 1 = 1
        ON CONFLICT (person_id, month) DO UPDATE SET {", ".join(f"{c} = excluded.{c}" for c in _REBILL)}
        WHERE {DU}.paid_principal = 0 AND {DU}.late_fee_paid = 0 AND {DU}.settled_on IS NULL
          AND {DU}.back_payment_bill_id IS NULL AND {DU}.jurisdiction_id = excluded.jurisdiction_id
          AND ({" OR ".join(_differs(DU, c) for c in _REBILL if c not in ("run_id", "deferred"))})""",
        {**p, "run": run_id, "now": tparam(now)},
    )
    existing_sql = f"SELECT COUNT(*) FROM {DU} WHERE person_id >= %s AND person_id < %s AND month = %s"
    before = fetchall(existing_sql, [lo, hi, p["m"]])[0][0]
    written = execute(sql, params)
    inserted = fetchall(existing_sql, [lo, hi, p["m"]])[0][0] - before
    counts["generated"] += inserted
    counts["recalculated"] += written - inserted
    counts["existing"] += billable - written
    return counts


# Columns of a due that follow the person's base and rates while nothing of it is paid yet.
_REBILL = (
    "employer_id",
    "category",
    "scheme",
    "base",
    "employer_amount",
    "individual_amount",
    "maternity_amount",
    "critical_illness_amount",
    "personal_account_amount",
    "pool_amount",
    "total",
    "due_date",
    "deferred",
    "run_id",
)


def _differs(table: str, column: str) -> str:
    """Null-safe "the stored value differs from the new one" (portable: no IS DISTINCT FROM)."""
    old, new = f"{table}.{column}", f"excluded.{column}"
    return f"(({old} IS NULL) <> ({new} IS NULL) OR {old} <> {new})"


def retiree_premiums_insert(
    mc: MonthConstants, *, lo: int, hi: int, due_date: date | None, run_id: int | None, now: datetime
) -> Counter:
    """hunan 第五十三条: retirees pay the 大病保险 premium too (monthly, 第五十四条); no basic contribution."""
    counts: Counter = Counter()
    if not mc.critical_illness_cents:
        return counts
    S, DU = t(EnrolmentSpan), t(MonthlyDue)
    month = mc.month
    next_month = add_months(month, 1)
    crit = from_cents(lit(mc.critical_illness_cents))
    sql, params = _named(
        f"""INSERT INTO {DU} (person_id, employer_id, jurisdiction_id, month, category, scheme, base,
            employer_amount, individual_amount, maternity_amount, critical_illness_amount, personal_account_amount,
            pool_amount, total, due_date, paid_principal, settled_on, late_fee, late_fee_paid, deferred,
            back_payment_bill_id, run_id, created_at)
        SELECT s.person_id, NULL, %(jid)s, %(m)s, s.category, s.scheme, 0, 0, 0, NULL, {crit}, 0, 0, {crit},
            %(dd)s, 0, NULL, 0, 0, FALSE, NULL, %(run)s, %(now)s
        FROM {S} s
        WHERE s.jurisdiction_id = %(jid)s AND s.category = 'retiree' AND {_latest_span_sql("%(w_from)s", "%(w_to)s")}
        ON CONFLICT (person_id, month) DO NOTHING""",
        {
            "lo": lo,
            "hi": hi,
            "jid": jurisdiction_id(mc.jurisdiction),
            "m": dparam(month),
            "w_from": dparam(month),
            "w_to": dparam(next_month),
            "dd": dparam(due_date),
            "run": run_id,
            "now": tparam(now),
        },
    )
    n = execute(sql, params)
    counts["generated_retiree_premium"] += n
    return counts
