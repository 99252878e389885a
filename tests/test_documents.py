"""Printable documents (issue #19 item 6): each PDF renders with its figures, code and QR; the public
verification page (genuine, forged, rate-limited, masked); who may print what; masking; the bulk run."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from pypdf import PdfReader

from contributions.retirement.models import RetirementClearanceCase
from enrollment.identifiers import mask_id_number
from funds import posting
from funds.models import AccountKind, EntryKind
from funds.posting import Leg
from operations.documents import codes
from operations.models import BatchStatus, DocumentBatch, IssuedDocument
from tests.access_world import due, pay

pytestmark = pytest.mark.django_db
D = Decimal


def text_of(pdf: bytes) -> str:
    assert pdf[:5] == b"%PDF-"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(employer_a, employer_b, person_factory, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    zhang = person_factory(employer=employer_a, name="张三丰", start=date(2023, 1, 1))
    li = person_factory(employer=employer_a, name="李四", start=date(2023, 6, 1))
    other = person_factory(employer=employer_b, name="王五", start=date(2023, 1, 1))
    d1 = due(zhang, employer_a, date(2024, 3, 1), "812.34")
    pay(zhang, d1, "PAY-Z-1", "812.34")
    d1.settled_on = date(2024, 3, 15)
    d1.paid_principal = D("812.34")
    d1.save()
    due(zhang, employer_a, date(2024, 4, 1), "765.43")
    due(li, employer_a, date(2024, 3, 1), "432.10")
    return {"a": employer_a, "b": employer_b, "zhang": zhang, "li": li, "other": other}


def get_pdf(client, name: str, **kw) -> tuple[str, IssuedDocument]:
    query = kw.pop("query", "")
    response = client.get(reverse(f"documents:{name}", kwargs=kw) + query)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    text = text_of(response.content)
    return text, IssuedDocument.objects.latest("id")


# --- each PDF renders with its figures ----------------------------------------------------------


def test_enrolment_certificate_shows_spans_status_and_code(client, case_worker, world):
    client.force_login(case_worker)
    text, doc = get_pdf(client, "person_enrolment", person_id=world["zhang"].pk)
    assert "参保证明" in text and "张三丰" in text
    assert world["zhang"].id_number in text  # 经办人员 may see PII: printed in full
    assert "甲公司" in text and "2023-01-01" in text and "正常参保" in text
    assert codes.display(doc.code) in text
    assert f"http://testserver/verify/{doc.code}/" in text  # the address the QR code points to
    assert doc.kind == "enrolment" and doc.subject_masked == "张**"
    assert doc.subject_id_masked == mask_id_number(world["zhang"].id_number)
    assert len(doc.code) == 12 and codes.normalise(codes.display(doc.code)) == doc.code


def test_contribution_detail_prints_the_periods_dues_and_totals(client, case_worker, world):
    client.force_login(case_worker)
    text, doc = get_pdf(client, "person_contributions", person_id=world["zhang"].pk, query="?start=2024-01&end=2024-12")
    assert "个人缴费明细" in text and "2024年03月" in text and "2024年04月" in text
    assert "812.34" in text and "765.43" in text
    assert "1,577.77" in text  # 应缴合计 812.34 + 765.43
    assert "2024-03-15" in text  # 缴清日期
    assert (doc.period_start, doc.period_end) == (date(2024, 1, 1), date(2025, 1, 1))


def test_contribution_detail_outside_the_period_prints_no_rows(client, case_worker, world):
    client.force_login(case_worker)
    text, _ = get_pdf(client, "person_contributions", person_id=world["zhang"].pk, query="?start=2022-01&end=2022-12")
    assert "812.34" not in text and "无记录" in text


def test_account_statement_shows_opening_postings_and_closing(client, case_worker, world):
    zhang = world["zhang"]
    acct = posting.personal_account(zhang, "hunan", on=date(2023, 12, 1))
    pool = posting.fund_account("hunan", AccountKind.POOLED)
    for key, on, amount in (("s:1", date(2023, 12, 10), "100.00"), ("s:2", date(2024, 2, 10), "250.50")):
        posting.post_entry(business_key=key, kind=EntryKind.RETIREE_CREDIT, jurisdiction="hunan", effective_on=on,
                           legs=[Leg(acct, D(amount)), Leg(pool, -D(amount))], person=zhang)  # fmt: skip
    posting.post_account_payment(person=zhang, jurisdiction="hunan", amount=D("40.25"), on=date(2024, 5, 6),
                                 business_key="s:3")  # fmt: skip
    client.force_login(case_worker)
    text, _doc = get_pdf(client, "person_account", person_id=zhang.pk, query="?year=2024")
    assert "个人账户对账单" in text and "2024年度" in text
    assert "100.00" in text  # 期初余额 (the 2023 credit)
    assert "250.50" in text and "40.25" in text
    assert "310.25" in text  # 期末余额 100 + 250.50 − 40.25
    assert "2024-02-10" in text and "2023-12-10" not in text


def test_account_statement_without_an_account_is_a_message_not_an_error(client, case_worker, world):
    client.force_login(case_worker)
    response = client.get(reverse("documents:person_account", kwargs={"person_id": world["li"].pk}))
    assert response.status_code == 409
    assert "没有个人账户" in response.content.decode()
    assert not IssuedDocument.objects.exists()


def test_employer_notice_lists_the_months_people_and_totals(client, case_worker, world):
    client.force_login(case_worker)
    text, doc = get_pdf(client, "employer_notice", employer_id=world["a"].pk, query="?month=2024-03")
    assert "单位缴费通知单" in text and "甲公司" in text and "2024年03月" in text
    assert "张三丰" in text and "李四" in text and "王五" not in text
    assert "1,244.44" in text  # 812.34 + 432.10
    assert "432.10" in text  # 欠缴本金: 李四's month is unpaid
    assert doc.employer == world["a"] and doc.subject_id_masked == world["a"].credit_code


def test_clearance_decision_prints_the_cases_figures(client, case_worker, world):
    case = RetirementClearanceCase.objects.create(
        person=world["zhang"], jurisdiction=world["a"].jurisdiction, opened_on=date(2024, 1, 1),
        reason="legal_age", retire_on=date(2024, 5, 1), required_months=300, cumulative_months=D("270"),
        shortfall_months=30, lump_sum=D("23456.78"), status="approved", approved_on=date(2024, 5, 3),
        citation="湖南 第二十九条",
    )  # fmt: skip
    client.force_login(case_worker)
    text, doc = get_pdf(client, "clearance_decision", case_id=case.pk)
    assert "退休清缴核定通知" in text and "张三丰" in text
    assert "23,456.78" in text and "300" in text and "270" in text and "30" in text
    assert "第二十九条" in text and "已审核" in text
    assert doc.kind == "clearance"


def test_each_print_gets_its_own_code_and_the_digest_follows_the_figures(client, case_worker, world):
    client.force_login(case_worker)
    _, first = get_pdf(client, "person_enrolment", person_id=world["zhang"].pk)
    _, second = get_pdf(client, "person_enrolment", person_id=world["zhang"].pk)
    assert first.code != second.code
    assert first.digest == second.digest  # same figures, same digest
    _, other = get_pdf(client, "person_enrolment", person_id=world["li"].pk)
    assert other.digest != first.digest


# --- verification ------------------------------------------------------------------------------------


def test_verify_genuine_shows_only_a_masked_summary(client, case_worker, world):
    client.force_login(case_worker)
    _, doc = get_pdf(client, "person_enrolment", person_id=world["zhang"].pk)
    client.logout()
    response = client.get(reverse("documents:verify_code", kwargs={"code": codes.display(doc.code).lower()}))
    page = response.content.decode()
    assert response.status_code == 200
    assert "核验通过" in page and "参保证明" in page
    assert "张**" in page and mask_id_number(world["zhang"].id_number) in page
    assert "张三丰" not in page and world["zhang"].id_number not in page
    assert "甲公司" not in page  # nothing beyond the summary
    assert "<script" not in page and not re.search(r"\son\w+=", page)  # nothing the CSP would block
    assert "script-src 'self'" in response["Content-Security-Policy"]  # the project's policy applies here too


def test_print_pages_keep_to_the_csp(client, case_worker, world):
    client.force_login(case_worker)
    for url in (
        reverse("documents:person_print", kwargs={"person_id": world["zhang"].pk}),
        reverse("documents:employer_print", kwargs={"employer_id": world["a"].pk}),
        reverse("documents:person_contributions", kwargs={"person_id": world["zhang"].pk}) + "?start=x&end=y",
    ):
        response = client.get(url)
        page = response.content.decode()
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        nonce = re.search(r"'nonce-([^']+)'", policy)
        scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
        assert all(nonce and f'nonce="{nonce.group(1)}"' in attrs for attrs in scripts), url
        assert not re.search(r"\son(click|change|load|submit)=", page) and "javascript:" not in page, url


def test_verify_form_redirects_a_typed_code(client, world, case_worker):
    client.force_login(case_worker)
    _, doc = get_pdf(client, "person_enrolment", person_id=world["zhang"].pk)
    client.logout()
    response = client.get(reverse("documents:verify"), {"code": " " + codes.display(doc.code) + " "})
    assert response.status_code == 302
    assert response["Location"] == reverse("documents:verify_code", kwargs={"code": doc.code})


@pytest.mark.parametrize("typed", ["ABCD", "ABCD-EFGH-IJKL", "x" * 30, "'; DROP TABLE--", "０１２３"])
def test_verify_form_refuses_a_malformed_code_with_a_message(client, typed):
    response = client.get(reverse("documents:verify"), {"code": typed})
    assert response.status_code == 400
    assert "核验码：" in response.content.decode()


def test_verify_forged_code_is_not_genuine(client, world):
    forged = "ABCDEFGHJKMN"
    assert not IssuedDocument.objects.filter(code=forged).exists()
    response = client.get(reverse("documents:verify_code", kwargs={"code": forged}))
    assert response.status_code == 404
    page = response.content.decode()
    assert "未找到核验码" in page and "核验通过" not in page


def test_verify_is_rate_limited_per_client_with_a_friendly_refusal(client, settings, world):
    settings.DOCUMENT_VERIFY_RATE = (3, 600)
    url = reverse("documents:verify_code", kwargs={"code": "ABCDEFGHJKMN"})
    assert [client.get(url).status_code for _ in range(3)] == [404, 404, 404]
    refused = client.get(url)
    assert refused.status_code == 429
    assert "查询过于频繁" in refused.content.decode() and refused["Retry-After"] == "600"
    # another client (address) is not held back by the first one
    assert client.get(url, REMOTE_ADDR="10.1.2.3").status_code == 404


# --- who may print, masking -----------------------------------------------------------------------


def test_auditor_prints_with_the_id_number_masked(client, auditor, world):
    client.force_login(auditor)
    text, _ = get_pdf(client, "person_enrolment", person_id=world["zhang"].pk)
    assert world["zhang"].id_number not in text
    assert mask_id_number(world["zhang"].id_number) in text
    text, _ = get_pdf(client, "employer_notice", employer_id=world["a"].pk, query="?month=2024-03")
    assert world["li"].id_number not in text and mask_id_number(world["li"].id_number) in text


def test_employer_user_prints_for_its_own_people_only(client, employer_user_a, world):
    client.force_login(employer_user_a)
    text, _ = get_pdf(client, "person_enrolment", person_id=world["zhang"].pk)
    assert "张三丰" in text
    text, _ = get_pdf(client, "employer_notice", employer_id=world["a"].pk, query="?month=2024-03")
    assert "张三丰" in text
    before = IssuedDocument.objects.count()
    for name, kw in (
        ("person_enrolment", {"person_id": world["other"].pk}),
        ("person_contributions", {"person_id": world["other"].pk}),
        ("employer_notice", {"employer_id": world["b"].pk}),
        ("employer_print", {"employer_id": world["b"].pk}),
        ("person_account", {"person_id": world["zhang"].pk}),  # bureau-only document
    ):
        assert client.get(reverse(f"documents:{name}", kwargs=kw)).status_code in (403, 404), name
    assert IssuedDocument.objects.count() == before


def test_employer_user_sees_only_its_own_months_of_a_mover(client, employer_user_a, employer_b, world):
    """A person who moved: the former employer's detail shows only the months it paid for."""
    zhang = world["zhang"]
    zhang.spans.update(end=date(2024, 5, 1))
    from enrollment import services

    services.span_open(person=zhang, jurisdiction="hunan", category="employee", start=date(2024, 5, 1),
                       employer=employer_b)  # fmt: skip
    due(zhang, employer_b, date(2024, 6, 1), "999.88")
    client.force_login(employer_user_a)
    text, _ = get_pdf(client, "person_contributions", person_id=zhang.pk, query="?start=2024-01&end=2024-12")
    assert "812.34" in text and "999.88" not in text and "乙公司" not in text


def test_anonymous_cannot_print(client, world):
    response = client.get(reverse("documents:person_enrolment", kwargs={"person_id": world["zhang"].pk}))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not IssuedDocument.objects.exists()


@pytest.mark.parametrize(
    "query, field",
    [("?start=2024-13&end=2024-12", "start"), ("?start=2024-05&end=2024-01", "end"),
     ("?start=1800-01&end=2024-01", "start"), ("?start=2000-01&end=2024-01", "end"), ("?start=&end=", "start"),
     ("?start=abc&end=2024-01", "start")],
)  # fmt: skip
def test_bad_period_is_a_message_on_its_field(client, case_worker, world, query, field):
    client.force_login(case_worker)
    response = client.get(reverse("documents:person_contributions", kwargs={"person_id": world["zhang"].pk}) + query)
    assert response.status_code == 400
    assert f"（{field}，" in response.content.decode()
    assert not IssuedDocument.objects.exists()


# --- buttons ------------------------------------------------------------------------------------


def test_buttons_on_the_person_employer_and_case_pages(client, case_worker, world):
    case = RetirementClearanceCase.objects.create(
        person=world["zhang"], jurisdiction=world["a"].jurisdiction, opened_on=date(2024, 1, 1),
        reason="legal_age", retire_on=date(2024, 5, 1),
    )  # fmt: skip
    client.force_login(case_worker)
    pages = {
        reverse("admin:enrollment_insuredperson_change", args=[world["zhang"].pk]): reverse(
            "documents:person_print", kwargs={"person_id": world["zhang"].pk}
        ),
        reverse("admin:enrollment_employer_change", args=[world["a"].pk]): reverse(
            "documents:employer_print", kwargs={"employer_id": world["a"].pk}
        ),
        reverse("admin:retirement_retirementclearancecase_change", args=[case.pk]): reverse(
            "documents:clearance_decision", kwargs={"case_id": case.pk}
        ),
    }
    for page, link in pages.items():
        assert link in client.get(page).content.decode(), page
    person_page = client.get(reverse("documents:person_print", kwargs={"person_id": world["zhang"].pk}))
    assert (
        reverse("documents:person_contributions", kwargs={"person_id": world["zhang"].pk})
        in person_page.content.decode()
    )


# --- bulk run -----------------------------------------------------------------------------------------


def test_bulk_run_for_an_employer_gives_one_zip_with_a_pdf_per_person(
    client, case_worker, world, django_capture_on_commit_callbacks
):
    client.force_login(case_worker)
    url = reverse("documents:bulk_start", kwargs={"employer_id": world["a"].pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"kind": "contributions", "start": "2024-01", "end": "2024-12"})
    assert response.status_code == 302
    batch = DocumentBatch.objects.get()
    assert response["Location"] == reverse("documents:bulk_progress", kwargs={"pk": batch.pk})
    assert (batch.status, batch.total, batch.done, batch.percent) == (BatchStatus.DONE, 2, 2, 100)
    progress = client.get(response["Location"]).content.decode()
    assert "2 / 2" in progress and "下载 ZIP" in progress
    download = client.get(reverse("documents:bulk_download", kwargs={"pk": batch.pk}))
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = archive.namelist()
    assert len(names) == 2 and all(n.endswith(".pdf") for n in names)
    texts = [text_of(archive.read(n)) for n in names]
    assert any("张三丰" in t and "1,577.77" in t for t in texts)
    assert any("李四" in t and "432.10" in t for t in texts)
    assert not any("王五" in t for t in texts)
    assert batch.documents.count() == 2  # each PDF registered with its own code
    for doc in batch.documents.all():
        assert any(codes.display(doc.code) in t for t in texts)


def test_bulk_run_input_errors_and_other_employers(client, case_worker, employer_user_a, world):
    client.force_login(case_worker)
    url = reverse("documents:bulk_start", kwargs={"employer_id": world["a"].pk})
    response = client.post(url, {"kind": "contributions", "start": "2024-05"})
    assert response.status_code == 200 and "打印缴费明细须填写起止月份" in response.content.decode()
    response = client.post(url, {"kind": "nonsense"})
    assert response.status_code == 200 and not DocumentBatch.objects.exists()
    client.force_login(employer_user_a)
    other = reverse("documents:bulk_start", kwargs={"employer_id": world["b"].pk})
    assert client.post(other, {"kind": "enrolment"}).status_code == 404
    assert not DocumentBatch.objects.exists()


def test_bulk_progress_is_refused_to_another_employer(client, case_worker, employer_user_a, world):
    batch = DocumentBatch.objects.create(
        employer=world["b"], kind="enrolment", as_of=date(2024, 6, 1), base_url="http://x", requested_by=case_worker
    )
    client.force_login(employer_user_a)
    assert client.get(reverse("documents:bulk_progress", kwargs={"pk": batch.pk})).status_code == 404
    assert client.get(reverse("documents:bulk_download", kwargs={"pk": batch.pk})).status_code == 404


def test_register_of_issued_documents_for_bureau_staff_only(client, auditor, employer_user_a, world, case_worker):
    client.force_login(case_worker)
    _, doc = get_pdf(client, "person_enrolment", person_id=world["zhang"].pk)
    _, other = get_pdf(client, "person_enrolment", person_id=world["li"].pk)
    url = reverse("admin:operations_issueddocument_changelist")
    client.force_login(auditor)
    page = client.get(url, {"q": codes.display(doc.code).lower()}).content.decode()
    assert codes.display(doc.code) in page and codes.display(other.code) not in page  # found by its typed code
    client.force_login(employer_user_a)
    assert client.get(url).status_code == 403


def test_employer_user_certificate_says_only_whether_enrolled_at_its_own_employer(
    client, employer_user_a, employer_b, world
):
    zhang = world["zhang"]
    zhang.spans.update(end=date(2024, 5, 1))
    from enrollment import services

    services.span_open(person=zhang, jurisdiction="hunan", category="employee", start=date(2024, 5, 1),
                       employer=employer_b)  # fmt: skip
    client.force_login(employer_user_a)
    text, _ = get_pdf(client, "person_enrolment", person_id=zhang.pk)
    assert "不在本单位参保" in text and "乙公司" not in text and "甲公司" in text


def test_bulk_run_that_fails_is_marked_failed_and_keeps_no_document(
    client, case_worker, world, monkeypatch, django_capture_on_commit_callbacks
):
    from operations.documents import services as doc_services

    real_issue, calls = doc_services.issue, []

    def issue_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("磁盘已满")
        return real_issue(*args, **kwargs)

    monkeypatch.setattr(doc_services, "issue", issue_then_fail)
    client.force_login(case_worker)
    url = reverse("documents:bulk_start", kwargs={"employer_id": world["a"].pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"kind": "enrolment"})
    assert response.status_code == 302
    batch = DocumentBatch.objects.get()
    assert batch.status == BatchStatus.FAILED and "磁盘已满" in batch.error
    assert not IssuedDocument.objects.exists() and not batch.file
    page = client.get(response["Location"]).content.decode()
    assert "批量出具失败" in page
    assert client.get(reverse("documents:bulk_download", kwargs={"pk": batch.pk})).status_code == 404
