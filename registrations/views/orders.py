"""The buyer's order page: receipt, PO number, seats to name or change, seats to add."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from guard import ratelimit
from guard.ratelimit import RateLimitedError
from registrations.errors import (
    InvoiceHoldError,
    NetworkHoldLimitError,
    NotEnoughSeatsError,
    RegistrationError,
    SeatChangeError,
    SeatListError,
)
from registrations.selectors.ledger import addition_prices
from registrations.selectors.order_pages import (
    active_seat_of_order,
    order_overview,
)
from registrations.services.duplicates import remember_order
from registrations.services.growth import cancel_addition, place_addition
from registrations.services.invoices import (
    invoice_hold_days,
    set_po_number,
)
from registrations.services.seats import change_seat, ensure_seat_changes_open, name_seats
from workshops.placed_messages import placed_redirect
from workshops.selectors import NoPriceError

from .. import emails
from ..forms import (
    AddSeatsForm,
    PONumberForm,
    SeatChangeForm,
    SeatListForm,
)
from ..models import Order, Seat
from .common import _order_or_404
from .payment import _go_to_checkout
from .prefill import billing_initial


def _int_param(request: HttpRequest, name: str) -> int | None:
    try:
        value = int(request.GET.get(name, ""))
    except ValueError:
        return None
    return value if 0 < value < 1000 else None


def _render_order(
    request: HttpRequest,
    order: Order,
    *,
    bound: SeatChangeForm | None = None,
    po_form: PONumberForm | None = None,
    grow_form: AddSeatsForm | None = None,
    list_form: SeatListForm | None = None,
    status: int = 200,
):
    """The order page: one seat's form at a time (the one asked for with ?edit=N, or the one with errors)."""
    overview = order_overview(order=order)
    editing = bound.seat.pk if bound is not None else None
    wanted = _int_param(request, "edit")
    rows = []
    for seat in overview.seats:
        form = None
        if overview.can_change_seats and seat.status == Seat.Status.ACTIVE:
            if editing == seat.pk:
                form = bound
            elif editing is None and wanted == seat.position:
                form = SeatChangeForm(seat=seat)
        rows.append({"seat": seat, "form": form})
    return render(
        request,
        "registrations/order_detail.html",
        {
            "order": order,
            "workshop": order.workshop,
            "overview": overview,
            "rows": rows,
            "list_form": list_form or SeatListForm(),
            "po_form": po_form or PONumberForm(initial={"po_number": order.po_number}),
            "grow_form": grow_form or AddSeatsForm(initial={
                "payment_method": order.payment_method, "extra_seats": _int_param(request, "add") or 1, **billing_initial(order)
            }),
            "invoice_hold_days": invoice_hold_days(),
            "addition_prices": (
                addition_prices(order=order, tiers=order.workshop.tier_list, paid_cents=overview.money.net_cents)
                if overview.can_add_seats
                else []
            ),
        },
        status=status,
    )


@require_GET
def order_detail(request: HttpRequest, token: str) -> HttpResponse:
    order = _order_or_404(token)
    if order.parent_id:
        # Added seats live on the order they join.
        return redirect(order.get_absolute_url())
    # This browser holds the order: if it registers again, it is offered this order instead.
    remember_order(session=request.session, order=order)
    return _render_order(request, order)


@require_POST
def order_po_number(request: HttpRequest, token: str) -> HttpResponse:
    """The buyer adds or changes the purchase-order number shown on the receipt."""
    order = _order_or_404(token)
    form = PONumberForm(request.POST)
    if not form.is_valid():
        return _render_order(request, order, po_form=form, status=400)
    try:
        set_po_number(order=order, po_number=form.cleaned_data["po_number"])
    except RegistrationError as exc:
        messages.error(request, str(exc))
        return redirect(f"{order.get_absolute_url()}#po-number")
    saved = "Purchase-order number saved." if form.cleaned_data["po_number"] else "Purchase-order number removed."
    return placed_redirect(request, messages.SUCCESS, saved, f"{order.get_absolute_url()}#po-number")


@require_POST
def order_add_seats(request: HttpRequest, token: str) -> HttpResponse:
    """The lead of a paid order adds seats and pays the difference, by card or invoice."""
    order = _order_or_404(token)
    form = AddSeatsForm(request.POST)
    if not form.is_valid():
        return _render_order(request, order, grow_form=form, status=400)
    if form.wants_invoice:
        # Each invoice is emailed to the billing address typed: limited as the registration form's invoice requests.
        try:
            ratelimit.check(request, scope="invoice_request", emails=[order.buyer_email, form.billing_details().email])
        except RateLimitedError as exc:
            form.add_error(None, str(exc))
            return _render_order(request, order, grow_form=form, status=429)
    try:
        addition = place_addition(
            order=order,
            extra_seats=form.cleaned_data["extra_seats"],
            billing=form.billing_details() if form.wants_invoice else None,
            hold_source=ratelimit.address_key(request, purpose="hold_source"),
        )
    except (NotEnoughSeatsError, NetworkHoldLimitError) as exc:
        form.add_error("extra_seats", str(exc))
        return _render_order(request, order, grow_form=form, status=400)
    except InvoiceHoldError as exc:
        form.add_error("payment_method", str(exc))
        return _render_order(request, order, grow_form=form, status=400)
    except NoPriceError:
        form.add_error("extra_seats", "This number of seats cannot be bought online; please contact us.")
        return _render_order(request, order, grow_form=form, status=400)
    except RegistrationError as exc:
        if getattr(exc, "field", None) == "extra_seats":
            form.add_error("extra_seats", str(exc))
            return _render_order(request, order, grow_form=form, status=400)
        # Not about what was typed (unpaid, closed, an addition awaiting payment): said where the section is.
        return placed_redirect(request, messages.ERROR, str(exc), f"{order.get_absolute_url()}#add-seats")
    return _go_to_checkout(request, addition)


@require_POST
def order_cancel_addition(request: HttpRequest, token: str) -> HttpResponse:
    """The lead withdraws seats they added but have not paid for."""
    order = _order_or_404(token)
    if cancel_addition(order=order):
        released = "The seats you were adding have been released, and their payment cancelled."
        return placed_redirect(request, messages.INFO, released, f"{order.get_absolute_url()}#add-seats")
    return redirect(f"{order.get_absolute_url()}#add-seats")


def _order_and_seat_or_404(token: str, position: int) -> tuple[Order, Seat]:
    """The order by its token and one of its active seats by position; 404 for either unknown."""
    order = _order_or_404(token)
    try:
        return order, active_seat_of_order(order=order, position=position)
    except Seat.DoesNotExist:
        raise Http404("No such seat") from None


@require_POST
def order_seat_change(request: HttpRequest, token: str, position: int) -> HttpResponse:
    """The lead's per-seat form: name, correct, or hand the seat to a colleague."""
    order, seat = _order_and_seat_or_404(token, position)
    back = f"{order.get_absolute_url()}#seat-{seat.position}"  # the seat's row: the redirect and its message land there
    try:
        ensure_seat_changes_open(order=order)
    except SeatChangeError as exc:
        return placed_redirect(request, messages.ERROR, str(exc), back)
    form = SeatChangeForm(request.POST, seat=seat)
    if not form.is_valid():
        return _render_order(request, order, bound=form, status=400)
    new_email = form.cleaned_data["email"].strip()
    if new_email.lower() != seat.attendee_email.lower():
        # A new address gets a welcome and the old one a notice: without a limit, handing a seat back and
        # forth would let anyone with one paid seat flood an inbox from this page.
        try:
            ratelimit.check(request, scope="seat_change", emails=[new_email, seat.attendee_email])
        except RateLimitedError as exc:
            form.add_error("email", str(exc))
            return _render_order(request, order, bound=form, status=429)
    try:
        changed = change_seat(
            seat=seat, name=form.cleaned_data["name"], email=form.cleaned_data["email"], new_person=form.is_new_person
        )
    except SeatChangeError as exc:
        if exc.field is None:
            return placed_redirect(request, messages.ERROR, str(exc), back)
        form.add_error(exc.field, str(exc))
        return _render_order(request, order, bound=form, status=400)
    saved = f"Seat {seat.position} saved."
    if changed.attendee_email.lower() != seat.attendee_email.lower():
        saved += f" We have emailed {changed.attendee_name} their own link."
    return placed_redirect(request, messages.SUCCESS, saved, back)


@require_POST
def order_name_seats(request: HttpRequest, token: str) -> HttpResponse:
    """The lead names many seats at once from pasted lines or a CSV file; every line's problem is shown on it."""
    order = _order_or_404(token)
    form = SeatListForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_order(request, order, list_form=form, status=400)
    try:
        named = name_seats(order=order, people=form.people_list)
    except SeatListError as exc:
        form.mark_errors(exc.row_errors)
        form.add_error(None, str(exc))
        return _render_order(request, order, list_form=form, status=400)
    except SeatChangeError as exc:
        return placed_redirect(request, messages.ERROR, str(exc), f"{order.get_absolute_url()}#seats")
    named_text = f"{len(named)} seat{'s' if len(named) != 1 else ''} named. Each attendee has been emailed their own link."
    return placed_redirect(request, messages.SUCCESS, named_text, f"{order.get_absolute_url()}#seats")


@require_POST
def order_seat_resend(request: HttpRequest, token: str, position: int) -> HttpResponse:
    """The lead sends a named attendee their own link again, to the attendee's address: the lead never sees it."""
    order, seat = _order_and_seat_or_404(token, position)
    back = f"{order.get_absolute_url()}#seat-{seat.position}"
    if not (order.is_paid and seat.is_named):
        return placed_redirect(request, messages.ERROR, "Only a named seat of a paid order has a link to send.", back)
    try:
        ratelimit.check(request, scope="seat_link_resend", emails=[seat.attendee_email])
    except RateLimitedError as exc:
        return placed_redirect(request, messages.ERROR, str(exc), back)
    emails.send_seat_welcome(seat_id=seat.pk, resend=True)
    resent = f"We have emailed {seat.attendee_name} their own link again, at {seat.attendee_email}."
    return placed_redirect(request, messages.SUCCESS, resent, back)
