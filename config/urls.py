"""URLs: the admin is the back office; the API sits under /api/. Everything requires login."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from enrollment.api import EmployerViewSet, PersonViewSet
from policy.api import ScenarioRunViewSet

router = DefaultRouter()
router.register("employers", EmployerViewSet, basename="employer")
router.register("persons", PersonViewSet, basename="person")
router.register("scenario-runs", ScenarioRunViewSet, basename="scenariorun")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("contributions/", include("contributions.urls")),
    path("operations/", include("operations.urls")),
    # printable documents and their public verification page /verify/ (issue #19 item 6)
    path("", include("operations.documents.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include(router.urls)),
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
