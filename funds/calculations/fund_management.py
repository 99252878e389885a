"""Fund-management calculations staff run for a year (基金管理测算): figures in, amounts out.

Not part of the scenario contract's fixed list: extra calculations a bureau may
also check with scenario files. The rules are :mod:`funds.health`.
"""

from __future__ import annotations

from typing import Any

from funds.health import WATERFALL_OUTPUTS, deficit_waterfall, risk_reserve_extraction
from policy.calculations import Field, calculation
from policy.resolver import Policy


@calculation(
    "fund_risk_reserve",
    inputs={
        "budget_income": Field("decimal", default=None, label="当年基本医疗保险基金预算收入"),
        "last_year_pool_income": Field("decimal", default=None, label="上年统筹基金收入总额"),
    },
    outputs={"extraction": "money"},
)
def fund_risk_reserve(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """风险储备金提取额 (xianning 办法 四(三)4(3); sanmenxia 第四十八条)."""
    return {"extraction": risk_reserve_extraction(policy, **inputs)}


@calculation(
    "fund_deficit_waterfall",
    inputs={
        "gap": Field("decimal", label="当年基金收支缺口"),
        "plan_met": Field("bool", default=True, label="完成年度收支计划"),
        "local_fault_gap": Field("decimal", default=0, label="因地方未严格执行政策等造成的缺口"),
        "county_prepooling_balance": Field("decimal", default=0, label="县统筹前历年累计结余"),
        "city_pooled_balance": Field("decimal", default=0, label="市级统筹累计结余"),
        "area_balance": Field("decimal", default=0, label="本级累计结余"),
        "risk_reserve_balance": Field("decimal", default=0, label="风险储备金余额"),
        "reserve_drawn_this_year": Field("decimal", default=0, label="当年从本级提取的风险储备金"),
    },
    outputs=dict.fromkeys(WATERFALL_OUTPUTS, "money"),
)
def fund_deficit_waterfall(policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
    """基金缺口分担 (xianning 办法 四(三)4(1)(4); sanmenxia 第四十八条)."""
    return deficit_waterfall(policy, **inputs)
