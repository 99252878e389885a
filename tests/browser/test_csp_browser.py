"""Browser check (issue #12, item 6): under the Content-Security-Policy the admin still works — no page
reports a blocked script or style, the admin's own scripts run, and our inline scripts (nonce) run."""

from __future__ import annotations

from tests.browser.test_claim_browser import _login, browser_page  # noqa: F401  (fixture)

PAGES = (
    "/admin/",
    "/admin/enrollment/insuredperson/",
    "/admin/enrollment/insuredperson/add/",
    "/admin/enrollment/employer/add/",
    "/admin/funds/fundaccount/health/",
    "/admin/batch/batchrun/",
)


def test_admin_pages_work_under_the_policy(browser_page, live_server, transactional_db):  # noqa: F811
    from enrollment.roles import BUREAU_ADMIN
    from tests.conftest import make_user

    make_user("csp_admin", BUREAU_ADMIN, is_superuser=True)
    page, base = browser_page, live_server.url
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    _login(page, base, "csp_admin", "pw-123456")
    for path in PAGES:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        assert "Content-Security-Policy" in {k.title(): v for k, v in response.headers.items()}
    # the admin's own scripts run: the date shortcuts (今天 / calendar) of the employer form are drawn by admin JS
    page.goto(f"{base}/admin/enrollment/employer/add/")
    assert page.locator("input.vDateField").count() > 0
    page.locator(".datetimeshortcuts").first.wait_for()
    # our nonce'd inline script runs: changing the jurisdiction submits the health form
    page.goto(f"{base}/admin/funds/fundaccount/health/")
    options = page.locator("select[name=jurisdiction] option")
    if options.count() > 1:
        value = options.nth(1).get_attribute("value")
        with page.expect_navigation():
            page.select_option("select[name=jurisdiction]", value)
        assert f"jurisdiction={value}" in page.url
    assert blocked == []
