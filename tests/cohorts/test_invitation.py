import pytest
from django.utils import timezone

from tests.cohorts.factories import WaitlistEntryFactory

pytestmark = pytest.mark.django_db


def _url(entry):
    return f"/cohorts/waitlist/{entry.token}/invitation/"


def test_invitation_page_asks_an_invited_person_to_confirm(client, cohort):
    entry = WaitlistEntryFactory(cohort=cohort, status="invited", invited_at=timezone.now())
    html = client.get(_url(entry)).content.decode()
    assert "Your invitation to the year-long course" in html
    assert "Yes, confirm my seat" in html


def test_confirming_records_the_time_once(client, cohort):
    entry = WaitlistEntryFactory(cohort=cohort, status="invited", invited_at=timezone.now())
    response = client.post(_url(entry), follow=True)
    entry.refresh_from_db()
    confirmed_at = entry.seat_confirmed_at
    assert confirmed_at is not None
    assert "your seat request is confirmed" in response.content.decode()
    assert "Yes, confirm my seat" not in response.content.decode()
    client.post(_url(entry))
    entry.refresh_from_db()
    assert entry.seat_confirmed_at == confirmed_at


def test_someone_not_yet_invited_cannot_confirm(client, cohort):
    entry = WaitlistEntryFactory(cohort=cohort)
    assert "No open invitation" in client.get(_url(entry)).content.decode()
    response = client.post(_url(entry), follow=True)
    entry.refresh_from_db()
    assert entry.seat_confirmed_at is None
    assert "This invitation is no longer open." in response.content.decode()


def test_invitation_page_404s_for_a_bad_token(client, cohort):
    assert client.get("/cohorts/waitlist/nope/invitation/").status_code == 404
    assert client.post("/cohorts/waitlist/nope/invitation/").status_code == 404


def test_rejoining_after_leaving_clears_an_old_invitation(client, cohort):
    entry = WaitlistEntryFactory(cohort=cohort, status="invited", invited_at=timezone.now())
    client.post(_url(entry))
    client.post(f"/cohorts/waitlist/{entry.token}/leave/")
    client.post(f"/cohorts/waitlist/{entry.token}/rejoin/")
    entry.refresh_from_db()
    assert (entry.status, entry.invited_at, entry.seat_confirmed_at) == ("waiting", None, None)
