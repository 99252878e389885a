"""工资变更 from an employer's 增减员申请 (issue #14): the register's request queue cannot write wage
declarations (contributions is above it), so this module is registered as the applier in
``ContributionsConfig.ready()`` and runs inside the approval's transaction."""

from __future__ import annotations

from datetime import date

from batch.dates import month_start
from enrollment.requests.models import EmployerRequest

from .imports.payroll import contribution_year_of
from .models import WageDeclaration


def wage_change_apply(req: EmployerRequest, user, on: date) -> WageDeclaration:
    """工资申报 of the contribution year containing the change date: the declared monthly wage is replaced
    (the declaration's history keeps the old one); the base follows at the next base computation."""
    year = contribution_year_of(req.employer.jurisdiction.code, req.occurred_on)
    defaults = {
        "monthly_wage": req.monthly_wage,
        "annual_wage_total": None,
        "declared_by": user if user is not None and user.is_authenticated else None,
    }
    if (
        req.kind == "hire"
    ):  # a new employee: the wage of the first pay month (起薪当月, hunan 第九条, sanmenxia 第十六条)
        defaults["first_pay_month"] = month_start(req.occurred_on)
    declaration, _ = WageDeclaration.objects.update_or_create(
        person=req.person, employer=req.employer, year=year, defaults=defaults
    )
    return declaration
