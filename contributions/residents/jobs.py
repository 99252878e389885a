"""``contributions.resident_billing`` — 生成居民年度应缴 (params ``{"collection_year": YYYY}``, default the year of
``as_of``): each chunk bills its residents set-wise per jurisdiction, then applies held resident payments."""

from __future__ import annotations

from collections import Counter

from django.utils import timezone

from batch.runs import ChunkContext, batch_job
from enrollment.selectors import person_id_bounds
from policy.models import Jurisdiction

from .services import bill_residents, resident_payments_apply


@batch_job("contributions.resident_billing", ids=person_id_bounds, label="生成居民年度应缴")
def resident_billing(ctx: ChunkContext) -> dict[str, int]:
    """Bill the residents of the chunk for the benefit year bought in the collection year (sanmenxia 第三十一条)."""
    year = int(ctx.params.get("collection_year") or ctx.as_of.year)
    jurisdictions = Jurisdiction.objects.order_by("code")
    if ctx.jurisdiction:
        jurisdictions = jurisdictions.filter(code=ctx.jurisdiction)
    counts: Counter = Counter()
    now = timezone.now()
    for pk, code in jurisdictions.values_list("pk", "code"):
        counts += bill_residents(
            code, pk, collection_year=year, as_of=ctx.as_of, lo=ctx.lo, hi=ctx.hi, run_id=ctx.run.pk, now=now
        )
    counts += resident_payments_apply(person_range=(ctx.lo, ctx.hi))
    return {k: int(v) for k, v in counts.items()}
