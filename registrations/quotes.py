"""The PDF quote a district office attaches to its purchase-order request."""

import io

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from workshops.site import site_url
from workshops.templatetags.workshop_tags import usd

from .certificates import INK, TEAL, _font_for, session_dates
from .models import Quote


def quote_document(*, quote: Quote) -> bytes:
    """One page: who it is for, what is quoted, the figures, and how to order against it.

    Page compression is off so the figures stay searchable as plain bytes (tests read them).
    """
    workshop = quote.workshop
    tz = workshop.tz
    buffer = io.BytesIO()
    width, height = letter
    c = canvas.Canvas(buffer, pagesize=letter, pageCompression=0)
    c.setTitle(f"Quote {quote.reference}")
    c.setAuthor(settings.SITE_NAME)

    def line(text: str, y: float, size: float = 11, font: str = "Helvetica", x: float = 72, colour=INK) -> None:
        c.setFont(_font_for(text, font), size)
        c.setFillColor(colour)
        c.drawString(x, y, text)

    def right(text: str, y: float, size: float = 11, font: str = "Helvetica") -> None:
        c.setFont(_font_for(text, font), size)
        c.setFillColor(INK)
        c.drawRightString(width - 72, y, text)

    line(settings.SITE_NAME, height - 72, 16, "Helvetica-Bold", colour=TEAL)
    line("Quote", height - 110, 26, "Helvetica-Bold")
    issued = timezone.localtime(quote.created_at, tz)
    valid = timezone.localtime(quote.valid_until, tz)
    line(f"Reference: {quote.reference}", height - 140)
    line(f"Date: {issued:%B} {issued.day}, {issued.year}", height - 156)
    line(f"Valid until: {valid:%B} {valid.day}, {valid.year}", height - 172)

    line("Prepared for", height - 210, 12, "Helvetica-Bold")
    line(quote.organisation, height - 228)
    line(f"{quote.contact_name} <{quote.contact_email}>", height - 244)

    line("Workshop", height - 282, 12, "Helvetica-Bold")
    line(workshop.title, height - 300)
    dates = session_dates(workshop, workshop.session_list)
    line(
        f"{workshop.prework_hours} hours of pre-work, then {workshop.live_hours} hours live on {workshop.platform}"
        + (f": {dates}" if dates else ""),
        height - 316,
        10,
    )

    y = height - 360
    c.setStrokeColor(TEAL)
    c.line(72, y + 16, width - 72, y + 16)
    tier = "team price" if quote.tier_min_seats > 1 else "standard price"
    line(f"{quote.seat_count} seat{'s' if quote.seat_count != 1 else ''} × {usd(quote.unit_price_cents)} ({tier})", y)
    right(usd(quote.subtotal_cents), y)
    if quote.discount_cents:
        y -= 20
        code = quote.voucher.code if quote.voucher_id else "discount"
        line(f"Code {code}", y)
        right(f"-{usd(quote.discount_cents)}", y)
    y -= 26
    c.line(72, y + 16, width - 72, y + 16)
    line("Total (USD)", y, 13, "Helvetica-Bold")
    right(usd(quote.total_cents), y, 13, "Helvetica-Bold")

    register = reverse("registrations:register", kwargs={"slug": workshop.slug})
    y -= 50
    line("To order against this quote", y, 12, "Helvetica-Bold")
    line(f"Register at {site_url()}{register}?quote={quote.reference}", y - 18, 10)
    line("and choose to pay by card or by invoice; add your purchase-order number to the order.", y - 32, 10)
    line("Prices are per participant and include all pre-work materials and both live sessions.", y - 46, 10)
    c.showPage()
    c.save()
    return buffer.getvalue()
