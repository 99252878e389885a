"""The simulation's batch step: one chunk of persons, figures under production and under the draft written
only to the simulation's own tables (:mod:`operations.models`). Idempotent: a chunk re-run replaces its rows."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from batch.runs import ChunkContext, batch_job
from enrollment.selectors import person_id_bounds
from policy.drafts import draft_overlay_of

from ..models import Simulation, SimulationLevelResult, SimulationPersonResult
from .engine import age_band, person_facts, simulate_chunk

JOB = "operations.simulation"


def simulation_codes(sim: Simulation) -> list[str]:
    """The jurisdictions simulated: the one chosen, else every jurisdiction the draft has values for."""
    if sim.jurisdiction_id:
        return [sim.jurisdiction.code]
    return sorted(set(sim.draft.values.values_list("jurisdiction__code", flat=True)))


@batch_job(JOB, ids=person_id_bounds, label="基金测算（政策草案）")
def simulation_step(ctx: ChunkContext) -> dict[str, int]:
    """Recompute the chunk's dues and claims of the period under both sides; write one row per person."""
    sim = Simulation.objects.select_related("draft", "jurisdiction").get(pk=ctx.params["simulation_id"])
    codes = simulation_codes(sim)
    figures = simulate_chunk(
        codes=codes,
        start=sim.period_start,
        end=sim.period_end,
        lo=ctx.lo,
        hi=ctx.hi,
        overlay=draft_overlay_of(sim.draft),
        areas=set(sim.areas),
    )
    SimulationPersonResult.objects.filter(simulation=sim, person_id__gte=ctx.lo, person_id__lt=ctx.hi).delete()
    SimulationLevelResult.objects.filter(simulation=sim, chunk_lo=ctx.lo).delete()
    births, categories = person_facts({pid for pid, _ in figures.persons}, ctx.lo, ctx.hi, sim.period_end)
    rows = []
    affected = 0
    for (pid, code), f in figures.persons.items():
        row = SimulationPersonResult(
            simulation=sim,
            person_id=pid,
            jurisdiction_code=code,
            category=categories.get((pid, code)) or f.category,
            age_band=age_band(births.get(pid), sim.period_start),
            income_base=f.income["base"],
            income_draft=f.income["draft"],
            account_base=f.account["base"],
            account_draft=f.account["draft"],
            spending_base=f.spending["base"],
            spending_draft=f.spending["draft"],
            claims=f.claims,
        )
        affected += any(
            f.income[s] != f.income["base"] or f.account[s] != f.account["base"] or f.spending[s] != f.spending["base"]
            for s in ("draft",)
        )
        rows.append(row)
    SimulationPersonResult.objects.bulk_create(rows, batch_size=5000)
    SimulationLevelResult.objects.bulk_create(
        SimulationLevelResult(
            simulation=sim,
            chunk_lo=ctx.lo,
            jurisdiction_code=code,
            hospital_level=level,
            claims=n,
            spending_base=Decimal(base),
            spending_draft=Decimal(draft),
        )
        for (code, level), (n, base, draft) in figures.levels.items()
    )
    counts: Counter = Counter({"persons": len(rows), "affected": affected})
    counts.update(figures.errors)
    return {k: int(v) for k, v in counts.items()}
