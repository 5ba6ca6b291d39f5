import pytest
from django.core.exceptions import ValidationError

from tests.factories import WorkshopFactory, pacific
from workshops.models import PriceTier, Session, Workshop
from workshops.selectors import NoPriceError, quote_for

pytestmark = pytest.mark.django_db


def test_session_must_end_after_it_starts():
    workshop = WorkshopFactory(with_schedule=False)
    session = Session(workshop=workshop, starts_at=pacific(2031, 5, 5, 18), ends_at=pacific(2031, 5, 5, 16))
    with pytest.raises(ValidationError) as exc:
        session.full_clean()
    assert "ends_at" in exc.value.message_dict


def test_capacity_must_be_at_least_one():
    workshop = Workshop(title="X", slug="x", summary="s", capacity=0)
    with pytest.raises(ValidationError) as exc:
        workshop.full_clean()
    assert "capacity" in exc.value.message_dict


def test_price_tiers_need_distinct_minimums():
    workshop = WorkshopFactory()
    duplicate = PriceTier(workshop=workshop, min_seats=5, unit_price_cents=9000)
    with pytest.raises(ValidationError):
        duplicate.full_clean()


def test_unknown_time_zone_is_rejected():
    workshop = Workshop(title="X", slug="x", summary="s", capacity=5, time_zone="Mars/Olympus")
    with pytest.raises(ValidationError) as exc:
        workshop.full_clean()
    assert "time_zone" in exc.value.message_dict


def test_registration_must_close_after_it_opens():
    workshop = Workshop(
        title="X", slug="x", summary="s", capacity=5,
        registration_opens_at=pacific(2031, 3, 1), registration_closes_at=pacific(2031, 2, 1),
    )
    with pytest.raises(ValidationError) as exc:
        workshop.full_clean()
    assert "registration_closes_at" in exc.value.message_dict


@pytest.mark.parametrize(
    "seats, unit, total",
    [(1, 12000, 12000), (4, 12000, 48000), (5, 10000, 50000), (12, 10000, 120000)],
)
def test_quote_uses_best_tier_reached(seats, unit, total):
    tiers = [PriceTier(min_seats=1, unit_price_cents=12000), PriceTier(min_seats=5, unit_price_cents=10000)]
    quote = quote_for(tiers=tiers, seat_count=seats)
    assert (quote.unit_price_cents, quote.total_cents) == (unit, total)


def test_quote_at_four_seats_points_to_team_price():
    tiers = [PriceTier(min_seats=1, unit_price_cents=12000), PriceTier(min_seats=5, unit_price_cents=10000)]
    quote = quote_for(tiers=tiers, seat_count=4)
    assert quote.seats_to_next_tier == 1
    assert quote.next_tier_total_cents == 50000


def test_quote_without_a_tier_for_the_count_raises():
    with pytest.raises(NoPriceError):
        quote_for(tiers=[PriceTier(min_seats=5, unit_price_cents=10000)], seat_count=2)
