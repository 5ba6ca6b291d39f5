"""Counting requests per key in a fixed window, in Django's cache.

Counters live in the shared rate-limit store (`RATE_LIMIT_CACHE`: the database cache or Redis, see
guard/ratelimit.py), so limits hold across app servers; if that store is down, nobody is limited.
Identifiers (an email, an IP address) are hashed before they become cache keys.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import caches

from guard.ratelimit import client_address

__all__ = ["client_address", "hit"]

logger = logging.getLogger(__name__)


def _key(scope: str, ident: str, window_seconds: int, now: float) -> str:
    digest = hashlib.sha256(ident.strip().lower().encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}:{int(now // window_seconds)}"


def hit(scope: str, ident: str, *, limit: int, window_seconds: int = 3600, now: float | None = None) -> bool:
    """Count one request for `ident` in `scope`; False once it has gone past `limit` in the current window."""
    key = _key(scope, ident, window_seconds, time.time() if now is None else now)
    cache = caches[settings.RATE_LIMIT_CACHE]
    try:
        cache.add(key, 0, timeout=window_seconds + 60)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=window_seconds + 60)
            count = 1
    except Exception:
        logger.exception("Rate-limit store unavailable; %s is not limited for this request", scope)
        return True
    return count <= limit
