"""URLs of the operations pages, under ``/operations/`` (namespace ``operations``)."""

from django.urls import path

from . import person_views, views

app_name = "operations"

urlpatterns = [
    path("", views.operations, name="index"),
    path("search/", person_views.search, name="search"),
    path("persons/<int:person_id>/", person_views.person, name="person"),
]
