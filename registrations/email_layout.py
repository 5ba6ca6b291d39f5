"""Every email's two parts: the plain text written in its template plus the site's footer, and an
HTML alternative built from that same text, so the two can never say different things.

The text keeps a light structure the HTML follows: blank lines separate paragraphs, lines that
start with "- " are list items, and web addresses become links.
"""

import re

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape

from workshops.site import absolute, site_url

URL = re.compile(r"https?://[^\s<>\"]+")
FOOTER_MARK = "-- "


def links_page_url() -> str:
    return absolute(reverse("support:links"))


def footer_text() -> str:
    return (
        f"{FOOTER_MARK}\n{settings.SITE_NAME}\n"
        f"Questions? Write to {settings.CONTACT_EMAIL}, or reply to this email.\n"
        f"Lost a link? We can email you all of yours: {links_page_url()}"
    )


def with_footer(body: str) -> str:
    body = body.rstrip()
    if f"\n{FOOTER_MARK}\n" in body:
        return body + "\n"
    return f"{body}\n\n{footer_text()}\n"


def _inline(text: str) -> str:
    """Escape a line of text and turn its web addresses into links."""
    out, last = [], 0
    for match in URL.finditer(text):
        url = match.group(0).rstrip(".,;:)")
        end = match.start() + len(url)
        out.append(escape(text[last : match.start()]))
        out.append(f'<a href="{escape(url)}" style="color:#0b5563;word-break:break-all;">{escape(url)}</a>')
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


def text_to_html_blocks(text: str) -> list[str]:
    """Paragraphs and lists of the text, as HTML fragments (each escaped)."""
    blocks = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines = [line.rstrip() for line in paragraph.splitlines() if line.strip()]
        html, items, plain = [], [], []

        def flush_plain():
            if plain:
                html.append("<p style=\"margin:0 0 16px;\">" + "<br>".join(_inline(p) for p in plain) + "</p>")
                plain.clear()

        def flush_items():
            if items:
                html.append(
                    "<ul style=\"margin:0 0 16px;padding-left:20px;\">"
                    + "".join(f"<li style=\"margin:0 0 6px;\">{_inline(i)}</li>" for i in items)
                    + "</ul>"
                )
                items.clear()

        for line in lines:
            if line.lstrip().startswith("- "):
                flush_plain()
                items.append(line.lstrip()[2:])
            else:
                flush_items()
                plain.append(line)
        flush_plain()
        flush_items()
        blocks.append("".join(html))
    return blocks


def html_version(*, subject: str, body: str) -> str:
    """The HTML alternative of a plain-text body (without its footer, which the layout draws)."""
    main = body.split(f"\n{FOOTER_MARK}\n", 1)[0]
    return render_to_string(
        "emails/layout.html",
        {
            "subject": subject,
            "blocks": text_to_html_blocks(main),
            "site_name": settings.SITE_NAME,
            "site_url": site_url(),
            "contact_email": settings.CONTACT_EMAIL,
            "links_url": links_page_url(),
        },
    )
