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


class _Page:
    """A letter page written top to bottom, every line wrapped to stay inside the margins."""

    def __init__(self, c: canvas.Canvas, width: float, height: float):
        self.c, self.width, self.y = c, width, height - MARGIN
        self.text_width = width - 2 * MARGIN

    def para(self, text: str, size: float = 11, font: str = "Helvetica", colour=INK, gap: float = 4) -> None:
        font = _font_for(text, font)
        self.c.setFont(font, size)
        self.c.setFillColor(colour)
        for piece in wrap(text, font, size, self.text_width):
            self.y -= size  # y is the top of the next line; the text sits on its baseline below
            self.c.drawString(MARGIN, self.y, piece)
            self.y -= gap

    def figure(self, label: str, amount: str, size: float = 11, font: str = "Helvetica") -> None:
        """A label on the left (wrapped short of the amount) and its amount on the right."""
        font = _font_for(label, font)
        self.c.setFont(font, size)
        self.c.setFillColor(INK)
        for piece in wrap(label, font, size, self.text_width - 110):
            self.y -= size
            self.c.drawString(MARGIN, self.y, piece)
            baseline = self.y
            self.y -= 4
        self.c.drawRightString(self.width - MARGIN, baseline, amount)

    def rule(self, space: float = 6) -> None:
        self.y -= space
        self.c.setStrokeColor(TEAL)
        self.c.line(MARGIN, self.y, self.width - MARGIN, self.y)
        self.y -= space


def _supplier_block(page: _Page) -> dict:
    supplier = supplier_details()
    page.para(supplier["legal_name"], 16, "Helvetica-Bold", TEAL)
    for line in supplier["address_lines"]:
        page.para(line, 9, gap=2)
    if supplier["tax_id"]:
        page.para(f"Tax ID: {supplier['tax_id']}", 9, gap=2)
    page.para(supplier["contact_email"], 9, gap=2)
    return supplier


def quote_document(*, quote: Quote) -> bytes:
    """One page: the supplier, who it is for, what is quoted with its dates, the figures, and how to order.

    Page compression is off so the figures stay searchable as plain bytes (tests read them).
    """
    workshop = quote.workshop
    buffer = io.BytesIO()
    width, height = letter
    c = canvas.Canvas(buffer, pagesize=letter, pageCompression=0)
    c.setTitle(f"Quote {quote.reference}")
    c.setAuthor(settings.SITE_NAME)
    page = _Page(c, width, height)
    supplier = _supplier_block(page)
    page.y -= 14
    page.para("Quote", 26, "Helvetica-Bold")
    issued = timezone.localtime(quote.created_at, workshop.tz)
    valid = timezone.localtime(quote.valid_until, workshop.tz)
    page.para(f"Reference: {quote.reference}")
    page.para(f"Date: {issued:%B} {issued.day}, {issued.year}")
    page.para(f"Valid until: {valid:%B} {valid.day}, {valid.year}")
    page.y -= 12
    page.para("Prepared for", 12, "Helvetica-Bold")
    page.para(quote.organisation)
    page.para(f"{quote.contact_name} <{quote.contact_email}>")
    page.y -= 12
    page.para("Workshop", 12, "Helvetica-Bold")
    page.para(workshop.title)
    page.para(f"{workshop.prework_hours} hours of pre-work at your own pace, then {workshop.live_hours} hours live.", 10)
    for session in workshop.session_list:
        page.para(f"{session.title}: {session_when(session, workshop.time_zone)}, on {workshop.platform}", 10)
    page.y -= 10
    page.rule()
    tier = "team price" if quote.tier_min_seats > 1 else "standard price"
    seats = f"{quote.seat_count} seat{'s' if quote.seat_count != 1 else ''}"
    page.figure(f"{seats} × {usd(quote.unit_price_cents)} ({tier})", usd(quote.subtotal_cents))
    if quote.discount_cents:
        page.figure(f"Code {quote.voucher.code if quote.voucher_id else 'discount'}", f"-{usd(quote.discount_cents)}")
    page.rule()
    page.figure("Total (USD)", usd(quote.total_cents), 13, "Helvetica-Bold")
    page.y -= 24
    register = reverse("registrations:register", kwargs={"slug": workshop.slug})
    page.para("To order against this quote", 12, "Helvetica-Bold")
    page.para(f"Register at {site_url()}{register}?quote={quote.reference} and choose to pay by card or by invoice; "
              "add your purchase-order number to the order.", 10)
    page.para("Prices are per participant and include all pre-work materials and both live sessions.", 10)
    page.para(f"Questions: {supplier['contact_email']}", 10)
    c.showPage()
    c.save()
    return buffer.getvalue()
