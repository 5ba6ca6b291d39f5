"""Issue 15, findings 1-3: the waitlist is no oracle, a stranger cannot change someone's entry, and an
invitation is for the team size it was given."""

import re

import pytest
from django.core import mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohorts.models import WaitlistEntry
from registrations.models import Order, OutboundEmail
from tests.cohorts.factories import CohortFactory, WaitlistEntryFactory
from tests.factories import OrderFactory

# Emails go out when the transaction commits (the outbox), so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def _seen(response, typed: str) -> str:
    """Everything the stranger's browser got, with their own typing and the per-visit CSRF token taken out."""
    parts = [str(response.status_code), repr(response.redirect_chain)]
    html = response.content.decode().replace(typed, "<typed>")
    parts.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html))
    return "\n".join(parts)


def _join(client, cohort, email, **overrides):
    data = {"name": "Mallory", "email": email, "role": "teacher", "organisation": "Elsewhere", "kind": "individual",
            "team_size": "", "note": ""}
    data.update(overrides)
    return client.post(cohort.get_absolute_url(), data, follow=True)


@pytest.mark.parametrize("status", ["waiting", "invited", "enrolled", "withdrawn"])
def test_finding_1_a_stranger_sees_the_same_for_a_known_and_an_unknown_email(client, status):
    """Finding 1: the join form no longer leads to the entry's page or says whether an email is known."""
    cohort = CohortFactory()
    # Known, and registered for the prerequisite workshop: the old page said so to whoever typed it.
    OrderFactory(workshop=cohort.prerequisite_workshop, seats=["Ana Diaz"])
    known = WaitlistEntryFactory(cohort=cohort, email="ana@school.example", status=status)

    known_response = _join(client, cohort, "ANA@school.example")
    known_mail = list(mail.outbox)
    mail.outbox.clear()
    unknown_response = _join(client, cohort, "nobody@school.example")
    unknown_mail = list(mail.outbox)

    assert _seen(known_response, "ANA@school.example") == _seen(unknown_response, "nobody@school.example")
    assert known.token not in known_response.content.decode()
    assert "Workshop completed / registered" not in known_response.content.decode()
    # One email each, to the address typed, with the same subject; only that inbox reads the rest.
    assert [(m.to, m.subject) for m in known_mail] == [(["ana@school.example"], f"Your waitlist link: {cohort.title}")]
    assert [(m.to, m.subject) for m in unknown_mail] == [(["nobody@school.example"], f"Your waitlist link: {cohort.title}")]


def test_finding_1_the_holder_cannot_point_the_entry_at_another_address_to_probe_it(client):
    """Finding 1: changing the email on the private page no longer shows the new address's prerequisite status."""
    cohort = CohortFactory()
    OrderFactory(workshop=cohort.prerequisite_workshop, seats=["Victim Person"])  # victim@school.example
    mine = WaitlistEntryFactory(cohort=cohort, email="me@school.example")
    response = client.post(
        mine.get_absolute_url(),
        {"name": mine.name, "email": "victim@school.example", "role": "teacher", "organisation": "",
         "kind": "individual", "team_size": "", "note": ""},
        follow=True,
    )
    html = response.content.decode()
    assert "Workshop completed / registered" not in html
    assert "Workshop not taken yet" in html  # still about me@school.example
    mine.refresh_from_db()
    assert mine.email == "me@school.example"


def test_finding_2_the_public_form_does_not_overwrite_someone_elses_entry(client):
    """Finding 2: typing someone's email no longer replaces their name, team size and note."""
    cohort = CohortFactory()
    theirs = WaitlistEntryFactory(cohort=cohort, email="ana@school.example", name="Ana Diaz", kind="team",
                                  team_size=3, note="Three of us from Lincoln")
    _join(client, cohort, "Ana@School.example", name="Mallory", kind="team", team_size="40", note="changed")
    theirs.refresh_from_db()
    assert (theirs.name, theirs.team_size, theirs.note) == ("Ana Diaz", 3, "Three of us from Lincoln")


def _update(client, entry, **fields):
    data = {"name": entry.name, "email": entry.email, "role": entry.role, "organisation": "Lincoln",
            "kind": entry.kind, "team_size": str(entry.team_size) if entry.is_team else "", "note": ""}
    data.update(fields)
    return client.post(entry.get_absolute_url(), data)


def test_finding_3_an_invited_individual_cannot_raise_their_team_size(client):
    """Finding 3: the private page no longer turns an invitation for one into fifty seats."""
    cohort = CohortFactory()
    entry = WaitlistEntryFactory(cohort=cohort, status="invited")
    response = _update(client, entry, kind="team", team_size="50")
    entry.refresh_from_db()
    assert (entry.kind, entry.team_size) == ("individual", 1)
    assert response.status_code in (302, 400)
    page = client.get(entry.get_absolute_url()).content.decode()
    assert "Fixed once you are invited" in page
    assert re.search(r'<input[^>]*name="team_size"[^>]*disabled', page)


def test_an_invited_team_keeps_its_size_whatever_is_posted_and_pays_for_that_many(client, stripe_double, staff_client):
    from tests.cohorts.test_enrolment import open_cohort

    cohort = open_cohort(staff_client, CohortFactory())
    entry = WaitlistEntryFactory(cohort=cohort, status="invited", kind="team", team_size=4)
    _update(client, entry, team_size="50")
    entry.refresh_from_db()
    assert entry.team_size == 4
    client.post(f"/cohorts/waitlist/{entry.token}/pay/")
    assert Order.objects.get(workshop=cohort.offering).seat_count == 4


def test_a_waiting_entry_can_still_change_its_team_size(client):
    entry = WaitlistEntryFactory(cohort=CohortFactory(), kind="team", team_size=3)
    _update(client, entry, team_size="6")
    entry.refresh_from_db()
    assert entry.team_size == 6


def test_prerequisite_status_shows_only_behind_the_private_link(client):
    cohort = CohortFactory()
    OrderFactory(workshop=cohort.prerequisite_workshop, seats=["Ana Diaz"])
    entry = WaitlistEntryFactory(cohort=cohort, email="ana@school.example")
    public = _join(client, cohort, "ana@school.example").content.decode()
    assert "Workshop completed / registered" not in public
    assert "Workshop completed / registered" in client.get(entry.get_absolute_url()).content.decode()


EMAILS = st.sampled_from(["ana@school.example", "ANA@school.example", "ben@school.example", "cy@school.example"])
JOIN = st.fixed_dictionaries({
    "email": EMAILS,
    "name": st.sampled_from(["Ana", "Mallory", "Ben"]),
    "kind": st.sampled_from(["individual", "team"]),
    "team_size": st.integers(min_value=2, max_value=40).map(str),
    "note": st.sampled_from(["", "hello", "overwrite"]),
})


@pytest.mark.django_db(transaction=False)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(joins=st.lists(JOIN, min_size=1, max_size=6))
def test_whatever_strangers_type_each_entry_keeps_its_first_details_and_each_join_emails_only_the_typed_inbox(
    client, joins
):
    """Any sequence of public joins: one entry per address, holding what was first typed for it; every
    join queues exactly one email, to that address; the visitor's answer never depends on the address."""
    cohort = CohortFactory(touch_points=False)
    first: dict[str, dict] = {}
    answers = set()
    for join in joins:
        before = OutboundEmail.objects.count()
        data = {**join, "role": "teacher", "organisation": "Lincoln"}
        response = client.post(cohort.get_absolute_url(), data)
        answers.add((response.status_code, response["Location"]))
        queued = list(OutboundEmail.objects.order_by("pk")[before:])
        assert [q.to_address.lower() for q in queued] == [join["email"].lower()]
        first.setdefault(join["email"].lower(), join)
    assert answers == {(302, f"{cohort.get_absolute_url()}#waitlist")}
    entries = {e.email.lower(): e for e in WaitlistEntry.objects.filter(cohort=cohort)}
    assert set(entries) == set(first)
    for email, join in first.items():
        entry = entries[email]
        assert (entry.name, entry.kind, entry.note) == (join["name"], join["kind"], join["note"])
        assert entry.team_size == (int(join["team_size"]) if join["kind"] == "team" else 1)
