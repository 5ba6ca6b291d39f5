"""Staff define each workshop's affinity groups in their own words, with facilitators and a room size."""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from registrations.models import AffinityChoice
from tests.factories import OrderFactory, WorkshopFactory
from workshops.management.commands.seed_demo import SLUG
from workshops.models import AffinityFacilitator, AffinityGroup, Workshop

pytestmark = pytest.mark.django_db


def group_form(workshop, label, **extra):
    return {
        "workshop": workshop.pk, "label": label, "description": "", "position": 1,
        "facilitators-TOTAL_FORMS": 0, "facilitators-INITIAL_FORMS": 0, **extra,
    }


def test_staff_add_a_group_with_a_staff_facilitator_and_one_by_name(staff_client, django_user_model):
    workshop = WorkshopFactory()
    robin = django_user_model.objects.create_user("robin", "robin@esl.example", "pw", is_staff=True)
    data = group_form(workshop, "Multiracial", description="For people with more than one racial identity.")
    data.update({
        "facilitators-TOTAL_FORMS": 2,
        "facilitators-0-user": robin.pk,
        "facilitators-1-name": "Sam Guest", "facilitators-1-email": "sam@guest.example",
    })
    response = staff_client.post("/admin/workshops/affinitygroup/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    group = AffinityGroup.objects.get(workshop=workshop)
    assert group.label == "Multiracial"
    assert sorted(f.display_name for f in group.facilitators.all()) == ["Sam Guest", "robin"]


def test_a_facilitator_needs_a_staff_user_or_a_name_and_email(staff_client):
    workshop = WorkshopFactory()
    data = group_form(workshop, "White", **{"facilitators-TOTAL_FORMS": 1, "facilitators-0-name": "No Email"})
    response = staff_client.post("/admin/workshops/affinitygroup/add/", data)
    assert response.status_code == 200
    assert "Choose a staff user, or give the facilitator&#x27;s name and email." in response.content.decode()
    assert not AffinityFacilitator.objects.exists()


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("=SUM(A1)", "Start with a letter or digit"),
        ("Group 2", "End the label with a word, not a number"),
    ],
)
def test_labels_that_would_break_room_names_or_spreadsheets_are_refused(staff_client, label, message):
    workshop = WorkshopFactory()
    response = staff_client.post("/admin/workshops/affinitygroup/add/", group_form(workshop, label))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AffinityGroup.objects.exists()


def test_two_groups_of_one_workshop_cannot_share_a_label(staff_client):
    workshop = WorkshopFactory()
    AffinityGroup.objects.create(workshop=workshop, label="White")
    response = staff_client.post("/admin/workshops/affinitygroup/add/", group_form(workshop, "White"))
    assert response.status_code == 200
    assert AffinityGroup.objects.count() == 1


def test_the_workshop_page_in_admin_lists_its_groups_and_the_room_settings(staff_client):
    workshop = WorkshopFactory()
    AffinityGroup.objects.create(workshop=workshop, label="Asian / Asian American")
    html = staff_client.get(f"/admin/workshops/workshop/{workshop.pk}/change/").content.decode()
    assert "Affinity groups offered (in your own words)" in html
    assert 'value="Asian / Asian American"' in html
    assert 'name="breakout_room_size" value="8"' in html
    assert 'name="affinity_choice_close_hours" value="12"' in html


def test_a_room_size_below_two_is_refused(staff_client):
    workshop = WorkshopFactory()
    workshop.breakout_room_size = 1
    with pytest.raises(ValidationError, match="Ensure this value is greater than or equal to 2"):
        workshop.full_clean()


def test_duplicating_a_workshop_copies_its_groups_and_facilitators_but_no_choices(staff_client):
    workshop = WorkshopFactory(breakout_room_size=6)
    group = AffinityGroup.objects.create(workshop=workshop, label="Black", description="d", position=3)
    AffinityFacilitator.objects.create(group=group, name="Robin", email="robin@esl.example")
    seat = OrderFactory(workshop=workshop, seats=["Ana Diaz"]).seats.get()
    AffinityChoice.objects.create(seat=seat, group=group)
    staff_client.post("/admin/workshops/workshop/", {"action": "duplicate_for_next_year", "_selected_action": [workshop.pk]})
    copy = Workshop.objects.exclude(pk=workshop.pk).get()
    copied = copy.affinity_groups.get()
    assert (copied.label, copied.description, copied.position, copy.breakout_room_size) == ("Black", "d", 3, 6)
    assert copied.facilitators.get().email == "robin@esl.example"
    assert not AffinityChoice.objects.filter(group=copied).exists()


def test_the_demo_offers_a_respectful_set_of_groups_ending_with_not_sure_yet():
    call_command("seed_demo", stdout=StringIO())
    labels = list(AffinityGroup.objects.filter(workshop__slug=SLUG).values_list("label", flat=True))
    assert labels[-1] == "Not sure yet / talk to a facilitator"
    assert {"Black", "Latine/Hispanic", "Asian / Asian American", "Indigenous / Native", "Multiracial", "White",
            "Middle Eastern / North African"} <= set(labels)
    assert all(AffinityGroup.objects.filter(workshop__slug=SLUG).values_list("description", flat=True))


def test_seeding_again_never_re_adds_groups_staff_renamed_or_removed():
    call_command("seed_demo", stdout=StringIO())
    groups = AffinityGroup.objects.filter(workshop__slug=SLUG)
    groups.filter(label="White").update(label="White / European American")
    groups.filter(label="Multiracial").delete()
    call_command("seed_demo", stdout=StringIO())
    labels = set(groups.values_list("label", flat=True))
    assert "White / European American" in labels and "White" not in labels and "Multiracial" not in labels
