"""Browser check (issue #4): a case worker opens a suspended person's page, asks for a day inside the
suspension and reads the status, the rule, its article and the facts; the nightly run's answer is the
one shown. Screenshot: ``docs/screenshots/eligibility-why-suspended-browser.png``.
"""

from __future__ import annotations

from datetime import date

from tests.browser.test_claim_browser import _login, _shot, browser_page  # noqa: F401  (fixture)


def test_case_worker_reads_why_a_person_is_suspended(browser_page, live_server, transactional_db):  # noqa: F811
    from benefits.services import eligibility_refresh
    from enrollment.roles import CASE_WORKER
    from tests.conftest import make_user
    from tests.test_eligibility_timeline import add_dues, langfang_employee

    person, employer = langfang_employee(7)
    paid = {f"2024-{m:02d}": date(2024, m, 20) for m in range(3, 7)}
    paid.update({"2024-07": None, "2024-08": None})
    add_dues(person, employer, paid)
    eligibility_refresh([person.pk], date(2024, 9, 10))
    make_user("jingban_w", CASE_WORKER)
    page, base = browser_page, live_server.url
    _login(page, base, "jingban_w", "pw-123456")

    page.goto(f"{base}/admin/benefits/eligibilityperiod/person/{person.pk}/")
    page.fill("input[name=day]", "2024-08-15")
    page.click("input[value=查询该日状态]")
    answer = page.locator("#answer")
    answer.wait_for()
    text = answer.inner_text()
    assert "2024年8月15日 的待遇享受状态：暂停享受待遇" in text
    assert "2024-07" in text  # the unpaid month named in the reason and the facts
    assert "廊坊" in text and "第二十三条" in text  # the article, in Chinese
    assert "未缴月份" in text and "已到账月数" in text  # the facts the rule used
    # the timeline lists the suspension, highlighted as the period in force
    timeline = page.locator(".module").filter(has_text="待遇享受状态时间轴").inner_text()
    # langfang 第二十三条 names no start: suspended from the day after July's due date 07-25 (D-X18)
    assert "暂停享受待遇" in timeline and "2024年7月26日" in timeline
    _shot(page, "eligibility-why-suspended-browser.png")
