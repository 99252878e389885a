"""Celery tasks of the batch framework. Keyword-only arguments; ids, not objects."""

from celery import shared_task

from .batch import chunk_execute


@shared_task(name="config.batch_chunk_run", acks_late=True, max_retries=3)
def batch_chunk_run(*, chunk_id: int) -> dict[str, int]:
    """Run one chunk of a batch run (idempotent, so safe to deliver twice)."""
    return chunk_execute(chunk_id)
