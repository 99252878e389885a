"""基金测算 (issue #18 items 5–6): a draft simulated on a generated population.

Honest by construction: the policy in force, entered as a draft, gives exactly zero difference on every
figure; a simulation changes no production row (every table's checksum before and after); a draft raising
hunan's inpatient deductible (第三十六条) and employer rate (第十一条) moves the figures as checked by hand.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.apps import apps
from django.db import connection

from batch.runs import chunk_execute
from contributions.models import ContributionBase, MonthlyDue
from devtools.simulation_world import build_world
from operations.models import Simulation, SimulationLevelResult, SimulationPersonResult
from operations.simulation import results
from operations.simulation.services import simulation_create
from policy.drafts import draft_from_values

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.usefixtures("fresh_policy")]

START, END = date(2024, 1, 1), date(2025, 1, 1)
DEDUCTIBLE = {"grassroots": 200, "level1": 500, "level2": 800, "level3": 1100, "provincial": 1600}


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    build_world(jurisdiction="hunan", persons=40, claims=160, seed=5)


def _draft(rate, deductible, user=None):
    return draft_from_values(
        "测算草案",
        [
            {
                "jurisdiction": "hunan",
                "key": "contribution.employer_rate_pct",
                "effective_from": START,
                "value": rate,
                "citation": "hunan 第十一条",
            },
            {
                "jurisdiction": "hunan",
                "key": "inpatient.deductible_by_level",
                "effective_from": START,
                "value": deductible,
                "citation": "hunan 第三十六条",
            },
        ],
        user=user,
    )


def _run(draft) -> Simulation:
    sim = simulation_create(draft, start=START, end=END, chunk_size=15)
    for chunk_id in sim.run.chunks.values_list("id", flat=True):
        chunk_execute(chunk_id)
    sim.refresh_from_db()
    sim.run.refresh_from_db()
    return sim


OWN_TABLES = {m._meta.db_table for m in (Simulation, SimulationPersonResult, SimulationLevelResult)} | {
    "policy_batchrun",
    "policy_batchchunk",
    "batch_batchskip",
}


def checksums() -> dict[str, str]:
    """Each production table's rows, hashed (the simulation's own tables and the batch run records aside)."""
    out = {}
    with connection.cursor() as cur:
        for model in apps.get_models():
            table = model._meta.db_table
            if not model._meta.managed or table in OWN_TABLES or "policydraft" in table:
                continue
            cur.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows = sorted(repr(r) for r in cur.fetchall())
            out[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest() + f":{len(rows)}"
    return out


def test_policy_in_force_as_draft_gives_zero_difference_and_writes_nothing(world):
    before = checksums()
    assert MonthlyDue.objects.count() > 0 and ContributionBase.objects.count() > 0
    sim = _run(_draft(8, DEDUCTIBLE))
    assert checksums() == before  # no production row changed (dues, bases, claims, ledger, accumulators …)
    assert sim.run.status == "done"
    per_j, total = results.by_jurisdiction(sim)
    assert total.persons > 0 and total.income_base > 0 and total.spending_base > 0
    for fig in [*per_j, total, *results.by_category(sim), *results.by_age_band(sim), *results.by_level(sim)]:
        assert (fig.income_change, fig.account_change, fig.spending_change, fig.affected) == (0, 0, 0, 0), fig.label
        assert fig.months_change in (None, 0)
    assert results.histogram(sim) == [] and results.largest(sim) == []
    # the baseline equals what production billed for the period
    billed = sum(
        d.total - d.personal_account_amount for d in MonthlyDue.objects.filter(month__gte=START, month__lt=END)
    )
    assert total.income_base == billed


def test_raised_deductible_and_rate_move_the_figures_as_by_hand(world):
    before = checksums()
    raised = {k: v + 300 for k, v in DEDUCTIBLE.items()}
    sim = _run(_draft(9, raised))
    assert checksums() == before
    _, total = results.by_jurisdiction(sim)
    assert total.spending_change < 0  # higher deductible: the fund pays less
    assert total.income_change > 0 and total.affected > 0
    # by hand, on a sample: each employee due's employer line at 9 % instead of 8 % (money half-up)
    row = (
        SimulationPersonResult.objects.filter(simulation=sim, category="employee")
        .exclude(income_draft=0)
        .order_by("person_id")
        .first()
    )
    dues = MonthlyDue.objects.filter(person_id=row.person_id, month__gte=START, month__lt=END)
    cent = Decimal("0.01")
    expected = sum(
        (d.base * Decimal("0.09")).quantize(cent, ROUND_HALF_UP)
        - (d.base * Decimal("0.08")).quantize(cent, ROUND_HALF_UP)
        for d in dues
    )
    assert row.income_draft - row.income_base == expected
    # a first stay at level 3: the deductible borne rises by at most 300 (the pool pays at most 300 less per stay)
    assert results.largest(sim)
    assert sum(n for _, n in results.histogram(sim)) == total.affected


def test_chunk_rerun_replaces_its_rows(world):
    sim = _run(_draft(9, DEDUCTIBLE))
    n = SimulationPersonResult.objects.filter(simulation=sim).count()
    chunk = sim.run.chunks.first()
    chunk.status = "pending"
    chunk.save()
    chunk_execute(chunk.pk)
    assert SimulationPersonResult.objects.filter(simulation=sim).count() == n


def test_pages_start_progress_results_export(world, client, case_worker, auditor, django_capture_on_commit_callbacks):
    import io

    from django.urls import reverse
    from openpyxl import load_workbook

    raised = {k: v + 300 for k, v in DEDUCTIBLE.items()}
    draft = _draft(9, raised, user=case_worker)
    client.force_login(case_worker)
    bad = client.post(
        reverse("admin:operations_simulation_add"),
        {"draft": draft.pk, "period_start": "2024-01-15", "period_end": "2025-01-01"},
    )
    assert bad.status_code == 200 and "1 日" in bad.content.decode() and not Simulation.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:operations_simulation_add"),
            {"draft": draft.pk, "period_start": "2024-01-01", "period_end": "2025-01-01"},
        )
    sim = Simulation.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{sim.pk}/results/")
    sim.run.refresh_from_db()
    assert sim.run.status == "done"  # no broker: the chunks ran as eager Celery tasks
    client.force_login(auditor)
    progress = client.get(reverse("admin:operations_simulation_progress", args=[sim.pk])).json()
    assert progress["chunks_done"] == progress["chunk_count"] > 0
    page = client.get(reverse("admin:operations_simulation_results", args=[sim.pk])).content.decode()
    assert "<svg" in page and "变化最大的人员" in page and "********" in page  # auditor: 身份证号 masked
    xlsx = client.get(reverse("admin:operations_simulation_export", args=[sim.pk]))
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames[:2] == ["汇总", "按参保类别"]
    rows = list(wb["变化最大的人员"].iter_rows(min_row=2, values_only=True))
    assert rows and all("********" in (r[2] or "") for r in rows)
    client.force_login(case_worker)
    assert client.post(reverse("admin:operations_simulation_add"), {}).status_code == 200


def test_retiree_credit_draft_moves_account_credits_by_the_monthly_difference(world):
    """hunan 第四十二条: 75 元/月 from the pool to each retiree's account; a draft of 80 adds 5 per credited month."""
    before = checksums()
    same = _run(
        draft_from_values(
            "划入不变",
            [
                {
                    "jurisdiction": "hunan",
                    "key": "accounts.retiree_monthly_credit",
                    "effective_from": START,
                    "value": 75,
                    "citation": "hunan 第四十二条",
                }
            ],
        )
    )
    _, total = results.by_jurisdiction(same)
    assert total.account_base > 0 and (total.account_change, total.spending_change, total.income_change) == (0, 0, 0)
    raised = _run(
        draft_from_values(
            "划入 80 元",
            [
                {
                    "jurisdiction": "hunan",
                    "key": "accounts.retiree_monthly_credit",
                    "effective_from": START,
                    "value": 80,
                    "citation": "hunan 第四十二条",
                }
            ],
        )
    )
    assert checksums() == before
    retirees = SimulationPersonResult.objects.filter(simulation=raised, category="retiree").exclude(account_base=0)
    assert retirees.exists()
    for r in retirees:
        months = r.account_base / 75
        assert months == months.to_integral_value() and r.account_draft - r.account_base == 5 * months
        assert r.spending_draft - r.spending_base == 5 * months  # the credit leaves the pooled fund
