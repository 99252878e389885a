"""第三人责任 (third-party liability) — hunan 第三十五条, as plain rules over a case's facts.

"依法应当由第三人支付的医疗费用，第三人不支付或者无法确定第三人的 … 个人可以 … 书面申请基本医疗保险基金先行
支付 … 经 … 调查属实后，可按规定先行支付。基本医疗保险基金先行支付后，医保经办机构有权 … 向第三人继续追偿。
因客观原因难以追偿到位的，按程序审批后可以不再追偿。"

The case moves 已申请 → 调查属实 (or 调查不属实, closed) → 追偿中 (the fund's advance 先行支付 is booked as a
receivable) → 已全额追回, or, after a write-off is requested and approved by another person (按程序审批),
已核销. Steps: :func:`advance_refusal` (may the fund advance at all), :func:`next_state` (which action from
which state), :func:`outstanding`, :func:`recovery_refusal`, :func:`state_after_recovery`,
:func:`write_off_refusal`, :func:`approval_refusal`. Money is Decimal to the fen; nothing here writes.
"""

from __future__ import annotations

from decimal import Decimal

from policy.resolver import Policy

ADVANCE_KEY = "inpatient.third_party_advance"
ZERO = Decimal(0)
CENT = Decimal("0.01")

APPLIED, INVESTIGATED, REFUSED = "applied", "investigated", "refused"
RECOVERING, WRITE_OFF_PENDING = "recovering", "write_off_pending"
RECOVERED, WRITTEN_OFF = "recovered", "written_off"
STATE_ZH = {
    APPLIED: "已申请（待调查）",
    INVESTIGATED: "调查属实（待先行支付）",
    REFUSED: "调查不属实（不予先行支付）",
    RECOVERING: "已先行支付，追偿中",
    WRITE_OFF_PENDING: "核销待审批",
    RECOVERED: "已全额追回",
    WRITTEN_OFF: "已核销（不再追偿）",
}
CLOSED = frozenset({REFUSED, RECOVERED, WRITTEN_OFF})

#: action → (states it may start from, the state it leads to; None: decided by the amounts)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "investigate_true": ((APPLIED,), INVESTIGATED),
    "investigate_false": ((APPLIED,), REFUSED),
    "advance": ((INVESTIGATED,), RECOVERING),
    "recover": ((RECOVERING,), None),
    "request_write_off": ((RECOVERING,), WRITE_OFF_PENDING),
    "approve_write_off": ((WRITE_OFF_PENDING,), WRITTEN_OFF),
    "reject_write_off": ((WRITE_OFF_PENDING,), RECOVERING),
}
ACTION_ZH = {
    "apply": "书面申请先行支付",
    "investigate_true": "调查属实",
    "investigate_false": "调查不属实",
    "advance": "基金先行支付（转应收第三人款）",
    "recover": "追偿到账",
    "request_write_off": "申请核销（不再追偿）",
    "approve_write_off": "审批核销",
    "reject_write_off": "驳回核销申请",
}


def advance_refusal(policy: Policy, *, excluded_cause: str, third_party_unpaid: bool) -> str | None:
    """Why the fund may not advance this claim's costs, or ``None`` (hunan 第三十五条).

    The document must provide for the advance (``inpatient.third_party_advance``; where it is silent the
    resolver's missing-value error names the key, D-X16); the costs must be ones a third party owes
    (不予支付情形 ``third_party``, 第三十四条(二)) and the third party must not pay or be unknown."""
    allowed = policy.value(ADVANCE_KEY)
    cite = policy.citation(ADVANCE_KEY)
    if not allowed:
        return f"本统筹区基金不先行支付应由第三人负担的医疗费用（{cite}）。"
    if excluded_cause != "third_party":
        return f"只有依法应当由第三人支付的医疗费用可以申请先行支付：费用报销的不予支付情形须为“第三人负担”（{cite}）。"
    if not third_party_unpaid:
        return (
            "第三人不支付或者无法确定第三人的，方可申请先行支付："
            f"费用报销未标记“第三人不支付或无法确定第三人”（{cite}）。"
        )
    return None


def next_state(state: str, action: str) -> str | None:
    """The state ``action`` leads to from ``state`` (``None`` for a recovery: the amounts decide); raises
    ``ValueError`` naming the state when the action is not open from it."""
    if action not in TRANSITIONS:
        raise ValueError(f"未知操作 {action!r}。")
    sources, target = TRANSITIONS[action]
    if state not in sources:
        raise ValueError(f"案件状态为“{STATE_ZH.get(state, state)}”，不能{ACTION_ZH[action]}。")
    return target


def outstanding(advanced: Decimal, recovered: Decimal, written_off: Decimal) -> Decimal:
    """尚未追回 = 先行支付 − 已追回 − 已核销 (never below zero)."""
    return max(ZERO, advanced - recovered - written_off)


def money_refusal(amount: Decimal, *, label: str) -> str | None:
    """A positive amount to the fen, or the refusal."""
    if amount <= 0:
        return f"{label}应大于 0。"
    if amount != amount.quantize(CENT):
        return f"{label}最多两位小数。"
    return None


def recovery_refusal(amount: Decimal, *, left: Decimal) -> str | None:
    """A recovery (追偿到账) of ``amount`` against what is still outstanding ``left``."""
    if bad := money_refusal(amount, label="追回金额"):
        return bad
    if amount > left:
        return f"追回金额 {amount} 超过尚未追回的 {left}。"
    return None


def state_after_recovery(left_after: Decimal) -> str:
    """Fully recovered when nothing is outstanding, else still recovering (a part may still be written off)."""
    return RECOVERED if left_after <= 0 else RECOVERING


def write_off_refusal(reason: str, *, left: Decimal) -> str | None:
    """核销 needs something outstanding and the objective reason recovery is not possible (因客观原因难以追偿到位)."""
    if left <= 0:
        return "没有尚未追回的金额，无需核销。"
    if not (reason or "").strip():
        return "请说明难以追偿到位的客观原因（第三十五条：因客观原因难以追偿到位的，按程序审批后可以不再追偿）。"
    return None


def approval_refusal(requested_by: int | None, approver: int | None) -> str | None:
    """按程序审批: the write-off is approved by someone other than who requested it."""
    if approver is None:
        return "审批人不明。"
    if requested_by is not None and requested_by == approver:
        return "核销须由申请人以外的人员审批（按程序审批）。"
    return None
