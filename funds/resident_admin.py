"""Screen of the resident fund's receipts (财政补助、利息): staff enter, the ledger posts; never edited or deleted.

The resident fund's books themselves are read on the accounts list (城乡居民医保统筹基金, 城乡居民医保财政专户) and
on the fund page (基金运行分析, ``?insutype=390``).
"""

from __future__ import annotations

from django.contrib import admin

from enrollment.admin_mixins import BigListMixin, BureauAdmin, SafeExportAdmin, ServiceRunForm, ServiceWrittenAdmin

from . import resident_fund
from .account_use_admin import DATE
from .models import ResidentFundReceipt


class ResidentReceiptForm(ServiceRunForm):
    class Meta:
        model = ResidentFundReceipt
        fields = ("jurisdiction", "kind", "year", "amount", "received_on", "reference", "note")
        widgets = {"received_on": DATE}

    def validate_unique(self):
        """The service refuses a reference already entered (with its field message) before writing the row."""

    def run(self, data):
        return resident_fund.receipt_record(
            jurisdiction=data["jurisdiction"],
            kind=data["kind"],
            year=data["year"],
            amount=data["amount"],
            received_on=data["received_on"],
            reference=data["reference"],
            note=data.get("note", ""),
            user=self.user,
        )


@admin.register(ResidentFundReceipt)
class ResidentFundReceiptAdmin(ServiceWrittenAdmin, BigListMixin, SafeExportAdmin, BureauAdmin):
    """居民医保基金收入登记: 中央/省级/市县财政补助与基金利息, posted to the resident fund (xianning 办法 四(三))."""

    form = ResidentReceiptForm
    list_display = ("received_on", "jurisdiction", "kind", "year", "amount", "reference", "entry")
    list_filter = ("jurisdiction", "kind", "year")
    list_select_related = ("jurisdiction", "entry")
    search_fields = ("reference",)
    ordering = ("-received_on", "-id")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
