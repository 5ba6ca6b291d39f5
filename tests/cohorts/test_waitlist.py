import re
import threading

import pytest
from django.core import mail
from django.db import connection

from cohorts import services
from cohorts.models import WaitlistEntry, WaitlistStatusChange
from tests.cohorts.factories import CohortFactory, WaitlistEntryFactory

# Emails go out when the transaction commits (the outbox), so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def _status_url(entry):
    return f"/cohorts/waitlist/{entry.token}/"


def test_joining_creates_an_entry_and_sends_its_link_by_email_only(client, cohort, join_data):
    WaitlistEntryFactory(cohort=cohort)
    response = client.post(cohort.get_absolute_url(), join_data(), follow=True)
    entry = WaitlistEntry.objects.get(email="Ana.Diaz@School.example")
    assert response.redirect_chain == [(f"{cohort.get_absolute_url()}#waitlist", 302)]
    assert (entry.name, entry.status, entry.kind, entry.team_size) == ("Ana Díaz", "waiting", "individual", 1)
    html = response.content.decode()
    assert "We have emailed the link to your waitlist page to Ana.Diaz@School.example" in html
    assert entry.token not in html
    assert "You are number 2 in line" in client.get(_status_url(entry)).content.decode()


def test_the_thanks_for_joining_shows_in_the_waitlist_card_the_redirect_lands_on(client, cohort, join_data):
    html = client.post(cohort.get_absolute_url(), join_data(), follow=True).content.decode()
    card = html[html.index('id="waitlist"'):html.index("</aside>")]
    thanks = "Thank you. We have emailed the link to your waitlist page"
    assert card.index('id="waitlist-heading"') < card.index('class="placed-messages" role="status" tabindex="-1" data-focus-on-load')
    assert card.index('data-focus-on-load') < card.index(thanks) < card.index("<form")
    assert html.count(thanks) == 1 and "site-messages" not in html


def test_joining_emails_a_link_to_the_status_page(client, cohort, join_data):
    client.post(cohort.get_absolute_url(), join_data())
    entry = WaitlistEntry.objects.get()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Ana.Diaz@School.example"]
    assert f"http://testserver/cohorts/waitlist/{entry.token}/" in message.body
    assert "number 1 in line" in message.body
    assert message.subject == f"Your waitlist link: {cohort.title}"


def test_joining_is_recorded_as_a_status_change(client, cohort, join_data):
    client.post(cohort.get_absolute_url(), join_data())
    change = WaitlistStatusChange.objects.get()
    assert (change.from_status, change.to_status, change.changed_by) == ("", "waiting", None)


def test_team_join_keeps_team_size(client, cohort, join_data):
    client.post(cohort.get_absolute_url(), join_data(kind="team", team_size="6"))
    entry = WaitlistEntry.objects.get()
    assert (entry.kind, entry.team_size) == ("team", 6)


def test_individual_is_always_one_person_whatever_team_size_says(client, cohort, join_data):
    client.post(cohort.get_absolute_url(), join_data(kind="individual", team_size="7"))
    assert WaitlistEntry.objects.get().team_size == 1


def test_same_email_in_other_case_changes_nothing_and_emails_that_address_its_link(client, cohort, join_data):
    first = WaitlistEntryFactory(cohort=cohort, email="ana.diaz@school.example", name="Ana", note="Two of us")
    WaitlistEntryFactory(cohort=cohort)
    client.post(cohort.get_absolute_url(), join_data(name="Someone Else", email="ANA.DIAZ@school.EXAMPLE", note="x"))
    assert WaitlistEntry.objects.filter(cohort=cohort).count() == 2
    first.refresh_from_db()
    assert (first.name, first.note, first.status) == ("Ana", "Two of us", "waiting")
    [message] = mail.outbox
    assert message.to == ["ana.diaz@school.example"]
    assert "It is already on the waitlist, so nothing was changed" in message.body
    assert f"/cohorts/waitlist/{first.token}/" in message.body


def test_duplicate_join_keeps_the_place_in_line(client, cohort, join_data):
    first = WaitlistEntryFactory(cohort=cohort, email="ana.diaz@school.example")
    joined_at = first.joined_at
    WaitlistEntryFactory(cohort=cohort)
    client.post(cohort.get_absolute_url(), join_data())
    first.refresh_from_db()
    assert first.joined_at == joined_at


def test_duplicate_join_does_not_reveal_the_private_link(client, cohort, join_data):
    first = WaitlistEntryFactory(cohort=cohort, email="ana.diaz@school.example")
    response = client.post(cohort.get_absolute_url(), join_data(), follow=True)
    assert first.token not in response.content.decode()
    assert response.redirect_chain == [(f"{cohort.get_absolute_url()}#waitlist", 302)]
    # The link goes to the address on the list instead.
    assert len(mail.outbox) == 1 and first.token in mail.outbox[0].body


def test_same_email_on_another_cohort_is_a_separate_entry(client, cohort, join_data):
    WaitlistEntryFactory(cohort=CohortFactory(), email="ana.diaz@school.example")
    client.post(cohort.get_absolute_url(), join_data())
    assert WaitlistEntry.objects.filter(email__iexact="ana.diaz@school.example").count() == 2


def test_leaving_withdraws_and_records_the_change(client, cohort):
    entry = WaitlistEntryFactory(cohort=cohort)
    response = client.post(f"{_status_url(entry)}leave/", follow=True)
    entry.refresh_from_db()
    assert entry.status == "withdrawn"
    assert "You have left the waitlist" in response.content.decode()
    change = entry.status_changes.get()
    assert (change.from_status, change.to_status) == ("waiting", "withdrawn")


def test_leave_needs_post(client, cohort):
    entry = WaitlistEntryFactory(cohort=cohort)
    assert client.get(f"{_status_url(entry)}leave/").status_code == 405
    entry.refresh_from_db()
    assert entry.status == "waiting"


def test_the_public_form_does_not_rejoin_someone_who_left_but_emails_them_their_page(client, cohort, join_data):
    ana = WaitlistEntryFactory(cohort=cohort, email="ana.diaz@school.example")
    WaitlistEntryFactory(cohort=cohort)
    client.post(f"{_status_url(ana)}leave/")
    client.post(cohort.get_absolute_url(), join_data())
    ana.refresh_from_db()
    assert ana.status == "withdrawn"
    assert WaitlistEntry.objects.filter(cohort=cohort).count() == 2
    [message] = mail.outbox
    assert "You left the waitlist earlier; to rejoin (at the end of the line), open your page below." in message.body
    assert f"/cohorts/waitlist/{ana.token}/" in message.body


def test_rejoin_button_on_status_page_puts_them_back_at_the_end(client, cohort):
    ana = WaitlistEntryFactory(cohort=cohort)
    WaitlistEntryFactory(cohort=cohort)
    client.post(f"{_status_url(ana)}leave/")
    response = client.post(f"{_status_url(ana)}rejoin/", follow=True)
    ana.refresh_from_db()
    assert ana.status == "waiting"
    assert "You are number 2 in line" in response.content.decode()
    assert list(ana.status_changes.values_list("to_status", flat=True)) == ["withdrawn", "waiting"]


def test_place_in_line_moves_up_when_people_ahead_leave(client, cohort):
    first, second, third, me = (WaitlistEntryFactory(cohort=cohort) for _ in range(4))
    assert "You are number 4 in line" in client.get(_status_url(me)).content.decode()
    client.post(f"{_status_url(first)}leave/")
    client.post(f"{_status_url(third)}leave/")
    html = client.get(_status_url(me)).content.decode()
    assert "You are number 2 in line" in html


def test_place_in_line_ignores_enrolled_people_and_other_cohorts(client, cohort):
    WaitlistEntryFactory(cohort=cohort, status="enrolled")
    WaitlistEntryFactory(cohort=CohortFactory())
    WaitlistEntryFactory(cohort=cohort, status="invited")
    me = WaitlistEntryFactory(cohort=cohort)
    assert "You are number 2 in line" in client.get(_status_url(me)).content.decode()


def test_status_page_404s_for_a_bad_token(client, cohort):
    WaitlistEntryFactory(cohort=cohort)
    response = client.get("/cohorts/waitlist/not-a-real-token/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_leave_404s_for_a_bad_token(client, cohort):
    assert client.post("/cohorts/waitlist/not-a-real-token/leave/").status_code == 404


def test_status_page_updates_details_and_keeps_the_place(client, cohort, join_data):
    WaitlistEntryFactory(cohort=cohort)
    me = WaitlistEntryFactory(cohort=cohort)
    response = client.post(
        _status_url(me), join_data(name="Ana M. Díaz", email=me.email, kind="team", team_size="4"), follow=True
    )
    me.refresh_from_db()
    assert (me.name, me.kind, me.team_size) == ("Ana M. Díaz", "team", 4)
    html = response.content.decode()
    assert "Your details are updated" in html and "You are number 2 in line" in html
    assert mail.outbox == []


def _confirm_link(message) -> str:
    return re.search(r"http://testserver(/cohorts/waitlist/confirm-email/[^/\s]+/)", message.body).group(1)


def test_a_new_email_address_takes_effect_only_once_its_inbox_confirms_it(client, cohort, join_data):
    me = WaitlistEntryFactory(cohort=cohort, email="me@school.example")
    old_token = me.token
    response = client.post(_status_url(me), join_data(email="ana@new.example"), follow=True)
    me.refresh_from_db()
    assert me.email == "me@school.example"
    assert "We have emailed a confirmation link to ana@new.example" in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["ana@new.example"] and me.name not in message.body
    link = _confirm_link(message)
    assert client.get(link).status_code == 200  # a button, not a change: mail scanners open links
    me.refresh_from_db()
    assert me.email == "me@school.example"
    client.post(link)
    me.refresh_from_db()
    assert me.email == "ana@new.example" and me.token != old_token
    assert client.get(f"/cohorts/waitlist/{old_token}/").status_code == 404
    assert f"/cohorts/waitlist/{me.token}/" in mail.outbox[-1].body and mail.outbox[-1].to == ["ana@new.example"]
    assert client.post(link).status_code == 400  # used once


def test_a_tampered_confirmation_link_changes_nothing(client, cohort, join_data):
    me = WaitlistEntryFactory(cohort=cohort, email="me@school.example")
    client.post(_status_url(me), join_data(email="ana@new.example"))
    link = _confirm_link(mail.outbox[0])
    response = client.post(link[:-3] + "xx/")
    assert response.status_code == 400
    assert "has expired or is not complete" in response.content.decode()
    me.refresh_from_db()
    assert me.email == "me@school.example"


def _page(response, typed: str) -> str:
    """What the visitor saw, with their own typing and the per-request CSRF token taken out."""
    html = response.content.decode().replace(typed, "<typed>")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_status_page_answers_the_same_for_an_email_another_entry_uses(client, cohort, join_data):
    WaitlistEntryFactory(cohort=cohort, email="taken@school.example")
    me = WaitlistEntryFactory(cohort=cohort, email="me@school.example")
    taken = client.post(_status_url(me), join_data(email="TAKEN@school.example"), follow=True)
    free = client.post(_status_url(me), join_data(email="FREE@school.example"), follow=True)
    assert taken.redirect_chain == free.redirect_chain
    assert _page(taken, "TAKEN@school.example") == _page(free, "FREE@school.example")
    # Only the owner of the taken address, confirming, learns that it already has an entry.
    response = client.post(_confirm_link(mail.outbox[0]))
    assert response.status_code == 400
    assert "This address already has its own entry on this waitlist" in response.content.decode()
    me.refresh_from_db()
    assert me.email == "me@school.example"


def test_closed_cohort_takes_no_names(client, join_data):
    cohort = CohortFactory(status="closed")
    response = client.post(cohort.get_absolute_url(), join_data())
    assert response.status_code == 400
    assert "The waitlist for this course is closed." in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def _field_error(html: str, field: str) -> str:
    """The error text crispy renders under a field (tied to it by id)."""
    match = re.search(rf'id="error_1_id_{field}"[^>]*>\s*<strong>(.*?)</strong>', html, re.S)
    return match.group(1).strip() if match else ""


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "   "}, "name", "This field is required."),
        ({"email": "ana-at-school"}, "email", "Enter a valid email address."),
        ({"email": ""}, "email", "This field is required."),
        ({"role": "wizard"}, "role", "Select a valid choice. wizard is not one of the available choices."),
        ({"kind": "team", "team_size": "0"}, "team_size", "Enter a number of people from 1 to 500."),
        ({"kind": "team", "team_size": "10000"}, "team_size", "For more than 500 people, please write to us instead."),
        ({"kind": "team", "team_size": "lots"}, "team_size", "Enter a whole number of people, such as 4."),
        ({"kind": "team", "team_size": ""}, "team_size", "How many people are in your team, including you?"),
        ({"kind": "team", "team_size": "5", "organisation": ""}, "organisation", "Tell us which school, district or organisation the team is from."),
    ],
)
def test_invalid_join_shows_the_message_at_the_field_and_keeps_input(client, cohort, join_data, overrides, field, message):
    data = join_data(**overrides)
    response = client.post(cohort.get_absolute_url(), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert _field_error(html, field) == message
    for name in ("name", "email", "organisation", "team_size"):
        if data[name].strip():
            assert f'value="{data[name]}"' in html, name
    assert not WaitlistEntry.objects.exists()
    assert mail.outbox == []


def test_invalid_join_keeps_the_typed_name_and_team_size(client, cohort, join_data):
    response = client.post(cohort.get_absolute_url(), join_data(email="nope", kind="team", team_size="12"))
    html = response.content.decode()
    assert 'value="Ana Díaz"' in html
    assert 'value="12"' in html
    assert re.search(r'value="team"[^>]*checked', html)


def test_team_size_error_is_tied_to_its_input(client, cohort, join_data):
    html = client.post(cohort.get_absolute_url(), join_data(kind="team", team_size="0")).content.decode()
    field = re.search(r'<input[^>]*name="team_size"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field or "is-invalid" in field
    assert re.search(r'<label[^>]*for="id_team_size"', html)


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "Ana\x00Díaz"},
        {"kind": "team", "team_size": "99999999999999999999999999"},
        {"kind": "team", "team_size": "-3"},
        {"kind": "team", "team_size": "2.5"},
        {"email": "a" * 400 + "@school.example"},
        {"note": "x" * 5000},
        {"kind": "crowd"},
        {"kind": ""},
    ],
)
def test_odd_input_is_refused_with_400_not_500(client, cohort, join_data, overrides):
    response = client.post(cohort.get_absolute_url(), join_data(**overrides))
    assert response.status_code == 400
    assert "is-invalid" in response.content.decode()
    assert not WaitlistEntry.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_joins_with_one_email_leave_one_entry():
    cohort = CohortFactory()
    barrier = threading.Barrier(4)
    outcomes = []

    def join(email):
        try:
            barrier.wait()
            result = services.join_waitlist(
                cohort=cohort,
                details=services.EntryDetails(name="Ana", email=email, role="teacher"),
            )
            outcomes.append(result.outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=join, args=(email,)) for email in ("ana@x.example", "ANA@x.example") * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert WaitlistEntry.objects.filter(cohort=cohort).count() == 1
    assert sorted(outcomes) == ["existing", "existing", "existing", "joined"]


def test_join_still_succeeds_when_the_mail_server_is_down(client, cohort, join_data, settings):
    settings.EMAIL_BACKEND = "tests.cohorts.mail_backends.BrokenMailBackend"
    response = client.post(cohort.get_absolute_url(), join_data())
    assert WaitlistEntry.objects.get().status == "waiting"
    assert response.status_code == 302 and response["Location"] == f"{cohort.get_absolute_url()}#waitlist"
