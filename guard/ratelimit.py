"""How often one address or one email may use a public form that sends email or writes rows.

Counters live in a cache every app server shares (`RATE_LIMIT_CACHE`: the database cache in the
site's PostgreSQL by default, or Redis), never in process memory, so two servers behind a load
balancer count together. Each window (an hour by default) allows `per_address` uses from one
network address and `per_email` uses naming one email address, per form.

Counting uses only the cache's atomic `add`: the n-th use of a window claims the key "slot n", and a
use that finds every slot up to the limit taken is refused. Two servers claiming at the same moment
cannot both get the same slot, on Redis (SET NX) or the database cache (a primary key), so the limit
holds exactly without a read-modify-write race. Keys carry a keyed hash of the address or email,
never the address itself. If the store cannot be reached the form works unlimited and the error is
logged: a broken counter must not stop people registering.
"""

import ipaddress
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.utils.crypto import salted_hmac

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    per_address: int
    per_email: int
    window_seconds: int


class RateLimitedError(Exception):
    """Too many uses of one form from one address or for one email; the message is shown next to the form."""

    def __init__(self, retry_after_seconds: int):
        self.retry_after_seconds = max(int(retry_after_seconds), 1)
        minutes = max((self.retry_after_seconds + 59) // 60, 1)
        wait = "a minute" if minutes == 1 else f"{minutes} minutes"
        super().__init__(
            f"This form has been sent too many times from your network or for this email address. "
            f"Nothing was sent or saved this time. Please try again in {wait}, or write to us if you need help now."
        )


def limit_for(scope: str) -> Limit:
    """The limit of one form: RATE_LIMITS[scope] over RATE_LIMIT_DEFAULT (settings)."""
    values = {**settings.RATE_LIMIT_DEFAULT, **settings.RATE_LIMITS.get(scope, {})}
    return Limit(
        per_address=int(values["per_address"]),
        per_email=int(values["per_email"]),
        window_seconds=int(values["window_seconds"]),
    )


def client_address(request) -> str:
    """The visitor's address: REMOTE_ADDR, or the entry RATE_LIMIT_TRUSTED_PROXIES hops from the right of
    X-Forwarded-For when the site runs behind that many proxies. An IPv6 address counts as its /64,
    the block one household or school is given, so hopping within it does not reset the count; a port some
    proxies add ("203.0.113.5:4711", "[2001:db8::1]:443") is not part of it, or each connection would count anew."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.RATE_LIMIT_TRUSTED_PROXIES
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        ip = ipaddress.ip_address(_without_port(address))
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _without_port(address: str) -> str:
    """The host of "host:port" or "[v6]:port" (and of "[v6]"); anything else as it is."""
    address = address.strip()
    if address.startswith("[") and "]" in address:
        return address[1 : address.index("]")]
    host, colon, port = address.rpartition(":")
    if colon and "." in host and ":" not in host and port.isdigit():
        return host
    return address


def address_key(request, *, purpose: str) -> str:
    """A keyed hash (HMAC with SECRET_KEY) of the visitor's address as client_address sees it, for a record that
    must recognise the same network later without keeping its address. Each purpose hashes differently, so
    keys kept for one cannot be matched with another's or with the rate-limit counters."""
    return salted_hmac(f"guard.address.{purpose}", client_address(request), algorithm="sha256").hexdigest()[:32]


def normalise_email(email: str) -> str:
    """One inbox, one counter: case and a "+tag" do not make a new address."""
    local, _, domain = (email or "").strip().lower().rpartition("@")
    if not local:
        return domain
    return f"{local.split('+', 1)[0]}@{domain}"


def _claim(cache, key: str, limit: int, timeout: int) -> bool:
    """Take the next free slot of a counter, or report that all `limit` are taken."""
    if limit <= 0:
        return False
    start = cache.get(f"{key}:n") or 0
    for slot in range(int(start) + 1, limit + 1):
        if cache.add(f"{key}:{slot}", 1, timeout=timeout):
            cache.set(f"{key}:n", slot, timeout=timeout)
            return True
    return False


def check(request, *, scope: str, emails: Iterable[str] = (), limit: Limit | None = None) -> None:
    """Count one use of the form `scope` by this visitor for these emails (`limit`: instead of RATE_LIMITS').

    Call it once the form is valid, just before the work it limits. Raises RateLimitedError when
    the address or any of the emails has used up the window.
    """
    try:
        limit = limit or limit_for(scope)
        now = time.time()
        window = limit.window_seconds
        bucket = int(now // window)
        retry_after = (bucket + 1) * window - now
        timeout = int(retry_after) + 60
        counters = [("address", client_address(request), limit.per_address)]
        counters += [("email", e, limit.per_email) for e in sorted({normalise_email(e) for e in emails if e})]
        cache = caches[settings.RATE_LIMIT_CACHE]
        for kind, ident, allowed in counters:
            digest = salted_hmac("guard.ratelimit", ident).hexdigest()[:32]
            if not _claim(cache, f"rl:{scope}:{kind}:{digest}:{bucket}", allowed, timeout):
                logger.info("Rate limit reached on %s (%s)", scope, kind)
                raise RateLimitedError(retry_after)
    except RateLimitedError:
        raise
    except Exception:
        logger.exception("Rate-limit store unavailable; %s is not limited for this request", scope)
