from datetime import datetime
from datetime import timezone as dt_timezone

import pytest
import time_machine
from django.core.management import call_command

from workshops.models import PreworkModule, PriceTier, Session, Workshop

pytestmark = pytest.mark.django_db


def _counts():
    return (Workshop.objects.count(), Session.objects.count(), PreworkModule.objects.count(), PriceTier.objects.count())


def test_seed_twice_creates_nothing_twice():
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    assert first[:4] == (1, 2, 2, 2)


@time_machine.travel(datetime(2026, 11, 28, 12, tzinfo=dt_timezone.utc), tick=False)
def test_seed_uses_next_may_dates_at_4pm_pacific(client):
    call_command("seed_demo")
    workshop = Workshop.objects.get()
    starts = [s.starts_at for s in workshop.sessions.order_by("starts_at")]
    assert [s.isoformat() for s in starts] == ["2027-05-05T23:00:00+00:00", "2027-05-19T23:00:00+00:00"]
    assert sum(m.minutes for m in workshop.prework_modules.all()) == 120
    assert sorted(workshop.price_tiers.values_list("min_seats", "unit_price_cents")) == [(1, 12000), (5, 10000)]
    html = client.get(workshop.get_absolute_url()).content.decode()
    assert "Wednesday, May 5, 2027, 4:00–6:00 PM Pacific Time" in html
    assert "Wednesday, May 19, 2027, 4:00–6:00 PM Pacific Time" in html


@time_machine.travel(datetime(2027, 5, 6, 12, tzinfo=dt_timezone.utc), tick=False)
def test_seed_after_may_5th_moves_to_next_year():
    call_command("seed_demo")
    first = Workshop.objects.get().sessions.order_by("starts_at").first()
    assert first.starts_at.year == 2028


def test_demo_admin_prints_a_generated_password(capsys, django_user_model):
    call_command("demo_admin")
    first = capsys.readouterr().out
    call_command("demo_admin")
    second = capsys.readouterr().out
    password = first.split("password: ")[1].split()[0]
    assert password not in second
    assert django_user_model.objects.get(username="admin").check_password(second.split("password: ")[1].split()[0])
