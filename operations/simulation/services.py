"""Starting a simulation (测算): checks, the fund figures it compares with, and the chunked run on Celery."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from batch.dates import months_between
from batch.runs import create_run
from batch.tasks import dispatch_chunk
from funds.health import monthly_series
from funds.models import AccountKind, FundAccount
from policy.drafts import areas_touched
from policy.models import DraftStatus, Jurisdiction, PolicyDraft

from ..models import Simulation
from .jobs import JOB, simulation_codes

#: 测算期间上限 (a product bound on one run's size, not policy): at most five years.
MAX_PERIOD_MONTHS = 60


def fund_figures(code: str, start: date, end: date) -> dict[str, str]:
    """The pooled fund's closing balance at the period's end and its spending over the period (read only)."""
    account = FundAccount.objects.filter(jurisdiction__code=code, kind=AccountKind.POOLED, person__isnull=True).first()
    if account is None:
        return {"balance": "0", "spending": "0"}
    series = [m for m in monthly_series(account, start=start, end=end) if start <= m.month < end]
    balance = series[-1].balance if series else Decimal(0)
    spending = sum((m.spending for m in series), Decimal(0))
    return {"balance": str(balance), "spending": str(spending)}


def simulation_check(draft: PolicyDraft, start: date, end: date) -> list[str]:
    """Why this simulation cannot be started (empty: it can)."""
    problems = []
    if draft.status != DraftStatus.DRAFT:
        problems.append(f"草案“{draft.name}”{draft.get_status_display()}：只能测算未发布的草案")
    if start.day != 1 or end.day != 1:
        problems.append("测算期间须从某月 1 日起、至某月 1 日止（不含）")
    elif not 0 < months_between(start, end) <= MAX_PERIOD_MONTHS:
        problems.append(f"测算期间须为 1 至 {MAX_PERIOD_MONTHS} 个月")
    if not draft.values.exists():
        problems.append("草案没有任何取值")
    elif not areas_touched(set(draft.values.values_list("key", flat=True))):
        problems.append("草案的参数不涉及缴费、个人账户或待遇，无可测算的数字")
    return problems


def simulation_create(
    draft: PolicyDraft,
    *,
    start: date,
    end: date,
    jurisdiction: Jurisdiction | None = None,
    user=None,
    chunk_size: int | None = None,
) -> Simulation:
    """Record the simulation and its run's chunks (not yet dispatched)."""
    problems = simulation_check(draft, start, end)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        sim = Simulation.objects.create(
            draft=draft,
            period_start=start,
            period_end=end,
            jurisdiction=jurisdiction,
            areas=sorted(areas_touched(set(draft.values.values_list("key", flat=True)))),
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        sim.fund_balances = {code: fund_figures(code, start, end) for code in simulation_codes(sim)}
        sim.run = create_run(
            JOB,
            as_of=start,
            jurisdiction=jurisdiction.code if jurisdiction else None,
            params={"simulation_id": sim.pk},
            user=user,
            chunk_size=chunk_size,
        )
        sim.save(update_fields=["fund_balances", "run"])
    return sim


def simulation_start(draft: PolicyDraft, **kwargs) -> Simulation:
    """Create the simulation and, once committed, dispatch one Celery task per chunk (in-process when no broker)."""
    sim = simulation_create(draft, **kwargs)
    chunk_ids = list(sim.run.chunks.values_list("id", flat=True))

    def dispatch() -> None:
        for chunk_id in chunk_ids:
            dispatch_chunk(chunk_id, sim.run.job)

    transaction.on_commit(dispatch)
    return sim
