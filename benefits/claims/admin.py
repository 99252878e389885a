"""Admin (Chinese): claim entry, 审核结算 with the 2303 breakdown and every step, 冲正, settlement files.

Thin: every write calls :mod:`benefits.claims.services` / :mod:`benefits.claims.tasks`.
Employer users have no claims permission (enrollment.roles) and, through
:class:`EmployerScopedAdmin` (``person_path``), would see nothing of other employers'
people anyway; 身份证号 is masked for users without the PII permission.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from enrollment.admin_mixins import BigListMixin, BureauAdmin, PersonSearchMixin

from .adjudication import OTH_PAY_PAYER
from .imports import check_upload
from .models import (
    ACCUMULATOR_AMOUNTS,
    ACCUMULATOR_COUNTS,
    EXTRA_RESULT_FIELDS,
    RESULT_FIELDS,
    BenefitAccumulator,
    Claim,
    ClaimItem,
    ClaimStatus,
    EmployerLiabilityBill,
    SettlementFile,
    SettlementFileStatus,
)
from .services import (
    ClaimError,
    claim_adjudicate,
    claim_business_key,
    claim_mark_paid,
    claim_reverse,
    claim_review_clear,
    claim_review_refuse,
)
from .tasks import settlement_file_process
from .upload import FileRejected, check_name_and_size

RESULT_LABELS = {f: Claim._meta.get_field(f).verbose_name for f in RESULT_FIELDS}
# 商业健康补充医疗保险: the result says who pays it (not a fund; adjudication module docstring, 第二十八条).
RESULT_LABELS["oth_pay"] = f"{RESULT_LABELS['oth_pay']}：{OTH_PAY_PAYER}"


def _extra_results(claim: Claim) -> list[tuple[str, str, object]]:
    """The rules' other outputs (基金先行支付, 生育待遇范围, 生育津贴支付对象, 本次住院累计起付标准), when set."""
    rows: list[tuple[str, str, object]] = []
    if claim.third_party_advance:
        rows.append((Claim._meta.get_field("third_party_advance").verbose_name, "third_party_advance", "是"))
    for name in ("benefit_scope", "allowance_payee"):
        if getattr(claim, name):
            rows.append((Claim._meta.get_field(name).verbose_name, name, getattr(claim, f"get_{name}_display")()))
    if claim.stay_deductible is not None and claim.transfer_from_id:
        rows.append((Claim._meta.get_field("stay_deductible").verbose_name, "stay_deductible", claim.stay_deductible))
    return rows


def _today() -> date:
    return timezone.localdate()


class ClaimItemInline(admin.TabularInline):
    model = ClaimItem
    extra = 0
    fields = ("kind", "name", "quantity", "unit_price", "price_limit", "bed_type")


class ClaimItemReadonlyInline(admin.TabularInline):
    """The lines of a settled claim, shown as entered (their split is in the steps, stage 费用明细)."""

    model = ClaimItem
    extra = 0
    max_num = 0
    can_delete = False
    fields = readonly_fields = ("kind", "name", "quantity", "unit_price", "price_limit", "bed_type")
    verbose_name_plural = "费用明细（已结算，只读）"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ClaimForm(forms.ModelForm):
    """The entry form; its fields come from ClaimAdmin.fieldsets."""

    def clean(self):
        data = super().clean()
        if data.get("person") and data.get("person").spans.filter(jurisdiction=data.get("jurisdiction")).count() == 0:
            self.add_error("jurisdiction", "该参保人员在此统筹区没有参保关系")
        if "hospital_level" in self.fields and not data.get("institution") and not data.get("hospital_level"):
            self.add_error("hospital_level", "未选择定点医药机构时须填写医疗机构等级")
        return data


class ReverseForm(forms.Form):
    reason = forms.CharField(label="冲正原因", widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Claim)
class ClaimAdmin(BigListMixin, PersonSearchMixin, BureauAdmin):
    person_path = "person"
    months_path = "start_date"  # an employer user: claims in the months the person worked there
    history_revert = False  # a settled claim is reversed (冲正), never reverted to an earlier version
    form = ClaimForm
    inlines = [ClaimItemInline]
    change_form_template = "admin/claims/claim/change_form.html"
    list_display = (
        "business_key",
        "person_name",
        "person_id_number",
        "jurisdiction",
        "med_type",
        "start_date",
        "end_date",
        "medfee_sumamt",
        "fund_pay_sumamt",
        "psn_cash_pay",
        "status",
    )
    search_fields = ("=person__id", "business_key", "person__name", "person__id_number")
    search_exact = ("business_key",)
    search_help_text = "人员编号、18位身份证号、姓名开头或业务流水号"
    list_defer = ("steps", "effects")  # decoding 100 rows' calculation steps cost ~50 ms a page (issue #13)
    raw_id_fields = ("transfer_from",)
    autocomplete_fields = ("person", "institution")  # 两定机构登记 (benefits.institutions.admin)
    list_select_related = ("person", "jurisdiction")
    # a date filter, not date_hierarchy: its year links need SELECT DISTINCT over every claim
    list_filter = ("status", "jurisdiction", "med_type", "source", ("start_date", admin.DateFieldListFilter))
    actions = ["action_adjudicate", "action_mark_paid", "action_review_clear", "action_review_refuse"]
    fieldsets = (
        (None, {"fields": ("business_key", "person", "jurisdiction", "med_type", "status")}),
        (
            "就医信息",
            {
                "fields": (
                    ("start_date", "end_date"),
                    "institution",
                    ("hospital_name", "hospital_level", "tcm"),
                    ("location", "out_of_province", "origin_level"),
                    ("transfer_from", "continued_stay"),
                    ("special_kind", "disease_classes", "poverty"),
                    ("supplementary_insured", "supplementary_renewed_on"),
                    ("major_disease_tier", "major_disease_setting"),
                )
            },
        ),
        (
            "费用",
            {
                "fields": (
                    ("medfee_sumamt", "fulamt_ownpay"),
                    ("preselfpay", "inscp_scp_amt"),
                    ("first_year_amount", "acct_pay_requested"),
                )
            },
        ),
        (
            "审核事项（经办人员确认）",
            {
                "fields": (
                    "submitted_on",
                    ("honoured_group", "disabled_soldier_grade", "aids"),
                    ("non_designated", "emergency_rescue"),
                    ("external_service", "external_service_filed", "high_value_drug"),
                    ("excluded_cause", "third_party_unpaid"),
                ),
            },
        ),
        (
            "住院审核（定点医疗机构管理）",
            {
                "classes": ("collapse",),
                "description": (
                    "核实参保身份、48小时内入院登记、外伤三个工作日内登记（廊坊第六十条）；病历无记录的费用（第六十二条）、"
                    "挂床住院（第六十三条）、出院带药超量（第六十四条）。留空的不作该项审核；违反规定的按政策不予支付"
                    "或转经办人员复核（状态“待复核”）。"
                ),
                "fields": (
                    ("identity_verified", "admission_registered_hours"),
                    ("injury", "injury_registered_on"),
                    ("costs_unrecorded", "bed_hanging"),
                    ("discharge_drug_days", "chronic_condition"),
                    ("review_note", "review_cleared_by"),
                ),
            },
        ),
        (
            "门急诊费用按住院结算",
            {
                "description": (
                    "院前急诊、院前检查、急诊留观、日间手术、急诊抢救死亡的门诊费用，按本统筹区规定纳入住院费用、"
                    "按住院待遇结算（廊坊第四十七条(一)1、3；咸宁细则第二十三条；资阳第十八条(三)）；"
                    "不符合条件的不予支付并说明原因。"
                ),
                "fields": (
                    "counted_as_inpatient",
                    ("dates_continuous", "died_in_rescue", "same_hospital"),
                    ("days_before_admission", "observation_days"),
                ),
            },
        ),
        (
            "生育",
            {
                "classes": ("collapse",),
                "fields": (
                    ("maternity_event", "babies", "continuous_months"),
                    ("policy_extra_days", "pregnancy_months", "maternity_setting"),
                    ("spouse_insured", "rare_complication", "employer_average_monthly_wage"),
                    ("arrears_months", "arrears_made_up", "new_employer"),
                    ("separated_on", "maternity_insured_months"),
                    ("claim_one_off_grant", "maternity_excluded_item"),
                    ("policy_compliant", "free_service", "appraised_amount"),
                ),
            },
        ),
        (
            "结算结果",
            {
                "fields": (
                    tuple(RESULT_FIELDS[:4]),
                    tuple(RESULT_FIELDS[4:8]),
                    tuple(RESULT_FIELDS[8:]),
                    tuple(EXTRA_RESULT_FIELDS),
                    "refusal_reason",
                    ("cost_payer", "employer_liability", "liable_employer"),
                    "error",
                )
            },
        ),
        (
            "记录",
            {
                "classes": ("collapse",),
                "fields": (
                    ("source", "settlement_file", "row_number"),
                    ("journal_entry", "reversal_entry"),
                    ("adjudicated_on", "adjudicated_by", "adjudicated_at"),
                    ("reversal_reason", "reversed_by", "reversed_at"),
                    ("created_by", "created_at"),
                ),
            },
        ),
    )
    readonly_fields = (
        "status",
        "review_note",
        "review_cleared_by",
        *RESULT_FIELDS,
        *EXTRA_RESULT_FIELDS,
        "refusal_reason",
        "cost_payer",
        "employer_liability",
        "liable_employer",
        "error",
        "source",
        "settlement_file",
        "row_number",
        "journal_entry",
        "reversal_entry",
        "adjudicated_on",
        "adjudicated_by",
        "adjudicated_at",
        "reversal_reason",
        "reversed_by",
        "reversed_at",
        "created_by",
        "created_at",
    )

    @admin.display(description="姓名", ordering="person__name")
    def person_name(self, obj) -> str:
        return obj.person.name

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != ClaimStatus.DRAFT:
            # A settled claim is never edited: it is reversed (冲正) and entered again.
            fields += [f.name for f in Claim._meta.concrete_fields if f.name not in fields and f.name != "id"]
        return fields

    def get_inline_instances(self, request, obj=None):
        if obj is not None and obj.status != ClaimStatus.DRAFT:
            return [ClaimItemReadonlyInline(self.model, self.admin_site)] if obj.items.exists() else []
        return super().get_inline_instances(request, obj)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("business_key", claim_business_key(_today()))
        return initial

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        # The model permission always (审计人员 never deletes); a settled claim is reversed, never deleted.
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.status == ClaimStatus.DRAFT)

    # --- 审核结算 / 冲正 ---------------------------------------------------------------------------

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "<int:pk>/adjudicate/",
                self.admin_site.admin_view(self.adjudicate_view),
                name="{}_{}_adjudicate".format(*info),
            ),
            path(
                "<int:pk>/reverse/", self.admin_site.admin_view(self.reverse_view), name="{}_{}_reverse".format(*info)
            ),
            *super().get_urls(),
        ]

    def _claim_or_403(self, request, pk: int) -> Claim:
        if not self.has_adjudicate_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def has_adjudicate_permission(self, request) -> bool:
        """审核结算, 冲正 and 确认支付 write the claim and the ledger: the claim change permission (经办人员)."""
        return request.user.has_perm("claims.change_claim")

    def adjudicate_view(self, request, pk: int):
        claim = self._claim_or_403(request, pk)
        if request.method == "POST":
            try:
                claim = claim_adjudicate(claim, as_of=_today(), user=request.user)
                if claim.status == ClaimStatus.REFUSED:
                    messages.warning(request, f"不予支付：{claim.refusal_reason}")
                elif claim.status == ClaimStatus.REVIEW:
                    messages.warning(request, f"转经办人员复核：{claim.refusal_reason}")
                else:
                    messages.success(request, f"审核结算完成：基金支付 {claim.fund_pay_sumamt} 元")
            except ClaimError as exc:
                messages.error(request, f"无法结算：{exc}")
        return redirect(reverse("admin:claims_claim_change", args=[pk]))

    def reverse_view(self, request, pk: int):
        claim = self._claim_or_403(request, pk)
        form = ReverseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                claim_reverse(claim, form.cleaned_data["reason"], on=_today(), user=request.user)
                messages.success(request, f"已冲正 {claim.business_key}：记账凭证已冲销，年度累计已冲回")
                return redirect(reverse("admin:claims_claim_change", args=[pk]))
            except ClaimError as exc:
                messages.error(request, str(exc))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "claim": claim,
            "form": form,
            "title": f"冲正 {claim.business_key}",
        }
        return TemplateResponse(request, "admin/claims/claim/reverse.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        claim = self.get_queryset(request).filter(pk=object_id).first()
        if claim is not None:
            extra_context["claim_result"] = [
                (RESULT_LABELS[f], f, getattr(claim, f)) for f in RESULT_FIELDS
            ] + _extra_results(claim)
            extra_context["claim_steps"] = claim.steps
            extra_context["claim_obj"] = claim
            extra_context["can_adjudicate"] = claim.status == ClaimStatus.DRAFT
            extra_context["can_reverse"] = claim.status in (ClaimStatus.ADJUDICATED, ClaimStatus.PAID)
            extra_context["claim_accumulators"] = _accumulator_rows(claim)
            if claim.status != ClaimStatus.DRAFT:  # settled claims are reversed, never edited: no save buttons
                extra_context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="审核结算所选申请", permissions=["adjudicate"])
    def action_adjudicate(self, request, queryset):
        done = failed = 0
        for claim in queryset.filter(status=ClaimStatus.DRAFT).order_by("person_id", "start_date", "id"):
            try:
                claim_adjudicate(claim, as_of=_today(), user=request.user)
                done += 1
            except ClaimError as exc:
                failed += 1
                messages.error(request, f"{claim.business_key}：{exc}")
        messages.info(request, f"已审核 {done} 笔，无法结算 {failed} 笔")

    @admin.action(description="复核通过并结算（待复核的申请）", permissions=["adjudicate"])
    def action_review_clear(self, request, queryset):
        self._review(request, queryset, claim_review_clear, "复核通过")

    @admin.action(description="复核不予支付（待复核的申请）", permissions=["adjudicate"])
    def action_review_refuse(self, request, queryset):
        self._review(request, queryset, claim_review_refuse, "复核不予支付")

    def _review(self, request, queryset, service, what: str) -> None:
        """住院审核 review queue (status 待复核): each claim through the service, the note naming the reviewer."""
        n = 0
        note = f"{what}（{request.user.get_username()}，{_today()}）"
        for claim in queryset.filter(status=ClaimStatus.REVIEW).order_by("person_id", "start_date", "id"):
            try:
                service(claim, note, as_of=_today(), user=request.user)
                n += 1
            except ClaimError as exc:
                messages.error(request, f"{claim.business_key}：{exc}")
        messages.info(request, f"{what} {n} 笔")

    @admin.action(description="确认已支付", permissions=["adjudicate"])
    def action_mark_paid(self, request, queryset):
        n = 0
        for claim in queryset.filter(status=ClaimStatus.ADJUDICATED):
            claim_mark_paid(claim, user=request.user)
            n += 1
        messages.info(request, f"{n} 笔已确认支付")


def _accumulator_rows(claim: Claim) -> list[dict]:
    """本年度累计 for the claim's person and years: each amount, and what this claim added (or took back)."""
    years = sorted({claim.start_date.year, claim.last_day.year})
    rows = []
    effects = claim.effects or {}
    for acc in BenefitAccumulator.objects.filter(
        person_id=claim.person_id, jurisdiction_id=claim.jurisdiction_id, year__in=years
    ).order_by("year"):
        mine = effects.get(str(acc.year), {})
        lines = [
            (BenefitAccumulator._meta.get_field(f).verbose_name, getattr(acc, f), mine.get(f))
            for f in (*ACCUMULATOR_AMOUNTS, *ACCUMULATOR_COUNTS)
            if getattr(acc, f) or mine.get(f)
        ]
        rows.append({"year": acc.year, "lines": lines, "reversed": claim.status == ClaimStatus.REVERSED})
    return rows


@admin.register(BenefitAccumulator)
class BenefitAccumulatorAdmin(BigListMixin, PersonSearchMixin, BureauAdmin):
    person_path = "person"
    list_display = (
        "person",
        "jurisdiction",
        "year",
        "inpatient_admissions",
        "inpatient_deductibles",
        "inpatient_pool_paid",
        "outpatient_pool_paid",
        "layer_paid",
        "claims_count",
    )
    list_filter = ("jurisdiction", "year")
    search_fields = ("person__name",)
    autocomplete_fields = ("person",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SettlementFileForm(forms.ModelForm):
    """The upload: every whole-file check runs here, before anything is stored (:func:`check_upload`)."""

    class Meta:
        model = SettlementFile
        fields = ("jurisdiction", "file", "as_of")
        help_texts = {
            "file": (
                "CSV（UTF-8）或 XLSX，首行为列名：每笔报销一行（business_key、id_number、med_type、start_date、"
                "hospital_level、medfee_sumamt、inscp_scp_amt …）；需要按明细计算先行自付、床位费标准时，"
                "在该行之后紧接费用明细行（同一 business_key，填 item_kind、item_name、quantity、unit_price、"
                "price_limit、bed_type），金额按明细计算。按住院结算的门急诊费用填 counted_as_inpatient"
                "（及 dates_continuous、died_in_rescue、days_before_admission、same_hospital、observation_days）。"
                "编码 UTF-8 或 GBK/GB18030；不接受 .xls（请另存为 .xlsx）。"
                "有任何错误时整份文件不读入，错误按行号和字段列出，改正后重新上传。"
            )
        }

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is None:
            return upload
        try:
            check_name_and_size(upload.name, upload.size)  # before the upload is read
            check_upload(upload.name, upload.read())
        except FileRejected as exc:
            raise forms.ValidationError(str(exc)) from None
        finally:
            upload.seek(0)
        return upload


@admin.register(SettlementFile)
class SettlementFileAdmin(BureauAdmin):
    form = SettlementFileForm
    list_display = ("__str__", "jurisdiction", "as_of", "status", "total_rows", "error_rows", "progress", "created_at")
    list_filter = ("status", "jurisdiction")
    readonly_fields = (
        "status",
        "original_name",
        "total_rows",
        "imported_rows",
        "error_rows",
        "errors_table",
        "run",
        "progress",
        "counts",
        "seconds",
        "uploaded_by",
        "created_at",
        "finished_at",
    )

    @admin.display(description="错误明细（行号 / 字段 / 说明）")
    def errors_table(self, obj) -> str:
        if not obj.errors:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            ((e.get("row") or "整个文件", e.get("field"), e.get("message")) for e in obj.errors),
        )
        more = f"（共 {obj.error_rows} 行，显示前 {len(obj.errors)} 行）" if obj.error_rows > len(obj.errors) else ""
        return format_html(
            "<table><thead><tr><th>行号</th><th>字段</th><th>说明</th></tr></thead><tbody>{}</tbody></table>{}",
            rows,
            more,
        )

    @admin.display(description="进度")
    def progress(self, obj) -> str:
        if obj.run_id is None:
            return "—"
        run = obj.run
        return format_html("{} / {} 块（{}）", run.chunks_done, run.chunk_count, run.get_status_display())

    def get_fields(self, request, obj=None):
        return ["jurisdiction", "file", "as_of"] if obj is None else list(self.readonly_fields)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):

        obj.uploaded_by = request.user
        obj.original_name = getattr(form.cleaned_data.get("file"), "name", "")
        super().save_model(request, obj, form, change)
        settlement_file_process.delay(file_id=obj.pk)
        obj.refresh_from_db()
        if obj.status == SettlementFileStatus.FAILED:  # read at once (no broker): say so now
            messages.error(request, f"文件未读入：{obj.error_rows} 处错误，未写入任何数据；错误明细见该文件页面")
        else:
            messages.info(request, "文件已上传，正在后台读入并审核结算；刷新本页查看进度")


@admin.register(EmployerLiabilityBill)
class EmployerLiabilityBillAdmin(BigListMixin, PersonSearchMixin, BureauAdmin):
    """单位承担医疗费用通知单 (hunan 第二十条, langfang 第二十三条): issued with the refused claim by the adjudication;
    case workers and auditors read them, an employer user its own; nobody edits them by hand."""

    employer_path = "employer_id"
    history_revert = False
    list_display = (
        "employer",
        "person",
        "claim",
        "amount",
        "person_share",
        "interruption_months",
        "citation",
        "issued_on",
        "status",
    )
    list_filter = ("jurisdiction", "status")
    search_fields = ("person__name",)
    list_select_related = ("employer", "person", "claim")
    readonly_fields = (
        "claim",
        "employer",
        "person",
        "jurisdiction",
        "amount",
        "person_share",
        "interruption_months",
        "reason",
        "citation",
        "issued_on",
        "status",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# 第三人责任先行支付 (hunan 第三十五条): its screens live with its models in benefits.claims.third_party.
from .third_party import admin as _third_party_admin  # noqa: E402, F401
