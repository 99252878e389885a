"""Bulk settlement files: the same claims adjudicated one at a time and in a file give identical 2303 breakdowns."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from batch.runs import run_in_process
from benefits.claims.imports import COLUMNS, parse_row
from benefits.claims.jobs import JOB
from benefits.claims.models import (
    RESULT_FIELDS,
    AccumulatorAdjustment,
    BenefitAccumulator,
    Claim,
    ClaimStatus,
    SettlementFile,
)
from benefits.claims.services import claim_adjudicate
from benefits.claims.tasks import settlement_file_process
from funds.models import JournalEntry
from policy.models import Jurisdiction
from tests.test_claims import make_person, stat


class _Rollback(Exception):
    pass


def settlement_row(**values: str) -> dict[str, str]:
    """One settlement-file (结算文件) row as parse_row reads it: every column empty unless given."""
    return {**dict.fromkeys(COLUMNS, ""), **values}


def _rows(persons: dict[str, list]) -> list[dict[str, str]]:
    rows, n = [], 0

    def add(person, **kw):
        nonlocal n
        n += 1
        row = {"business_key": f"F{n:05d}", "id_number": person.id_number, "hospital_level": "level1", **kw}
        row.setdefault("medfee_sumamt", row.get("inscp_scp_amt"))
        rows.append({k: str(v) for k, v in row.items()})

    for people in persons.values():
        for i, p in enumerate(people):
            # three stays and two visits each, amounts varying by person, in date order
            add(
                p,
                med_type="21",
                start_date="2024-02-01",
                end_date="2024-02-08",
                hospital_level="level3",
                inscp_scp_amt=20000 + 137 * i,
            )
            add(p, med_type="11", start_date="2024-02-20", hospital_level="level2", inscp_scp_amt=80 + 11 * i)
            add(
                p,
                med_type="21",
                start_date="2024-04-01",
                end_date="2024-04-09",
                hospital_level="level3",
                inscp_scp_amt=90000 + 1001 * i,
            )
            add(p, med_type="11", start_date="2024-05-02", hospital_level="level2", inscp_scp_amt=1500 + 7 * i)
            add(
                p,
                med_type="21",
                start_date="2024-06-01",
                end_date="2024-06-03",
                hospital_level="level2",
                inscp_scp_amt=3000,
                medfee_sumamt=3500,
                fulamt_ownpay=500,
            )
    return rows


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for r in rows:
        writer.writerow(r)
    return out.getvalue().encode("utf-8-sig")


@pytest.fixture
def population(db):
    stat("hunan", "critical_illness_deductible", 15000)
    stat("ziyang", "large_amount_deductible", 40000)
    stat("ziyang", "annual_average_wage", 80000)
    persons = {j: [make_person(j) for _ in range(3)] for j in ("hunan", "langfang", "ziyang", "sanmenxia")}
    persons["hunan"].append(make_person("hunan", covered_from=date(2024, 5, 1)))  # refused until May
    persons["ziyang"].append(make_person("ziyang", category="retiree", birth=date(1950, 1, 1), covered_from=None))
    return persons


def _file(jurisdiction: str, rows, settings, tmp_path) -> SettlementFile:
    settings.MEDIA_ROOT = str(tmp_path)
    return SettlementFile.objects.create(
        jurisdiction=Jurisdiction.objects.get(code=jurisdiction),
        file=SimpleUploadedFile(f"{jurisdiction}.csv", _csv(rows)),
        original_name=f"{jurisdiction}.csv",
        as_of=date(2024, 7, 1),
    )


def _ledger() -> list[tuple]:
    """The claims' journal entries: key, memo, kind, date and legs (account by kind and owner, amount)."""
    legs = ("account__kind", "account__jurisdiction_id", "account__person_id", "amount")
    return sorted(
        (e.business_key, e.memo, e.kind, e.effective_on, sorted(e.postings.values_list(*legs)))
        for e in JournalEntry.objects.filter(business_key__startswith="claim:")
    )


def _adjustments() -> list[tuple]:
    """The accumulator changes: claim, accumulator (person, year), kind, deltas."""
    return sorted(
        (
            a.claim.business_key,
            a.accumulator.person_id,
            a.accumulator.year,
            a.kind,
            json.dumps(a.deltas, sort_keys=True),
        )
        for a in AccumulatorAdjustment.objects.select_related("claim", "accumulator")
    )


def _result(claim: Claim) -> tuple:
    return (claim.status, claim.refusal_reason, *(getattr(claim, f) for f in RESULT_FIELDS), claim.steps)


@pytest.mark.parametrize("jurisdiction", ["hunan", "langfang", "ziyang", "sanmenxia"])
def test_bulk_equals_one_at_a_time(population, jurisdiction, settings, tmp_path):
    rows = _rows({jurisdiction: population[jurisdiction]})
    sfile = _file(jurisdiction, rows, settings, tmp_path)
    from benefits.claims.imports import settlement_file_import

    assert settlement_file_import(sfile, today=sfile.as_of) == {"rows": len(rows), "imported": len(rows), "errors": 0}
    claims = list(Claim.objects.filter(settlement_file=sfile).order_by("person_id", "row_number"))

    one_by_one = {}
    try:
        with transaction.atomic():  # the copy: everything here is rolled back
            for claim in claims:
                c = claim_adjudicate(claim, as_of=sfile.as_of)
                one_by_one[c.row_number] = _result(c)
            accs_one = sorted(
                BenefitAccumulator.objects.values_list(
                    "person_id", "year", "inpatient_pool_paid", "layer_paid", "outpatient_pool_paid"
                )
            )
            entries_one = JournalEntry.objects.filter(business_key__startswith="claim:").count()
            ledger_one, adjustments_one = _ledger(), _adjustments()
            raise _Rollback
    except _Rollback:
        pass
    assert not BenefitAccumulator.objects.exists() and Claim.objects.filter(status="draft").count() == len(rows)

    run = run_in_process(JOB, as_of=sfile.as_of, jurisdiction=jurisdiction, params={"file_id": sfile.pk}, chunk_size=2)
    assert run.status == "done" and run.chunk_count > 1
    bulk = {c.row_number: _result(c) for c in Claim.objects.filter(settlement_file=sfile)}
    assert bulk == one_by_one
    assert (
        sorted(
            BenefitAccumulator.objects.values_list(
                "person_id", "year", "inpatient_pool_paid", "layer_paid", "outpatient_pool_paid"
            )
        )
        == accs_one
    )
    assert JournalEntry.objects.filter(business_key__startswith="claim:").count() == entries_one
    assert _ledger() == ledger_one and _adjustments() == adjustments_one  # memos, legs, accumulator changes
    assert (
        Claim.objects.filter(settlement_file=sfile, status=ClaimStatus.ADJUDICATED)
        .exclude(fund_pay_sumamt=0)
        .filter(journal_entry__isnull=True)
        .count()
        == 0
    )
    sfile.refresh_from_db()
    assert sfile.status == "done" and sfile.counts.get("adjudicated", 0) >= 1

    # A second run changes nothing (idempotent).
    again = run_in_process(
        JOB, as_of=sfile.as_of, jurisdiction=jurisdiction, params={"file_id": sfile.pk}, chunk_size=2
    )
    assert again.counts == {}
    assert JournalEntry.objects.filter(business_key__startswith="claim:").count() == entries_one


def test_file_task_with_row_errors(population, settings, tmp_path):
    rows = _rows({"hunan": population["hunan"][:1]})
    rows.append({**rows[0], "business_key": "F-bad", "med_type": "99"})
    rows.append({**rows[0], "business_key": "F-nobody", "id_number": "11010519491231002X"})
    rows.append({**rows[0]})  # duplicate business key
    sfile = _file("hunan", rows, settings, tmp_path)
    settlement_file_process.delay(file_id=sfile.pk)  # eager without a broker
    sfile.refresh_from_db()
    # all or nothing: the errors are listed by row and field, nothing is written, the upload is deleted
    assert sfile.status == "failed" and sfile.imported_rows == 0 and sfile.error_rows == 3
    assert {(e["row"], e["field"]) for e in sfile.errors} == {(7, "med_type"), (8, "id_number"), (9, "business_key")}
    assert not Claim.objects.exists() and sfile.run is None and not sfile.file
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]

    sfile = _file("hunan", rows[:5], settings, tmp_path)  # the file put right
    settlement_file_process.delay(file_id=sfile.pk)
    sfile.refresh_from_db()
    assert sfile.status == "done" and sfile.imported_rows == 5 and sfile.error_rows == 0
    assert sfile.run.chunks_done == sfile.run.chunk_count
    first = Claim.objects.get(business_key="F00001")
    # hunan 三级 1100, 85%: (20000−1100)×85% = 16065
    assert (first.act_pay_dedc, first.hifp_pay) == (D(1100), D(16065))


def test_parse_row_names_the_field():
    from benefits.claims.imports import RowError

    with pytest.raises(RowError) as e:
        parse_row(
            {
                "business_key": "x",
                "id_number": "y",
                "med_type": "21",
                "start_date": "2024-13-01",
                "hospital_level": "level1",
                "medfee_sumamt": "1",
                "inscp_scp_amt": "1",
            }
        )
    assert e.value.field == "start_date"


# --- item lines (费用明细) in settlement files -------------------------------------------------------------

from benefits.claims.imports import ITEM_COLUMNS, settlement_file_import  # noqa: E402
from benefits.claims.models import ClaimItem  # noqa: E402
from tests.test_claims import make_claim  # noqa: E402

# ziyang 第十二条(一)(二): 乙类药 1000 → 10% 先行自付 100; 诊疗项目单价 2000 (30%) → 600; 材料 70000 → 10000 自费,
# 60000×50% = 30000 先行自付; 二级普通床位 30元×10日 → 标准 20: 200 纳入, 100 自费; 甲类 3000.
# 总额 76300; 全自费 10100; 先行自付 30700; 政策范围 35500. 二级乙等 400, 85%: (35500−400)×85% = 29835.
LINES = [
    ("class_b_drug", "乙类药", "10", "100", "", ""),
    ("part_paid_item", "CT", "1", "2000", "", ""),
    ("material", "支架", "1", "70000", "", ""),
    ("bed_fee", "床位", "10", "30", "", "general"),
    ("category_a", "甲类", "1", "3000", "", ""),
]


def _item_rows(key: str, lines=LINES) -> list[dict[str, str]]:
    return [
        {
            "business_key": key,
            "item_kind": k,
            "item_name": n,
            "quantity": q,
            "unit_price": p,
            "price_limit": lim,
            "bed_type": b,
        }
        for k, n, q, p, lim, b in lines
    ]


def _csv_with_items(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*COLUMNS, *ITEM_COLUMNS])
    writer.writeheader()
    for r in rows:
        writer.writerow(r)
    return out.getvalue().encode("utf-8-sig")


def _item_file(rows, settings, tmp_path) -> SettlementFile:
    settings.MEDIA_ROOT = str(tmp_path)
    return SettlementFile.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="ziyang"),
        file=SimpleUploadedFile("ziyang-items.csv", _csv_with_items(rows)),
        original_name="ziyang-items.csv",
        as_of=date(2024, 7, 1),
    )


def _claim_row(key: str, person, **kw) -> dict[str, str]:
    row = {
        "business_key": key,
        "id_number": person.id_number,
        "med_type": "21",
        "start_date": "2024-03-01",
        "end_date": "2024-03-10",
        "hospital_level": "level2b",
        **kw,
    }
    return {k: str(v) for k, v in row.items()}


def test_items_in_a_file_settle_like_the_admin_and_one_at_a_time(population, settings, tmp_path):
    people = population["ziyang"][:3]
    rows = []
    for i, p in enumerate(people):
        rows.append(_claim_row(f"I{i}a", p, medfee_sumamt="76300" if i == 0 else ""))
        rows += _item_rows(f"I{i}a")
        rows.append(
            _claim_row(
                f"I{i}b", p, start_date="2024-04-01", end_date="2024-04-05", inscp_scp_amt="9000", medfee_sumamt="9000"
            )
        )
        rows.append(_claim_row(f"I{i}c", p, start_date="2024-05-01", end_date="2024-05-05", hospital_level="level3a"))
        rows += _item_rows(f"I{i}c", [*LINES[:2], ("material", "限价材料", "2", "800", "600", "")])
    sfile = _item_file(rows, settings, tmp_path)
    assert settlement_file_import(sfile, today=sfile.as_of) == {"rows": len(rows), "imported": 9, "errors": 0}
    assert ClaimItem.objects.filter(claim__settlement_file=sfile).count() == 3 * (5 + 3)
    claims = list(Claim.objects.filter(settlement_file=sfile).order_by("person_id", "row_number"))

    one_by_one, admin = {}, {}
    try:
        with transaction.atomic():
            for claim in claims:
                c = claim_adjudicate(claim, as_of=sfile.as_of)
                one_by_one[c.business_key] = _result(c)
            first = Claim.objects.get(business_key="I0a")
            assert (first.medfee_sumamt, first.fulamt_ownpay, first.preselfpay, first.inscp_scp_amt) == (
                D(76300),
                D(10100),
                D(30700),
                D(35500),
            )
            assert (first.act_pay_dedc, first.hifp_pay) == (D(400), D(29835))
            raise _Rollback
    except _Rollback:
        pass
    try:
        with transaction.atomic():  # the same claims entered in the admin: lines as ClaimItem rows
            for claim in claims:
                entered = make_claim(
                    claim.person,
                    "ziyang",
                    med_type=claim.med_type,
                    start_date=claim.start_date,
                    end_date=claim.end_date,
                    hospital_level=claim.hospital_level,
                    medfee_sumamt=claim.medfee_sumamt,
                    inscp_scp_amt=claim.inscp_scp_amt,
                )
                for item in claim.items.all():
                    ClaimItem.objects.create(claim=entered, **{k: v for k, v in item.as_row().items()})
                admin[claim.business_key] = _result(claim_adjudicate(entered, as_of=sfile.as_of))
            raise _Rollback
    except _Rollback:
        pass

    run = run_in_process(JOB, as_of=sfile.as_of, jurisdiction="ziyang", params={"file_id": sfile.pk}, chunk_size=2)
    assert run.status == "done"
    bulk = {c.business_key: _result(c) for c in Claim.objects.filter(settlement_file=sfile)}
    assert bulk == one_by_one == admin
    assert Claim.objects.get(business_key="I1a").inscp_scp_amt == D(35500)


def test_item_line_errors_by_row_and_field(population, settings, tmp_path):
    p = population["ziyang"][0]
    rows = [
        {"business_key": "X0", "item_kind": "class_b_drug", "unit_price": "1"},  # row 2: no claim before it
        _claim_row("X1", p),  # row 3
        *_item_rows("X1", [("class_b_drug", "药", "1", "100", "", ""), ("drug", "?", "1", "5", "", "")]),  # 4, 5
        _claim_row("X2", p, medfee_sumamt="999"),  # row 6: total differs from its lines
        *_item_rows("X2", LINES[:1]),  # row 7
        _claim_row("X3", p),  # row 8: no lines, no amounts
        _claim_row("X4", p),  # row 9
        *_item_rows("X4", [("bed_fee", "床", "2", "15", "", "vip"), ("material", "m", "-1", "5", "", "")]),  # 10, 11
        _claim_row("X5", p, start_date="2024-06-01", end_date="2024-06-02"),  # row 12: good
        *_item_rows("X5", [("category_a", "甲", "1", "500", "", "")]),  # row 13
        {**_item_rows("X9", LINES[:1])[0]},  # row 14: lines of another claim after X5
    ]
    sfile = _item_file(rows, settings, tmp_path)
    counts = settlement_file_import(sfile, today=sfile.as_of)
    sfile.refresh_from_db()
    got = {(e["row"], e["field"]) for e in sfile.errors}
    assert got == {
        (2, "business_key"),
        (5, "item_kind"),
        (3, "item_kind"),
        (6, "medfee_sumamt"),
        (8, "medfee_sumamt"),
        (10, "bed_type"),
        (11, "quantity"),
        (9, "item_kind"),
        (14, "business_key"),
    }
    # all or nothing: X5 is good, but the file has errors, so nothing of it is written
    assert counts == {"rows": 13, "imported": 0, "errors": 9}
    assert not Claim.objects.exists() and not ClaimItem.objects.exists()

    good = _item_file(rows[10:12], settings, tmp_path)  # X5 and its line alone
    assert settlement_file_import(good, today=good.as_of) == {"rows": 2, "imported": 1, "errors": 0}
    assert list(Claim.objects.filter(settlement_file=good).values_list("business_key", flat=True)) == ["X5"]
    assert ClaimItem.objects.filter(claim__settlement_file=good).count() == 1
    # Importing again changes nothing (rows already read are skipped).
    assert settlement_file_import(good, today=good.as_of)["imported"] == 0
    assert ClaimItem.objects.filter(claim__settlement_file=good).count() == 1


def test_import_is_one_transaction(population, settings, tmp_path, monkeypatch):
    p = population["ziyang"][0]
    rows = [_claim_row("T1", p), *_item_rows("T1")]
    sfile = _item_file(rows, settings, tmp_path)

    from benefits.claims import imports

    real = imports.insert_dicts

    def boom(model, rows):
        if model is ClaimItem:  # the claims are written, then the lines fail
            raise RuntimeError("disk full")
        return real(model, rows)

    monkeypatch.setattr(imports, "insert_dicts", boom)
    with pytest.raises(RuntimeError):
        settlement_file_import(sfile, today=sfile.as_of)
    assert not Claim.objects.filter(settlement_file=sfile).exists()


def test_xlsx_file_with_item_lines(population, settings, tmp_path):
    from openpyxl import Workbook

    p = population["ziyang"][0]
    rows = [_claim_row("W1", p), *_item_rows("W1")]
    columns = [*COLUMNS, *ITEM_COLUMNS]
    wb = Workbook()
    ws = wb.active
    ws.append(columns)
    for r in rows:
        ws.append([r.get(c, "") or None for c in columns])
    buf = io.BytesIO()
    wb.save(buf)
    settings.MEDIA_ROOT = str(tmp_path)
    sfile = SettlementFile.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="ziyang"),
        file=SimpleUploadedFile("ziyang.xlsx", buf.getvalue()),
        original_name="ziyang.xlsx",
        as_of=date(2024, 7, 1),
    )
    assert settlement_file_import(sfile, today=sfile.as_of) == {"rows": 6, "imported": 1, "errors": 0}
    claim = claim_adjudicate(Claim.objects.get(business_key="W1"), as_of=sfile.as_of)
    # the same lines as above: 政策范围 35500; 二级乙等 400, 85%: 29835
    assert (claim.medfee_sumamt, claim.inscp_scp_amt, claim.hifp_pay) == (D(76300), D(35500), D(29835))


def test_bulk_equals_one_at_a_time_across_medical_types(db, settings, tmp_path):
    """Cross-year stays, outpatient pooling, 门诊慢特病, maternity (incl. a male employee's spouse and a fiscal-funded
    employer's staff), the commercial supplement and a counted-as-inpatient visit: a file settles like one at a time."""
    stat("ziyang", "large_amount_deductible", 40000)
    stat("ziyang", "annual_average_wage", 80000)
    women = [make_person("ziyang", male=False, birth=date(1992, 4, 4)) for _ in range(2)]
    fiscal = make_person("ziyang", male=False, birth=date(1990, 1, 1), employer_kind="fiscal_institution")
    man = make_person("ziyang", male=True)
    rows, n = [], 0

    def add(person, **kw):
        nonlocal n
        n += 1
        row = {"business_key": f"M{n:05d}", "id_number": person.id_number, "hospital_level": "level2a", **kw}
        row.setdefault("medfee_sumamt", row.get("inscp_scp_amt"))
        rows.append({k: str(v) for k, v in row.items()})

    for i, p in enumerate([*women, fiscal, man]):
        add(
            p,
            med_type="21",
            start_date="2023-12-20",
            end_date="2024-01-06",
            inscp_scp_amt=60000 + 100 * i,
            first_year_amount=25000,
            supplementary_insured="1",
        )
        add(p, med_type="11", start_date="2024-01-20", inscp_scp_amt=700 + 10 * i)
        add(p, med_type="14", start_date="2024-02-01", inscp_scp_amt=5000, disease_classes="2")
        add(
            p,
            med_type="11",
            start_date="2024-02-10",
            inscp_scp_amt=8600,
            counted_as_inpatient="rescue_death_outpatient",
        )
        add(
            p,
            med_type="52",
            start_date="2024-03-01",
            end_date="2024-03-05",
            maternity_event="natural",
            continuous_months=24,
            employer_average_monthly_wage=6000,
            inscp_scp_amt=3000,
        )
    sfile = _file("ziyang", rows, settings, tmp_path)
    from benefits.claims.imports import settlement_file_import

    assert settlement_file_import(sfile, today=sfile.as_of) == {"rows": len(rows), "imported": len(rows), "errors": 0}
    claims = list(Claim.objects.filter(settlement_file=sfile).order_by("person_id", "row_number"))
    one_by_one = {}
    fields = ("person_id", "year", "inpatient_pool_paid", "inpatient_deductibles", "outpatient_pool_paid")
    fields += ("special_disease_pool_paid", "maternity_paid", "layer_paid", "supplementary_paid", "claims_count")
    try:
        with transaction.atomic():
            for claim in claims:
                c = claim_adjudicate(claim, as_of=sfile.as_of)
                one_by_one[c.business_key] = _result(c)
            accs_one = sorted(BenefitAccumulator.objects.values_list(*fields))
            entries_one = JournalEntry.objects.filter(business_key__startswith="claim:").count()
            ledger_one, adjustments_one = _ledger(), _adjustments()
            raise _Rollback
    except _Rollback:
        pass
    run = run_in_process(JOB, as_of=sfile.as_of, jurisdiction="ziyang", params={"file_id": sfile.pk}, chunk_size=1)
    assert run.status == "done" and run.chunk_count > 1
    bulk = {c.business_key: _result(c) for c in Claim.objects.filter(settlement_file=sfile)}
    assert bulk == one_by_one
    assert sorted(BenefitAccumulator.objects.values_list(*fields)) == accs_one
    assert {y for _, y, *_ in accs_one} == {2023, 2024}  # the cross-year stays were split by year
    assert JournalEntry.objects.filter(business_key__startswith="claim:").count() == entries_one
    assert _ledger() == ledger_one and _adjustments() == adjustments_one
    by_person = {c.business_key: c for c in Claim.objects.filter(settlement_file=sfile, med_type="52")}
    statuses = {c.person_id: (c.status, c.maternity_allowance, c.hifp_pay) for c in by_person.values()}
    assert statuses[fiscal.pk][1] == 0 and statuses[women[0].pk][1] > 0
    assert statuses[man.pk][2] == D(1750)  # 3500 × 50%
    assert all(s == ClaimStatus.ADJUDICATED for s, *_ in statuses.values())


def test_dense_chunk_reads_persons_by_range_as_by_list(population, monkeypatch):
    # the bulk run reads a chunk's persons by id range when they are dense (issue #13): the contexts must be the
    # same as read by the list of ids, and a person inside the range but not asked for must not appear
    from benefits.claims import selectors

    ids = sorted(p.pk for people in population.values() for p in people)
    asked = [pid for i, pid in enumerate(ids) if i % 3 != 1]  # gaps: the range covers persons not asked for
    by_list = selectors.person_contexts(asked, as_of=date(2024, 7, 1))
    assert selectors._persons_q(sorted(asked)).children[0][0] == "person_id__in"
    monkeypatch.setattr(selectors, "RANGE_FROM", 2)
    assert selectors._persons_q(sorted(asked)).children[0][0] == "person_id__gte"
    by_range = selectors.person_contexts(asked, as_of=date(2024, 7, 1))
    assert set(by_range) == set(asked) and by_range == by_list
    assert all(ctx.spans and ctx.timeline_known for ctx in by_range.values())


def test_bulk_equals_one_at_a_time_with_persons_read_by_range(population, settings, tmp_path, monkeypatch):
    from benefits.claims import selectors
    from benefits.claims.imports import settlement_file_import

    monkeypatch.setattr(selectors, "RANGE_FROM", 2)
    people = population["hunan"]
    rows = _rows({"hunan": [people[0], people[2], people[3]]})  # people[1] is inside the range, not in the file
    sfile = _file("hunan", rows, settings, tmp_path)
    assert settlement_file_import(sfile, today=sfile.as_of)["imported"] == len(rows)
    claims = list(Claim.objects.filter(settlement_file=sfile).order_by("person_id", "row_number"))
    one_by_one = {}
    try:
        with transaction.atomic():
            for claim in claims:
                one_by_one[claim.row_number] = _result(claim_adjudicate(claim, as_of=sfile.as_of))
            raise _Rollback
    except _Rollback:
        pass
    run = run_in_process(JOB, as_of=sfile.as_of, jurisdiction="hunan", params={"file_id": sfile.pk})
    assert run.status == "done"
    assert {c.row_number: _result(c) for c in Claim.objects.filter(settlement_file=sfile)} == one_by_one
    assert set(one_by_one) and {r[0] for r in one_by_one.values()} >= {"adjudicated"}
    linked = Claim.objects.filter(settlement_file=sfile, status=ClaimStatus.ADJUDICATED).exclude(fund_pay_sumamt=0)
    assert linked.exists() and not linked.filter(journal_entry__isnull=True).exists()
    for claim in linked.select_related("journal_entry"):
        assert claim.journal_entry.business_key == f"claim:{claim.business_key}"


def test_bulk_links_a_claim_to_its_entry_posted_before(population, settings, tmp_path):
    # an entry whose key was posted before (a run that stopped after posting) is not posted again: the claim is
    # linked to the existing entry, read back by its key (the new entries' ids come from the posting itself)
    from django.utils import timezone

    from benefits.claims.imports import settlement_file_import
    from funds.ledger_sql import post_entries_bulk
    from funds.models import AccountKind, EntryKind
    from funds.posting import fund_account

    rows = _rows({"hunan": population["hunan"][:1]})
    sfile = _file("hunan", rows, settings, tmp_path)
    assert settlement_file_import(sfile, today=sfile.as_of)["imported"] == len(rows)
    first = Claim.objects.filter(settlement_file=sfile).order_by("row_number").first()
    pool, bank = fund_account("hunan", AccountKind.POOLED), fund_account("hunan", AccountKind.BANK)
    posted: dict[str, int] = {}
    post_entries_bulk(
        [
            {
                "business_key": f"claim:{first.business_key}",
                "kind": EntryKind.BENEFIT_PAYMENT,
                "jurisdiction_id": pool.jurisdiction_id,
                "person_id": first.person_id,
                "effective_on": sfile.as_of,
                "memo": "posted before",
                "legs": [(pool.pk, D("-1.00")), (bank.pk, D("1.00"))],
            }
        ],
        recorded_at=timezone.now(),
        before_balances=posted.update,
    )
    before = posted[f"claim:{first.business_key}"]
    run = run_in_process(JOB, as_of=sfile.as_of, jurisdiction="hunan", params={"file_id": sfile.pk})
    assert run.status == "done"
    first.refresh_from_db()
    assert first.status == ClaimStatus.ADJUDICATED and first.fund_pay_sumamt > 0
    assert first.journal_entry_id == before
    assert JournalEntry.objects.filter(business_key=f"claim:{first.business_key}").count() == 1
    others = Claim.objects.filter(settlement_file=sfile, status=ClaimStatus.ADJUDICATED).exclude(pk=first.pk)
    assert all(c.journal_entry.business_key == f"claim:{c.business_key}" for c in others.exclude(fund_pay_sumamt=0))


def test_chunk_claims_read_without_init_are_the_orms(population, settings, tmp_path):
    """batch.bulk.load_instances (the chunk's read): every field as ``list(queryset)`` gives it, saved state."""
    from batch.bulk import load_instances
    from benefits.claims.imports import settlement_file_import

    rows = _rows({"ziyang": population["ziyang"]})
    sfile = _file("ziyang", rows, settings, tmp_path)
    settlement_file_import(sfile, today=sfile.as_of)
    qs = Claim.objects.filter(settlement_file=sfile).order_by("person_id", "row_number", "id")
    fast, orm = load_instances(qs), list(qs)
    assert len(fast) == len(orm) > 1
    names = [f.attname for f in Claim._meta.concrete_fields]
    for a, b in zip(fast, orm, strict=True):
        assert [getattr(a, n) for n in names] == [getattr(b, n) for n in names]
        assert (a._state.adding, a._state.db, a.get_deferred_fields()) == (False, "default", set())
        assert a.person == b.person and a.steps == b.steps == []
    assert load_instances(qs.only("id"))[0].get_deferred_fields()  # only/defer: the ordinary read
