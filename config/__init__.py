"""Project configuration: settings, URLs, the Celery app and WSGI. Nothing else lives here."""

from .celery import app as celery_app

__all__ = ["celery_app"]
