"""The certificate of completion as a one-page PDF, drawn with reportlab on the server."""

import io
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import landscape, letter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from workshops.models import Session, Workshop
from workshops.site import site_url

from .models import Certificate

TEAL = HexColor("#0b5563")
INK = HexColor("#1f2933")
# Helvetica covers Western European names; a name beyond it (Nguyễn, 陈) needs a Unicode font.
UNICODE_FONT_PATHS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
]


def _font_for(text: str, default: str) -> str:
    try:
        text.encode("cp1252")
        return default
    except UnicodeEncodeError:
        pass
    if "Unicode" in pdfmetrics.getRegisteredFontNames():
        return "Unicode"
    for path in [getattr(settings, "CERTIFICATE_UNICODE_FONT", ""), *UNICODE_FONT_PATHS]:
        if path and Path(path).exists():
            pdfmetrics.registerFont(TTFont("Unicode", path))
            return "Unicode"
    return default


def session_dates(workshop: Workshop, sessions: list[Session]) -> str:
    """"May 5 and May 19, 2027" in the workshop's zone."""
    days = [timezone.localtime(s.starts_at, workshop.tz) for s in sessions]
    if not days:
        return ""
    labels = [f"{d:%B} {d.day}" for d in days]
    joined = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    years = sorted({d.year for d in days})
    return f"{joined}, {years[-1]}" if len(years) == 1 else ", ".join(f"{d:%B} {d.day}, {d.year}" for d in days)


def _centred(c: canvas.Canvas, page_width: float, text: str, y: float, font: str, size: float, colour=INK) -> None:
    """One line centred on the page, shrunk until it fits inside the border."""
    font = _font_for(text, font)
    while size > 10 and pdfmetrics.stringWidth(text, font, size) > page_width - 140:
        size -= 1
    c.setFont(font, size)
    c.setFillColor(colour)
    c.drawCentredString(page_width / 2, y, text)


def certificate_pdf(*, certificate: Certificate) -> bytes:
    """Render the certificate. Page compression is off so the PDF's text stays searchable as plain bytes."""
    seat = certificate.seat
    workshop = seat.order.workshop
    buffer = io.BytesIO()
    width, height = landscape(letter)
    c = canvas.Canvas(buffer, pagesize=(width, height), pageCompression=0)
    c.setTitle(f"Certificate of completion: {certificate.attendee_name}")
    c.setAuthor(settings.SITE_NAME)
    c.setSubject(workshop.title)

    c.setStrokeColor(TEAL)
    c.setLineWidth(6)
    c.rect(24, 24, width - 48, height - 48)
    c.setLineWidth(1)
    c.rect(36, 36, width - 72, height - 72)

    _centred(c, width, settings.SITE_NAME.upper(), height - 100, "Helvetica-Bold", 14, TEAL)
    _centred(c, width, "Certificate of completion", height - 150, "Helvetica-Bold", 34)
    _centred(c, width, "This certifies that", height - 200, "Helvetica", 16)
    _centred(c, width, certificate.attendee_name, height - 245, "Helvetica-Bold", 30, TEAL)
    _centred(c, width, "completed the professional learning workshop", height - 285, "Helvetica", 16)
    _centred(c, width, workshop.title, height - 320, "Helvetica-Bold", 22)
    dates = session_dates(workshop, workshop.session_list)
    if dates:
        _centred(c, width, f"Live sessions on {workshop.platform}: {dates}", height - 355, "Helvetica", 14)
    _centred(
        c,
        width,
        f"{certificate.hours} hours of professional development: {workshop.prework_hours} hours of pre-work "
        f"and {workshop.live_hours} hours of live sessions",
        height - 385,
        "Helvetica",
        14,
    )

    issued = timezone.localtime(certificate.issued_at, workshop.tz)
    _centred(c, width, f"Issued {issued:%B} {issued.day}, {issued.year}", 120, "Helvetica", 12)
    _centred(c, width, f"Verification code: {certificate.code}", 98, "Helvetica-Bold", 12)
    _centred(c, width, f"Check it at {site_url()}{certificate.get_absolute_url()}", 80, "Helvetica", 10)
    c.showPage()
    c.save()
    return buffer.getvalue()
