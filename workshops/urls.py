"""Public URLs of the catalog: home, workshop pages and the health check."""

from django.urls import path

from . import views

app_name = "workshops"

urlpatterns = [
    path("", views.home, name="home"),
    path("workshops/<slug:slug>/", views.workshop_detail, name="workshop_detail"),
]
