"""Browser check (issue #19): a case worker types a fragment of a name in the header's search box, opens the
person found and reads the 个人全景 page; an employer user's box finds only their own people.

Screenshots ``search-*.png`` go to a temporary folder (``bash bin/screenshots`` refreshes the documented ones).
"""

from __future__ import annotations

import os
import re
from datetime import date

from tests.browser.test_claim_browser import _login, _shot, browser_page  # noqa: F401 (a fixture)


def test_find_a_person_from_a_name_fragment_and_open_their_page(browser_page, live_server, transactional_db):  # noqa: F811
    from enrollment import services
    from enrollment.models import EmployerUser
    from enrollment.roles import CASE_WORKER, EMPLOYER_USER
    from operations.demo.population import credit_code, id_number
    from tests.conftest import make_user

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    mine = services.employer_register(
        credit_code=credit_code("430102", 71), name="刚志机械厂", jurisdiction="hunan", registered_on=date(2020, 1, 1)
    )
    other = services.employer_register(
        credit_code=credit_code("430102", 72), name="其他单位", jurisdiction="hunan", registered_on=date(2020, 1, 1)
    )
    people = {}
    for n, (name, employer) in enumerate((("李刚志", mine), ("王刚志", other), ("张三", mine)), start=1):
        person = services.person_register(id_number=id_number("430102", date(1985, 3, 9), 60 + n, True), name=name)
        services.span_open(
            person=person, jurisdiction="hunan", category="employee", start=date(2023, 1, 1), employer=employer
        )
        people[name] = person
    make_user("jingban_s", CASE_WORKER)
    employer_user = make_user("danwei_s", EMPLOYER_USER)
    EmployerUser.objects.create(user=employer_user, employer=mine)
    page, base = browser_page, live_server.url

    _login(page, base, "jingban_s", "pw-123456")
    page.fill("#header-search input[name=q]", "刚志")  # not the start of any name
    page.press("#header-search input[name=q]", "Enter")
    page.wait_for_selector("#search-persons")
    rows = page.inner_text("#search-persons")
    assert "李刚志" in rows and "王刚志" in rows and "张三" not in rows
    assert "刚志机械厂" in page.inner_text("#search-employers")
    _shot(page, "search-results.png")
    page.click("#search-persons a:has-text('李刚志')")
    page.wait_for_url(re.compile(rf"/operations/persons/{people['李刚志'].pk}/"))
    body = page.inner_text("body")
    assert "个人全景：李刚志" in body and people["李刚志"].id_number in body and "刚志机械厂" in body
    for heading in ("身份信息", "参保关系", "欠费与滞纳金", "缴费基数", "人员变动"):
        assert heading in body, heading
    _shot(page, "search-person-page.png")

    page.context.clear_cookies()
    _login(page, base, "danwei_s", "pw-123456")
    page.fill("#header-search input[name=q]", "lgz")  # pinyin initials
    page.press("#header-search input[name=q]", "Enter")
    page.wait_for_selector("#search-persons")
    assert "李刚志" in page.inner_text("#search-persons")
    page.goto(f"{base}/operations/search/?q=%E5%88%9A%E5%BF%97")  # 刚志: only their own employee
    rows = page.inner_text("#search-persons")
    assert "李刚志" in rows and "王刚志" not in rows
