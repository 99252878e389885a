"""Batch steps of the register."""

from django.db.models import Q

from batch.runs import ChunkContext, batch_job
from enrollment.selectors import person_id_bounds

from .models import EnrolmentSpan, InsuranceStatus


@batch_job("enrollment.span_status_refresh", ids=person_id_bounds, label="参保状态刷新")
def span_status_refresh(ctx: ChunkContext) -> dict[str, int]:
    """Spans that ended on or before the business date are 终止参保 (4); open ones that were marked so revert.

    Set-based; a second run the same day changes nothing.
    """
    spans = EnrolmentSpan.objects.filter(person_id__gte=ctx.lo, person_id__lt=ctx.hi)
    if ctx.jurisdiction:
        spans = spans.filter(jurisdiction__code=ctx.jurisdiction)
    ended = spans.filter(end__lte=ctx.as_of).exclude(status=InsuranceStatus.TERMINATED)
    reopened = spans.filter(Q(end__isnull=True) | Q(end__gt=ctx.as_of), status=InsuranceStatus.TERMINATED)
    return {
        "terminated": ended.update(status=InsuranceStatus.TERMINATED),
        "reopened": reopened.update(status=InsuranceStatus.NORMAL),
    }
