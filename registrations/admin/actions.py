"""Admin actions shared by the seat and roster screens: resend welcome emails, issue certificates, refund seats."""

from collections import defaultdict

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.html import format_html

from registrations.errors import (
    CertificateError,
    RefundError,
)
from registrations.selectors.repricing import seat_refund_price
from registrations.selectors.staff_reports import ACCESS_NEEDS_PERMISSION
from registrations.services.learning import (
    issue_certificate,
)
from registrations.services.seat_refunds import RefundPendingError, refund_pending_message, refund_seats
from workshops.templatetags.workshop_tags import usd

from .. import emails
from ..models import (
    Order,
    Seat,
)
from ..stripe import client as stripe_client
from .order_refunds import refund_outcome


REFUND_PERMISSION = "registrations.refund_order"
MARK_PAID_PERMISSION = "registrations.mark_invoice_paid"
ACCESS_NEEDS_FIELDS = ("needs_captions", "needs_interpreter", "access_note")
# Every group's affinity choices (issue 16): coordinators. A facilitator sees their own groups' rooms in
# "Breakout rooms", never the other groups' members on the seat screens.
AFFINITY_PERMISSION = "registrations.view_breakout_plan"
# A seat's relations that say which affinity group its attendee chose or was placed in.
AFFINITY_RELATIONS = frozenset({"affinity_choice", "breakout_placements"})


def can_see_access_needs(request) -> bool:
    return request.user.has_perm(ACCESS_NEEDS_PERMISSION)


def require_permission(request, permission: str) -> None:
    """Checked inside money actions too, not only when admin lists them: an action is a POST anyone can send."""
    if not request.user.has_perm(permission):
        raise PermissionDenied


def can_see_affinity_choices(request) -> bool:
    return request is not None and request.user.has_perm(AFFINITY_PERMISSION)


def private_lookup(request, lookup: str) -> bool:
    """A changelist filter this user may not use. Admin allows a lookup on any field or single relation of the
    model itself, so ?access_note__icontains=… or ?token__startswith=… would read a hidden field back one guess
    at a time, and ?affinity_choice__isnull=False would list who has chosen a group."""
    parts = lookup.split("__")
    name = parts[0]
    if name == "token" or (name in ACCESS_NEEDS_FIELDS and (request is None or not can_see_access_needs(request))):
        return True
    return bool(AFFINITY_RELATIONS & set(parts)) and not can_see_affinity_choices(request)


class PrivateSeatLookups:
    """For the seat screens: no filtering on private links, nor on access needs or affinity choices without the
    permission to see them."""

    def lookup_allowed(self, lookup, value, request=None):
        return not private_lookup(request, lookup) and super().lookup_allowed(lookup, value, request)


class MoneyActionPermissions:
    """Admin's `permissions=["refund"]` / `["mark_invoice_paid"]` on actions ask these."""

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm(REFUND_PERMISSION)

    def has_mark_invoice_paid_permission(self, request) -> bool:
        return request.user.has_perm(MARK_PAID_PERMISSION)


@admin.action(description="Resend the welcome email", permissions=["change"])
def resend_welcome(modeladmin, request, queryset):
    count = 0
    for seat in queryset.filter(status=Seat.Status.ACTIVE, order__status=Order.Status.PAID).exclude(attendee_email=""):
        emails.send_seat_welcome(seat_id=seat.pk, resend=True)
        count += 1
    modeladmin.message_user(request, f"Sent {count} welcome email(s). Unnamed or unpaid seats were skipped.", messages.SUCCESS)


def _issue_certificates(modeladmin, request, seats) -> None:
    issued, not_ready = 0, []
    for seat in seats:
        try:
            issue_certificate(seat=seat, reinstate=True)
        except CertificateError:
            not_ready.append(seat.attendee_name or f"{seat.order.reference} seat {seat.position}")
        else:
            issued += 1
    modeladmin.message_user(request, f"{issued} certificate(s) issued or already valid.", messages.SUCCESS)
    if not_ready:
        modeladmin.message_user(
            request, "Not complete yet (pre-work or attendance missing): " + ", ".join(not_ready), messages.WARNING
        )


@admin.action(description="Refund selected seats through Stripe", permissions=["refund"])
def refund_selected_seats(modeladmin, request, queryset):
    """Partial refunds: one Stripe refund per order, for exactly the seats ticked, after a confirmation page."""
    require_permission(request, REFUND_PERMISSION)
    seats = list(queryset.filter(status=Seat.Status.ACTIVE).select_related("order__workshop").order_by("order", "position"))
    if request.POST.get("post") != "yes":
        by_order = defaultdict(list)
        for seat in seats:
            by_order[seat.order_id].append(seat)
        groups = []
        for group in by_order.values():
            order = group[0].order
            price = seat_refund_price(order=order, seat_count=len(group))
            groups.append({"order": order, "seats": group, "amount_cents": price.amount_cents, "price": price})
        return TemplateResponse(
            request,
            "registrations/admin/refund_confirm.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": "Refund these seats?",
                "opts": modeladmin.model._meta,
                "groups": groups,
                "seats": seats,
                "skipped": queryset.exclude(status=Seat.Status.ACTIVE).count(),
                "action": "refund_selected_seats",
            },
        )
    by_order_id = defaultdict(list)
    for seat in seats:
        by_order_id[seat.order_id].append(seat)
    for group in by_order_id.values():
        order = group[0].order
        try:
            refund = refund_seats(order=order, seats=group, reason=f"{len(group)} seat(s) refunded by {request.user}")
        except RefundError as exc:
            modeladmin.message_user(request, f"{order.reference}: {exc}", messages.ERROR)
        except RefundPendingError as exc:
            modeladmin.message_user(request, refund_pending_message(order, exc), messages.WARNING)
        except stripe_client.PaymentProviderError as exc:
            modeladmin.message_user(
                request, f"{order.reference}: Stripe refused the refund ({exc}). Nothing changed.", messages.ERROR
            )
        else:
            emails.send_refund_made(refund_id=refund.pk)  # sends nothing for a refund of nothing
            names = ", ".join(s.attendee_name or f"seat {s.position}" for s in group)
            outcome, text = refund_outcome(order, refund, seat_count=len(group))
            if outcome == "refunded":
                text = f"{order.reference}: refunded {usd(refund.amount_cents)} for {names}. The buyer has been emailed."
            elif outcome == "cancelled":
                text = (f"{order.reference}: cancelled {names} with no money back (nothing was sent to Stripe). The buyer "
                        "has been emailed that the seats are cancelled, and why.")
            if refund.pricing_note:
                text += f" {refund.pricing_note}"
            modeladmin.message_user(request, text, messages.WARNING if outcome == "by hand" else messages.SUCCESS)


# Who holds a seat changes only through change_seat (the order page's seat forms), which
# gives the seat a new token so the previous attendee's link stops working; an admin edit would not.
SEAT_CHANGES_HELP = (
    "To name a seat or give it to someone else, use the seat forms on the order page, which send the "
    "new attendee their own link and stop the old one working: {}"
)


def _order_page_link(order: Order) -> str:
    url = order.get_absolute_url()
    return format_html(SEAT_CHANGES_HELP, format_html('<a href="{0}" target="_blank" rel="noopener">{0}</a>', url))


def titled(title: str, base=admin.FieldListFilter):
    """A field's list filter under a title of its own (Django titles it with the field's name: "By is test payment", or
    "By status" twice on a list filtered by the seat's status and its order's)."""

    class Titled(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled
