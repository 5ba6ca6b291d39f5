"""After a post the page opens at the outcome (workshops/placed_messages.py): every post that redirects to a
#fragment shows its message there, not at the top far above; a message placed on one page is not shown on another
page with an element of the same id, and a page that reads it first keeps it for its own page (found by a review)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registrations.models import Order
from tests.factories import OrderFactory
from tests.registrations.affinity_helpers import add_groups, attendees, choose

pytestmark = pytest.mark.django_db

def pending_addition(order) -> Order:
    return OrderFactory(
        workshop=order.workshop, kind=Order.Kind.ADDITION, parent=order, seat_count=2, seats=[], status=Order.Status.PENDING,
        paid_at=None, stripe_payment_intent_id="", stripe_checkout_session_id="", total_cents=20000,
        hold_expires_at=timezone.now() + timedelta(minutes=30),
    )


def affinity_saved(client, workshop):
    seat = attendees(workshop, ["Ana Diaz"])[0]
    group = add_groups(workshop)["Black"]
    return client.post(f"/seats/{seat.token}/affinity/", {"group": str(group.pk), "zoom_email": ""}), "Saved: you chose"


def affinity_withdrawn(client, workshop):
    seat = attendees(workshop, ["Ana Diaz"])[0]
    choose(seat, add_groups(workshop)["White"])
    return client.post(f"/seats/{seat.token}/affinity/", {"action": "withdraw"}), "withdrawn and deleted"


def time_zone_saved(client, workshop):
    seat = attendees(workshop, ["Ana Diaz"])[0]
    return client.post(f"/seats/{seat.token}/time-zone/", {"time_zone": "America/Chicago"}), "Saved: your time zone is"


def addition_cancelled(client, workshop):
    order = OrderFactory(workshop=workshop, seat_count=5, unit_price_cents=10000, tier_min_seats=5, seats=["Maya Johnson"])
    pending_addition(order)
    return client.post(f"/orders/{order.token}/add-seats/cancel/"), "have been released"


def second_addition_refused(client, workshop):
    order = OrderFactory(workshop=workshop, seat_count=5, unit_price_cents=10000, tier_min_seats=5, seats=["Maya Johnson"])
    pending_addition(order)  # a second tab still shows the "Add seats" form
    return client.post(f"/orders/{order.token}/add-seats/", {"grow-extra_seats": "1"}), "still awaiting payment"


@pytest.mark.parametrize(
    "post", [affinity_saved, affinity_withdrawn, time_zone_saved, addition_cancelled, second_addition_refused]
)
def test_the_outcome_of_a_post_is_shown_and_focused_where_its_redirect_lands(client, workshop, post):
    response, text = post(client, workshop)
    assert response.status_code == 302 and "#" in response["Location"]
    fragment = response["Location"].split("#", 1)[1]
    html = client.get(response["Location"]).content.decode()
    anchor = html.index(f'id="{fragment}"')
    # Shown inside (after the start of) the element the page opens at, where focus.js moves focus; not at the top.
    assert html.index(text) > anchor
    assert html.index("data-focus-on-load") > anchor


def seat_saved(client, order):
    return client.post(f"/orders/{order.token}/seats/5/", {"seat-5-name": "Chen Wei", "seat-5-email": "chen@school.example"})


@pytest.fixture
def two_teams(workshop):
    return [
        OrderFactory(workshop=workshop, seat_count=6, unit_price_cents=10000, tier_min_seats=5, seats=[name])
        for name in ("Maya Johnson", "Dana Reyes")
    ]


def test_a_seat_saved_on_one_order_is_not_confirmed_in_another_orders_row(client, two_teams, django_capture_on_commit_callbacks):
    first, second = two_teams
    with django_capture_on_commit_callbacks(execute=True):
        seat_saved(client, first)
    # The lead's browser opens their other order before (or instead of) the redirect: a dropped connection, a tab.
    html = client.get(f"/orders/{second.token}/").content.decode()
    row = html[html.index('id="seat-5"'):]
    row = row[:row.index("</li>")]
    assert "Seat 5 saved. We have emailed Chen Wei their own link." not in row


def test_a_placed_message_read_by_a_page_without_its_place_is_not_lost(client, two_teams, django_capture_on_commit_callbacks):
    first, _ = two_teams
    with django_capture_on_commit_callbacks(execute=True):
        response = seat_saved(client, first)
    seen = client.get(first.workshop.get_absolute_url()).content.decode()  # the redirect not followed, another page
    seen += client.get(response["Location"]).content.decode()
    assert "Seat 5 saved." in seen
