"""Public URLs of registrations: registering, orders, seats, certificates and the Stripe webhook."""

from django.urls import path

from .views import affinity, attendees, orders, payment, registration

app_name = "registrations"

urlpatterns = [
    path("workshops/<slug:slug>/register/", registration.register, name="register"),
    path("workshops/<slug:slug>/notify-me/", registration.seat_alert, name="seat_alert"),
    path("orders/<str:token>/", orders.order_detail, name="order_detail"),
    path("orders/<str:token>/pay/", payment.order_pay, name="order_pay"),
    path("orders/<str:token>/success/", payment.checkout_success, name="checkout_success"),
    path("orders/<str:token>/cancel/", payment.checkout_cancel, name="checkout_cancel"),
    path("orders/<str:token>/test-payment/", payment.test_payment, name="test_payment"),
    path("orders/<str:token>/test-invoice/", payment.test_invoice, name="test_invoice"),
    path("orders/<str:token>/po-number/", orders.order_po_number, name="order_po_number"),
    path("orders/<str:token>/add-seats/", orders.order_add_seats, name="order_add_seats"),
    path("orders/<str:token>/add-seats/cancel/", orders.order_cancel_addition, name="order_cancel_addition"),
    path("orders/<str:token>/seats/<int:position>/", orders.order_seat_change, name="order_seat_change"),
    path("orders/<str:token>/seats/", orders.order_name_seats, name="order_name_seats"),
    path("orders/<str:token>/seats/<int:position>/resend/", orders.order_seat_resend, name="order_seat_resend"),
    path("seats/<str:token>/", attendees.seat_detail, name="seat_detail"),
    path("seats/<str:token>/affinity/", affinity.seat_affinity, name="seat_affinity"),
    path("seats/<str:token>/time-zone/", attendees.seat_time_zone, name="seat_time_zone"),
    path("seats/<str:token>/prework/<int:module_id>/", attendees.seat_prework, name="seat_prework"),
    path("seats/<str:token>/prework/<int:module_id>/file/", attendees.seat_prework_file, name="seat_prework_file"),
    path("seats/<str:token>/calendar.ics", attendees.seat_calendar, name="seat_calendar"),
    path("seats/<str:token>/sessions/<int:number>/calendar.ics", attendees.seat_session_calendar, name="seat_session_calendar"),
    path("seats/<str:token>/certificate.pdf", attendees.seat_certificate, name="seat_certificate"),
    path("certificates/<str:code>/", attendees.certificate_verify, name="certificate_verify"),
    path("stripe/webhook/", payment.stripe_webhook, name="stripe_webhook"),
]
