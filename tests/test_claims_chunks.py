"""A settlement file's run is cut by its claims (issue #13): person-id ranges of about CLAIMS_CHUNK_CLAIMS draft
claims each, a person's claims never split, the results the same as with fixed ranges of person ids."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import pytest
from django.db import transaction

from batch.runs import create_run, run_in_process
from benefits.claims.imports import settlement_file_import
from benefits.claims.jobs import JOB
from benefits.claims.models import BenefitAccumulator, Claim, ClaimStatus
from benefits.claims.selectors import draft_person_ranges
from tests import test_claims_bulk
from tests.test_claims_bulk import _adjustments, _file, _ledger, _result, _rows

population = test_claims_bulk.population  # the fixture: 4 persons in hunan (one covered from May), …


class _Rollback(Exception):
    pass


def _imported(population, settings, tmp_path):
    rows = _rows({"hunan": population["hunan"]})  # 4 persons × 5 claims
    sfile = _file("hunan", rows, settings, tmp_path)
    assert settlement_file_import(sfile, today=sfile.as_of)["imported"] == len(rows)
    return sfile


def _drafts(sfile) -> Counter:
    return Counter(
        Claim.objects.filter(settlement_file=sfile, status=ClaimStatus.DRAFT).values_list("person_id", flat=True)
    )


@pytest.mark.parametrize("per_range", [1, 4, 5, 6, 11, 1000])
def test_ranges_hold_every_draft_claim_once_and_never_split_a_person(population, settings, tmp_path, per_range):
    sfile = _imported(population, settings, tmp_path)
    drafts = _drafts(sfile)  # 4 persons × 5 claims
    ranges = draft_person_ranges(sfile.pk, per_range)
    assert ranges == sorted(ranges) and all(lo < hi for lo, hi in ranges)
    assert all(a[1] <= b[0] for a, b in pairwise(ranges))  # disjoint
    held = [sum(n for pid, n in drafts.items() if lo <= pid < hi) for lo, hi in ranges]
    assert sum(held) == sum(drafts.values())  # every claim in exactly one range (disjoint, all covered)
    for lo, hi in ranges:  # each range starts and ends at a person of the file: ranges cut between persons
        assert lo in drafts and hi - 1 in drafts
    # a range is closed as soon as it holds per_range claims: all but the last hold at least that many, and
    # less than that plus one person's claims (5 here)
    assert all(per_range <= h < per_range + 5 for h in held[:-1]) and 0 < held[-1] < per_range + 5
    assert len(ranges) == -(-len(drafts) // max(1, -(-per_range // 5)))


def test_only_the_files_draft_claims_are_cut(population, settings, tmp_path):
    sfile = _imported(population, settings, tmp_path)
    drafts = _drafts(sfile)
    first = min(drafts)
    Claim.objects.filter(settlement_file=sfile, person_id=first).update(status=ClaimStatus.ADJUDICATED)
    ranges = draft_person_ranges(sfile.pk, 5)
    assert [lo for lo, _ in ranges] == sorted(drafts)[1:]
    assert draft_person_ranges(sfile.pk + 1, 5) == []  # another file


def test_the_run_is_cut_by_the_files_claims(population, settings, tmp_path):
    settings.CLAIMS_CHUNK_CLAIMS = 10
    sfile = _imported(population, settings, tmp_path)
    run = create_run(JOB, as_of=sfile.as_of, jurisdiction="hunan", params={"file_id": sfile.pk})
    assert list(run.chunks.order_by("number").values_list("lo", "hi")) == draft_person_ranges(sfile.pk, 10)
    assert run.chunk_count == 2  # 4 persons × 5 claims, 10 a chunk
    # an explicit chunk size keeps the fixed ranges of person ids
    fixed = create_run(JOB, as_of=sfile.as_of, jurisdiction="hunan", params={"file_id": sfile.pk}, chunk_size=1)
    assert fixed.chunk_count > 4 and all(c.hi - c.lo == 1 for c in fixed.chunks.all())


def test_a_file_without_draft_claims_is_one_chunk_and_closes(population, settings, tmp_path):
    sfile = _imported(population, settings, tmp_path)
    Claim.objects.filter(settlement_file=sfile).update(status=ClaimStatus.ADJUDICATED)
    run = run_in_process(JOB, as_of=sfile.as_of, jurisdiction="hunan", params={"file_id": sfile.pk})
    assert run.chunk_count == 1 and run.status == "done" and run.counts == {}
    sfile.refresh_from_db()
    assert sfile.status == "done"


@pytest.mark.parametrize("per_chunk", [1, 7, 10_000])
def test_claim_ranges_settle_as_fixed_person_ranges(population, settings, tmp_path, per_chunk):
    # the old cut (fixed ranges of person ids) and the new one (by the file's claims) give the same claims,
    # accumulators, adjustments and ledger
    settings.CLAIMS_CHUNK_CLAIMS = per_chunk
    sfile = _imported(population, settings, tmp_path)

    def outcome():
        return (
            {c.row_number: _result(c) for c in Claim.objects.filter(settlement_file=sfile)},
            sorted(BenefitAccumulator.objects.values_list("person_id", "year", "inpatient_pool_paid", "layer_paid")),
            _ledger(),
            _adjustments(),
        )

    try:
        with transaction.atomic():
            old = run_in_process(
                JOB, as_of=sfile.as_of, jurisdiction="hunan", params={"file_id": sfile.pk}, chunk_size=2
            )
            assert old.status == "done"
            before = outcome()
            raise _Rollback
    except _Rollback:
        pass
    assert not BenefitAccumulator.objects.exists()
    ranges = draft_person_ranges(sfile.pk, per_chunk)
    run = run_in_process(JOB, as_of=sfile.as_of, jurisdiction="hunan", params={"file_id": sfile.pk})
    assert run.status == "done" and run.chunk_count == len(ranges) == {1: 4, 7: 2, 10_000: 1}[per_chunk]
    after = outcome()
    assert after == before and after[0] and {r[0] for r in after[0].values()} >= {"adjudicated"}
    assert run.counts == old.counts


def test_the_read_and_a_chunk_run_with_the_cyclic_gc_paused(population, settings, tmp_path, monkeypatch):
    # a bulk step's many containers made the collector walk the heap again and again (10–20 % of the CPU); it is
    # paused for the read and each chunk and on again after (a caller that paused it itself keeps it paused)
    import gc

    from batch.bulk import gc_paused
    from benefits.claims import imports, jobs

    seen = []
    real_write, real_settle = imports._write, jobs.settle_claims
    monkeypatch.setattr(imports, "_write", lambda *a: (seen.append(("read", gc.isenabled())), real_write(*a))[1])
    monkeypatch.setattr(
        jobs, "settle_claims", lambda *a, **k: (seen.append(("chunk", gc.isenabled())), real_settle(*a, **k))[1]
    )
    assert gc.isenabled()
    sfile = _imported(population, settings, tmp_path)
    run = run_in_process(JOB, as_of=sfile.as_of, jurisdiction="hunan", params={"file_id": sfile.pk})
    assert run.status == "done" and gc.isenabled()
    assert ("read", False) in seen and ("chunk", False) in seen and all(not on for _, on in seen)
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ZeroDivisionError), gc_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_a_chunk_leaves_no_reference_cycle_holding_its_claims(population, settings, tmp_path, monkeypatch):
    # with the collector paused for a chunk, a reference cycle keeps everything the chunk read until the collector
    # runs again: ~0.2 s of every 5,000-claim chunk went to freeing it (issue #13). Django resolves the lookup
    # "facts__benefit_level" by catching a FieldError and keeping it (exception → traceback → frames → the callers'
    # locals); the timelines are read with KT instead. The run's claims must go as soon as their chunk is done.
    import gc
    import weakref

    from benefits.claims import jobs

    probes: list[weakref.ref] = []
    real_settle = jobs.settle_claims

    def settle(claims, **kwargs):  # the chunk's own claims, watched without a strong reference
        probes.extend(weakref.ref(c) for c in claims)
        return real_settle(claims, **kwargs)

    monkeypatch.setattr(jobs, "settle_claims", settle)
    sfile = _imported(population, settings, tmp_path)
    gc.collect()
    gc.disable()  # kept off through the run (gc_paused leaves a caller's pause alone): only reference counting frees
    try:
        run = run_in_process(JOB, as_of=sfile.as_of, jurisdiction="hunan", params={"file_id": sfile.pk})
        assert run.status == "done" and run.counts.get(ClaimStatus.ADJUDICATED)
        assert probes and [p for p in probes if p() is not None] == []
    finally:
        gc.enable()
