"""The order page's per-seat "Resend link" buttons look like the live buttons they are: filled, not a faint grey outline
that reads as switched off, with their text at 4.5:1 or more against their own background."""

import pytest

from tests.e2e.helpers import audit, expect, screenshot
from tests.e2e.pages import paid_team_order

pytestmark = pytest.mark.e2e

LOOK = """el => {
    const s = getComputedStyle(el);
    const rgb = c => c.match(/[\\d.]+/g).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const [fg, bg] = [rgb(s.color), rgb(s.backgroundColor)];
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    return {filled: bg.length < 4 || bg[3] === 1, opacity: Number(s.opacity), contrast: (hi + 0.05) / (lo + 0.05),
            disabled: el.disabled || el.getAttribute('aria-disabled') === 'true'};
}"""


def test_resend_link_buttons_look_active_and_keep_their_contrast(phone_page, axe_source):
    page = phone_page
    page.goto(paid_team_order().get_absolute_url())
    buttons = page.get_by_role("button", name="Resend link to", exact=False)
    expect(buttons).to_have_count(2)  # the two named seats
    for button in buttons.all():
        look = button.evaluate(LOOK)
        assert look["filled"] and look["opacity"] == 1 and not look["disabled"], look
        assert look["contrast"] >= 4.5, look
    audit(page, axe_source, "order page, resend links, phone")
    screenshot(page, "order-resend-links-phone")
