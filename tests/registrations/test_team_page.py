"""The team order page at scale: a summary first, one seat edited at a time, many seats named from a list."""

import io

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings as hyp_settings, strategies as st

from registrations.models import PreworkCompletion, Seat
from registrations.seat_lists import parse_csv, parse_pasted
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(workshop):
    return OrderFactory(
        workshop=workshop, seat_count=9, unit_price_cents=10000, tier_min_seats=5,
        seats=["Maya Johnson", "Ana Diaz", "Ben Okafor"], buyer_name="Maya Johnson", buyer_email="lead@school.example",
    )


def page(client, order, query=""):
    return client.get(f"/orders/{order.token}/{query}").content.decode()


def paste(client, order, text, capture):
    with capture(execute=True):
        return client.post(f"/orders/{order.token}/seats/", {"list-people": text})


def test_the_summary_counts_named_seats_and_finished_prework(client, team, workshop):
    for seat in team.seats.filter(position__in=[1, 2]):
        for module in workshop.prework_modules.all():
            PreworkCompletion.objects.create(seat=seat, module=module)
    html = page(client, team)
    assert "3 of 9 named, 2 finished pre-work" in html
    assert html.index("data-order-summary") < html.index('id="seats-heading"') < html.index('id="receipt-heading"')


def test_the_page_shows_no_seat_form_until_one_is_asked_for_and_then_only_that_one(client, team):
    assert 'name="seat-' not in page(client, team)
    html = page(client, team, "?edit=4")
    assert html.count('action="/orders/') and 'name="seat-4-name"' in html
    assert sum(f'name="seat-{n}-name"' in html for n in range(1, 10)) == 1


def test_invoice_and_receipt_details_are_folded_below_the_seats(client, team):
    html = page(client, team)
    receipt = html.index('<details class="my-4 order-details" id="receipt"')
    assert html.index('id="seats-heading"') < receipt < html.index("Receipt</h2>")


def test_what_happens_next_gives_the_dates_and_the_seats_still_to_name(client, team, workshop):
    html = page(client, team)
    assert "What happens next" in html
    assert "Name the 6 seats still open below" in html
    assert workshop.schedule in html and "Live on Zoom:" in workshop.schedule


def test_the_buyer_attending_gets_a_button_to_their_own_attendee_page(client, team):
    own = team.seats.get(position=1)
    own.attendee_email = "Lead@School.example"
    own.save()
    html = page(client, team)
    assert f'href="/seats/{own.token}/" data-own-seat>Go to your attendee page</a>' in html
    # Nobody else's attendee link is on the lead's page.
    for other in team.seats.exclude(pk=own.pk):
        assert other.token not in html


def test_no_attendee_button_when_the_buyer_holds_no_seat(client, team):
    assert "Go to your attendee page" not in page(client, team)


def test_pasting_names_fills_the_unnamed_seats_in_order_and_welcomes_each(client, team, django_capture_on_commit_callbacks):
    response = paste(client, team, "Dana Reyes, dana@school.example\nEli Park\teli@school.example\n\n\"Fox, Gil\" <gil@school.example>", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    named = {s.position: (s.attendee_name, s.attendee_email) for s in team.seats.filter(position__gte=4)}
    assert named[4] == ("Dana Reyes", "dana@school.example")
    assert named[5] == ("Eli Park", "eli@school.example")
    assert named[6] == ("Fox, Gil", "gil@school.example")
    assert named[7] == ("", "")
    assert sorted(m.to[0] for m in mail.outbox) == ["dana@school.example", "eli@school.example", "gil@school.example"]
    assert "3 seats named." in client.get(response["Location"]).content.decode()


def test_a_bad_line_saves_nothing_and_each_problem_is_shown_on_its_line(client, team, django_capture_on_commit_callbacks):
    text = "Dana Reyes, dana@school.example\nEli Park, eli@\n, nobody@school.example\nDana Again, DANA@school.example"
    response = paste(client, team, text, django_capture_on_commit_callbacks)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Line 2" in html and "“eli@” is not a valid email address." in html
    assert "Line 3" in html and "Add the person&#x27;s name before their email." in html
    assert "Line 4" in html and "This email is already on line 1" in html
    assert "Line 1 " not in html
    assert "Eli Park, eli@" in html  # what they pasted stays in the box
    assert team.seats.filter(attendee_email="dana@school.example").count() == 0
    assert mail.outbox == []


def test_more_people_than_unnamed_seats_are_flagged_on_the_extra_lines(client, team, django_capture_on_commit_callbacks):
    text = "\n".join(f"Person {n}, p{n}@school.example" for n in range(1, 9))
    html = paste(client, team, text, django_capture_on_commit_callbacks).content.decode()
    assert "2 of the 8 people cannot be seated as listed; nothing was saved yet." in html
    assert "Line 7" in html and "Line 8" in html and "No unnamed seat left for this person" in html
    assert team.seats.filter(attendee_name__startswith="Person").count() == 0


def test_someone_already_seated_on_the_order_is_flagged(client, team, django_capture_on_commit_callbacks):
    html = paste(client, team, "Ana Again, ana@school.example", django_capture_on_commit_callbacks).content.decode()
    assert "Already on seat 2 of this order." in html


def test_a_csv_upload_with_a_header_and_first_and_last_names(client, team, django_capture_on_commit_callbacks):
    data = "First name,Last name,Email\r\nJosé,Núñez,jose@school.example\r\nKim,Lee,kim@school.example\r\n".encode("cp1252")
    upload = io.BytesIO(data)
    upload.name = "team.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/orders/{team.token}/seats/", {"list-csv_file": upload})
    assert response.status_code == 302
    assert team.seats.get(position=4).attendee_name == "José Núñez"
    assert team.seats.get(position=5).attendee_email == "kim@school.example"


def test_a_list_after_seat_changes_close_changes_nothing(client, team, workshop, django_capture_on_commit_callbacks):
    import time_machine

    with time_machine.travel(workshop.sessions.order_by("starts_at").first().starts_at):
        response = paste(client, team, "Dana Reyes, dana@school.example", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert not team.seats.filter(attendee_email="dana@school.example").exists()


def test_the_order_page_costs_the_same_queries_for_9_seats_and_50(client, workshop):
    small = OrderFactory(workshop=workshop, seat_count=9, seats=["Ana Diaz"])
    big = OrderFactory(workshop=workshop, seat_count=50, seats=[f"Person{n} X" for n in range(50)])
    counts = []
    for order in (small, big):
        with CaptureQueriesContext(connection) as queries:
            client.get(f"/orders/{order.token}/")
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- reading the list: whatever is pasted, the parser answers with lines, never an exception -------------

names = st.text(alphabet=st.characters(whitelist_categories=("L",)), min_size=1, max_size=12)
people = st.lists(
    st.tuples(st.lists(names, min_size=1, max_size=3).map(" ".join), st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.org", fullmatch=True)),
    min_size=1, max_size=20, unique_by=lambda p: p[1],
)


@hyp_settings(max_examples=60, deadline=None)
@given(people=people, style=st.sampled_from(["comma", "tab", "angle", "space"]))
def test_any_list_in_any_common_shape_reads_back_as_the_same_people(people, style):
    fmt = {"comma": "{0}, {1}", "tab": "{0}\t{1}", "angle": "{0} <{1}>", "space": "{0} {1}"}[style]
    lines = parse_pasted("\n".join(fmt.format(name, email) for name, email in people))
    assert [(line.name, line.email) for line in lines] == people
    assert not any(line.error for line in lines)


@hyp_settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_text_pasted_or_uploaded_gives_lines_with_a_name_and_email_or_an_error(text):
    for line in parse_pasted(text) + parse_csv(text):
        assert line.error or (line.name and "@" in line.email)


# --- after a post the page opens at its outcome (a phone shows a few rows of a long page) -------------------------


def row(html, position):
    """The markup of one seat's row."""
    start = html.index(f'id="seat-{position}"')
    return html[start:html.index("</li>", start)]


def top_messages(html):
    """The messages shown at the top of the page, above everything else."""
    if 'class="container mt-3 site-messages"' not in html:
        return ""
    start = html.index('class="container mt-3 site-messages"')
    return html[start:html.index("</div>\n      </div>", start)]


def test_a_seat_form_with_errors_comes_back_at_its_row_with_its_summary_focused(client, team):
    response = client.post(f"/orders/{team.token}/seats/5/", {"seat-5-name": "Chen Wei", "seat-5-email": "chen at school"})
    assert response.status_code == 400
    html = response.content.decode()
    # The form posts to its own row, so the page it gets back opens there, JavaScript or not.
    assert f'action="/orders/{team.token}/seats/5/#seat-5"' in row(html, 5)
    assert 'role="alert" tabindex="-1" data-focus-on-load><p class="mb-0">Please check the highlighted fields for seat 5.' in row(html, 5)


def test_a_saved_seat_says_so_in_its_row_where_the_redirect_lands(client, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/orders/{team.token}/seats/5/", {"seat-5-name": "Chen Wei", "seat-5-email": "chen@school.example"})
    assert response["Location"] == f"/orders/{team.token}/#seat-5"
    html = client.get(response["Location"]).content.decode()
    assert "Seat 5 saved. We have emailed Chen Wei their own link." in row(html, 5)
    assert 'class="placed-messages" role="status" tabindex="-1" data-focus-on-load' in row(html, 5)
    assert "Seat 5 saved" not in top_messages(html) and "Seat 5 saved" not in row(html, 4)


def test_a_refused_seat_change_says_why_in_its_row(client, team, workshop):
    import time_machine

    with time_machine.travel(workshop.sessions.order_by("starts_at").first().starts_at):
        response = client.post(f"/orders/{team.token}/seats/5/", {"seat-5-name": "Chen Wei", "seat-5-email": "chen@school.example"})
        html = client.get(response["Location"]).content.decode()
    assert response["Location"] == f"/orders/{team.token}/#seat-5"
    assert "Seat changes have closed for this workshop" in row(html, 5)


def test_a_resent_link_is_confirmed_in_the_seats_row(client, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/orders/{team.token}/seats/2/resend/")
    html = client.get(response["Location"]).content.decode()
    assert response["Location"] == f"/orders/{team.token}/#seat-2"
    assert "We have emailed Ana Diaz their own link again" in row(html, 2)
    assert "their own link again" not in top_messages(html)


def test_named_seats_are_confirmed_under_the_seats_heading(client, team, django_capture_on_commit_callbacks):
    response = paste(client, team, "Dana Reyes, dana@school.example", django_capture_on_commit_callbacks)
    assert response["Location"] == f"/orders/{team.token}/#seats"
    html = client.get(response["Location"]).content.decode()
    seats = html[html.index('id="seats"'):html.index('<ol class="list-unstyled seat-list')]
    assert "1 seat named." in seats and "1 seat named." not in top_messages(html)


def test_a_bad_list_comes_back_at_the_list_form_with_its_summary_focused(client, team, django_capture_on_commit_callbacks):
    html = paste(client, team, "Eli Park, eli@", django_capture_on_commit_callbacks).content.decode()
    assert f'action="/orders/{team.token}/seats/#name-many"' in html
    assert 'id="seat-list-errors" tabindex="-1" data-focus-on-load' in html


def test_a_saved_po_number_is_confirmed_beside_its_form_in_the_opened_receipt(client, team):
    response = client.post(f"/orders/{team.token}/po-number/", {"po_number": "PO-77"})
    assert response["Location"] == f"/orders/{team.token}/#po-number"
    html = client.get(response["Location"]).content.decode()
    section = html[html.index('<section id="po-number"'):]
    assert section.index("Purchase-order number saved.") < section.index("</section>")
    assert "Purchase-order number saved." not in top_messages(html)
    assert '<details class="my-4 order-details" id="receipt" open>' in html  # a team's receipt is folded otherwise
    assert '<details class="my-4 order-details" id="receipt" >' in page(client, team)


def test_a_bad_po_number_comes_back_at_its_form_with_its_summary_focused(client, team):
    response = client.post(f"/orders/{team.token}/po-number/", {"po_number": "X" * 101})
    assert response.status_code == 400
    html = response.content.decode()
    section = html[html.index('<section id="po-number"'):]
    assert f'action="/orders/{team.token}/po-number/#po-number"' in section
    assert 'data-focus-on-load><p class="mb-0">Please check the purchase-order number below.' in section
    assert '<details class="my-4 order-details" id="receipt" open>' in html


def test_adding_seats_by_invoice_without_billing_details_focuses_the_summary_beside_the_form(client, team):
    response = client.post(
        f"/orders/{team.token}/add-seats/", {"grow-extra_seats": "1", "grow-payment_method": "invoice"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    form = html[html.index('id="add-seats"'):]
    assert 'role="alert" tabindex="-1" data-focus-on-load><p class="mb-0">Please check the highlighted fields.' in form
    # Without JavaScript nothing moves focus, and the page opens at the top: a pointer there leads to the form.
    pointer = html[html.index("<noscript>"):html.index("</noscript>")]
    assert "No seats were added." in pointer and 'href="#add-seats"' in pointer
    assert html.index("</noscript>") < html.index('id="summary-heading"')
    assert "<noscript>" not in page(client, team)


def test_the_add_seats_form_comes_back_at_itself_without_javascript(client, team):
    html = client.get(f"/orders/{team.token}/").content.decode()
    assert f'action="/orders/{team.token}/add-seats/#add-seats"' in html
