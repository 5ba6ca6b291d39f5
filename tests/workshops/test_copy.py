"""The pages say what the organisation says: its opening point up front, what past participants reported,
and the workshop plainly as the prerequisite for the year-long course, on both pages."""

import pytest
from django.core.management import call_command

from cohorts.models import Cohort

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    return Cohort.objects.get().prerequisite_workshop


def test_the_home_page_opens_with_the_organisations_point_then_dates_price_and_register(client, demo):
    html = client.get("/").content.decode()
    hero = html[html.index('<section class="hero'):html.index('id="workshop"')]
    assert "Racial affinity groups are not racist." in hero
    assert "essential strategy" in hero
    assert demo.schedule in hero and "$120 per participant; $100 each for teams of 5 or more" in hero
    assert f'href="/workshops/{demo.slug}/register/">Register</a>' in hero


def test_the_home_page_reports_what_past_participants_said(client, demo):
    html = client.get("/").content.decode()
    assert "never knew the power of these spaces" in html and "What if it goes wrong?" in html


def test_the_workshop_page_states_it_is_the_prerequisite_for_the_course(client, demo):
    html = client.get(demo.get_absolute_url()).content.decode()
    assert "No, racial affinity groups are not racist." in html
    assert "This workshop is the prerequisite for" in html
    assert f'href="{Cohort.objects.get().get_absolute_url()}"' in html


def test_the_course_page_states_the_workshop_is_its_prerequisite(client, demo):
    html = client.get(Cohort.objects.get().get_absolute_url()).content.decode()
    assert "is the prerequisite for this course" in html


def test_the_closed_page_no_longer_sends_people_to_the_course_that_needs_the_workshop(client, workshop):
    workshop.registration_closes_at = workshop.created_at
    workshop.save()
    html = client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    assert "Registration is closed" in html
    assert "#cohort" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    assert 'href="/links/">Email me my links</a>' in html
