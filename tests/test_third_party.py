"""第三人责任先行支付 (hunan 第三十五条, issue #14 item 6): the case from the written application to full
recovery or write-off, its history, the ledger postings and the screen.

Figures: a claim settled with 基金先行支付 whose 统筹基金支出 is 800.00. Advance → receivable 800.00 (owed by
the third party), pool +800.00 back; recovery 300.00 → bank −300.00, receivable −300.00 owed → 500.00;
write-off 500.00 → pool −500.00, receivable 0. The pool ends bearing 800 − 800 + 500 = the 500.00 written off.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from benefits.claims.models import Claim, ThirdPartyCase
from benefits.claims.third_party import rules, services
from enrollment.roles import BUREAU_ADMIN, CASE_WORKER
from funds.models import AccountKind, JournalEntry
from funds.posting import balance_of, fund_account
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyMissing

pytestmark = pytest.mark.django_db

CAUSE = "骑车被机动车撞伤，肇事者拒不赔付"


def _claim(person, code: str = "hunan", *, key: str = "TP-1", cause: str = "third_party", unpaid: bool = True, **kw):
    return Claim.objects.create(
        business_key=key,
        person=person,
        jurisdiction=Jurisdiction.objects.get(code=code),
        med_type="21",
        start_date=date(2024, 3, 1),
        end_date=date(2024, 3, 5),
        hospital_level="level1",
        medfee_sumamt=D(2000),
        inscp_scp_amt=D(2000),
        excluded_cause=cause,
        third_party_unpaid=unpaid,
        **kw,
    )


def _settled(person, key: str = "TP-1", pool: str = "800.00"):
    return _claim(person, key=key, status="adjudicated", third_party_advance=True, hifp_pay=D(pool))


def _user(name: str, group: str):
    user = get_user_model().objects.create_user(name, password="x" * 12, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def person(person_factory, employer_a):
    return person_factory(employer=employer_a)


@pytest.fixture
def people():
    return _user("tp_worker", CASE_WORKER), _user("tp_admin", BUREAU_ADMIN)


def _open(claim, user=None, on=date(2024, 3, 6)):
    return services.case_apply(
        claim=claim, applied_on=on, reason="not_paying", cause=CAUSE, third_party="李四", user=user
    )


def _balances():
    hunan = Jurisdiction.objects.get(code="hunan")
    return {
        k: balance_of(fund_account(hunan, k)) for k in (AccountKind.RECEIVABLE, AccountKind.POOLED, AccountKind.BANK)
    }


# --- the rules ------------------------------------------------------------------------------------------


def test_advance_refusal_cites_the_article():
    hunan = Policy("hunan", date(2024, 3, 6))
    assert rules.advance_refusal(hunan, excluded_cause="third_party", third_party_unpaid=True) is None
    assert "第三人负担" in rules.advance_refusal(hunan, excluded_cause="", third_party_unpaid=True)
    refusal = rules.advance_refusal(hunan, excluded_cause="third_party", third_party_unpaid=False)
    assert "hunan 第三十五条" in refusal and "第三人不支付" in refusal
    # langfang's document does not say whether the fund advances (D-X16): the key is named
    with pytest.raises(PolicyMissing, match=r"inpatient\.third_party_advance"):
        rules.advance_refusal(
            Policy("langfang", date(2024, 3, 6)), excluded_cause="third_party", third_party_unpaid=True
        )
    no = Policy("hunan", date(2024, 3, 6), params={rules.ADVANCE_KEY: False})
    assert "不先行支付" in rules.advance_refusal(no, excluded_cause="third_party", third_party_unpaid=True)


@pytest.mark.parametrize(
    ("state", "action", "target"),
    [
        ("applied", "investigate_true", "investigated"),
        ("applied", "investigate_false", "refused"),
        ("investigated", "advance", "recovering"),
        ("recovering", "recover", None),
        ("recovering", "request_write_off", "write_off_pending"),
        ("write_off_pending", "approve_write_off", "written_off"),
        ("write_off_pending", "reject_write_off", "recovering"),
    ],
)
def test_each_action_from_its_state(state, action, target):
    assert rules.next_state(state, action) == target


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("applied", "advance"),
        ("investigated", "recover"),
        ("refused", "investigate_true"),
        ("recovered", "recover"),
        ("written_off", "request_write_off"),
        ("write_off_pending", "recover"),
        ("recovering", "approve_write_off"),
    ],
)
def test_actions_out_of_turn_are_refused(state, action):
    with pytest.raises(ValueError, match=rules.STATE_ZH[state]):
        rules.next_state(state, action)
    with pytest.raises(ValueError):
        rules.next_state("applied", "fly")


def test_amount_edges():
    assert rules.outstanding(D("800.00"), D("300.00"), D("0")) == D("500.00")
    assert rules.outstanding(D("800.00"), D("800.00"), D("0.01")) == 0  # never below zero
    assert rules.recovery_refusal(D("500.00"), left=D("500.00")) is None  # all of it
    assert "超过" in rules.recovery_refusal(D("500.01"), left=D("500.00"))
    assert rules.recovery_refusal(D("0.01"), left=D("500.00")) is None
    assert "大于 0" in rules.recovery_refusal(D("0"), left=D("500.00"))
    assert "大于 0" in rules.recovery_refusal(D("-1"), left=D("500.00"))
    assert "两位小数" in rules.recovery_refusal(D("1.005"), left=D("500.00"))
    assert rules.state_after_recovery(D("0")) == "recovered"
    assert rules.state_after_recovery(D("0.01")) == "recovering"
    assert rules.write_off_refusal("肇事者下落不明", left=D("0.01")) is None
    assert "无需核销" in rules.write_off_refusal("肇事者下落不明", left=D("0"))
    assert "客观原因" in rules.write_off_refusal("  ", left=D("5"))
    assert rules.approval_refusal(1, 2) is None and rules.approval_refusal(None, 2) is None
    assert "申请人以外" in rules.approval_refusal(2, 2)
    assert "审批人不明" in rules.approval_refusal(1, None)


# --- the case through its services --------------------------------------------------------------------------


def test_case_to_write_off_with_its_postings(person, people):
    worker, boss = people
    claim = _settled(person)
    case = _open(claim, worker)
    assert case.state == "applied" and case.citation == "hunan 第三十五条"
    with pytest.raises(ValidationError, match="不能基金先行支付"):
        services.case_advance(case, on=date(2024, 3, 7), user=worker)  # not investigated yet
    case = services.case_investigate(
        case, found_true=True, finding="交警事故认定书属实", on=date(2024, 3, 8), user=worker
    )
    before = _balances()
    case = services.case_advance(case, on=date(2024, 3, 9), user=worker)
    assert case.state == "recovering" and case.advanced == D("800.00") and case.outstanding == D("800.00")
    after = _balances()
    assert after[AccountKind.RECEIVABLE] - before[AccountKind.RECEIVABLE] == D("-800.00")  # owed to the fund
    assert after[AccountKind.POOLED] - before[AccountKind.POOLED] == D("800.00")
    case = services.case_recover(case, amount=D("300.00"), on=date(2024, 5, 1), reference="HK-1", user=worker)
    assert case.state == "recovering" and case.recovered == D("300.00") and case.outstanding == D("500.00")
    with pytest.raises(ValidationError) as exc:
        services.case_recover(case, amount=D("500.01"), on=date(2024, 5, 2), reference="HK-2", user=worker)
    assert "超过" in exc.value.message_dict["amount"][0]
    case = services.case_request_write_off(case, reason="肇事者无财产可供执行", on=date(2024, 9, 1), user=worker)
    assert case.state == "write_off_pending"
    with pytest.raises(ValidationError, match="申请人以外"):
        services.case_decide_write_off(case, approve=True, on=date(2024, 9, 2), user=worker)
    case = services.case_decide_write_off(case, approve=True, on=date(2024, 9, 3), user=boss, note="同意")
    assert case.state == "written_off" and case.written_off == D("500.00") and case.outstanding == 0
    assert case.closed_on == date(2024, 9, 3) and case.days_open(date(2030, 1, 1)) == 181
    end = _balances()
    assert end[AccountKind.RECEIVABLE] == before[AccountKind.RECEIVABLE]  # nothing left to recover
    assert end[AccountKind.POOLED] - before[AccountKind.POOLED] == D("300.00")  # the pool bears the 500 written off
    assert end[AccountKind.BANK] - before[AccountKind.BANK] == D("-300.00")  # the 300 recovered came in
    kinds = list(JournalEntry.objects.filter(person=person).order_by("id").values_list("kind", flat=True))
    assert kinds == ["third_party_advance", "third_party_recovery", "third_party_write_off"]
    history = list(case.actions.values_list("action", "state_after", "amount"))
    assert history == [
        ("apply", "applied", None),
        ("investigate_true", "investigated", None),
        ("advance", "recovering", D("800.00")),
        ("recover", "recovering", D("300.00")),
        ("request_write_off", "write_off_pending", D("500.00")),
        ("approve_write_off", "written_off", D("500.00")),
    ]


def test_full_recovery_closes_the_case(person, people):
    worker, _ = people
    case = _open(_settled(person), worker)
    case = services.case_investigate(case, found_true=True, finding="属实", on=date(2024, 3, 6), user=worker)
    case = services.case_advance(case, on=date(2024, 3, 6), user=worker)
    case = services.case_recover(case, amount=D("799.99"), on=date(2024, 4, 1), reference="A", user=worker)
    assert case.state == "recovering" and case.closed_on is None
    case = services.case_recover(case, amount=D("0.01"), on=date(2024, 4, 1), reference="B", user=worker)
    assert case.state == "recovered" and case.closed_on == date(2024, 4, 1) and case.outstanding == 0
    with pytest.raises(ValidationError):
        services.case_request_write_off(case, reason="x", on=date(2024, 4, 2), user=worker)


def test_rejected_write_off_goes_back_to_recovery(person, people):
    worker, boss = people
    case = _open(_settled(person), worker)
    case = services.case_investigate(case, found_true=True, finding="属实", on=date(2024, 3, 6), user=worker)
    case = services.case_advance(case, on=date(2024, 3, 6), user=worker)
    case = services.case_request_write_off(case, reason="联系不上", on=date(2024, 4, 1), user=worker)
    case = services.case_decide_write_off(case, approve=False, on=date(2024, 4, 2), user=boss, note="继续追偿")
    assert case.state == "recovering" and case.written_off == 0 and case.outstanding == D("800.00")


def test_investigation_not_true_closes_without_money(person, people):
    worker, _ = people
    case = _open(_settled(person), worker)
    entries = JournalEntry.objects.count()
    case = services.case_investigate(case, found_true=False, finding="系本人责任", on=date(2024, 3, 7), user=worker)
    assert case.state == "refused" and case.closed_on == date(2024, 3, 7)
    assert JournalEntry.objects.count() == entries
    with pytest.raises(ValidationError):
        services.case_advance(case, on=date(2024, 3, 8), user=worker)


def test_application_refusals_change_nothing(person):
    with pytest.raises(ValidationError) as exc:
        _open(_claim(person, key="TP-2", cause=""))
    assert "第三人负担" in exc.value.message_dict["claim"][0]
    with pytest.raises(ValidationError) as exc:
        _open(_claim(person, key="TP-3", unpaid=False))
    assert "hunan 第三十五条" in exc.value.message_dict["claim"][0]
    claim = _claim(person, key="TP-4")
    with pytest.raises(ValidationError) as exc:
        services.case_apply(claim=claim, applied_on=date(2024, 3, 6), reason="not_paying", cause=CAUSE, third_party="")
    assert "第三人" in exc.value.message_dict["third_party"][0]
    with pytest.raises(ValidationError) as exc:
        services.case_apply(claim=claim, applied_on=date(2024, 2, 29), reason="unknown", cause=CAUSE)
    assert "不能早于" in exc.value.message_dict["applied_on"][0]  # before the stay began
    with pytest.raises(ValidationError) as exc:
        services.case_apply(claim=claim, applied_on=date(2024, 3, 6), reason="unknown", cause=" ")
    assert exc.value.message_dict["cause"]
    with pytest.raises(ValidationError) as exc:
        services.case_apply(claim=claim, applied_on=date(2024, 3, 6), reason="unknown", cause="长" * 501)
    assert exc.value.message_dict["cause"]
    assert not ThirdPartyCase.objects.exists()
    services.case_apply(claim=claim, applied_on=date(2024, 3, 1), reason="unknown", cause=CAUSE)  # on the first day
    with pytest.raises(ValidationError, match="已有第三人责任案件"):
        services.case_apply(claim=claim, applied_on=date(2024, 3, 6), reason="unknown", cause=CAUSE)


def test_advance_waits_for_the_settlement_and_dates_run_forward(person, people):
    worker, _ = people
    claim = _claim(person, key="TP-5")  # still a draft
    case = _open(claim, worker)
    with pytest.raises(ValidationError, match="不能早于"):
        services.case_investigate(case, found_true=True, finding="属实", on=date(2024, 3, 5), user=worker)
    case = services.case_investigate(case, found_true=True, finding="属实", on=date(2024, 3, 6), user=worker)
    with pytest.raises(ValidationError, match="结算后再办理"):
        services.case_advance(case, on=date(2024, 3, 7), user=worker)
    Claim.objects.filter(pk=claim.pk).update(status="adjudicated", third_party_advance=True, hifp_pay=D(0))
    with pytest.raises(ValidationError, match="大于 0"):
        services.case_advance(case, on=date(2024, 3, 7), user=worker)
    assert ThirdPartyCase.objects.get(pk=case.pk).state == "investigated"


# --- the screen ---------------------------------------------------------------------------------------------


def test_screen_tracks_cases_and_moves_them(client, person, people):
    worker, _ = people
    case = _open(_settled(person), worker)
    client.force_login(worker)
    url = reverse("admin:claims_thirdpartycase_changelist")
    page = client.get(url)
    assert page.status_code == 200 and "已申请（待调查）" in page.content.decode()
    response = client.post(
        url,
        {
            "action": "investigate_true",
            "_selected_action": [case.pk],
            "apply": "1",
            "on": "2024-03-08",
            "finding": "属实",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "investigated"
    # a date in the future is a field message on the action form, nothing moves
    response = client.post(url, {"action": "advance", "_selected_action": [case.pk], "apply": "1", "on": "2999-01-01"})
    assert response.status_code == 200 and response.context["form"].errors["on"]
    case.refresh_from_db()
    assert case.state == "investigated"
    # the case worker may not approve a write-off: the action is not offered
    response = client.post(url, {"action": "approve", "_selected_action": [case.pk], "apply": "1", "on": "2024-03-09"})
    case.refresh_from_db()
    assert case.state == "investigated"
    detail = client.get(reverse("admin:claims_thirdpartycase_change", args=[case.pk]))
    assert detail.status_code == 200 and "调查属实" in detail.content.decode()


def test_screen_application_refusal_is_a_field_message(client, person, people):
    worker, _ = people
    claim = _claim(person, key="TP-6", cause="")
    client.force_login(worker)
    response = client.post(
        reverse("admin:claims_thirdpartycase_add"),
        {"claim": claim.pk, "applied_on": "2024-03-06", "reason": "unknown", "third_party": "", "cause": CAUSE},
    )
    assert response.status_code == 200
    assert "第三人负担" in str(response.context["adminform"].form.errors)
    assert not ThirdPartyCase.objects.exists()
    claim = _claim(person, key="TP-7")
    response = client.post(
        reverse("admin:claims_thirdpartycase_add"),
        {"claim": claim.pk, "applied_on": "2024-03-06", "reason": "unknown", "third_party": "", "cause": CAUSE},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert ThirdPartyCase.objects.get().claim == claim
