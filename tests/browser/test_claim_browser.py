"""Browser check (issue #6): a case worker enters an inpatient claim in the admin, adjudicates it, sees the
2303 breakdown with every step and its citation and the year's accumulators, reverses it and sees the
accumulators return; a claim dated before the person's cover is refused with the reason.

Drives Debian's Chromium through Playwright against pytest-django's ``live_server``; screenshots go to
``claim-*.png`` in a temporary folder (``bash bin/screenshots`` refreshes
``docs/screenshots/``). Skipped when /usr/bin/chromium or playwright is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# The suite writes its screenshots to a temporary folder (running the tests changes no tracked file);
# ``bash bin/screenshots`` sets SCREENSHOTS_DIR=docs/screenshots to refresh the documented ones.
SHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "medins-screenshots")

playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not shutil.which(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is not installed (Debian's Chromium drives the browser tests)", allow_module_level=True)


@pytest.fixture
def browser_page(live_server, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test itself
    # (setting up data, checking the database) are plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page.set_default_timeout(20_000)
        yield page
        browser.close()


def _login(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))


def _pick_person(page, person) -> None:
    """The person picker (autocomplete, issue #19): type the 身份证号's last digits, choose the name shown."""
    page.click(".field-person .select2-selection")
    page.fill(".select2-container--open .select2-search__field", person.id_number[-8:])
    page.click(f".select2-results__option:has-text('{person.id_number}')")
    assert person.name in page.inner_text(".field-person .select2-selection__rendered")


def _enter_claim(page, base: str, *, person, start: str, end: str, amount: str, own: str) -> None:
    """The add form, as a case worker fills it: person, dates, hospital and level, amounts; saved as a draft."""
    page.goto(f"{base}/admin/claims/claim/add/")
    page.select_option("#id_jurisdiction", label="湖南")
    _pick_person(page, person)
    page.select_option("#id_med_type", "21")
    page.fill("#id_start_date", start)
    page.fill("#id_end_date", end)
    page.fill("#id_hospital_name", "湖南省人民医院")
    page.select_option("#id_hospital_level", "provincial")
    page.fill("#id_medfee_sumamt", str(int(amount) + int(own)))
    page.fill("#id_fulamt_ownpay", own)
    page.fill("#id_inscp_scp_amt", amount)
    page.click("input[name=_continue]")
    page.wait_for_selector("text=审核结算")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_case_worker_enters_adjudicates_reverses_and_is_refused(browser_page, live_server, transactional_db):
    from benefits.claims.models import BenefitAccumulator, Claim, ClaimStatus
    from enrollment.roles import CASE_WORKER
    from tests.conftest import make_user
    from tests.test_claims import make_person, stat

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    stat("hunan", "critical_illness_deductible", 15000)  # 第五十六条: set by the city (D-H11)
    person = make_person("hunan", covered_from=date(2023, 1, 1))  # waiting period before 2023
    make_user("jingban_b", CASE_WORKER)
    page, base = browser_page, live_server.url
    _login(page, base, "jingban_b", "pw-123456")

    # 1. Enter and adjudicate: 省部属 1600, 80% (第三十六条, 第三十八条): (100000−1600)×80% = 78720;
    #    个人负担 21280; 大病保险 (21280−15000)×85% = 5338 (第五十七条); 现金 105000 − 84058 = 20942.
    _enter_claim(page, base, person=person, start="2024-03-01", end="2024-03-10", amount="100000", own="5000")
    page.click("button:has-text('审核结算')")
    page.wait_for_selector("text=审核结算完成")
    body = page.inner_text("body")
    for text in (
        "hifp_pay",
        "78720.00",
        "hifmi_pay",
        "5338.00",
        "psn_cash_pay",
        "20942.00",
        "fund_pay_sumamt",
        "84058.00",
    ):
        assert text in body, text
    assert "湖南 第三十六条" in body and "湖南 第五十七条" in body  # each step cites its article (area by name)
    assert "本年度待遇累计" in body and "住院统筹支付累计" in body
    claim = Claim.objects.get(person=person, start_date=date(2024, 3, 1))
    assert claim.status == ClaimStatus.ADJUDICATED
    acc = BenefitAccumulator.objects.get(person=person, year=2024)
    assert (acc.inpatient_pool_paid, acc.layer_paid, acc.inpatient_admissions) == (78720, 5338, 1)
    _shot(page, "claim-adjudicated.png")

    # 2. Reverse (冲正): the ledger entry is reversed and the accumulators return to zero.
    page.click("a:has-text('冲正')")
    page.fill("textarea[name=reason]", "医院重复上传，冲正后重新录入")
    _shot(page, "claim-reverse-form.png")
    page.click("input[value=确认冲正]")
    page.wait_for_selector("text=已冲正")
    body = page.inner_text("body")
    assert (
        "本次已冲回" in body
        and "住院统筹支付累计\t0.00\t78720.00" in body
        and "大病/大额支付累计\t0.00\t5338.00" in body
    )
    acc.refresh_from_db()
    assert (acc.inpatient_pool_paid, acc.layer_paid, acc.inpatient_admissions, acc.claims_count) == (0, 0, 0, 0)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REVERSED and claim.reversal_entry_id is not None
    _shot(page, "claim-reversed.png")

    # 3. A stay while the person was still in the waiting period: refused with the reason.
    _enter_claim(page, base, person=person, start="2022-06-01", end="2022-06-05", amount="8000", own="0")
    page.click("button:has-text('审核结算')")
    page.wait_for_selector("text=不予支付")
    body = page.inner_text("body")
    assert "2022-06-01" in body and "等待期" in body
    refused = Claim.objects.get(person=person, start_date=date(2022, 6, 1))
    assert refused.status == ClaimStatus.REFUSED and refused.hifp_pay is None
    _shot(page, "claim-refused.png")


def test_case_worker_enters_a_downward_transfer_and_a_third_party_case(browser_page, live_server, transactional_db):
    """The facts only the case worker knows, entered in the form (issue #6), and the outputs they give."""
    from benefits.claims.models import Claim
    from enrollment.roles import CASE_WORKER
    from tests.conftest import make_user
    from tests.test_claims import make_claim, make_person, stat

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    stat("hunan", "critical_illness_deductible", 15000)
    person = make_person("hunan")
    first = make_claim(person, "hunan", hospital_level="level3", inscp_scp_amt=10000)
    make_user("jingban_t", CASE_WORKER)
    page, base = browser_page, live_server.url
    _login(page, base, "jingban_t", "pw-123456")
    page.goto(f"{base}/admin/claims/claim/{first.pk}/change/")
    page.click("button:has-text('审核结算')")
    page.wait_for_selector("text=审核结算完成")

    # hunan 第三十六条: referred down from 三级 (1100 borne) to 二级: no deductible, 5000×90% = 4500.
    page.goto(f"{base}/admin/claims/claim/add/")
    page.select_option("#id_jurisdiction", label="湖南")
    _pick_person(page, person)
    page.select_option("#id_med_type", "21")
    page.fill("#id_start_date", "2024-03-10")
    page.fill("#id_end_date", "2024-03-14")
    page.select_option("#id_hospital_level", "level2")
    page.fill("#id_transfer_from", str(first.pk))
    page.select_option("#id_continued_stay", "transfer_downward")
    page.fill("#id_submitted_on", "2024-03-20")
    page.fill("#id_medfee_sumamt", "5000")
    page.fill("#id_inscp_scp_amt", "5000")
    page.click("input[name=_continue]")
    page.wait_for_selector("text=审核结算")
    page.click("button:has-text('审核结算')")
    page.wait_for_selector("text=审核结算完成")
    body = page.inner_text("body")
    assert "转往下级医疗机构的连续住院：不再计算起付标准" in body and "湖南 第三十六条" in body
    assert "本次连续住院累计负担起付标准" in body and "1100.00" in body and "4500.00" in body
    assert "文件未规定手工报销的申请期限" in body
    second = Claim.objects.get(person=person, start_date=date(2024, 3, 10))
    assert (second.act_pay_dedc, second.hifp_pay, second.stay_deductible) == (0, 4500, 1100)
    _shot(page, "claim-transfer-downward.png")

    # hunan 第三十五条: a third party who does not pay — the pool advances (一级 500, 9500×92% = 8740).
    page.goto(f"{base}/admin/claims/claim/add/")
    page.select_option("#id_jurisdiction", label="湖南")
    _pick_person(page, person)
    page.select_option("#id_med_type", "21")
    page.fill("#id_start_date", "2024-05-01")
    page.fill("#id_end_date", "2024-05-05")
    page.select_option("#id_hospital_level", "level1")
    page.select_option("#id_excluded_cause", "third_party")
    page.check("#id_third_party_unpaid")
    page.fill("#id_medfee_sumamt", "10000")
    page.fill("#id_inscp_scp_amt", "10000")
    page.click("input[name=_continue]")
    page.wait_for_selector("text=审核结算")
    page.click("button:has-text('审核结算')")
    page.wait_for_selector("text=审核结算完成")
    body = page.inner_text("body")
    assert "基金先行支付（向第三人追偿）" in body and "8740.00" in body
    _shot(page, "claim-third-party-advance.png")
