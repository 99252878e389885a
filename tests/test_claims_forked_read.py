"""A big settlement file is parsed in a forked child while the reading process checks and writes (issue #13):
the same claims, lines, errors and order as one process; a child's failure fails the read, nothing written."""

from __future__ import annotations

import os
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from batch import forked as forked_module
from batch.forked import ChildFailed, forked
from benefits.claims import imports
from benefits.claims.imports import settlement_file_import
from benefits.claims.models import Claim, ClaimItem, SettlementFile
from policy.models import Jurisdiction
from tests.test_claims import make_person
from tests.test_claims_bulk import LINES, _claim_row, _csv_with_items, _item_rows


class _Rollback(Exception):
    pass


@pytest.fixture
def people(db):
    return [make_person("ziyang") for _ in range(3)]


def _file(rows, settings, tmp_path, name="ziyang-big.csv") -> SettlementFile:
    settings.MEDIA_ROOT = str(tmp_path)
    return SettlementFile.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="ziyang"),
        file=SimpleUploadedFile(name, _csv_with_items(rows)),
        original_name=name,
        as_of=date(2024, 7, 1),
    )


def _good_rows(people) -> list[dict[str, str]]:
    """Claims with item lines, a transfer continuing a stay read a few rows before (read in an earlier batch
    with BATCH = 2), and plain claims."""
    a, b, c = people
    return [
        _claim_row("G1", a, start_date="2024-02-01", end_date="2024-02-08", hospital_level="level2"),
        *_item_rows("G1", LINES[:2]),
        _claim_row("G2", b, medfee_sumamt="900", inscp_scp_amt="900", med_type="11", end_date=""),
        _claim_row("G3", c, medfee_sumamt="5000", inscp_scp_amt="4500", fulamt_ownpay="500"),
        _claim_row(
            "G4",
            a,
            start_date="2024-02-08",
            end_date="2024-02-15",
            hospital_level="level3",
            medfee_sumamt="12000",
            inscp_scp_amt="12000",
            transfer_from="G1",
            continued_stay="transfer_upward",
        ),
        _claim_row("G5", b, start_date="2024-05-01", end_date="2024-05-04"),
        *_item_rows("G5", LINES[2:]),
        _claim_row("G6", c, medfee_sumamt="300", inscp_scp_amt="300", med_type="11", end_date=""),
    ]


def _written(sfile: SettlementFile) -> list[tuple]:
    skip = {"id", "settlement_file", "created_at", "updated_at", "transfer_from"}
    names = [f.attname for f in Claim._meta.concrete_fields if f.name not in skip]
    claims = []
    for claim in Claim.objects.filter(settlement_file=sfile).order_by("row_number"):
        lines = list(ClaimItem.objects.filter(claim=claim).order_by("id").values_list("kind", "name", "quantity"))
        earlier = claim.transfer_from.business_key if claim.transfer_from_id else None
        claims.append((claim.business_key, *(getattr(claim, n) for n in names), earlier, lines))
    return claims


def _read_both_ways(rows, settings, tmp_path, monkeypatch) -> tuple[tuple, tuple]:
    """The file read in one process (rolled back), then in two: (counts, errors, claims) of each."""
    monkeypatch.setattr(imports, "BATCH", 2)
    calls = []
    monkeypatch.setattr(imports, "forked", lambda produce: calls.append(1) or forked(produce))
    outcomes = []
    for threshold in (10**12, 0):
        monkeypatch.setattr(imports, "FORKED_READ_BYTES", threshold)
        sfile = _file(rows, settings, tmp_path)
        try:
            with transaction.atomic():
                counts = settlement_file_import(sfile, today=sfile.as_of)
                sfile.refresh_from_db()
                outcomes.append((counts, sfile.errors, _written(sfile)))
                raise _Rollback
        except _Rollback:
            pass
    assert calls == [1]  # the second read only went through the child
    return outcomes[0], outcomes[1]


def test_a_file_parsed_in_a_child_writes_what_one_process_writes(people, settings, tmp_path, monkeypatch):
    one, two = _read_both_ways(_good_rows(people), settings, tmp_path, monkeypatch)
    assert one[0] == {"rows": 11, "imported": 6, "errors": 0} and len(one[2]) == 6
    assert two == one
    # G4 continues G1's stay, found although G1 was written in an earlier batch
    assert [(c[0], c[-2]) for c in two[2] if c[-2]] == [("G4", "G1")]
    assert {c[0]: len(c[-1]) for c in two[2]} == {"G1": 2, "G2": 0, "G3": 0, "G4": 0, "G5": 3, "G6": 0}


def test_a_file_with_errors_lists_the_same_errors_in_the_same_order(people, settings, tmp_path, monkeypatch):
    a, b, _c = people
    rows = [
        *_good_rows(people),
        {"business_key": "X0", "item_kind": "class_b_drug", "unit_price": "1"},  # a line without its claim
        _claim_row("B1", a, med_type="99"),  # a parse error
        _claim_row("B2", b, id_number="11010519491231002X", medfee_sumamt="1", inscp_scp_amt="1"),  # nobody
        _claim_row("G2", b, medfee_sumamt="1", inscp_scp_amt="1"),  # a key used before (found when checked)
        _claim_row("B3", a),
        *_item_rows("B3", [("drug", "?", "1", "5", "", "")]),  # a bad line
        _claim_row("B4", a, transfer_from="NOPE", medfee_sumamt="1", inscp_scp_amt="1"),
    ]
    one, two = _read_both_ways(rows, settings, tmp_path, monkeypatch)
    assert one[0] == {"rows": 18, "imported": 0, "errors": 7} and one[2] == []
    # in the order one process finds them: parsing (13, 14); G6 and B2 checked as a batch (15); B3's line and
    # then B3 (18, 17); the G2 again checked when B4's transfer flushes the batch before it (16); B4 last (19)
    order = [(13, "business_key"), (14, "med_type"), (15, "id_number"), (18, "item_kind"), (17, "item_kind")]
    order += [(16, "business_key"), (19, "transfer_from")]
    assert [(e["row"], e["field"]) for e in one[1]] == order
    assert [(e["row"], e["field"]) for e in two[1]] == order
    assert two == one


def test_a_refused_file_is_refused_the_same_way(people, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path)
    refused = []
    for threshold in (10**12, 0):  # one process, then the child
        monkeypatch.setattr(imports, "FORKED_READ_BYTES", threshold)
        sfile = SettlementFile.objects.create(
            jurisdiction=Jurisdiction.objects.get(code="ziyang"),
            file=SimpleUploadedFile("bad.csv", b"name,amount\nx,1\n"),
            original_name="bad.csv",
            as_of=date(2024, 7, 1),
        )
        assert settlement_file_import(sfile, today=sfile.as_of) == {"rows": 0, "imported": 0, "errors": 1}
        sfile.refresh_from_db()
        refused.append(sfile.errors)
    assert refused[0] == refused[1]
    assert refused[1][0]["field"] == "file" and "缺少必填列" in refused[1][0]["message"]


def test_a_child_that_fails_fails_the_read_and_nothing_is_written(people, settings, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "FORKED_READ_BYTES", 0)
    monkeypatch.setattr(imports, "BATCH", 2)
    real = imports._parse

    def broken(raw, *args, **kwargs):
        if raw.get("business_key") == "G5":
            raise KeyError("disk gone")  # not a row error: the read fails
        return real(raw, *args, **kwargs)

    monkeypatch.setattr(imports, "_parse", broken)
    sfile = _file(_good_rows(people), settings, tmp_path)
    with pytest.raises(KeyError, match="disk gone"):
        settlement_file_import(sfile, today=sfile.as_of)
    assert not Claim.objects.filter(settlement_file=sfile).exists()  # the batches written before it went too


# --- the forked producer itself ---------------------------------------------------------------------------


def test_forked_yields_in_order_what_the_child_sends_from_its_own_process():
    def produce(send):
        for k in range(5):
            send((k, os.getpid()))

    got = list(forked(produce))
    assert [k for k, _pid in got] == [0, 1, 2, 3, 4]
    assert {pid for _k, pid in got} != {os.getpid()} and len({pid for _k, pid in got}) == 1


def test_forked_raises_the_childs_exception_after_what_it_sent():
    def produce(send):
        send("first")
        raise ValueError("bad row")

    got = []
    with pytest.raises(ValueError, match="bad row"):
        for item in forked(produce):
            got.append(item)
    assert got == ["first"]


class _Unpicklable(Exception):
    def __init__(self, a, b):  # pickling keeps only the message: rebuilt with one argument, it fails
        super().__init__(f"{a}/{b}")


def test_forked_hands_over_an_exception_that_does_not_pickle_as_text():
    def produce(send):
        raise _Unpicklable(1, 2)

    with pytest.raises(ChildFailed, match="_Unpicklable: 1/2"):
        list(forked(produce))


def test_forked_names_a_child_that_died_without_a_word():
    def produce(send):
        send(1)
        os._exit(7)

    with pytest.raises(ChildFailed, match="退出码 7"):
        list(forked(produce))


def test_a_consumer_that_stops_early_leaves_no_child_behind(monkeypatch):
    waited = []
    real_waitpid = os.waitpid
    monkeypatch.setattr(forked_module.os, "waitpid", lambda pid, flags: waited.append(pid) or real_waitpid(pid, flags))

    def produce(send):
        for k in range(100_000):  # far more than the pipe holds: the child is still sending
            send(k)

    items = forked(produce)
    assert next(items) == 0
    items.close()
    assert len(waited) == 1
    with pytest.raises(ChildProcessError):
        real_waitpid(waited[0], os.WNOHANG)  # reaped: no such child any more
