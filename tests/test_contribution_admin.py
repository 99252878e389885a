"""Contribution admin screens (issue 3, item 7): scoping, masking, a person's record,
an employer's bill and arrears, manual payments, deferrals, staff batch operations.

Expected sums are worked out by hand in the comments.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
import tablib
from django.urls import reverse
from django.utils import timezone

from batch.models import BatchRun
from contributions.models import (
    ContributionBase,
    Deferral,
    ImportJob,
    MonthlyDue,
    Payment,
    PaymentAllocation,
    WageDeclaration,
)
from contributions.resources import DeferralResource

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LAST_MONTH = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
TWO_MONTHS_AGO = (LAST_MONTH - timedelta(days=1)).replace(day=1)

CHANGELISTS = [
    "importjob",
    "wagedeclaration",
    "contributionbase",
    "employerbase",
    "monthlydue",
    "payment",
    "paymentallocation",
    "deferral",
    "backpaymentbill",
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def make_due(person, employer, month: date, *, employer_part: str, individual: str, due_date: date | None = None):
    e, i = Decimal(employer_part), Decimal(individual)
    return MonthlyDue.objects.create(
        person=person,
        employer=employer,
        jurisdiction=employer.jurisdiction,
        month=month,
        category="employee",
        base=Decimal("5000"),
        employer_amount=e,
        individual_amount=i,
        critical_illness_amount=Decimal("15.00"),
        personal_account_amount=Decimal("100.00"),
        pool_amount=e - Decimal("100.00"),
        total=e + i + Decimal("15.00"),
        due_date=due_date or month.replace(day=25),
        created_at=timezone.now(),
    )


@pytest.fixture
def data(employer_a, employer_b, person_factory, case_worker):
    """甲公司: 甲一 and 甲二, two months billed; 乙公司: 乙一, one month."""
    a1 = person_factory(employer=employer_a, name="甲一", phone="13912345678")
    a2 = person_factory(employer=employer_a, name="甲二")
    b1 = person_factory(employer=employer_b, name="乙一")
    # 甲一: 400 + 100 + 15 = 515 a month; 甲二: 320 + 80 + 15 = 415 a month.
    dues = {
        "a1_old": make_due(a1, employer_a, TWO_MONTHS_AGO, employer_part="400.00", individual="100.00"),
        "a1_new": make_due(a1, employer_a, LAST_MONTH, employer_part="400.00", individual="100.00"),
        "a2_old": make_due(a2, employer_a, TWO_MONTHS_AGO, employer_part="320.00", individual="80.00"),
        "a2_new": make_due(a2, employer_a, LAST_MONTH, employer_part="320.00", individual="80.00"),
        "b1_new": make_due(b1, employer_b, LAST_MONTH, employer_part="400.00", individual="100.00"),
    }
    # 甲二's older month is paid in full.
    MonthlyDue.objects.filter(pk=dues["a2_old"].pk).update(paid_principal=Decimal("415.00"), settled_on=TWO_MONTHS_AGO)
    for person, employer in ((a1, employer_a), (b1, employer_b)):
        WageDeclaration.objects.create(person=person, employer=employer, year=TODAY.year, monthly_wage=Decimal("5000"))
        ContributionBase.objects.create(
            person=person,
            jurisdiction=employer.jurisdiction,
            year_start=date(TODAY.year, 1, 1),
            category="employee",
            employer=employer,
            wage=Decimal("5000"),
            base=Decimal("5000"),
            basis="declared",
            updated_at=timezone.now(),
        )
    Payment.objects.create(
        person=b1,
        amount=Decimal("50.00"),
        paid_on=TODAY,
        source="manual",
        reference="乙一的税票",
        unapplied_amount=Decimal("50.00"),
    )
    ImportJob.objects.create(
        kind="payroll", employer=employer_b, uploaded_by=case_worker, original_name="乙公司工资.csv"
    )
    return {"a1": a1, "a2": a2, "b1": b1, **dues}


@pytest.mark.parametrize("user", ["admin_user", "case_worker", "auditor", "employer_user_a"])
def test_every_contribution_list_opens_for_every_role(client, request, user, data):
    client.force_login(request.getfixturevalue(user))
    for model in CHANGELISTS:
        response = client.get(reverse(f"admin:contributions_{model}_changelist"))
        assert response.status_code == 200, model


def test_employer_user_sees_only_their_employers_rows(client, employer_user_a, employer_b, data):
    client.force_login(employer_user_a)
    for model in ("wagedeclaration", "contributionbase", "monthlydue", "payment", "importjob"):
        html = client.get(reverse(f"admin:contributions_{model}_changelist")).content.decode()
        assert "乙一" not in html and "乙公司" not in html, model
    dues = client.get(reverse("admin:contributions_monthlydue_changelist")).content.decode()
    assert "甲一" in dues and "甲二" in dues
    assert client.get(reverse("contributions:person_history", args=[data["b1"].pk])).status_code == 404
    assert client.get(reverse("contributions:person_history", args=[data["a1"].pk])).status_code == 200
    assert client.get(reverse("contributions:employer_bill", args=[employer_b.pk])).status_code == 404
    assert client.get(reverse("contributions:employer_arrears", args=[employer_b.pk])).status_code == 404
    assert client.get(reverse("operations:index")).status_code == 403
    lookup = client.get(reverse("contributions:person_lookup"), {"id_number": data["b1"].id_number})
    assert lookup.status_code == 200 and "未找到" in lookup.content.decode()


def test_auditor_sees_id_numbers_masked_everywhere(client, auditor, employer_a, data):
    a1 = data["a1"]
    masked = f"{a1.id_number[:6]}********{a1.id_number[-4:]}"
    client.force_login(auditor)
    for url in (
        reverse("admin:contributions_wagedeclaration_changelist"),
        reverse("admin:contributions_monthlydue_changelist"),
        reverse("contributions:person_history", args=[a1.pk]),
        reverse("contributions:employer_arrears", args=[employer_a.pk]),
    ):
        html = client.get(url).content.decode()
        assert a1.id_number not in html and masked in html, url
    xlsx = client.get(reverse("contributions:employer_arrears", args=[employer_a.pk]), {"format": "xlsx"})
    cells = [
        c for row in openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True) for c in row
    ]
    assert a1.id_number not in cells and masked in cells
    export = client.post(
        reverse("admin:contributions_wagedeclaration_export"),
        {"format": "0", "wagedeclarationresource_person": "on", "wagedeclarationresource_name": "on"},
    )
    rows = list(openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("身份证号", "姓名") and (masked, "甲一") in rows and all(a1.id_number not in r for r in rows)


def test_case_worker_export_has_full_id_numbers(client, case_worker, data):
    client.force_login(case_worker)
    export = client.post(
        reverse("admin:contributions_wagedeclaration_export"),
        {"format": "0", "wagedeclarationresource_person": "on", "wagedeclarationresource_year": "on"},
    )
    rows = list(openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert set(rows[1:]) == {(data["a1"].id_number, TODAY.year), (data["b1"].id_number, TODAY.year)}


def test_person_history_on_one_screen(client, case_worker, data):
    a1 = data["a1"]
    client.force_login(case_worker)
    html = client.get(reverse("contributions:person_history", args=[a1.pk])).content.decode()
    # Both months of 甲一 unpaid after the 25th: 2 × 515.00 = 1030.00 in arrears.
    assert "1030.00" in html
    assert TWO_MONTHS_AGO.strftime("%Y-%m") in html and LAST_MONTH.strftime("%Y-%m") in html
    assert "5000.0000" in html or "5000" in html  # the base of the year
    assert "按申报工资" in html  # the basis of the base
    assert "正常参保" in html  # status
    assert a1.id_number in html  # the case worker may see it


def test_person_lookup_by_id_number(client, case_worker, data):
    client.force_login(case_worker)
    response = client.get(reverse("contributions:person_lookup"), {"id_number": data["a2"].id_number})
    assert response.status_code == 302
    assert response["Location"] == reverse("contributions:person_history", args=[data["a2"].pk])


def test_employer_monthly_bill_and_xlsx(client, case_worker, employer_a, data):
    client.force_login(case_worker)
    html = client.get(reverse("contributions:employer_bill", args=[employer_a.pk])).content.decode()
    # Each month: 515.00 + 415.00 = 930.00 due; older month 415.00 paid → 515.00 unpaid.
    assert "930.00" in html and "515.00" in html
    response = client.get(reverse("contributions:employer_bill", args=[employer_a.pk]), {"format": "xlsx"})
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("费款所属期", "人数") and "应缴合计" in rows[0]
    by_month = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    old, new = by_month[TWO_MONTHS_AGO.strftime("%Y-%m")], by_month[LAST_MONTH.strftime("%Y-%m")]
    assert (old["人数"], Decimal(str(old["应缴合计"])), Decimal(str(old["已缴本金"]))) == (
        2,
        Decimal("930"),
        Decimal("415"),
    )
    assert Decimal(str(old["欠缴本金"])) == Decimal("515")
    assert (Decimal(str(new["单位缴纳"])), Decimal(str(new["个人缴纳"]))) == (Decimal("720"), Decimal("180"))
    assert Decimal(str(new["大病保险"])) == Decimal("30")


def test_employer_arrears_per_person_and_month(client, case_worker, employer_a, data):
    client.force_login(case_worker)
    html = client.get(reverse("contributions:employer_arrears", args=[employer_a.pk])).content.decode()
    # Unpaid after the due date: 甲一 × 2 months, 甲二 last month (its older month is settled).
    assert "2 人、3 个人月" in html and "1445.00" in html  # 515 + 515 + 415
    response = client.get(reverse("contributions:employer_arrears", args=[employer_a.pk]), {"format": "xlsx"})
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    header = rows[0]
    assert "欠缴本金" in header and "费款所属期" in header
    got = sorted((r[header.index("姓名")], r[header.index("费款所属期")]) for r in rows[1:])
    assert got == sorted(
        [
            ("甲一", TWO_MONTHS_AGO.strftime("%Y-%m")),
            ("甲一", LAST_MONTH.strftime("%Y-%m")),
            ("甲二", LAST_MONTH.strftime("%Y-%m")),
        ]
    )


def test_manual_payment_entry_goes_through_payment_record(client, case_worker, data):
    a1 = data["a1"]
    client.force_login(case_worker)
    url = reverse("admin:contributions_payment_add")
    response = client.post(url, {"person": a1.pk, "amount": "515.00", "paid_on": TODAY.isoformat(), "reference": "M-1"})
    assert response.status_code == 302
    payment = Payment.objects.get(reference="M-1")
    assert (payment.source, payment.recorded_by) == ("manual", case_worker)
    # Applied to 甲一's oldest unpaid month (principal first, then its late fee, if any).
    assert PaymentAllocation.objects.filter(payment=payment, due=data["a1_old"]).exists()
    again = client.post(url, {"person": a1.pk, "amount": "515.00", "paid_on": TODAY.isoformat(), "reference": "M-1"})
    assert again.status_code == 200 and "不能重复入账" in again.content.decode()
    assert Payment.objects.filter(reference="M-1").count() == 1


def test_employer_user_cannot_add_payments(client, employer_user_a, data):
    client.force_login(employer_user_a)
    assert client.get(reverse("admin:contributions_payment_add")).status_code == 403


def test_deferral_added_in_admin_and_imported_through_the_service(client, case_worker, employer_a, employer_b, data):
    client.force_login(case_worker)
    response = client.post(
        reverse("admin:contributions_deferral_add"),
        {
            "employer": employer_a.pk,
            "start": TWO_MONTHS_AGO.isoformat(),
            "end": TODAY.isoformat(),
            "approved_on": TWO_MONTHS_AGO.isoformat(),
            "citation": "hunan 第二十二条",
            "note": "",
        },
    )
    assert response.status_code == 302
    deferral = Deferral.objects.get()
    assert deferral.approved_by == case_worker
    # deferral_approve marks the unsettled dues falling due inside the period.
    assert MonthlyDue.objects.get(pk=data["a1_old"].pk).deferred

    dataset = tablib.Dataset(
        headers=["id", "统一社会信用代码", "缓缴起始日", "缓缴截止日（不含）", "批准日期", "依据", "说明"]
    )
    dataset.append(["", employer_b.credit_code, "2024-01-01", "2024-07-01", "2023-12-20", "hunan 第二十二条", ""])
    dataset.append(["", employer_a.credit_code, TWO_MONTHS_AGO.isoformat(), TODAY.isoformat(), "2024-01-01", "x", ""])
    result = DeferralResource(user=case_worker).import_data(
        dataset, dry_run=False, raise_errors=False, rollback_on_validation_errors=True
    )
    assert result.has_validation_errors()  # the second overlaps 甲公司's approved period
    invalid = result.invalid_rows[0]
    assert "重叠" in str(invalid.error)
    assert Deferral.objects.count() == 1  # the whole file is rolled back (the admin offers no confirm)
    good = tablib.Dataset(headers=dataset.headers)
    good.append(dataset[0])
    DeferralResource(user=case_worker).import_data(good, dry_run=False)
    assert Deferral.objects.get(employer=employer_b).approved_by == case_worker


def test_staff_operations_enqueue_batch_runs(client, case_worker, auditor, data):
    client.force_login(auditor)
    assert client.get(reverse("operations:index")).status_code == 403
    client.force_login(case_worker)
    page = client.get(reverse("operations:index")).content.decode()
    assert "核定年度缴费基数" in page and "生成月度应缴" in page
    missing = client.post(reverse("operations:index"), {"operation": "base_reset", "as_of": TODAY.isoformat()})
    assert "须选择统筹区" in missing.content.decode() and not BatchRun.objects.exists()
    response = client.post(
        reverse("operations:index"),
        {"operation": "base_reset", "jurisdiction": "hunan", "as_of": TODAY.isoformat(), "preview": "on"},
    )
    assert response.status_code == 302
    run = BatchRun.objects.get()
    assert (run.job, run.preview, run.jurisdiction.code, run.created_by) == (
        "contributions.base_reset",
        True,
        "hunan",
        case_worker,
    )


def test_operations_date_field_renders_iso_for_the_date_input(client, case_worker, data, monkeypatch):
    """The browser's <input type="date"> shows only value="YYYY-MM-DD" (issue #19 item 8)."""
    monkeypatch.setattr("operations.views.timezone.localdate", lambda: date(2026, 12, 7))
    client.force_login(case_worker)
    page = client.get(reverse("operations:index")).content.decode()
    (field,) = re.findall(r'<input[^>]*name="as_of"[^>]*>', page)
    assert 'type="date"' in field and 'value="2026-12-07"' in field, field


def test_payment_action_applies_held_money(client, case_worker, data):
    b1 = data["b1"]
    payment = Payment.objects.get(person=b1)
    client.force_login(case_worker)
    response = client.post(
        reverse("admin:contributions_payment_changelist"),
        {"action": "apply_selected", "_selected_action": [payment.pk]},
    )
    assert response.status_code == 302
    # 50.00 held, then applied to 乙一's unpaid month (515.00 due): 50 goes to principal/fee.
    payment.refresh_from_db()
    assert payment.unapplied_amount == Decimal("0.00")
    assert PaymentAllocation.objects.filter(payment=payment, due=data["b1_new"]).exists()


def test_changelists_link_to_the_import_pages(client, employer_user_a, case_worker, data):
    client.force_login(employer_user_a)
    html = client.get(reverse("admin:contributions_wagedeclaration_changelist")).content.decode()
    assert reverse("contributions:payroll_upload") in html and reverse("contributions:payment_upload") not in html
    client.force_login(case_worker)
    html = client.get(reverse("admin:contributions_payment_changelist")).content.decode()
    assert reverse("contributions:payment_upload") in html and "导出" in html


def test_deferral_admin_import_with_dry_run_then_confirm(client, case_worker, employer_user_a, employer_b, data):
    client.force_login(employer_user_a)
    assert client.get(reverse("admin:contributions_deferral_import")).status_code == 403
    client.force_login(case_worker)
    csv_text = "id,统一社会信用代码,缓缴起始日,缓缴截止日（不含）,批准日期,依据,说明\n"
    csv_text += f",{employer_b.credit_code},2024-01-01,2024-07-01,2023-12-20,langfang 第二十六条,不可抗力\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    preview = client.post(
        reverse("admin:contributions_deferral_import"),
        {"import_file": SimpleUploadedFile("缓缴.csv", csv_text.encode()), "format": "1", "resource": "0"},
    )
    assert preview.status_code == 200 and not Deferral.objects.exists()  # dry run: rolled back
    confirm = preview.context["confirm_form"]
    done = client.post(reverse("admin:contributions_deferral_process_import"), confirm.initial)
    assert done.status_code == 302
    deferral = Deferral.objects.get()
    assert (deferral.employer, deferral.approved_by, deferral.citation) == (
        employer_b,
        case_worker,
        "langfang 第二十六条",
    )
