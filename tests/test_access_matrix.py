"""Role × URL × verb (issue #12): every URL pattern the resolver knows, for every role, GET and POST.

URLs are enumerated from ``django.urls.get_resolver()`` (so a new URL is covered without anyone
remembering it), their parameters filled with ids from one small world (:mod:`tests.access_world`;
objects belong to employer 2, 乙公司). The expected outcome is declared per URL name below: the roles
that may succeed; every other role must be refused (403/404/405/401/400, or sent to the login page, or
back to the admin index for an object it may not see). The test fails on

- an unexpected success, or a refusal of a role that is declared allowed;
- any HTTP 500;
- any POST that writes a row for a role refused that POST (row counts and saves compared);
- a URL name (or unnamed pattern) missing from the table.

Each request runs in a transaction that is rolled back, so one request never changes the next.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from tests.access_world import build_world

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "admin", "worker", "auditor", "emp2", "emp1")
LOGGED = frozenset(ROLES[1:])
STAFF = frozenset({"admin", "worker", "auditor"})
WRITERS = frozenset({"admin", "worker"})
ADMIN = frozenset({"admin"})
NOBODY: frozenset[str] = frozenset()
E2 = frozenset({"emp2"})  # the employer the objects belong to; emp1 is refused (its former employee moved)
EMPS = frozenset({"emp1", "emp2"})
ANY = None  # no constraint on the status (only: never a 500)
LOGGED_ANY = "logged"  # anonymous refused; any other outcome accepted (e.g. a redirect)

BEAT_MODELS = ("periodictask", "clockedschedule", "crontabschedule", "solarschedule", "intervalschedule")

# Model admins: (view, change, add, delete[, import]) — roles allowed on employer 2's object.
# A list (changelist, export) is also open to employer 1 wherever employer 2 may view (scoped rows).
_READ_ONLY = (STAFF | E2, NOBODY, NOBODY, NOBODY)
MODELS: dict[str, tuple] = {
    "auth.group": (ADMIN, ADMIN, ADMIN, ADMIN),
    "auth.user": (ADMIN, ADMIN, ADMIN, ADMIN),
    **{f"django_celery_beat.{m}": (ADMIN, ADMIN, ADMIN, ADMIN) for m in BEAT_MODELS},
    # login lockouts (django-axes): the administrator reads and clears them; nobody adds one by hand
    **{f"axes.{m}": (ADMIN, ADMIN, NOBODY, ADMIN) for m in ("accessattempt", "accesslog", "accessfailurelog")},
    "policy.jurisdiction": (STAFF, ADMIN, NOBODY, NOBODY),
    "policy.policyparameter": (STAFF, ADMIN, ADMIN, ADMIN),
    "policy.referencestatistic": (STAFF, WRITERS, WRITERS, ADMIN),
    "batch.batchrun": (STAFF, ADMIN, NOBODY, NOBODY),
    # machine tokens (issue #16): the administrator issues and revokes them; the API write audit is read-only
    "knox.authtoken": (ADMIN, ADMIN, ADMIN, ADMIN),
    "apiaudit.apiwrite": (frozenset({"admin", "auditor"}), NOBODY, NOBODY, NOBODY),
    # scenario runs (issue #18): administrators and case workers run; kept, never changed or deleted
    "policy.scenariorun": (STAFF, NOBODY, WRITERS, NOBODY),
    # 政策草案 (issue #18): staff read, administrators and case workers edit; withdrawn, never deleted
    "policy.policydraft": (STAFF, WRITERS, WRITERS, NOBODY),
    # 基金测算: administrators and case workers start one; kept as run, never changed or deleted
    "operations.simulation": (STAFF, NOBODY, WRITERS, NOBODY),
    "enrollment.employer": (STAFF | E2, WRITERS, WRITERS, ADMIN),
    "enrollment.insuredperson": (STAFF | E2, WRITERS | E2, WRITERS, ADMIN),
    "enrollment.enrolmentspan": (STAFF | E2, WRITERS, WRITERS, ADMIN),
    "enrollment.lifeevent": (STAFF, NOBODY, WRITERS, NOBODY),
    "enrollment.employeruser": (STAFF, WRITERS, WRITERS, ADMIN),
    # 增减员申请 (issue #14): employers submit (any employer may add its own), case workers move it through
    # the queue's buttons (admin:enrollment_employerrequest_act), nobody edits or deletes it
    "enrollment.employerrequest": (STAFF | E2, NOBODY, WRITERS | EMPS, NOBODY),
    "contributions.importjob": _READ_ONLY,
    "contributions.wagedeclaration": _READ_ONLY,
    "contributions.contributionbase": _READ_ONLY,
    "contributions.employerbase": _READ_ONLY,
    "contributions.monthlydue": _READ_ONLY,
    "contributions.payment": (STAFF | E2, NOBODY, WRITERS, NOBODY),
    "contributions.paymentallocation": _READ_ONLY,
    "contributions.deferral": (STAFF | E2, NOBODY, WRITERS, NOBODY, WRITERS),
    "contributions.backpaymentbill": _READ_ONLY,
    # 单位变动 (issue #14 item 4): case workers record one through the service; never edited or deleted; the
    # employer (predecessor or successor) reads its own
    "contributions.employerevent": (STAFF | E2, NOBODY, WRITERS, NOBODY),
    "retirement.retirementclearancecase": (STAFF, WRITERS, WRITERS, ADMIN),
    "benefits.eligibilityperiod": (STAFF, NOBODY, NOBODY, NOBODY),
    "benefits.eligibilitystate": (STAFF, NOBODY, NOBODY, ADMIN),
    "claims.claim": (STAFF, WRITERS, WRITERS, ADMIN),
    # 单位承担医疗费用通知单 (issue #14 item 5): issued by the adjudication; staff read, an employer its own
    "claims.employerliabilitybill": (STAFF | E2, NOBODY, NOBODY, NOBODY),
    # 第三人责任先行支付 (hunan 第三十五条): staff read; case workers file the application and move it by actions
    "claims.thirdpartycase": (STAFF, NOBODY, WRITERS, NOBODY),
    # 两定机构登记 (issue #17 item 1): bureau staff read, case workers enter and import, employers see nothing
    "institutions.institution": (STAFF, WRITERS, WRITERS, ADMIN, WRITERS),
    "institutions.agreement": (STAFF, WRITERS, WRITERS, ADMIN),
    "institutions.appraisal": (STAFF, WRITERS, WRITERS, ADMIN),
    "institutions.insurancephysician": (STAFF, WRITERS, WRITERS, ADMIN),
    # 机构接口账号 (issue #16 item 3): bound like 单位用户; the token itself is issued under knox.authtoken
    "institutions.institutionuser": (STAFF, WRITERS, WRITERS, ADMIN),
    "claims.benefitaccumulator": (STAFF, NOBODY, NOBODY, NOBODY),
    "claims.settlementfile": (STAFF, NOBODY, WRITERS, ADMIN),
    "funds.fundaccount": (STAFF, NOBODY, NOBODY, NOBODY),
    "funds.journalentry": (STAFF, NOBODY, NOBODY, NOBODY),
    "funds.creditsuspension": (STAFF, NOBODY, WRITERS, NOBODY),
    "funds.shortfallsettlement": (STAFF, NOBODY, WRITERS, NOBODY),
    "funds.reconciliation": (STAFF, NOBODY, NOBODY, NOBODY),
    # 就医登记 and personal-account use (issue #17): staff only; recorded through services, never edited
    "registers.outofareafiling": (STAFF, NOBODY, WRITERS, NOBODY),
    "registers.chroniccertification": (STAFF, NOBODY, WRITERS, NOBODY),
    "funds.familybinding": (STAFF, NOBODY, WRITERS, NOBODY),
    "funds.accountuse": (STAFF, NOBODY, WRITERS, NOBODY),
    "funds.accountpayout": (STAFF, NOBODY, WRITERS, NOBODY),
    # 预缴、退费 (issue #14 item 3): staff only; written by funds.prepayment, never edited or deleted
    "funds.prepayment": (STAFF, NOBODY, WRITERS, NOBODY),
    "funds.contributionrefund": (STAFF, NOBODY, WRITERS, NOBODY),
    # 城乡居民医保 (issue #15): households and members, yearly bills, the resident fund's receipts — bureau staff
    # only (residents have no employer), written through services, never edited or deleted
    "enrollment.household": (STAFF, NOBODY, WRITERS, NOBODY),
    "enrollment.householdmember": (STAFF, NOBODY, WRITERS, NOBODY),
    "contributions.residentdue": (STAFF, NOBODY, NOBODY, NOBODY),
    "funds.residentfundreceipt": (STAFF, NOBODY, WRITERS, NOBODY),
    # 出具文书登记 (issue #19 item 6): bureau staff read it; every row is written by a print, never by hand
    "operations.issueddocument": (STAFF, NOBODY, NOBODY, NOBODY),
}

# Every other URL, by name (or, unnamed, by route): (roles that may GET, roles that may POST).
URLS: dict[str, tuple] = {
    "admin:index": (LOGGED, LOGGED),
    "admin:login": (ANY, ANY),
    "admin:logout": (ANY, ANY),
    "admin:password_change": (LOGGED, LOGGED),
    "admin:password_change_done": (LOGGED, NOBODY),
    # names in every person/employer picker (issue #19): whoever may view the target (persons); the rows
    # are the target admin's, scoped (an employer user's own people only: tests/test_access_leaks.py)
    "admin:autocomplete": (STAFF | EMPS, NOBODY),
    "admin:jsi18n": (LOGGED, NOBODY),
    "admin:contributions_deferral_process_import": (NOBODY, WRITERS),  # the import's second step: POST only
    "admin:institutions_institution_process_import": (NOBODY, WRITERS),  # 两定机构登记 import, second step
    "admin:view_on_site": (LOGGED_ANY, LOGGED_ANY),
    "admin:app_list": (LOGGED, LOGGED),  # filled with app_label=enrollment
    "admin:auth_user_password_change": (ADMIN, ADMIN),
    # Shown read-only; the page redirects to the import job page / renders the statement.
    "admin:contributions_importjob_change": (STAFF | E2, STAFF | E2),
    "admin:funds_fundaccount_change": (STAFF, STAFF),
    # A claim / clearance case moves through its services: its history is never reverted.
    "admin:claims_claim_simple_history": (STAFF, NOBODY),
    "admin:retirement_retirementclearancecase_simple_history": (STAFF, NOBODY),
    "admin:retirement_case_pay": (WRITERS, WRITERS),
    "admin:benefits_eligibility_person": (STAFF, WRITERS),  # POST recomputes
    "admin:claims_claim_adjudicate": (WRITERS, WRITERS),
    "admin:claims_claim_reverse": (WRITERS, WRITERS),
    "admin:funds_health": (STAFF, WRITERS),  # POST posts the risk reserve extraction
    "admin:funds_reconcile": (STAFF, WRITERS),  # POST runs the reconciliation
    "contributions:payroll_upload": (WRITERS | EMPS, WRITERS | EMPS),
    "contributions:payment_upload": (WRITERS, WRITERS),
    "contributions:import_template": (LOGGED, LOGGED),
    "contributions:import_job": (STAFF | E2, STAFF | E2),
    "contributions:import_job_progress": (STAFF | E2, STAFF | E2),
    "contributions:import_job_confirm": (NOBODY, WRITERS | E2),
    "contributions:import_job_rejected": (STAFF | E2, STAFF | E2),
    "contributions:person_lookup": (STAFF | EMPS, STAFF | EMPS),
    "contributions:person_history": (STAFF | E2, STAFF | E2),
    "contributions:employer_bill": (STAFF | E2, STAFF | E2),
    "contributions:employer_arrears": (STAFF | E2, STAFF | E2),
    "operations:index": (WRITERS, WRITERS),
    # 打印文书 (issue #19 item 6): a print is a read — staff for anyone, employer users for their own
    # people and employer (the account statement and the clearance decision are the bureau's only);
    # every PDF and print page is GET only. The bulk run's POST starts it (an empty POST re-shows the form).
    "documents:person_print": (STAFF | E2, NOBODY),
    "documents:person_enrolment": (STAFF | E2, NOBODY),
    "documents:person_contributions": (STAFF | E2, NOBODY),
    "documents:person_account": (STAFF, NOBODY),
    "documents:employer_print": (STAFF | E2, NOBODY),
    "documents:employer_notice": (STAFF | E2, NOBODY),
    "documents:clearance_decision": (STAFF, NOBODY),
    "documents:bulk_start": (STAFF | E2, STAFF | E2),
    "documents:bulk_progress": (STAFF | E2, NOBODY),
    "documents:bulk_download": (STAFF | E2, NOBODY),
    # the public verification page: open to everyone, anonymous included (GET only; rate-limited)
    "documents:verify": (frozenset(ROLES), NOBODY),
    "documents:verify_code": (frozenset(ROLES), NOBODY),
    # 增减员申请 (issue #14): 受理/审核/办结/退回 (POST only), attachment download through the scope rule, the
    # employer's file upload and its template, the late-registration list for bureau staff
    "admin:enrollment_employerrequest_act": (NOBODY, WRITERS),
    "admin:enrollment_employerrequest_attachment": (STAFF | E2, NOBODY),
    "admin:enrollment_employerrequest_upload": (WRITERS | EMPS, WRITERS | EMPS),
    "admin:enrollment_employerrequest_template": (WRITERS | EMPS, WRITERS | EMPS),
    "admin:enrollment_employerrequest_late": (STAFF, STAFF),
    "operations:search": (STAFF | EMPS, NOBODY),  # 检索: scoped results; GET only
    "operations:person": (STAFF | E2, NOBODY),  # 个人全景: a person the role may see; GET only
    "set_language": (ANY, ANY),
    "employer-list": (STAFF | EMPS, NOBODY),
    "employer-detail": (STAFF | E2, NOBODY),
    "person-list": (STAFF | EMPS, NOBODY),
    "person-detail": (STAFF | E2, NOBODY),
    "api-root": (LOGGED, NOBODY),
    # issue #16 item 4: bases and dues read like their admin lists; payments too, and the tax bureau's POST
    # (an empty body is a 400 for those who may add a payment)
    "contributionbase-list": (STAFF | EMPS, NOBODY),
    "contributionbase-detail": (STAFF | E2, NOBODY),
    "monthlydue-list": (STAFF | EMPS, NOBODY),
    "monthlydue-detail": (STAFF | E2, NOBODY),
    "payment-list": (STAFF | EMPS, WRITERS),
    "payment-detail": (STAFF | E2, NOBODY),
    "personstatus-detail": (STAFF, NOBODY),
    "clearancecase-list": (STAFF, NOBODY),  # employer users hold no retirement permission (as on the screens)
    "clearancecase-detail": (STAFF, NOBODY),
    "fundmonth-list": (STAFF, NOBODY),
    "fundmonth-detail": (STAFF, NOBODY),
    "posting-list": (STAFF, NOBODY),
    "posting-detail": (STAFF, NOBODY),
    "claim-list": (STAFF, NOBODY),
    "claim-detail": (STAFF, NOBODY),
    # 工资申报 by API: the same job as the payroll import screen (POST with an empty body is a 400; confirming
    # the world's job, not yet validated, is a 409 for those who may confirm)
    "wagedeclaration-list": (STAFF | EMPS, WRITERS | EMPS),
    "wagedeclaration-detail": (STAFF | E2, NOBODY),
    "wagedeclaration-confirm": (NOBODY, WRITERS | E2),
    # 增减员申请 by API (issue #16 item 1): the request screens' permissions and scope; POST with an empty body is
    # a 400 for those who may file (staff writers and employer users)
    "employerrequest-list": (STAFF | EMPS, WRITERS | EMPS),
    "employerrequest-detail": (STAFF | E2, NOBODY),
    "employerrequest-batch": (NOBODY, WRITERS | EMPS),
    # 单位账单 and 缴费年限 (issue #16 item 1): read like the bill/arrears screens; an employer its own only
    "employerbill-detail": (STAFF | E2, NOBODY),
    "employerbill-notice": (STAFF | E2, NOBODY),
    "employerbill-arrears": (STAFF | E2, NOBODY),
    "paymentyears-detail": (STAFF | E2, NOBODY),
    # 机构结算 (issue #16 item 3): institution logins (not a matrix role: tests/test_api_settlements.py) write
    # their own; bureau staff read all, case workers submit for a named institution and reverse
    "settlement-list": (STAFF, WRITERS),
    "settlement-detail": (STAFF, NOBODY),
    "settlement-reverse": (NOBODY, WRITERS),
    # 接口导出 (issue #16 item 4): jobs are their owner's (the world's finished job is employer 2's); POST with an
    # empty body is a 400 for those who may export (auditors write nothing, not even an export job)
    "exportjob-list": (STAFF | EMPS, WRITERS | EMPS),
    "exportjob-detail": (E2, NOBODY),
    "exportjob-download": (E2, NOBODY),
    "admin:policy_scenariorun_describe": (STAFF, NOBODY),  # 计算说明: a page to read
    # POST runs a scenario text: an empty body is a 400 for the roles that may run (see EMPTY_POST_INVALID)
    "scenariorun-list": (STAFF, WRITERS),
    "scenariorun-detail": (STAFF, NOBODY),
    # 政策草案: the comparison page to read; publishing by an administrator who is not the author (the world's
    # draft is the case worker's); withdrawing by those who edit drafts
    "admin:policy_policydraft_compare": (STAFF, NOBODY),
    "admin:policy_policydraft_publish": (NOBODY, ADMIN),
    "admin:policy_policydraft_withdraw": (NOBODY, WRITERS),
    # 基金测算 results, progress and .xlsx export: staff read
    "admin:operations_simulation_results": (STAFF, NOBODY),
    "admin:operations_simulation_progress": (STAFF, NOBODY),
    "admin:operations_simulation_export": (STAFF, NOBODY),
    "api-schema": (LOGGED, NOBODY),
    # issue #16: per-version schema, the changelog; token login is HTTP Basic / token only (a session is refused)
    "api-schema-version": (LOGGED, NOBODY),
    "api-changelog": (LOGGED, NOBODY),
    "api-token-login": (NOBODY, NOBODY),
    "api-token-logout": (NOBODY, NOBODY),
    "api-token-logoutall": (NOBODY, NOBODY),
    "api-docs": (LOGGED, NOBODY),
    "api-redoc": (LOGGED, NOBODY),
    # unnamed
    "": (ANY, ANY),  # / redirects to the admin
    "admin/(?P<url>.*)$": (NOBODY, NOBODY),  # the admin's catch-all: 404 or the login page
    "<path:object_id>/": (LOGGED_ANY, LOGGED_ANY),  # each admin's redirect to the change page
}

# API endpoints whose POST needs a body: for a role allowed to POST, the matrix's empty POST answered 400
# (permission passed, body rejected) is a success; a refused role must get 401/403, never the 400.
EMPTY_POST_INVALID = {"scenariorun-list": 400, "payment-list": 400, "wagedeclaration-list": 400}
EMPTY_POST_INVALID.update({"employerrequest-list": 400, "employerrequest-batch": 400})
EMPTY_POST_INVALID.update({"settlement-list": 400, "settlement-reverse": 400, "exportjob-list": 400})
EMPTY_POST_INVALID["wagedeclaration-confirm"] = 409  # the world's job is not validated yet

_ADMIN_URL = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/")


def walk(resolver=None, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str | None]]:
    """Every (route, name) below the resolver, recursively; regex pieces kept as written."""
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}:{p.namespace}".strip(":") if p.namespace else namespace
            yield from walk(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), (f"{namespace}:{p.name}".strip(":") if p.name else None)


def model_of(route: str) -> str | None:
    m = _ADMIN_URL.match(route)
    if m and apps.all_models.get(m["app"], {}).get(m["model"]):
        return f"{m['app']}.{m['model']}"
    return None


def expectation(route: str, name: str | None) -> tuple | None:
    """(GET roles, POST roles) declared for the URL, or None when it is not declared."""
    key = name or (route if route in URLS else next((k for k in URLS if k and route.endswith(k)), None))
    if key in URLS:
        return URLS[key]
    label = model_of(route)
    if label not in MODELS or not name:
        return None
    view, change, add, delete, *imp = MODELS[label]
    listing = view | (EMPS if "emp2" in view else NOBODY)
    suffix = name.rsplit("_", 1)[-1]
    by_suffix = {
        "changelist": (listing, listing),
        "export": (listing, listing),
        "add": (add, add),
        "change": (view, change),
        "history": (view, view),
        "delete": (delete, delete),
        "import": (imp[0] if imp else NOBODY,) * 2,
    }
    if name.endswith("_simple_history"):
        return (view, change)
    if name.endswith("_process_import"):
        return (imp[0] if imp else NOBODY,) * 2
    return by_suffix.get(suffix)


# --- the world ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))  # no file left behind
    with django_db_blocker.unblock(), media:
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            w = build_world()
            w.picks = _picks(w)
            w.clients = {role: _client(w, role) for role in ROLES}
            yield w
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _client(w, role: str) -> Client:
    client = Client(raise_request_exception=False)  # a 500 is reported with the others, not raised
    if role != "anonymous":
        client.force_login(w.users[role])
    return client


def _picks(w) -> dict[str, tuple[int, int | None]]:
    """Per admin model: employer 2's object (or the first one) and its latest history id."""
    from django.contrib import admin

    explicit = {
        "auth.group": w.group,
        "auth.user": w.worker,
        "enrollment.employer": w.e2,
        "enrollment.insuredperson": w.p2,
        "enrollment.enrolmentspan": w.span2,
        "enrollment.employeruser": w.emp2_link,
        "contributions.importjob": w.job,
        "contributions.payment": w.pay_p2,
        "contributions.monthlydue": w.due_p2,
        "policy.policyparameter": w.parameter,
        "policy.policydraft": w.draft,
        "operations.simulation": w.simulation,
        "batch.batchrun": w.run,
        "claims.claim": w.claim,
        "contributions.employerevent": w.employer_event,
        "claims.employerliabilitybill": w.liability_bill,
        "retirement.retirementclearancecase": w.case,
        "operations.issueddocument": w.document,
    }
    picks = {}
    for model in admin.site._registry:
        label = model._meta.label_lower
        obj = explicit.get(label)
        if obj is None:
            names = {f.name for f in model._meta.get_fields()}
            qs = model._default_manager.order_by("pk")
            for field, value in (("employer", w.e2), ("person", w.p2), ("payment", w.pay_p2)):
                if field in names and qs.filter(**{field: value}).exists():
                    qs = qs.filter(**{field: value})
                    break
            obj = qs.first()
        history_id = None
        if obj is not None and hasattr(model._meta, "simple_history_manager_attribute"):
            history = getattr(model, model._meta.simple_history_manager_attribute)
            # the historical rows of this object (their own pk is history_id)
            if not history.filter(id=obj.pk).exists():
                obj.save()
            history_id = history.filter(id=obj.pk).latest("history_id").history_id
        picks[label] = (obj.pk if obj is not None else 999_999, history_id)
    return picks


def api_pk(w, route: str) -> int:
    """The world's object behind an API detail route (employer 2's, or the one row of its kind)."""
    from contributions.models import ContributionBase
    from funds.models import AccountMonthTotal, Posting

    objects = {
        "scenario-runs": lambda: w.scenario_run,
        "employers": lambda: w.e2,
        "contribution-bases": lambda: ContributionBase.objects.filter(person=w.p2).first(),
        "dues": lambda: w.due_p2,
        "payments": lambda: w.pay_p2,
        "clearance-cases": lambda: w.case,
        "fund-months": lambda: AccountMonthTotal.objects.order_by("pk").first(),
        "postings": lambda: Posting.objects.order_by("pk").first(),
        "claims": lambda: w.claim,
        "wage-declarations": lambda: w.job,
        "employer-requests": lambda: w.employer_request,
        "employer-bills": lambda: w.e2,
        "settlements": lambda: w.api_settlement,
        "exports": lambda: w.export_job,
    }
    for segment, obj in objects.items():
        if f"{segment}/" in route:
            return obj().pk
    return w.p2.pk


def fill(w, route: str, name: str | None) -> str:
    """A concrete URL for the route, its parameters filled from the world."""
    label = model_of(route)
    object_id, history_id = w.picks.get(label, (None, None))
    if route.lstrip("^").startswith("api/"):
        pk = api_pk(w, route)
    elif route.startswith("contributions/imports/"):
        pk = w.job.pk
    elif route.startswith("documents/bulk/"):
        pk = w.doc_batch.pk
    elif "employerrequest/attachment/" in route:
        pk = w.attachment.pk
    else:
        pk = w.claim.pk
    values = {
        "object_id": object_id,
        "pk": pk,
        "case_id": w.case.pk,
        "person_id": w.p2.pk,
        "employer_id": w.e2.pk,
        "kind": "payroll",
        "id": w.worker.pk,
        "content_type_id": apps.get_model("contenttypes", "ContentType").objects.get_for_model(w.p2).pk,
        "format": "json",
        "version": "v1",
        "app_label": "enrollment",
        "url": "no-such-page/",
        "code": w.document.code,
    }
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m[1]]), route)
    path = re.sub(r"<drf_format_suffix:format>", ".json", path)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m[1]]), path)
    positional = iter((object_id, history_id))
    path = re.sub(r"\([^)]*\)", lambda m: str(next(positional)), path)
    path = "/" + path.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "")
    if name == "admin:autocomplete":  # a real picker: the span form's person field
        path += "?app_label=enrollment&model_name=enrolmentspan&field_name=person&term=%E4%B9%99"
    return path


# --- outcomes --------------------------------------------------------------------------------


def _location(response) -> str:
    return response.get("Location", "") if response.status_code in (301, 302, 303) else ""


def refused(response) -> bool:
    where = _location(response)
    return (
        response.status_code in (400, 401, 403, 404, 405)
        or "/login/" in where
        or where.split("?")[0] in ("/admin/", "http://testserver/admin/")
    )


def succeeded(response) -> bool:
    return response.status_code < 400 and not refused(response)


class WriteWatch:
    """Rows saved or deleted (signals) and row counts of every table, around one request."""

    def __init__(self):
        self.saved: list[str] = []
        tables = sorted({m._meta.db_table for m in apps.get_models() if m is not Session and m._meta.managed})
        self.tables = tables
        quote = connection.ops.quote_name
        self.sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(t)})" for t in tables)

    def _on_save(self, sender, **kwargs):
        if sender is not Session:
            self.saved.append(sender._meta.label)

    def counts(self) -> dict[str, int]:
        with connection.cursor() as cursor:  # one query for every table
            cursor.execute(self.sql)
            return dict(zip(self.tables, cursor.fetchone(), strict=True))

    def __enter__(self):
        self.before = self.counts()
        post_save.connect(self._on_save, weak=False)
        post_delete.connect(self._on_save, weak=False)
        return self

    def __exit__(self, *exc):
        post_save.disconnect(self._on_save)
        post_delete.disconnect(self._on_save)
        after = self.counts()
        self.changed = sorted({*self.saved, *(k for k in after if after[k] != self.before[k])})
        return False


def check(w, role: str, method: str, url: str, allowed, problems: list[str], name: str | None = None) -> None:
    client = w.clients[role]
    watch_writes = method == "POST" and allowed not in (ANY, LOGGED_ANY) and role not in allowed
    with transaction.atomic():
        if watch_writes:
            with WriteWatch() as watch:
                response = client.post(url)
        else:
            response = getattr(client, method.lower())(url)
        transaction.set_rollback(True)
    if url.endswith("/logout/"):
        w.clients[role] = _client(w, role)
    status = response.status_code
    if status >= 500:
        problems.append(f"{role} {method} {url}: HTTP {status}")
        return
    if method == "POST" and name in EMPTY_POST_INVALID and allowed not in (ANY, LOGGED_ANY):
        expected = EMPTY_POST_INVALID[name]
        if role in allowed and status != expected:
            problems.append(f"{role} {method} {url}: HTTP {status} — expected {expected} (permission passed)")
        if role not in allowed and status not in (401, 403, 404):
            problems.append(f"{role} {method} {url}: HTTP {status} — expected 401/403/404")
        if watch_writes and watch.changed:
            problems.append(f"{role} {method} {url}: wrote {watch.changed} (HTTP {status})")
        return
    if watch_writes and watch.changed:
        problems.append(f"{role} {method} {url}: wrote {watch.changed} (HTTP {status})")
    if allowed is ANY:
        return
    if allowed == LOGGED_ANY:
        if role == "anonymous" and not refused(response):
            problems.append(f"{role} {method} {url}: HTTP {status} {_location(response)} — expected refusal")
        return
    if role in allowed and not succeeded(response):
        problems.append(f"{role} {method} {url}: HTTP {status} {_location(response)} — expected success")
    if role not in allowed and not refused(response):
        problems.append(f"{role} {method} {url}: HTTP {status} {_location(response)} — expected refusal")


# --- the tests -------------------------------------------------------------------------------


def test_every_url_is_declared():
    undeclared = [(route, name) for route, name in walk() if expectation(route, name) is None]
    assert not undeclared, f"declare the expected access of these URLs in {__name__}: {undeclared}"


@pytest.mark.parametrize("role", ROLES)
def test_role_url_verb_matrix(world, role):
    problems: list[str] = []
    routes = list(walk())
    assert len(routes) > 250  # the resolver really was walked
    for route, name in routes:
        get_roles, post_roles = expectation(route, name)
        url = fill(world, route, name)
        check(world, role, "GET", url, get_roles, problems)
        check(world, role, "POST", url, post_roles, problems, name)
    assert not problems, "\n".join(problems)
