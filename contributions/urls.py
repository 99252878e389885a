"""URLs of the contributions screens, under ``/contributions/`` (namespace ``contributions``)."""

from django.urls import path

from . import views

app_name = "contributions"

urlpatterns = [
    path("imports/payroll/", views.payroll_upload, name="payroll_upload"),
    path("imports/payment/", views.payment_upload, name="payment_upload"),
    path("imports/template/<str:kind>.xlsx", views.import_template, name="import_template"),
    path("imports/<int:pk>/", views.import_job, name="import_job"),
    path("imports/<int:pk>/progress/", views.import_job_progress, name="import_job_progress"),
    path("imports/<int:pk>/confirm/", views.import_job_confirm, name="import_job_confirm"),
    path("imports/<int:pk>/rejected.xlsx", views.import_job_rejected, name="import_job_rejected"),
    path("persons/", views.person_lookup, name="person_lookup"),
    path("persons/<int:person_id>/", views.person_history, name="person_history"),
    path("employers/<int:employer_id>/bill/", views.employer_bill, name="employer_bill"),
    path("employers/<int:employer_id>/arrears/", views.employer_arrears, name="employer_arrears"),
]
