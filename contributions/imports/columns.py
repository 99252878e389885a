"""Columns of the import files: their fields, Chinese headers and accepted aliases."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..models import ImportKind
from .readers import FileRejected


@dataclass(frozen=True)
class Column:
    """A column of an import file: its field, its Chinese header and the other headers accepted."""

    field: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = True


PAYROLL_COLUMNS: tuple[Column, ...] = (
    Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "证件号码", "证件号")),
    Column("name", "姓名", ("职工姓名", "人员姓名")),
    Column("monthly_wage", "月工资", ("月平均工资", "月工资收入", "上年度月平均工资", "缴费工资"), required=False),
    Column("annual_wage_total", "上年工资总额", ("上年度工资总额", "年工资总额", "工资总额"), required=False),
    Column("year", "年度", ("缴费年度", "所属年度", "所属期", "费款所属期", "申报年度"), required=False),
    Column("first_pay_month", "起薪月份", ("起薪当月", "起薪时间"), required=False),
)

PAYMENT_COLUMNS: tuple[Column, ...] = (
    Column("reference", "电子税票号", ("税票号", "电子税票号码", "票证号码")),
    Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "证件号码", "缴费人证件号码")),
    Column("amount", "金额", ("缴款金额", "实缴金额", "缴费金额")),
    Column("paid_on", "缴款日期", ("缴费日期", "入库日期", "到账日期")),
    Column("name", "姓名", ("缴费人姓名", "人员姓名"), required=False),
    # 险种: 310 职工 (the default when the column is absent or empty), 390 城乡居民 (issue #15)
    Column("insutype", "险种", ("险种编码", "险种类型"), required=False),
)

COLUMNS = {ImportKind.PAYROLL: PAYROLL_COLUMNS, ImportKind.PAYMENT: PAYMENT_COLUMNS}
_LABEL = {c.field: c.label for cols in COLUMNS.values() for c in cols}


def _header_key(value: Any) -> str:
    """Compare headers without spaces, case, unit suffixes or required-field stars: "月工资（元）*" → "月工资"."""
    text = re.sub(r"[\s\u3000*＊]", "", str(value or "")).lower()
    return re.sub(r"[（(](元|人民币|yyyy.*|年-?月.*|文本)[)）]$", "", text)


def map_headers(headers: Sequence[Any], columns: Sequence[Column]) -> dict[str, int]:
    """Field → column index. Raises :class:`FileRejected` naming the missing columns."""
    index: dict[str, int] = {}
    keys = [_header_key(h) for h in headers]
    for col in columns:
        accepted = {_header_key(a) for a in (col.label, col.field, *col.aliases)}
        for i, key in enumerate(keys):
            if key in accepted and col.field not in index:
                index[col.field] = i
    missing = [c.label for c in columns if c.required and c.field not in index]
    if columns is PAYROLL_COLUMNS and "monthly_wage" not in index and "annual_wage_total" not in index:
        missing.append("月工资 或 上年工资总额")
    if missing:
        found = "、".join(str(h) for h in headers if h not in (None, ""))[:300] or "（无）"
        raise FileRejected(
            f"缺少必需的列：{'、'.join(missing)}。第1行应为表头，文件中的表头为：{found}。"
            "（表头显示为乱码时，请把文件另存为 UTF-8 或 GB18030/GBK 编码。）"
        )
    return index
