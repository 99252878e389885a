"""机构结算接口 (issue #16 item 3): hospitals and pharmacies submit settlements in the national platform's field
names and get the adjudicated breakdown (2303) back in the same names; 冲正 by the reversal endpoint. Writes go
through :mod:`benefits.claims.submissions` (idempotent by 机构 + ``setl_id``).

Who: a 机构接口账号 (a login bound to one 定点医药机构, :class:`benefits.institutions.models.InstitutionUser`) sees
and writes only its own institution's settlements; bureau staff read all of them (``claims.view_claim``), and a
case worker may submit or reverse for a named institution (``claims.add_claim`` / ``claims.change_claim``).
Employer users and anyone else are refused."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from apiaudit.api import AuditedWritesMixin, CheckedLookupMixin
from apiaudit.filters import BoundedFilterSet
from benefits.institutions.models import Institution, institution_of
from enrollment.access import can_see_pii, employer_id_of
from enrollment.bounds import MAX_AMOUNT
from enrollment.identifiers import mask_id_number

from .models import ApiSettlement, MedType
from .submissions import EXTRA_COLUMNS, SettlementConflict, settlement_reverse, settlement_submit

_AMOUNT = {"max_digits": 14, "decimal_places": 2}
#: The 2303 output fields, in the national platform's names and order.
OUT_AMOUNTS = (
    "act_pay_dedc",
    "hifp_pay",
    "pool_prop_selfpay",
    "hifmi_pay",
    "hifob_pay",
    "acct_pay",
    "psn_cash_pay",
    "fund_pay_sumamt",
    "oth_pay",
    "maternity_allowance",
    "one_off_grant",
)


class SettlementInSerializer(serializers.Serializer):
    """一笔结算（国家医保信息平台字段名）."""

    fixmedins_code = serializers.CharField(
        max_length=20, required=False, help_text="定点医药机构编码（机构账号可省略：本机构；须与令牌所属机构一致）"
    )
    setl_id = serializers.RegexField(r"^[0-9A-Za-z_-]{1,30}$", max_length=30, help_text="结算ID（机构内唯一）")
    mdtrt_id = serializers.RegexField(r"^[0-9A-Za-z_-]{1,30}$", max_length=30, help_text="就诊ID")
    psn_no = serializers.CharField(max_length=18, help_text="人员编号（本系统为公民身份号码）")
    med_type = serializers.ChoiceField(choices=MedType.choices, help_text="医疗类别")
    begndate = serializers.DateField(help_text="开始日期（入院/就诊）")
    enddate = serializers.DateField(required=False, allow_null=True, help_text="结束日期（出院；门诊可省略）")
    medfee_sumamt = serializers.DecimalField(
        **_AMOUNT, min_value=Decimal(0), max_value=MAX_AMOUNT, help_text="医疗费总额"
    )
    inscp_scp_amt = serializers.DecimalField(
        **_AMOUNT, min_value=Decimal(0), max_value=MAX_AMOUNT, help_text="符合政策范围金额"
    )
    fulamt_ownpay_amt = serializers.DecimalField(
        **_AMOUNT, min_value=Decimal(0), max_value=MAX_AMOUNT, required=False, help_text="全自费金额"
    )
    preselfpay_amt = serializers.DecimalField(
        **_AMOUNT, min_value=Decimal(0), max_value=MAX_AMOUNT, required=False, help_text="先行自付金额"
    )
    acct_pay_requested = serializers.DecimalField(
        **_AMOUNT, min_value=Decimal(0), max_value=MAX_AMOUNT, required=False, help_text="申请个人账户支付"
    )
    extra = serializers.DictField(
        child=serializers.CharField(max_length=64, allow_blank=True),
        required=False,
        help_text="规则所需的其他事实，用结算文件的列名（如 poverty、out_of_province、maternity_event）",
    )

    def validate_extra(self, value: dict) -> dict:
        unknown = sorted(set(value) - set(EXTRA_COLUMNS))
        if unknown:
            raise serializers.ValidationError(f"不认识的字段：{', '.join(unknown[:5])}")
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs.get("enddate") and attrs["enddate"] < attrs["begndate"]:
            raise serializers.ValidationError({"enddate": ["结束日期早于开始日期"]})
        return attrs


class ReverseInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="冲正原因")


class SettlementOutSerializer(serializers.ModelSerializer):
    """结算结果（2303）: the adjudicated breakdown in the national names, the claim's state and reason."""

    fixmedins_code = serializers.CharField(source="institution.fixmedins_code", read_only=True)
    psn_no = serializers.SerializerMethodField(help_text="人员编号（无身份信息权限的角色脱敏）")
    claim = serializers.IntegerField(source="claim_id", read_only=True)
    business_key = serializers.CharField(source="claim.business_key", read_only=True)
    med_type = serializers.CharField(source="claim.med_type", read_only=True)
    begndate = serializers.DateField(source="claim.start_date", read_only=True)
    enddate = serializers.DateField(source="claim.end_date", read_only=True, allow_null=True)
    medfee_sumamt = serializers.DecimalField(**_AMOUNT, source="claim.medfee_sumamt", read_only=True)
    inscp_scp_amt = serializers.DecimalField(**_AMOUNT, source="claim.inscp_scp_amt", read_only=True)
    fulamt_ownpay_amt = serializers.DecimalField(**_AMOUNT, source="claim.fulamt_ownpay", read_only=True)
    preselfpay_amt = serializers.DecimalField(**_AMOUNT, source="claim.preselfpay", read_only=True)
    setl_stas = serializers.CharField(source="claim.status", read_only=True, help_text="状态：adjudicated 已结算 …")
    setl_stas_name = serializers.CharField(source="claim.get_status_display", read_only=True)
    refusal_reason = serializers.CharField(source="claim.refusal_reason", read_only=True, help_text="不予支付原因")
    error = serializers.CharField(source="claim.error", read_only=True, help_text="无法结算的原因（缺少的参数等）")
    setl_time = serializers.DateTimeField(source="claim.adjudicated_at", read_only=True, allow_null=True)
    reversed_at = serializers.DateTimeField(source="claim.reversed_at", read_only=True, allow_null=True)

    class Meta:
        model = ApiSettlement
        fields = (
            "id", "setl_id", "mdtrt_id", "fixmedins_code", "psn_no", "claim", "business_key", "med_type",
            "begndate", "enddate", "medfee_sumamt", "inscp_scp_amt", "fulamt_ownpay_amt", "preselfpay_amt",
            *OUT_AMOUNTS, "setl_stas", "setl_stas_name", "refusal_reason", "error", "setl_time", "reversal_reason",
            "reversed_at", "submitted_at",
        )  # fmt: skip
        read_only_fields = fields

    def get_psn_no(self, obj: ApiSettlement) -> str:
        number = obj.claim.person.id_number
        request = self.context.get("request")
        user = getattr(request, "user", None)
        own = user is not None and institution_of(user) is not None  # the institution sent the number itself
        return number if own or can_see_pii(user) else mask_id_number(number)


for _name in OUT_AMOUNTS:
    SettlementOutSerializer._declared_fields[_name] = serializers.DecimalField(
        **_AMOUNT, source=f"claim.{_name}", read_only=True, allow_null=True
    )


class SettlementPermission(permissions.BasePermission):
    """机构接口账号: its own; bureau staff: view (GET), add (POST a settlement), change (冲正). Employers: never."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated) or employer_id_of(user):
            return False
        if institution_of(user) is not None:
            return True
        if request.method in permissions.SAFE_METHODS:
            needed = "view"
        else:
            needed = "change" if getattr(view, "action", None) == "reverse" else "add"
        return employer_id_of(user) is None and user.has_perm(f"claims.{needed}_claim")


class SettlementFilter(BoundedFilterSet):
    class Meta:
        model = ApiSettlement
        fields = ("setl_id", "mdtrt_id", "institution")


_EXAMPLE = {
    "setl_id": "S20261205000001",
    "mdtrt_id": "M20261201000001",
    "psn_no": "11010519491231002X",
    "med_type": "21",
    "begndate": "2026-12-01",
    "enddate": "2026-12-05",
    "medfee_sumamt": "8000.00",
    "inscp_scp_amt": "7000.00",
    "fulamt_ownpay_amt": "500.00",
    "preselfpay_amt": "500.00",
}
_WRITE_ERRORS = {
    400: OpenApiResponse(description="字段错误（国家平台字段名 → 说明）；未写入"),
    401: OpenApiResponse(description="未认证"),
    403: OpenApiResponse(description="无权提交，或不是本机构"),
    409: OpenApiResponse(description="同一结算ID已提交且报文不同，或状态不允许"),
    429: OpenApiResponse(description="请求过于频繁"),
}


@extend_schema_view(
    list=extend_schema(summary="机构结算记录列表（本机构）"),
    retrieve=extend_schema(summary="一笔机构结算（结算结果）"),
    create=extend_schema(
        summary="提交结算（国家平台字段名），返回审核结算结果",
        description="按 机构 + setl_id 幂等：新结算审核结算后返回 201；同一报文重试返回 200 与原结果；"
        "同一 setl_id 报文不同返回 409。结果中 setl_stas 为 adjudicated（已结算）、refused（不予支付，见 "
        "refusal_reason）、review（待复核）或 draft（待审核：error 写明缺少的政策参数）。",
        request=SettlementInSerializer,
        examples=[OpenApiExample("住院结算", value=_EXAMPLE, request_only=True)],
        responses={
            201: SettlementOutSerializer,
            200: OpenApiResponse(SettlementOutSerializer, description="重试：同一报文，返回原结果"),
            **_WRITE_ERRORS,
        },
    ),
)
class SettlementViewSet(CheckedLookupMixin, AuditedWritesMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = (SettlementPermission,)
    serializer_class = SettlementOutSerializer
    filterset_class = SettlementFilter

    def get_queryset(self):
        qs = ApiSettlement.objects.select_related("institution", "claim", "claim__person").order_by("-id")
        own = institution_of(self.request.user)
        if own is not None:
            return qs.filter(institution=own)
        if employer_id_of(self.request.user) is None:
            return qs
        return qs.none()

    def get_serializer_class(self):
        if self.action == "create":
            return SettlementInSerializer
        if self.action == "reverse":
            return ReverseInSerializer
        return SettlementOutSerializer

    def _answer(self, record: ApiSettlement, code: int) -> Response:
        record = (
            self.get_queryset().model.objects.select_related("institution", "claim", "claim__person").get(pk=record.pk)
        )
        return Response(SettlementOutSerializer(record, context={"request": self.request}).data, status=code)

    def create(self, request, *args, **kwargs):
        incoming = SettlementInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        body = dict(incoming.validated_data)
        institution = _institution_for(request.user, body.pop("fixmedins_code", None))
        try:
            record, created = settlement_submit(
                institution=institution, body=body, today=timezone.localdate(), user=request.user
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        except SettlementConflict as exc:
            return Response({"setl_id": [str(exc)]}, status=status.HTTP_409_CONFLICT)
        return self._answer(record, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="冲正（撤销结算，冲销记账凭证与累计额）",
        description="已结算或已支付的结算冲正，一个事务内冲销记账凭证并扣回年度累计；同一原因重试返回 200；"
        "已以其他原因冲正、或状态不允许（待审核、不予支付）返回 409。",
        request=ReverseInSerializer,
        responses={
            200: SettlementOutSerializer,
            400: OpenApiResponse(description="字段错误（reason）"),
            401: OpenApiResponse(description="未认证"),
            403: OpenApiResponse(description="无权冲正"),
            404: OpenApiResponse(description="不存在或不是本机构的结算"),
            409: OpenApiResponse(description="已以其他原因冲正，或状态不允许"),
            429: OpenApiResponse(description="请求过于频繁"),
        },
    )
    @action(detail=True, methods=["post"])
    def reverse(self, request, *args, **kwargs):
        record = self.get_object()
        incoming = ReverseInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            record, _ = settlement_reverse(
                record, reason=incoming.validated_data["reason"], on=timezone.localdate(), user=request.user
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        except SettlementConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return self._answer(record, status.HTTP_200_OK)


def _institution_for(user, code: str | None) -> Institution:
    """The institution a settlement is submitted for: a 机构接口账号's own (another code is a 403); staff name one."""
    own = institution_of(user)
    if own is not None:
        if code and code.strip().upper() != own.fixmedins_code.upper():
            raise PermissionDenied("机构接口账号只能提交本机构的结算。")
        return own
    if not code:
        raise serializers.ValidationError({"fixmedins_code": ["请填写定点医药机构编码。"]})
    found = Institution.objects.filter(fixmedins_code=code.strip()).select_related("jurisdiction").first()
    if found is None:
        raise serializers.ValidationError({"fixmedins_code": ["查无此定点医药机构编码（两定机构登记）。"]})
    return found
