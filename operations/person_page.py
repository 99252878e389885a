"""个人全景: one person on one page, as the user may see them (issue #19 item 3).

Reads only; every figure is true on the day shown (``on``, passed in): the status is the stored eligibility
timeline on that day (:func:`benefits.selectors.status_on`), arrears and late fees are the nightly job's own
statement for that day (:func:`contributions.services.read_as_of`, rolled back), payment years are counted
as the person's jurisdiction counts them on that day. Each section needs the view permission of what it
shows and goes through the one scope rule: an employer user sees the rows of their own spans only, and
no section that spans employers (payment years, account, claims, clearance, eligibility) unless the role
may view it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from benefits.claims.models import Claim
from benefits.selectors import StatusAnswer, status_on
from contributions.models import ContributionBase
from contributions.retirement.models import RetirementClearanceCase
from contributions.selectors import arrears, payment_years
from contributions.services import read_as_of
from enrollment.access import can_see_pii, is_bureau, scope_queryset
from enrollment.identifiers import mask_id_number, mask_phone
from enrollment.models import EnrolmentSpan, InsuredPerson, LifeEvent
from funds.models import FundAccount
from funds.selectors import balance_as_of, personal_account_of
from policy.resolver import PolicyError

ZERO = Decimal("0.00")
RECENT = 10


@dataclass
class PersonPage:
    """What the page shows; a section is ``None`` when the user may not see it."""

    person: InsuredPerson
    on: date
    id_number: str
    phone: str
    spans: list[EnrolmentSpan] | None = None
    status: StatusAnswer | None = None
    arrears: list[Any] | None = None
    arrears_principal: Decimal = ZERO
    arrears_late_fee: Decimal = ZERO
    arrears_error: str = ""
    bases: list[ContributionBase] | None = None
    years: Any = None
    years_error: str = ""
    account: FundAccount | None = None
    account_balance: Decimal | None = None
    show_account: bool = False
    claims: list[Claim] | None = None
    cases: list[RetirementClearanceCase] | None = None
    events: list[LifeEvent] | None = None
    shown: set[str] = field(default_factory=set)


def _may(user, perm: str) -> bool:
    return user.has_perm(perm)


def identity(user, person: InsuredPerson, on: date) -> PersonPage:
    """身份信息: 身份证号 and phone in full only for roles with the PII permission."""
    pii = can_see_pii(user)
    return PersonPage(
        person=person,
        on=on,
        id_number=person.id_number if pii else mask_id_number(person.id_number),
        phone=person.phone if pii else mask_phone(person.phone),
    )


def spans_of(user, person: InsuredPerson) -> list[EnrolmentSpan]:
    """参保关系: a former employer sees its own spans only (never the new employer's name)."""
    qs = EnrolmentSpan.objects.filter(person=person).select_related("jurisdiction", "employer").order_by("start", "id")
    return list(scope_queryset(user, qs, employer_path="employer_id"))


def arrears_on(user, person: InsuredPerson, on: date) -> list[Any]:
    """欠费 and 滞纳金 on ``on``: the nightly job's fee statement for that day, read and rolled back."""

    def read() -> list[Any]:
        qs = arrears(on).filter(person=person).select_related("employer").order_by("month")
        return list(scope_queryset(user, qs, employer_path="employer_id"))

    return read_as_of([person.pk], on, read)


def arrears_shown(user, person: InsuredPerson, on: date) -> tuple[list[Any], str]:
    """:func:`arrears_on`; when a value the fee statement needs is missing, the stored figures and why."""
    try:
        return arrears_on(user, person, on), ""
    except PolicyError as exc:
        qs = arrears(on).filter(person=person).select_related("employer").order_by("month")
        stored = list(scope_queryset(user, qs, employer_path="employer_id"))
        return stored, f"滞纳金无法按当日计算（显示上次批处理计提的数）：{exc}"


def bases_of(user, person: InsuredPerson) -> list[ContributionBase]:
    qs = ContributionBase.objects.filter(person=person).select_related("employer").order_by("-year_start")
    return list(scope_queryset(user, qs, employer_path="employer_id")[:RECENT])


def account_of(person: InsuredPerson, on: date) -> tuple[FundAccount | None, Decimal | None]:
    """个人账户 and its balance at the end of ``on``."""
    account = personal_account_of(person)
    return account, (balance_as_of(account, on) if account is not None else None)


def person_page(user, person: InsuredPerson, on: date) -> PersonPage:
    """Every section the user may see, on ``on``."""
    page = identity(user, person, on)
    bureau = is_bureau(user)
    if _may(user, "enrollment.view_enrolmentspan"):
        page.spans = spans_of(user, person)
    if bureau and _may(user, "benefits.view_eligibilityperiod"):
        page.status = status_on(person, on)
    if _may(user, "contributions.view_monthlydue"):
        page.arrears, page.arrears_error = arrears_shown(user, person, on)
        page.arrears_principal = sum((d.principal_due for d in page.arrears), ZERO)
        page.arrears_late_fee = sum((d.late_fee_due for d in page.arrears), ZERO)
    if _may(user, "contributions.view_contributionbase"):
        page.bases = bases_of(user, person)
    if bureau and _may(user, "contributions.view_monthlydue"):
        try:
            page.years = payment_years(person, on)
        except (PolicyError, ValueError) as exc:
            page.years_error = str(exc)
    if bureau and _may(user, "funds.view_fundaccount"):
        page.show_account = True
        page.account, page.account_balance = account_of(person, on)
    if bureau and _may(user, "claims.view_claim"):
        page.claims = list(Claim.objects.filter(person=person).order_by("-start_date", "-id")[:RECENT])
    if bureau and _may(user, "retirement.view_retirementclearancecase"):
        page.cases = list(RetirementClearanceCase.objects.filter(person=person).order_by("-opened_on", "-id"))
    if _may(user, "enrollment.view_lifeevent"):
        events = LifeEvent.objects.filter(person=person).select_related("employer").order_by("-occurred_on", "-id")
        page.events = list(scope_queryset(user, events, employer_path="employer_id")[: RECENT * 2])
    return page


def visible_person(user, person_id: int) -> InsuredPerson | None:
    return InsuredPerson.objects.visible_to(user).filter(pk=person_id).first()
