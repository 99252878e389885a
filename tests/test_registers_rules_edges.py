"""Edge cases of the registers' rules (benefits.registers.calculations.rules): half-open validity, the lock's
last day, the temporary filing's last valid end, which filing wins, and what a 门诊慢特病 claim counts.

langfang 第六十七条 (temporary filing one year; retro-filing; emergency treated as filed), 第六十九条 (half a
year, change only); sanmenxia 第五十三条、第五十五条 (one year, change and cancellation); hunan 第四十条,
第四十八条, 第六十一条 (carry-over); ziyang 第十七条 (classes 1–3), 第三十四条.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from benefits.registers.calculations import rules as r
from policy.resolver import Policy, PolicyMissing

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_policy")]

D = date


def filing(kind, start, end=None, filed_on=None, active=True, place=""):
    return r.FilingFact(kind, start, end, filed_on or start, active, place)


def cert(valid_from, valid_until=None, cls=None, year=None, paid=None, name="高血压"):
    return r.CertificationFact("M1", name, cls, valid_from, valid_until, "", year, paid)


def test_periods_are_half_open():
    f = filing(r.TEMPORARY, D(2024, 3, 1), D(2024, 4, 1))
    assert f.covers(D(2024, 3, 1)) and f.covers(D(2024, 3, 31))
    assert not f.covers(D(2024, 2, 29)) and not f.covers(D(2024, 4, 1))
    assert filing(r.LONG_TERM, D(2024, 3, 1)).covers(D(2030, 1, 1))
    c = cert(D(2024, 1, 1), D(2025, 1, 1))
    assert c.valid_on(D(2024, 1, 1)) and c.valid_on(D(2024, 12, 31))
    assert not c.valid_on(D(2023, 12, 31)) and not c.valid_on(D(2025, 1, 1))
    assert cert(D(2024, 1, 1)).valid_on(D(2099, 1, 1))


def test_kind_the_document_lacks_is_refused_on_its_field():
    """sanmenxia 第五十三条: long-term and referral filings only."""
    assert r.check_kind(Policy("sanmenxia", D(2024, 6, 1)), r.REFERRAL) == "sanmenxia 第五十三条 第五十五条"
    with pytest.raises(r.RegisterRefusal, match="临时外出就医") as exc:
        r.check_kind(Policy("sanmenxia", D(2024, 6, 1)), r.TEMPORARY)
    assert exc.value.field == "kind" and "异地长期居住、转诊转院" in str(exc.value)


def test_temporary_filing_end_is_at_most_twelve_months_langfang():
    """langfang 第六十七条: 有效期1年 — the end may be the last valid day, not one day more."""
    p = Policy("langfang", D(2024, 6, 1))
    assert r.filing_end(p, r.TEMPORARY, D(2024, 2, 29), None) == D(2025, 2, 28)
    assert r.filing_end(p, r.TEMPORARY, D(2024, 3, 1), D(2025, 3, 1)) == D(2025, 3, 1)
    assert r.filing_end(p, r.TEMPORARY, D(2024, 3, 1), D(2024, 5, 1)) == D(2024, 5, 1)
    with pytest.raises(r.RegisterRefusal, match="12 个月") as exc:
        r.filing_end(p, r.TEMPORARY, D(2024, 3, 1), D(2025, 3, 2))
    assert exc.value.field == "end"
    assert r.filing_end(p, r.LONG_TERM, D(2024, 3, 1), None) is None  # long-term: open


def test_temporary_filing_where_no_validity_is_given_needs_the_end():
    """ziyang 第三十四条 gives no validity: the end staff enter from the application is kept, none refused."""
    p = Policy("ziyang", D(2024, 6, 1))
    assert r.filing_end(p, r.TEMPORARY, D(2024, 3, 1), D(2024, 9, 1)) == D(2024, 9, 1)
    with pytest.raises(r.RegisterRefusal) as exc:
        r.filing_end(p, r.TEMPORARY, D(2024, 3, 1), None)
    assert exc.value.field == "end"


def test_retro_filing():
    """langfang 第六十七条 allows it; a document that provides neither form refuses."""
    p = Policy("langfang", D(2024, 6, 1))
    assert r.check_retro(p, filed_on=D(2024, 3, 1), start=D(2024, 3, 1)) == ""
    assert r.check_retro(p, filed_on=D(2024, 3, 1), start=D(2024, 3, 2)) == ""
    assert r.check_retro(p, filed_on=D(2024, 3, 2), start=D(2024, 3, 1)) == "补办备案（langfang 第六十七条）"
    only_manual = Policy(
        "langfang",
        D(2024, 6, 1),
        params={"registers.retro_filing": {"before_discharge": False, "after_discharge_manual": True}},
    )
    assert r.check_retro(only_manual, filed_on=D(2024, 3, 2), start=D(2024, 3, 1)).startswith("补办备案")
    none = Policy(
        "langfang",
        D(2024, 6, 1),
        params={"registers.retro_filing": {"before_discharge": False, "after_discharge_manual": False}},
    )
    with pytest.raises(r.RegisterRefusal, match="不办理补办备案") as exc:
        r.check_retro(none, filed_on=D(2024, 3, 2), start=D(2024, 3, 1))
    assert exc.value.field == "start"


def test_long_term_lock_ends_on_the_anniversary_sanmenxia():
    """sanmenxia 第五十五条: 一年内不能变更或终止 — the day the year is over it may."""
    p = Policy("sanmenxia", D(2024, 6, 1))
    current = filing(r.LONG_TERM, D(2024, 2, 29))
    for action, field in (("change", "start"), ("cancel", "__all__")):
        with pytest.raises(r.RegisterRefusal, match="12 个月内不得") as exc:
            r.check_long_term_lock(p, current, action=action, on=D(2025, 2, 27))
        assert exc.value.field == field
        assert r.check_long_term_lock(p, current, action=action, on=D(2025, 2, 28)) == "sanmenxia 第五十五条"
    assert r.check_long_term_lock(p, filing(r.REFERRAL, D(2024, 5, 1)), action="change", on=D(2024, 6, 1)) == ""
    assert r.check_long_term_lock(p, None, action="change", on=D(2024, 6, 1)) == ""


def test_long_term_lock_langfang_change_only():
    """langfang 第六十九条: 半年内不得再次变更就医地; cancelling on return is free."""
    p = Policy("langfang", D(2024, 6, 1))
    current = filing(r.LONG_TERM, D(2024, 1, 31))
    assert r.check_long_term_lock(p, current, action="cancel", on=D(2024, 2, 1)) == "langfang 第六十九条"
    with pytest.raises(r.RegisterRefusal, match="变更就医地"):
        r.check_long_term_lock(p, current, action="change", on=D(2024, 7, 30))
    assert r.check_long_term_lock(p, current, action="change", on=D(2024, 7, 31)) == "langfang 第六十九条"
    # hunan 第四十条 is silent on a lock: the value is staff-entered, missing until then.
    with pytest.raises(PolicyMissing, match=r"registers\.long_term_lock"):
        r.check_long_term_lock(Policy("hunan", D(2024, 6, 1)), current, action="change", on=D(2024, 2, 1))
    # An entered empty lock refuses nothing.
    empty = Policy("hunan", D(2024, 6, 1), params={"registers.long_term_lock": {}})
    assert r.check_long_term_lock(empty, current, action="change", on=D(2024, 2, 1)) == empty.citation(
        "registers.long_term_lock"
    )


def test_active_long_term_is_the_latest_in_force():
    old = filing(r.LONG_TERM, D(2023, 1, 1))
    new = filing(r.LONG_TERM, D(2024, 1, 1))
    ended = filing(r.LONG_TERM, D(2024, 2, 1), D(2024, 6, 1))
    cancelled = filing(r.LONG_TERM, D(2024, 3, 1), active=False)
    temp = filing(r.TEMPORARY, D(2024, 4, 1))
    assert r.active_long_term([old, new, cancelled, temp], D(2024, 6, 1)) == new
    assert r.active_long_term([new, old], D(2024, 6, 1)) == new
    assert r.active_long_term([ended], D(2024, 5, 31)) == ended
    assert r.active_long_term([ended], D(2024, 6, 1)) is None
    assert r.active_long_term([new], D(2023, 12, 31)) is None


ADMISSION, DISCHARGE = D(2024, 6, 1), D(2024, 6, 5)


def _loc(code, filings=(), *, admission=ADMISSION, discharge=DISCHARGE, emergency=False, manual=False):
    return r.claim_location(
        Policy(code, admission),
        "out_of_area",
        list(filings),
        admission=admission,
        discharge=discharge,
        emergency=emergency,
        manual=manual,
    )


def test_claim_location_referral_wins_and_inactive_filings_do_not_count():
    """hunan 第四十条: a referral in force on admission is settled as a referral before any other filing."""
    both = [filing(r.LONG_TERM, D(2024, 1, 1)), filing(r.REFERRAL, D(2024, 5, 1), D(2024, 7, 1))]
    assert _loc("hunan", both)[0] == "referral"
    assert _loc("hunan", [filing(r.LONG_TERM, D(2024, 1, 1), active=False)])[0] == "unregistered"
    assert _loc("hunan", [filing(r.TEMPORARY, D(2024, 6, 2), D(2024, 7, 1))])[0] == "unregistered"
    location, words, cite = _loc("hunan", [filing(r.TEMPORARY, D(2024, 6, 1), D(2024, 7, 1), place="长沙")])
    assert location == "registered_remote" and "长沙" in words and cite == "hunan 第四十条"
    assert r.claim_location(
        Policy("hunan", D(2024, 6, 1)),
        "local",
        [],
        admission=D(2024, 6, 1),
        discharge=D(2024, 6, 5),
        emergency=True,
        manual=False,
    ) == ("local", "就医地：统筹区内，不需异地就医备案", "")


def test_claim_location_filing_applied_on_or_after_discharge():
    """langfang 第六十七条: 出院结算前补办 → direct settlement as filed; after discharge only manual claims."""
    on_discharge = filing(r.TEMPORARY, D(2024, 6, 1), D(2025, 6, 1), filed_on=D(2024, 6, 5))
    location, words, _ = _loc("langfang", [on_discharge])
    assert location == "registered_remote" and "申请日 2024-06-05" in words
    after = filing(r.TEMPORARY, D(2024, 6, 1), D(2025, 6, 1), filed_on=D(2024, 6, 6))
    location, words, cite = _loc("langfang", [after])
    assert location == "unregistered" and "2024-06-06" in words and cite == "langfang 第六十七条"
    assert _loc("langfang", [after], manual=True)[0] == "registered_remote"
    # Emergency rescue outranks the late filing (langfang 第六十七条 视同已备案).
    assert _loc("langfang", [after], emergency=True)[0] == "registered_remote"
    # hunan 第四十条: emergency without a filing is settled as emergency care.
    location, words, cite = _loc("hunan", emergency=True)
    assert location == "emergency" and "急诊抢救" in words and cite == "hunan 第四十条"
    location, words, _ = _loc("hunan")
    assert location == "unregistered" and "无有效的异地就医备案" in words


def test_catalogue_and_class():
    """ziyang 第十七条: classes 1–3; hunan 第四十六条: no classes."""
    p = Policy("ziyang", D(2024, 6, 1), params={"registers.chronic_disease_catalogue": [{"code": "M1", "name": "x"}]})
    assert r.catalogue_entry(p, "M1") == {"code": "M1", "name": "x"}
    with pytest.raises(r.RegisterRefusal) as exc:
        r.catalogue_entry(p, "M2")
    assert exc.value.field == "disease_code"
    for ok in (1, 3):
        assert r.check_class(p, ok) is None
    for bad in (0, 4, None):
        with pytest.raises(r.RegisterRefusal, match="1、2、3"):
            r.check_class(p, bad)
    hunan = Policy("hunan", D(2024, 6, 1))
    assert r.check_class(hunan, None) is None
    with pytest.raises(r.RegisterRefusal, match="不分类别"):
        r.check_class(hunan, 1)


def test_chronic_check_validity_classes_and_carry_over():
    """ziyang 第十七条: each class the claim states needs a valid certification; hunan 第六十一条: what was
    paid in resident insurance in the claim's year counts against the cap."""
    z = Policy("ziyang", D(2024, 6, 1))
    certs = [cert(D(2024, 1, 1), D(2024, 7, 1), cls=2), cert(D(2024, 6, 2), cls=1)]
    ok = r.chronic_check(z, certs, service_date=D(2024, 6, 1), classes=[2])
    assert ok.refusal == "" and ok.classes == (2,) and ok.citation == "ziyang 第十七条(三)"
    assert r.chronic_check(z, certs, service_date=D(2024, 6, 1), classes=[]).classes == (2,)
    missing = r.chronic_check(z, certs, service_date=D(2024, 6, 1), classes=[1, 2])
    assert "第1类" in missing.refusal and "第2类" not in missing.refusal
    assert r.chronic_check(z, certs, service_date=D(2024, 7, 1), classes=[2]).refusal != ""
    none = r.chronic_check(z, certs, service_date=D(2023, 12, 31), classes=[])
    assert "无有效的门诊慢特病认定" in none.refusal and none.classes == ()
    h = Policy("hunan", D(2024, 6, 1))
    carried = [
        cert(D(2024, 1, 1), cls=None, year=2024, paid=Decimal("300.50")),
        cert(D(2024, 1, 1), cls=None, year=2024, paid=Decimal("100.25"), name="糖尿病"),
        cert(D(2023, 1, 1), cls=None, year=2023, paid=Decimal("999")),
    ]
    check = r.chronic_check(h, carried, service_date=D(2024, 6, 1), classes=[])
    assert check.refusal == "" and check.carried_over_paid == Decimal("400.75")
    assert "高血压（2024-01-01 至 长期）" in check.reason and "糖尿病" in check.reason
    off = Policy("hunan", D(2024, 6, 1), params={"registers.chronic_certification_required": False})
    silent = r.chronic_check(off, [], service_date=D(2024, 6, 1), classes=[3])
    assert silent.refusal == "" and silent.classes == (3,)
