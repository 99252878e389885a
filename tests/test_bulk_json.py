"""JSON columns written by the bulk writers (:func:`batch.bulk.json_text`, orjson) read back as Django's own
encoder would have written them (issue #13)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext_lazy

from batch.bulk import json_text

VALUES = [
    {"amount": Decimal("1.10"), "zero": Decimal("0.00"), "big": Decimal("99999999999.99")},
    {"on": date(2024, 2, 29), "at": datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), "t": time(1, 2, 3)},
    {"for": timedelta(days=1, seconds=5), "id": UUID("60b448c4-889e-4eca-a9af-fcd2b8236cb8")},
    {2024: {"claims_count": 1}, "label": gettext_lazy("Name"), "text": "个人现金支出（医疗费总额 − 基金支付）"},
    [{"stage": "结算", "amount": "18009.80", "citation": None, "flags": [True, False, 1, 2.5]}],
    [],
    {},
    "plain",
    7,
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_json_text_reads_back_as_djangos_encoder_writes(value):
    ours = json_text(value)
    assert isinstance(ours, str)
    assert json.loads(ours) == json.loads(DjangoJSONEncoder(ensure_ascii=False).encode(value))


def test_json_text_keeps_chinese_text_as_it_is():
    assert json_text({"阶段": "住院统筹"}) == '{"阶段":"住院统筹"}'
