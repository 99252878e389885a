"""The home page per role, the menu grouped by daily work, and Chinese on every screen (issue #19 items 1, 5).

The world is :mod:`tests.access_world` (two employers of hunan; employer 2's rows: an open clearance case, a
payroll import with an error row, a pending batch run, dues and payments).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from batch.labels import counts_in_words, counts_text, job_label
from batch.models import BatchRun, RunStatus
from batch.runs import discover
from contributions.models import ImportJob, MonthlyDue
from contributions.retirement.models import RetirementClearanceCase
from enrollment import services
from operations import workbench
from operations.demo.population import id_number
from operations.site import SECTIONS, group_app_list
from policy.labels import in_words, value_words
from tests.access_world import build_world, due

pytestmark = pytest.mark.django_db

BUREAU_TILES = {
    "clearance_cases", "imports_with_errors", "batch_runs", "policy_missing", "fund_warnings", "employer_requests",
    "late_registrations",
}  # fmt: skip
ADMIN_TILES = {"nightly", "lockouts"}
EMPLOYER_TILES = {"employer_arrears", "employer_bill", "imports_with_errors", "employer_requests"}
CODES = ("hunan", "langfang", "xianning", "sanmenxia", "ziyang")


@pytest.fixture
def world():
    return build_world()


def _home(user) -> tuple[str, dict]:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.content.decode(), {t.key: t for t in response.context["tiles"]}


def _sections(user) -> dict[str, list[str]]:
    client = Client()
    client.force_login(user)
    app_list = client.get(reverse("admin:index")).context["app_list"]
    return {app["name"]: [m["name"] for m in app["models"]] for app in app_list}


# ---------------------------------------------------------------------------------------------
# 工作台: tiles per role, counts, employer scoping
# ---------------------------------------------------------------------------------------------


def test_case_worker_sees_the_work_to_do_and_no_administrators_tiles(world):
    html, tiles = _home(world.worker)
    assert set(tiles) == BUREAU_TILES
    assert tiles["clearance_cases"].count == 1  # the world's open case (employer 2's person)
    assert tiles["clearance_cases"].url.endswith("?status__exact=open")
    assert tiles["imports_with_errors"].count == 1
    assert tiles["batch_runs"].count == 1  # the pending dues run
    assert 'id="tile-clearance_cases"' in html and "待审核的退休清缴案件" in html
    assert not tiles["clearance_cases"].read_only and not tiles["batch_runs"].read_only
    assert tiles["policy_missing"].read_only  # values are entered by administrators (enrollment.roles)


def test_administrator_also_sees_operations_tiles(world):
    _, tiles = _home(world.admin)
    assert set(tiles) == BUREAU_TILES | ADMIN_TILES
    assert tiles["lockouts"].count == 0  # one failure recorded, below AXES_FAILURE_LIMIT
    assert next(r.count for r in tiles["nightly"].rows) >= 1  # the world's periodic tasks


def test_auditor_sees_read_only_tiles(world):
    html, tiles = _home(world.auditor)
    assert set(tiles) == BUREAU_TILES
    assert tiles["clearance_cases"].read_only and tiles["clearance_cases"].note == "只读查看"
    assert tiles["batch_runs"].read_only and tiles["policy_missing"].read_only
    assert html.count('class="ro">只读') >= 3


def test_employer_user_sees_only_their_own_employers_work(world):
    today = timezone.localdate()
    # an unpaid month of employer 2, past its due date
    due(world.p2, world.e2, date(2024, 4, 1), "600.00")
    html, tiles = _home(world.emp2)
    assert set(tiles) == EMPLOYER_TILES
    expected = MonthlyDue.objects.filter(employer=world.e2, settled_on__isnull=True, due_date__lt=today).count()
    assert expected >= 1 and tiles["employer_arrears"].count == expected
    assert tiles["employer_arrears"].url == reverse("contributions:employer_arrears", args=[world.e2.pk])
    assert tiles["employer_bill"].url == reverse("contributions:employer_bill", args=[world.e2.pk])
    assert tiles["imports_with_errors"].count == 1  # employer 2's payroll file
    assert "退休清缴" not in html and "政策参数" not in html

    _, tiles1 = _home(world.emp1)
    assert set(tiles1) == EMPLOYER_TILES
    assert tiles1["imports_with_errors"].count == 0  # employer 2's file is not employer 1's work
    own = MonthlyDue.objects.filter(employer=world.e1, settled_on__isnull=True, due_date__lt=today).count()
    assert tiles1["employer_arrears"].count == own
    assert tiles1["employer_arrears"].url == reverse("contributions:employer_arrears", args=[world.e1.pk])


def test_request_tiles_count_the_queue_and_the_late_list_in_scope(world):
    """增减员申请 (issue #14): the open request of employer 2 and its late hire (hunan 第十七条) as tiles."""
    _, tiles = _home(world.worker)
    assert tiles["employer_requests"].count == 1 and not tiles["employer_requests"].read_only
    assert tiles["employer_requests"].url == reverse("admin:enrollment_employerrequest_changelist")
    assert tiles["late_registrations"].count == 1  # the hire reported 2023-03-01, deadline 2023-01-31
    assert tiles["late_registrations"].kind == "warn"
    assert _home(world.auditor)[1]["employer_requests"].read_only
    assert _home(world.emp2)[1]["employer_requests"].count == 1
    assert _home(world.emp1)[1]["employer_requests"].count == 0  # employer 2's request is not employer 1's
    world.employer_request.state = "done"
    world.employer_request.save()
    assert _home(world.worker)[1]["employer_requests"].count == 0


def test_counts_follow_the_data(world):
    today = timezone.localdate()
    BatchRun.objects.create(job="contributions.arrears_accrue", as_of=today, status=RunStatus.FAILED)
    BatchRun.objects.create(job="contributions.arrears_accrue", as_of=today, status=RunStatus.DONE)
    ImportJob.objects.create(kind="payroll", employer=world.e1, uploaded_by=world.worker, status="failed")
    old = ImportJob.objects.create(kind="payroll", employer=world.e1, uploaded_by=world.worker, error_rows=3)
    ImportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))  # history, not work
    RetirementClearanceCase.objects.filter(pk=world.case.pk).update(status="approved")
    tiles = {t.key: t for t in workbench.tiles_for(world.worker, today)}
    assert tiles["batch_runs"].count == 2 and [r.count for r in tiles["batch_runs"].rows] == [1, 1]
    assert tiles["imports_with_errors"].count == 2
    assert tiles["clearance_cases"].count == 0
    emp1 = {t.key: t for t in workbench.tiles_for(world.emp1, today)}
    assert emp1["imports_with_errors"].count == 1  # its own failed file; employer 2's and the old one are not


def test_policy_missing_tile_counts_each_jurisdiction_like_policy_show(world):
    from policy.loader import missing_keys

    today = timezone.localdate()
    tile = workbench.policy_missing_tile(world.worker, today)
    by_name = {r.label: r.count for r in tile.rows}
    assert by_name  # the documents leave values to staff (D-X16)
    assert by_name.get("湖南", 0) == len(missing_keys("hunan", today))
    assert tile.count == sum(by_name.values())


def test_capped_count_stops_at_the_cap(world):
    for _n in range(3):
        BatchRun.objects.create(job="contributions.arrears_accrue", as_of=date(2024, 1, 1), status=RunStatus.FAILED)
    assert workbench.capped_count(BatchRun.objects.filter(status=RunStatus.FAILED), cap=2) == (2, True)
    assert workbench.capped_count(BatchRun.objects.filter(status=RunStatus.FAILED), cap=5) == (3, False)
    assert workbench.Tile(key="x", title="x", url="/", count=2, capped=True).count_text == "2+"


def test_a_tile_registers_in_one_line(world):
    def waiting(user, today):
        return workbench.Tile(key="waiting", title="单位增减员申请待办", url="/", count=7)

    workbench.register(waiting)
    try:
        _, tiles = _home(world.worker)
        assert tiles["waiting"].count == 7
    finally:
        workbench.TILES.remove(waiting)


def test_recent_actions_are_the_users_own(world):
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.create(
        user=world.worker,
        content_type=ContentType.objects.get_for_model(world.p2),
        object_id=str(world.p2.pk),
        object_repr="乙一（改了电话）",
        action_flag=CHANGE,
    )
    html, _ = _home(world.worker)
    assert "最近动作" in html and "乙一（改了电话）" in html
    html_admin, _ = _home(world.admin)
    assert "乙一（改了电话）" not in html_admin  # the administrator sees their own actions only


# ---------------------------------------------------------------------------------------------
# The menu grouped by daily work
# ---------------------------------------------------------------------------------------------


def test_menu_is_grouped_by_daily_work_for_the_administrator(world):
    sections = _sections(world.admin)
    assert list(sections) == [title for _, title in SECTIONS]
    assert "周期性任务" in sections["运维"] and "批处理运行" in sections["运维"]
    assert "批处理运行" not in sections["政策"]
    assert {"工资申报导入", "实缴导入（税务缴费文件）", "应缴", "退休清缴案件"} <= set(sections["征缴"])
    assert {"基金运行分析", "基金账户"} <= set(sections["基金"])
    assert "批处理操作" in sections["运维"]
    assert sections["参保登记"][:2] == ["用人单位", "参保人员"]
    assert "登录失败与锁定" in sections["运维"]  # django-axes' models in Chinese


def test_scheduler_tables_are_for_administrators_only(world):
    for role in ("worker", "auditor", "emp2"):
        names = [n for models in _sections(world.users[role]).values() for n in models]
        assert "周期性任务" not in names and "计划任务" not in names, role
    worker = _sections(world.worker)
    assert "批处理操作" in worker["运维"] and "批处理运行" in worker["运维"]
    assert "批处理操作" not in [n for m in _sections(world.auditor).values() for n in m]  # starts runs: writers


def test_employer_user_menu(world):
    sections = _sections(world.emp2)
    assert list(sections) == ["参保登记", "征缴"]
    assert "工资申报导入" in sections["征缴"] and "实缴导入（税务缴费文件）" not in sections["征缴"]
    # its own bills, the one for care in an interruption it caused included (issue #14 item 5)
    assert "单位承担医疗费用通知单" in sections["征缴"]


@pytest.mark.parametrize("role", ["admin", "worker", "auditor", "emp2"])
def test_every_menu_entry_opens_for_its_role(world, role):
    """The menu shows a page only when the page itself lets the user in (one permission rule)."""
    client = Client()
    client.force_login(world.users[role])
    app_list = client.get(reverse("admin:index")).context["app_list"]
    for app in app_list:
        for model in app["models"]:
            response = client.get(model["admin_url"])
            assert response.status_code == 200, (role, model["admin_url"], response.status_code)


def test_app_index_pages_keep_their_models(world):
    client = Client()
    client.force_login(world.worker)
    response = client.get(reverse("admin:app_list", args=["contributions"]))
    assert response.status_code == 200
    assert [m["object_name"] for m in response.context["app_list"][0]["models"]][:1]


def test_an_unplaced_app_goes_under_operations():
    app_list = [
        {"app_label": "newapp", "models": [{"object_name": "Thing", "name": "新东西", "admin_url": "/x/"}]},
        {"app_label": "enrollment", "models": [{"object_name": "Employer", "name": "用人单位", "admin_url": "/e/"}]},
    ]

    class Nobody:
        def has_perm(self, perm):
            return False

        is_authenticated = False

    grouped = group_app_list(app_list, Nobody(), "/admin/")
    assert [(a["name"], [m["name"] for m in a["models"]]) for a in grouped] == [
        ("参保登记", ["用人单位"]),
        ("运维", ["新东西"]),
    ]


# ---------------------------------------------------------------------------------------------
# Chinese everywhere: codes with their labels
# ---------------------------------------------------------------------------------------------


def _visible_text(html: str) -> str:
    """What a reader sees: no scripts, styles, tags or attributes; small print (the codes kept for reference)
    and form inputs' values left out."""
    html = re.sub(r"<(script|style|select|textarea)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<small class="quiet">.*?</small>', " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


def test_no_list_or_change_page_shows_a_raw_jurisdiction_code_or_job_name(world):
    """Every model admin's list and the change page of its first row, as the administrator (who sees all)."""
    from django.contrib.auth.models import Group  # noqa: F401  (registered: listed like every model)

    world.run.counts = {"generated": 3, "missing:contribution.due_day": 3, "clearance.age_unknown:ziyang": 1}
    world.run.save()
    client = Client()
    client.force_login(world.admin)
    job_names = [name for name, job in discover().items() if job.label and job.label != name]
    code = re.compile(r"[（(]\s*(" + "|".join(CODES) + r")\s*[)）]")
    bad = []
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls = [reverse("admin:{}_{}_changelist".format(*info))]
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
        for url in urls:
            response = client.get(url)
            if response.status_code != 200:
                continue
            text = _visible_text(response.content.decode())
            # the scheduler tables (administrators only) name Celery tasks by their import path, as Celery needs
            technical = url.startswith("/admin/django_celery_beat/")
            found = code.findall(text) + [n for n in job_names if n in text and not technical]
            if found:
                bad.append((url, sorted(set(found))[:5]))
    assert bad == []


def test_batch_run_page_shows_the_job_and_statistics_in_words(world):
    world.run.counts = {"generated": 1200, "missing:contribution.due_day": 3, "ms.arrears": 14}
    world.run.save()
    client = Client()
    client.force_login(world.worker)
    text = _visible_text(client.get(reverse("admin:batch_batchrun_changelist")).content.decode())
    assert "生成月度应缴" in text and "contributions.dues_generate" not in text
    assert "生成应缴（人·月） 1,200" in text
    assert "缺少参数“" in text and "missing:" not in text
    assert "{" not in text.split("批处理运行")[-1]  # no raw JSON
    ops = _visible_text(client.get(reverse("operations:index")).content.decode())
    assert "生成月度应缴" in ops and "生成应缴（人·月） 1,200" in ops


def test_counts_in_words():
    assert job_label("contributions.arrears_accrue") == "欠费滞纳金计提"
    assert job_label("gone.job") == "gone.job"
    words = dict(counts_in_words({"arrears.accrued": 10, "amount_fen": 123456, "ms.eligibility": 76}))
    assert words == {"欠费滞纳金：计提滞纳金（人·月）": "10", "金额（元）": "1,234.56", "耗时：待遇状态（毫秒）": "76"}
    assert counts_text({}) == "无"


@pytest.mark.django_db
def test_citations_and_values_in_words():
    html = str(in_words("hunan 第十七条, D-X2"))
    assert html.startswith("湖南 第十七条") and '<small class="quiet">D-X2</small>' in html
    assert str(in_words("<b>hunan</b>")) == "&lt;b&gt;湖南&lt;/b&gt;"  # escaped
    assert value_words(["area_balance", "x"], {"area_balance": "本级累计结余"}) == "本级累计结余、x"
    assert value_words(None) == "不适用"


def test_personal_account_is_titled_in_words(world):
    from funds.models import FundAccount

    account = FundAccount.objects.get(code="ACC-P2")
    assert str(account) == "乙一的个人账户（湖南）"
    client = Client()
    client.force_login(world.worker)
    text = _visible_text(client.get(reverse("admin:funds_fundaccount_change", args=[account.pk])).content.decode())
    assert "乙一的个人账户（湖南）" in text


def test_female_role_help_text_is_the_persons_own_jurisdictions(world):
    """hunan 第二十八条 gives the female retirement ages; a ziyang person's form must not show hunan's."""
    person = services.person_register(id_number=id_number("512002", date(1975, 3, 9), 7, False), name="资阳人")
    services.span_open(person=person, jurisdiction="ziyang", category="flexible", start=date(2024, 1, 1))
    client = Client()
    client.force_login(world.worker)

    def help_text(pk):
        html = client.get(reverse("admin:enrollment_insuredperson_change", args=[pk])).content.decode()
        return re.search(r'id="id_female_role_helptext">\s*<div>(.*?)</div>', html, re.S).group(1)

    assert "湖南" not in help_text(person.pk) and "资阳" in help_text(person.pk)
    assert "女干部55岁" in help_text(world.p2.pk) and "湖南 第二十八条" in help_text(world.p2.pk)


@pytest.mark.parametrize("role", ["admin", "worker", "auditor", "emp2"])
def test_every_tile_link_opens_for_its_role(world, role):
    """A tile links only to what the role may open, with the filter its count was taken with."""
    client = Client()
    client.force_login(world.users[role])
    tiles = client.get(reverse("admin:index")).context["tiles"]
    urls = {t.url for t in tiles} | {r.url for t in tiles for r in t.rows if r.url}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (role, url, response.status_code)
        assert "?e=1" not in response.get("Location", ""), url  # an admin filter it refused
