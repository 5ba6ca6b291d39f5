"""Reads for the catalog: published workshops with their sessions, and the price of a seat count."""

from dataclasses import dataclass

from django.db.models import QuerySet

from .catalog import with_catalog
from .models import PriceTier, Workshop


class NoPriceError(Exception):
    """The workshop has no price tier that covers this seat count."""


@dataclass(frozen=True)
class PriceQuote:
    seat_count: int
    unit_price_cents: int
    total_cents: int
    tier_min_seats: int
    # The next cheaper tier, when the buyer is close to it.
    next_tier_min_seats: int | None = None
    next_tier_unit_price_cents: int | None = None
    next_tier_total_cents: int | None = None
    # The reference of the quote whose price this is, when an earlier quote's price was kept.
    from_quote: str = ""

    @classmethod
    def per_seat(
        cls, *, seat_count: int, unit_price_cents: int, tier_min_seats: int, from_quote: str = ""
    ) -> "PriceQuote":
        """Every seat at one price kept from before (a quote's, or what an order already pays)."""
        return cls(
            seat_count=seat_count,
            unit_price_cents=unit_price_cents,
            total_cents=unit_price_cents * seat_count,
            tier_min_seats=tier_min_seats,
            from_quote=from_quote,
        )

    @property
    def seats_to_next_tier(self) -> int | None:
        if self.next_tier_min_seats is None:
            return None
        return self.next_tier_min_seats - self.seat_count


def workshops_for_catalog() -> QuerySet[Workshop]:
    """Published workshops with everything their public pages show (sessions, prices, affinity groups): the
    workshop rows in one query, the rest from the process's copy of them (catalog.py), else three more."""
    return with_catalog(Workshop.objects.listed())


def quote_for(*, tiers: list[PriceTier], seat_count: int) -> PriceQuote:
    """Price of `seat_count` seats from a workshop's tiers: every seat at the best tier reached.

    Raises NoPriceError when no tier starts at or below the seat count.
    """
    ordered = sorted(tiers, key=lambda t: t.min_seats)
    reached = [t for t in ordered if t.min_seats <= seat_count]
    if seat_count < 1 or not reached:
        raise NoPriceError(f"No price for {seat_count} seats.")
    tier = reached[-1]
    cheaper = [t for t in ordered if t.min_seats > seat_count and t.unit_price_cents < tier.unit_price_cents]
    next_tier = cheaper[0] if cheaper else None
    return PriceQuote(
        seat_count=seat_count,
        unit_price_cents=tier.unit_price_cents,
        total_cents=tier.unit_price_cents * seat_count,
        tier_min_seats=tier.min_seats,
        next_tier_min_seats=next_tier.min_seats if next_tier else None,
        next_tier_unit_price_cents=next_tier.unit_price_cents if next_tier else None,
        next_tier_total_cents=next_tier.unit_price_cents * next_tier.min_seats if next_tier else None,
    )
