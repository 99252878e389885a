"""Bulk settlement files: the same claims adjudicated one at a time and in a file give identical 2303 breakdowns."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from benefits.claims.imports import COLUMNS, parse_row
from benefits.claims.jobs import JOB
from benefits.claims.models import RESULT_FIELDS, BenefitAccumulator, Claim, ClaimStatus, SettlementFile
from benefits.claims.services import claim_adjudicate
from benefits.claims.tasks import settlement_file_process
from config.batch import run_in_process
from config.models import Jurisdiction
from funds.models import JournalEntry
from tests.test_claims import make_person, stat


class _Rollback(Exception):
    pass


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


def _result(claim: Claim) -> tuple:
    return (claim.status, claim.refusal_reason, *(getattr(claim, f) for f in RESULT_FIELDS), claim.steps)


@pytest.mark.parametrize("jurisdiction", ["hunan", "langfang", "ziyang", "sanmenxia"])
def test_bulk_equals_one_at_a_time(population, jurisdiction, settings, tmp_path):
    rows = _rows({jurisdiction: population[jurisdiction]})
    sfile = _file(jurisdiction, rows, settings, tmp_path)
    from benefits.claims.imports import settlement_file_import

    assert settlement_file_import(sfile) == {"rows": len(rows), "imported": len(rows), "errors": 0}
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
    assert sfile.status == "done" and sfile.imported_rows == 5 and sfile.error_rows == 3
    assert {(e["field"]) for e in sfile.errors} == {"med_type", "id_number", "business_key"}
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
