import re
import threading

from django.db import connection
from django.test import Client


# "Invoice my organisation", with a complete billing contact and address.
INVOICE_BILLING = {
    "payment_method": "invoice",
    "billing_name": "Dana Ruiz",
    "billing_email": "accounts@lincoln-usd.example",
    "billing_line1": "100 Main Street",
    "billing_city": "Oakland",
    "billing_state": "CA",
    "billing_postal_code": "94612",
}


def registration_data(seat_count=1, buyer_attends=True, attendees=(), **overrides):
    data = {
        "buyer_name": "Maya Johnson",
        "buyer_email": "maya@lincoln.example",
        "organisation": "Lincoln Middle School",
        "role": "school_leader",
        "seat_count": str(seat_count),
        "attendees-TOTAL_FORMS": str(len(attendees)),
        "attendees-INITIAL_FORMS": "0",
        "attendees-MIN_NUM_FORMS": "0",
        "attendees-MAX_NUM_FORMS": "50",
    }
    if buyer_attends:
        data["buyer_attends"] = "on"
    for i, (name, email) in enumerate(attendees):
        data[f"attendees-{i}-name"] = name
        data[f"attendees-{i}-email"] = email
    data.update(overrides)
    return data


def register_at_once(workshop, forms: list[dict], *, client=Client) -> list:
    """POST each form to the workshop's registration page from a thread of its own, all released at once by a
    barrier (a race for the workshop's row lock); the answers, in the order of `forms`. Each thread makes its
    client with `client()` and closes its own database connection."""
    start = threading.Barrier(len(forms))
    answers: list = [None] * len(forms)

    def post(n: int) -> None:
        try:
            start.wait()
            answers[n] = client().post(f"/workshops/{workshop.slug}/register/", forms[n])
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(len(forms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


ORDERS = "/admin/registrations/order/"


def choose_whole_order_refund(client, orders):
    """Tick the orders in the Orders list, choose "Refund the whole order", press Go: the confirmation page."""
    return client.post(ORDERS, {"action": "refund_whole_order", "_selected_action": [o.pk for o in orders]})


def press_yes(client, page, *, follow=True):
    """Submit the confirmation page's form as a browser would: its hidden fields, as they are on the page."""
    form = page.content.decode().split('<form method="post">', 1)[1].split("</form>", 1)[0]
    data: dict = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form):
        data.setdefault(name, []).append(value)
    return client.post(ORDERS, data, follow=follow)


def refund_whole_orders(client, orders, *, follow=True):
    """Refund the whole orders as staff do: choose the action, read the confirmation page, press "Yes"."""
    return press_yes(client, choose_whole_order_refund(client, orders), follow=follow)
