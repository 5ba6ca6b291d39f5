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
    path("orders/<str:token>/test-invoice/", views.test_invoice, name="test_invoice"),
    path("orders/<str:token>/po-number/", views.order_po_number, name="order_po_number"),
    path("orders/<str:token>/add-seats/", views.order_add_seats, name="order_add_seats"),
    path("orders/<str:token>/add-seats/cancel/", views.order_cancel_addition, name="order_cancel_addition"),
    path("orders/<str:token>/seats/<int:position>/", views.order_seat_change, name="order_seat_change"),
    path("seats/<str:token>/", views.seat_detail, name="seat_detail"),
    path("seats/<str:token>/prework/<int:module_id>/", views.seat_prework, name="seat_prework"),
    path("seats/<str:token>/calendar.ics", views.seat_calendar, name="seat_calendar"),
    path("seats/<str:token>/sessions/<int:number>/calendar.ics", views.seat_session_calendar, name="seat_session_calendar"),
    path("seats/<str:token>/certificate.pdf", views.seat_certificate, name="seat_certificate"),
    path("certificates/<str:code>/", views.certificate_verify, name="certificate_verify"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
