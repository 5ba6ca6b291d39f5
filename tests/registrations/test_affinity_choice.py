"""An attendee's private, optional affinity-group choice: on their seat page and, for a buyer attending
themselves, at registration; the cut-off; withdrawal; the Zoom account email."""

from datetime import timedelta

import pytest
import time_machine

from registrations.models import AffinityChoice, BreakoutPlacement, Order
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.affinity_helpers import add_groups, attendees, choose
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def groups(workshop):
    return add_groups(workshop)


@pytest.fixture
def ana(workshop, groups):
    return attendees(workshop, ["Ana Diaz", "Ben Okafor"])[0]


def first_session(workshop):
    return workshop.sessions.order_by("starts_at")[0]


def post_choice(client, seat, group=None, zoom_email="", **extra):
    data = {"group": str(group.pk) if group else "", "zoom_email": zoom_email, **extra}
    return client.post(f"/seats/{seat.token}/affinity/", data)


# --- the seat page -------------------------------------------------------------------------------


def test_seat_page_offers_the_workshops_own_groups_in_their_order_with_descriptions(client, ana, groups):
    html = client.get(f"/seats/{ana.token}/").content.decode()
    positions = [html.index(f">{label}</label>") for label in groups]
    assert positions == sorted(positions)
    assert "About Multiracial." in html
    assert "No group for now" in html


def test_seat_page_says_in_plain_words_who_sees_the_choice(client, ana):
    html = client.get(f"/seats/{ana.token}/").content.decode()
    assert "Your group's facilitators and our workshop coordinators" in html
    assert "Never your team lead or whoever bought your seat, and never other attendees." in html
    assert "We delete it 30 days after the last live session." in html


def test_retention_in_the_explanation_follows_the_setting(client, ana, settings):
    settings.AFFINITY_RETENTION_DAYS = 7
    assert "We delete it 7 days after the last live session." in client.get(f"/seats/{ana.token}/").content.decode()


def test_a_workshop_without_groups_shows_no_affinity_section_and_refuses_a_choice(client):
    seat = attendees(WorkshopFactory(), ["Cara Lee"])[0]
    assert 'id="affinity"' not in client.get(f"/seats/{seat.token}/").content.decode()
    assert client.post(f"/seats/{seat.token}/affinity/", {"group": ""}).status_code == 404


def test_attendee_chooses_a_group_and_sees_it_on_their_page(client, ana, groups):
    response = post_choice(client, ana, groups["Multiracial"])
    assert response.status_code == 302 and response["Location"].endswith("#affinity")
    assert AffinityChoice.objects.get(seat=ana).group == groups["Multiracial"]
    html = client.get(response["Location"]).content.decode()
    assert "Your choice: Multiracial" in html
    assert "Saved: you chose “Multiracial”." in html


def test_attendee_changes_their_group(client, ana, groups):
    choose(ana, groups["White"])
    post_choice(client, ana, groups["Black"])
    assert AffinityChoice.objects.get(seat=ana).group == groups["Black"]


def test_choosing_no_group_keeps_only_the_zoom_email(client, ana, groups):
    choose(ana, groups["White"], zoom_email="ana.zoom@example.org")
    post_choice(client, ana, None, zoom_email="ana.zoom@example.org")
    choice = AffinityChoice.objects.get(seat=ana)
    assert (choice.group, choice.zoom_email) == (None, "ana.zoom@example.org")


def test_no_group_and_no_zoom_email_leaves_no_row(client, ana, groups):
    choose(ana, groups["White"])
    post_choice(client, ana, None)
    assert not AffinityChoice.objects.filter(seat=ana).exists()


def test_withdrawing_deletes_the_choice_and_the_zoom_email(client, ana, groups):
    choose(ana, groups["White"], zoom_email="ana.zoom@example.org")
    response = client.post(f"/seats/{ana.token}/affinity/", {"action": "withdraw"})
    assert response.status_code == 302
    assert not AffinityChoice.objects.filter(seat=ana).exists()
    assert "withdrawn and deleted" in client.get(response["Location"]).content.decode()


def test_withdrawing_also_drops_staff_moves_for_sessions_ahead(client, ana, groups, workshop):
    choose(ana, groups["White"])
    BreakoutPlacement.objects.create(session=first_session(workshop), seat=ana, kind="room", group=groups["White"], room_number=2)
    client.post(f"/seats/{ana.token}/affinity/", {"action": "withdraw"})
    assert not BreakoutPlacement.objects.filter(seat=ana).exists()


def test_zoom_email_is_saved_for_the_breakout_file(client, ana, groups):
    post_choice(client, ana, groups["White"], zoom_email="  ana.personal@example.org ")
    assert AffinityChoice.objects.get(seat=ana).zoom_email == "ana.personal@example.org"


def test_a_bad_zoom_email_is_shown_next_to_the_field_and_kept(client, ana, groups):
    response = post_choice(client, ana, groups["White"], zoom_email="ana at home")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_zoom_email_error"' in html and "Enter a valid email address." in html
    assert 'value="ana at home"' in html
    assert f'value="{groups["White"].pk}" checked' in html  # the group they picked stays picked
    assert not AffinityChoice.objects.filter(seat=ana).exists()


def test_a_zoom_email_that_a_spreadsheet_would_run_is_refused(client, ana, groups):
    response = post_choice(client, ana, groups["White"], zoom_email="=cmd@example.org")
    assert response.status_code == 400
    assert not AffinityChoice.objects.filter(seat=ana).exists()


def test_another_workshops_group_is_refused(client, ana):
    other = add_groups(WorkshopFactory(), ["Elsewhere"])["Elsewhere"]
    response = post_choice(client, ana, other)
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert not AffinityChoice.objects.filter(seat=ana).exists()


def test_a_refunded_seat_cannot_choose(client, ana, groups):
    ana.status = "refunded"
    ana.save()
    assert post_choice(client, ana, groups["White"]).status_code == 404


# --- the cut-off ---------------------------------------------------------------------------------


def test_choices_close_the_set_number_of_hours_before_the_first_session(client, ana, groups, workshop):
    start = first_session(workshop).starts_at
    with time_machine.travel(start - timedelta(hours=12, minutes=1)):
        assert post_choice(client, ana, groups["White"]).status_code == 302
    with time_machine.travel(start - timedelta(hours=12)):
        response = post_choice(client, ana, groups["Black"])
    assert response.status_code == 400
    assert "Affinity-group choices have closed for this workshop." in response.content.decode()
    assert AffinityChoice.objects.get(seat=ana).group == groups["White"]


def test_after_the_cut_off_the_page_shows_the_choice_without_the_radios(client, ana, groups, workshop):
    choose(ana, groups["White"])
    with time_machine.travel(first_session(workshop).starts_at - timedelta(hours=1)):
        html = client.get(f"/seats/{ana.token}/").content.decode()
    assert "Choices closed on" in html and "Your choice: White" in html
    assert 'type="radio"' not in html
    assert "Save my Zoom email" in html


def test_the_zoom_email_can_still_change_after_the_cut_off(client, ana, groups, workshop):
    choose(ana, groups["White"])
    with time_machine.travel(first_session(workshop).starts_at - timedelta(hours=1)):
        response = client.post(f"/seats/{ana.token}/affinity/", {"zoom_email": "late@example.org"})
    assert response.status_code == 302
    choice = AffinityChoice.objects.get(seat=ana)
    assert (choice.group, choice.zoom_email) == (groups["White"], "late@example.org")


def test_withdrawing_is_allowed_after_the_cut_off(client, ana, groups, workshop):
    choose(ana, groups["White"])
    with time_machine.travel(first_session(workshop).starts_at - timedelta(hours=1)):
        client.post(f"/seats/{ana.token}/affinity/", {"action": "withdraw"})
    assert not AffinityChoice.objects.exists()


def test_choices_reopen_for_the_next_session_once_one_has_started(client, ana, groups, workshop):
    first, second = workshop.sessions.order_by("starts_at")
    with time_machine.travel(first.starts_at + timedelta(minutes=5)):
        assert post_choice(client, ana, groups["Black"]).status_code == 302
    with time_machine.travel(second.starts_at - timedelta(hours=11)):
        assert post_choice(client, ana, groups["White"]).status_code == 400
    with time_machine.travel(second.starts_at + timedelta(minutes=5)):
        assert post_choice(client, ana, groups["White"]).status_code == 400  # no session left to choose for
    assert AffinityChoice.objects.get(seat=ana).group == groups["Black"]


def test_the_cut_off_follows_the_workshop_setting(client, ana, groups, workshop):
    workshop.affinity_choice_close_hours = 72
    workshop.save()
    with time_machine.travel(first_session(workshop).starts_at - timedelta(hours=71)):
        assert post_choice(client, ana, groups["White"]).status_code == 400


# --- at registration -----------------------------------------------------------------------------


def register(client, workshop, **overrides):
    return client.post(f"/workshops/{workshop.slug}/register/", registration_data(**overrides))


def test_registration_form_offers_the_groups_in_its_own_fieldset(client, workshop, groups):
    html = client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    assert "Your affinity group (optional)" in html
    assert 'name="affinity-group"' in html and 'name="affinity-zoom_email"' in html
    assert "never other attendees" in html


def test_registration_form_has_no_affinity_section_without_groups(client, workshop):
    assert "Your affinity group" not in client.get(f"/workshops/{workshop.slug}/register/").content.decode()


def test_a_buyer_attending_themselves_chooses_at_registration(client, workshop, groups, stripe_double):
    response = register(client, workshop, **{"affinity-group": str(groups["Black"].pk), "affinity-zoom_email": "maya@zoom.example"})
    assert response.status_code == 302
    order = Order.objects.get()
    choice = AffinityChoice.objects.get()
    assert choice.seat == order.seats.get(position=1) and choice.seat.attendee_email == "maya@lincoln.example"
    assert (choice.group, choice.zoom_email) == (groups["Black"], "maya@zoom.example")


def test_a_buyer_not_attending_has_no_choice_recorded(client, workshop, groups, stripe_double):
    register(client, workshop, seat_count=2, buyer_attends=False, **{"affinity-group": str(groups["Black"].pk)})
    assert Order.objects.count() == 1
    assert not AffinityChoice.objects.exists()


def test_a_buyer_not_attending_is_not_held_up_by_what_the_hidden_affinity_section_still_holds(
    client, workshop, groups, stripe_double
):
    # Unticking "I will attend myself" hides the section but keeps what was typed in it: none of it counts.
    response = register(
        client, workshop, seat_count=2, buyer_attends=False,
        **{"affinity-group": str(groups["White"].pk), "affinity-zoom_email": "maya@"},
    )
    assert response.status_code == 302
    assert Order.objects.get().buyer_attends is False
    assert not AffinityChoice.objects.exists()


def test_an_unknown_group_from_a_buyer_not_attending_is_ignored_too(client, workshop, groups, stripe_double):
    other = add_groups(WorkshopFactory(), ["Elsewhere"])["Elsewhere"]
    response = register(client, workshop, seat_count=2, buyer_attends=False, **{"affinity-group": str(other.pk)})
    assert response.status_code == 302
    assert not AffinityChoice.objects.exists()


def test_the_affinity_section_is_hidden_while_the_buyer_does_not_attend(client, workshop, groups):
    html = client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    assert '<fieldset class="mb-4" id="affinity" aria-describedby="affinity-help">' in html
    # "Update total" without JavaScript, the box unticked: the section goes, as register.js hides it.
    data = registration_data(seat_count=2, buyer_attends=False, update="1", **{"affinity-group": str(groups["White"].pk)})
    html = client.post(f"/workshops/{workshop.slug}/register/", data).content.decode()
    assert '<fieldset class="mb-4" id="affinity" aria-describedby="affinity-help" hidden>' in html


def test_registration_without_a_choice_records_nothing(client, workshop, groups, stripe_double):
    assert register(client, workshop).status_code == 302
    assert not AffinityChoice.objects.exists()


def test_a_bad_zoom_email_at_registration_comes_back_beside_the_field(client, workshop, groups, stripe_double):
    response = register(client, workshop, **{"affinity-group": str(groups["White"].pk), "affinity-zoom_email": "maya@"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_affinity-zoom_email_error"' in html and 'value="maya@"' in html
    assert f'value="{groups["White"].pk}" checked' in html
    assert not Order.objects.exists()


def test_back_from_a_cancelled_checkout_the_form_keeps_the_buyers_own_choice(client, workshop, groups):
    order = OrderFactory(workshop=workshop, buyer_email="maya@lincoln.example", seat_count=2, status=Order.Status.CANCELLED)
    own, other = order.seats.order_by("position")
    own.attendee_name, own.attendee_email = "Maya", "maya@lincoln.example"
    own.save()
    choose(own, groups["Multiracial"], zoom_email="maya@zoom.example")
    choose(other, groups["White"])
    html = client.get(f"/workshops/{workshop.slug}/register/?from={order.token}").content.decode()
    assert f'value="{groups["Multiracial"].pk}" checked' in html
    assert 'value="maya@zoom.example"' in html
    assert f'value="{groups["White"].pk}" checked' not in html


def test_update_total_without_javascript_keeps_the_group_picked(client, workshop, groups):
    data = registration_data(seat_count=2, update="1", **{"affinity-group": str(groups["White"].pk)})
    html = client.post(f"/workshops/{workshop.slug}/register/", data).content.decode()
    assert f'value="{groups["White"].pk}" checked' in html
    assert not Order.objects.exists()
