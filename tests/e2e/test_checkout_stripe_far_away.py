"""A buyer in a real browser while Stripe is far away (800 ms an answer) or not answering at all."""

import re
import time

import pytest

from registrations.models import Order
from registrations.selectors.availability import seats_taken
from tests.e2e.helpers import audit, expect, phone_layout_problems, screenshot

SLUG = "using-racial-affinity-groups-in-schools"
REGISTER = f"/workshops/{SLUG}/register/"
CHECKOUT = re.compile(r"https://checkout\.stripe\.com/c/pay/cs_\w+")

pytestmark = pytest.mark.e2e


@pytest.fixture
def stripe(stripe_double, settings):
    """The real SDK against the double, whose Checkout Sessions point at Stripe's real host (the site's CSP lets a
    form's redirect go there only); the browser is answered for that host by the test, as it cannot reach Stripe."""
    stripe_double.checkout_host = "checkout.stripe.com"
    settings.STRIPE_CONNECT_TIMEOUT_SECONDS = 0.5
    settings.STRIPE_TIMEOUT_SECONDS = 1.5
    return stripe_double


def stripe_checkout_answers(page):
    """Stripe's hosted page, answered by the test. A redirect the browser follows by itself is not routed, so the
    site's answers are passed on by the test too, and the browser follows their redirects as requests of its own."""
    page.route(CHECKOUT, lambda route: route.fulfill(
        status=200, content_type="text/html", body="<!doctype html><html lang=en><title>Stripe Checkout</title><h1>Pay</h1></html>",
    ))
    page.route(re.compile(r"^http://localhost:\d+/(workshops|orders)/.*"), lambda route: route.fulfill(
        response=route.fetch(max_redirects=0),
    ) if route.request.method == "POST" else route.fallback())


def fill(page):
    page.get_by_label("Your full name").fill("Maya Chen")
    page.get_by_label("Your email").fill("maya@lincoln.example")
    page.get_by_label("School or district").fill("Lincoln Middle School")
    page.get_by_label("Your role").select_option(label="Classroom teacher")
    page.get_by_label("Number of seats").fill("3")


def filled_in_with_stripe_far_away(page, stripe) -> list[str]:
    """The registration form filled in, Stripe 800 ms away; returns the list the browser's POSTs are recorded in."""
    stripe.set_latency(0.8)
    stripe_checkout_answers(page)
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.goto(REGISTER)
    fill(page)
    return posts


def press_twice(page, button, pause_ms: int) -> None:
    """Two presses as a person makes them, the second on the page still showing while the first is on its way
    (Playwright's own click would wait for that navigation to finish)."""
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(pause_ms)
    page.mouse.click(x, y)


def test_the_pay_button_says_it_is_working_and_a_second_press_sends_nothing(page, stripe):
    page.goto(REGISTER)
    fill(page)
    # Count the submissions that go through, and keep the page here to look at it (a listener on the window runs
    # after the page's own, and sees whether the page let the submission go).
    page.evaluate("""() => { window.sent = 0; window.addEventListener('submit', e => {
        if (!e.defaultPrevented) { window.sent += 1; } e.preventDefault(); }); }""")
    button = page.locator("#registration-form button[data-busy-label]")
    button.click()
    expect(button).to_have_text("Placing your order…")
    expect(button).to_have_attribute("aria-disabled", "true")
    expect(page.locator("[data-busy-status]")).to_have_text("Placing your order…")
    button.click(force=True)  # Playwright waits for an aria-disabled button to be enabled; a person just presses
    page.keyboard.press("Enter")
    assert page.evaluate("window.sent") == 1
    # Back on the page from the browser's history (bfcache), it works again.
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    expect(button).to_have_text("Continue to payment")
    expect(button).not_to_have_attribute("aria-disabled", "true")
    button.click()
    assert page.evaluate("window.sent") == 2


def test_pressing_again_while_stripe_answers_places_one_order(page, stripe):
    posts = filled_in_with_stripe_far_away(page, stripe)
    press_twice(page, page.get_by_role("button", name="Continue to payment"), pause_ms=300)
    expect(page).to_have_url(CHECKOUT)
    assert len(posts) == 1
    assert Order.objects.count() == 1
    assert seats_taken(workshop_id=Order.objects.get().workshop_id) == 3


def test_when_stripe_hangs_the_buyer_hears_so_within_the_budget_and_pays_once_it_is_back(phone_page, stripe, axe_source):
    page = phone_page
    stripe_checkout_answers(page)
    stripe.hang()
    page.goto(REGISTER)
    fill(page)
    started = time.monotonic()
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_text("We could not reach our payment provider just now")).to_be_visible()
    waited = time.monotonic() - started
    assert waited < 0.5 + 1.5 + 1.5, f"the buyer waited {waited:.1f} s"  # connect + answer budget, and the page itself
    order = Order.objects.get()
    assert order.get_absolute_url() in page.url
    page.wait_for_load_state("load")  # its stylesheets applied
    assert phone_layout_problems(page) == []
    audit(page, axe_source, "payment provider not answering")
    screenshot(page, "stripe-down-phone")

    stripe.end_hang()
    page.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_url(CHECKOUT)
    assert Order.objects.count() == 1
    assert seats_taken(workshop_id=order.workshop_id) == 3


def test_a_keyboard_user_who_presses_enter_again_while_stripe_answers_places_one_order(page, stripe):
    posts = filled_in_with_stripe_far_away(page, stripe)
    keys = []  # keys the registration page itself received (a binding outlives the page)
    page.expose_function("keySeen", lambda key, label: keys.append((key, label)))
    page.evaluate("""() => document.addEventListener('keydown', e => window.keySeen(e.key,
        document.querySelector('#registration-form button[data-busy-label]').textContent))""")
    page.locator("#registration-form button[data-busy-label]").focus()
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    page.keyboard.press(" ")
    expect(page).to_have_url(CHECKOUT)
    assert [key for key, _ in keys][:3] == ["Enter", "Enter", " "]
    assert keys[1][1] == "Placing your order…"  # the page still showing said it was on its way
    assert len(posts) == 1
    assert Order.objects.count() == 1
