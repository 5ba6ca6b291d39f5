import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from registrations.errors import (
    CertificateError,
    NotEnoughSeatsError,
    PreworkError,
    RegistrationError,
    SeatChangeError,
    VoucherError,
)
from registrations.selectors.availability import (
    catalog_with_availability,
    price_for,
    seats_taken,
)
from registrations.selectors.codes import valid_quote
from registrations.selectors.ledger import addition_prices
from registrations.selectors.order_pages import (
    TOKEN_PATTERN,
    active_seat_of_order,
    order_for_token,
    order_overview,
    seat_for_token,
)
from registrations.selectors.progress import (
    certificate_for_code,
    prework_module_for_seat,
    seat_overview,
    session_for_seat,
)
from registrations.services.checkout import (
    AttendeeData,
    add_seat_alert,
    complete_free_order,
    open_checkout_session,
    place_order,
    start_checkout,
)
from registrations.services.fulfilment import (
    cancel_order,
    fulfil_order,
    mark_processing,
)
from registrations.services.growth import cancel_addition, place_addition
from registrations.services.invoices import (
    invoice_hold_days,
    place_invoice_order,
    set_po_number,
    start_invoice,
)
from registrations.services.learning import issue_certificate, set_prework_done
from registrations.services.seats import change_seat, ensure_seat_changes_open
from registrations.services.vouchers import check_voucher, create_quote
from workshops.selectors import NoPriceError, workshops_for_catalog

from . import certificates, ics
from .forms import (
    AddSeatsForm,
    AttendeeFormSet,
    PaymentForm,
    PONumberForm,
    PreworkMarkForm,
    RegistrationForm,
    SeatAlertForm,
    SeatChangeForm,
)
from .models import Certificate, Order, Seat
from .quotes import quote_document
from .stripe import client as stripe_client
from .stripe import webhooks

logger = logging.getLogger(__name__)

INVOICE_DOWN_MESSAGE = (
    "We could not create your invoice just now. Your seats are held and nothing was charged: "
    "please try again in a moment."
)
PAYMENT_DOWN_MESSAGE = (
    "We could not reach our payment provider just now. Your seats are held and nothing was charged: "
    "please try the payment again in a moment."
)


def _order_or_404(token: str) -> Order:
    try:
        return order_for_token(token)
    except Order.DoesNotExist:
        raise Http404("No such order") from None


def _attendee_rows(seat_count: int, buyer_attends: bool) -> int:
    return max(seat_count - (1 if buyer_attends else 0), 0)


def _posted_seat_count(data) -> int | None:
    try:
        value = int(str(data.get("seat_count", "")).strip())
    except ValueError:
        return None
    return value if value >= 1 else None


def _initial_from_order(order: Order) -> tuple[dict, list[dict]]:
    seats = list(order.seats.order_by("position"))
    initial = {
        "buyer_name": order.buyer_name,
        "buyer_email": order.buyer_email,
        "organisation": order.organisation,
        "role": order.role,
        "seat_count": order.seat_count,
        "buyer_attends": order.buyer_attends,
        **_billing_initial(order),
        "voucher_code": order.voucher.code if order.voucher_id else "",
        "quote_reference": order.quote.reference if order.quote_id else "",
    }
    if order.buyer_attends and seats:
        own = seats.pop(0)
        initial.update(needs_captions=own.needs_captions, needs_interpreter=own.needs_interpreter, access_note=own.access_note)
    rows = [
        {
            "name": s.attendee_name,
            "email": s.attendee_email,
            "needs_captions": s.needs_captions,
            "needs_interpreter": s.needs_interpreter,
            "access_note": s.access_note,
        }
        for s in seats
    ]
    return initial, rows


def _billing_initial(order: Order) -> dict:
    fields = ("billing_name", "billing_email", "billing_line1", "billing_line2", "billing_city", "billing_state",
              "billing_postal_code", "billing_country", "po_number")
    return {"payment_method": order.payment_method, **{name: getattr(order, name) for name in fields}}


def _posted_rows(data) -> list[dict]:
    rows, i = [], 0
    fields = ("name", "email", "needs_captions", "needs_interpreter", "access_note")
    while f"attendees-{i}-name" in data or f"attendees-{i}-email" in data:
        rows.append({f: data.get(f"attendees-{i}-{f}", "") for f in fields})
        i += 1
    return rows


def register(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "POST" and "update" not in request.POST and "download_quote" not in request.POST:
        return _submit_registration(request, slug)
    workshop = get_object_or_404(catalog_with_availability(), slug=slug)
    seats_left = workshop.seats_left
    state = workshop.registration_state()
    if state != "open" or seats_left == 0:
        return _registration_closed(request, workshop, state, seats_left)

    if request.method == "POST" and "download_quote" in request.POST:
        form = RegistrationForm(request.POST, seats_left=seats_left)
        formset = AttendeeFormSet(request.POST, prefix="attendees")
        payment_form = PaymentForm(request.POST)  # a quote needs no payment choice
        if form.is_valid() and formset.is_valid():
            response = _quote_pdf(workshop, form)
            if response is not None:
                return response
    else:
        if request.method == "POST":  # "Update total" without JavaScript: show the new rows and price, no errors yet.
            initial, rows = request.POST.dict(), _posted_rows(request.POST)
            initial["buyer_attends"] = "buyer_attends" in request.POST
        elif request.GET.get("from"):
            token = request.GET["from"]
            previous = (
                Order.objects.filter(token=token, workshop=workshop).first()
                if TOKEN_PATTERN.fullmatch(token)
                else None
            )
            initial, rows = _initial_from_order(previous) if previous else ({}, [])
        elif request.GET.get("quote"):
            initial, rows = _initial_from_quote(workshop, request.GET["quote"]), []
        else:
            initial, rows = {}, []
        seat_count = _posted_seat_count(initial) or 1
        buyer_attends = initial.get("buyer_attends", True) in (True, "on", "true", "True")
        initial["seat_count"] = seat_count
        initial["buyer_attends"] = buyer_attends
        wanted = _attendee_rows(min(seat_count, seats_left), buyer_attends)
        rows = (rows + [{}] * wanted)[:wanted]
        form = RegistrationForm(initial=initial, seats_left=seats_left)
        formset = AttendeeFormSet(initial=rows, prefix="attendees")
        payment_form = PaymentForm(initial={k: v for k, v in initial.items() if k in PaymentForm.base_fields and v})
    return _registration_page(request, workshop, seats_left, form, formset, payment_form)


def _submit_registration(request: HttpRequest, slug: str) -> HttpResponse:
    """Place the order and go to payment, or show the form again with what went wrong.

    The seat count that decides is taken in place_order, under the workshop's row lock;
    this view counts seats itself only when the form has to come back, so a registration that
    goes through counts them once (the hot path of a registration rush).
    """
    workshop = get_object_or_404(workshops_for_catalog(), slug=slug)
    form = RegistrationForm(request.POST)
    formset = AttendeeFormSet(request.POST, prefix="attendees")
    payment_form = PaymentForm(request.POST)
    valid = all([form.is_valid(), formset.is_valid(), payment_form.is_valid()])
    if valid and workshop.registration_state() == "open":
        response = _place_and_pay(request, workshop, form, formset, payment_form)
        if response is not None:
            return response
    workshop.seats_taken = seats_taken(workshop_id=workshop.pk)
    seats_left = workshop.seats_left
    state = workshop.registration_state()
    if state != "open" or (seats_left == 0 and not valid):
        return _registration_closed(request, workshop, state, seats_left)
    if not valid:
        # Checked again against the seats left, so every problem shows at once.
        form = RegistrationForm(request.POST, seats_left=seats_left)
    else:
        form.show_seats_left(seats_left)
    return _registration_page(request, workshop, seats_left, form, formset, payment_form)


def _registration_closed(
    request, workshop, state: str, seats_left: int, alert_form: SeatAlertForm | None = None, status: int = 200
) -> HttpResponse:
    """Not open yet, closed, or sold out (then with the form asking for a seat alert)."""
    return render(
        request,
        "registrations/registration_closed.html",
        {"workshop": workshop, "state": state, "seats_left": seats_left, "alert_form": alert_form or SeatAlertForm()},
        status=status,
    )


def _registration_page(request, workshop, seats_left: int, form, formset, payment_form) -> HttpResponse:
    form.show_team_price(workshop.team_tier)
    data = form.data if form.is_bound else form.initial
    seat_count = _posted_seat_count(data) or 1
    tiers = workshop.tier_list
    from_quote = valid_quote(workshop=workshop, reference=str(data.get("quote_reference") or ""))
    try:
        quote = price_for(tiers=tiers, seat_count=seat_count, quote=from_quote)
    except NoPriceError:
        quote = None
    # The price the page's script shows for the quoted seats (the rest comes from the tiers).
    quoted_price = (
        {"seat_count": from_quote.seat_count, "unit_price_cents": from_quote.unit_price_cents} if from_quote else None
    )
    discount = _discount_preview(workshop, quote, str(data.get("voucher_code") or ""))
    return render(
        request,
        "registrations/register.html",
        {
            "workshop": workshop,
            "form": form,
            "formset": formset,
            "quote": quote,
            "discount": discount,
            "seats_left": seats_left,
            "tiers": [{"min_seats": t.min_seats, "unit_price_cents": t.unit_price_cents} for t in tiers],
            "quoted_price": quoted_price,
            "test_payment_mode": stripe_client.is_test_payment_mode(),
            "payment_form": payment_form,
            "invoice_hold_days": invoice_hold_days(),
        },
        status=400 if form.is_bound and (form.errors or formset.total_error_count() or payment_form.errors) else 200,
    )


def _place_and_pay(request, workshop, form, formset, payment_form) -> HttpResponse | None:
    data = form.cleaned_data
    named = [f.cleaned_data for f in formset.forms if f.has_changed() and not f.is_blank]
    attendees = []
    if data["buyer_attends"]:
        attendees.append(
            AttendeeData(
                name=data["buyer_name"],
                email=data["buyer_email"],
                needs_captions=data["needs_captions"],
                needs_interpreter=data["needs_interpreter"],
                access_note=data["access_note"],
            )
        )
    attendees += [
        AttendeeData(
            name=row["name"],
            email=row["email"],
            needs_captions=row["needs_captions"],
            needs_interpreter=row["needs_interpreter"],
            access_note=row["access_note"],
        )
        for row in named
    ]
    if len(attendees) > data["seat_count"]:
        form.add_error(
            "seat_count",
            f"You named {len(attendees)} attendees but chose {data['seat_count']} seats. Add seats or remove a name.",
        )
        return None
    place, extra = place_order, {}
    if payment_form.wants_invoice:
        place, extra = place_invoice_order, {"billing": payment_form.billing_details()}
    try:
        order = place(
            **extra,
            workshop=workshop,
            buyer_name=data["buyer_name"],
            buyer_email=data["buyer_email"],
            organisation=data["organisation"],
            role=data["role"],
            seat_count=data["seat_count"],
            buyer_attends=data["buyer_attends"],
            attendees=attendees,
            voucher_code=data["voucher_code"],
            from_quote=valid_quote(workshop=workshop, reference=data["quote_reference"]),
        )
    except NotEnoughSeatsError as exc:
        if exc.seats_left == 0:
            # Sold out while they filled in the form: offer the seat alert, with their email in it.
            alert_form = SeatAlertForm(initial={"email": data["buyer_email"]})
            return _registration_closed(request, workshop, "open", 0, alert_form=alert_form)
        form.add_error("seat_count", str(exc))
        return None
    except VoucherError as exc:
        form.add_error("voucher_code", str(exc))
        return None
    except NoPriceError:
        form.add_error("seat_count", "This number of seats cannot be bought online; please contact us.")
        return None
    except RegistrationError as exc:
        form.add_error(None, str(exc))
        return None
    if order.total_cents == 0:
        complete_free_order(order=order)
        messages.success(request, "Your code covers the whole registration, so there is nothing to pay. You're registered.")
        return redirect(order.get_absolute_url())
    return _go_to_checkout(request, order, just_placed=True)


def _discount_preview(workshop, quote, code: str) -> dict | None:
    """What a code would take off, for the price summary; the order itself is priced in place_order."""
    code = code.strip()
    if not code or quote is None:
        return None
    try:
        voucher = check_voucher(code=code, workshop=workshop)
    except VoucherError as exc:
        return {"error": str(exc)}
    off = voucher.discount_cents(subtotal_cents=quote.total_cents, seat_count=quote.seat_count)
    return {"code": voucher.code, "description": voucher.description, "cents": off, "total_cents": quote.total_cents - off}


def _initial_from_quote(workshop, reference: str) -> dict:
    quote = valid_quote(workshop=workshop, reference=reference)
    if quote is None:
        return {}
    return {
        "buyer_name": quote.contact_name,
        "buyer_email": quote.contact_email,
        "organisation": quote.organisation,
        "seat_count": quote.seat_count,
        "voucher_code": quote.voucher.code if quote.voucher_id else "",
        "quote_reference": quote.reference,
    }


def _quote_pdf(workshop, form) -> HttpResponse | None:
    data = form.cleaned_data
    try:
        quote = create_quote(
            workshop=workshop,
            contact_name=data["buyer_name"],
            contact_email=data["buyer_email"],
            organisation=data["organisation"],
            seat_count=data["seat_count"],
            voucher_code=data["voucher_code"],
        )
    except VoucherError as exc:
        form.add_error("voucher_code", str(exc))
        return None
    except NoPriceError:
        form.add_error("seat_count", "This number of seats cannot be quoted online; please contact us.")
        return None
    response = HttpResponse(quote_document(quote=quote), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="quote-{quote.reference}.pdf"'
    return response


def _go_to_checkout(request, order: Order, *, just_placed: bool = False) -> HttpResponse:
    if order.payment_method == Order.PaymentMethod.INVOICE:
        return _send_invoice(request, order)
    try:
        url = (open_checkout_session if just_placed else start_checkout)(order=order)
    except stripe_client.PaymentProviderError:
        messages.error(request, PAYMENT_DOWN_MESSAGE)
        return redirect(order.get_absolute_url())
    except RegistrationError as exc:
        messages.error(request, str(exc))
        return redirect(order.get_absolute_url())
    return redirect(url)


def _send_invoice(request, order: Order) -> HttpResponse:
    try:
        order = start_invoice(order=order)
    except stripe_client.PaymentProviderError:
        messages.error(request, INVOICE_DOWN_MESSAGE)
        return redirect(order.get_absolute_url())
    except RegistrationError as exc:
        messages.error(request, str(exc))
        return redirect(order.get_absolute_url())
    messages.success(
        request,
        f"Invoice {order.invoice_number} is on its way to {order.billing_email}. Your seats are held until it is due.",
    )
    return redirect(order.get_absolute_url())


@require_POST
def order_pay(request: HttpRequest, token: str) -> HttpResponse:
    order = _order_or_404(token)
    return _go_to_checkout(request, order)


def _render_order(
    request: HttpRequest,
    order: Order,
    *,
    bound: SeatChangeForm | None = None,
    po_form: PONumberForm | None = None,
    grow_form: AddSeatsForm | None = None,
    status: int = 200,
):
    overview = order_overview(order=order)
    rows = []
    for seat in overview.seats:
        form = None
        if overview.can_change_seats and seat.status == Seat.Status.ACTIVE:
            form = bound if bound is not None and bound.seat.pk == seat.pk else SeatChangeForm(seat=seat)
        rows.append({"seat": seat, "form": form})
    return render(
        request,
        "registrations/order_detail.html",
        {
            "order": order,
            "workshop": order.workshop,
            "overview": overview,
            "rows": rows,
            "po_form": po_form or PONumberForm(initial={"po_number": order.po_number}),
            "grow_form": grow_form or AddSeatsForm(initial={"payment_method": order.payment_method, **_billing_initial(order)}),
            "invoice_hold_days": invoice_hold_days(),
            "addition_prices": (
                addition_prices(order=order, tiers=order.workshop.tier_list) if overview.can_add_seats else []
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
    else:
        messages.success(request, "Purchase-order number saved." if form.cleaned_data["po_number"] else "Purchase-order number removed.")
    return redirect(f"{order.get_absolute_url()}#po-number")


@require_POST
def order_add_seats(request: HttpRequest, token: str) -> HttpResponse:
    """The lead of a paid order adds seats and pays the difference, by card or invoice."""
    order = _order_or_404(token)
    form = AddSeatsForm(request.POST)
    if not form.is_valid():
        return _render_order(request, order, grow_form=form, status=400)
    try:
        addition = place_addition(
            order=order,
            extra_seats=form.cleaned_data["extra_seats"],
            billing=form.billing_details() if form.wants_invoice else None,
        )
    except NotEnoughSeatsError as exc:
        form.add_error("extra_seats", str(exc))
        return _render_order(request, order, grow_form=form, status=400)
    except NoPriceError:
        form.add_error("extra_seats", "This number of seats cannot be bought online; please contact us.")
        return _render_order(request, order, grow_form=form, status=400)
    except RegistrationError as exc:
        if getattr(exc, "field", None) == "extra_seats":
            form.add_error("extra_seats", str(exc))
            return _render_order(request, order, grow_form=form, status=400)
        # Not about what was typed (unpaid, closed, an addition awaiting payment): say so at the top.
        messages.error(request, str(exc))
        return redirect(f"{order.get_absolute_url()}#add-seats")
    return _go_to_checkout(request, addition)


@require_POST
def order_cancel_addition(request: HttpRequest, token: str) -> HttpResponse:
    """The lead withdraws seats they added but have not paid for."""
    order = _order_or_404(token)
    if cancel_addition(order=order):
        messages.info(request, "The seats you were adding have been released, and their payment cancelled.")
    return redirect(f"{order.get_absolute_url()}#add-seats")


@require_POST
def order_seat_change(request: HttpRequest, token: str, position: int) -> HttpResponse:
    """The lead's per-seat form: name, correct, or hand the seat to a colleague."""
    order = _order_or_404(token)
    try:
        seat = active_seat_of_order(order=order, position=position)
    except Seat.DoesNotExist:
        raise Http404("No such seat") from None
    back = f"{order.get_absolute_url()}#seat-{seat.position}"
    try:
        ensure_seat_changes_open(order=order)
    except SeatChangeError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    form = SeatChangeForm(request.POST, seat=seat)
    if not form.is_valid():
        return _render_order(request, order, bound=form, status=400)
    try:
        changed = change_seat(
            seat=seat, name=form.cleaned_data["name"], email=form.cleaned_data["email"], new_person=form.is_new_person
        )
    except SeatChangeError as exc:
        if exc.field is None:
            messages.error(request, str(exc))
            return redirect(back)
        form.add_error(exc.field, str(exc))
        return _render_order(request, order, bound=form, status=400)
    if changed.attendee_email.lower() != seat.attendee_email.lower():
        messages.success(request, f"Seat {seat.position} saved. We have emailed {changed.attendee_name} their own link.")
    else:
        messages.success(request, f"Seat {seat.position} saved.")
    return redirect(back)


@require_GET
def checkout_success(request: HttpRequest, token: str) -> HttpResponse:
    """Stripe's success redirect: confirm with Stripe directly so a slow webhook never shows 'pending'."""
    order = _order_or_404(token)
    session_id = request.GET.get("session_id", "")
    if (
        order.status in (Order.Status.PENDING, Order.Status.PROCESSING, Order.Status.EXPIRED, Order.Status.CANCELLED)
        and session_id
        and session_id == order.stripe_checkout_session_id
        and not stripe_client.is_test_payment_mode()
    ):
        try:
            session = stripe_client.retrieve_checkout_session(session_id)
        except stripe_client.PaymentProviderError:
            session = None
        if session and session.client_reference_id == order.reference:
            if session.payment_status in ("paid", "no_payment_required"):
                fulfil_order(order=order, payment_intent_id=session.payment_intent_id, checkout_session_id=session.id)
            elif session.status == "complete":
                mark_processing(order=order, checkout_session_id=session.id)
    return redirect(order.get_absolute_url())


@require_GET
def checkout_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """The buyer left Stripe Checkout: free the seats now and bring back what they typed."""
    order = _order_or_404(token)
    if cancel_order(order=order):
        messages.info(request, "Payment cancelled and your seats released. Your details are below if you want to try again.")
        order.refresh_from_db()
    if order.status in (Order.Status.CANCELLED, Order.Status.EXPIRED) and not order.parent_id:
        return redirect(f"{reverse('registrations:register', kwargs={'slug': order.workshop.slug})}?from={order.token}")
    return redirect(order.get_absolute_url())


def test_payment(request: HttpRequest, token: str) -> HttpResponse:
    """Stand-in for Stripe's payment page when no Stripe key is configured (a fresh machine)."""
    if not stripe_client.is_test_payment_mode():
        raise Http404("Test payments are off")
    order = _order_or_404(token)
    if order.status != Order.Status.PENDING:
        return redirect(order.get_absolute_url())
    if request.method == "POST":
        # Fulfil through the very webhook path a real Stripe payment takes.
        payload, signature = stripe_client.signed_test_event(
            event_type="checkout.session.completed",
            data_object={
                "id": order.stripe_checkout_session_id,
                "object": "checkout.session",
                "client_reference_id": order.reference,
                "metadata": {"order_reference": order.reference},
                "payment_status": "paid",
                "status": "complete",
                "amount_total": order.total_cents,
                "payment_intent": f"pi_local_{order.reference}",
            },
        )
        webhooks.handle_webhook(payload=payload, signature=signature)
        messages.success(request, "Test payment received.")
        return redirect(order.get_absolute_url())
    return render(request, "registrations/test_payment.html", {"order": order, "workshop": order.workshop})


def test_invoice(request: HttpRequest, token: str) -> HttpResponse:
    """Stand-in for Stripe's hosted invoice page when no Stripe key is configured."""
    order = _order_or_404(token)
    if not stripe_client.is_local_invoice(order.stripe_invoice_id):
        raise Http404("No test invoice")
    if request.method == "POST" and order.status == Order.Status.PENDING:
        # Paid through the very webhook path Stripe's `invoice.paid` takes.
        payload, signature = stripe_client.signed_test_event(
            event_type="invoice.paid",
            data_object={
                "id": order.stripe_invoice_id,
                "object": "invoice",
                "status": "paid",
                "number": order.invoice_number,
                "metadata": {"order_reference": order.reference},
                "amount_paid": order.total_cents,
            },
        )
        webhooks.handle_webhook(payload=payload, signature=signature)
        messages.success(request, "Test invoice paid.")
        return redirect(order.get_absolute_url())
    if request.method == "POST":
        return redirect(order.get_absolute_url())
    return render(request, "registrations/test_invoice.html", {"order": order, "workshop": order.workshop})


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        outcome = webhooks.handle_webhook(payload=request.body, signature=request.headers.get("Stripe-Signature"))
    except webhooks.InvalidWebhookError as exc:
        logger.warning("Rejected a Stripe webhook: %s", exc)
        return HttpResponseBadRequest("invalid webhook", content_type="text/plain")
    except Exception:
        # Nothing was recorded (one transaction), so Stripe's redelivery will process it afresh.
        logger.exception("Stripe webhook processing failed; Stripe will retry")
        return HttpResponse("processing failed, please retry", status=500, content_type="text/plain")
    return HttpResponse(outcome, content_type="text/plain")


@require_POST
def seat_alert(request: HttpRequest, slug: str) -> HttpResponse:
    workshop = get_object_or_404(catalog_with_availability(), slug=slug)
    form = SeatAlertForm(request.POST)
    if form.is_valid():
        add_seat_alert(workshop=workshop, email=form.cleaned_data["email"])
        messages.success(request, "Thank you. We will email you as soon as seats open up.")
        return redirect("registrations:register", slug=workshop.slug)
    return _registration_closed(
        request, workshop, workshop.registration_state(), workshop.seats_left, alert_form=form, status=400
    )


def _seat_or_404(token: str) -> Seat:
    try:
        return seat_for_token(token)
    except Seat.DoesNotExist:
        raise Http404("No such seat") from None


@require_GET
def seat_detail(request: HttpRequest, token: str) -> HttpResponse:
    seat = _seat_or_404(token)
    overview = seat_overview(seat=seat)
    return render(
        request,
        "registrations/seat_detail.html",
        {"seat": seat, "order": seat.order, "workshop": seat.order.workshop, "overview": overview},
    )


@require_POST
def seat_prework(request: HttpRequest, token: str, module_id: int) -> HttpResponse:
    seat = _seat_or_404(token)
    try:
        module = prework_module_for_seat(seat=seat, module_id=module_id)
    except ObjectDoesNotExist:
        raise Http404("No such module") from None
    form = PreworkMarkForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Use the “Mark as done” or “Undo” button.", content_type="text/plain")
    try:
        set_prework_done(seat=seat, module=module, done=form.cleaned_data["done"])
    except PreworkError as exc:
        messages.error(request, str(exc))
    return redirect(f"{seat.get_absolute_url()}#module-{module.pk}")


def _ics_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def seat_calendar(request: HttpRequest, token: str) -> HttpResponse:
    """Every session of the seat's workshop as one calendar file."""
    seat = _seat_or_404(token)
    sessions = seat.order.workshop.session_list
    return _ics_response(ics.seat_calendar(seat=seat, sessions=sessions), f"{seat.order.workshop.slug}.ics")


@require_GET
def seat_session_calendar(request: HttpRequest, token: str, number: int) -> HttpResponse:
    seat = _seat_or_404(token)
    try:
        session = session_for_seat(seat=seat, number=number)
    except ObjectDoesNotExist:
        raise Http404("No such session") from None
    return _ics_response(
        ics.seat_calendar(seat=seat, sessions=[session]), f"{seat.order.workshop.slug}-session-{number}.ics"
    )


@require_GET
def seat_certificate(request: HttpRequest, token: str) -> HttpResponse:
    """The attendee's certificate PDF, issued the first time they ask once they have completed everything."""
    seat = _seat_or_404(token)
    try:
        certificate = issue_certificate(seat=seat)
    except CertificateError as exc:
        messages.error(request, str(exc))
        return redirect(f"{seat.get_absolute_url()}#certificate")
    response = HttpResponse(certificates.certificate_pdf(certificate=certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.code}.pdf"'
    return response


@require_GET
def certificate_verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public check of a verification code. A revoked certificate answers 410 and says so."""
    try:
        certificate = certificate_for_code(code)
    except Certificate.DoesNotExist:
        raise Http404("No such certificate") from None
    workshop = certificate.seat.order.workshop
    return render(
        request,
        "registrations/certificate_verify.html",
        {
            "certificate": certificate,
            "workshop": workshop,
            "dates": certificates.session_dates(workshop, workshop.session_list),
            "site_name": settings.SITE_NAME,
        },
        status=410 if certificate.is_revoked else 200,
    )
