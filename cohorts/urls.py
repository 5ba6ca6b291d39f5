"""Public URLs of the course page and waitlist entries."""

from django.urls import path

from . import views

app_name = "cohorts"

urlpatterns = [
    path("cohorts/waitlist/confirm-email/<str:token>/", views.waitlist_confirm_email, name="waitlist_confirm_email"),
    path("cohorts/waitlist/<str:token>/", views.waitlist_status, name="waitlist_status"),
    path("cohorts/waitlist/<str:token>/leave/", views.waitlist_leave, name="waitlist_leave"),
    path("cohorts/waitlist/<str:token>/rejoin/", views.waitlist_rejoin, name="waitlist_rejoin"),
    path("cohorts/waitlist/<str:token>/invitation/", views.waitlist_invitation, name="waitlist_invitation"),
    path("cohorts/waitlist/<str:token>/pay/", views.waitlist_pay, name="waitlist_pay"),
    path("cohorts/<slug:slug>/", views.cohort_detail, name="cohort_detail"),
]
