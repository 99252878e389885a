"""死亡: a deceased person's personal account is paid out (after the death month's credit, where due)."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyMissing

from .credits import credit_retirees
from .models import AccountBalance, AccountKind, EntryKind, JournalEntry
from .posting import Leg, fund_account, jurisdiction_of, personal_account_or_none, pk_of, post_entry


def post_death(*, person, jurisdiction: str | Jurisdiction, on: date, heirs: bool, user=None) -> JournalEntry | None:
    """死亡: the balance is paid to the heirs or named beneficiaries, or goes to the pool when there are none.

    Heirs: langfang 第四十四条, xianning 细则 第十三条, sanmenxia 第九条, ziyang 第十一条(一)3,
    hunan 第四十四条. No heirs → pool where ``funds.death_without_heirs`` says ``pool``
    (langfang, sanmenxia, ziyang); elsewhere the seed is silent (``PolicyMissing``).
    Credits stop through the enrolment span, which the death event closes. A retiree's credit for
    the month of death, when due (ziyang 第十一条(一)3), is posted first if the month's run has not
    yet posted it: the payout is once per account, so a credit after it would stay in the account.
    Returns None when the account is empty.
    """
    jur = jurisdiction_of(jurisdiction)
    account = personal_account_or_none(person, jur)
    if account is None:
        return None
    with transaction.atomic():
        pid = pk_of(person)
        credit_retirees(
            lo=pid, hi=pid + 1, month=on, jurisdiction=jur.code, run_id=None, user_id=getattr(user, "pk", None)
        )
        amount = AccountBalance.objects.select_for_update().get(account=account).balance
        if amount <= 0:
            return None
        if heirs:
            kind, other, memo = EntryKind.DEATH_INHERITANCE, fund_account(jur, AccountKind.BANK), "死亡：余额支付继承人"
        else:
            policy = Policy(jur.code, on)
            if policy.value("funds.death_without_heirs") != "pool":
                raise PolicyMissing(jur.code, "funds.death_without_heirs", on, label="无继承人时个人账户余额的去向")
            kind, other = EntryKind.DEATH_TO_POOL, fund_account(jur, AccountKind.POOLED)
            memo = f"死亡无继承人：余额并入统筹基金（{policy.citation('funds.death_without_heirs')}）"
        return post_entry(
            business_key=f"death:{account.pk}",
            kind=kind,
            jurisdiction=jur,
            effective_on=on,
            legs=[Leg(account, -amount), Leg(other, amount)],
            memo=memo,
            person=person,
            user=user,
        )
