"""The PDF quote a district office attaches to its purchase-order request."""

import io

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from reportlab.lib.pagesizes import letter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from workshops.context_processors import supplier_details
from workshops.schedule import session_when
from workshops.site import site_url
from workshops.templatetags.workshop_tags import usd

from .certificates import INK, TEAL, _font_for
from .models import Quote


MARGIN = 72


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of `text` no wider than `width` points; a word longer than a line (a URL) is cut where it must be."""
    lines, current = [], ""
    for word in text.split(" "):
        candidate = f"{current} {word}".strip()
        if pdfmetrics.stringWidth(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while pdfmetrics.stringWidth(current, font, size) > width:
            cut = len(current)
            while cut > 1 and pdfmetrics.stringWidth(current[:cut], font, size) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    return lines


def quote_document(*, quote: Quote) -> bytes:
    """One page: the supplier, who it is for, what is quoted with its dates, the figures, and how to order.

    Every line is wrapped to stay inside the 1-inch margins. Page compression is off so the
    figures stay searchable as plain bytes (tests read them).
    """
    workshop = quote.workshop
    tz = workshop.tz
    buffer = io.BytesIO()
    width, height = letter
    text_width = width - 2 * MARGIN
    c = canvas.Canvas(buffer, pagesize=letter, pageCompression=0)
    c.setTitle(f"Quote {quote.reference}")
    c.setAuthor(settings.SITE_NAME)
    y = height - MARGIN

    def para(text: str, size: float = 11, font: str = "Helvetica", colour=INK, gap: float = 4) -> None:
        nonlocal y
        font = _font_for(text, font)
        c.setFont(font, size)
        c.setFillColor(colour)
        for piece in wrap(text, font, size, text_width):
            y -= size  # y is the top of the next line; the text sits on its baseline below
            c.drawString(MARGIN, y, piece)
            y -= gap

    def figure(label: str, amount: str, size: float = 11, font: str = "Helvetica") -> None:
        nonlocal y
        font_used = _font_for(label, font)
        c.setFont(font_used, size)
        c.setFillColor(INK)
        for piece in wrap(label, font_used, size, text_width - 110):
            y -= size
            c.drawString(MARGIN, y, piece)
            baseline = y
            y -= 4
        c.drawRightString(width - MARGIN, baseline, amount)

    supplier = supplier_details()
    para(supplier["legal_name"], 16, "Helvetica-Bold", TEAL)
    for line in supplier["address_lines"]:
        para(line, 9, gap=2)
    if supplier["tax_id"]:
        para(f"Tax ID: {supplier['tax_id']}", 9, gap=2)
    para(supplier["contact_email"], 9, gap=2)
    y -= 14
    para("Quote", 26, "Helvetica-Bold")
    issued = timezone.localtime(quote.created_at, tz)
    valid = timezone.localtime(quote.valid_until, tz)
    para(f"Reference: {quote.reference}")
    para(f"Date: {issued:%B} {issued.day}, {issued.year}")
    para(f"Valid until: {valid:%B} {valid.day}, {valid.year}")
    y -= 12
    para("Prepared for", 12, "Helvetica-Bold")
    para(quote.organisation)
    para(f"{quote.contact_name} <{quote.contact_email}>")
    y -= 12
    para("Workshop", 12, "Helvetica-Bold")
    para(workshop.title)
    para(f"{workshop.prework_hours} hours of pre-work at your own pace, then {workshop.live_hours} hours live.", 10)
    for session in workshop.session_list:
        para(f"{session.title}: {session_when(session, workshop.time_zone)}, on {workshop.platform}", 10)
    y -= 16
    c.setStrokeColor(TEAL)
    c.line(MARGIN, y, width - MARGIN, y)
    y -= 6
    tier = "team price" if quote.tier_min_seats > 1 else "standard price"
    figure(f"{quote.seat_count} seat{'s' if quote.seat_count != 1 else ''} × {usd(quote.unit_price_cents)} ({tier})", usd(quote.subtotal_cents))
    if quote.discount_cents:
        code = quote.voucher.code if quote.voucher_id else "discount"
        figure(f"Code {code}", f"-{usd(quote.discount_cents)}")
    y -= 6
    c.line(MARGIN, y, width - MARGIN, y)
    y -= 6
    figure("Total (USD)", usd(quote.total_cents), 13, "Helvetica-Bold")
    y -= 24
    register = reverse("registrations:register", kwargs={"slug": workshop.slug})
    para("To order against this quote", 12, "Helvetica-Bold")
    para(f"Register at {site_url()}{register}?quote={quote.reference} and choose to pay by card or by invoice; "
         "add your purchase-order number to the order.", 10)
    para("Prices are per participant and include all pre-work materials and both live sessions.", 10)
    para(f"Questions: {supplier['contact_email']}", 10)
    c.showPage()
    c.save()
    return buffer.getvalue()
