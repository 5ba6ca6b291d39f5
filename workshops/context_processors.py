"""What every page's header and footer show about the organisation: its name and how to reach it."""

from django.conf import settings


def supplier_details() -> dict:
    """The organisation as it appears on quotes and receipts (from settings, never the database)."""
    return {
        "legal_name": settings.SUPPLIER_LEGAL_NAME or settings.SITE_NAME,
        "address_lines": [line.strip() for line in settings.SUPPLIER_ADDRESS.split("|") if line.strip()],
        "tax_id": settings.SUPPLIER_TAX_ID,
        "contact_email": settings.CONTACT_EMAIL,
    }


def organisation(request) -> dict:
    return {"site_name": settings.SITE_NAME, "contact_email": settings.CONTACT_EMAIL, "supplier": supplier_details()}
