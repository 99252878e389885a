"""Batch steps of the ledger (run through :mod:`batch.runs`, one chunk of person ids at a time)."""

from __future__ import annotations

from batch.runs import ChunkContext, batch_job
from enrollment.selectors import person_id_bounds

from .credits import credit_retirees, interest_rates, month_start, post_interest_chunk
from .receipts import post_unposted_contributions


@batch_job("funds.retiree_credits", ids=person_id_bounds, label="退休人员个人账户按月划入")
def retiree_credits(ctx: ChunkContext) -> dict[str, int]:
    """params: ``month`` (YYYY-MM). Credits every retiree of the chunk for the month; idempotent."""
    return credit_retirees(
        lo=ctx.lo,
        hi=ctx.hi,
        month=month_start(ctx.params["month"]),
        jurisdiction=ctx.jurisdiction,
        run_id=ctx.run.pk,
        user_id=ctx.user_id,
    )


@batch_job("funds.interest_post", ids=person_id_bounds, label="个人账户年度计息")
def interest_post(ctx: ChunkContext) -> dict[str, int]:
    """params: ``year``. Posts the year's interest on every personal account of the chunk; idempotent.

    The rate must be entered for each jurisdiction of the run (``PolicyMissing`` otherwise).
    """
    year = int(ctx.params["year"])
    return post_interest_chunk(
        lo=ctx.lo,
        hi=ctx.hi,
        year=year,
        rates=interest_rates(year, ctx.jurisdiction),
        run_id=ctx.run.pk,
        user_id=ctx.user_id,
    )


@batch_job("funds.contributions_post", ids=person_id_bounds, label="缴费到账记账")
def contributions_post(ctx: ChunkContext) -> dict[str, int]:
    """Posts every payment allocation of the chunk that has no entry yet (idempotent)."""

    return post_unposted_contributions(
        lo=ctx.lo, hi=ctx.hi, jurisdiction=ctx.jurisdiction, run_id=ctx.run.pk, user_id=ctx.user_id
    )
