"""The four roles (角色) and what each may do. Synchronised after every migrate.

- 经办管理员 bureau administrator: everything, including policy values and users;
- 经办人员 case worker: registers people and employers, handles contributions and claims;
- 审计人员 auditor: reads everything, changes nothing, sees 身份证号/phone masked;
- 单位经办员 employer user: their own employer's people only (see ``visible_to``).
"""

from django.contrib.auth.models import Group, Permission

BUREAU_ADMIN, CASE_WORKER, AUDITOR, EMPLOYER_USER = "经办管理员", "经办人员", "审计人员", "单位经办员"
OUR_APPS = (
    "enrollment",
    "contributions",
    "retirement",
    "benefits",
    "institutions",
    "claims",
    "registers",
    "funds",
    "policy",
    "batch",
    "operations",
)
PII = "enrollment.view_pii"

# (app_label, model) pairs an employer user may touch, and how.
EMPLOYER_USER_PERMS = {
    "enrollment": {
        "insuredperson": ("view", "change"),
        "enrolmentspan": ("view",),
        "employer": ("view",),
        # 单位网厅: an employer submits its own 增减员申请 and their attachments (issue #14)
        "employerrequest": ("view", "add"),
        "requestattachment": ("view", "add"),
    },
    "contributions": {"*": ("view",), "wagedeclaration": ("view", "add", "change")},
    # 接口导出 (issue #16 item 4): its own lists' result sets as background jobs
    "operations": {"exportjob": ("view", "add")},
    # 单位承担医疗费用通知单 (hunan 第二十条, langfang 第二十三条): an employer reads its own bills (issue #14)
    "claims": {"employerliabilitybill": ("view",)},
}


def _perms_for(app_label: str, actions: tuple[str, ...], model: str = "*"):
    qs = Permission.objects.filter(content_type__app_label=app_label)
    if model != "*":
        qs = qs.filter(content_type__model=model)
    # view_pii is granted on its own, never as a side effect of "view".
    return [p for p in qs if p.codename.split("_", 1)[0] in actions and p.codename != "view_pii"]


def roles_sync() -> None:
    """Create or update the groups; idempotent."""
    admin, _ = Group.objects.get_or_create(name=BUREAU_ADMIN)
    worker, _ = Group.objects.get_or_create(name=CASE_WORKER)
    auditor, _ = Group.objects.get_or_create(name=AUDITOR)
    employer, _ = Group.objects.get_or_create(name=EMPLOYER_USER)

    everything = ("view", "add", "change", "delete")
    admin_perms = [
        p
        for app in (*OUR_APPS, "auth", "django_celery_beat", "axes", "knox", "apiaudit")
        for p in _perms_for(app, everything)
    ]
    admin_perms += list(Permission.objects.filter(codename="view_pii"))
    # 政策草案 are published by an administrator other than their author (issue #18, 双人复核)
    admin_perms += list(Permission.objects.filter(content_type__app_label="policy", codename="publish_policydraft"))
    # 第三人责任追偿核销 is approved by an administrator, not by the case worker who asks (hunan 第三十五条 按程序审批)
    admin_perms += list(
        Permission.objects.filter(content_type__app_label="claims", codename="approve_thirdpartywriteoff")
    )
    admin.permissions.set(admin_perms)

    worker_perms = []
    worker_apps = (
        "enrollment",
        "contributions",
        "retirement",
        "benefits",
        "institutions",
        "claims",
        "registers",
        "funds",
    )
    for app in worker_apps:
        worker_perms += _perms_for(app, ("view", "add", "change"))
    worker_perms += _perms_for("policy", ("view",)) + _perms_for("policy", ("add", "change"), "referencestatistic")
    worker_perms += _perms_for("policy", ("add",), "scenariorun")  # runs scenario files (issue #18)
    # drafts them and runs simulations (测算) of them; never publishes (issue #18)
    worker_perms += _perms_for("policy", ("add", "change"), "policydraft")
    worker_perms += _perms_for("policy", ("add", "change", "delete"), "policydraftvalue")
    worker_perms += _perms_for("operations", ("view", "add"), "simulation")
    worker_perms += _perms_for("operations", ("view", "add"), "exportjob")  # 接口导出 (issue #16 item 4)
    worker_perms += _perms_for("batch", ("view",))
    worker_perms += list(Permission.objects.filter(codename="view_pii"))
    worker.permissions.set(worker_perms)

    auditor.permissions.set([p for app in (*OUR_APPS, "apiaudit") for p in _perms_for(app, ("view",))])

    employer_perms = []
    for app, models in EMPLOYER_USER_PERMS.items():
        for model, actions in models.items():
            employer_perms += _perms_for(app, actions, model)
    employer_perms += list(Permission.objects.filter(codename="view_pii"))
    employer.permissions.set(employer_perms)
