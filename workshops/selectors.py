"""Reads for the catalog: published workshops with their sessions, and the price of a seat count."""

from dataclasses import dataclass
from functools import cache

from django.db import connections
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from .catalog import attach, with_catalog
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


_SLUG = "\x00slug"  # stands for the slug while the statement is compiled


@cache
def _catalog_workshop_sql(db: str) -> tuple[str, tuple, int, tuple[str, ...]] | None:
    """get_object_or_404(workshops_for_catalog(), slug=...)'s statement as Django compiles it (get() drops the
    ordering and reads at most 21 rows), compiled once: where the slug goes among its parameters, and the fields
    each row holds. None where the database's values need converting (SQLite's), which the queryset does."""
    query = Workshop.objects.listed().filter(slug=_SLUG).order_by()[:21].query
    compiler = query.get_compiler(db)
    sql, params = compiler.as_sql()
    if compiler.get_converters([column for column, _, _ in compiler.select]):
        return None
    names = tuple(column.target.attname for column, _, _ in compiler.select)
    return sql, tuple(params), params.index(_SLUG), names


def catalog_workshop_or_404(slug: str, db: str = "default") -> Workshop:
    """get_object_or_404(workshops_for_catalog(), slug=slug), without building and compiling the query on every
    request: the registration form, checkout start and the workshop page read it on every request."""
    compiled = _catalog_workshop_sql(db)
    if compiled is None:
        return get_object_or_404(workshops_for_catalog().using(db), slug=slug)
    sql, params, at, names = compiled
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params[:at] + (slug,) + params[at + 1:])
        rows = cursor.fetchall()
    if not rows:
        raise Http404("No Workshop matches the given query.")
    if len(rows) > 1:
        raise Workshop.MultipleObjectsReturned(f"get() returned more than one Workshop -- it returned {len(rows)}!")
    workshop = Workshop.from_db(db, names, rows[0])
    attach([workshop])
    return workshop


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
