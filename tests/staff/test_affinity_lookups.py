"""Who chose an affinity group is as private as the choice: the roster's and seat screen's query string must
not list the attendees who chose one for staff who may not see choices. Each test failed before the fix."""

import pytest

from registrations.models import BreakoutPlacement
from tests.factories import WorkshopFactory
from tests.registrations.affinity_helpers import add_groups, attendees, choose

pytestmark = pytest.mark.django_db
ROSTER = "/admin/registrations/rosterseat/"
SEATS = "/admin/registrations/seat/"


@pytest.fixture
def one_chose():
    """Ana chose a group, Ben did not."""
    workshop = WorkshopFactory()
    groups = add_groups(workshop)
    ana, _ben = attendees(workshop, ["Ana Diaz", "Ben Okafor"])
    choose(ana, groups["Black"])
    BreakoutPlacement.objects.create(session=workshop.sessions.first(), seat=ana, kind=BreakoutPlacement.Kind.ABSENT)
    return workshop


def _lists_only_ana(response) -> bool:
    html = response.content.decode()
    return response.status_code == 200 and "Ana Diaz" in html and "Ben Okafor" not in html


@pytest.mark.parametrize(
    "query",
    ["affinity_choice__isnull=False", "affinity_choice__isnull=True", "affinity_choice__id__gte=1",
     "breakout_placements__isnull=False"],
)
def test_a_facilitator_cannot_filter_the_roster_by_who_chose_an_affinity_group(role_client, one_chose, query):
    """Before: ?affinity_choice__isnull=False listed exactly the attendees who had chosen a group (and =True those
    who had not), to a facilitator, whose role sees only their own groups' rooms in "Breakout rooms"."""
    client = role_client("Facilitator")
    one_chose.facilitators.add(client.user)
    assert client.get(ROSTER).status_code == 200
    response = client.get(f"{ROSTER}?{query}")
    assert response.status_code == 400 or (
        "Ana Diaz" in response.content.decode() and "Ben Okafor" in response.content.decode()
    )


def test_finance_cannot_filter_the_seat_screen_by_affinity_choice(role_client, one_chose):
    response = role_client("Finance").get(f"{SEATS}?affinity_choice__isnull=False")
    assert response.status_code == 400 or not _lists_only_ana(response)


def test_a_coordinator_who_sees_every_choice_may_still_filter_on_it(role_client, one_chose):
    response = role_client("Coordinator").get(f"{ROSTER}?affinity_choice__isnull=False")
    assert _lists_only_ana(response)
