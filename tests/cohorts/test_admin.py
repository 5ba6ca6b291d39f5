import csv
import io
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cohorts.models import WaitlistEntry, WaitlistStatusChange
from tests.cohorts.factories import CohortFactory, WaitlistEntryFactory
from tests.factories import OrderFactory

# Emails go out when the transaction commits (the outbox), so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/cohorts/waitlistentry/"


@pytest.mark.parametrize(
    "url",
    [
        "/admin/cohorts/cohort/",
        "/admin/cohorts/cohort/add/",
        "/admin/cohorts/cohorttouchpoint/",
        "/admin/cohorts/waitlistentry/",
        "/admin/cohorts/waitlistentry/add/",
        "/admin/cohorts/waitlistentry/?q=school",
        "/admin/cohorts/waitlistentry/?prerequisite=yes",
        "/admin/cohorts/waitlistentry/?prerequisite=no&kind__exact=team&status__exact=waiting",
        "/admin/cohorts/waitliststatuschange/",
    ],
)
def test_admin_pages_load_for_staff(staff_client, url):
    WaitlistEntryFactory(name="Visible Person")
    response = staff_client.get(url)
    assert response.status_code == 200
    assert b"Staff admin" in response.content


def test_admin_change_pages_load_for_staff(staff_client):
    entry = WaitlistEntryFactory()
    assert staff_client.get(f"/admin/cohorts/cohort/{entry.cohort.pk}/change/").status_code == 200
    response = staff_client.get(f"/admin/cohorts/waitlistentry/{entry.pk}/change/")
    assert response.status_code == 200
    # The entry's page is the person's private link: never on a staff screen (joining again emails it to them).
    assert entry.token.encode() not in response.content


def test_admin_pages_refuse_anonymous_users(client):
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_waitlist_search_finds_by_email_and_organisation(staff_client):
    cohort = CohortFactory()
    WaitlistEntryFactory(cohort=cohort, name="Ana", email="ana@lincoln.example", organisation="Lincoln")
    WaitlistEntryFactory(cohort=cohort, name="Ben", email="ben@roosevelt.example", organisation="Roosevelt")
    by_email = staff_client.get(f"{CHANGELIST}?q=ana@lincoln").content.decode()
    by_org = staff_client.get(f"{CHANGELIST}?q=roosevelt").content.decode()
    assert "ana@lincoln.example" in by_email and "ben@roosevelt.example" not in by_email
    assert "ben@roosevelt.example" in by_org and "ana@lincoln.example" not in by_org


def test_prerequisite_filter_shows_only_people_who_took_the_workshop(staff_client, cohort):
    OrderFactory(workshop=cohort.prerequisite_workshop, seats=["Ana Diaz"])
    WaitlistEntryFactory(cohort=cohort, email="ana@school.example")
    WaitlistEntryFactory(cohort=cohort, email="ben@school.example")
    met = staff_client.get(f"{CHANGELIST}?prerequisite=yes").content.decode()
    not_met = staff_client.get(f"{CHANGELIST}?prerequisite=no").content.decode()
    assert "ana@school.example" in met and "ben@school.example" not in met
    assert "ben@school.example" in not_met and "ana@school.example" not in not_met


def _changelist_queries(staff_client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = staff_client.get(CHANGELIST)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_waitlist_changelist_query_count_is_flat(staff_client, cohort):
    OrderFactory(workshop=cohort.prerequisite_workshop, seats=["Ana Diaz"])
    WaitlistEntryFactory(cohort=cohort, email="ana@school.example")
    WaitlistEntryFactory(cohort=CohortFactory())
    few = _changelist_queries(staff_client)
    for _ in range(30):
        WaitlistEntryFactory(cohort=cohort)
    for _ in range(10):
        WaitlistEntryFactory(cohort=CohortFactory(prerequisite_workshop=cohort.prerequisite_workshop))
    assert _changelist_queries(staff_client) == few


class _ChangelistRows(HTMLParser):
    """The text of each result row's list_display cells, with boolean icons read as yes/no."""

    def __init__(self):
        super().__init__()
        self.rows, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and self._in_body:
            self.rows.append([])
        if tag == "tbody" and self._in_results:
            self._in_body = True
        if tag == "table" and attrs.get("id") == "result_list":
            self._in_results = True
        if tag in ("td", "th") and "field-" in (attrs.get("class") or "") and self.rows:
            self._cell = []
        if tag == "img" and self._cell is not None:
            self._cell.append({"True": "yes", "False": "no"}.get(attrs.get("alt"), ""))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).strip()
            self.rows[-1].append("" if text == "-" else text)
            self._cell = None
        if tag == "table":
            self._in_results = self._in_body = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    _in_results = _in_body = False


def _export(staff_client, entries, url=CHANGELIST):
    response = staff_client.post(url, {"action": "export_csv", "_selected_action": [e.pk for e in entries]})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return response.content


def test_csv_export_matches_the_admin_rows(staff_client, cohort):
    OrderFactory(workshop=cohort.prerequisite_workshop, seats=["Zoe Nunez"])
    entries = [
        WaitlistEntryFactory(cohort=cohort, name="Díaz, Ana", organisation='Lincoln "East", Unified'),
        WaitlistEntryFactory(cohort=cohort, name="Zoë Ñúñez", email="zoe@school.example"),
        WaitlistEntryFactory(cohort=cohort, name="Team lead", kind="team", team_size=6, status="invited"),
    ]
    parser = _ChangelistRows()
    parser.feed(staff_client.get(CHANGELIST).content.decode())
    body = _export(staff_client, entries)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Joined", "Name", "Email"]
    # The list pairs name with email and organisation with role (to fit a laptop screen); the CSV keeps them apart.
    paired = [[r[0], r[1] + r[2], r[3] + r[4], *r[5:10]] for r in rows[1:]]
    assert paired == [row[:8] for row in parser.rows]
    assert [r[1] for r in rows[1:]] == ["Díaz, Ana", "Zoë Ñúñez", "Team lead"]
    assert rows[2][7] == "yes" and rows[1][7] == "no"
    assert rows[3][5] == "Team of 6"


def test_csv_quotes_commas_and_quotes_and_keeps_non_ascii_bytes(staff_client, cohort):
    entry = WaitlistEntryFactory(cohort=cohort, name="Díaz, Ana", organisation='Lincoln "East"')
    body = _export(staff_client, [entry]).decode("utf-8")
    assert '"Díaz, Ana"' in body
    assert '"Lincoln ""East"""' in body


def test_csv_exports_only_the_selected_rows(staff_client, cohort):
    chosen = WaitlistEntryFactory(cohort=cohort, name="Chosen")
    WaitlistEntryFactory(cohort=cohort, name="Not chosen")
    rows = list(csv.reader(io.StringIO(_export(staff_client, [chosen]).decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["Chosen"]


def test_csv_neutralises_spreadsheet_formulas(staff_client, cohort):
    entry = WaitlistEntryFactory(cohort=cohort, name="=HYPERLINK(\"http://evil.example\")")
    rows = list(csv.reader(io.StringIO(_export(staff_client, [entry]).decode("utf-8-sig"))))
    assert rows[1][1].startswith("'=")


def _invite(staff_client, entries):
    return staff_client.post(CHANGELIST, {"action": "invite", "_selected_action": [e.pk for e in entries]}, follow=True)


def test_invite_emails_each_entry_once_and_marks_them_invited(staff_client, cohort, django_user_model):
    entries = [WaitlistEntryFactory(cohort=cohort) for _ in range(3)]
    response = _invite(staff_client, entries)
    assert "Invited 3 entries; 3 invitation email(s) queued." in response.content.decode()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(e.email for e in entries)
    for entry in entries:
        entry.refresh_from_db()
        assert entry.status == "invited" and entry.invited_at is not None
        (message,) = [m for m in mail.outbox if m.to == [entry.email]]
        assert f"http://testserver/cohorts/waitlist/{entry.token}/invitation/" in message.body
        change = entry.status_changes.get()
        assert (change.from_status, change.to_status, change.changed_by.username) == ("waiting", "invited", "staff")


def test_second_invite_sends_nothing(staff_client, cohort):
    entries = [WaitlistEntryFactory(cohort=cohort) for _ in range(2)]
    _invite(staff_client, entries)
    first_invited_at = WaitlistEntry.objects.get(pk=entries[0].pk).invited_at
    mail.outbox.clear()
    response = _invite(staff_client, entries)
    assert mail.outbox == []
    assert "Skipped 2 already invited" in response.content.decode()
    assert WaitlistEntry.objects.get(pk=entries[0].pk).invited_at == first_invited_at
    assert WaitlistStatusChange.objects.filter(to_status="invited").count() == 2


def test_invite_skips_people_who_left(staff_client, cohort):
    left = WaitlistEntryFactory(cohort=cohort, status="withdrawn")
    _invite(staff_client, [left])
    left.refresh_from_db()
    assert left.status == "withdrawn" and mail.outbox == []


def _change_form(entry, **overrides):
    data = {
        "cohort": entry.cohort_id,
        "status": entry.status,
        "name": entry.name,
        "email": entry.email,
        "role": entry.role,
        "organisation": entry.organisation,
        "kind": entry.kind,
        "team_size": entry.team_size,
        "note": entry.note,
        "status_changes-TOTAL_FORMS": 0,
        "status_changes-INITIAL_FORMS": 0,
        "status_changes-MIN_NUM_FORMS": 0,
        "status_changes-MAX_NUM_FORMS": 1000,
    }
    data.update(overrides)
    return data


def test_status_edited_in_admin_is_recorded_with_who_and_when(staff_client, cohort):
    entry = WaitlistEntryFactory(cohort=cohort)
    response = staff_client.post(f"/admin/cohorts/waitlistentry/{entry.pk}/change/", _change_form(entry, status="enrolled"))
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == "enrolled"
    change = entry.status_changes.get()
    assert (change.from_status, change.to_status, change.changed_by.username) == ("waiting", "enrolled", "staff")
    assert change.changed_at is not None


def test_editing_other_fields_in_admin_records_no_status_change(staff_client, cohort):
    entry = WaitlistEntryFactory(cohort=cohort)
    staff_client.post(f"/admin/cohorts/waitlistentry/{entry.pk}/change/", _change_form(entry, note="Called them"))
    entry.refresh_from_db()
    assert entry.note == "Called them"
    assert not entry.status_changes.exists()


def test_admin_refuses_a_duplicate_email_in_another_case(staff_client, cohort):
    WaitlistEntryFactory(cohort=cohort, email="ana@school.example")
    entry = WaitlistEntryFactory(cohort=cohort)
    response = staff_client.post(
        f"/admin/cohorts/waitlistentry/{entry.pk}/change/", _change_form(entry, email="ANA@school.example")
    )
    assert response.status_code == 200
    assert "This email is already on the waitlist for this course." in response.content.decode()


def test_admin_added_entry_records_its_first_status(staff_client, cohort):
    entry = WaitlistEntryFactory.build(cohort=cohort, email="new@school.example")
    response = staff_client.post("/admin/cohorts/waitlistentry/add/", _change_form(entry))
    assert response.status_code == 302
    created = WaitlistEntry.objects.get(email="new@school.example")
    change = created.status_changes.get()
    assert (change.from_status, change.to_status, change.note) == ("", "waiting", "Added by staff")


def test_invite_during_a_mail_outage_keeps_the_email_for_a_retry(staff_client, cohort, settings):
    from registrations.models import OutboundEmail

    settings.EMAIL_BACKEND = "tests.cohorts.mail_backends.BrokenMailBackend"
    entry = WaitlistEntryFactory(cohort=cohort, email="ana@school.example")
    _invite(staff_client, [entry])
    entry.refresh_from_db()
    assert entry.status == "invited"
    email = OutboundEmail.objects.get(to_address="ana@school.example")
    assert email.sent_at is None and "SMTP server unavailable" in email.last_error


def test_resend_sends_the_invitation_again_to_invited_entries_only(staff_client, cohort):
    invited = WaitlistEntryFactory(cohort=cohort)
    waiting = WaitlistEntryFactory(cohort=cohort)
    _invite(staff_client, [invited])
    mail.outbox.clear()
    staff_client.post(CHANGELIST, {"action": "resend_invitation", "_selected_action": [invited.pk, waiting.pk]})
    assert [m.to for m in mail.outbox] == [[invited.email]]
    waiting.refresh_from_db()
    assert waiting.status == "waiting"
