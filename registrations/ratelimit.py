"""Counting requests per key in a fixed window, in Django's cache.

Limits hold across app servers when CACHES points at a shared store (Redis or the database
cache); with the default per-process memory cache each process counts on its own.
Identifiers (an email, an IP address) are hashed before they become cache keys.
"""

import hashlib
import time

from django.core.cache import cache


def _key(scope: str, ident: str, window_seconds: int, now: float) -> str:
    digest = hashlib.sha256(ident.strip().lower().encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}:{int(now // window_seconds)}"


def hit(scope: str, ident: str, *, limit: int, window_seconds: int = 3600, now: float | None = None) -> bool:
    """Count one request for `ident` in `scope`; False once it has gone past `limit` in the current window."""
    key = _key(scope, ident, window_seconds, time.time() if now is None else now)
    cache.add(key, 0, timeout=window_seconds + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window_seconds + 60)
        count = 1
    return count <= limit


def client_address(request) -> str:
    """The address a request came from, as the server saw it."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"
