"""Browser check (issue #14 item 1, issue #19 item 9): an employer user (单位经办员) submits a hire with an
attachment on the 增减员申请 screen; a case worker (经办人员) finds it in the queue, 受理 → 审核 → 办结;
the person is enrolled at the employer; the employer sees the request 已办结. Screenshots:
``request-*.png`` (``bash bin/screenshots`` refreshes ``docs/screenshots/``).
"""

from __future__ import annotations

from datetime import date, timedelta

from tests.browser.test_claim_browser import _login, _shot, browser_page  # noqa: F401  (fixture)


def test_employer_request_approved_by_a_case_worker(browser_page, live_server, transactional_db, tmp_path, settings):  # noqa: F811
    from django.utils import timezone

    from enrollment import services
    from enrollment.models import EmployerRequest, EmployerUser, EnrolmentSpan
    from enrollment.roles import CASE_WORKER, EMPLOYER_USER
    from operations.demo.population import credit_code, id_number
    from tests.conftest import make_user

    settings.MEDIA_ROOT = str(tmp_path / "media")
    employer = services.employer_register(
        credit_code=credit_code("430102", 61), name="浏览器公司", jurisdiction="hunan", registered_on=date(2020, 1, 1)
    )
    danwei = make_user("danwei_b", EMPLOYER_USER)
    EmployerUser.objects.create(user=danwei, employer=employer)
    make_user("jingban_b", CASE_WORKER)
    new_id = id_number("430102", date(1992, 8, 8), 61, True)
    hired_on = timezone.localdate() - timedelta(days=3)
    contract = tmp_path / "劳动合同.pdf"
    contract.write_bytes(b"%PDF-1.4\n%%EOF\n")

    page, base = browser_page, live_server.url
    _login(page, base, "danwei_b", "pw-123456")
    page.goto(f"{base}/admin/enrollment/employerrequest/add/")
    assert page.locator("#id_employer").count() == 0  # an employer user files for their own employer only
    page.select_option("#id_kind", "hire")
    page.fill("#id_id_number", new_id)
    page.fill("#id_name", "浏览器新人")
    page.fill("#id_occurred_on", hired_on.isoformat())
    page.fill("#id_monthly_wage", "6500.00")
    page.set_input_files("#id_attachments", str(contract))
    _shot(page, "request-employer-form.png")
    page.click("input[name=_save]")
    page.wait_for_url(lambda url: url.endswith("/admin/enrollment/employerrequest/"))
    assert "待受理 1" in page.locator("#request-counts").inner_text()
    req = EmployerRequest.objects.get()
    assert req.employer == employer and req.attachments.count() == 1

    # the case worker: the queue, then the request's page and its three steps
    page.context.clear_cookies()
    _login(page, base, "jingban_b", "pw-123456")
    page.goto(f"{base}/admin/enrollment/employerrequest/?open=yes")
    page.get_by_role("link", name=str(req.pk), exact=True).click()
    page.locator("#request-queue").wait_for()
    assert page.get_by_role("link", name="劳动合同.pdf").count() == 1
    for label in ("受理", "审核通过", "办结（生效）"):
        with page.expect_navigation():
            page.click("#request-next")
        page.locator("#request-queue").wait_for()
        assert "现为" in page.locator(".messagelist").inner_text(), label
    _shot(page, "request-approved.png")
    assert "已办结" in page.locator("#request-queue").inner_text()
    span = EnrolmentSpan.objects.get(person__id_number=new_id)
    assert span.employer == employer and span.start == hired_on

    # back as the employer: the request is closed
    page.context.clear_cookies()
    _login(page, base, "danwei_b", "pw-123456")
    page.goto(f"{base}/admin/enrollment/employerrequest/")
    assert "已办结 1" in page.locator("#request-counts").inner_text()
