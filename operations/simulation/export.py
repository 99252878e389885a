"""The result of a simulation as an .xlsx workbook: every text cell neutralised (no formula runs), 身份证号
masked for roles without PII."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from enrollment.identifiers import mask_id_number
from enrollment.safe_files import neutralise_cell

from ..models import Simulation
from . import results

FIGURE_HEADERS = [
    "分组",
    "人数",
    "受影响人数",
    "基金收入（基线）",
    "基金收入（草案）",
    "收入变化",
    "个人账户划入（基线）",
    "个人账户划入（草案）",
    "划入变化",
    "基金支出（基线）",
    "基金支出（草案）",
    "支出变化",
    "基金净变化",
    "可支付月数（基线）",
    "可支付月数（草案）",
]


def _figure_row(f: results.Figures) -> list[Any]:
    return [
        f.label,
        f.persons,
        f.affected,
        f.income_base,
        f.income_draft,
        f.income_change,
        f.account_base,
        f.account_draft,
        f.account_change,
        f.spending_base,
        f.spending_draft,
        f.spending_change,
        f.net_change,
        f.months_base,
        f.months_draft,
    ]


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append([neutralise_cell(h) for h in header])
    for row in rows:
        ws.append([neutralise_cell(v) if isinstance(v, str) else v for v in row])


def workbook(sim: Simulation, *, pii: bool) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    per_j, total = results.by_jurisdiction(sim)
    _sheet(wb, "汇总", FIGURE_HEADERS, [_figure_row(f) for f in [*per_j, total]])
    _sheet(wb, "按参保类别", FIGURE_HEADERS, [_figure_row(f) for f in results.by_category(sim)])
    _sheet(wb, "按年龄段", FIGURE_HEADERS, [_figure_row(f) for f in results.by_age_band(sim)])
    _sheet(
        wb,
        "按医疗机构等级",
        ["医疗机构等级", "报销申请数", "基金支出（基线）", "基金支出（草案）", "支出变化"],
        [
            [f.label, f.extra.get("claims", 0), f.spending_base, f.spending_draft, f.spending_change]
            for f in results.by_level(sim)
        ],
    )
    _sheet(wb, "人均变化分布", ["基金净变化区间（元）", "人数"], [[label, n] for label, n in results.histogram(sim)])
    top = results.largest(sim)
    who = results.person_ids(top)
    _sheet(
        wb,
        "变化最大的人员",
        ["人员ID", "姓名", "身份证号", "统筹区", "参保类别", "收入变化", "划入变化", "支出变化", "基金净变化"],
        [
            [
                r.person_id,
                who.get(r.person_id, ("", ""))[0],
                (lambda idn: idn if pii else mask_id_number(idn))(who.get(r.person_id, ("", ""))[1]),
                r.jurisdiction_code,
                r.category,
                r.income_draft - r.income_base,
                r.account_draft - r.account_base,
                r.spending_draft - r.spending_base,
                r.net,
            ]
            for r in top
        ],
    )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
