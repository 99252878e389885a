"""经办后台站点: the admin site of the back office — a home page of work to do and a menu grouped by daily work.

- the home page (``/admin/``) shows the tiles of :mod:`operations.workbench` for the user's role, then the menu,
  and the user's own recent actions;
- the menu (the index and the sidebar) groups the registered models by daily work — 参保登记, 征缴, 待遇, 基金,
  政策, 运维 — and adds the pages that are not model lists (payroll import, fund health, the operations page).

Django's own rules decide which models a user sees (``has_module_permission``/``get_model_perms`` of each
ModelAdmin); a page link is shown only when its own view would let the user in (the same predicate the view
uses, from :mod:`enrollment.access`). The app index pages (``/admin/<app>/``) keep Django's per-app lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import NoReverseMatch, reverse
from django.utils import timezone


class BureauAdminConfig(AdminConfig):
    """Installs :class:`BureauAdminSite` as ``admin.site`` (``INSTALLED_APPS`` lists this instead of
    ``django.contrib.admin``); every ``admin.register`` of the project registers on it unchanged."""

    default_site = "operations.site.BureauAdminSite"


#: The sections of the menu in the order of daily work: (key, title).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("enrolment", "参保登记"),
    ("contributions", "征缴"),
    ("benefits", "待遇"),
    ("funds", "基金"),
    ("policy", "政策"),
    ("operations", "运维"),
)

#: app label → section; an app not listed (a new one) goes under 运维 until it is placed here.
APP_SECTION: dict[str, str] = {
    "enrollment": "enrolment",
    "contributions": "contributions",
    "retirement": "contributions",
    "benefits": "benefits",
    "claims": "benefits",
    "institutions": "benefits",  # 两定机构 (benefits.institutions)
    "registers": "benefits",  # 异地就医备案与门诊慢特病 (benefits.registers)
    "requests": "enrolment",  # 单位增减员申请
    "funds": "funds",
    "policy": "policy",
    "batch": "operations",
    "operations": "operations",
    "auth": "operations",
    "django_celery_beat": "operations",  # 周期任务: only administrators hold its permissions (enrollment.roles)
    "axes": "operations",
}

#: "app_label.ModelName" → section, where a model does not belong with its app.
MODEL_SECTION: dict[str, str] = {
    "operations.Simulation": "policy",  # 政策测算
    "operations.IssuedDocument": "enrolment",  # 参保证明 and the other printed documents
    "operations.DocumentBatch": "enrolment",
    "funds.Prepayment": "contributions",  # 预缴: a case worker's collection task (funds.prepayment)
    "funds.ContributionRefund": "contributions",  # 退费
    "claims.EmployerLiabilityBill": "contributions",  # 单位承担医疗费用通知单 (hunan 第二十条, langfang 第二十三条)
}

#: Names for models whose package ships no Chinese name (django-axes).
MODEL_NAMES: dict[str, str] = {
    "axes.AccessAttempt": "登录失败与锁定",
    "axes.AccessLog": "登录日志",
    "axes.AccessFailureLog": "登录失败明细",
}

#: The order of entries within a section (models by "app_label.ModelName", page links by their key);
#: entries not listed follow in the registry's order.
ORDER: tuple[str, ...] = (
    # 参保登记
    "enrollment.Employer",
    "enrollment.InsuredPerson",
    "enrollment.EnrolmentSpan",
    "enrollment.Household",  # 城乡居民参保户 (险种 390)
    "enrollment.HouseholdMember",
    "enrollment.LifeEvent",
    "enrollment.EmployerUser",
    # 征缴
    "contributions.WageDeclaration",
    "page.payroll_upload",
    "page.payment_upload",
    "contributions.ImportJob",
    "contributions.MonthlyDue",
    "contributions.Payment",
    "contributions.PaymentAllocation",
    "contributions.ResidentDue",  # 居民年度应缴
    "contributions.ContributionBase",
    "contributions.EmployerBase",
    "contributions.Deferral",
    "contributions.BackPaymentBill",
    "funds.Prepayment",
    "funds.ContributionRefund",
    "contributions.EmployerEvent",  # 单位变动（合并、分立、转制、破产、关闭）
    "claims.EmployerLiabilityBill",  # 单位承担医疗费用通知单: a bill to the employer, beside its other bills
    "retirement.RetirementClearanceCase",
    # 待遇
    "benefits.EligibilityPeriod",
    "claims.Claim",
    "claims.SettlementFile",
    "claims.ThirdPartyCase",  # 第三人责任先行支付 (hunan 第三十五条)
    "claims.BenefitAccumulator",
    "benefits.EligibilityState",
    # 基金
    "funds.FundAccount",
    "page.funds_health",
    "funds.JournalEntry",
    "funds.ResidentFundReceipt",  # 居民医保基金收入登记
    "funds.CreditSuspension",
    "funds.ShortfallSettlement",
    "page.funds_reconcile",
    "funds.Reconciliation",
    # 政策
    "policy.Jurisdiction",
    "policy.PolicyParameter",
    "policy.ReferenceStatistic",
    "policy.ScenarioRun",
    # 运维
    "page.operations",
    "batch.BatchRun",
    "auth.User",
    "auth.Group",
    "django_celery_beat.PeriodicTask",
    "django_celery_beat.CrontabSchedule",
    "django_celery_beat.IntervalSchedule",
    "django_celery_beat.ClockedSchedule",
    "django_celery_beat.SolarSchedule",
)


@dataclass(frozen=True)
class PageLink:
    """A page of the menu that is not a model list; ``visible`` is the page's own entry check."""

    key: str
    section: str
    name: str
    url_name: str
    visible: Callable[[object], bool]


def _bureau(user) -> bool:
    from enrollment.access import is_bureau

    return is_bureau(user)


PAGES: tuple[PageLink, ...] = (
    # contributions.views.payroll_upload: add_wagedeclaration (employer users upload their own payroll)
    PageLink(
        "page.payroll_upload",
        "contributions",
        "工资申报导入",
        "contributions:payroll_upload",
        lambda u: u.has_perm("contributions.add_wagedeclaration"),
    ),
    # contributions.views.payment_upload: bureau staff with add_payment
    PageLink(
        "page.payment_upload",
        "contributions",
        "实缴导入（税务缴费文件）",
        "contributions:payment_upload",
        lambda u: _bureau(u) and u.has_perm("contributions.add_payment"),
    ),
    # funds.admin.FundAccountAdmin.health_view / reconcile_view: view_fundaccount
    PageLink(
        "page.funds_health",
        "funds",
        "基金运行分析",
        "admin:funds_health",
        lambda u: u.has_perm("funds.view_fundaccount"),
    ),
    PageLink(
        "page.funds_reconcile",
        "funds",
        "基金对账",
        "admin:funds_reconcile",
        lambda u: u.has_perm("funds.view_fundaccount"),
    ),
    # operations.views.operations: bureau staff who may bill dues
    PageLink(
        "page.operations",
        "operations",
        "批处理操作",
        "operations:index",
        lambda u: _bureau(u) and u.has_perm("contributions.change_monthlydue"),
    ),
)


def section_of(app_label: str, object_name: str) -> str:
    """The menu section of a model (:data:`MODEL_SECTION`, else its app's, else 运维)."""
    return MODEL_SECTION.get(f"{app_label}.{object_name}") or APP_SECTION.get(app_label, "operations")


def group_app_list(app_list: list[dict], user, index_url: str) -> list[dict]:
    """Regroup Django's per-app list (already filtered by the user's permissions) into :data:`SECTIONS`,
    with the page links the user may open; empty sections are left out."""
    entries: dict[str, list[tuple[str, dict]]] = {key: [] for key, _ in SECTIONS}
    for app in app_list:
        for model in app["models"]:
            key = f"{app['app_label']}.{model['object_name']}"
            if key in MODEL_NAMES:
                model = {**model, "name": MODEL_NAMES[key]}
            entries[section_of(app["app_label"], model["object_name"])].append((key, model))
    for page in PAGES:
        if not page.visible(user):
            continue
        try:
            url = reverse(page.url_name)
        except NoReverseMatch:  # an app of the page is not installed
            continue
        entry = {
            "name": page.name,
            "object_name": page.key.replace(".", "_"),
            "perms": {"view": True},
            "admin_url": url,
            "add_url": None,
            "view_only": True,
            "page": True,
        }
        entries[page.section].append((page.key, entry))
    rank = {key: i for i, key in enumerate(ORDER)}
    out = []
    for key, title in SECTIONS:
        models = [m for _, m in sorted(entries[key], key=lambda e: rank.get(e[0], len(rank)))]
        if models:
            out.append(
                {
                    "name": title,
                    "app_label": f"section-{key}",
                    "app_url": f"{index_url}#section-{key}",
                    "has_module_perms": True,
                    "models": models,
                }
            )
    return out


class BureauAdminSite(admin.AdminSite):
    """职工医保经办管理系统: the home page of work to do and the menu grouped by daily work."""

    site_header = "职工医保经办管理系统"
    site_title = "医保经办"
    index_title = "工作台"
    index_template = "admin/index.html"

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:  # /admin/<app>/ keeps Django's list of that app
            return app_list
        return group_app_list(app_list, request.user, reverse(f"{self.name}:index"))

    def index(self, request, extra_context=None):
        from . import workbench  # models are imported once the apps are ready

        tiles = workbench.tiles_for(request.user, timezone.localdate())
        return super().index(request, {"tiles": tiles, **(extra_context or {})})
