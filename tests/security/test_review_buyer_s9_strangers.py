"""A stranger's email too long for its column: the public forms a stranger can send (the course waitlist, "tell me when
a seat frees up") accept an address the database cannot hold, and PostgreSQL's refusal is a server error."""

import pytest

from tests.cohorts.factories import CohortFactory
from tests.factories import WorkshopFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# 260 characters, valid to Django's EmailValidator and within forms.EmailField's 320, over the models' 254.
LONG_EMAIL = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com"


@pytest.mark.parametrize("form", ["waitlist", "seat alert"])
def test_a_strangers_email_too_long_to_store_is_a_message_beside_the_field(client, form):
    client.raise_request_exception = False
    if form == "waitlist":
        url, data = CohortFactory().get_absolute_url(), {
            "name": "Ana Díaz", "email": LONG_EMAIL, "role": "school_leader", "organisation": "Lincoln Unified",
            "kind": "individual", "team_size": "", "note": "",
        }
    else:
        url, data = f"/workshops/{WorkshopFactory().slug}/notify-me/", {"email": LONG_EMAIL}
    response = client.post(url, data)
    assert response.status_code == 400
    assert "254" in response.content.decode() or "characters" in response.content.decode()
