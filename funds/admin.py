"""Screens of the ledger: accounts with their statement, entries (read-only, reversible), fund health.

The ledger is append-only: no add, change or delete anywhere here. A mistake is
corrected with the "冲销" action, which posts a reversing entry through
:func:`funds.posting.entry_reverse`. Views are thin; reads go through
:mod:`funds.selectors` and :mod:`funds.health`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from enrollment.access import require
from enrollment.admin_mixins import BigListMixin, BureauAdmin, PersonSearchMixin
from enrollment.identifiers import mask_id_number
from policy.labels import value_words
from policy.models import Jurisdiction
from policy.resolver import Policy, PolicyError

from . import death, health, posting, selectors
from .models import (
    BANK_KINDS,
    SCHEME_ACCOUNTS,
    AccountKind,
    CreditSuspension,
    FundAccount,
    JournalEntry,
    Posting,
    Reconciliation,
    ShortfallSettlement,
)
from .reconcile import reconcile


class ReadOnlyAdmin(BigListMixin, BureauAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FundAccount)
class FundAccountAdmin(PersonSearchMixin, ReadOnlyAdmin):
    """账户 with balance; a personal account's page is its statement (明细账)."""

    list_display = ("title_display", "kind", "jurisdiction", "holder", "balance_display", "opened_on")
    list_filter = ("kind", "jurisdiction")
    search_fields = ("=code", "=person__id_number")
    search_exact = ("code",)  # each way by its index (PersonSearchMixin), never an OR through the join
    search_help_text = "人员编号、18位身份证号、姓名开头或账户代码"
    list_select_related = ("jurisdiction", "person", "balance")
    ordering = ("-id",)
    list_per_page = 50
    change_form_template = "admin/funds/fundaccount/statement.html"
    actions = ["settle_accounts"]

    def has_settle_permission(self, request) -> bool:
        """Settling an account posts an entry: the model's add permission on entries (经办人员, 经办管理员)."""
        return request.user.has_perm("funds.add_journalentry")

    @admin.action(description="个人账户结清（死亡继承、无继承人并入统筹、关系转出）", permissions=["settle"])
    def settle_accounts(self, request, queryset):
        form = SettleForm(request.POST if "apply" in request.POST else None)
        accounts = queryset.filter(kind=AccountKind.PERSONAL).select_related("jurisdiction", "person")
        if "apply" in request.POST and form.is_valid():
            data, done = form.cleaned_data, 0
            for account in accounts:
                try:
                    if data["event"] in ("death_heirs", "death_no_heirs"):
                        entry = death.post_death(
                            person=account.person_id,
                            jurisdiction=account.jurisdiction,
                            on=data["on"],
                            heirs=data["event"] == "death_heirs",
                            user=request.user,
                        )
                    else:
                        entry = posting.post_transfer_out(
                            person=account.person_id,
                            jurisdiction=account.jurisdiction,
                            on=data["on"],
                            destination=data["destination"],
                            mode=data["mode"],
                            region=data["region"],
                            user=request.user,
                        )
                    done += entry is not None
                except (posting.LedgerError, PolicyError, ValidationError) as exc:
                    self.message_user(request, f"{account.code}：{exc}", messages.ERROR)
            self.message_user(request, f"已记账 {done} 笔（余额为零或按规定不划转的账户不记账）。", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/funds/settle.html",
            {
                **self.admin_site.each_context(request),
                "title": "个人账户结清",
                "opts": self.model._meta,
                "accounts": accounts,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def get_urls(self):
        return [
            path("health/", self.admin_site.admin_view(self.health_view), name="funds_health"),
            path("reconcile/", self.admin_site.admin_view(self.reconcile_view), name="funds_reconcile"),
            *super().get_urls(),
        ]

    def get_search_results(self, request, queryset, search_term):
        """Exact 账户编码 or 身份证号; a bare number is also a person's id (the person page links here so)."""
        term = search_term.strip()
        if term.isdigit() and len(term) < 18:
            return queryset.filter(Q(code=term) | Q(person_id=int(term))), False
        return super().get_search_results(request, queryset, search_term)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        """From a person's page (``?q=<person id>``): straight to the statement when they hold one account."""
        term = request.GET.get("q", "").strip()
        if term.isdigit() and len(term) < 18 and set(request.GET) == {"q"}:
            ids = list(
                FundAccount.objects.filter(person_id=int(term), kind=AccountKind.PERSONAL).values_list("pk", flat=True)[
                    :2
                ]
            )
            if len(ids) == 1:
                return HttpResponseRedirect(reverse("admin:funds_fundaccount_change", args=[ids[0]]))
        return super().changelist_view(request, extra_context)

    @admin.display(description="账户", ordering="code")
    def title_display(self, obj: FundAccount) -> str:
        """The account in words, its code as small print (the code is what the bank files carry)."""
        return format_html('{}<br><small class="quiet">{}</small>', obj.title, obj.code)

    @admin.display(description="参保人员")
    def holder(self, obj: FundAccount) -> str:
        if obj.person_id is None:
            return "—"
        return f"{obj.person.name}（{mask_id_number(obj.person.id_number)}）"

    @admin.display(description="余额")
    def balance_display(self, obj: FundAccount) -> str:
        raw = getattr(getattr(obj, "balance", None), "balance", None)
        return "—" if raw is None else f"{raw * obj.side:,.2f}"

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        account = self.get_object(request, unquote(object_id))
        if account is None:
            raise Http404
        if not self.has_view_permission(request, account):
            raise PermissionDenied
        try:
            page = int(request.GET.get("page", 1))
        except ValueError:
            page = 1
        st = selectors.statement(account, page=page)
        context = {
            **self.admin_site.each_context(request),
            "title": account.title,
            "opts": self.model._meta,
            "account": account,
            "statement": st,
            "can_reverse": request.user.has_perm("funds.add_journalentry"),
            "health_url": reverse("admin:funds_health")
            + f"?jurisdiction={account.jurisdiction.code}&account={account.pk}",
        }
        return TemplateResponse(request, self.change_form_template, context)

    # --- fund health -------------------------------------------------------------------

    def health_view(self, request: HttpRequest):
        """基金运行分析: a fund's monthly series, levels and chart; risk reserve and gap-sharing calculators."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            return self._post_reserve(request)
        code = request.GET.get("jurisdiction") or (
            Jurisdiction.objects.order_by("code").values_list("code", flat=True).first()
        )
        jur = get_object_or_404(Jurisdiction, code=code)
        on = _date_param(request.GET.get("on")) or timezone.localdate()
        fund_accounts = list(
            FundAccount.objects.filter(jurisdiction=jur, person__isnull=True).exclude(kind__in=sorted(BANK_KINDS))
        )
        account = None
        if request.GET.get("account"):
            account = next((a for a in fund_accounts if str(a.pk) == request.GET["account"]), None)
        # ?insutype=390: the resident pooled fund (its own books, xianning 办法 四(三)); default the employee one
        pooled_kind = SCHEME_ACCOUNTS.get(request.GET.get("insutype", "310"), SCHEME_ACCOUNTS["310"])[0]
        account = account or next((a for a in fund_accounts if a.kind == pooled_kind), None)
        data = health.fund_health(account, on=on) if account else {"series": [], "thresholds": None}
        series = data["series"]
        policy = Policy(jur.code, on)
        context = {
            **self.admin_site.each_context(request),
            "title": f"基金运行分析 — {jur.name}",
            "opts": self.model._meta,
            "jurisdictions": Jurisdiction.objects.order_by("code"),
            "jurisdiction": jur,
            "on": on,
            "fund_accounts": fund_accounts,
            "account": account,
            "series": series,
            "rows": [
                {
                    "m": m,
                    "labels": [health.LEVEL_LABELS[x] for x in m.levels],
                    **{k: f"{getattr(m, k):,.2f}" for k in ("income", "spending", "other", "balance")},
                }
                for m in reversed(series)
            ],
            "thresholds": data.get("thresholds"),
            "standby_fund": data.get("standby_fund"),
            "standby_cite": data.get("standby_cite"),
            "chart": _chart(series, data.get("thresholds")),
            "reserve": _calc(request, policy, "reserve"),
            "waterfall": _calc(request, policy, "waterfall"),
            "reserve_rule": _cites(policy, ("funds.risk_reserve_pct", "funds.risk_reserve_base")),
            "waterfall_rule": _cites(
                policy,
                (
                    "funds.deficit_local_fault_bearer",
                    "funds.deficit_sources",
                    "funds.reserve_support_multiple",
                    "funds.deficit_shares_plan_met",
                    "funds.deficit_shares_plan_missed",
                ),
            ),
        }
        return TemplateResponse(request, "admin/funds/health.html", context)

    def _post_reserve(self, request: HttpRequest):
        """提取风险储备金并记账: the year's extraction from the pool to the reserve (one entry per year)."""
        if not request.user.has_perm("funds.add_journalentry"):
            raise PermissionDenied
        code = request.POST.get("jurisdiction", "")
        back = reverse("admin:funds_health") + f"?jurisdiction={code}"
        try:
            on = date.fromisoformat(request.POST.get("on", ""))
            amount = _decimal(request.POST.get("amount"))
            if not amount or amount <= 0:
                raise ValidationError("提取额须大于零。")
            entry = posting.post_reserve_extraction(
                jurisdiction=code, year=on.year, amount=amount, on=on, user=request.user
            )
            self.message_user(request, f"已记账：{entry.business_key} {amount}", messages.SUCCESS)
        except (ValueError, ValidationError, posting.LedgerError, Jurisdiction.DoesNotExist) as exc:
            self.message_user(request, f"未记账：{exc}", messages.ERROR)
        return HttpResponseRedirect(back)

    def reconcile_view(self, request: HttpRequest):
        """Run the reconciliation now (POST) and show the latest results."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            # Running the reconciliation writes a record: the add permission (审计人员 only reads results).
            require(request, "funds.add_reconciliation")
            result = reconcile()
            level = messages.SUCCESS if result.ok else messages.ERROR
            self.message_user(
                request, f"对账完成：{'全部平衡' if result.ok else '发现不平衡项'}（{result.seconds:.1f} 秒）", level
            )
            return HttpResponseRedirect(reverse("admin:funds_reconcile"))
        context = {
            **self.admin_site.each_context(request),
            "title": "对账",
            "opts": self.model._meta,
            "runs": Reconciliation.objects.all()[:20],
        }
        return TemplateResponse(request, "admin/funds/reconcile.html", context)


def _date_param(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


#: The codes inside fund policy values, in words (funds.deficit_sources, funds.deficit_shares_*, …).
VALUE_NAMES = {
    "area_balance": "本级累计结余",
    "county_prepooling_balance": "县统筹前历年累计结余",
    "city_pooled_balance": "市级统筹累计结余",
    "risk_reserve": "风险储备金",
    "risk_reserve_support": "市级风险储备金调剂",
    "city": "市级",
    "county": "县（市、区）",
    "finance": "财政",
    "county_government": "县级政府",
    "pool_income_previous_year": "上年统筹基金收入总额",
    "budget_income_current_year": "当年基金预算收入",
}


def _cites(policy: Policy, keys) -> list[tuple[str, str, str]]:
    return [(k, value_words(policy.value(k), VALUE_NAMES), policy.citation(k)) for k in keys if policy.has(k)]


def _decimal(value: str | None) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise ValidationError(f"不是数字：{value}") from None


def _calc(request: HttpRequest, policy: Policy, which: str) -> dict:
    """Run a calculator when its form was submitted (GET parameters prefixed ``r_`` / ``w_``)."""
    prefix = "r_" if which == "reserve" else "w_"
    params = {k[len(prefix) :]: v for k, v in request.GET.items() if k.startswith(prefix)}
    if not params:
        return {"params": {}}
    try:
        if which == "reserve":
            extraction = health.risk_reserve_extraction(
                policy,
                budget_income=_decimal(params.get("budget_income")),
                last_year_pool_income=_decimal(params.get("last_year_pool_income")),
            )
            result = {"extraction": extraction, "extraction_display": f"{extraction:,.2f}"}
        else:
            figures = {
                k: _decimal(params.get(k)) or Decimal(0)
                for k in (
                    "gap",
                    "local_fault_gap",
                    "county_prepooling_balance",
                    "city_pooled_balance",
                    "area_balance",
                    "risk_reserve_balance",
                    "reserve_drawn_this_year",
                )
            }
            out = health.deficit_waterfall(policy, plan_met=params.get("plan_met") == "1", **figures)
            result = {health.WATERFALL_LABELS.get(k, k): f"{v:,.2f}" for k, v in out.items() if v}
        return {"params": params, "result": result}
    except (PolicyError, ValidationError, ValueError) as exc:
        return {"params": params, "error": str(exc)}


def _chart(series, thresholds=None, width: int = 760, height: int = 220) -> dict | None:
    """An inline SVG of the closing balances (no external library: the network is closed).

    Where the seed gives a target in months of average spending (hunan 第六十五条, sanmenxia
    第四十九条: 6–9 months), the band those months represent each month is shaded behind the
    line, and the lower alarm level (under 3 months: 结余不足 / report to the city government)
    is drawn as a dashed line, so a month outside the target shows at a glance.
    """
    if len(series) < 1:
        return None
    values = [float(m.balance) for m in series]
    window = getattr(thresholds, "window", None)
    averages: list[float | None] = []
    if window:
        for i in range(len(series)):
            recent = [float(m.spending) for m in series[max(0, i - window + 1) : i + 1]]
            avg = sum(recent) / len(recent) if recent else 0.0
            averages.append(avg if avg > 0 else None)
    t_min = getattr(thresholds, "target_min", None)
    t_max = getattr(thresholds, "target_max", None)
    alarm = getattr(thresholds, "insufficient", None)
    extra = [float(t_max) * a for a in averages if a is not None and t_max is not None]
    lo, hi = min(0.0, *values), max(0.0, *values, *extra)
    span = (hi - lo) or 1.0
    pad = 30
    step = (width - 2 * pad) / max(1, len(values) - 1)

    def x(i: int) -> float:
        return round(pad + i * step, 1)

    def y(v: float) -> float:
        return round(height - pad - (v - lo) / span * (height - 2 * pad), 1)

    points = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values))
    band = alarm_line = ""
    known = [(i, a) for i, a in enumerate(averages) if a is not None]
    if known and t_min is not None and t_max is not None:
        upper = [f"{x(i)},{y(float(t_max) * a)}" for i, a in known]
        lower = [f"{x(i)},{y(float(t_min) * a)}" for i, a in reversed(known)]
        band = " ".join(upper + lower)
    if known and alarm is not None:
        alarm_line = " ".join(f"{x(i)},{y(float(alarm) * a)}" for i, a in known)
    ticks = [
        {"x": x(i), "label": f"{m.month:%Y-%m}"}
        for i, m in enumerate(series)
        if len(series) <= 12 or i % max(1, len(series) // 12) == 0
    ]
    return {
        "width": width,
        "height": height,
        "points": points,
        "band": band,
        "band_label": f"控制目标 {t_min}–{t_max} 个月" if band else "",
        "alarm": alarm_line,
        "alarm_label": f"{alarm} 个月" if alarm_line else "",
        "zero_y": y(0.0),
        "top": f"{hi:,.0f}",
        "bottom": f"{lo:,.0f}",
        "ticks": ticks,
        "pad": pad,
    }


class SettleForm(forms.Form):
    event = forms.ChoiceField(
        label="事项",
        choices=[
            ("death_heirs", "死亡：余额一次性支付法定继承人或指定受益人"),
            ("death_no_heirs", "死亡：无继承人，余额并入统筹基金"),
            ("transfer", "医保关系转出"),
        ],
    )
    on = forms.DateField(label="生效日期", widget=forms.DateInput(attrs={"type": "date"}))
    destination = forms.ChoiceField(
        label="转往", choices=[("out_of_province", "省外"), ("in_province", "省内其他统筹区")], required=False
    )
    mode = forms.ChoiceField(
        label="转出方式", choices=[("transfer", "随关系划转"), ("pay_holder", "一次性支付本人")], required=False
    )
    region = forms.CharField(label="转入地", max_length=100, required=False)


class PostingInline(admin.TabularInline):
    model = Posting
    extra = 0
    can_delete = False
    fields = ("account", "amount", "effective_on", "kind")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReverseForm(forms.Form):
    reason = forms.CharField(label="冲销原因", max_length=200)
    on = forms.DateField(label="冲销生效日期", widget=forms.DateInput(attrs={"type": "date"}))


@admin.register(JournalEntry)
class JournalEntryAdmin(PersonSearchMixin, ReadOnlyAdmin):
    """记账凭证: read-only; "冲销" posts the reversing entry."""

    list_display = ("entry_display", "kind", "jurisdiction", "effective_on", "recorded_at", "reversal_of")
    list_filter = ("kind", "jurisdiction")
    search_fields = ("=business_key", "=person__id_number")
    search_exact = ("business_key",)  # each way by its index (PersonSearchMixin), never an OR through the join
    search_help_text = "人员编号、18位身份证号、姓名开头或凭证业务键"
    date_hierarchy = None
    list_select_related = ("jurisdiction",)
    inlines = [PostingInline]
    raw_id_fields = ("reverses", "run", "created_by")
    autocomplete_fields = ("person",)
    actions = ["reverse_entries"]

    @admin.display(description="凭证", ordering="business_key")
    def entry_display(self, obj: JournalEntry) -> str:
        """The entry in words (its 摘要, else its kind); the business key (凭证号) as small print."""
        words = obj.memo or obj.get_kind_display()
        return format_html('{}<br><small class="quiet">{}</small>', words, obj.business_key)

    @admin.display(description="冲销的凭证")
    def reversal_of(self, obj: JournalEntry) -> str:
        return obj.reverses.business_key if obj.reverses_id else ""

    def has_reverse_permission(self, request) -> bool:
        """Reversing posts a new entry: it needs the model's add permission (经办人员, 经办管理员)."""
        return request.user.has_perm("funds.add_journalentry")

    @admin.action(description="冲销所选凭证", permissions=["reverse"])
    def reverse_entries(self, request, queryset):
        form = ReverseForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done = 0
            for entry in queryset:
                try:
                    posting.entry_reverse(
                        entry, reason=form.cleaned_data["reason"], on=form.cleaned_data["on"], user=request.user
                    )
                    done += 1
                except (posting.LedgerError, ValidationError) as exc:
                    self.message_user(request, f"{entry.business_key}：{exc}", messages.ERROR)
            if done:
                self.message_user(request, f"已冲销 {done} 张凭证。", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/funds/reverse.html",
            {
                **self.admin_site.each_context(request),
                "title": "冲销凭证",
                "opts": self.model._meta,
                "entries": queryset,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


class SuspensionForm(forms.ModelForm):
    class Meta:
        model = CreditSuspension
        fields = ("employer", "start", "note")


@admin.register(CreditSuspension)
class CreditSuspensionAdmin(BureauAdmin):
    """暂停个人账户划入 (sanmenxia 第十九条): opened by staff, released when the arrears are paid."""

    form = SuspensionForm
    list_display = ("employer", "start", "end", "citation")
    autocomplete_fields = ("employer",)
    actions = ["release"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj_new = posting.suspension_open(employer=obj.employer, start=obj.start, note=obj.note, user=request.user)
        obj.pk = obj_new.pk

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class Checked(form):
            def clean(inner):
                data = super().clean()
                employer, start = data.get("employer"), data.get("start")
                if employer and start:
                    policy = Policy(employer.jurisdiction.code, start)
                    if not policy.value("funds.arrears_suspend_credits", default=None):
                        raise ValidationError("该统筹区政策没有“欠费暂停个人账户划入”的规定。")
                return data

        return Checked

    def has_release_permission(self, request) -> bool:
        """Releasing posts ledger entries: the add permission on entries (经办人员, 经办管理员)."""
        return request.user.has_perm("funds.add_journalentry")

    @admin.action(description="补足欠费：恢复划入并转入个人账户（今日）", permissions=["release"])
    def release(self, request, queryset):
        total = 0
        for s in queryset:
            total += posting.suspension_release(s, on=timezone.localdate(), user=request.user)
        self.message_user(request, f"已恢复，{total} 个账户的挂账转入个人账户。", messages.SUCCESS)


@admin.register(ShortfallSettlement)
class ShortfallSettlementAdmin(BureauAdmin):
    """个人账户缴费差额补足 (sanmenxia 第十七条): entered once by staff; a correction is a new record after review."""

    list_display = ("person", "jurisdiction", "paid_on", "source", "recorded_at", "recorded_by")
    list_select_related = ("person", "jurisdiction", "recorded_by")
    list_filter = ("jurisdiction", "source")
    autocomplete_fields = ("person",)
    fields = ("person", "jurisdiction", "paid_on", "source", "clearance_case_id", "note")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyAdmin):
    list_display = ("ran_at", "ok", "checks", "seconds")
    readonly_fields = ("ran_at", "ok", "checks", "breaks_display", "seconds")
    fields = readonly_fields

    @admin.display(description="不平衡项")
    def breaks_display(self, obj: Reconciliation):
        if not obj.breaks:
            return "无"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{}: {} 凭证 {}</li>", ((b["check"], b["detail"], b.get("entries")) for b in obj.breaks)
            ),
        )


# 家庭共济绑定, 个人账户支付, 余额支付本人; 预缴、退费 (hunan 第十三条、第五十四条, ziyang 第九条(三));
# 城乡居民医保基金收入登记
from . import account_use_admin, prepayment_admin, resident_admin  # noqa: E402, F401
