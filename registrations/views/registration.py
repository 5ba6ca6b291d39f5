"""The registration form: one person or a team, price preview, quotes, and the sold-out seat alert."""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from guard import ratelimit
from guard.ratelimit import RateLimitedError
from registrations.errors import (
    InvoiceHoldError,
    NetworkHoldLimitError,
    NotEnoughSeatsError,
    RegistrationError,
    SameSubmissionError,
    VoucherError,
)
from registrations.selectors.availability import (
    catalog_with_availability,
    invoice_seat_allowance,
    invoice_seats_available,
    price_for,
    seats_taken,
    with_seat_counts,
)
from registrations.selectors.codes import valid_quote
from registrations.selectors.order_pages import (
    TOKEN_PATTERN,
    existing_order_for,
)
from registrations.services.checkout import (
    AttendeeData,
    add_seat_alert,
    complete_free_order,
    place_order,
)
from registrations.services.duplicates import browser_knows, notify_second_registration, remember_time_zone
from registrations.services.invoices import (
    invoice_hold_days,
    place_invoice_order,
)
from registrations.services.vouchers import check_minimum_charge, check_voucher, code_discount, create_quote
from workshops.selectors import NoPriceError, catalog_workshop_or_404

from ..forms import (
    AttendeeFormSet,
    PaymentForm,
    RegistrationForm,
    SeatAlertForm,
)
from ..models import Order
from ..quotes import quote_document
from ..stripe import client as stripe_client
from .affinity import record_buyer_choice, registration_affinity_form
from .payment import _go_to_checkout
from .prefill import (
    attendee_rows,
    filled_rows,
    initial_from_order,
    initial_from_quote,
    posted_rows,
    posted_seat_count,
)


def register(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "POST" and "update" not in request.POST and "download_quote" not in request.POST:
        return _submit_registration(request, slug)
    workshop = with_seat_counts(catalog_workshop_or_404(slug))
    seats_left = workshop.seats_left
    state = workshop.registration_state()
    if state != "open" or seats_left == 0:
        return _registration_closed(request, workshop, state, seats_left)

    if request.method == "POST" and "download_quote" in request.POST:
        form = RegistrationForm(request.POST, seats_left=seats_left)
        formset = AttendeeFormSet(request.POST, prefix="attendees")
        payment_form = PaymentForm(request.POST)  # a quote needs no payment choice
        valid = form.is_valid() and formset.is_valid()
        if valid and _within_limit(request, form, "quote", [form.cleaned_data["buyer_email"]]):
            response = _quote_pdf(workshop, form)
            if response is not None:
                return response
    else:
        if request.method == "POST":  # "Update total" without JavaScript: show the new rows and price, no errors yet.
            initial, rows = request.POST.dict(), posted_rows(request.POST)
            initial["buyer_attends"] = "buyer_attends" in request.POST
        elif request.GET.get("from"):
            token = request.GET["from"]
            previous = (
                Order.objects.filter(token=token, workshop=workshop).first()
                if TOKEN_PATTERN.fullmatch(token)
                else None
            )
            initial, rows = (initial_from_order(previous) if previous else {}), []
        elif request.GET.get("quote"):
            initial, rows = initial_from_quote(workshop, request.GET["quote"]), []
        else:
            initial, rows = {}, []
        # ?from= adds a note to the attendees part, even when the order it names is not found: not blank.
        blank = request.method == "GET" and not initial and "from" not in request.GET
        seat_count = posted_seat_count(initial) or 1
        buyer_attends = initial.get("buyer_attends", True) in (True, "on", "true", "True")
        if request.method != "POST" or not str(initial.get("seat_count") or "").strip():
            initial["seat_count"] = seat_count  # "Update total" keeps a count typed, flagged below when it is wrong
        initial["buyer_attends"] = buyer_attends
        wanted = attendee_rows(min(seat_count, seats_left), buyer_attends)
        rows = (rows + [{}] * wanted)[:max(wanted, filled_rows(rows))]  # never drop a name typed
        form = RegistrationForm(initial=initial, seats_left=seats_left)
        if request.method == "POST":
            form.flag_seat_count(request.POST.get("seat_count", ""))
        formset = AttendeeFormSet(initial=rows, prefix="attendees")
        payment_form = PaymentForm(initial={k: v for k, v in initial.items() if k in PaymentForm.base_fields and v})
        if blank:
            return _registration_page(request, workshop, seats_left, form, formset, payment_form, blank=True)
    return _registration_page(request, workshop, seats_left, form, formset, payment_form)


def _submit_registration(request: HttpRequest, slug: str) -> HttpResponse:
    """Place the order and go to payment, or show the form again with what went wrong.

    The seat count that decides is taken in place_order, under the workshop's row lock;
    this view counts seats itself only when the form has to come back, so a registration that
    goes through counts them once (the hot path of a registration rush).
    """
    workshop = catalog_workshop_or_404(slug)
    form = RegistrationForm(request.POST)
    formset = AttendeeFormSet(request.POST, prefix="attendees")
    payment_form = PaymentForm(request.POST)
    affinity_form = registration_affinity_form(request, workshop, validate=True)
    valid = all([form.is_valid(), formset.is_valid(), payment_form.is_valid(), affinity_form is None or affinity_form.is_valid()])
    if valid and workshop.registration_state() == "open":
        response = _place_and_pay(request, workshop, form, formset, payment_form, affinity_form)
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
    return _registration_page(request, workshop, seats_left, form, formset, payment_form, affinity_form)


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


def _within_limit(request, form, scope: str, emails: list[str]) -> bool:
    """Count a use of a form that writes rows or sends email; past the limit, say so above the form."""
    try:
        ratelimit.check(request, scope=scope, emails=emails)
    except RateLimitedError as exc:
        form.add_error(None, str(exc))
        form.rate_limited = True
        return False
    return True


def _registration_page(
    request, workshop, seats_left: int, form, formset, payment_form, affinity_form=None, extra: dict | None = None, *, blank: bool = False
) -> HttpResponse:
    form.show_team_price(workshop.team_tier)
    # A blank form renders the same for every visitor of this workshop while its seat limit, seats left (when
    # fewer than one order may hold), price hint and invoice rules stay the same: the template keeps that
    # rendering (most of the page's cost) for a while, under a key naming each of them.
    seat_field = form.fields["seat_count"]
    rules = invoice_rules(workshop)
    blank_form_key = (
        "|".join(str(part) for part in (
            workshop.pk, workshop.capacity, seat_field.max_value, form.seats_left, seat_field.help_text,
            rules["hold_days"], rules["allowance"], rules["available"], rules["percent"],
        ))
        if blank else None
    )
    data = form.data if form.is_bound else form.initial
    seat_count = posted_seat_count(data) or 1
    tiers = workshop.tier_list
    from_quote = valid_quote(workshop=workshop, reference=str(data.get("quote_reference") or ""))
    # A count refused beside the field (nothing typed, "two", 0; "Update total" flags it too) gets no total beside it.
    seat_problem = form.errors["seat_count"][0] if form.errors.get("seat_count") else form.seat_count_problem(seat_count)
    try:
        # No total for a seat count that cannot be bought: the message beside the field says why.
        quote = None if seat_problem else price_for(tiers=tiers, seat_count=seat_count, quote=from_quote)
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
            "invoice_rules": rules,
            "card_hold_seats_per_network": settings.CHECKOUT_HOLD_SEATS_PER_NETWORK,
            "affinity_form": affinity_form if affinity_form is not None else registration_affinity_form(request, workshop),
            "seat_problem": seat_problem,
            **(extra or {}),
            "blank_form_key": blank_form_key,
        },
        status=429 if getattr(form, "rate_limited", False) else (
            400
            if form.is_bound and (form.errors or formset.total_error_count() or payment_form.errors or _has_errors(affinity_form))
            else 200
        ),
    )


def invoice_rules(workshop) -> dict:
    """What the form tells a district about paying by invoice (the rules are check_invoice_hold's).

    The seats an invoice can hold just now are named only when fewer than one order may hold: more change nothing
    for any order, and the figure, which moves with every registration, would make a new kept copy of the blank
    form each time (as the seats left would: RegistrationForm.show_seats_left).
    """
    allowance, available = invoice_seat_allowance(workshop), invoice_seats_available(workshop=workshop)
    return {
        "hold_days": invoice_hold_days(),
        "allowance": allowance,
        "available": available if available < min(allowance, settings.MAX_SEATS_PER_ORDER) else None,
        "percent": workshop.invoice_hold_percent,
    }


def _has_errors(form) -> bool:
    return form is not None and form.is_bound and bool(form.errors)


def _attendees(data: dict, formset) -> list[AttendeeData]:
    """The buyer (when attending) then every attendee row filled in, in the order typed."""
    rows = [f.cleaned_data for f in formset.forms if f.has_changed() and not f.is_blank]
    if data["buyer_attends"]:
        # The form's own access-needs fields are the buyer's.
        rows.insert(0, {**data, "name": data["buyer_name"], "email": data["buyer_email"]})
    return [
        AttendeeData(
            name=row["name"],
            email=row["email"],
            needs_captions=row["needs_captions"],
            needs_interpreter=row["needs_interpreter"],
            access_note=row["access_note"],
        )
        for row in rows
    ]


def _already_registered(request, workshop, form, formset, payment_form, affinity_form=None) -> tuple[Order | None, HttpResponse | None]:
    """The order this email already has for the workshop, and the page offering it, shown only to
    the browser that holds that order (see services/duplicates.py)."""
    existing = existing_order_for(workshop_id=workshop.pk, email=form.cleaned_data["buyer_email"])
    if existing is None or not browser_knows(session=request.session, order=existing):
        return existing, None
    if request.POST.get("separate_from") == existing.reference:
        return None, None  # they saw it and chose a separate registration
    workshop.seats_taken = seats_taken(workshop_id=workshop.pk)
    form.show_seats_left(workshop.seats_left)
    extra = {"existing_order": existing, "wanted_seats": form.cleaned_data["seat_count"]}
    return existing, _registration_page(
        request, workshop, workshop.seats_left, form, formset, payment_form, affinity_form, extra=extra
    )


def _place_and_pay(request, workshop, form, formset, payment_form, affinity_form=None) -> HttpResponse | None:
    data = form.cleaned_data
    existing, offer = _already_registered(request, workshop, form, formset, payment_form, affinity_form)
    if offer is not None:
        return offer
    attendees = _attendees(data, formset)
    if len(attendees) > data["seat_count"]:
        form.add_error(
            "seat_count",
            f"You named {len(attendees)} attendees but chose {data['seat_count']} seats. Add seats or remove a name.",
        )
        return None
    # Card checkouts from one network may hold only so many seats at once: the network is kept as a keyed hash.
    place, extra = place_order, {"hold_source": ratelimit.address_key(request, purpose="hold_source")}
    if payment_form.wants_invoice:
        # An invoice request creates a Stripe customer and invoice and emails the billing contact.
        billing = payment_form.billing_details()
        if not _within_limit(request, form, "invoice_request", [data["buyer_email"], billing.email]):
            return None
        place, extra = place_invoice_order, {"billing": billing}
    try:
        order = place(
            **extra,
            submission_key=_submission_key(request),
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
    except SameSubmissionError as exc:
        return _continue_placed(request, exc.order_id)
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
    except NetworkHoldLimitError as exc:
        form.add_error("seat_count", str(exc))
        return None
    except InvoiceHoldError as exc:
        payment_form.add_error("payment_method", str(exc))
        return None
    except NoPriceError:
        form.add_error("seat_count", "This number of seats cannot be bought online; please contact us.")
        return None
    except RegistrationError as exc:
        form.add_error(None, str(exc))
        return None
    record_buyer_choice(order, affinity_form)
    remember_time_zone(order=order, zone=data["time_zone"])
    if existing is not None:
        notify_second_registration(existing=existing, new_order=order)
    if order.total_cents == 0:
        complete_free_order(order=order)
        messages.success(request, "Your code covers the whole registration, so there is nothing to pay. You're registered.")
        return redirect(order.get_absolute_url())
    return _go_to_checkout(request, order, just_placed=True)


def _submission_key(request) -> str:
    """The registration page being sent, and what was filled in on it: the page is named by its form's CSRF token
    (Django masks the token afresh for every page it renders, and the page cache hands each visitor a fresh one), so
    two presses on one page share it and no two pages do; a page sent again with other answers (back from Stripe, one
    more seat) is a registration of its own. Kept only as a one-way hash. Empty without a token (not deduplicated)."""
    token = request.POST.get("csrfmiddlewaretoken", "")
    if not token:
        return ""
    answers = sorted((name, values) for name, values in request.POST.lists() if name != "csrfmiddlewaretoken")
    return hashlib.sha256(repr(("registration-page", token, answers)).encode()).hexdigest()


def _continue_placed(request, order_id: int) -> HttpResponse:
    """This page placed its order already (a second press while Stripe answered the first, or the page sent again from
    the browser's history): the buyer goes on with that order, to its payment or, once paid, to its page."""
    order = Order.objects.select_related("workshop").get(pk=order_id)
    if order.status != Order.Status.PENDING or order.total_cents == 0:
        return redirect(order.get_absolute_url())  # paid, or free and being confirmed by the first press
    if order.payment_method == Order.PaymentMethod.INVOICE and order.invoice_status != Order.InvoiceStatus.OPEN:
        # The first press may still be issuing the invoice at Stripe; its page offers "Send the invoice" if that failed.
        return redirect(order.get_absolute_url())
    return _go_to_checkout(request, order)


def _discount_preview(workshop, quote, code: str) -> dict | None:
    """What a code would take off, for the price summary; the order itself is priced in place_order."""
    code = code.strip()
    if not code or quote is None:
        return None
    try:
        voucher = check_voucher(code=code, workshop=workshop)
        off, covered = code_discount(voucher=voucher, quote=quote)
        check_minimum_charge(total_cents=quote.total_cents - off, voucher=voucher)
    except VoucherError as exc:
        return {"error": str(exc)}
    return {
        "code": voucher.code, "description": voucher.description, "cents": off, "total_cents": quote.total_cents - off,
        "covered_seats": covered if covered < quote.seat_count else None,
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
    except RegistrationError as exc:
        form.add_error(None, str(exc))
        return None
    except NoPriceError:
        form.add_error("seat_count", "This number of seats cannot be quoted online; please contact us.")
        return None
    response = HttpResponse(quote_document(quote=quote), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="quote-{quote.reference}.pdf"'
    return response


@require_POST
def seat_alert(request: HttpRequest, slug: str) -> HttpResponse:
    workshop = get_object_or_404(catalog_with_availability(), slug=slug)
    form = SeatAlertForm(request.POST)
    if form.is_valid() and _within_limit(request, form, "seat_alert", [form.cleaned_data["email"]]):
        add_seat_alert(workshop=workshop, email=form.cleaned_data["email"])
        # The same words whether or not this address had asked before.
        messages.success(request, "Thank you. We will email you as soon as seats open up.")
        return redirect("registrations:register", slug=workshop.slug)
    return _registration_closed(
        request, workshop, workshop.registration_state(), workshop.seats_left, alert_form=form,
        status=429 if getattr(form, "rate_limited", False) else 400,
    )
