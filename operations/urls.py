"""URLs of the operations pages, under ``/operations/`` (namespace ``operations``)."""

from django.urls import path

from . import views

app_name = "operations"

urlpatterns = [
    path("", views.operations, name="index"),
]
