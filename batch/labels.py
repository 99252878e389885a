"""批处理的中文说明: job names and run statistics in words for the screens (never raw JSON or dotted names).

- :func:`job_label` — ``contributions.arrears_accrue`` → 欠费滞纳金计提 (the label each job registered with
  :func:`batch.runs.batch_job`);
- :func:`counts_in_words` — a run's ``counts`` as ``[(label, value)]``: ``generated`` → 生成应缴（人·月）,
  ``missing:contribution.due_day`` → 缺少参数“缴费截止日”, ``clearance.age_unknown:xianning`` →
  退休清缴：无法判定是否达到退休年龄（咸宁）, sums in 分 shown in 元.
"""

from __future__ import annotations

from decimal import Decimal

#: The statistic of a count key (the part after any ``step.`` prefix).
COUNT_LABELS: dict[str, str] = {
    # contributions: bases, dues, arrears, payments
    "recomputed": "重新核定基数（人）",
    "clamped_floor": "按下限核定基数（人）",
    "employer_bases": "核定单位缴费基数（家）",
    "bases": "核定基数（人）",
    "generated": "生成应缴（人·月）",
    "generated_retiree_premium": "生成退休人员大病保险费（人）",
    "recalculated": "重算应缴（人·月）",
    "existing": "已有应缴未变（人·月）",
    "in_arrears": "欠费（人·月）",
    "accrued": "计提滞纳金（人·月）",
    "allocations": "冲抵明细（笔）",
    "dues_touched": "冲抵的应缴（人·月）",
    "payments_applied": "冲抵的实缴（笔）",
    "amount_applied_cents": "冲抵金额（元）",
    "bills_paid": "缴清的补缴单（张）",
    # 城乡居民医保 (险种 390)
    "billed": "生成居民年度应缴（人）",
    "resident_allocations": "居民缴费冲抵（笔）",
    "resident_dues_settled": "缴清的居民年度应缴（人）",
    "ledger_entries": "居民医保基金记账凭证（张）",
    "ledger_postings": "居民医保基金分录（行）",
    "assigned": "分配（笔）",
    # funds
    "accounts_opened": "新开个人账户（个）",
    "amount_fen": "金额（元）",
    "credited": "划入（人）",
    "not_entitled": "不符合划入条件（人）",
    "suspense": "暂挂（笔）",
    "entries": "记账凭证（张）",
    "bank": "银行存款（笔）",
    "pool": "统筹基金（笔）",
    "maternity": "生育保险（笔）",
    "critical_illness": "大病保险（笔）",
    # benefits: eligibility timeline
    "persons": "人员（人）",
    "evaluated": "判定（人）",
    "evaluations": "逐月判定（次）",
    "cache_hits": "沿用上次判定（次）",
    "changed": "状态有变化（人）",
    "unchanged": "状态未变（人）",
    "periods_written": "写入状态区间（段）",
    "skipped": "跳过（人）",
    "errors_changed": "判定出错的人有变化（人）",
    # retirement clearance
    "opened": "新立案件（件）",
    "pending": "待审核案件（件）",
    "updated": "更新案件（件）",
    "problem": "有问题的案件（件）",
    "female_role_missing": "女职工身份（干部/工人）未登记（人）",
    # generic
    "errors": "错误（条）",
    "errors_recorded": "记录的错误（条）",
}

#: The step a prefixed key belongs to (``arrears.accrued`` → 滞纳金).
STEP_LABELS: dict[str, str] = {
    "arrears": "欠费滞纳金",
    "fees": "滞纳金",
    "eligibility": "待遇状态",
    "clearance": "退休清缴",
    "ms": "耗时（毫秒）",
}

#: Count keys that hold money in 分 (shown in 元).
CENT_KEYS = frozenset({"amount_fen", "amount_applied_cents"})


def job_label(name: str) -> str:
    """The words of a job (its registered label), or the name itself for a job no longer registered."""
    from .runs import discover

    job = discover().get(name)
    return job.label if job and job.label and job.label != name else name


def _jurisdiction_names() -> dict[str, str]:
    from policy.models import Jurisdiction

    return dict(Jurisdiction.objects.values_list("code", "name"))


def _key_label(key: str) -> str:
    from policy.catalog import catalog_labels

    label = catalog_labels().get(key)
    return f"“{label.split('（')[0]}”" if label else key  # the label without its explanation in brackets


def count_label(key: str) -> str:
    """The words of one count key."""
    step, _, rest = key.partition(".")
    if rest and step in STEP_LABELS:
        if step == "ms":
            return f"耗时：{STEP_LABELS.get(rest, rest)}（毫秒）"
        return f"{STEP_LABELS[step]}：{count_label(rest)}"
    kind, _, detail = key.partition(":")
    if detail:
        if kind == "missing":
            return f"缺少参数{_key_label(detail)}（人）"
        if kind == "base_missing":
            return f"缺少基数参数{_key_label(detail)}（人）"
        if kind == "employer_bases_missing":
            return f"单位基数缺少参数{_key_label(detail)}（家）"
        if kind == "age_unknown":
            return f"无法判定是否达到退休年龄（{_jurisdiction_names().get(detail, detail)}）（人）"
        if kind == "error":
            return f"判定出错：{_key_label(detail)}（人）"
    return COUNT_LABELS.get(key, key)


def counts_in_words(counts: dict | None) -> list[tuple[str, str]]:
    """``[(label, value)]`` of a run's statistics, money in 元 (分 ÷ 100), numbers with thousands separators."""
    out = []
    for key, value in (counts or {}).items():
        base = key.rpartition(".")[2]
        if base in CENT_KEYS and isinstance(value, int):
            text = f"{Decimal(value) / 100:,.2f}"
        elif isinstance(value, int):
            text = f"{value:,}"
        else:
            text = str(value)
        out.append((count_label(key), text))
    return out


def counts_text(counts: dict | None) -> str:
    """One line: ``生成应缴（人·月） 5,241；欠费（人·月） 52``; 无 when empty."""
    words = counts_in_words(counts)
    return "；".join(f"{label} {value}" for label, value in words) if words else "无"
