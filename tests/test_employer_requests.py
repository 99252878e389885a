"""单位增减员申请 (issue #14 items 1, 7): employers submit hires, separations, wage changes and corrections by
screen and by file; case workers 受理 → 审核 → 办结 (applied through the register's services) or 退回;
queue filters and counts; scoping of requests and attachments; the late-registration list (hunan 第十七条)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from contributions.models import WageDeclaration
from enrollment.models import (
    EmployerRequest,
    EmployerUser,
    EnrolmentSpan,
    InsuredPerson,
    LifeEvent,
    RequestAttachment,
    RequestState,
)
from enrollment.requests import services as rs
from enrollment.requests.selectors import late_registrations_count, open_requests_count
from enrollment.roles import EMPLOYER_USER
from operations.demo.population import id_number
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def today() -> date:
    return timezone.localdate()


def new_id(n: int, birth: date = date(1990, 4, 1), male: bool = True) -> str:
    return id_number("430103", birth, 100 + n, male)


def hire(n: int, *, days_ago: int = 5, **kw) -> rs.RequestInput:
    return rs.RequestInput(
        kind="hire",
        id_number=new_id(n),
        name=kw.pop("name", f"新人{n}"),
        occurred_on=today() - timedelta(days_ago),
        **kw,
    )


@pytest.fixture
def emp_b_user(db, employer_b):
    user = make_user("t_emp_b", EMPLOYER_USER)
    EmployerUser.objects.create(user=user, employer=employer_b)
    return user


def approve(req, user):
    rs.request_accept(req, user=user)
    rs.request_review(req, user=user)
    return rs.request_approve(req, user=user, on=today())


# --- services ---------------------------------------------------------------------------------------------


def test_hire_approved_opens_the_span_and_records_when_it_was_reported(employer_a, employer_user_a, case_worker):
    req = rs.request_submit(employer=employer_a, data=hire(1), on=today(), user=employer_user_a)
    assert req.state == RequestState.SUBMITTED and req.person is None
    assert req.report_deadline == req.occurred_on + timedelta(days=30)  # hunan 第十七条
    done = approve(req, case_worker)
    assert done.state == RequestState.DONE and done.closed_at is not None
    person = InsuredPerson.objects.get(id_number=new_id(1))
    span = EnrolmentSpan.objects.get(person=person)
    assert span.employer == employer_a and span.start == req.occurred_on and span.end is None
    event = LifeEvent.objects.get(person=person, kind="hire")
    assert event.reported_on == today() and event.report_deadline == req.report_deadline
    assert done.event == event
    assert [h.state for h in done.history.order_by("history_id")] == ["submitted", "accepted", "reviewed", "done"]


def test_separation_approved_closes_the_span(employer_a, person_factory, case_worker):
    person = person_factory(employer=employer_a, start=date(2024, 1, 1))
    data = rs.RequestInput(kind="separation", id_number=person.id_number, name=person.name, occurred_on=today())
    approve(rs.request_submit(employer=employer_a, data=data, on=today()), case_worker)
    assert EnrolmentSpan.objects.get(person=person).end == today()


def test_wage_change_approved_declares_the_wage(employer_a, person_factory, case_worker):
    person = person_factory(employer=employer_a, start=date(2024, 1, 1))
    data = rs.RequestInput(
        kind="wage_change",
        id_number=person.id_number,
        name=person.name,
        occurred_on=today(),
        monthly_wage=Decimal("7300.50"),
    )
    approve(rs.request_submit(employer=employer_a, data=data, on=today()), case_worker)
    declaration = WageDeclaration.objects.get(person=person, employer=employer_a)
    assert declaration.monthly_wage == Decimal("7300.50") and declaration.year == today().year


def test_correction_approved_changes_the_phone_with_history(employer_a, person_factory, case_worker):
    person = person_factory(employer=employer_a, start=date(2024, 1, 1), phone="13900000000")
    data = rs.RequestInput(
        kind="correction", id_number=person.id_number, name=person.name, occurred_on=today(), phone="13711112222"
    )
    approve(rs.request_submit(employer=employer_a, data=data, on=today()), case_worker)
    person.refresh_from_db()
    assert person.phone == "13711112222"
    assert person.history.earliest("history_id").phone == "13900000000"


def test_returned_request_keeps_the_reason_and_changes_nothing(employer_a, case_worker):
    req = rs.request_submit(employer=employer_a, data=hire(2), on=today())
    with pytest.raises(rs.ValidationError):
        rs.request_return(req, user=case_worker, reason="  ")
    req = rs.request_return(req, user=case_worker, reason="缺劳动合同")
    assert req.state == RequestState.RETURNED and req.return_reason == "缺劳动合同"
    with pytest.raises(rs.ValidationError, match="不能办结"):
        rs.request_approve(req, user=case_worker, on=today())
    assert not InsuredPerson.objects.filter(id_number=new_id(2)).exists()


def test_steps_go_in_order(employer_a, case_worker):
    req = rs.request_submit(employer=employer_a, data=hire(3), on=today())
    with pytest.raises(rs.ValidationError, match="不能审核"):
        rs.request_review(req, user=case_worker)
    with pytest.raises(rs.ValidationError, match="不能办结"):
        rs.request_approve(req, user=case_worker, on=today())


# --- bad requests change nothing (issue #14 item 7) ----------------------------------------------------------


def _refused(employer, data, match):
    before = EmployerRequest.objects.count()
    with pytest.raises(rs.ValidationError) as exc:
        rs.request_submit(employer=employer, data=data, on=today())
    assert match in str(exc.value.message_dict), exc.value.message_dict
    assert EmployerRequest.objects.count() == before


def test_hire_of_a_person_enrolled_elsewhere_is_refused(employer_a, employer_b, person_factory):
    person = person_factory(employer=employer_b, start=date(2024, 1, 1))
    data = rs.RequestInput(kind="hire", id_number=person.id_number, name=person.name, occurred_on=today())
    _refused(employer_a, data, "已在其他单位")


def test_separation_before_the_hire_is_refused(employer_a, person_factory):
    person = person_factory(employer=employer_a, start=today() - timedelta(days=3))
    data = rs.RequestInput(
        kind="separation", id_number=person.id_number, name=person.name, occurred_on=today() - timedelta(days=3)
    )
    _refused(employer_a, data, "不能在增员之前减员")


def test_request_for_another_employers_person_is_refused(employer_a, employer_b, person_factory):
    person = person_factory(employer=employer_b, start=date(2024, 1, 1))
    for kind in ("separation", "wage_change", "correction"):
        data = rs.RequestInput(
            kind=kind, id_number=person.id_number, name=person.name, occurred_on=today(), monthly_wage=Decimal(5000)
        )
        _refused(employer_a, data, "不是本单位的参保职工")


def test_duplicate_open_request_is_refused(employer_a):
    rs.request_submit(employer=employer_a, data=hire(4), on=today())
    _refused(employer_a, hire(4), "请勿重复申报")


def test_approval_rechecks_the_register(employer_a, employer_b, case_worker):
    """Two employers asked to hire the same person: the second approval is refused and writes nothing."""
    first = rs.request_submit(employer=employer_a, data=hire(5), on=today())
    second = rs.request_submit(employer=employer_b, data=hire(5), on=today())
    approve(first, case_worker)
    rs.request_accept(second, user=case_worker)
    with pytest.raises(rs.ValidationError, match="已在其他单位"):
        rs.request_review(second, user=case_worker)
    second.refresh_from_db()
    assert second.state == RequestState.ACCEPTED
    assert EnrolmentSpan.objects.filter(person__id_number=new_id(5)).count() == 1


def test_hire_over_retirement_age_is_refused_citing_hunan_16(employer_a):
    """hunan 第十六条: 非劳动年龄段内的人员不得参加职工医保 (male legal retirement age 60, 第二十八条)."""
    old = rs.RequestInput(kind="hire", id_number=new_id(6, birth=date(1950, 1, 1)), name="老人", occurred_on=today())
    _refused(employer_a, old, "hunan 第十六条")


# --- selectors and scope ---------------------------------------------------------------------------------------


def test_counts_are_scoped(employer_a, employer_b, employer_user_a, emp_b_user, case_worker):
    rs.request_submit(employer=employer_a, data=hire(7), on=today())
    rs.request_submit(employer=employer_b, data=hire(8), on=today())
    late = rs.request_submit(employer=employer_b, data=hire(9, days_ago=45), on=today())
    assert late.is_late
    assert open_requests_count(case_worker) == 3
    assert open_requests_count(employer_user_a) == 1
    assert open_requests_count(emp_b_user) == 2
    approve(late, case_worker)
    assert late_registrations_count(case_worker) == 1  # reported 45 days after the hire: past 30 days
    assert late_registrations_count(employer_user_a) == 0
    assert late_registrations_count(emp_b_user) == 1


# --- screens ------------------------------------------------------------------------------------------------------


def _form(**kw):
    data = {
        "kind": "hire",
        "id_number": new_id(20),
        "name": "屏幕人",
        "female_role": "",
        "phone": "",
        "occurred_on": (today() - timedelta(days=2)).isoformat(),
        "monthly_wage": "",
        "note": "",
        "attachments-TOTAL_FORMS": "0",
        "attachments-INITIAL_FORMS": "0",
    }
    data.update(kw)
    return data


def test_employer_submits_by_screen_with_an_attachment_and_sees_the_return_reason(
    client, employer_user_a, employer_b, emp_b_user, case_worker
):
    client.force_login(employer_user_a)
    upload = SimpleUploadedFile("contract.pdf", PDF, content_type="application/pdf")
    response = client.post(reverse("admin:enrollment_employerrequest_add"), _form(attachments=upload))
    assert response.status_code == 302, response.content.decode()[:3000]
    req = EmployerRequest.objects.get()
    assert req.employer == employer_user_a.employer_link.employer and req.submitted_by == employer_user_a
    attachment = req.attachments.get()
    url = reverse("admin:enrollment_employerrequest_attachment", args=[attachment.pk])
    assert b"".join(client.get(url).streaming_content) == PDF

    # another employer sees neither the request nor its attachment
    client.force_login(emp_b_user)
    assert client.get(url).status_code == 404
    assert client.get(reverse("admin:enrollment_employerrequest_change", args=[req.pk])).status_code == 302
    assert "屏幕人" not in client.get(reverse("admin:enrollment_employerrequest_changelist")).content.decode()

    # the case worker returns it; the employer sees why
    client.force_login(case_worker)
    act = reverse("admin:enrollment_employerrequest_act", args=[req.pk])
    client.post(act, {"action": "return", "reason": "劳动合同未盖章"})
    client.force_login(employer_user_a)
    page = client.get(reverse("admin:enrollment_employerrequest_change", args=[req.pk])).content.decode()
    assert "劳动合同未盖章" in page and "已退回" in page


def test_bad_attachment_is_refused_on_the_field(client, employer_user_a):
    client.force_login(employer_user_a)
    fake = SimpleUploadedFile("contract.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(reverse("admin:enrollment_employerrequest_add"), _form(attachments=fake))
    assert response.status_code == 200 and "内容与扩展名" in response.content.decode()
    assert not EmployerRequest.objects.exists() and not RequestAttachment.objects.exists()


def test_case_worker_approves_through_the_buttons(client, employer_a, case_worker, auditor):
    req = rs.request_submit(employer=employer_a, data=hire(21), on=today())
    act = reverse("admin:enrollment_employerrequest_act", args=[req.pk])
    client.force_login(auditor)
    assert client.post(act, {"action": "accept"}).status_code == 403  # read-only role never writes
    client.force_login(case_worker)
    for action in ("accept", "review", "approve"):
        client.post(act, {"action": action})
    req.refresh_from_db()
    assert req.state == RequestState.DONE
    assert EnrolmentSpan.objects.filter(person__id_number=new_id(21), employer=employer_a).exists()


def test_queue_filters_and_counts(client, employer_a, employer_b, case_worker):
    rs.request_submit(employer=employer_a, data=hire(22), on=today())
    late = rs.request_submit(employer=employer_b, data=hire(23, days_ago=40, name="逾期人"), on=today())
    rs.request_return(rs.request_submit(employer=employer_b, data=hire(24), on=today()), user=case_worker, reason="x")
    client.force_login(case_worker)
    url = reverse("admin:enrollment_employerrequest_changelist")
    page = client.get(url).content.decode()
    assert "待受理 2" in page and "已退回 1" in page
    overdue = client.get(url, {"overdue": "yes"}).content.decode()
    assert "逾期人" in overdue and "新人22" not in overdue
    by_employer = client.get(url, {"employer__id__exact": employer_a.pk}).content.decode()
    assert "新人22" in by_employer and "逾期人" not in by_employer
    assert "新人24" in client.get(url, {"state__exact": "returned"}).content.decode()
    assert "新人24" not in client.get(url, {"open": "yes", "kind__exact": "hire"}).content.decode()
    approve(late, case_worker)
    late_page = client.get(reverse("admin:enrollment_employerrequest_late")).content.decode()
    assert "逾期人" in late_page and "新人22" not in late_page


def _xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEAD = ["申请类型", "身份证号", "姓名", "变动日期", "月工资", "女职工身份", "联系电话", "申请说明"]


def test_file_of_many_is_submitted_all_or_nothing(client, employer_user_a, employer_a, person_factory):
    leaver = person_factory(employer=employer_a, start=date(2024, 1, 1))
    day = (today() - timedelta(days=1)).isoformat()
    good = [
        HEAD,
        ["增员", new_id(30), "文件一", day, "6000", "", "", ""],
        ["增员", new_id(31), "文件二", day, "", "", "", ""],
        ["减员", leaver.id_number, leaver.name, day, "", "", "", ""],
        ["工资变更", leaver.id_number, leaver.name, day, "8000.00", "", "", ""],
    ]
    client.force_login(employer_user_a)
    url = reverse("admin:enrollment_employerrequest_upload")
    bad = [*good, ["增员", new_id(30), "文件一", day, "", "", "", ""], ["调岗", new_id(32), "某", "2025-13-01"]]
    response = client.post(url, {"file": SimpleUploadedFile("r.xlsx", _xlsx(bad))})
    text = response.content.decode()
    assert response.status_code == 200
    assert "第 6 行 身份证号：与第 2 行重复" in text and "第 7 行 申请类型" in text and "第 7 行 变动日期" in text
    assert not EmployerRequest.objects.exists()
    response = client.post(url, {"file": SimpleUploadedFile("r.xlsx", _xlsx(good))})
    assert response.status_code == 302
    assert EmployerRequest.objects.filter(source="file", employer=employer_a).count() == 4


def test_csv_file_and_the_template(client, employer_user_a):
    client.force_login(employer_user_a)
    out = io.StringIO()
    csv.writer(out).writerows([HEAD, ["增员", new_id(40), "CSV人", today().isoformat(), "", "", "", ""]])
    url = reverse("admin:enrollment_employerrequest_upload")
    response = client.post(url, {"file": SimpleUploadedFile("r.csv", out.getvalue().encode("utf-8-sig"))})
    assert response.status_code == 302 and EmployerRequest.objects.get().name == "CSV人"
    template = client.get(reverse("admin:enrollment_employerrequest_template"))
    sheet = openpyxl.load_workbook(io.BytesIO(template.content)).active
    assert [c.value for c in sheet[1]] == HEAD


def test_refusal_does_not_name_another_employer(employer_a, employer_b, person_factory):
    person = person_factory(employer=employer_b, start=date(2024, 1, 1))
    data = rs.RequestInput(kind="hire", id_number=person.id_number, name=person.name, occurred_on=today())
    with pytest.raises(rs.ValidationError) as exc:
        rs.request_submit(employer=employer_a, data=data, on=today())
    assert employer_b.name not in str(exc.value.message_dict)


def test_auditor_reads_the_queue_with_the_id_number_masked(client, employer_a, auditor):
    req = rs.request_submit(employer=employer_a, data=hire(50), on=today())
    client.force_login(auditor)
    listing = client.get(reverse("admin:enrollment_employerrequest_changelist")).content.decode()
    page = client.get(reverse("admin:enrollment_employerrequest_change", args=[req.pk])).content.decode()
    for text in (listing, page):
        assert "新人50" in text and req.id_number not in text and req.id_number[:6] + "********" in text
    assert "request-next" not in page  # no queue buttons for a read-only role


def test_hire_with_a_wage_declares_the_first_pay_month(employer_a, case_worker):
    """A hire's wage is the wage of the first pay month (起薪当月, hunan 第九条)."""
    req = rs.request_submit(employer=employer_a, data=hire(60, monthly_wage=Decimal("5200.00")), on=today())
    approve(req, case_worker)
    declaration = WageDeclaration.objects.get(person__id_number=new_id(60))
    assert declaration.monthly_wage == Decimal("5200.00")
    assert declaration.first_pay_month == req.occurred_on.replace(day=1)


def test_case_worker_uploads_a_file_for_an_employer(client, employer_a, case_worker):
    client.force_login(case_worker)
    out = io.StringIO()
    csv.writer(out).writerows([HEAD, ["增员", new_id(61), "代办人", today().isoformat(), "", "", "", ""]])
    url = reverse("admin:enrollment_employerrequest_upload")
    page = client.get(url).content.decode()
    # the employer is picked by name (autocomplete), not typed as a number (issue #19 item 4)
    assert 'class="admin-autocomplete' in page and reverse("admin:autocomplete") in page
    assert 'type="number" name="employer"' not in page
    missing = client.post(url, {"file": SimpleUploadedFile("r.csv", out.getvalue().encode())})
    assert "请选择用人单位" in missing.content.decode() and not EmployerRequest.objects.exists()
    wrong = client.post(url, {"employer": "1; DROP TABLE x", "file": SimpleUploadedFile("r.csv", b"x")})
    assert wrong.status_code == 200 and "请选择用人单位" in wrong.content.decode()
    data = {"employer": str(employer_a.pk), "file": SimpleUploadedFile("r.csv", out.getvalue().encode())}
    assert client.post(url, data).status_code == 302
    assert EmployerRequest.objects.get().employer == employer_a
