from django.urls import path

from . import views

app_name = "registrations"

urlpatterns = [
    path("workshops/<slug:slug>/register/", views.register, name="register"),
    path("workshops/<slug:slug>/notify-me/", views.seat_alert, name="seat_alert"),
    path("orders/<str:token>/", views.order_detail, name="order_detail"),
    path("orders/<str:token>/pay/", views.order_pay, name="order_pay"),
    path("orders/<str:token>/success/", views.checkout_success, name="checkout_success"),
    path("orders/<str:token>/cancel/", views.checkout_cancel, name="checkout_cancel"),
    path("orders/<str:token>/test-payment/", views.test_payment, name="test_payment"),
    path("seats/<str:token>/", views.seat_detail, name="seat_detail"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
