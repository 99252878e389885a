"""Project configuration: settings, Celery app, URLs, and the jurisdictions' policy data."""

from .celery import app as celery_app

__all__ = ["celery_app"]
