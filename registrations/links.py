"""Addresses of the pages named by an order's or a seat's token, without Django's reverse() on every call.

reverse() walks the URL patterns and fills one in on each call; checkout start's two (the Checkout Session's
success and cancel addresses) cost it about 0.4 M instructions of 17 (bench/README.md, "Tenth session"). The
address around a token is the same for every token, so it is found once per process with reverse() and each
token is put in its place. Kept per URLconf and script prefix, which reverse() also reads, so the answer is
reverse()'s for every token (tests/registrations/test_links.py holds it to reverse() for any token)."""

import re
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# Characters reverse() puts in an address as they are (secrets.token_urlsafe's alphabet); any other token is
# reversed as before.
_AS_IS = re.compile(r"[A-Za-z0-9_-]+")
_MARK = "tokenTOKENtokenTOKEN"


def token_url(name: str, token: str) -> str:
    """reverse(name, kwargs={"token": token})."""
    if not _AS_IS.fullmatch(token):
        return reverse(name, kwargs={"token": token})
    before, after = _around_token(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    return f"{before}{token}{after}"


# Bounded: the script prefix comes from the request (SCRIPT_NAME, which a front end may pass through), and a site
# has a few token pages under one or two prefixes.
@lru_cache(maxsize=64)
def _around_token(name: str, urlconf: str, prefix: str) -> tuple[str, str]:
    address = reverse(name, urlconf=urlconf, kwargs={"token": _MARK})
    before, mark, after = address.partition(_MARK)
    if not mark or _MARK in after:
        raise ValueError(f"{name}'s address does not hold its token once: {address}")
    return before, after
