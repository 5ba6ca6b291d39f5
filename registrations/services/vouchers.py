"""Discount and scholarship codes, and the price quotes a purchase-order request is based on."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from registrations.selectors.codes import voucher_seats_left, voucher_used_up
from workshops.templatetags.workshop_tags import usd
from workshops.models import Workshop
from workshops.selectors import PriceQuote, quote_for

from ..errors import RegistrationError, VoucherError
from ..models import (
    Quote,
    Voucher,
    new_voucher_code,
)


def _usable_voucher(*, code: str, workshop: Workshop, now: datetime, lock: bool) -> Voucher:
    code = code.strip()
    if len(code) > 40 or not code.isprintable():
        raise VoucherError("This code is not valid. Check it and try again, or leave the box empty.")
    vouchers = Voucher.objects.select_for_update() if lock else Voucher.objects
    voucher = vouchers.filter(code=code.strip().upper()).first()
    if voucher is None or not voucher.is_active:
        raise VoucherError("This code is not valid. Check it and try again, or leave the box empty.")
    if voucher.workshop_id and voucher.workshop_id != workshop.pk:
        raise VoucherError("This code is for a different workshop.")
    if voucher.valid_from and now < voucher.valid_from:
        raise VoucherError(f"This code can be used from {timezone.localtime(voucher.valid_from, workshop.tz):%B %-d, %Y}.")
    if voucher.valid_until and now >= voucher.valid_until:
        raise VoucherError(f"This code expired on {timezone.localtime(voucher.valid_until, workshop.tz):%B %-d, %Y}.")
    if voucher_used_up(voucher=voucher, now=now):
        raise VoucherError("This code has already been used for every seat it covers.")
    return voucher


def code_discount(*, voucher: Voucher, quote: PriceQuote, now: datetime | None = None) -> tuple[int, int]:
    """What a code takes off these seats, and how many of them it covers: a code covers `max_seats` seats in all,
    so a team order uses as many of them as are left and pays the rest in full. Returns (discount, covered)."""
    left = voucher_seats_left(voucher=voucher, now=now)
    covered = quote.seat_count if left is None else min(quote.seat_count, left)
    discount = voucher.discount_cents(subtotal_cents=quote.total_cents, seat_count=quote.seat_count, covered_seats=covered)
    return discount, covered


def claim_voucher(*, code: str, workshop: Workshop, now: datetime) -> Voucher:
    # Called inside place_order's transaction: the voucher row stays locked until the
    # order holding it commits, so a code with one use left is never used twice.
    return _usable_voucher(code=code, workshop=workshop, now=now, lock=True)


def check_minimum_charge(*, total_cents: int, voucher: Voucher | None = None) -> None:
    """Refuse a total Stripe cannot charge: more than nothing, but under its minimum card charge.

    Raises VoucherError (a code brought it down there) or RegistrationError.
    """
    minimum = settings.STRIPE_MINIMUM_CHARGE_CENTS
    if 0 < total_cents < minimum:
        message = (
            f"the total would be {usd(total_cents)}, less than the smallest card payment we can take ({usd(minimum)})."
        )
        if voucher is not None:
            raise VoucherError(
                f"With code {voucher.code} {message} Register without the code, or ask us for one that covers the whole registration."
            )
        raise RegistrationError(f"For this order {message} Please contact us.")


def check_voucher(*, code: str, workshop: Workshop, now: datetime | None = None) -> Voucher:
    """Look a code up for a price preview or a quote. Raises VoucherError."""
    return _usable_voucher(code=code, workshop=workshop, now=now or timezone.now(), lock=False)


def create_quote(
    *,
    workshop: Workshop,
    contact_name: str,
    contact_email: str,
    organisation: str,
    seat_count: int,
    voucher_code: str = "",
    now: datetime | None = None,
) -> Quote:
    """Price seats for a purchase-order request, valid for QUOTE_VALID_DAYS or until registration closes.

    Raises NoPriceError, VoucherError, RegistrationError.
    """
    now = now or timezone.now()
    price = quote_for(tiers=workshop.tier_list, seat_count=seat_count)
    voucher = check_voucher(code=voucher_code, workshop=workshop, now=now) if voucher_code.strip() else None
    discount = code_discount(voucher=voucher, quote=price, now=now)[0] if voucher else 0
    check_minimum_charge(total_cents=price.total_cents - discount, voucher=voucher)
    valid_until = now + timedelta(days=settings.QUOTE_VALID_DAYS)
    closes = workshop.registration_closes()
    if closes and closes < valid_until:
        valid_until = closes
    return Quote.objects.create(
        workshop=workshop,
        contact_name=contact_name,
        contact_email=contact_email,
        organisation=organisation,
        seat_count=seat_count,
        unit_price_cents=price.unit_price_cents,
        tier_min_seats=price.tier_min_seats,
        subtotal_cents=price.total_cents,
        discount_cents=discount,
        voucher=voucher,
        total_cents=price.total_cents - discount,
        valid_until=valid_until,
    )


def generate_vouchers(
    *,
    count: int,
    prefix: str,
    label: str,
    kind: str,
    percent_off: int | None,
    amount_off_cents: int | None,
    applies_to: str,
    workshop: Workshop | None,
    valid_until: datetime | None,
) -> list[Voucher]:
    """Create a batch of scholarship codes, each unguessable and covering one seat. Raises ValueError."""
    if not 1 <= count <= 500:
        raise ValueError("Generate between 1 and 500 codes at a time.")
    prefix = "".join(ch for ch in prefix.upper() if ch.isalnum())[:12]
    with transaction.atomic():
        vouchers = []
        while len(vouchers) < count:
            code = new_voucher_code(prefix)
            if Voucher.objects.filter(code=code).exists() or any(v.code == code for v in vouchers):
                continue
            vouchers.append(
                Voucher(
                    code=code,
                    label=label,
                    kind=kind,
                    percent_off=percent_off if kind == Voucher.Kind.PERCENT else None,
                    amount_off_cents=amount_off_cents if kind == Voucher.Kind.FIXED else None,
                    applies_to=applies_to,
                    workshop=workshop,
                    valid_until=valid_until,
                    max_seats=1,
                )
            )
        Voucher.objects.bulk_create(vouchers)
    return vouchers
