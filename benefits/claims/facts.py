"""The facts one claim is decided on (审核结算所依据的事实): the person, their cover, the claim itself.

Built by the claim services and the settlement-file import from the registers; read by
:func:`benefits.claims.adjudication.decide` and the benefit families' steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from benefits.calculations._common import ZERO
from benefits.institutions.audit import AuditFacts
from benefits.institutions.rules import InstitutionOnDate

from .items import ItemFacts

if TYPE_CHECKING:
    from benefits.registers.calculations.rules import RegisterFacts


@dataclass(frozen=True)
class PersonFacts:
    """What the claim needs to know about the person on the first day of care."""

    person_id: int
    birth_date: date
    sex: str  # female | male
    category: str  # employee | flexible | unemployed | retiree
    scheme: str  # combined | pool_only
    employer_kind: str  # enterprise | fiscal_institution | difficult_enterprise
    insutype: str = "310"  # 险种 of the span in force: 310 职工 | 390 城乡居民 (the family of benefits)

    @property
    def person_type(self) -> str:
        return "retired" if self.category == "retiree" else "in_service"

    def age_on(self, day: date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


@dataclass(frozen=True)
class Coverage:
    """Was the person covered on the claim's dates (and why not)?"""

    ok: bool
    reason: str
    citation: str = ""
    # previous_scheme: 原档次待遇 (ziyang 第十四条) — covered, settled at the previous scheme's values
    benefit_level: str = ""
    status: str = ""  # the timeline's status on the first day not covered (waiting, suspended, none)


@dataclass(frozen=True)
class ClaimFacts:
    """A claim as entered (Claim row or file row), typed."""

    jurisdiction: str
    med_type: str
    start: date
    end: date
    hospital_level: str
    medfee_sumamt: Decimal
    inscp_scp_amt: Decimal
    fulamt_ownpay: Decimal = ZERO
    preselfpay: Decimal = ZERO
    tcm: bool = False
    location: str = "local"
    first_year_amount: Decimal | None = None
    special_kind: str = "chronic"
    disease_classes: tuple[int, ...] = ()
    major_disease_tier: str = ""
    major_disease_setting: str = ""
    poverty: bool = False
    supplementary_insured: bool = False
    supplementary_renewed_on: date | None = None
    maternity_event: str = ""
    babies: int = 1
    continuous_months: int | None = None
    policy_extra_days: int = 0
    pregnancy_months: int | None = None
    maternity_setting: str = ""
    spouse_insured: bool = False
    rare_complication: bool = False
    employer_average_monthly_wage: Decimal | None = None
    acct_pay_requested: Decimal = ZERO
    transfer: bool = False
    transfer_deductible: Decimal = ZERO  # deductible borne earlier in the same continuous stay
    transfer_level: str = ""
    items: tuple[ItemFacts, ...] = ()
    # Facts the rules take as entered (models.RULE_FACT_FIELDS); "" / None: not given.
    continued_stay: str = ""  # transfer_upward | transfer_downward | cross_year (with transfer_from)
    honoured_group: bool = False  # langfang 第七十九条
    out_of_province: bool = False  # sanmenxia 第十三条(一)
    aids: bool = False  # ziyang 第十八条(一)5
    non_designated: bool = False  # hunan 第四十条
    emergency_rescue: bool = False
    external_service: str = ""  # langfang 第四十七条(一)2 外检外购
    external_service_filed: bool = True
    high_value_drug: str = ""  # ziyang 第二十条(二)
    excluded_cause: str = ""  # hunan 第三十五条, ziyang 第十二条(三)
    third_party_unpaid: bool = False
    origin_level: str = ""  # xianning 细则 第十八条, 第十九条
    arrears_months: int = 0
    arrears_made_up: bool = False
    separated_on: date | None = None
    maternity_insured_months: int | None = None
    new_employer: bool = False
    claim_one_off_grant: bool = False  # sanmenxia 第二十三条
    maternity_excluded_item: str = ""
    policy_compliant: bool = True  # births and surgery outside family-planning policy are not paid
    free_service: bool = False  # ziyang 第二十五条
    appraised_amount: Decimal | None = None  # ziyang 第二十五条 技术鉴定组核定
    disabled_soldier_grade: int | None = None  # langfang 第八十条
    # Care outside a stay counted as inpatient (inpatient.counted_as_inpatient; langfang 第四十七条(一)1/3,
    # xianning 细则 第二十三条, ziyang 第十八条(三)) and the facts its table's conditions read.
    counted_as_inpatient: str = ""
    dates_continuous: bool = True  # 院前急诊: dates continuous with the admission
    died_in_rescue: bool = False  # 院前急诊: died in the ambulance or the emergency rescue
    days_before_admission: int | None = None  # 院前检查: days between the test and the admission
    same_hospital: bool = True  # 院前急诊 / 院前检查: at the hospital of the stay
    observation_days: int | None = None  # 急诊留观: days under observation
    submitted_on: date | None = None  # 手工报销 申请受理日期 (deadline check)
    manual: bool = False  # 手工报销 (not a hospital's settlement file)
    # The person's filings and certifications (benefits.registers); None: facts stated directly (scenario files).
    registers: RegisterFacts | None = None
    # 两定机构 (benefits.claims.registers): the register read on the service date; level, TCM, tier and
    # location above come from it when the claim names an institution. None: facts as entered.
    institution: InstitutionOnDate | None = None
    tier: str = ""  # 医疗机构级别 county | city | provincial (sanmenxia 第五十三条); "" not known
    audit: AuditFacts | None = None  # 住院审核规则 (benefits.institutions.audit)

    @property
    def years(self) -> list[int]:
        return sorted({self.start.year, self.end.year})
