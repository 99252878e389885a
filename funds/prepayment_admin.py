"""Screens of prepayment and refunds (预缴、退费): hunan 第十三条、第五十四条, ziyang 第九条(三).

Bureau staff only (employer users see nothing: the money is the insured person's own); the add forms run
:mod:`funds.prepayment` inside the admin's transaction, so a refusal is a field message and nothing is
written; rows are never edited or deleted. The auditor reads. A row's page is the notice (预缴通知 / 退费
通知): the months, the monthly amount, the total, the article, and how it was worked out.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join

from contributions.calculations.prepayment import LUMP_SUM_GROUNDS, REFUND_GROUNDS
from contributions.inputs import REFERENCE_MAX_LENGTH
from enrollment.bounds import MIN_BUSINESS_DATE

from . import prepayment
from .account_use_admin import DATE, ServiceRunForm, _ServiceAdmin
from .models import ContributionRefund, PaidFrom, Prepayment, PrepaymentKind, RefundKind

MAX_YEAR = 2100
DETAIL_LABELS = {
    "base": "缴费基数（月）",
    "basic": "每月职工医保费",
    "critical_illness": "每月大病保险费",
    "refundable": "每月可退金额",
    "figures_of": "计算所用标准的日期（次年缴费基准值未公布，按缴费日标准，D-H25）",
    "age": "实际年龄（岁）",
    "life_expectancy": "全国人均预期寿命（岁）",
    "years": "缴纳年限（不足一年按一年）",
    "annual_premium": "当年度大病保险筹资标准（元/年）",
    "monthly_refundable": "每月可退金额",
    "held_before": "退费前预缴款余额（未冲抵）",
    "reference": "电子税票号",
    "benefit_start": "待遇享受期开始日（空：尚未开始）",
    "first_month": "退费起始月",
    "last_month": "退费截止月",
    "personal_account": "从个人账户扣回",
}


def _notice(obj, lines) -> str:
    rows = [(label, value) for label, value in lines]
    rows += [(DETAIL_LABELS.get(k, k), v if v is not None else "—") for k, v in (obj.detail or {}).items()]
    return format_html(
        "<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", ((k, v) for k, v in rows))
    )


def _bounded_date(value: date) -> date:
    if value < MIN_BUSINESS_DATE:
        raise forms.ValidationError(f"日期不能早于 {MIN_BUSINESS_DATE.isoformat()}。")
    return value


class PrepaymentForm(ServiceRunForm):
    year = forms.IntegerField(
        label="预缴年度",
        required=False,
        min_value=MIN_BUSINESS_DATE.year,
        max_value=MAX_YEAR,
        help_text="次年预缴、按年缴纳大病保险费时填写（缴费日的次年）",
    )
    reference = forms.CharField(
        label="电子税票号",
        required=False,
        max_length=REFERENCE_MAX_LENGTH,
        help_text="本人缴纳时必填；从个人账户代扣时留空，系统按扣款凭证编号",
    )
    ground = forms.ChoiceField(
        label="一次性缴纳情形",
        required=False,
        choices=[("", "—"), *LUMP_SUM_GROUNDS.items()],
        help_text="一次性缴纳大病保险费时填写（hunan 第五十四条）",
    )

    class Meta:
        model = Prepayment
        fields = ("person", "jurisdiction", "kind", "paid_on", "paid_from")
        widgets = {"paid_on": DATE}

    def clean_paid_on(self):
        return _bounded_date(self.cleaned_data["paid_on"])

    def run(self, data):
        kind = data["kind"]
        if kind == PrepaymentKind.FLEXIBLE_ANNUAL:
            if data.get("year") is None:
                raise forms.ValidationError({"year": "请填写预缴年度。"})
            if data["paid_from"] != PaidFrom.BANK:
                raise forms.ValidationError({"paid_from": "次年职工医保费由本人缴纳，不能从个人账户代扣。"})
            return prepayment.flexible_prepay(
                person=data["person"],
                jurisdiction=data["jurisdiction"],
                year=data["year"],
                paid_on=data["paid_on"],
                reference=data.get("reference") or "",
                user=self.user,
            )
        if data["paid_from"] == PaidFrom.BANK and not data.get("reference"):
            raise forms.ValidationError({"reference": "本人缴纳时请填写电子税票号。"})
        return prepayment.critical_illness_prepay(
            person=data["person"],
            jurisdiction=data["jurisdiction"],
            kind=kind,
            paid_on=data["paid_on"],
            reference=data.get("reference") or "",
            paid_from=data["paid_from"],
            year=data.get("year"),
            ground=data.get("ground") or "",
            user=self.user,
        )


class _PersonAdmin(_ServiceAdmin):
    search_person_path = "person"
    search_fields = ("person__name",)
    autocomplete_fields = ("person",)
    list_select_related = ("person", "jurisdiction")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return [f.name for f in self.model._meta.fields] + ["notice"]


@admin.register(Prepayment)
class PrepaymentAdmin(_PersonAdmin):
    """预缴: 灵活就业人员次年预缴, 大病保险费按年或一次性缴纳 — the bill and the money held for the months ahead."""

    form = PrepaymentForm
    list_display = ("person", "jurisdiction", "kind", "start_month", "months", "monthly_amount", "total", "paid_on")
    list_filter = ("jurisdiction", "kind", "paid_from")
    ordering = ("-paid_on", "-id")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("person", "jurisdiction", "kind", "year", "ground", "paid_on", "paid_from", "reference")
        return ("notice", "person", "jurisdiction", "kind", "payment", "entry", "created_by", "created_at")

    @admin.display(description="预缴通知")
    def notice(self, obj):
        return _notice(
            obj,
            [
                ("预缴类型", obj.get_kind_display()),
                ("所属期", f"{obj.start_month:%Y年%m月} 起 {obj.months} 个月"),
                ("每月金额", obj.monthly_amount),
                ("每月可退金额", obj.monthly_refundable),
                ("合计", obj.total),
                ("缴费日期", obj.paid_on),
                ("缴费方式", obj.get_paid_from_display()),
                ("条款出处", obj.citation),
                ("说明", "预缴款暂存（未冲抵），每月生成应缴时冲抵当月，并于当月记入基金（F-C2）。"),
            ],
        )


class RefundForm(ServiceRunForm):
    ground = forms.ChoiceField(label="退费情形", choices=list(REFUND_GROUNDS.items()))

    class Meta:
        model = ContributionRefund
        fields = ("person", "jurisdiction", "kind", "prepayment", "ground", "event_on", "refunded_on")
        widgets = {"event_on": DATE, "refunded_on": DATE}

    def clean_event_on(self):
        return _bounded_date(self.cleaned_data["event_on"])

    def clean_refunded_on(self):
        return _bounded_date(self.cleaned_data["refunded_on"])

    def run(self, data):
        if data["kind"] == RefundKind.PREPAID_REMAINDER:
            pre = data.get("prepayment")
            if pre is None:
                raise forms.ValidationError({"prepayment": "请选择要退还的预缴。"})
            if pre.person_id != data["person"].pk or pre.jurisdiction_id != data["jurisdiction"].pk:
                raise forms.ValidationError({"prepayment": "所选预缴不是该人员在本统筹区的预缴。"})
            return prepayment.prepayment_refund(
                prepayment=pre,
                ground=data["ground"],
                event_on=data["event_on"],
                refunded_on=data["refunded_on"],
                user=self.user,
            )
        return prepayment.benefit_period_refund(
            person=data["person"],
            jurisdiction=data["jurisdiction"],
            ground=data["ground"],
            event_on=data["event_on"],
            refunded_on=data["refunded_on"],
            user=self.user,
        )


@admin.register(ContributionRefund)
class ContributionRefundAdmin(_PersonAdmin):
    """退费: 预缴费用退还当年剩余月份 (hunan 第十三条), 进入待遇享受期前退费 (ziyang 第九条(三))."""

    form = RefundForm
    raw_id_fields = ("prepayment",)
    list_display = ("person", "jurisdiction", "kind", "ground", "event_on", "months", "amount", "refunded_on")
    list_filter = ("jurisdiction", "kind")
    ordering = ("-refunded_on", "-id")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("person", "jurisdiction", "kind", "prepayment", "ground", "event_on", "refunded_on")
        return ("notice", "person", "jurisdiction", "kind", "prepayment", "entry", "created_by", "created_at")

    @admin.display(description="退费通知")
    def notice(self, obj):
        return _notice(
            obj,
            [
                ("退费类型", obj.get_kind_display()),
                ("退费情形", REFUND_GROUNDS.get(obj.ground, obj.ground)),
                ("事由发生日期", obj.event_on),
                ("退费月数", obj.months),
                ("退费金额", obj.amount),
                ("退费日期", obj.refunded_on),
                ("条款出处", obj.citation),
            ],
        )
