"""Demo of resident insurance (城乡居民医保, 险种 390): a few households per jurisdiction enrolled through the
services, their yearly contributions billed by the real batch job and paid as a case worker records them, and
the resident fund's subsidy receipts — in the resident fund's own books (xianning 办法 四(三)).

The individual amount and the subsidy (sanmenxia 第三十条: 全省统一标准) and, outside sanmenxia, the collection
period are 演示数据 staff entries of ``staff_values.yaml``, never policy files. Idempotent: a second run with
households present changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError

from contributions import services as contribution_services
from contributions.models import ResidentDue
from enrollment.models import Household
from enrollment.residents import services as rs
from funds.resident_fund import receipt_record
from operations.demo.population import REGION, id_number
from policy.models import Jurisdiction
from policy.resolver import PolicyError

#: (head name, head kind, members: (name, relation, kind, birth, male)); sequence numbers 450+ stay clear of the
#: generated population's.
HOUSEHOLDS = (
    ("居民甲", "rural", (("居民甲妻", "spouse", "rural", date(1982, 4, 5), False),
                        ("居民甲子", "child", "preschool", date(2021, 8, 9), True))),
    ("居民乙", "urban_non_working", (("居民乙女", "child", "student", date(2005, 2, 3), False),)),
)  # fmt: skip


def demo_residents(today: date, *, log: Callable[[str], None] = lambda line: None) -> dict[str, int]:
    """Households, yearly bills (last year's collection for this year, this year's for next), payments, subsidies."""
    totals = {"households": 0, "members": 0, "bills": 0, "payments": 0, "receipts": 0}
    if Household.objects.exists():
        log("  城乡居民参保户已存在，未改动")
        return totals
    first_year = today.year - 1
    for jur in Jurisdiction.objects.order_by("code"):
        seq = 450
        region = REGION.get(jur.code, "110101")
        for head_name, head_kind, members in HOUSEHOLDS:
            seq += 5
            try:
                household = rs.household_register(
                    jurisdiction=jur,
                    head_id_number=id_number(region, date(1978, 6, 1), seq, True),
                    head_name=head_name,
                    kind=head_kind,
                    start=date(first_year, 1, 1),
                    registered_on=date(first_year - 1, 9, 1),
                    address="演示地址",
                    today=today,
                )
            except (ValidationError, PolicyError) as exc:
                log(f"  {jur.name}：{head_name}户未登记（{exc}）")
                continue
            totals["households"] += 1
            for i, (name, relation, kind, birth, male) in enumerate(members, start=1):
                try:
                    rs.member_add(
                        household=household,
                        id_number=id_number(region, birth, seq + i, male),
                        name=name,
                        relation=relation,
                        kind=kind,
                        start=date(first_year, 1, 1),
                        joined_on=date(first_year - 1, 9, 1),
                        study_jurisdiction=jur.code if kind == "student" else None,
                        today=today,
                    )
                    totals["members"] += 1
                except (ValidationError, PolicyError) as exc:
                    log(f"  {jur.name}：{name}未登记（{'；'.join(getattr(exc, 'messages', [str(exc)]))}）")
    collection_years = [first_year - 1, first_year]
    if today >= date(today.year, 9, 1):  # this year's collection has begun (第三十一条 9月至12月)
        collection_years.append(today.year)
    for collection_year in collection_years:
        as_of = min(date(collection_year, 10, 1), today)
        run = contribution_services.resident_billing(on=as_of, in_process=True)
        totals["bills"] += int(run.counts.get("billed", 0))
    # a case worker records the payments of every bill but one household's latest (left unpaid: no late fee)
    unpaid_head = "居民乙"
    last_year = collection_years[-1] + 1
    for due in ResidentDue.objects.select_related("person", "jurisdiction").order_by("benefit_year", "person_id"):
        latest = due.benefit_year == last_year
        if latest and due.person.household_membership.household.head.name == unpaid_head:
            continue
        paid_on = min(due.window_start + timedelta(days=40), today)
        contribution_services.payment_record(
            person=due.person,
            amount=due.individual_amount,
            paid_on=paid_on,
            reference=f"DEMO-R-{due.pk}",
            insutype="390",
        )
        totals["payments"] += 1
    for jur in Jurisdiction.objects.order_by("code"):
        for year in (first_year, first_year + 1, first_year + 2):
            persons = ResidentDue.objects.filter(jurisdiction=jur, benefit_year=year).count()
            received_on = date(year, 2, 15)
            subsidy = (
                ResidentDue.objects.filter(jurisdiction=jur, benefit_year=year)
                .values_list("subsidy_amount", flat=True)
                .first()
            )
            if not persons or subsidy is None or received_on > today:
                continue
            receipt_record(
                jurisdiction=jur,
                kind="subsidy_provincial",
                year=year,
                amount=Decimal(subsidy) * persons,
                received_on=received_on,
                reference=f"DEMO-SUB-{jur.code}-{year}",
                note="演示数据",
                today=today,
            )
            totals["receipts"] += 1
    log(
        f"  城乡居民：参保户 {totals['households']} 户、成员 {totals['members']} 人；"
        f"居民年度应缴 {totals['bills']} 笔，缴费 {totals['payments']} 笔，"
        f"财政补助到账 {totals['receipts']} 笔（居民医保基金单独建账）"
    )
    return totals
