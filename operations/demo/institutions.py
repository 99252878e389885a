"""演示数据: the demo register of 两定机构 (``institutions.yaml``), written through the register's services.

Each institution gets its rating (from its agreement's start) and its agreement; sanmenxia's agreements run one
year from their start where no end is given (第五十二条), renewed each year up to ``today`` so the demo's claims
find one in force. Idempotent (by code).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from benefits.institutions.models import Institution
from benefits.institutions.services import RegisterRow, agreement_check, register_row
from policy.catalog import read_yaml
from policy.models import Jurisdiction

DEMO_INSTITUTIONS = Path(__file__).with_name("institutions.yaml")


def _as_date(value) -> date | None:
    return value if isinstance(value, date) or value is None else date.fromisoformat(str(value))


def demo_institutions(today: date, log: Callable[[str], None] = print) -> int:
    """Register the demo institutions (each with its rating and agreements up to ``today``); returns how many."""
    n = 0
    for row in read_yaml(DEMO_INSTITUTIONS):
        jur = Jurisdiction.objects.get(code=row["jurisdiction"])
        inst, _ = Institution.objects.update_or_create(
            fixmedins_code=row["code"],
            defaults={"name": row["name"], "kind": row["kind"], "jurisdiction": jur, "note": "演示数据（非真实机构）"},
        )
        a = row["agreement"]
        start = _as_date(a["start"])
        deposit = None if a.get("deposit_pct") is None else Decimal(str(a["deposit_pct"]))
        rated = True
        while start is not None and start <= today:
            values = RegisterRow(
                hospital_level=row["level"] if rated else "",
                tcm=bool(row.get("tcm")),
                tier=row.get("tier") or "",
                area=row.get("area") or "pooling_area",
                rated_from=_as_date(a["start"]),
                agreement_number=f"{row['code']}-{start.year}",
                agreement_start=start,
                agreement_end=_as_date(a.get("end")),
                agreement_status=a.get("status") or "signed",
                agreement_status_since=_as_date(a.get("status_since")),
                deposit_pct=deposit,
            )
            end = agreement_check(
                jur.code,
                start=start,
                end=values.agreement_end,
                status=values.agreement_status,
                status_since=values.agreement_status_since,
                suspended_until=None,
                deposit_pct=deposit,
            )
            register_row(inst, values, agreement_end=end)
            rated = False
            start = end if end is not None and values.agreement_status == "signed" else None
        n += 1
    log(f"  两定机构（演示）：登记 {n} 家定点医药机构及其服务协议。")
    return n
