"""What each document prints, read through the existing read services — nothing is recomputed here.

- 参保证明: the person's enrolment spans (:class:`enrollment.models.EnrolmentSpan`), the status on the day,
  and (bureau staff) the 缴费年限 of :func:`contributions.selectors.payment_years`;
- 个人缴费明细: the dues of a period as they stand on the day, with the late fee of that day
  (:func:`contributions.services.read_as_of`, the nightly job's own fee statement, rolled back);
- 个人账户对账单: the personal account's statement (:func:`funds.selectors.statement`) for one year with
  opening and closing balances (:func:`funds.selectors.balance_as_of`);
- 单位缴费通知单: :func:`contributions.selectors.employer_month_bill` as it stands on the day;
- 退休清缴核定通知: the clearance case as computed and approved (:mod:`contributions.retirement`).

Employer users (单位经办员) see only their own employer's rows (:func:`enrollment.access.scope_queryset`);
the 身份证号 is printed in full only for roles that may see it (:func:`enrollment.access.can_see_pii`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from contributions.models import MonthlyDue
from contributions.retirement.models import RetirementClearanceCase
from contributions.selectors import employer_month_bill, payment_years
from contributions.services import read_as_of
from enrollment.access import can_see_pii, is_bureau, scope_queryset
from enrollment.identifiers import mask_id_number
from enrollment.models import Employer, EnrolmentSpan, InsuredPerson
from funds import selectors as fund_selectors
from policy.resolver import PolicyError

from ..models import DocumentKind


class DocumentUnavailable(Exception):
    """The document cannot be printed for this subject (e.g. no personal account): a message for the user."""


def money(value: Decimal | None) -> str:
    """Money as printed: two decimals with thousands separators; unknown stays empty (not 0)."""
    return "" if value is None else f"{Decimal(value):,.2f}"


def day(value: date | None) -> str:
    return value.isoformat() if value else ""


def month_label(value: date) -> str:
    return f"{value.year}年{value.month:02d}月"


def mask_name(name: str) -> str:
    """张** : the family name only (the public verification page)."""
    return (name[:1] + "*" * max(1, len(name) - 1)) if name else ""


def other_lines(due: MonthlyDue) -> Decimal | None:
    """生育保险 + 大病保险 of a due: unknown (empty, not 0) where the seed leaves both rates to another policy."""
    parts = [x for x in (due.maternity_amount, due.critical_illness_amount) if x is not None]
    return sum(parts, Decimal("0.00")) if parts else None


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()  # columns aligned right
    totals: list[str] | None = None


@dataclass
class Content:
    """One document's printed content and its register entry's summary."""

    kind: str
    title: str
    as_of: date
    subject_masked: str
    subject_id_masked: str = ""
    person: InsuredPerson | None = None
    employer: Employer | None = None
    period_start: date | None = None
    period_end: date | None = None
    period_label: str = ""
    lines: list[tuple[str, str]] = field(default_factory=list)  # 标签, 内容 — the heading block
    tables: list[Table] = field(default_factory=list)
    summary: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        """Everything printed that a forger would change: the digest is taken over this."""
        return {
            "kind": self.kind,
            "as_of": self.as_of,
            "period": [self.period_start, self.period_end],
            "lines": self.lines,
            "tables": [[t.title, t.headers, t.rows, t.totals] for t in self.tables],
            "summary": self.summary,
        }


def _id_shown(person: InsuredPerson, user) -> str:
    return person.id_number if can_see_pii(user) else mask_id_number(person.id_number)


def _person_lines(person: InsuredPerson, user) -> list[tuple[str, str]]:
    return [
        ("姓名", person.name),
        ("身份证号", _id_shown(person, user)),
        ("性别", person.get_sex_display()),
        ("出生日期", day(person.birth_date)),
    ]


def _person_content(kind: str, title: str, person: InsuredPerson, as_of: date, user, **kw) -> Content:
    return Content(
        kind=kind,
        title=title,
        as_of=as_of,
        person=person,
        subject_masked=mask_name(person.name),
        subject_id_masked=mask_id_number(person.id_number),
        lines=_person_lines(person, user),
        **kw,
    )


# --- 参保证明 --------------------------------------------------------------------------------------


def enrolment(person: InsuredPerson, *, on: date, user) -> Content:
    """参保证明 as of ``on``: the spans begun by then (an employer user: its own), status on the day."""
    spans = list(
        scope_queryset(user, EnrolmentSpan.objects.filter(person=person, start__lte=on), employer_path="employer_id")
        .select_related("jurisdiction", "employer")
        .order_by("start", "id")
    )
    current = next((s for s in spans if s.end is None or s.end > on), None)
    c = _person_content(
        DocumentKind.ENROLMENT, "参保证明", person, on, user, period_end=on, period_label=f"截至 {day(on)}"
    )
    if current is not None:
        c.lines.append(("统筹区", current.jurisdiction.name))
        status = f"{current.get_status_display()}（{current.get_category_display()}，职工基本医疗保险）"
    elif is_bureau(user):
        status = "截至该日无有效的职工基本医疗保险参保关系"
    else:  # an employer user sees only its own spans: it certifies its own enrolment, nothing of others
        status = "截至该日不在本单位参保"
    c.lines.append(("参保状态", status))
    c.tables.append(
        Table(
            "参保经历",
            ["统筹区", "人员类别", "用人单位", "参保方式", "开始日期", "结束日期（不含）", "参保状态"],
            [
                [
                    s.jurisdiction.name,
                    s.get_category_display(),
                    s.employer.name if s.employer else "",
                    s.get_scheme_display(),
                    day(s.start),
                    day(s.end) if s.end and s.end <= on else "",
                    s.get_status_display(),
                ]
                for s in spans
            ],
        )
    )
    if is_bureau(user) and spans:
        # 缴费年限 counted as the jurisdiction of the latest span counts it (contributions.selectors)
        try:
            years = payment_years(person, on)
        except (PolicyError, ValueError) as exc:
            c.notes.append(f"缴费年限暂不能出具：{exc}")
        else:
            c.summary += [
                ("累计缴费月数", f"{years.counted.cumulative}"),
                ("其中本地实际缴费月数", f"{years.counted.local}"),
            ]
    c.notes.append("本证明仅证明截至上述日期的参保情况。")
    return c


# --- 个人缴费明细 ----------------------------------------------------------------------------------


def contributions(person: InsuredPerson, *, start: date, end: date, as_of: date, user) -> Content:
    """个人缴费明细 for the months ``[start, end)``: dues as they stand on ``as_of`` (late fee of that day)."""

    def read() -> list[MonthlyDue]:
        qs = MonthlyDue.objects.filter(person=person, month__gte=start, month__lt=end)
        return list(scope_queryset(user, qs, employer_path="employer_id").select_related("employer").order_by("month"))

    dues = read_as_of([person.pk], as_of, read)
    last = date(end.year - (end.month == 1), 12 if end.month == 1 else end.month - 1, 1)
    label = f"{month_label(start)}—{month_label(last)}"
    c = _person_content(
        DocumentKind.CONTRIBUTIONS,
        "个人缴费明细",
        person,
        as_of,
        user,
        period_start=start,
        period_end=end,
        period_label=label,
    )
    c.lines.append(("所属期", label))
    zero = Decimal("0.00")
    sums = {
        k: sum((getattr(d, k) for d in dues), zero)
        for k in ("employer_amount", "individual_amount", "total", "paid_principal", "late_fee")
    }
    c.tables.append(
        Table(
            "缴费明细",
            [
                "费款所属期",
                "用人单位",
                "缴费基数",
                "单位缴纳",
                "个人缴纳",
                "生育/大病",
                "应缴合计",
                "已缴本金",
                "缴清日期",
                "滞纳金",
            ],
            [
                [
                    month_label(d.month),
                    d.employer.name if d.employer else d.get_category_display(),
                    money(d.base),
                    money(d.employer_amount),
                    money(d.individual_amount),
                    money(other_lines(d)),
                    money(d.total),
                    money(d.paid_principal),
                    day(d.settled_on) or ("缓缴" if d.deferred else "未缴清"),
                    money(d.late_fee),
                ]
                for d in dues
            ],
            numeric=frozenset({2, 3, 4, 5, 6, 7, 9}),
            totals=[
                "合计",
                "",
                "",
                money(sums["employer_amount"]),
                money(sums["individual_amount"]),
                money(sum((other_lines(d) or zero for d in dues), zero)),
                money(sums["total"]),
                money(sums["paid_principal"]),
                "",
                money(sums["late_fee"]),
            ],
        )
    )
    c.summary += [
        ("缴费月数", str(len(dues))),
        ("已缴清月数", str(sum(1 for d in dues if d.settled_on))),
        ("应缴合计", money(sums["total"])),
        ("欠缴本金", money(sums["total"] - sums["paid_principal"])),
    ]
    c.notes.append(f"滞纳金按 {day(as_of)} 计算（与夜间批处理同一规则）。")
    return c


# --- 个人账户对账单 --------------------------------------------------------------------------------


def account(person: InsuredPerson, *, year: int, as_of: date, user) -> Content:
    """个人账户对账单 for calendar ``year``: opening balance, the year's postings, closing balance."""
    acct = fund_selectors.personal_account_of(person)
    if acct is None:
        raise DocumentUnavailable("该人员没有个人账户，不能出具对账单。")
    first, after = date(year, 1, 1), date(year + 1, 1, 1)
    end = min(date(year, 12, 31), as_of)
    lines: list[fund_selectors.StatementLine] = []
    page = 1
    while True:  # the statement is newest first, a page at a time: read until before the year
        st = fund_selectors.statement(acct, page=page, per_page=200)
        lines += [ln for ln in st.lines if first <= ln.effective_on <= end]
        if not st.has_next or (st.lines and st.lines[-1].effective_on < first):
            break
        page += 1
    lines.reverse()
    opening = fund_selectors.balance_as_of(acct, date(year - 1, 12, 31))
    closing = fund_selectors.balance_as_of(acct, end)
    income = sum((ln.amount for ln in lines if ln.amount > 0), Decimal("0.00"))
    outgo = sum((-ln.amount for ln in lines if ln.amount < 0), Decimal("0.00"))
    c = _person_content(
        DocumentKind.ACCOUNT,
        "个人账户对账单",
        person,
        as_of,
        user,
        period_start=first,
        period_end=after,
        period_label=f"{year}年度",
    )
    c.lines += [("统筹区", acct.jurisdiction.name), ("对账期间", f"{day(first)} 至 {day(end)}")]
    c.tables.append(
        Table(
            "账户明细",
            ["记账日期", "业务类型", "摘要", "收入", "支出", "余额"],
            [
                [
                    day(ln.effective_on),
                    ln.kind_label,
                    ln.memo[:40],
                    money(ln.amount) if ln.amount > 0 else "",
                    money(-ln.amount) if ln.amount < 0 else "",
                    money(ln.balance_after),
                ]
                for ln in lines
            ],
            numeric=frozenset({3, 4, 5}),
        )
    )
    c.summary += [
        ("期初余额", money(opening)),
        ("本期收入", money(income)),
        ("本期支出", money(outgo)),
        ("期末余额", money(closing)),
    ]
    return c


# --- 单位缴费通知单 --------------------------------------------------------------------------------


def employer_notice(employer: Employer, *, month: date, as_of: date, user) -> Content:
    """单位缴费通知单 for one month: every person's due and the totals, as they stand on ``as_of``."""
    month = month.replace(day=1)
    persons = list(
        MonthlyDue.objects.filter(employer=employer, month=month).values_list("person_id", flat=True).distinct()
    )

    def read() -> dict:
        bill = employer_month_bill(employer.pk, month)
        return {"dues": list(bill["dues"]), "totals": bill["totals"]}

    bill = read_as_of(persons, as_of, read)
    t = bill["totals"]
    pii = can_see_pii(user)
    c = Content(
        kind=DocumentKind.EMPLOYER_NOTICE,
        title="单位缴费通知单",
        as_of=as_of,
        employer=employer,
        subject_masked=employer.name,
        subject_id_masked=employer.credit_code,
        period_start=month,
        period_end=date(month.year + (month.month == 12), 1 if month.month == 12 else month.month + 1, 1),
        period_label=month_label(month),
        lines=[
            ("单位名称", employer.name),
            ("统一社会信用代码", employer.credit_code),
            ("统筹区", employer.jurisdiction.name),
            ("费款所属期", month_label(month)),
        ],
    )
    due_dates = sorted({d.due_date for d in bill["dues"] if d.due_date})
    if due_dates:
        c.lines.append(("缴费截止日", day(due_dates[0])))
    c.tables.append(
        Table(
            "应缴明细",
            [
                "姓名",
                "身份证号",
                "缴费基数",
                "单位缴纳",
                "个人缴纳",
                "生育/大病",
                "应缴合计",
                "已缴本金",
                "欠缴本金",
                "滞纳金",
            ],
            [
                [
                    d.person.name,
                    d.person.id_number if pii else mask_id_number(d.person.id_number),
                    money(d.base),
                    money(d.employer_amount),
                    money(d.individual_amount),
                    money(other_lines(d)),
                    money(d.total),
                    money(d.paid_principal),
                    money(d.principal_due),
                    money(d.late_fee),
                ]
                for d in bill["dues"]
            ],
            numeric=frozenset({2, 3, 4, 5, 6, 7, 8, 9}),
            totals=[
                "合计",
                f"{len(bill['dues'])} 人",
                "",
                money(t["employer"]),
                money(t["individual"]),
                money(t["maternity"] + t["critical_illness"]),
                money(t["total"]),
                money(t["paid"]),
                money(t["total"] - t["paid"]),
                money(t["late_fee"]),
            ],
        )
    )
    c.summary += [
        ("参保人数", str(len(bill["dues"]))),
        ("应缴合计", money(t["total"])),
        ("已缴本金", money(t["paid"])),
        ("尚需缴纳本金", money(t["total"] - t["paid"])),
        (f"滞纳金（截至 {day(as_of)}）", money(t["late_fee"])),
    ]
    if t["maternity"]:
        c.summary.append(("其中生育保险", money(t["maternity"])))
    if t["critical_illness"]:
        c.summary.append(("其中大病保险", money(t["critical_illness"])))
    c.notes.append("请在缴费截止日前足额缴纳；逾期未缴的，按规定加收滞纳金。")
    return c


# --- 退休清缴核定通知 ------------------------------------------------------------------------------


def clearance(case: RetirementClearanceCase, *, as_of: date, user) -> Content:
    """退休清缴核定通知: the case's computed months, shortfall and lump sum, as the case holds them."""
    person = case.person
    c = _person_content(
        DocumentKind.CLEARANCE,
        "退休清缴核定通知",
        person,
        as_of,
        user,
        period_start=case.retire_on,
        period_label=f"退休日期 {day(case.retire_on)}",
    )
    c.lines += [
        ("统筹区", case.jurisdiction.name),
        ("立案原因", case.get_reason_display()),
        ("退休日期", day(case.retire_on)),
        ("案件状态", case.get_status_display()),
    ]
    rows = [
        ("累计最低缴费月数", "—" if case.required_months is None else str(case.required_months)),
        ("本地最低实际缴费月数", "—" if case.required_local_months is None else str(case.required_local_months)),
        ("视同缴费月数", f"{case.deemed_months}"),
        ("实际缴费月数（含转入）", f"{case.actual_months}"),
        ("本地实际缴费月数", f"{case.local_months}"),
        ("累计缴费月数", f"{case.cumulative_months}"),
        ("不足月数", "—" if case.shortfall_months is None else str(case.shortfall_months)),
        ("补缴基数", money(case.lump_sum_base.quantize(Decimal("0.01"))) if case.lump_sum_base is not None else ""),
        ("一次性补缴金额", money(case.lump_sum)),
        ("清缴方式", case.get_option_display()),
    ]
    c.tables.append(Table("核定结果", ["项目", "核定"], [list(r) for r in rows], numeric=frozenset({1})))
    if case.approved_on:
        c.summary.append(("审核日期", day(case.approved_on)))
    if case.bill_no:
        c.summary += [("补缴单号", case.bill_no), ("补缴单金额", money(case.bill_amount))]
    if case.retiree_from:
        c.summary.append(("退休人员待遇起始日", day(case.retiree_from)))
    if case.problem:
        c.notes.append(f"尚不能核定：{case.problem}")
    if case.citation:
        c.notes.append(f"依据：{case.citation}")
    if case.status == "open":
        c.notes.append("本案件尚待审核，核定结果以审核后为准。")
    return c


def visible_cases(user):
    """Clearance cases a user may print: bureau staff only (employer users have no access to cases)."""
    qs = RetirementClearanceCase.objects.select_related("person", "jurisdiction")
    return qs if is_bureau(user) else qs.none()


__all__ = [
    "Content",
    "DocumentUnavailable",
    "Table",
    "account",
    "clearance",
    "contributions",
    "employer_notice",
    "enrolment",
    "mask_name",
    "visible_cases",
]
