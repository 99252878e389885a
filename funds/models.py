"""The funds ledger (基金账簿): a double-entry, append-only book of every money movement.

Accounts (:class:`FundAccount`) are the pooled fund of each jurisdiction (统筹基金,
with maternity merged in where the seeds say so), the critical-illness and
large-amount layers where they exist, the risk reserve (风险储备金), the fiscal
special account (财政专户, the bank), contributions receivable, a suspense account
per person for credits held back (sanmenxia 第十九条), and one personal account
(个人账户) per insured person and jurisdiction.

Sign convention: ``Posting.amount > 0`` **credits** the account (the fund, the
reserve or the person's account grows), ``< 0`` debits it. Asset accounts (bank,
receivable) therefore carry negative raw balances; :attr:`FundAccount.side` turns
them round for display. Every entry's postings sum to zero.

Integrity lives in the database: a unique business key per entry (posting twice is
impossible), ``CHECK (balance >= 0)`` on personal accounts, and on PostgreSQL a
deferred constraint trigger that checks each entry sums to zero at commit and
triggers that refuse UPDATE/DELETE of entries and postings (migration 0002).
Writes go through :mod:`funds.posting`; nothing here has an update path.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from batch.models import BatchRun
from policy.models import Jurisdiction


class AccountKind(models.TextChoices):
    POOLED = "pooled", "统筹基金"
    CRITICAL_ILLNESS = "critical_illness", "大病保险"
    LARGE_AMOUNT = "large_amount", "大额医疗费用补助"
    RISK_RESERVE = "risk_reserve", "风险储备金"
    RECEIVABLE = "receivable", "应收款"
    BANK = "bank", "财政专户（银行存款）"
    SUSPENSE = "suspense", "暂停划入（挂账）"
    PERSONAL = "personal", "个人账户"
    # 城乡居民基本医疗保险 (险种 390): its own books, never mixed with the employee fund (xianning 办法 四(三)
    # 职工医保基金和城乡居民医保基金分别建账、分账核算、分别计息、专款专用)
    RESIDENT_POOLED = "resident_pooled", "城乡居民医保统筹基金"
    RESIDENT_BANK = "resident_bank", "城乡居民医保财政专户（银行存款）"


#: Accounts whose natural balance is a debit (assets): shown with the sign turned round.
DEBIT_NORMAL = frozenset({AccountKind.BANK, AccountKind.RECEIVABLE, AccountKind.RESIDENT_BANK})
#: 险种 → (its pooled fund, its bank account): 310 职工基本医疗保险, 390 城乡居民基本医疗保险 (separate books).
SCHEME_ACCOUNTS = {
    "310": (AccountKind.POOLED, AccountKind.BANK),
    "390": (AccountKind.RESIDENT_POOLED, AccountKind.RESIDENT_BANK),
}
#: The pooled funds whose income and spending the fund page classifies by entry kind.
POOLED_KINDS = frozenset({AccountKind.POOLED, AccountKind.RESIDENT_POOLED})
#: Bank accounts (not shown as funds on the fund page).
BANK_KINDS = frozenset({AccountKind.BANK, AccountKind.RESIDENT_BANK})
#: Accounts held per person.
PER_PERSON = frozenset({AccountKind.PERSONAL, AccountKind.SUSPENSE})
#: Accounts that may never go below zero (enforced where the money leaves, and by a CHECK).
NON_NEGATIVE = frozenset({AccountKind.PERSONAL, AccountKind.SUSPENSE})


class FundAccount(models.Model):
    """账户: one account of the ledger."""

    # Indexed by the unique constraints below (a person's accounts; a jurisdiction's fund accounts).
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, db_index=False, verbose_name="统筹区")
    kind = models.CharField("账户类型", max_length=16, choices=AccountKind.choices)
    person = models.ForeignKey(
        "enrollment.InsuredPerson",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        related_name="fund_accounts",
        verbose_name="参保人员",
    )
    code = models.CharField("账户编码", max_length=64)
    opened_on = models.DateField("开户日期")

    class Meta:
        verbose_name = "基金账户"
        verbose_name_plural = "基金账户"
        ordering = ["jurisdiction__code", "kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="fund_account_unique_code"),
            models.UniqueConstraint(
                fields=["jurisdiction", "kind"], condition=Q(person__isnull=True), name="fund_account_unique_fund"
            ),
            models.UniqueConstraint(
                fields=["person", "jurisdiction", "kind"],
                condition=Q(person__isnull=False),
                # covering on PostgreSQL: the monthly jobs find each person's account id from the index alone
                include=["id"],
                name="fund_account_unique_person",
            ),
            models.CheckConstraint(
                condition=(Q(kind__in=sorted(PER_PERSON)) & Q(person__isnull=False))
                | (~Q(kind__in=sorted(PER_PERSON)) & Q(person__isnull=True)),
                name="fund_account_person_iff_personal",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        """账户名称 in words: 张三的个人账户（资阳）, 资阳 统筹基金; the code (ziyang:personal:1202) is small print."""
        if self.person_id is not None:
            return f"{self.person.name}的{self.get_kind_display()}（{self.jurisdiction.name}）"
        return f"{self.jurisdiction.name} {self.get_kind_display()}"

    @property
    def side(self) -> int:
        """+1 for credit-normal accounts (funds, personal accounts), −1 for assets (bank, receivable)."""
        return -1 if self.kind in DEBIT_NORMAL else 1


class EntryKind(models.TextChoices):
    CONTRIBUTION = "contribution", "征缴收入（单位及个人缴费）"
    CLEARANCE = "clearance", "退休清缴（一次性补缴）"
    RETIREE_CREDIT = "retiree_credit", "退休人员个人账户划入"
    INTEREST = "interest", "个人账户计息"
    ACCOUNT_PAYMENT = "account_payment", "个人账户支付"
    BENEFIT_PAYMENT = "benefit_payment", "统筹基金待遇支付"
    DEATH_INHERITANCE = "death_inheritance", "死亡：个人账户继承支付"
    DEATH_TO_POOL = "death_to_pool", "死亡无继承人：并入统筹基金"
    TRANSFER_OUT = "transfer_out", "关系转出：个人账户划转"
    HOLDER_PAYOUT = "holder_payout", "个人账户一次性支付本人"
    SUSPENSION_RELEASE = "suspension_release", "恢复划入（补足欠费）"
    RESERVE_EXTRACTION = "reserve_extraction", "提取风险储备金"
    RESERVE_SUPPORT = "reserve_support", "风险储备金调剂"
    CONTRIBUTION_REFUND = "contribution_refund", "缴费退还（待遇享受期前退费）"
    PREMIUM_FROM_ACCOUNT = "premium_from_account", "个人账户代扣大病保险费"
    CLOSURE_RESERVE = "closure_reserve", "关闭破产单位退休人员一次性预留医保费"
    OPENING = "opening", "期初余额"
    RESIDENT_CONTRIBUTION = "resident_contribution", "居民个人缴费收入"
    RESIDENT_SUBSIDY = "resident_subsidy", "居民医保财政补助收入"
    FUND_INTEREST = "fund_interest", "基金利息收入"
    # 第三人责任 (hunan 第三十五条): the pool's advance becomes a receivable from the third party; a recovery
    # pays it in; a write-off leaves it on the pool
    THIRD_PARTY_ADVANCE = "third_party_advance", "第三人责任：先行支付转应收"
    THIRD_PARTY_RECOVERY = "third_party_recovery", "第三人责任：追偿到账"
    THIRD_PARTY_WRITE_OFF = "third_party_write_off", "第三人责任：核销（不再追偿）"


#: Money coming into the pooled fund (收入) and going out of it (支出); the rest are internal moves.
POOL_INCOME_KINDS = frozenset(
    {
        EntryKind.CONTRIBUTION,
        EntryKind.CLEARANCE,
        EntryKind.DEATH_TO_POOL,
        EntryKind.RESERVE_SUPPORT,
        EntryKind.CONTRIBUTION_REFUND,  # income given back (a debit of the pool)
        EntryKind.RESIDENT_CONTRIBUTION,
        EntryKind.RESIDENT_SUBSIDY,
        EntryKind.FUND_INTEREST,
        EntryKind.CLOSURE_RESERVE,
    }
)
POOL_SPENDING_KINDS = frozenset({EntryKind.RETIREE_CREDIT, EntryKind.BENEFIT_PAYMENT})


class JournalEntry(models.Model):
    """记账凭证: one money movement. Never edited or deleted; a mistake is reversed by a new entry.

    The money is in the postings, whose foreign keys (entry, account) the database
    enforces. ``jurisdiction``, ``person``, ``run`` and ``created_by`` are labels of
    the entry for finding and showing it; they are not database constraints
    (``db_constraint=False``), which saves three row-locking checks per entry in
    batch runs of hundreds of thousands (the rows they point to are PROTECTed and
    never deleted).
    """

    business_key = models.CharField(
        "业务键", max_length=120, help_text="同一业务只能记账一次，例如 retiree-credit:123:2024-03"
    )
    kind = models.CharField("业务类型", max_length=24, choices=EntryKind.choices)
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, db_index=False, db_constraint=False, verbose_name="统筹区"
    )
    person = models.ForeignKey(
        "enrollment.InsuredPerson",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # indexed with the effective date below
        db_constraint=False,
        related_name="journal_entries",
        verbose_name="参保人员",
    )
    effective_on = models.DateField("生效日期")
    recorded_at = models.DateTimeField("记账时间")
    memo = models.CharField("摘要", max_length=255, blank=True)
    reverses = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # the partial unique constraint below indexes it
        related_name="reversals",
        verbose_name="冲销的凭证",
    )
    run = models.ForeignKey(
        BatchRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        db_constraint=False,
        related_name="+",
        verbose_name="批处理运行",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        db_constraint=False,
        verbose_name="记账人",
    )

    class Meta:
        verbose_name = "记账凭证"
        verbose_name_plural = "记账凭证"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["person", "effective_on"], name="funds_entry_person_eff"),
            # the list filtered by kind, in its order (a rare kind would otherwise walk the whole pk index)
            models.Index(fields=["kind", "-id"], name="funds_entry_kind_id"),
        ]
        constraints = [
            # posting the same business twice is impossible (ON CONFLICT DO NOTHING in the batch jobs)
            models.UniqueConstraint(fields=["business_key"], name="funds_entry_unique_business_key"),
            # an entry is reversed once at most
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="funds_entry_reversed_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.business_key} ({self.effective_on})"


class Posting(models.Model):
    """分录: one line of an entry. ``amount > 0`` credits the account, ``< 0`` debits it.

    ``effective_on`` and ``kind`` repeat the entry's values so a statement or a
    monthly series reads one index (account, effective date, id) without joining.
    """

    # On PostgreSQL both references are enforced set-wise by the ledger's triggers (one check per
    # INSERT statement, deletes refused: migrations 0006/0008) rather than by per-row foreign-key
    # checks, which cost four row-locking lookups per entry in batch runs.
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, db_constraint=False, related_name="postings", verbose_name="凭证"
    )
    account = models.ForeignKey(
        FundAccount,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
        related_name="postings",
        verbose_name="账户",
    )
    amount = models.DecimalField("金额（贷正借负）", max_digits=14, decimal_places=2)
    effective_on = models.DateField("生效日期")
    kind = models.CharField("业务类型", max_length=24, choices=EntryKind.choices)

    class Meta:
        verbose_name = "分录"
        verbose_name_plural = "分录"
        ordering = ["account_id", "effective_on", "id"]
        indexes = [
            # On PostgreSQL migration 0002 rebuilds this index as a covering one
            # (INCLUDE amount, kind) so statements and monthly series are index-only scans.
            models.Index(fields=["account", "effective_on", "id"], name="funds_posting_acct_eff_id"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="funds_posting_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount}"


class AccountBalance(models.Model):
    """账户余额: the sum of the account's postings, kept in step in the same transaction."""

    account = models.OneToOneField(
        FundAccount, on_delete=models.PROTECT, primary_key=True, related_name="balance", verbose_name="账户"
    )
    balance = models.DecimalField("余额（贷正借负）", max_digits=16, decimal_places=2, default=0)
    non_negative = models.BooleanField("不得为负", default=False)

    class Meta:
        verbose_name = "账户余额"
        verbose_name_plural = "账户余额"
        constraints = [
            models.CheckConstraint(
                condition=Q(non_negative=False) | Q(balance__gte=0), name="funds_balance_personal_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.balance}"


class AccountMonthTotal(models.Model):
    """月度发生额: the net of a fund-level account's postings per effective month and entry kind.

    Kept in step with the postings in the same transaction (like :class:`AccountBalance`),
    for the fund-level accounts only (not personal or suspense accounts), so a fund's
    monthly income, spending and balance read a few dozen rows instead of millions of
    postings. Reconciliation checks it against the postings.
    """

    account = models.ForeignKey(FundAccount, on_delete=models.PROTECT, related_name="month_totals", verbose_name="账户")
    month = models.DateField("月份", help_text="当月1日")
    kind = models.CharField("业务类型", max_length=24, choices=EntryKind.choices)
    amount = models.DecimalField("发生额（贷正借负）", max_digits=18, decimal_places=2, default=0)
    postings = models.BigIntegerField("分录笔数", default=0)

    class Meta:
        verbose_name = "月度发生额"
        verbose_name_plural = "月度发生额"
        ordering = ["account_id", "month", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["account", "month", "kind"], name="funds_month_total_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m} {self.kind} {self.amount}"


class CreditSuspension(models.Model):
    """暂停个人账户划入: an employer refusing to pay (sanmenxia 第十九条).

    While open, its employees' in-service credits and its retirees' credits go to
    each person's suspense account; :func:`funds.posting.suspension_release` moves
    them to the personal accounts once the arrears and late fees are paid.
    """

    employer = models.ForeignKey(
        "enrollment.Employer", on_delete=models.PROTECT, related_name="credit_suspensions", verbose_name="用人单位"
    )
    start = models.DateField("暂停起")
    end = models.DateField("恢复日（不含）", null=True, blank=True)
    citation = models.CharField("条款出处", max_length=120)
    note = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name="经办人"
    )

    class Meta:
        verbose_name = "暂停个人账户划入"
        verbose_name_plural = "暂停个人账户划入"
        ordering = ["-start"]
        indexes = [models.Index(fields=["-start", "-id"], name="funds_suspension_start")]  # the list's order
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=models.F("start")), name="funds_suspension_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employer} {self.start}–{self.end or ''}"


class ShortfallSource(models.TextChoices):
    CLEARANCE = "clearance", "退休清缴"
    STAFF = "staff", "经办录入"


class ShortfallSettlement(models.Model):
    """个人账户缴费差额补足登记: a flexible worker made up the shortfall against current standards.

    sanmenxia 第十七条: flexible workers have no personal account; one who pays the difference
    between past contributions and the current standard has an account from the next month,
    and after retirement (``accounts.flexible_retiree_needs_shortfall_paid``). A retiree who
    retired as a flexible worker is credited from the month after ``paid_on``; without this
    record, not at all. Entered by staff, or from the retirement clearance case that collected it.
    """

    person = models.ForeignKey(
        "enrollment.InsuredPerson",
        on_delete=models.PROTECT,
        related_name="shortfall_settlements",
        verbose_name="参保人员",
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    paid_on = models.DateField("差额补足到账日期")
    source = models.CharField("来源", max_length=16, choices=ShortfallSource.choices, default=ShortfallSource.STAFF)
    clearance_case_id = models.BigIntegerField("退休清缴案件ID", null=True, blank=True)
    note = models.TextField("说明", blank=True)
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name="经办人"
    )

    class Meta:
        verbose_name = "个人账户缴费差额补足"
        verbose_name_plural = "个人账户缴费差额补足"
        ordering = ["-paid_on"]
        indexes = [models.Index(fields=["-paid_on", "-id"], name="funds_shortfall_paid")]  # the list's order
        constraints = [
            models.UniqueConstraint(fields=["person", "jurisdiction"], name="funds_shortfall_once_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.paid_on}"


class Reconciliation(models.Model):
    """对账记录: one run of :func:`funds.reconcile.reconcile` and the breaks it found."""

    ran_at = models.DateTimeField("对账时间")
    ok = models.BooleanField("全部平衡")
    checks = models.JSONField("检查项", default=dict)
    breaks = models.JSONField("不平衡项", default=list)
    seconds = models.FloatField("耗时（秒）", default=0)

    class Meta:
        verbose_name = "对账记录"
        verbose_name_plural = "对账记录"
        ordering = ["-ran_at"]
        indexes = [models.Index(fields=["-ran_at", "-id"], name="funds_reconciliation_ran")]  # the list's order

    def __str__(self) -> str:
        return f"{self.ran_at:%Y-%m-%d %H:%M} {'平' if self.ok else '不平'}"


# --- 个人账户的使用：家庭共济绑定、支付登记、余额支付本人 (funds.account_use) ------------------------------


class Relationship(models.TextChoices):
    SPOUSE = "spouse", "配偶"
    PARENT = "parent", "父母"
    CHILD = "child", "子女"


class FamilyBinding(models.Model):
    """家庭共济绑定: a family member whose costs and premiums the holder's personal account may pay.

    The relationship must be one the jurisdiction's document lists (``account_use.family_relationships``:
    hunan 第四十三条, langfang 第四十条(二), xianning 细则 第十三条, ziyang 第十一条(一)) and agree with the
    birth dates the 身份证号 encode (a parent born before the holder, a child after); the proof is recorded.
    A binding is in force over ``[start, end)``.
    """

    holder = models.ForeignKey(
        "enrollment.InsuredPerson",
        on_delete=models.PROTECT,
        related_name="family_bindings",
        verbose_name="账户持有人",
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    member_name = models.CharField("家庭成员姓名", max_length=50)
    member_id_number = models.CharField("家庭成员身份证号", max_length=18)
    relationship = models.CharField("关系", max_length=16, choices=Relationship.choices)
    proof = models.CharField("关系证明（户口簿、结婚证等及其编号）", max_length=100)
    start = models.DateField("绑定日期")
    end = models.DateField("解除日期", null=True, blank=True)
    citation = models.CharField("条款出处", max_length=255, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="经办人",
    )
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = "家庭共济绑定"
        verbose_name_plural = "家庭共济绑定"
        ordering = ["-start", "-id"]
        indexes = [models.Index(fields=["holder", "start"], name="funds_binding_holder")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=models.F("start")), name="binding_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_name}（{self.get_relationship_display()}）"

    def in_force(self, day) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


class AccountUsePurpose(models.TextChoices):
    INSTITUTION_SELF_PAY = "institution_self_pay", "定点医疗机构就医个人负担的费用"
    PHARMACY = "pharmacy", "定点零售药店购买药品、医疗器械、医用耗材"
    HEALTH_CHECKUP = "health_checkup", "健康体检"
    RESIDENT_PREMIUM = "resident_premium", "城乡居民基本医疗保险个人缴费"
    CRITICAL_ILLNESS_PREMIUM = "critical_illness_premium", "大病保险/重特大疾病保险个人缴费"
    LARGE_AMOUNT_PREMIUM = "large_amount_premium", "大额医疗保险个人缴费"
    LONG_TERM_CARE_PREMIUM = "long_term_care_premium", "长期护理保险个人缴费"
    SUPPLEMENTARY_PREMIUM = "supplementary_premium", "补充医疗保险个人缴费"
    OWN_BASIC_PREMIUM = "own_basic_premium", "灵活就业人员本人基本医疗保险缴费"
    PUBLIC_HEALTH = "public_health", "公共卫生费用"
    FITNESS = "fitness", "体育健身"
    WELLNESS = "wellness", "养生保健消费"
    COSMETICS = "cosmetics", "化妆品"
    SUPPLEMENTS = "supplements", "营养保健品"
    FOOD = "food", "食品"
    FITNESS_EQUIPMENT = "fitness_equipment", "健身器材"
    CRAFTS = "crafts", "工艺美术"
    APPLIANCES = "appliances", "家用电器"
    CASH = "cash", "提取现金"
    OTHER = "other", "其他"


class AccountUseStatus(models.TextChoices):
    PAID = "paid", "已支付"
    REFUSED = "refused", "不予支付"


class AccountUse(models.Model):
    """个人账户支付登记: one request to pay from the personal account, paid (with its journal entry) or refused
    with the article (hunan 第四十三条, langfang 第四十条–第四十一条, sanmenxia 第十条, ziyang 第十一条,
    xianning 细则 第十三条)."""

    holder = models.ForeignKey(
        "enrollment.InsuredPerson", on_delete=models.PROTECT, related_name="account_uses", verbose_name="账户持有人"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    purpose = models.CharField("用途", max_length=32, choices=AccountUsePurpose.choices)
    binding = models.ForeignKey(
        FamilyBinding,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="uses",
        verbose_name="受益家庭成员（空：本人）",
    )
    amount = models.DecimalField("金额", max_digits=14, decimal_places=2)
    used_on = models.DateField("支付日期")
    status = models.CharField("结果", max_length=16, choices=AccountUseStatus.choices)
    reason = models.CharField("审核意见", max_length=255)
    citation = models.CharField("条款出处", max_length=255, blank=True)
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="记账凭证"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="经办人",
    )

    class Meta:
        verbose_name = "个人账户支付"
        verbose_name_plural = "个人账户支付"
        ordering = ["-used_on", "-id"]
        indexes = [models.Index(fields=["-used_on", "-id"], name="funds_account_use_day")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.amount}（{self.get_status_display()}）"


class PayoutGround(models.TextChoices):
    SPECIAL_CIRCUMSTANCES = "special_circumstances", "因特殊情况无法使用或转移"
    EMIGRATION = "emigration", "出国、出境定居"


class AccountPayout(models.Model):
    """个人账户余额支付本人: the balance paid to the holder's own bank account where a seed allows it
    (hunan 第四十四条; xianning 细则 第十三条 on emigration), posted to the ledger in the same transaction."""

    holder = models.ForeignKey(
        "enrollment.InsuredPerson", on_delete=models.PROTECT, related_name="account_payouts", verbose_name="账户持有人"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    ground = models.CharField("情形", max_length=32, choices=PayoutGround.choices)
    bank_name = models.CharField("开户银行", max_length=100)
    bank_account = models.CharField("本人银行账号", max_length=32)
    paid_on = models.DateField("支付日期")
    amount = models.DecimalField("支付金额（账户余额）", max_digits=14, decimal_places=2)
    citation = models.CharField("条款出处", max_length=255, blank=True)
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="+", verbose_name="记账凭证")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="经办人",
    )

    class Meta:
        verbose_name = "个人账户余额支付本人"
        verbose_name_plural = "个人账户余额支付本人"
        ordering = ["-paid_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_ground_display()} {self.amount}"


# --- 预缴与退费 (funds.prepayment): hunan 第十三条、第五十四条, ziyang 第九条(三) --------------------------------


class PrepaymentKind(models.TextChoices):
    FLEXIBLE_ANNUAL = "flexible_annual", "灵活就业人员次年预缴（职工医保费）"
    CRITICAL_ILLNESS_ANNUAL = "critical_illness_annual", "按年缴纳次年大病保险费"
    CRITICAL_ILLNESS_LUMP_SUM = "critical_illness_lump_sum", "一次性缴纳大病保险费"


class PaidFrom(models.TextChoices):
    BANK = "bank", "本人缴纳（税务缴款）"
    PERSONAL_ACCOUNT = "personal_account", "从职工医保个人账户代扣"


class Prepayment(models.Model):
    """预缴通知与缴款: a bill for months ahead (the next year, or the years of a 大病 lump sum) and its payment.

    The money is recorded as a :class:`contributions.models.Payment` that holds it (未冲抵) until each month's
    due is billed; the monthly billing then applies it and the ledger books that month's contribution when the
    month begins (F-C2). Paid from the personal account (hunan 第五十四条), the account is debited at once
    (:attr:`entry`). ``detail`` keeps the figures of the calculation (base, rate, age, life expectancy …).
    """

    person = models.ForeignKey(
        "enrollment.InsuredPerson", on_delete=models.PROTECT, related_name="prepayments", verbose_name="参保人员"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    kind = models.CharField("预缴类型", max_length=32, choices=PrepaymentKind.choices)
    ground = models.CharField("一次性缴纳情形", max_length=32, blank=True)
    start_month = models.DateField("预缴起始月")
    months = models.PositiveIntegerField("预缴月数")
    monthly_amount = models.DecimalField("每月金额", max_digits=14, decimal_places=2)
    monthly_refundable = models.DecimalField("每月可退金额", max_digits=14, decimal_places=2)
    total = models.DecimalField("预缴合计", max_digits=14, decimal_places=2)
    paid_on = models.DateField("缴费日期")
    paid_from = models.CharField("缴费方式", max_length=16, choices=PaidFrom.choices, default=PaidFrom.BANK)
    payment = models.ForeignKey(
        "contributions.Payment", on_delete=models.PROTECT, related_name="+", verbose_name="实缴（电子税票号）"
    )
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="个人账户扣款凭证"
    )
    citation = models.CharField("条款出处", max_length=255)
    detail = models.JSONField("计算依据", default=dict, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="经办人",
    )

    class Meta:
        verbose_name = "预缴"
        verbose_name_plural = "预缴（次年预缴、大病保险费按年或一次性缴纳）"
        ordering = ["-paid_on", "-id"]
        indexes = [models.Index(fields=["-paid_on", "-id"], name="funds_prepayment_paid")]
        constraints = [
            models.CheckConstraint(condition=Q(total__gt=0) & Q(months__gt=0), name="funds_prepayment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start_month:%Y-%m} 起 {self.months} 个月 {self.total}"


class RefundKind(models.TextChoices):
    PREPAID_REMAINDER = "prepaid_remainder", "预缴费用退还当年剩余月份（hunan 第十三条）"
    BEFORE_BENEFIT_PERIOD = "before_benefit_period", "进入待遇享受期前退费（ziyang 第九条(三)）"


class ContributionRefund(models.Model):
    """退费: money given back to the insured person (or the heirs) with the article that allows it.

    ``prepaid_remainder``: the held part of a :class:`Prepayment` for the months after the event; it was never
    booked as income (F-C2), so nothing is posted and the payment's ``refunded_amount`` grows.
    ``before_benefit_period``: contributions already booked are given back: one entry debits the pool and the
    personal account by the shares the dues credited (:attr:`entry`), and the dues are marked refunded.
    """

    person = models.ForeignKey(
        "enrollment.InsuredPerson",
        on_delete=models.PROTECT,
        related_name="contribution_refunds",
        verbose_name="参保人员",
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    kind = models.CharField("退费类型", max_length=32, choices=RefundKind.choices)
    ground = models.CharField("退费情形", max_length=16)
    event_on = models.DateField("事由发生日期", help_text="就业参保、死亡等发生的日期")
    refunded_on = models.DateField("退费日期")
    prepayment = models.ForeignKey(
        Prepayment, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds", verbose_name="预缴"
    )
    months = models.PositiveIntegerField("退费月数")
    amount = models.DecimalField("退费金额", max_digits=14, decimal_places=2)
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="记账凭证"
    )
    citation = models.CharField("条款出处", max_length=255)
    detail = models.JSONField("计算依据", default=dict, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="经办人",
    )

    class Meta:
        verbose_name = "退费"
        verbose_name_plural = "退费"
        ordering = ["-refunded_on", "-id"]
        indexes = [models.Index(fields=["-refunded_on", "-id"], name="funds_refund_day")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="funds_refund_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


# --- 城乡居民医保基金收入登记：财政补助、利息 (funds.resident_fund) ------------------------------------------


class ResidentReceiptKind(models.TextChoices):
    SUBSIDY_CENTRAL = "subsidy_central", "中央财政补助"
    SUBSIDY_PROVINCIAL = "subsidy_provincial", "省级财政补助"
    SUBSIDY_LOCAL = "subsidy_local", "市县财政补助"
    INTEREST = "interest", "基金利息收入"


class ResidentFundReceipt(models.Model):
    """城乡居民医保基金收入登记: a fiscal subsidy (sanmenxia 第三十条 个人缴费和财政补助相结合) or the fund's
    interest received into the resident fund's own books (xianning 办法 四(三) 分别建账、分别计息), posted to the
    ledger in the same transaction (:func:`funds.resident_fund.receipt_record`)."""

    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, verbose_name="统筹区")
    kind = models.CharField("收入类型", max_length=24, choices=ResidentReceiptKind.choices)
    year = models.PositiveSmallIntegerField("所属年度", help_text="补助所属的待遇年度；利息所属的计息年度")
    amount = models.DecimalField("金额", max_digits=14, decimal_places=2)
    received_on = models.DateField("到账日期")
    reference = models.CharField("拨款文号/凭证号", max_length=64, unique=True)
    note = models.TextField("说明", blank=True)
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="+", verbose_name="记账凭证")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="经办人",
    )

    class Meta:
        verbose_name = "居民医保基金收入登记"
        verbose_name_plural = "居民医保基金收入登记"
        ordering = ["-received_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="resident_receipt_amount_positive")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.year} {self.amount}"
