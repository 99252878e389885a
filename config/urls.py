"""URLs: the admin is the back office; the API sits under /api/v1/ (the old /api/ paths answer as v1).
Everything requires login (a session, or a machine token for the API)."""

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from django.views.generic import RedirectView, TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from benefits.api import PersonStatusViewSet
from benefits.claims.api import ClaimViewSet
from benefits.claims.api_settlements import SettlementViewSet
from contributions.api import ContributionBaseViewSet, MonthlyDueViewSet, PaymentViewSet
from contributions.api_employer import EmployerBillViewSet, PaymentYearsViewSet
from contributions.api_wages import WageDeclarationViewSet
from contributions.retirement.api import ClearanceCaseViewSet
from enrollment.api import EmployerViewSet, PersonViewSet
from enrollment.api_tokens import TokenLoginView, TokenLogoutAllView, TokenLogoutView
from enrollment.requests.api import EmployerRequestViewSet
from funds.api import FundMonthViewSet, PostingViewSet
from operations.api_exports import ExportJobViewSet
from policy.api import ScenarioRunViewSet

router = DefaultRouter()
router.register("employers", EmployerViewSet, basename="employer")
router.register("persons", PersonViewSet, basename="person")
router.register("scenario-runs", ScenarioRunViewSet, basename="scenariorun")
router.register("contribution-bases", ContributionBaseViewSet, basename="contributionbase")
router.register("dues", MonthlyDueViewSet, basename="monthlydue")
router.register("payments", PaymentViewSet, basename="payment")
router.register("person-status", PersonStatusViewSet, basename="personstatus")
router.register("clearance-cases", ClearanceCaseViewSet, basename="clearancecase")
router.register("fund-months", FundMonthViewSet, basename="fundmonth")
router.register("postings", PostingViewSet, basename="posting")
router.register("claims", ClaimViewSet, basename="claim")
router.register("wage-declarations", WageDeclarationViewSet, basename="wagedeclaration")
router.register("employer-requests", EmployerRequestViewSet, basename="employerrequest")
router.register("employer-bills", EmployerBillViewSet, basename="employerbill")
router.register("payment-years", PaymentYearsViewSet, basename="paymentyears")
router.register("settlements", SettlementViewSet, basename="settlement")
router.register("exports", ExportJobViewSet, basename="exportjob")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("contributions/", include("contributions.urls")),
    path("operations/", include("operations.urls")),
    # printable documents and their public verification page /verify/ (issue #19 item 6)
    path("", include("operations.documents.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "api/changelog/", login_required(TemplateView.as_view(template_name="api/changelog.html")), name="api-changelog"
    ),
    re_path(r"^api/(?P<version>v1)/schema/$", SpectacularAPIView.as_view(), name="api-schema-version"),
    re_path(r"^api/(?P<version>v1)/auth/login/$", TokenLoginView.as_view(), name="api-token-login"),
    re_path(r"^api/(?P<version>v1)/auth/logout/$", TokenLogoutView.as_view(), name="api-token-logout"),
    re_path(r"^api/(?P<version>v1)/auth/logoutall/$", TokenLogoutAllView.as_view(), name="api-token-logoutall"),
    re_path(r"^api/(?P<version>v1)/", include(router.urls)),
    path("api/", include(router.urls)),  # unversioned paths of before v1: answered as v1, kept for old clients
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI and ReDoc come from drf-spectacular-sidecar's static files (a bureau's intranet reaches no
    # CDN); the split view serves its script as a file (no inline script under the Content-Security-Policy)
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html"),
        name="api-redoc",
    ),
]
