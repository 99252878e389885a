"""Browser checks of a case worker's (经办人员) everyday tasks in the Chinese admin (issue #19 item 9): register
an employee, record a separation (停保), record a payment for an owed month, approve a retirement clearance
case, print each document and verify one on the public /verify/ page.

Each walk builds only the data it needs and asserts what the user sees on screen (and the rows behind it).
Screenshots ``everyday-*.png`` go to a temporary folder (``bash bin/screenshots`` refreshes
``docs/screenshots/``).
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from tests.browser.test_claim_browser import _login, _shot, browser_page  # noqa: F401  (fixture)

PASSWORD = "pw-123456"
PDF_URL = re.compile(r"\.pdf(\?|$)")


def _pick(page, field: str, term: str, shown: str) -> None:
    """An autocomplete picker (select2): type ``term``, choose the row showing ``shown``."""
    page.click(f".field-{field} .select2-selection")
    page.fill(".select2-container--open .select2-search__field", term)
    page.click(f".select2-results__option:has-text('{shown}')")
    assert shown in page.inner_text(f".field-{field} .select2-selection__rendered")


def _employer(n: int, name: str, jurisdiction: str = "hunan", region: str = "430102"):
    from enrollment import services
    from operations.demo.population import credit_code

    return services.employer_register(
        credit_code=credit_code(region, n), name=name, jurisdiction=jurisdiction, registered_on=date(2020, 1, 1)
    )


def _worker(username: str):
    from enrollment.roles import CASE_WORKER
    from tests.conftest import make_user

    return make_user(username, CASE_WORKER)


def _save(page) -> None:
    with page.expect_navigation():
        page.click("input[name=_save]")


# --- 1. register an employee ---------------------------------------------------------------------


def test_case_worker_registers_an_employee(browser_page, live_server, transactional_db):  # noqa: F811
    """参保登记: the person's form (身份证号 gives sex and birth date), then 人员变动 入职 at the employer opens
    the enrolment (enrollment.services.life_event_record); the 个人全景 page shows the new span."""
    from django.utils import timezone

    from enrollment.models import EnrolmentSpan, InsuredPerson, LifeEvent
    from operations.demo.population import id_number

    employer = _employer(81, "登记测试有限公司")
    _worker("jingban_e1")
    new_id = id_number("430102", date(1991, 4, 12), 81, False)
    hired_on = timezone.localdate() - timedelta(days=2)
    page, base = browser_page, live_server.url
    _login(page, base, "jingban_e1", PASSWORD)

    # the person: 身份证号 and name; sex and birth date are read from the number
    page.goto(f"{base}/admin/enrollment/insuredperson/add/")
    page.fill("#id_id_number", new_id)
    page.fill("#id_name", "周新登")
    page.fill("#id_phone", "13800138000")
    _shot(page, "everyday-register-person-form.png")
    _save(page)
    assert "成功" in page.locator(".messagelist").inner_text()
    person = InsuredPerson.objects.get(id_number=new_id)
    assert person.sex == "2" and person.birth_date == date(1991, 4, 12), (person.sex, person.birth_date)

    # the enrolment: 人员变动 入职（参保） at the employer, picked by name
    page.goto(f"{base}/admin/enrollment/lifeevent/add/")
    _pick(page, "person", new_id[-8:], "周新登")
    page.select_option("#id_kind", "hire")
    page.fill("#id_occurred_on", hired_on.isoformat())
    page.select_option("#id_jurisdiction", label="湖南")
    _pick(page, "employer", "登记测试", "登记测试有限公司")
    _shot(page, "everyday-register-hire-form.png")
    _save(page)
    assert "成功" in page.locator(".messagelist").inner_text()
    event = LifeEvent.objects.get(person=person)
    assert event.kind == "hire" and event.recorded_by.username == "jingban_e1"
    span = EnrolmentSpan.objects.get(person=person)
    assert (span.employer, span.start, span.end, span.category) == (employer, hired_on, None, "employee")

    # what the case worker sees: the person's page lists the open span at the employer
    page.goto(f"{base}/operations/persons/{person.pk}/")
    spans = page.locator("#spans").inner_text()
    assert "登记测试有限公司" in spans and hired_on.isoformat() in spans and "正常参保" in spans
    assert "入职（参保）" in page.locator("#events").inner_text()
    _shot(page, "everyday-register-person-page.png")


# --- 2. record a separation (停保) ----------------------------------------------------------------


def test_case_worker_records_a_separation(browser_page, live_server, transactional_db):  # noqa: F811
    """停保: 人员变动 离职（停保） closes the open span on the day (end exclusive, status 终止参保); the person's
    page shows the end and the status."""
    from enrollment import services
    from enrollment.models import EnrolmentSpan
    from operations.demo.population import id_number

    employer = _employer(82, "停保测试有限公司")
    person = services.person_register(id_number=id_number("430102", date(1988, 9, 3), 82, True), name="吴离职")
    services.life_event_record(
        person=person, kind="hire", occurred_on=date(2024, 1, 1), jurisdiction="hunan", employer=employer
    )
    _worker("jingban_e2")
    page, base = browser_page, live_server.url
    _login(page, base, "jingban_e2", PASSWORD)
    page.goto(f"{base}/operations/persons/{person.pk}/")
    before = page.locator("#spans").inner_text()
    assert "正常参保" in before and "终止参保" not in before

    page.goto(f"{base}/admin/enrollment/lifeevent/add/")
    _pick(page, "person", person.id_number[-8:], "吴离职")
    page.select_option("#id_kind", "separation")
    page.fill("#id_occurred_on", "2025-07-01")
    page.select_option("#id_jurisdiction", label="湖南")
    _pick(page, "employer", "停保测试", "停保测试有限公司")
    _shot(page, "everyday-separation-form.png")
    _save(page)
    assert "成功" in page.locator(".messagelist").inner_text()
    span = EnrolmentSpan.objects.get(person=person)
    assert (span.end, span.status) == (date(2025, 7, 1), "4")

    page.goto(f"{base}/operations/persons/{person.pk}/")
    spans = page.locator("#spans").inner_text()
    assert "2024-01-01\t2025-07-01" in spans and "终止参保" in spans and "正常参保" not in spans
    assert "离职（停保）" in page.locator("#events").inner_text()
    _shot(page, "everyday-separation-person-page.png")


# --- 3. record a payment for an owed month ---------------------------------------------------------


def _month(first: date, delta: int) -> date:
    n = first.year * 12 + first.month - 1 + delta
    return date(n // 12, n % 12 + 1, 1)


def test_case_worker_records_a_payment_and_sees_nothing_owed(browser_page, live_server, transactional_db):  # noqa: F811
    """实缴登记: last month is unpaid past its due date (langfang 第二十三条: 暂停享受待遇 from the day after,
    D-X18); the case worker enters the tax receipt on the 实缴 form; the person's page then shows 无欠费 and,
    paid within three months (第二十三条, D-X5), 享受待遇 again."""
    from django.utils import timezone

    from benefits.services import eligibility_refresh
    from contributions.models import MonthlyDue, Payment
    from tests.test_eligibility_timeline import add_dues, langfang_employee

    today = timezone.localdate()
    this_month = today.replace(day=1)
    owed = _month(this_month, -1)  # due on its 25th, so overdue whatever today is
    person, employer = langfang_employee(31, hired=_month(this_month, -6))
    paid = {f"{m:%Y-%m}": m.replace(day=20) for m in (_month(this_month, k) for k in range(-6, -1))}
    paid[f"{owed:%Y-%m}"] = None
    add_dues(person, employer, paid)
    eligibility_refresh([person.pk], today)
    _worker("jingban_e3")
    page, base = browser_page, live_server.url
    _login(page, base, "jingban_e3", PASSWORD)

    page.goto(f"{base}/operations/persons/{person.pk}/")
    assert page.inner_text("#status-today") == "暂停享受待遇"
    assert page.inner_text("#arrears-principal") == "560.00"
    assert f"{owed:%Y-%m}" in page.locator("#arrears").inner_text()
    assert "第二十三条" in page.locator("#status").inner_text()
    _shot(page, "everyday-payment-owed.png")

    page.goto(f"{base}/admin/contributions/payment/add/")
    _pick(page, "person", person.id_number[-8:], person.name)
    page.fill("#id_amount", "600.00")  # 560.00 and the late fee; the rest stays unapplied
    page.fill("#id_paid_on", today.isoformat())
    page.fill("#id_reference", "SP3201260001")
    _shot(page, "everyday-payment-form.png")
    _save(page)
    assert "成功" in page.locator(".messagelist").inner_text()
    payment = Payment.objects.get(reference="SP3201260001")
    due = MonthlyDue.objects.get(person=person, month=owed)
    assert due.settled_on == today and due.paid_principal == 560 and payment.unapplied_amount < 40

    page.goto(f"{base}/operations/persons/{person.pk}/")
    assert page.inner_text("#arrears-principal") in ("0", "0.00")
    assert "无欠费" in page.locator("#arrears").inner_text()
    assert page.inner_text("#status-today") == "享受待遇"
    assert "暂停" not in page.locator("#status").inner_text()  # the reason no longer names the arrears
    _shot(page, "everyday-payment-nothing-owed.png")


# --- 4. approve a retirement clearance case --------------------------------------------------------


def _clearance_case(n: int):
    """hunan 第二十七条, 第二十八条: a woman cadre born 1969-05-10 retires at 55 with 200 deemed + 12 paid local
    months = 212 of the 300 cumulative and 120 local required → 108 months short; lump sum 缴费基准值 6000 ×
    (8% + 2%, 第十一条) × 108 = 64 800.00 (D-H9). The 缴费基准值 is a demo statistic entered here."""
    from contributions.retirement import services as clearance
    from enrollment import services
    from operations.demo.population import id_number
    from tests.test_retirement_clearance_cases import paid_months, stat

    stat("hunan", 6000, date(2024, 1, 1))
    employer = _employer(n, "清缴测试有限公司")
    person = services.person_register(
        id_number=id_number("430102", date(1969, 5, 10), n, False),
        name="郑清缴",
        female_role="cadre",
        deemed_months=200,
    )
    services.life_event_record(
        person=person, kind="hire", occurred_on=date(2023, 5, 1), jurisdiction="hunan", employer=employer
    )
    paid_months(person, employer, date(2023, 5, 1), 12)
    case = clearance.case_open(
        person=person, reason="legal_age", retire_on=date(2024, 5, 10), opened_on=date(2024, 5, 10)
    )
    return person, employer, case


def test_case_worker_approves_a_retirement_clearance_case(browser_page, live_server, transactional_db):  # noqa: F811
    """退休清缴: the case worker opens the case (108 months short, 64 800.00), approves it from the list (a
    补缴单 is issued), records the tax receipt, and the person is a retiree from the next month."""
    from django.utils import timezone

    from contributions.retirement.models import RetirementClearanceCase
    from enrollment.models import EnrolmentSpan

    person, _employer_row, case = _clearance_case(83)
    _worker("jingban_e4")
    today = timezone.localdate()
    page, base = browser_page, live_server.url
    _login(page, base, "jingban_e4", PASSWORD)

    page.goto(f"{base}/admin/retirement/retirementclearancecase/{case.pk}/change/")
    body = page.inner_text("#content-main")
    assert "郑清缴" in body and "64800.00" in body and "108" in body and "待审核" in body
    assert "不可选择，只能一次性补缴" in body  # hunan 第二十八条
    _shot(page, "everyday-clearance-case.png")

    page.goto(f"{base}/admin/retirement/retirementclearancecase/")
    page.check(f"input[name=_selected_action][value='{case.pk}']")
    page.select_option("select[name=action]", "approve")
    with page.expect_navigation():
        page.click("button[name=index]")
    assert f"案件 #{case.pk}：已开具补缴单" in page.locator(".messagelist").inner_text()
    case.refresh_from_db()
    assert case.status == "billed" and case.bill_amount == 64800 and case.bill_no
    assert "已开具补缴单" in page.inner_text("#result_list")  # the list shows the case's new status
    _shot(page, "everyday-clearance-approved.png")

    page.goto(f"{base}/admin/retirement/retirementclearancecase/{case.pk}/change/")
    assert case.bill_no in page.inner_text("#content-main")
    page.click("a:has-text('登记缴费到账')")
    assert "64800.00" in page.inner_text("#content")
    page.fill("#id_paid_on", today.isoformat())
    page.fill("#id_reference", "QJ4301260001")
    with page.expect_navigation():
        page.click("input[value=登记缴费到账]")
    assert "已登记缴费并转为退休人员" in page.locator(".messagelist").inner_text()
    case = RetirementClearanceCase.objects.get(pk=case.pk)
    next_month = _month(today.replace(day=1), 1)
    assert case.status == "closed" and case.retiree_from == next_month
    assert EnrolmentSpan.objects.get(person=person, category="retiree").start == next_month

    page.goto(f"{base}/operations/persons/{person.pk}/")
    spans = page.locator("#spans").inner_text()
    assert "退休" in spans and next_month.isoformat() in spans
    assert "已办结" in page.locator("#clearance").inner_text()
    _shot(page, "everyday-clearance-retiree.png")


# --- 5. print each document and verify one ---------------------------------------------------------


def _pdf_from(page, selector: str) -> tuple[str, str]:
    """Click a print button; the PDF arrives (shown in Chromium's viewer): its text and code. Then back."""
    from pypdf import PdfReader

    received: list[bytes] = []

    def keep(route) -> None:  # the bytes as they arrive (the viewer's page replaces them in the response)
        fetched = route.fetch()
        received.append(fetched.body())
        route.fulfill(response=fetched)

    page.route(PDF_URL, keep)
    with page.expect_response(PDF_URL) as response:
        page.click(selector)
    arrived = response.value
    assert arrived.status == 200 and arrived.headers["content-type"] == "application/pdf", arrived.status
    page.unroute(PDF_URL, keep)
    data = received[-1]
    assert data[:5] == b"%PDF-", data[:200]
    page.go_back()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    found = re.search(r"核验码[：:]\s*([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", text)
    assert found, text
    return text, found.group(1)


def test_case_worker_prints_each_document_and_a_visitor_verifies_one(
    browser_page,  # noqa: F811
    live_server,
    transactional_db,
    settings,
    tmp_path,
):
    """文书打印 (issue #19 item 6): 参保证明, 个人缴费明细, 个人账户对账单 from the person's page, 单位缴费通知单
    from the employer's, 退休清缴核定通知 from the case's; each PDF carries its verification code (read with
    pypdf, matching the register of issued documents); an anonymous visitor checks one code on /verify/
    (genuine) and a wrong code (not found)."""
    from decimal import Decimal

    from django.core.cache import cache

    from contributions.retirement.models import RetirementClearanceCase
    from enrollment import services
    from funds import posting
    from funds.models import AccountKind, EntryKind
    from funds.posting import Leg
    from operations.demo.population import id_number
    from operations.documents import codes
    from operations.models import IssuedDocument
    from tests.access_world import due, pay

    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()  # the verification page's rate limit counts per client in the cache
    employer = _employer(84, "文书测试有限公司")
    person = services.person_register(id_number=id_number("430102", date(1975, 2, 8), 84, True), name="钱文书")
    services.span_open(
        person=person, jurisdiction="hunan", category="employee", start=date(2023, 1, 1), employer=employer
    )
    paid_due = due(person, employer, date(2024, 3, 1), "812.34")
    pay(person, paid_due, "PAY-DOC-1", "812.34")
    paid_due.settled_on, paid_due.paid_principal = date(2024, 3, 15), Decimal("812.34")
    paid_due.save()
    due(person, employer, date(2024, 4, 1), "765.43")
    account = posting.personal_account(person, "hunan", on=date(2024, 1, 1))
    pool = posting.fund_account("hunan", AccountKind.POOLED)
    credit = Decimal("250.50")
    posting.post_entry(business_key="doc:1", kind=EntryKind.RETIREE_CREDIT, jurisdiction="hunan",
                       effective_on=date(2024, 2, 10), legs=[Leg(account, credit), Leg(pool, -credit)],
                       person=person)  # fmt: skip
    case = RetirementClearanceCase.objects.create(
        person=person, jurisdiction=employer.jurisdiction, opened_on=date(2024, 1, 1), reason="legal_age",
        retire_on=date(2024, 5, 1), required_months=300, cumulative_months=Decimal("270"), shortfall_months=30,
        lump_sum=Decimal("23456.78"), status="approved", approved_on=date(2024, 5, 3), citation="湖南 第二十九条",
    )  # fmt: skip
    _worker("jingban_e5")
    page, base = browser_page, live_server.url
    _login(page, base, "jingban_e5", PASSWORD)
    printed: dict[str, str] = {}

    # the person's page → 打印文书: three documents
    page.goto(f"{base}/admin/enrollment/insuredperson/{person.pk}/change/")
    page.click("a:has-text('打印文书')")
    page.wait_for_url(re.compile(rf"/documents/person/{person.pk}/$"))
    _shot(page, "everyday-print-person.png")
    text, printed["enrolment"] = _pdf_from(page, "a:has-text('打印参保证明')")
    assert "参保证明" in text and "钱文书" in text and "文书测试有限公司" in text and "正常参保" in text
    page.fill("input[name=start]", "2024-01")
    page.fill("input[name=end]", "2024-12")
    text, printed["contributions"] = _pdf_from(page, "input[value='打印缴费明细（PDF）']")
    assert "个人缴费明细" in text and "812.34" in text and "765.43" in text and "1,577.77" in text
    page.fill("input[name=year]", "2024")
    text, printed["account"] = _pdf_from(page, "input[value='打印对账单（PDF）']")
    assert "个人账户对账单" in text and "250.50" in text

    # the employer's page → 打印文书: the 缴费通知单 of a month
    page.goto(f"{base}/admin/enrollment/employer/{employer.pk}/change/")
    page.click("a:has-text('打印文书')")
    page.wait_for_url(re.compile(rf"/documents/employer/{employer.pk}/$"))
    page.fill("input[name=month]", "2024-04")
    _shot(page, "everyday-print-employer.png")
    text, printed["employer_notice"] = _pdf_from(page, "input[value='打印缴费通知单（PDF）']")
    assert "单位缴费通知单" in text and "钱文书" in text and "765.43" in text

    # the clearance case's page → 打印核定通知
    page.goto(f"{base}/admin/retirement/retirementclearancecase/{case.pk}/change/")
    text, printed["clearance"] = _pdf_from(page, "a:has-text('打印核定通知')")
    assert "退休清缴核定通知" in text and "23,456.78" in text and "第二十九条" in text

    # each code on paper is the one registered for that kind of document
    issued = {d.kind: codes.display(d.code) for d in IssuedDocument.objects.all()}
    assert issued == printed, (issued, printed)

    # an anonymous visitor: the public verification page
    page.context.clear_cookies()
    page.goto(f"{base}/verify/")
    page.fill("#id_code", printed["enrolment"].lower().replace("-", " "))
    with page.expect_navigation():
        page.click("button:has-text('核验')")
    result = page.inner_text("#verify-result")
    assert "核验通过" in result and "参保证明" in result and "钱**" in result
    assert "钱文书" not in page.inner_text("body") and person.id_number not in page.inner_text("body")
    _shot(page, "everyday-verify-genuine.png")
    wrong = printed["enrolment"][:-1] + ("2" if printed["enrolment"][-1] != "2" else "3")  # a well-formed code
    page.fill("#id_code", wrong)
    with page.expect_navigation():
        page.click("button:has-text('核验')")
    assert "未找到核验码" in page.inner_text("#verify-result")
    _shot(page, "everyday-verify-not-found.png")
