"""URLs of the printable documents (namespace ``documents``): print pages and PDFs under ``/documents/``,
the public verification page under ``/verify/`` (no login)."""

from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("documents/person/<int:person_id>/", views.person_print, name="person_print"),
    path("documents/person/<int:person_id>/enrolment.pdf", views.person_enrolment, name="person_enrolment"),
    path("documents/person/<int:person_id>/contributions.pdf", views.person_contributions, name="person_contributions"),
    path("documents/person/<int:person_id>/account.pdf", views.person_account, name="person_account"),
    path("documents/employer/<int:employer_id>/", views.employer_print, name="employer_print"),
    path("documents/employer/<int:employer_id>/notice.pdf", views.employer_notice, name="employer_notice"),
    path("documents/employer/<int:employer_id>/bulk/", views.bulk_start, name="bulk_start"),
    path("documents/clearance/<int:case_id>/decision.pdf", views.clearance_decision, name="clearance_decision"),
    path("documents/bulk/<int:pk>/", views.bulk_progress, name="bulk_progress"),
    path("documents/bulk/<int:pk>/download/", views.bulk_download, name="bulk_download"),
    path("verify/", views.verify, name="verify"),
    path("verify/<str:code>/", views.verify_code, name="verify_code"),
]
