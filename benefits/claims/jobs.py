"""Batch step: adjudicate a settlement file's draft claims for the persons of one chunk.

The claims of the chunk are read at once (ordered by person, then file row), with
the persons' spans and timelines, the years' accumulators and the personal-account
balances; each claim goes through the same :func:`~benefits.claims.services.evaluate`
as one claim on the screen, with the accumulators and balances moved forward in
memory; then the chunk writes set-wise (:mod:`batch.bulk`: COPY into a
temporary table on PostgreSQL): claims (one UPDATE … FROM), accumulators (one
INSERT … ON CONFLICT DO UPDATE), their adjustment rows (one COPY), and one journal entry per
paying claim through fundsC's :func:`funds.ledger_sql.post_entries_bulk` (business key
``claim:<业务流水号>``; a key already posted is skipped). Idempotent: only draft claims
are taken, so a second run finds nothing to do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from batch.bulk import gc_paused, insert_dicts, insert_objects, load_instances, update_rows, upsert_rows
from batch.history import history_record
from batch.models import BatchRun
from batch.runs import ChunkContext, batch_job
from benefits.institutions.selectors import registers_of
from benefits.registers.selectors import register_facts
from enrollment.selectors import person_id_bounds
from funds.ledger_sql import post_entries_bulk
from funds.models import AccountKind, EntryKind, FundAccount, JournalEntry
from funds.posting import fund_account
from policy.calculations import InputError
from policy.models import Jurisdiction
from policy.resolver import PolicyError

from .models import (
    ACCUMULATOR_AMOUNTS,
    ACCUMULATOR_COUNTS,
    EXTRA_RESULT_FIELDS,
    RESULT_FIELDS,
    AccumulatorAdjustment,
    AdjustmentKind,
    BenefitAccumulator,
    Claim,
    ClaimItem,
    ClaimStatus,
    EmployerLiabilityBill,
    MedType,
    SettlementFile,
    SettlementFileStatus,
)
from .selectors import accumulators_of, balances_of, draft_person_ranges, interruption_of, person_contexts
from .services import (
    LAYER_ACCOUNT,
    ClaimError,
    apply_decision,
    claim_facts,
    evaluate,
    fund_kinds,
    ledger_amounts,
    liability_bill,
    memo_prefix,
    transfer_source,
)

JOB = "claims.settle_file"
#: 医疗类别 labels for the entries' memos (``get_med_type_display`` per claim hashes the choices each time).
MED_TYPE_LABELS = {value: str(label) for value, label in MedType.choices}
CLAIM_FIELDS = [
    *RESULT_FIELDS,
    *EXTRA_RESULT_FIELDS,
    "status",
    "refusal_reason",
    "cost_payer",
    "employer_liability",
    "liable_employer",
    "error",
    "steps",
    "effects",
    "medfee_sumamt",
    "fulamt_ownpay",
    "preselfpay",
    "inscp_scp_amt",
    "adjudicated_on",
    "adjudicated_at",
    "adjudicated_by",
    "run",
    "journal_entry",
]


def _finish(run: BatchRun) -> None:
    """All chunks done: the file's status, counts and time."""
    file_id = run.params.get("file_id")
    sfile = SettlementFile.objects.filter(pk=file_id).first()
    if sfile is None:
        return
    sfile.status = SettlementFileStatus.DONE
    sfile.counts = run.counts
    sfile.finished_at = timezone.now()
    if run.started_at:
        sfile.seconds = (sfile.finished_at - sfile.created_at).total_seconds()
    sfile.save(update_fields=["status", "counts", "finished_at", "seconds"])


def _ranges(params: dict, chunk_size: int | None) -> list[tuple[int, int]] | None:
    """The file's chunks: person-id ranges of about ``CLAIMS_CHUNK_CLAIMS`` draft claims each (a dense file
    would otherwise make a few huge chunks of fixed id ranges); a run asked for a ``chunk_size`` gets fixed ranges
    of that many person ids. A file without draft claims: one chunk (the run still finishes and closes the file)."""
    if chunk_size:
        return None
    return draft_person_ranges(params["file_id"], settings.CLAIMS_CHUNK_CLAIMS) or [(0, 1)]


@batch_job(JOB, ids=person_id_bounds, label="结算文件审核结算", finish=_finish, ranges=_ranges)
def settle_file_chunk(ctx: ChunkContext) -> dict[str, int]:
    with gc_paused():  # thousands of claims, their facts and steps: no heap walks while they are made
        return _settle_file_chunk(ctx)


def _settle_file_chunk(ctx: ChunkContext) -> dict[str, int]:
    file_id = ctx.params["file_id"]
    claims = load_instances(
        Claim.objects.filter(
            settlement_file_id=file_id, status=ClaimStatus.DRAFT, person_id__gte=ctx.lo, person_id__lt=ctx.hi
        ).order_by("person_id", "row_number", "id")
    )
    if not claims:
        return {}
    jurisdictions = {j.pk: j for j in Jurisdiction.objects.filter(pk__in={c.jurisdiction_id for c in claims})}
    for c in claims:
        c.jurisdiction = jurisdictions[c.jurisdiction_id]
    return settle_claims(claims, as_of=ctx.as_of, run_id=ctx.run.pk, user_id=ctx.user_id)


def settle_claims(
    claims: list[Claim], *, as_of, run_id: int | None = None, user_id: int | None = None
) -> dict[str, int]:
    """Adjudicate these draft claims (ordered by person, then row) set-wise; returns counts by outcome."""
    counts: dict[str, int] = defaultdict(int)
    person_ids = {c.person_id for c in claims}
    contexts = person_contexts(person_ids, as_of=as_of)
    keys = {
        (c.person_id, c.jurisdiction_id, y)
        for c in claims
        for y in {c.start_date.year, (c.end_date or c.start_date).year}
    }
    accs = accumulators_of(keys)
    balances = balances_of({(c.person_id, c.jurisdiction_id) for c in claims}, lock=True)
    earlier = _transfer_sources(claims)
    lines = items_of([c.pk for c in claims])
    person_registers = register_facts({(c.person_id, c.jurisdiction_id) for c in claims})  # 就医登记
    institutions = registers_of(c.institution_id for c in claims if c.institution_id)  # 两定机构 on the date
    settled: list[tuple[Claim, object]] = []
    bills: list[EmployerLiabilityBill] = []
    user = _User(user_id)
    for claim in claims:
        try:
            transfer = None
            if claim.transfer_from_id:
                transfer = earlier.get(claim.transfer_from_id)
                if transfer is None:
                    raise ClaimError("转院前的住院须为同一参保人已结算的申请")
            facts = claim_facts(
                claim,
                items=lines.get(claim.pk),
                transfer=transfer,
                registers=person_registers[(claim.person_id, claim.jurisdiction_id)],
                institution=institutions.get(claim.institution_id),
            )
            year_accs = {y: accs[(claim.person_id, claim.jurisdiction_id, y)] for y in facts.years}
            key = (claim.person_id, claim.jurisdiction_id)
            decision = evaluate(
                facts,
                contexts[claim.person_id],
                year_accs,
                balances[key],
                interruption=lambda c=claim, f=facts: interruption_of(
                    c.person_id, c.jurisdiction_id, day=f.start, as_of=as_of
                ),
            )
        except (PolicyError, InputError, ClaimError) as exc:
            if claim.error != str(exc):
                claim.error = str(exc)
                counts["errors_recorded"] += 1
            counts["errors"] += 1
            continue
        apply_decision(claim, decision, as_of=as_of, user=user, run_id=run_id)
        bill = liability_bill(claim, decision, as_of=as_of)  # 费用承担 (hunan 第二十条, langfang 第二十三条)
        if bill is not None:
            bills.append(bill)
        counts[claim.status] += 1
        if claim.status != ClaimStatus.ADJUDICATED:
            continue
        for year, deltas in decision.effects.items():
            accs[(claim.person_id, claim.jurisdiction_id, int(year))].apply(deltas)
        balances[key] -= decision.breakdown["acct_pay"]
        earlier[claim.pk] = transfer_source(
            decision.extra.get("stay_deductible"), decision.breakdown["act_pay_dedc"], claim.hospital_level
        )
        settled.append((claim, decision))

    def write_rest() -> None:  # the claims linked to their entries; before the shared balance rows are locked
        _write_accumulators(settled, accs, run_id)
        _update_claims(claims)
        _insert_bills(bills)

    counts["entries"] = _post(settled, as_of=as_of, run_id=run_id, user_id=user_id, then=write_rest)
    counts["liability_bills"] = len(bills)
    return dict(counts)


def _insert_bills(bills: list[EmployerLiabilityBill]) -> None:
    """The chunk's 单位承担医疗费用通知单 in one INSERT, with their history rows."""
    if not bills:
        return
    insert_objects(EmployerLiabilityBill, bills)
    ids = ", ".join(str(int(b.claim_id)) for b in bills)
    history_record(EmployerLiabilityBill, f"claim_id IN ({ids})", [], when=timezone.now(), reason="结算文件审核")


def items_of(claim_ids: list[int]) -> dict[int, list[dict]]:
    """The item lines of these claims (claim id → rows in entry order), a few queries for a whole chunk."""
    out: dict[int, list[dict]] = defaultdict(list)
    for i in range(0, len(claim_ids), 5000):
        for row in (
            ClaimItem.objects.filter(claim_id__in=claim_ids[i : i + 5000])
            .order_by("claim_id", "id")
            .values("claim_id", "kind", "name", "quantity", "unit_price", "price_limit", "bed_type")
        ):
            out[row.pop("claim_id")].append(row)
    return out


def _update_claims(claims: list[Claim]) -> None:
    """Write the claims' results set-wise."""
    update_rows(Claim, claims, CLAIM_FIELDS)


class _User:
    def __init__(self, pk: int | None):
        self.pk = pk


def _transfer_sources(claims: list[Claim]) -> dict[int, tuple[Decimal, str]]:
    ids = {c.transfer_from_id for c in claims if c.transfer_from_id}
    return {
        pk: transfer_source(stay, ded, level)
        for pk, stay, ded, level in Claim.objects.filter(
            pk__in=ids, status__in=(ClaimStatus.ADJUDICATED, ClaimStatus.PAID)
        ).values_list("pk", "stay_deductible", "act_pay_dedc", "hospital_level")
    }


def _post(settled: list, *, as_of, run_id: int | None, user_id: int | None, then: Callable[[], None]) -> int:
    """One journal entry per paying claim, set-wise; links each claim to its entry, then calls ``then`` (the rest
    of the chunk's writes) before the ledger moves the fund-level balances that every chunk shares
    (:func:`~funds.ledger_sql.post_entries_bulk`: their rows stay locked until the commit)."""
    fund_ids: dict[tuple[int, str], int] = {}

    def fund(jur, kind: str) -> int:
        if (jur.pk, kind) not in fund_ids:
            fund_ids[(jur.pk, kind)] = fund_account(jur, kind).pk
        return fund_ids[(jur.pk, kind)]

    paying = [(c, d, ledger_amounts(d)) for c, d in settled]
    paying = [(c, d, a) for c, d, a in paying if a["total"]]
    personal = {
        (pid, jid): pk
        for pk, pid, jid in FundAccount.objects.filter(
            kind=AccountKind.PERSONAL, person_id__in={c.person_id for c, _, a in paying if a["acct"]}
        ).values_list("pk", "person_id", "jurisdiction_id")
    }
    specs = []
    for claim, decision, a in paying:
        jur = claim.jurisdiction
        pooled, bank = fund_kinds(decision)  # 险种 390: the resident fund's accounts
        legs = [(fund(jur, pooled), -a["pool"])]
        if a["layer"]:
            legs.append((fund(jur, LAYER_ACCOUNT[decision.layer_field]), -a["layer"]))
        if a["acct"]:
            legs.append((personal[(claim.person_id, jur.pk)], -a["acct"]))
        legs.append((fund(jur, bank), a["total"]))
        label = MED_TYPE_LABELS.get(claim.med_type, claim.med_type)
        specs.append(
            {
                "business_key": f"claim:{claim.business_key}",
                "kind": EntryKind.BENEFIT_PAYMENT,
                "jurisdiction_id": jur.pk,
                "person_id": claim.person_id,
                "effective_on": as_of,
                "memo": f"{memo_prefix(decision)} {claim.business_key} {label}",
                "legs": [(acc, amt) for acc, amt in legs if amt],
            }
        )
    if not specs:
        then()
        return 0

    def link(new: dict[str, int]) -> None:
        by_key = dict(new)  # the new entries; a key posted before (skipped) is read back
        posted_before = [s["business_key"] for s in specs if s["business_key"] not in by_key]
        if posted_before:
            by_key.update(JournalEntry.objects.filter(business_key__in=posted_before).values_list("business_key", "pk"))
        for claim, _, _ in paying:
            claim.journal_entry_id = by_key.get(f"claim:{claim.business_key}")
        then()

    result = post_entries_bulk(specs, recorded_at=timezone.now(), run_id=run_id, user_id=user_id, before_balances=link)
    return result["entries"]


def _write_accumulators(settled: list, accs: dict, run_id: int | None) -> None:
    """The touched accumulators (one upsert) and one adjustment row per claim and year (one insert)."""
    touched = sorted({(c.person_id, c.jurisdiction_id, int(y)) for c, d in settled for y in d.effects})
    if not touched:
        return
    fields = (*ACCUMULATOR_AMOUNTS, *ACCUMULATOR_COUNTS)
    now = timezone.now()
    upsert_rows(
        BenefitAccumulator,
        ["person_id", "jurisdiction_id", "year", *fields, "admissions_by_level", "updated_at"],
        [
            (
                *key,
                *(accs[key].values.get(f, 0) for f in fields),
                {k: v for k, v in accs[key].by_level.items() if v},
                now,
            )
            for key in touched
        ],
        conflict=("person", "jurisdiction", "year"),
    )
    ids = {
        (p, j, y): pk
        for pk, p, j, y in BenefitAccumulator.objects.filter(
            person_id__in={k[0] for k in touched}, year__in={k[2] for k in touched}
        ).values_list("id", "person_id", "jurisdiction_id", "year")
    }
    insert_dicts(  # rows straight from the effects, no model instance per row
        AccumulatorAdjustment,
        [
            {
                "accumulator_id": ids[(c.person_id, c.jurisdiction_id, int(y))],
                "claim_id": c.pk,
                "kind": AdjustmentKind.SETTLE,
                "deltas": deltas,
                "run_id": run_id,
            }
            for c, d in settled
            for y, deltas in d.effects.items()
        ],
    )
