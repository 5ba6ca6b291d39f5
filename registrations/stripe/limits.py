"""How long, and how many at once, requests may wait on Stripe: an outage at Stripe stays local.

Each Stripe call has a time budget: the SDK's connect and answer timeouts and its retries
together (call_budget_seconds; the settings are in config/settings/base.py). At most
STRIPE_MAX_CONCURRENT_CALLS requests per process wait on Stripe at once (waiting_on_stripe):
when Stripe hangs, the ones already waiting hold every place until their budget runs out and
the next ones are refused at once, so gunicorn's other threads stay free for pages.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import stripe
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


class StripeBusyError(Exception):
    """Every place for a request waiting on Stripe in this process is taken."""


def call_budget_seconds(
    *, retries: int | None = None, connect_timeout: float | None = None, timeout: float | None = None
) -> float:
    """The longest one Stripe call can keep a buyer waiting: every attempt taking its whole connect
    and answer timeouts, plus the SDK's pauses between attempts (at most 0.5 s, 1 s, 2 s, ... 5 s).
    Defaults to the settings."""
    retries = settings.STRIPE_MAX_NETWORK_RETRIES if retries is None else retries
    connect_timeout = settings.STRIPE_CONNECT_TIMEOUT_SECONDS if connect_timeout is None else connect_timeout
    timeout = settings.STRIPE_TIMEOUT_SECONDS if timeout is None else timeout
    pauses = sum(
        min(stripe.HTTPClient.INITIAL_DELAY * 2 ** (n - 1), stripe.HTTPClient.MAX_DELAY) for n in range(1, retries + 1)
    )
    return (retries + 1) * (connect_timeout + timeout) + pauses


@lru_cache(maxsize=4)
def _slots(limit: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(limit)


@contextmanager
def waiting_on_stripe(what: str) -> Iterator[None]:
    """Take one of this process's places for a request waiting on Stripe, or refuse at once.

    Meanwhile a pooled database connection goes back to the pool. Raises StripeBusyError.
    """
    limit = max(settings.STRIPE_MAX_CONCURRENT_CALLS, 1)
    slots = _slots(limit)
    if not slots.acquire(blocking=False):
        logger.warning("Not calling Stripe for %s: %s requests in this process already wait on it", what, limit)
        raise StripeBusyError("Too many requests are waiting on Stripe")
    try:
        _give_back_database_connection()
        yield
    finally:
        slots.release()


def _give_back_database_connection() -> None:
    # With a connection pool (production) the connection goes back to the pool while we wait on
    # Stripe, so the pool is sized by the requests using the database, not by those waiting on
    # Stripe; the next query takes one again. Never inside a transaction, which needs its connection.
    if getattr(connection, "pool", None) is not None and not connection.in_atomic_block:
        connection.close()
