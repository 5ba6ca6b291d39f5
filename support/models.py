"""The policy pages staff edit in admin: refunds and cancellation, privacy, accessibility."""

import re

from django.db import models
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


class PolicyPage(models.Model):
    """One of the site's fixed policy pages. Its text is plain: blank lines separate paragraphs,
    a line starting with "## " is a heading, lines starting with "- " are a list."""

    class Kind(models.TextChoices):
        REFUNDS = "refunds", "Refunds and cancellation"
        PRIVACY = "privacy", "Privacy"
        ACCESSIBILITY = "accessibility", "Accessibility"

    kind = models.CharField(max_length=20, choices=Kind.choices, unique=True, editable=False)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True, help_text="One sentence shown under the title.")
    body = models.TextField(
        help_text="Plain text. Leave a blank line between paragraphs; start a line with “## ” for a heading "
        "and with “- ” for a list item."
    )
    # The starting text came with the site, written by its developers: staff confirm it states the real policy.
    is_reviewed = models.BooleanField(
        "reviewed by staff",
        default=False,
        help_text="Tick once you have read this text and it states your organisation's actual policy. "
        "The starting text is a proposal written with the site, not a policy anyone has agreed to.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = "policy page"

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(f"support:{self.kind}")

    @property
    def body_html(self) -> SafeString:
        return render_plain_text(self.body)


def render_plain_text(text: str) -> SafeString:
    """Headings, paragraphs and lists from plain text; everything escaped, nothing else interpreted."""
    parts = []
    for block in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        items = []
        for line in lines:
            if line.startswith("- "):
                items.append(f"<li>{escape(line[2:].strip())}</li>")
                continue
            if items:
                parts.append("<ul>" + "".join(items) + "</ul>")
                items = []
            if line.startswith("## "):
                parts.append(f'<h2 class="h4 mt-4">{escape(line[3:].strip())}</h2>')
            else:
                parts.append(f"<p>{escape(line)}</p>")
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped
