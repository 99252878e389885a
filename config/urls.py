"""URLs: the admin is the back office; the API sits under /api/. Everything requires login."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "职工医保经办管理系统"
admin.site.site_title = "医保经办"
admin.site.index_title = "经办业务"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
