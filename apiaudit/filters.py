"""Filters of the API (issue #16 items 4 and 6): every id in a filter is bounded (a number beyond the
database's integer range is a 400 naming the field, never an HTTP 500)."""

from __future__ import annotations

from django import forms
from django.db import models
from django_filters import rest_framework as filters

MAX_ID = 2**53 - 1  # the largest id a JSON client represents exactly; below every database's integer range


class IdFilter(filters.NumberFilter):
    """An id (foreign key or number) between 1 and :data:`MAX_ID`."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1 if kwargs.pop("positive", True) else -MAX_ID)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class BoundedFilterSet(filters.FilterSet):
    """FilterSet whose generated filters for ids and integers are bounded."""

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
        models.AutoField: {"filter_class": IdFilter},
        models.BigAutoField: {"filter_class": IdFilter},
        models.IntegerField: {"filter_class": IdFilter, "extra": lambda f: {"positive": False}},
        models.BigIntegerField: {"filter_class": IdFilter, "extra": lambda f: {"positive": False}},
        models.PositiveIntegerField: {"filter_class": IdFilter, "extra": lambda f: {"positive": False}},
        models.PositiveSmallIntegerField: {"filter_class": IdFilter, "extra": lambda f: {"positive": False}},
        models.SmallIntegerField: {"filter_class": IdFilter, "extra": lambda f: {"positive": False}},
    }


class BoundedFilterBackend(filters.DjangoFilterBackend):
    """DjangoFilterBackend building ``filterset_fields`` on :class:`BoundedFilterSet`."""

    filterset_base = BoundedFilterSet
