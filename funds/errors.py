"""What the ledger refuses (记账错误)."""

from __future__ import annotations

from decimal import Decimal


class LedgerError(Exception):
    """A posting the ledger refuses."""


class DuplicatePosting(LedgerError):
    """The business key has been posted already (记账业务重复)."""

    def __init__(self, business_key: str):
        self.business_key = business_key
        super().__init__(f"业务已记账，不能重复记账 (already posted): {business_key}")


class InsufficientBalance(LedgerError):
    """Money would leave an account that may not go below zero (余额不足)."""

    def __init__(self, account: object, needed: Decimal, available: Decimal | None):
        self.account, self.needed, self.available = account, needed, available
        super().__init__(f"账户 {account} 余额不足：需支出 {needed}，可用 {available} (insufficient balance)")


class UnbalancedEntry(LedgerError):
    """The legs of an entry do not sum to zero (借贷不平)."""


__all__ = ["DuplicatePosting", "InsufficientBalance", "LedgerError", "UnbalancedEntry"]
